//! The pipeline end to end, through the `exporter-test` binary (built-in CLI + test plugins).

use exporter_tests::harness::{EVENTS, ReadOnlyDir, Workspace, stderr};

fn workspace() -> Workspace {
    Workspace::new(env!("CARGO_BIN_EXE_exporter-test"))
}
use serde_json::Value;

const MANIFEST: &str = r#"
[campaign]
id = "acme"

[output]
dir = "out/{campaign_id}"

[[sinks]]
type = "test-jsonl"
name = "all"
path = "all.jsonl"
reject_missing = "place_id"

[[sinks]]
type = "test-jsonl"
name = "errors"
path = "errors.jsonl"
events = ["error"]

[[sinks]]
type = "test-jsonl"
name = "summary"
path = "summary.jsonl"
events = []
last = true
"#;

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn routes_every_event_and_accounts_for_every_line() {
    let ws = workspace();
    ws.write("m.toml", MANIFEST);
    ws.write("in.ndjson", EVENTS);
    let out = ws.run(&["run", "-m", "m.toml", "in.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let errors = lines(&ws.read("out/acme/errors.jsonl"));
    let kinds: Vec<&str> = errors
        .iter()
        .map(|e| e["error"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["SchemaViolation", "Timeout", "BadInput"],
        "stream order, raised failures included"
    );
    let bad = &errors[2]["error"];
    assert_eq!(bad["context"]["input"], "in.ndjson");
    assert_eq!(bad["context"]["line"], 7);
    assert_eq!(bad["context"]["reason"], "wrong_type");
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .starts_with("in.ndjson:7: field `latency_ms`")
    );

    let all = lines(&ws.read("out/acme/all.jsonl"));
    let records: Vec<&Value> = all.iter().filter(|e| e["event"] == "record").collect();
    assert_eq!(
        records.len(),
        1,
        "the record without place_id was rejected, not written"
    );
    assert_eq!(records[0]["data"]["name"], "Dr. \"Smith\"\nsecond line");

    let summary = lines(&ws.read("out/acme/summary.jsonl"));
    let s = &summary[0];
    assert_eq!(
        s["campaign"]["id"], "acme-2026",
        "stream overrides the manifest"
    );
    assert_eq!(s["input"]["lines"], 7);
    assert_eq!(s["input"]["blank_lines"], 1);
    assert_eq!(s["input"]["bad_lines"], 1);
    assert_eq!(s["input"]["bad_by_reason"]["wrong_type"], 1);
    assert_eq!(s["events"]["records"], 2);
    assert_eq!(s["events"]["raised"]["SchemaViolation"], 1);
    assert_eq!(
        s["generated_at"], "2025-11-26T08:00:00Z",
        "SOURCE_DATE_EPOCH"
    );
    let outputs: Vec<&str> = s["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        outputs,
        ["all", "errors"],
        "the last sink sees every other sink's report"
    );
    let file = &s["outputs"][0]["files"][0];
    assert_eq!(file["path"], "all.jsonl");
    assert_eq!(file["rows"], all.len());
    assert_eq!(file["validated"], true);
    let bytes = std::fs::read(ws.path().join("out/acme/all.jsonl")).unwrap();
    assert_eq!(file["bytes"], bytes.len());
    assert_eq!(file["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn no_password_reaches_any_output_or_message() {
    let ws = workspace();
    ws.write("m.toml", MANIFEST);
    ws.write("in.ndjson", EVENTS);
    let out = ws.run(&["-vv", "run", "-m", "m.toml", "in.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for f in ws.files().iter().filter(|f| f.starts_with("out/")) {
        let text = ws.read(f);
        assert!(!text.contains("hunter2"), "{f} leaks a password:\n{text}");
    }
    assert!(!stderr(&out).contains("hunter2"));
    // strict mode names the line; its message must not leak either
    let strict = ws.run(&["run", "--strict", "-m", "m.toml", "in.ndjson"]);
    assert!(!stderr(&strict).contains("hunter2"), "{}", stderr(&strict));
}

#[test]
fn strict_mode_exits_3_naming_file_and_line() {
    let ws = workspace();
    ws.write("m.toml", MANIFEST);
    ws.write("in.ndjson", EVENTS);
    let out = ws.run(&["run", "--strict", "-m", "m.toml", "in.ndjson"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("in.ndjson:7: bad input (wrong_type)"),
        "{}",
        stderr(&out)
    );
    assert!(!ws.exists("out/acme/all.jsonl"), "nothing committed");
    assert!(
        ws.staging_files().is_empty(),
        "no staging file left: {:?}",
        ws.staging_files()
    );
}

#[test]
fn a_sink_failing_mid_write_leaves_the_previous_file_intact() {
    let ws = workspace();
    ws.write("m.toml", MANIFEST);
    ws.write("in.ndjson", EVENTS);
    assert!(
        ws.run(&["run", "-m", "m.toml", "in.ndjson"])
            .status
            .success()
    );
    let before = std::fs::read(ws.path().join("out/acme/all.jsonl")).unwrap();

    ws.write(
        "m.toml",
        MANIFEST.replace("reject_missing = \"place_id\"", "fail_after = 2"),
    );
    let out = ws.run(&["run", "-m", "m.toml", "in.ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("sink \"all\" failed"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("injected failure"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(ws.path().join("out/acme/all.jsonl")).unwrap(),
        before,
        "byte-identical"
    );
    assert!(
        ws.staging_files().is_empty(),
        "no staging file left: {:?}",
        ws.staging_files()
    );
}

#[test]
fn a_failed_validation_keeps_the_file_as_rejected_and_commits_nothing() {
    let ws = workspace();
    ws.write("m.toml", MANIFEST);
    ws.write("in.ndjson", EVENTS);
    assert!(
        ws.run(&["run", "-m", "m.toml", "in.ndjson"])
            .status
            .success()
    );
    let before_all = ws.read("out/acme/all.jsonl");
    let before_errors = ws.read("out/acme/errors.jsonl");

    ws.write(
        "m.toml",
        MANIFEST.replace("reject_missing = \"place_id\"", "corrupt = true"),
    );
    ws.write("in.ndjson", EVENTS.replace("Dr.", "Mr."));
    let out = ws.run(&["run", "-m", "m.toml", "in.ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("validation failed"), "{err}");
    assert!(
        err.contains("all.jsonl: row 7: type-error: not JSON"),
        "{err}"
    );
    assert!(err.contains("row-count"), "{err}");
    assert_eq!(ws.read("out/acme/all.jsonl"), before_all);
    assert_eq!(
        ws.read("out/acme/errors.jsonl"),
        before_errors,
        "other sinks are not committed either"
    );
    let rejected = ws.read("out/acme/all.jsonl.rejected");
    assert!(rejected.contains("Mr.") && rejected.ends_with("this line is not JSON\n"));
    assert!(ws.staging_files().is_empty(), "{:?}", ws.staging_files());
}

#[test]
fn reads_standard_input_and_several_files() {
    let ws = workspace();
    ws.write("m.toml", MANIFEST);
    ws.write("a.ndjson", EVENTS);
    let out = ws
        .command()
        .args(["run", "-m", "m.toml", "a.ndjson", "-"])
        .write_stdin("{\"type\":\"record\",\"data\":{\"place_id\":\"from-stdin\"}}\r\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = lines(&ws.read("out/acme/summary.jsonl"));
    assert_eq!(
        summary[0]["input"]["files"],
        serde_json::json!(["a.ndjson", "-"])
    );
    assert_eq!(summary[0]["events"]["records"], 3);
    assert!(ws.read("out/acme/all.jsonl").contains("from-stdin"));
}

#[test]
fn missing_input_fails_with_its_name() {
    let ws = workspace();
    ws.write("m.toml", MANIFEST);
    let out = ws.run(&["run", "-m", "m.toml", "nope.ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read input nope.ndjson"),
        "{}",
        stderr(&out)
    );
}

#[cfg(unix)]
#[test]
fn a_sink_path_through_a_symlink_is_refused() {
    let ws = workspace();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ws.path().join("out/acme")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), ws.path().join("out/acme/linked")).unwrap();
    ws.write(
        "m.toml",
        MANIFEST.replace("path = \"all.jsonl\"", "path = \"linked/all.jsonl\""),
    );
    ws.write("in.ndjson", EVENTS);
    let out = ws.run(&["run", "-m", "m.toml", "in.ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[cfg(unix)]
#[test]
fn a_read_only_output_directory_fails_before_reading_input() {
    let ws = workspace();
    let dir = ws.path().join("out/acme");
    std::fs::create_dir_all(&dir).unwrap();
    let _guard = ReadOnlyDir::new(&dir);
    ws.write("m.toml", MANIFEST);
    let (out, unread) = ws.run_unread(&["run", "-m", "m.toml", "-"], EVENTS.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        // the first write into the directory is its lock
        err.contains("output directory out/acme") && err.contains("ermi"),
        "{err}"
    );
    assert_eq!(
        String::from_utf8_lossy(&unread),
        EVENTS,
        "failed before reading any input"
    );
}

#[test]
fn a_record_nested_too_deep_is_bad_input_not_a_crash() {
    let ws = workspace();
    ws.write(
        "m.toml",
        "[output]\ndir = \"out\"\n[[sinks]]\ntype = \"csv\"\npath = \"results.csv\"\nschema = \"s.json\"\n[[sinks]]\ntype = \"error-log\"\npath = \"errors.csv\"\n",
    );
    ws.write(
        "s.json",
        r#"{"fields": [{"name": "id"}, {"name": "x", "type": "array"}]}"#,
    );
    // 127 levels counting `data` itself is the most serde_json reads; the first two lines
    // are taken (the second by the careful parse), the third is bad input, and the fourth
    // (200,000 levels) once overflowed the stack of the table writer
    let nested = |id: &str, arrays: usize| {
        format!(
            "{{\"type\":\"record\",\"data\":{{\"id\":\"{id}\",\"x\":{}{}}}}}\n",
            "[".repeat(arrays),
            "]".repeat(arrays)
        )
    };
    let input = nested("a", 99) + &nested("b", 126) + &nested("c", 127) + &nested("d", 200_000);
    ws.write("in.ndjson", input);
    let out = ws.run(&["run", "-m", "m.toml", "in.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = ws.read("out/results.csv");
    let ids: Vec<&str> = table.lines().skip(1).map(|l| &l[..1]).collect();
    assert_eq!(ids, ["a", "b"]);
    let log = ws.read("out/errors.csv");
    assert_eq!(log.matches("recursion limit exceeded").count(), 2, "{log}");
    assert!(log.contains("in.ndjson:3") && log.contains("in.ndjson:4"));
}
