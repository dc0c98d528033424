//! The library entry point: a cloneable handle many threads push typed records through.

use exporter_core::{ErrorEvent, Request, Timestamp};
use exporter_runtime::{ExportError, Exporter, RunOptions};
use exporter_tests as _; // link the test plugins

#[derive(serde::Serialize)]
struct Lead {
    place_id: String,
    rating: f64,
    tags: Vec<&'static str>,
}

fn manifest(dir: &std::path::Path) -> String {
    format!(
        "[output]\ndir = {:?}\n[[sinks]]\ntype = \"test-jsonl\"\npath = \"all.jsonl\"\n",
        dir.join("out").display().to_string()
    )
}

#[test]
fn many_threads_push_typed_records_and_one_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let exporter =
        Exporter::from_manifest_str(&manifest(dir.path()), dir.path(), RunOptions::default())
            .unwrap();
    std::thread::scope(|s| {
        for t in 0..8 {
            let exporter = exporter.clone();
            s.spawn(move || {
                for i in 0..500 {
                    let lead = Lead {
                        place_id: format!("t{t}-{i}"),
                        rating: 4.5,
                        tags: vec!["a", "b"],
                    };
                    exporter.record(&lead).unwrap();
                }
                let ts = Timestamp::parse("2026-11-26T08:00:00Z").unwrap();
                exporter
                    .request(Request {
                        status: Some(200),
                        ..Request::new(ts, "http://u:pw@h:1")
                    })
                    .unwrap();
                exporter
                    .error(ErrorEvent::new("Timeout", "via http://u:pw@h:1"))
                    .unwrap();
            });
        }
    });
    let report = exporter.finish().unwrap();
    assert_eq!(report.events.records, 4000);
    assert_eq!(report.events.requests, 8);
    let text = std::fs::read_to_string(dir.path().join("out/all.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4016);
    let mut ids: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"] == "record")
        .map(|l| l["data"]["place_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4000, "every record exactly once");
    assert!(!text.contains(":pw@"), "passwords masked on the way in");
    assert_eq!(report.sinks[0].files[0].rows(), 4016);
    assert!(matches!(exporter.record(&1), Err(ExportError::Finished)));
    assert!(matches!(exporter.finish(), Err(ExportError::Finished)));
}

#[test]
fn a_failing_sink_ends_the_run_for_every_handle() {
    let dir = tempfile::tempdir().unwrap();
    let text = manifest(dir.path()) + "fail_after = 3\n";
    let exporter = Exporter::from_manifest_str(&text, dir.path(), RunOptions::default()).unwrap();
    for i in 0..3 {
        exporter.record(&i).unwrap();
    }
    let other = exporter.clone();
    assert!(matches!(exporter.record(&4), Err(ExportError::Sink { .. })));
    assert!(matches!(other.record(&5), Err(ExportError::Finished)));
    assert!(!dir.path().join("out/all.jsonl").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name() != exporter_runtime::LOCK_FILE)
        .collect();
    assert!(leftovers.is_empty(), "staging file removed");
}

#[test]
fn manifest_errors_reach_library_users_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let err = Exporter::from_manifest_str(
        "[[sinks]]\ntype = \"test-jsonl\"\nbogus = 1\n",
        dir.path(),
        RunOptions::default(),
    )
    .err()
    .unwrap();
    let ExportError::Manifest(errors) = err else {
        panic!("{err}")
    };
    let e = &errors.errors()[0];
    assert_eq!((e.line, e.column, e.key.as_deref()), (3, 1, Some("bogus")));
}
