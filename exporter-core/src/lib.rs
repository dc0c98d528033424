//! # exporter-core
//!
//! The mechanism of the campaign exporter: everything except the outputs themselves.
//!
//! A campaign produces result records, request telemetry and failures (the [event model],
//! read from NDJSON by [input] or pushed from Rust). A TOML [manifest] names the outputs; each
//! output is a *sink plugin* in its own crate, found in the [registry] and built from its own
//! typed config. The [pipeline](Pipeline) routes events to the sinks, turns what they reject into error
//! events (so nothing is lost), and at the end validates every file with its [validators]
//! and commits them atomically through [output] staging.
//!
//! Plugin crates depend on this crate only: they implement [`Sink`] (and maybe [`Validator`])
//! and register a [`SinkPlugin`] with [`inventory::submit!`]. The `exporter-cli` crate wires
//! the built-in plugins into the `exporter` binary.
//!
//! [event model]: event
//! [validators]: validate

#![warn(missing_docs)]

pub mod clock;
mod error;
pub mod event;
pub mod input;
pub mod manifest;
pub mod output;
mod pipeline;
mod prefetch;
mod reader;
pub mod redact;
pub mod registry;
pub mod sink;
pub mod stats;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod validate;

pub use error::{ExportError, RejectedFile, SinkError};
pub use event::{
    Campaign, ErrorEvent, Event, EventKind, JsonObject, Record, Request, Severity, Timestamp,
};
pub use output::{
    AppendFile, FileReport, Fsync, GrowingFile, OutputFiles, PendingFile, StagedFile,
};
pub use pipeline::{Exporter, Pipeline, RunOptions, RunReport};
pub use registry::{BuildError, OptionDoc, SinkPlugin, ValidatorPlugin, config};
pub use sink::{
    EventContext, EventCounts, FinishContext, Interests, RecordTally, Sink, SinkContext,
    SinkOutput, SinkReport, Written,
};
pub use validate::{FileUnderCheck, Finding, FindingCode, Validator, ValidatorContext};

/// Re-exported: plugin constructors take an erased deserializer.
pub use erased_serde;
/// Re-exported so plugin crates need no direct dependency to register themselves.
pub use inventory;
/// Re-exported: records, contexts and reports are JSON values.
pub use serde_json;
/// Re-exported: sinks log through `tracing` like the rest of the exporter.
pub use tracing;
