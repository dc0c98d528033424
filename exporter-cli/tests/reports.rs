//! The JSON reports through the real binary on the bundled example: byte-reproducible under
//! `SOURCE_DATE_EPOCH`, consistent with each other and with the files on disk.

use exporter_tests::harness::{Workspace, example, stderr};
use serde_json::Value;

fn workspace() -> Workspace {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("exporter.toml", example("exporter.toml"));
    ws.write("lead.schema.json", example("lead.schema.json"));
    ws.write("events.ndjson", example("events.ndjson"));
    ws
}

const FILES: [&str; 4] = [
    "results.csv",
    "campaign_summary.json",
    "proxy_performance.json",
    "error_log.csv",
];

#[test]
fn two_runs_give_byte_identical_outputs() {
    let ws = workspace();
    for dir in ["a", "b"] {
        // the second run in another second of the wall clock: a timestamp taken from it
        // rather than from SOURCE_DATE_EPOCH (a workbook's creation time did) shows
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        std::thread::sleep(std::time::Duration::from_nanos(
            1_010_000_000 - u64::from(now.subsec_nanos()),
        ));
        let out = ws.run(&[
            "run",
            "-m",
            "exporter.toml",
            "--out-dir",
            dir,
            "events.ndjson",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let mut names: Vec<String> = std::fs::read_dir(ws.path().join("a"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    // every sink of the example: the four of the contract, the workbook and the page
    let mut want: Vec<String> = FILES.iter().map(|f| f.to_string()).collect();
    want.extend(["report.html".to_string(), "results.xlsx".to_string()]);
    want.sort();
    assert_eq!(names, want);
    for f in &names {
        let a = std::fs::read(ws.path().join("a").join(f)).unwrap();
        let b = std::fs::read(ws.path().join("b").join(f)).unwrap();
        assert!(a == b, "{f} differs between runs");
    }
}

#[test]
fn the_summary_accounts_for_everything_and_matches_the_files() {
    let ws = workspace();
    let out = ws.run(&["run", "-m", "exporter.toml", "events.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = ws.path().join("out/example");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.join("campaign_summary.json")).unwrap()).unwrap();
    let r = &summary["records"];
    let n = |v: &Value| v.as_u64().unwrap();
    assert_eq!(
        n(&r["received"]),
        n(&r["written"]) + n(&r["rejected"]) + n(&r["duplicates"])
    );
    assert_eq!(n(&r["received"]), 150);
    assert_eq!(
        summary["campaign"]["id"], "bench-s7",
        "the stream's campaign event overrides the manifest"
    );
    assert_eq!(summary["campaign"]["duration_s"], 3600);
    let e = &summary["errors"];
    let by_kind: u64 = e["by_kind"].as_object().unwrap().values().map(n).sum();
    assert_eq!(n(&e["total"]), by_kind);
    let log = std::fs::read(dir.join("error_log.csv")).unwrap();
    let log: Vec<csv::StringRecord> = csv::Reader::from_reader(&log[3..])
        .records()
        .map(Result::unwrap)
        .collect();
    let rows = log.len() as u64;
    // the table and the workbook check the same schema: each rejects the same records into the
    // log, under its own name
    let rejected_by = |sink: &str| {
        log.iter()
            .filter(|row| {
                &row[2] == "SchemaViolation"
                    && serde_json::from_str::<Value>(&row[7]).unwrap()["sink"] == sink
            })
            .count() as u64
    };
    // each table's own accounting, and the rejections it logged under its name
    let tables = summary["record_sinks"].as_array().unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t["sink"].as_str().unwrap()).collect();
    assert_eq!(names, ["results", "workbook"]);
    for t in tables {
        assert_eq!(
            n(&t["received"]),
            n(&t["written"]) + n(&t["rejected"]) + n(&t["duplicates"])
        );
        assert_eq!(n(&t["received"]), 150);
        assert_eq!(rejected_by(t["sink"].as_str().unwrap()), n(&t["rejected"]));
    }
    assert_eq!(
        tables[0]["written"], r["written"],
        "records is the first table's"
    );
    assert_eq!(
        n(&e["total"]),
        30 + n(&summary["input"]["bad_lines"]) + 2 * n(&r["rejected"])
    );
    assert_eq!(
        rows,
        n(&e["total"]),
        "the summary counts every row the error log received"
    );
    let outputs = summary["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 4, "every other sink's file");
    for o in outputs {
        let bytes = std::fs::read(dir.join(o["path"].as_str().unwrap())).unwrap();
        assert_eq!(n(&o["bytes"]), bytes.len() as u64);
        assert_eq!(o["validated"], true);
        assert_eq!(
            o["write_ms"], 0.0,
            "timings are zeroed under SOURCE_DATE_EPOCH"
        );
        let sha = sha256_hex(&bytes);
        assert_eq!(o["sha256"], sha, "{}", o["path"]);
    }
    let pp: Value =
        serde_json::from_slice(&std::fs::read(dir.join("proxy_performance.json")).unwrap())
            .unwrap();
    assert_eq!(pp["totals"]["requests"], summary["requests"]["total"]);
    assert_eq!(
        pp["proxies"].as_array().unwrap().len() as u64,
        n(&summary["proxies"]["used"])
    );
}

#[test]
fn schema_command_prints_the_shipped_schemas() {
    for ty in ["campaign-summary", "proxy-performance"] {
        let out = exporter_tests::harness::command(env!("CARGO_BIN_EXE_exporter").as_ref())
            .args(["schema", ty])
            .output()
            .unwrap();
        assert!(out.status.success());
        let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
    let csv = exporter_tests::harness::command(env!("CARGO_BIN_EXE_exporter").as_ref())
        .args(["schema", "csv"])
        .output()
        .unwrap();
    assert_eq!(csv.status.code(), Some(2));
}

/// SHA-256 computed here independently of the exporter (`sha256sum` is on every test machine).
fn sha256_hex(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn a_user_given_json_schema_rejects_a_report_that_breaks_it() {
    let ws = workspace();
    // the user's contract: at least 1000 proxies were used (the example has 8)
    ws.write(
        "needs-many-proxies.json",
        r#"{"type": "object", "required": ["proxies"], "properties": {"proxies": {"type": "object", "properties": {"used": {"minimum": 1000}}}}}"#,
    );
    let manifest = String::from_utf8(example("exporter.toml")).unwrap().replace(
        "type = \"campaign-summary\"\npath = \"campaign_summary.json\"",
        "type = \"campaign-summary\"\npath = \"campaign_summary.json\"\nvalidate = [\"json-schema\", \"json-schema:needs-many-proxies.json\"]",
    );
    ws.write("exporter.toml", manifest);
    let out = ws.run(&["run", "-m", "exporter.toml", "events.ndjson"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("/proxies/used") && err.contains("schema-error"),
        "{err}"
    );
    assert!(ws.exists("out/example/campaign_summary.json.rejected"));
    assert!(!ws.exists("out/example/campaign_summary.json"));
}
