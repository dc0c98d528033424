//! Many writers, one file: threads of one process and several processes at once. Every row
//! must be present exactly once, whole, with one header.

use std::collections::HashSet;
use std::path::Path;

use exporter_core::{ErrorEvent, Severity};
use exporter_error_log::{ErrorLog, Options};

/// Set in the child processes the multi-process test starts (its own test binary, re-run).
const CHILD_ENV: &str = "ERROR_LOG_TEST_CHILD";

fn write_rows(path: &Path, tag: &str, threads: usize, rows: usize) {
    let log = ErrorLog::open(path, Options::default()).unwrap();
    std::thread::scope(|s| {
        for t in 0..threads {
            let log = log.clone();
            s.spawn(move || {
                for i in 0..rows {
                    // multi-line, quoted, guarded and long cells make tearing visible
                    let message = format!("{tag}-{t}-{i}\nline \"two\", {}", "x".repeat(i % 300));
                    let e = ErrorEvent::new("=Timeout", message)
                        .with_severity(Severity::Warning)
                        .with_context(
                            exporter_core::serde_json::json!({"tag": tag, "t": t, "i": i}),
                        );
                    log.log(&e).unwrap();
                }
            });
        }
    });
    log.flush().unwrap();
}

fn check(path: &Path, expected: usize) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBFtimestamp,"),
        "BOM and header first"
    );
    assert_eq!(
        bytes.windows(3).filter(|w| *w == b"\xEF\xBB\xBF").count(),
        1,
        "one BOM"
    );
    assert!(bytes.ends_with(b"\r\n"), "no torn last line");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&bytes[3..]);
    let mut seen = HashSet::new();
    for row in reader.records() {
        let row = row.unwrap();
        assert_eq!(row.len(), 8, "{row:?}");
        let id = row[3].split('\n').next().unwrap().to_string();
        let rest = &row[3][id.len()..];
        let i: usize = id.rsplit('-').next().unwrap().parse().unwrap();
        assert_eq!(
            rest,
            format!("\nline \"two\", {}", "x".repeat(i % 300)),
            "whole cell"
        );
        assert_eq!(&row[2], "'=Timeout");
        assert!(seen.insert(id.clone()), "row {id} twice");
    }
    assert_eq!(seen.len(), expected);
}

#[test]
fn eight_threads_never_interleave_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("error_log.csv");
    write_rows(&path, "p0", 8, 10_000);
    check(&path, 80_000);
}

#[test]
fn four_processes_of_eight_threads_never_interleave_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("error_log.csv");
    let me = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|p| {
            std::process::Command::new(&me)
                .args([
                    "--exact",
                    "child_process_entry",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, format!("{}|proc{p}", path.display()))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    check(&path, 4 * 8 * 2_000);
}

/// Not a test of its own: the entry point of the child processes above. Does nothing unless
/// started by that test.
#[test]
fn child_process_entry() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        let (path, tag) = spec.split_once('|').unwrap();
        write_rows(Path::new(path), tag, 8, 2_000);
    }
}
