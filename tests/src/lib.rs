//! Test-only plugins for the end-to-end tests of the pipeline: a JSON Lines sink that can be
//! told to fail, reject or corrupt, and a validator for its files. Linked into the
//! `exporter-test` binary (never into `exporter`). Also the [`harness`] the end-to-end tests
//! of every crate share.

pub mod harness;

use std::io::Write;

use exporter_core::serde_json::{self, Value, json};
use exporter_core::{
    BuildError, Event, EventContext, FileUnderCheck, Finding, FindingCode, FinishContext,
    GrowingFile, Interests, OutputFiles, RecordTally, Sink, SinkContext, SinkError, SinkOutput,
    SinkPlugin, StagedFile, Validator, ValidatorContext, ValidatorPlugin,
};
use serde::Deserialize;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Which events to write: campaign, record, request, error (default: all).
    events: Option<Vec<String>>,
    /// Fail with an I/O-like error after writing this many lines.
    fail_after: Option<u64>,
    /// Reject (raise a SchemaViolation for) records without this field.
    reject_missing: Option<String>,
    /// Write one line that is not JSON at finish, without counting it.
    #[serde(default)]
    corrupt: bool,
    /// Finish after the other sinks and write what the finish context shows.
    #[serde(default)]
    last: bool,
}

struct JsonLines {
    config: Config,
    interests: Interests,
    path: std::path::PathBuf,
    file: Option<StagedFile>,
    written: u64,
    tally: RecordTally,
}

impl JsonLines {
    fn write(&mut self, value: &Value) -> Result<(), SinkError> {
        if self.config.fail_after.is_some_and(|n| self.written >= n) {
            return Err(SinkError::new("injected failure (fail_after)").at(&self.path));
        }
        let file = self.file.as_mut().expect("opened");
        let mut line = serde_json::to_vec(value).map_err(|e| SinkError::new(e.to_string()))?;
        line.push(b'\n');
        file.write_all(&line)
            .map_err(|e| SinkError::io(e, &self.path))?;
        // Flush so that a failure after this point has really put bytes into the staging file.
        file.flush().map_err(|e| SinkError::io(e, &self.path))?;
        file.add_rows(1);
        self.written += 1;
        Ok(())
    }
}

impl Sink for JsonLines {
    fn interests(&self) -> Interests {
        self.interests
    }

    fn runs_last(&self) -> bool {
        self.config.last
    }

    fn open(&mut self, files: &OutputFiles) -> Result<(), SinkError> {
        self.file = Some(files.stage(&self.path)?);
        Ok(())
    }

    fn event(&mut self, event: &Event<'_>, cx: &mut EventContext<'_>) -> Result<(), SinkError> {
        let value = match event {
            Event::Campaign(c) => json!({"event": "campaign", "campaign": c}),
            Event::Record(r) => {
                if let Some(field) = &self.config.reject_missing {
                    let data = r.to_json();
                    if data.get(field).is_none() {
                        cx.raise(
                            exporter_core::ErrorEvent::new(
                                "SchemaViolation",
                                format!("field {field:?}: required"),
                            )
                            .with_context(
                                json!({"record": data, "field": field, "rule": "required"}),
                            ),
                        );
                        self.tally.received += 1;
                        self.tally.rejected += 1;
                        return Ok(());
                    }
                }
                self.tally.received += 1;
                self.tally.written += 1;
                json!({"event": "record", "data": r})
            }
            Event::Request(r) => {
                json!({"event": "request", "request": r, "ok": r.is_ok(), "blocked": r.is_blocked()})
            }
            Event::Error(e) => json!({"event": "error", "error": e}),
        };
        self.write(&value)
    }

    fn finish(mut self: Box<Self>, cx: &FinishContext<'_>) -> Result<SinkOutput, SinkError> {
        if self.config.last {
            let value = json!({
                "event": "finish",
                "campaign": cx.campaign,
                "input": cx.input,
                "events": cx.events,
                "outputs": cx.outputs,
                "generated_at": cx.generated_at,
                "generator": cx.generator(),
            });
            self.write(&value)?;
        }
        let mut file = self.file.take().expect("opened");
        if self.config.corrupt {
            file.write_all(b"this line is not JSON\n")
                .map_err(|e| SinkError::io(e, &self.path))?;
        }
        let output = SinkOutput::staged(vec![file]);
        Ok(if self.interests.records {
            output.with_records(self.tally)
        } else {
            output
        })
    }
}

fn build(
    d: &mut dyn exporter_core::erased_serde::Deserializer<'_>,
    cx: &SinkContext,
) -> Result<Box<dyn Sink>, BuildError> {
    let config: Config = exporter_core::config(d)?;
    let mut interests = Interests::ALL;
    if let Some(events) = &config.events {
        interests = Interests::NONE;
        for (i, e) in events.iter().enumerate() {
            match e.as_str() {
                "campaign" => interests.campaign = true,
                "record" => interests.records = true,
                "request" => interests.requests = true,
                "error" => interests.errors = true,
                other => {
                    return Err(BuildError::at_key(
                        format!("events[{i}]"),
                        format!("unknown event kind {other:?}"),
                    ));
                }
            }
        }
    }
    Ok(Box::new(JsonLines {
        config,
        interests,
        path: cx.path.clone(),
        file: None,
        written: 0,
        tally: RecordTally::default(),
    }))
}

exporter_core::inventory::submit! {
    SinkPlugin {
        name: "test-jsonl",
        description: "TEST ONLY: every event as a JSON line; can fail, reject or corrupt on demand.",
        default_path: Some("events.jsonl"),
        example: "type = \"test-jsonl\"\npath = \"events.jsonl\"\nevents = [\"record\", \"error\"]\n",
        config_schema: || serde_json::to_value(schemars::schema_for!(Config)).expect("a schema is JSON"),
        default_validators: &["exists", "test-jsonl-lines"],
        numbered_parts: false,
        output_schema: None,
        build,
    }
}

/// Every line is JSON, and there are as many as the sink reported. It follows writes, so
/// the pipeline's tests run the path where a validator reads a file as it is written.
struct LinesValidator;

impl LinesValidator {
    /// Findings of every line, and how many lines there are.
    fn check_lines(input: impl std::io::BufRead, name: &str) -> (Vec<Finding>, u64) {
        let mut findings = Vec::new();
        let mut count = 0;
        for (i, line) in input.lines().enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    findings.push(Finding::new(
                        FindingCode::EncodingError,
                        name,
                        e.to_string(),
                    ));
                    break;
                }
            };
            count += 1;
            if serde_json::from_str::<Value>(&line).is_err() {
                findings.push(
                    Finding::new(FindingCode::TypeError, name, "not JSON").at_row(i as u64 + 1),
                );
            }
        }
        (findings, count)
    }

    fn check_count(findings: &mut Vec<Finding>, name: &str, count: u64, rows: Option<u64>) {
        if let Some(want) = rows
            && want != count
        {
            findings.push(Finding::new(
                FindingCode::RowCount,
                name,
                format!("{count} lines, {want} rows written"),
            ));
        }
    }
}

impl Validator for LinesValidator {
    fn check(&self, file: &FileUnderCheck<'_>) -> Vec<Finding> {
        match std::fs::File::open(file.path) {
            Ok(f) => {
                let (mut findings, count) =
                    Self::check_lines(std::io::BufReader::new(f), file.name);
                Self::check_count(&mut findings, file.name, count, file.rows);
                findings
            }
            Err(e) => vec![Finding::new(
                FindingCode::MissingFile,
                file.name,
                e.to_string(),
            )],
        }
    }

    fn follows_writes(&self) -> bool {
        true
    }

    fn check_while_written(&self, file: &mut GrowingFile) -> Vec<Finding> {
        let name = file.under_check().name.to_string();
        let (mut findings, count) = Self::check_lines(std::io::BufReader::new(&mut *file), &name);
        Self::check_count(&mut findings, &name, count, file.under_check().rows);
        findings
    }
}

fn build_lines(_: &ValidatorContext<'_>) -> Result<Box<dyn Validator>, String> {
    Ok(Box::new(LinesValidator))
}

exporter_core::inventory::submit! {
    ValidatorPlugin {
        name: "test-jsonl-lines",
        description: "TEST ONLY: every line is JSON; the line count matches the rows written.",
        build: build_lines,
    }
}
