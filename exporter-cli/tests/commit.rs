//! The commit is atomic as a set, also across a crash: the process stopped at every step of
//! the commit (a test-only hook aborts it, as a kill -9 would, after N renames), the next
//! `exporter check` or `exporter run` rolls the commit forward, and the set on disk is then
//! exactly one run's, its summary describing its own files.

use std::collections::BTreeMap;
use std::path::Path;

use exporter_tests::harness::{Workspace, stderr, stdout};

const MANIFEST: &str = r#"
[campaign]
id = "commit"

[output]
dir = "out"

[[sinks]]
type = "csv"
name = "results"
schema = "schema.json"
max_rows_per_file = 3

[[sinks]]
type = "proxy-performance"

[[sinks]]
type = "campaign-summary"
"#;

fn stream(prefix: &str, records: usize) -> String {
    let mut s = String::new();
    for i in 0..records {
        s.push_str(&format!(
            "{{\"type\":\"record\",\"data\":{{\"id\":\"{prefix}{i}\"}}}}\n"
        ));
        s.push_str(&format!(
            "{{\"type\":\"request\",\"ts\":\"2026-11-26T08:00:00Z\",\"proxy\":\"http://{prefix}:1\",\"status\":200,\"latency_ms\":{i}}}\n"
        ));
    }
    s
}

/// The visible files of a directory, by name.
fn set(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .map(|n| (n.clone(), std::fs::read(dir.join(&n)).unwrap()))
        .collect()
}

fn setup() -> (Workspace, BTreeMap<String, Vec<u8>>) {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("exporter.toml", MANIFEST);
    ws.write(
        "schema.json",
        r#"{"fields": [{"name": "id"}], "primaryKey": "id"}"#,
    );
    ws.write("a.ndjson", stream("a", 10)); // four parts
    ws.write("b.ndjson", stream("b", 5)); // two parts: b's commit removes two of a's
    // what b's run gives, committed whole
    let out = ws.run(&[
        "run",
        "-m",
        "exporter.toml",
        "--out-dir",
        "b-whole",
        "b.ndjson",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let b = set(&ws.path().join("b-whole"));
    assert_eq!(b.len(), 4, "{:?}", b.keys());
    (ws, b)
}

fn interrupted_commit(ws: &Workspace, renames: usize) {
    let _ = std::fs::remove_dir_all(ws.path().join("out"));
    let out = ws.run(&["run", "-m", "exporter.toml", "a.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = ws
        .command()
        .env("EXPORTER_TEST_ABORT_AFTER_RENAMES", renames.to_string())
        .args(["run", "-m", "exporter.toml", "b.ndjson"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the hook stopped the run after {renames} renames"
    );
    assert!(ws.exists("out/.exporter.journal"));
}

#[test]
fn a_commit_stopped_at_any_step_is_rolled_forward_by_check() {
    let (ws, b) = setup();
    for renames in 0..=4 {
        interrupted_commit(&ws, renames);
        let check = ws.run(&["check", "-m", "exporter.toml"]);
        assert!(
            check.status.success(),
            "after {renames}: {}",
            stdout(&check)
        );
        assert!(
            stdout(&check).contains("rolled an interrupted commit forward"),
            "{}",
            stdout(&check)
        );
        assert_eq!(set(&ws.path().join("out")), b, "after {renames} renames");
        assert!(!ws.exists("out/.exporter.journal"));
        assert!(ws.staging_files().is_empty(), "{:?}", ws.staging_files());
    }
}

#[test]
fn the_next_run_rolls_an_interrupted_commit_forward_first() {
    let (ws, _) = setup();
    for renames in [0, 2, 4] {
        interrupted_commit(&ws, renames);
        // the next run finishes b's commit, then commits its own: the set is a's again
        let out = ws.run(&["run", "-m", "exporter.toml", "a.ndjson"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("rolled an interrupted commit forward"),
            "{}",
            stderr(&out)
        );
        let check = ws.run(&["check", "-m", "exporter.toml"]);
        assert!(check.status.success(), "{}", stdout(&check));
        assert_eq!(
            set(&ws.path().join("out")).len(),
            6,
            "four parts, the two reports"
        );
    }
}
