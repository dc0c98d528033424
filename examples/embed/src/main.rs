//! A scraper that embeds the exporter: four worker threads push typed records, request
//! telemetry and failures through one cloneable handle; the main thread finishes the run.
//!
//! `cargo run -p exporter-example-embed -- [OUT_DIR]` (default `examples/out/embed`)

use std::path::Path;

use exporter_core::{ErrorEvent, Request, Severity, Timestamp};
use exporter_runtime::{Exporter, RunOptions, RunReport};
// Link the built-in plugins (csv, summary, proxy-performance, error-log) into this binary.
use exporter_cli as _;

/// What the scraper produces: any `Serialize` type; its fields go straight to cells.
#[derive(serde::Serialize)]
struct Lead {
    place_id: String,
    name: String,
    rating: Option<f64>,
    tags: Vec<&'static str>,
}

const MANIFEST: &str = r#"
[campaign]
id = "embedded"

[[sinks]]
type = "csv"
path = "leads.csv"
dialect = "sheets"
[sinks.schema]
primaryKey = "place_id"
[[sinks.schema.fields]]
name = "place_id"
constraints = { required = true }
[[sinks.schema.fields]]
name = "name"
[[sinks.schema.fields]]
name = "rating"
type = "number"
constraints = { minimum = 0, maximum = 5 }
[[sinks.schema.fields]]
name = "tags"
type = "array"

[[sinks]]
type = "campaign-summary"

[[sinks]]
type = "proxy-performance"

[[sinks]]
type = "error-log"
"#;

fn run(out_dir: &Path) -> Result<RunReport, exporter_runtime::ExportError> {
    let opts = RunOptions {
        out_dir: Some(out_dir.to_path_buf()),
        ..RunOptions::default()
    };
    let exporter = Exporter::from_manifest_str(MANIFEST, Path::new("."), opts)?;
    std::thread::scope(|s| {
        for worker in 0..4 {
            let exporter = exporter.clone();
            s.spawn(move || -> Result<(), exporter_runtime::ExportError> {
                for i in 0..250 {
                    let ts = Timestamp::from_unix_seconds(1_764_144_000 + i).expect("valid time");
                    let proxy = format!("http://worker{worker}:s3cret@10.0.0.{worker}:8080");
                    let status = if i % 25 == 0 { 429 } else { 200 };
                    exporter.request(Request {
                        status: Some(status),
                        latency_ms: Some(200.0 + (i % 50) as f64),
                        bytes: Some(20_000),
                        ..Request::new(ts, proxy)
                    })?;
                    if status == 429 {
                        exporter.error(
                            ErrorEvent::new("RateLimited", "429 from upstream")
                                .with_severity(Severity::Warning),
                        )?;
                        continue;
                    }
                    // a rating of 7 breaks the schema: rejected into the error log, not lost
                    let rating = if i % 100 == 7 {
                        Some(7.0)
                    } else {
                        Some((i % 50) as f64 / 10.0)
                    };
                    exporter.record(&Lead {
                        place_id: format!("w{worker}-{}", i % 200), // repeats: counted as duplicates
                        name: format!("Praxis {i}, \"Mitte\""),
                        rating,
                        tags: vec!["parking", "wifi"],
                    })?;
                }
                Ok(())
            });
        }
    });
    exporter.finish()
}

fn main() -> std::process::ExitCode {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/out/embed".into());
    match run(Path::new(&out)) {
        Ok(report) => {
            for sink in &report.sinks {
                for f in &sink.files {
                    println!(
                        "{:<18} {}/{} ({} rows)",
                        sink.name,
                        report.out_dir.display(),
                        f.path(),
                        f.rows()
                    );
                }
                if let Some(t) = &sink.records {
                    println!(
                        "  records: {} received = {} written + {} rejected + {} duplicates",
                        t.received, t.written, t.rejected, t.duplicates
                    );
                }
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn four_threads_every_record_accounted_for() {
        let dir = tempfile::tempdir().unwrap();
        let report = super::run(dir.path()).unwrap();
        let t = report.sinks[0].records.clone().unwrap();
        assert_eq!(t.received, 4 * 240);
        assert!(t.balanced());
        // per worker: ratings of 7 at i = 7, 107, 207 are rejected; i = 201..249 repeat the ids
        // of i - 200, except 207 (rejected first) and 225 (a 429, no record)
        assert_eq!(t.rejected, 4 * 3);
        assert_eq!(t.duplicates, 4 * 47);
        let log = std::fs::read_to_string(dir.path().join("error_log.csv")).unwrap();
        assert!(!log.contains("s3cret"));
        assert_eq!(log.matches("SchemaViolation").count(), 12);
    }
}
