//! Error-log appends: rows encoded, guarded, redacted and appended under the file lock.
//!
//! `cargo bench -p exporter-error-log --bench append`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use exporter_core::{ErrorEvent, Fsync, Severity};
use exporter_error_log::{ErrorLog, Options};

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let event = ErrorEvent::new(
        "Timeout",
        "read timed out via http://u:pw@10.0.0.7:8080, attempt \"3\"",
    )
    .with_severity(Severity::Warning)
    .with_context(
        exporter_core::serde_json::json!({"attempt": 3, "proxy_url": "http://u:pw@10.0.0.7:8080"}),
    );
    let mut group = c.benchmark_group("error_log");
    group.throughput(Throughput::Elements(10_000));
    for (name, fsync) in [
        ("append_10000_rows_no_fsync", Fsync::Never),
        ("append_10000_rows_fsync_per_batch", Fsync::OnCommit),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let path = dir.path().join("error_log.csv");
                let _ = std::fs::remove_file(&path);
                let log = ErrorLog::open(
                    &path,
                    Options {
                        fsync,
                        ..Options::default()
                    },
                )
                .unwrap();
                for _ in 0..10_000 {
                    log.log(&event).unwrap();
                }
                log.flush().unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
