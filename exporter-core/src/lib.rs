//! # exporter-core
//!
//! The contract between the campaign exporter and its plugins: what a sink or a validator is,
//! what it receives and what it must report. A plugin crate depends on this crate (and on the
//! leaf libraries it uses), never on the engine that runs it (`exporter-runtime`).
//!
//! - the [event model]: campaign facts, records (one form: a [`JsonObject`] view), requests,
//!   errors, as sinks receive them;
//! - [`Sink`] and its lifecycle (build, open, event, finish), [`Validator`] and its findings;
//! - the plugin [registry]: `'static` descriptors registered with [`inventory::submit!`],
//!   from which everything user-facing about plugins is generated;
//! - the [output] files a sink may write: staged and committed as a set, or appended across
//!   runs, each measured (rows, bytes, SHA-256) by the file itself;
//! - [redaction](redact) of proxy passwords, applied before a sink sees an event.
//!
//! `ARCHITECTURE.md` draws the layers; `docs/plugins.md` walks through
//! writing a plugin; `docs/contract.md` is the format contract the code refers to.
//!
//! [event model]: event

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod clock;
mod error;
pub mod event;
pub mod output;
pub mod redact;
pub mod registry;
pub mod sink;
pub mod validate;

pub use error::SinkError;
pub use event::{
    Campaign, ErrorEvent, Event, EventKind, JsonObject, Record, Request, Severity, Timestamp,
};
pub use output::{
    AppendFile, FileReport, Fsync, GrowingFile, OutputFiles, PendingFile, StagedFile,
};
pub use registry::{BuildError, OptionDoc, SinkPlugin, ValidatorPlugin, config};
pub use sink::{
    EventContext, EventCounts, FinishContext, InputStats, Interests, Location, RecordTally, Sink,
    SinkContext, SinkOutput, SinkReport, Written,
};
pub use validate::{
    FileUnderCheck, Finding, FindingCode, NamedValidator, Validator, ValidatorContext,
};

/// Re-exported: plugin constructors take an erased deserializer.
pub use erased_serde;
/// Re-exported so plugin crates need no direct dependency to register themselves.
pub use inventory;
/// Re-exported: records, contexts and reports are JSON values.
pub use serde_json;
/// Re-exported: sinks log through `tracing` like the rest of the exporter.
pub use tracing;
