//! Nothing is lost: on the bundled example stream (made by the bench generator, whose truth
//! file gave the expected counts), every record is written, rejected into the error log, or
//! counted as a duplicate, and every line is accounted for.

use exporter_tests::harness::{Workspace, example, stderr};

const MANIFEST: &str = r#"
[campaign]
id = "acct"

[output]
dir = "out"

[[sinks]]
type = "csv"
name = "results"
path = "results.csv"
schema = "lead.schema.json"
dedupe_on = ["place_id"]

[[sinks]]
type = "error-log"
path = "error_log.csv"
dialect = "unix"

[[sinks]]
type = "test-jsonl"
name = "report"
path = "report.jsonl"
events = []
last = true
"#;

#[test]
fn received_equals_written_plus_rejected_plus_duplicates() {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter-test"));
    ws.write("exporter.toml", MANIFEST);
    ws.write("lead.schema.json", example("lead.schema.json"));
    ws.write("events.ndjson", example("events.ndjson"));
    let out = ws.run(&["run", "-m", "exporter.toml", "events.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let report: serde_json::Value =
        serde_json::from_str(ws.read("out/report.jsonl").trim()).unwrap();
    let results = &report["outputs"][0];
    let tally = &results["records"];
    // from the generator's truth file for examples/events.ndjson (seed 7)
    assert_eq!(tally["received"], 150);
    assert_eq!(tally["written"], 124);
    assert_eq!(tally["duplicates"], 8);
    assert_eq!(tally["rejected"], 18);
    assert_eq!(tally["extra_fields"], 1);
    assert_eq!(report["input"]["bad_lines"], 31);
    assert_eq!(report["input"]["blank_lines"], 1);
    assert_eq!(report["input"]["lines"], 434);
    assert_eq!(results["files"][0]["rows"], 124);

    let log = std::fs::read(ws.path().join("out/error_log.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(&log[..])
        .records()
        .map(|r| r.unwrap())
        .collect();
    let violations: Vec<&csv::StringRecord> =
        rows.iter().filter(|r| &r[2] == "SchemaViolation").collect();
    assert_eq!(
        violations.len(),
        18,
        "every rejected record is in the error log"
    );
    for v in &violations {
        let context: serde_json::Value = serde_json::from_str(&v[7]).unwrap();
        assert!(
            context["record"].is_object(),
            "the record itself is in the context"
        );
        assert!(context["line"].as_u64().unwrap() > 0);
    }
    assert_eq!(rows.iter().filter(|r| &r[2] == "BadInput").count(), 31);
    let table = std::fs::read(ws.path().join("out/results.csv")).unwrap();
    let written = csv::Reader::from_reader(&table[3..]).records().count();
    assert_eq!(written, 124);
}
