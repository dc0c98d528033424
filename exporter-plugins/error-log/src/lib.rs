//! # exporter-error-log
//!
//! The `error-log` sink (docs/contract.md §4.4): one CSV row per failure (error events, bad input
//! lines, records other sinks rejected), appended across runs. The header is written only
//! when the file is new or empty; a file with another header is refused rather than mixed;
//! a torn last row left by a crash is cut away on the next open. Rows from many threads and
//! processes never interleave: each batch is appended whole under an exclusive file lock.
//!
//! Applications can also log directly through [`ErrorLog`], a cloneable `Send + Sync` handle.

mod integrity;
mod log;

use std::path::PathBuf;

pub use integrity::LogIntegrity;
pub use log::{BATCH_BYTES, COLUMNS, ErrorLog, LogCounts, OpenError, Options};

use exporter_core::serde_json::{Map, Value};
use exporter_core::{
    BuildError, Event, EventContext, FinishContext, Interests, OutputFiles, Severity, Sink,
    SinkContext, SinkError, SinkOutput, SinkPlugin, Written,
};
use exporter_tabular::{Delimiter, Dialect};
use schemars::JsonSchema;
use serde::Deserialize;

/// The `error-log` sink's own keys.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The spreadsheet dialect of the log (its BOM only when the file is new).
    #[serde(default)]
    dialect: Dialect,
    /// The field delimiter.
    #[serde(default)]
    delimiter: Delimiter,
    /// Whether cells a spreadsheet would run as formulas get a leading `'` (default: the
    /// dialect's).
    formula_guard: Option<bool>,
    /// Rows below this severity are not written (they are counted as filtered).
    #[serde(default = "lowest")]
    #[schemars(schema_with = "severity_schema")]
    min_severity: Severity,
}

fn severity_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
    schemars::json_schema!({"enum": names, "default": "debug"})
}

fn config_schema() -> exporter_core::serde_json::Value {
    exporter_core::serde_json::to_value(schemars::schema_for!(Config)).expect("a schema is JSON")
}

fn lowest() -> Severity {
    Severity::Debug
}

impl Config {
    /// How the log is written with this config.
    fn options(&self) -> Options {
        Options {
            dialect: self.dialect,
            delimiter: self.delimiter,
            formula_guard: self.formula_guard.unwrap_or(self.dialect.guards_formulas()),
            min_severity: self.min_severity,
            fsync: exporter_core::Fsync::OnCommit,
        }
    }
}

struct ErrorLogSink {
    config: Config,
    path: PathBuf,
    log: Option<ErrorLog>,
    /// Following a stream: the log's length at the last commit of the stream, or before its
    /// first event (rows past it were appended by a generation that never committed, and are
    /// cut at open: its events come again).
    follow: Option<u64>,
}

impl ErrorLogSink {
    fn log(&self) -> &ErrorLog {
        self.log.as_ref().expect("opened before events")
    }
}

impl Sink for ErrorLogSink {
    fn interests(&self) -> Interests {
        Interests {
            campaign: true,
            errors: true,
            ..Interests::NONE
        }
    }

    fn follow(
        &mut self,
        saved: Option<&[u8]>,
        files: &OutputFiles,
    ) -> Result<Option<Vec<u8>>, SinkError> {
        let Some(bytes) = saved else {
            // the log as it is before the stream's first event: what a first generation
            // killed before its commit appends is cut back to this
            let target = files.resolve(&self.path)?;
            let now = match std::fs::metadata(&target) {
                Ok(m) => m.len(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
                Err(e) => return Err(SinkError::io(e, &target)),
            };
            self.follow = Some(now);
            return Ok(Some(now.to_string().into_bytes()));
        };
        let length = std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| SinkError::new("its saved state is not a length"))?;
        self.follow = Some(length);
        Ok(None)
    }

    fn open(&mut self, files: &OutputFiles) -> Result<(), SinkError> {
        let target = files.resolve(&self.path)?;
        if let Some(committed) = self.follow {
            cut_to_committed(&target, committed)?;
        }
        let file = files.append(&self.path)?;
        let options = self.config.options();
        let log = ErrorLog::from_append_file(file, options)
            .map_err(|e| SinkError::new(e.to_string()).at(&target))?;
        let repaired = log.counts().repaired_bytes;
        if repaired > 0 {
            exporter_core::tracing::warn!(
                path = %target.display(),
                repaired_bytes = repaired,
                "removed a torn last row left by an interrupted writer"
            );
        }
        self.log = Some(log);
        Ok(())
    }

    fn event(&mut self, event: &Event<'_>, _cx: &mut EventContext<'_>) -> Result<(), SinkError> {
        match event {
            Event::Campaign(c) => self.log().set_campaign_id(c.id.clone()),
            Event::Error(e) => self
                .log()
                .log(e)
                .map_err(|e| SinkError::io(e, &self.path))?,
            _ => {}
        }
        Ok(())
    }

    fn finish(self: Box<Self>, _cx: &FinishContext<'_>) -> Result<SinkOutput, SinkError> {
        let log = self.log.as_ref().expect("opened");
        let report = log.finish().map_err(|e| SinkError::io(e, &self.path))?;
        let counts = log.counts();
        let mut details = Map::new();
        details.insert("rows_appended".into(), Value::from(counts.rows));
        details.insert(
            "filtered_below_min_severity".into(),
            Value::from(counts.filtered),
        );
        details.insert("guarded_cells".into(), Value::from(counts.guarded_cells));
        details.insert(
            "truncated_cells".into(),
            Value::from(counts.truncated_cells),
        );
        details.insert(
            "repaired_torn_bytes".into(),
            Value::from(counts.repaired_bytes),
        );
        details.insert("created".into(), Value::from(counts.created));
        // the log's length as this generation leaves it, measured under the lock
        let state = self.follow.map(|_| report.bytes().to_string().into_bytes());
        Ok(SinkOutput {
            files: vec![Written::Appended(report)],
            records: None,
            details,
            handoff: None,
            state,
        })
    }
}

/// Cuts the log back to its length at the last commit of a followed stream: what a generation
/// that was killed before its commit appended goes, as its events are read again.
fn cut_to_committed(path: &std::path::Path, committed: u64) -> Result<(), SinkError> {
    let file = match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && committed == 0 => return Ok(()),
        Err(e) => return Err(SinkError::io(e, path)),
    };
    let length = file.metadata().map_err(|e| SinkError::io(e, path))?.len();
    if length < committed {
        return Err(SinkError::new(format!(
            "it is {length} bytes, shorter than the {committed} bytes committed last: it was cut or replaced since; move it away to start the log anew"
        ))
        .at(path));
    }
    if length > committed {
        exporter_core::tracing::info!(path = %path.display(), removed_bytes = length - committed, "removed rows of a generation that was not committed");
        file.set_len(committed)
            .map_err(|e| SinkError::io(e, path))?;
        file.sync_all().map_err(|e| SinkError::io(e, path))?;
    }
    Ok(())
}

fn build(
    d: &mut dyn exporter_core::erased_serde::Deserializer<'_>,
    cx: &SinkContext,
) -> Result<Box<dyn Sink>, BuildError> {
    let config: Config = exporter_core::config(d)?;
    Ok(Box::new(ErrorLogSink {
        config,
        path: cx.path.clone(),
        follow: None,
        log: None,
    }))
}

exporter_core::inventory::submit! {
    SinkPlugin {
        name: "error-log",
        description: "One CSV row per failure, appended across runs; safe with many writers.",
        default_path: Some("error_log.csv"),
        example: "type = \"error-log\"\npath = \"error_log.csv\"\ndialect = \"excel\"\nmin_severity = \"debug\"\n",
        config_schema,
        default_validators: &["exists", "error-log"],
        numbered_parts: false,
        output_schema: None,
        build,
    }
}
