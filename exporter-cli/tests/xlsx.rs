//! The `xlsx` sink through the real binary, beside a `csv` sink on the same schema: the same
//! records in both, each rejection logged once per sink and naming it, `exporter check`
//! reading the workbook back.

use exporter_tests::harness::{Workspace, example, stderr, stdout};

const MANIFEST: &str = r#"
[campaign]
id = "both"
[output]
dir = "out"

[[sinks]]
type = "csv"
name = "results"
schema = "lead.schema.json"
dedupe_on = ["place_id"]

[[sinks]]
type = "xlsx"
name = "workbook"
schema = "lead.schema.json"
dedupe_on = ["place_id"]
summary_sheet = true

[[sinks]]
type = "campaign-summary"

[[sinks]]
type = "error-log"
"#;

fn workspace() -> Workspace {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("exporter.toml", MANIFEST);
    ws.write("lead.schema.json", example("lead.schema.json"));
    ws.write("events.ndjson", example("events.ndjson"));
    ws
}

#[test]
fn a_workbook_beside_the_table_holds_the_same_records_and_checks_clean() {
    let ws = workspace();
    let out = ws.run(&["run", "-m", "exporter.toml", "events.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value =
        serde_json::from_str(&ws.read("out/campaign_summary.json")).unwrap();
    let outputs = summary["outputs"].as_array().unwrap();
    let rows = |sink: &str| {
        outputs
            .iter()
            .find(|o| o["sink"] == sink)
            .unwrap_or_else(|| panic!("{sink}: {outputs:?}"))["rows"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(rows("workbook"), rows("results"));
    assert!(rows("workbook") > 100);
    // each rejection once per sink, naming it
    let log = ws.read("out/error_log.csv");
    let by = |sink: &str| log.matches(&format!(r#"""sink"":""{sink}"""#)).count();
    assert!(by("results") > 0);
    assert_eq!(by("results"), by("workbook"), "{log}");
    let check = ws.run(&["check", "-m", "exporter.toml"]);
    assert!(
        check.status.success(),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
}

#[test]
fn check_finds_a_damaged_workbook() {
    let ws = workspace();
    let out = ws.run(&["run", "-m", "exporter.toml", "events.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let path = ws.path().join("out/results.xlsx");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let check = ws.run(&["check", "-m", "exporter.toml", "--format", "json"]);
    assert_eq!(check.status.code(), Some(1));
    let report = stdout(&check);
    assert!(report.contains("results.xlsx"), "{report}");
    assert!(report.contains("encoding-error"), "{report}");
    assert!(report.contains("hash-count"), "{report}");
}

#[test]
fn a_file_size_limit_while_the_sheet_is_written_fails_the_run_and_commits_nothing() {
    // the sheet's rows go to a scratch file, whose write failure rust_xlsxwriter reports by
    // panicking: the run must still end with exit 1, the reason and the workbook's name
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write(
        "exporter.toml",
        "[output]\ndir = \"out\"\n[[sinks]]\ntype = \"xlsx\"\nschema = \"lead.schema.json\"\n",
    );
    ws.write("lead.schema.json", example("lead.schema.json"));
    // a valid record of the example, under 20,000 ids
    let example_events = String::from_utf8_lossy(&example("events.ndjson")).into_owned();
    let record = example_events
        .lines()
        .find(|l| l.starts_with("{\"type\":\"record\""))
        .unwrap();
    let id_at = record.find("\"place_id\":\"").unwrap() + "\"place_id\":\"".len();
    let id_end = id_at + record[id_at..].find('"').unwrap();
    let records: String = (0..20_000)
        .map(|i| format!("{}{i:08}{}\n", &record[..id_at], &record[id_end..]))
        .collect();
    ws.write("events.ndjson", records);
    let out = std::process::Command::new("sh")
        .current_dir(ws.path())
        .args([
            "-c",
            "ulimit -f 256 && exec \"$0\" run -m exporter.toml events.ndjson",
            env!("CARGO_BIN_EXE_exporter"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("too large") || err.contains("File too large"),
        "{err}"
    );
    assert!(
        err.contains("results.xlsx"),
        "the error names the workbook: {err}"
    );
    assert!(
        !ws.path().join("out/results.xlsx").exists(),
        "nothing committed"
    );
    assert_eq!(ws.staging_files(), Vec::<String>::new());
}
