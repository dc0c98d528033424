//! A third-party sink: every record as one line of JSON (`jsonl`), and a validator
//! (`jsonl-lines`) that reads the file back. See `docs/plugins.md` for the walk-through.

mod validator;

use std::io::Write;
use std::path::PathBuf;

use exporter_core::{
    BuildError, Event, EventContext, FinishContext, Interests, OutputFiles, RecordTally, Sink,
    SinkContext, SinkError, SinkOutput, SinkPlugin, StagedFile, serde_json,
};

/// The sink's own keys: none yet, but typos are still refused.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {}

struct JsonLines {
    path: PathBuf,
    file: Option<StagedFile>,
    /// Every record given is accounted for: here, all are written.
    tally: RecordTally,
}

impl Sink for JsonLines {
    fn interests(&self) -> Interests {
        Interests {
            records: true,
            ..Interests::NONE
        }
    }

    fn open(&mut self, files: &OutputFiles) -> Result<(), SinkError> {
        self.file = Some(files.stage(&self.path)?);
        Ok(())
    }

    fn event(&mut self, event: &Event<'_>, _cx: &mut EventContext<'_>) -> Result<(), SinkError> {
        let (Event::Record(record), Some(file)) = (event, self.file.as_mut()) else {
            return Ok(());
        };
        serde_json::to_writer(&mut *file, record)
            .map_err(|e| SinkError::new(e.to_string()).at(&self.path))?;
        file.write_all(b"\n")
            .map_err(|e| SinkError::io(e, &self.path))?;
        file.add_rows(1);
        self.tally.received += 1;
        self.tally.written += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>, _cx: &FinishContext<'_>) -> Result<SinkOutput, SinkError> {
        let files = self.file.take().into_iter().collect();
        Ok(SinkOutput::staged(files).with_records(self.tally))
    }
}

fn build(
    d: &mut dyn exporter_core::erased_serde::Deserializer<'_>,
    cx: &SinkContext,
) -> Result<Box<dyn Sink>, BuildError> {
    let Config {} = exporter_core::config(d)?;
    Ok(Box::new(JsonLines {
        path: cx.path.clone(),
        file: None,
        tally: RecordTally::default(),
    }))
}

exporter_core::inventory::submit! {
    SinkPlugin {
        name: "jsonl",
        description: "Every record as one line of JSON, for data pipelines.",
        default_path: Some("records.jsonl"),
        example: "type = \"jsonl\"\npath = \"records.jsonl\"\n",
        config_schema: exporter_core::no_options,
        default_validators: &["exists", "jsonl-lines"],
        numbered_parts: false,
        output_schema: None,
        build,
    }
}
