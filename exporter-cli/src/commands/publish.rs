//! `exporter publish`: NDJSON lines to a NATS JetStream subject.

use std::io::BufReader;
use std::path::PathBuf;

use exporter_nats::{PublishOptions, PublishReport};

use crate::console::{self, say};
use crate::{EXIT_FAILED, EXIT_OK};

/// Publishes each input in turn (standard input for none or `-`); stops at the first
/// failure, naming the first line that may not be stored.
pub(crate) fn publish(options: PublishOptions, inputs: &[PathBuf]) -> u8 {
    let stdin = [PathBuf::from("-")];
    let inputs = if inputs.is_empty() {
        &stdin[..]
    } else {
        inputs
    };
    let mut out = String::new();
    for input in inputs {
        let name = input.display().to_string();
        let result = if name == "-" {
            exporter_nats::publish(&options, "stdin", std::io::stdin().lock())
        } else {
            match std::fs::File::open(input) {
                Ok(f) => exporter_nats::publish(&options, &name, BufReader::new(f)),
                Err(e) => {
                    console::error(&format!("{name}: {e}"));
                    return EXIT_FAILED;
                }
            }
        };
        match result {
            Ok(PublishReport {
                lines,
                stored,
                duplicates,
                stream,
            }) => say!(
                out,
                "{name}: {lines} line(s) published to {} (stream {stream}): {stored} stored, {duplicates} already there",
                options.subject
            ),
            Err(e) => {
                console::error(&e.to_string());
                return EXIT_FAILED;
            }
        }
    }
    // what was published is said on standard error, like a run's report: standard output
    // stays free for a pipeline
    console::note(&out);
    EXIT_OK
}
