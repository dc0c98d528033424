//! The `ndjson` source, the default: NDJSON files (or standard input) read in order.

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::time::Duration;

use exporter_core::{BuildError, Input, Source, SourceContext, SourceError, SourcePlugin};
use schemars::JsonSchema;
use serde::Deserialize;

/// Read buffer per input.
const BUFFER: usize = 1 << 20;

/// The `ndjson` source's options.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Config {
    /// NDJSON files read in order, relative to the manifest; `-` is standard input. Inputs
    /// named on the command line replace them; with neither, standard input is read.
    #[serde(default)]
    paths: Vec<PathBuf>,
}

fn config_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Config)).expect("a schema is JSON")
}

fn build(
    d: &mut dyn erased_serde::Deserializer<'_>,
    cx: &SourceContext,
) -> Result<Box<dyn Source>, BuildError> {
    let config: Config = exporter_core::config(d)?;
    let inputs: Vec<PathBuf> = if !cx.inputs.is_empty() {
        cx.inputs.clone()
    } else if !config.paths.is_empty() {
        config
            .paths
            .iter()
            .map(|p| {
                if p.as_os_str() == "-" {
                    p.clone()
                } else {
                    cx.manifest_file(p)
                }
            })
            .collect()
    } else {
        vec![PathBuf::from("-")]
    };
    Ok(Box::new(NdjsonSource {
        inputs: inputs.into(),
    }))
}

exporter_core::inventory::submit! {
    SourcePlugin {
        name: "ndjson",
        description: "NDJSON files, or standard input, read in order (the default source).",
        example: "type = \"ndjson\"\npaths = [\"events.ndjson\"]\n",
        config_schema,
        build,
    }
}

/// NDJSON files (or `-`, standard input), each handed out whole.
pub(crate) struct NdjsonSource {
    inputs: VecDeque<PathBuf>,
}

impl Source for NdjsonSource {
    fn next(&mut self, _wait: Duration) -> Result<Option<Input<'_>>, SourceError> {
        let Some(path) = self.inputs.pop_front() else {
            return Ok(None);
        };
        let name = path.display().to_string();
        let reader: Box<dyn std::io::BufRead + Send> = if name == "-" {
            Box::new(BufReader::with_capacity(BUFFER, std::io::stdin()))
        } else {
            let file = File::open(&path)
                .map_err(|e| SourceError::new(format!("cannot read input {name}: {e}")))?;
            Box::new(BufReader::with_capacity(BUFFER, file))
        };
        Ok(Some(Input::Stream { name, reader }))
    }
}
