//! # exporter-core
//!
//! The contract between the campaign exporter and its plugins: what a sink or a validator is,
//! what it receives and what it must report. A plugin crate depends on this crate (and on the
//! leaf libraries it uses), never on the engine that runs it (`exporter-runtime`).
//!
//! - the event model: [`Event`] (campaign facts, records (one form: a [`Record`] view of a
//!   [`JsonObject`]), requests, errors), as sinks receive them;
//! - [`Sink`] and its lifecycle (build, open, event, finish), [`Validator`] and its
//!   [`Finding`]s;
//! - the plugin registry: `'static` descriptors ([`SinkPlugin`], [`ValidatorPlugin`])
//!   registered with [`inventory::submit!`], from which everything user-facing about plugins is
//!   generated;
//! - the output files a sink may write ([`OutputFiles`]): [staged](StagedFile) and committed as
//!   a set, or [appended](AppendFile) across runs, each measured (rows, bytes, SHA-256) by the
//!   file itself ([`FileReport`]);
//! - [`Source`]s, where events come from: NDJSON files, or messages from a server that are
//!   acknowledged only once committed outputs hold them;
//! - [redaction](redact) of proxy passwords, applied before a sink sees an event.
//!
//! Everything public is here at the crate's root; the modules behind it are private.
//!
//! `ARCHITECTURE.md` draws the layers; `docs/plugins.md` walks through
//! writing a plugin; `docs/contract.md` is the format contract the code refers to.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod clock;
mod error;
mod event;
mod output;
mod redact;
mod registry;
mod sink;
mod source;
mod validate;

pub use clock::{
    now, parse_source_date_epoch, run_timestamp, run_timestamp_from, source_date_epoch,
};
pub use error::SinkError;
pub use event::{
    Campaign, ErrorEvent, Event, EventKind, JsonObject, Record, Request, Severity, Timestamp,
};
pub use output::{
    AppendFile, FileReport, Follower, Fsync, GrowingFile, OutputFiles, PendingFile, StagedFile,
    check_inside, digest, normalize, numbered_part_path, part_number, part_path, stale_parts,
    sync_dir, sync_file,
};
pub use redact::{
    MASK, has_password, redact, redact_address, redact_address_in_place, redact_in_place,
    redact_json, redact_then_cut,
};
pub use registry::{
    BuildError, BuildSink, BuildSource, OptionDoc, SinkPlugin, SourcePlugin, ValidatorPlugin,
    check_unique_names, closest, config, no_options, sink_plugin, sink_plugins, source_plugin,
    source_plugins, validator_plugin, validator_plugins,
};
pub use sink::{
    EventContext, EventCounts, FinishContext, GENERATOR_NAME, Handoff, InputStats, Interests,
    Location, RecordTally, Sink, SinkContext, SinkOutput, SinkReport, Written, generator,
    read_state,
};
pub use source::{Input, Message, MessageBatch, Source, SourceContext, SourceError};
pub use validate::{
    Exists, FileUnderCheck, Finding, FindingCode, FindingList, MAX_LISTED_FINDINGS, NamedValidator,
    Validator, ValidatorContext,
};

/// Re-exported: plugin constructors take an erased deserializer.
pub use erased_serde;
/// Re-exported so plugin crates need no direct dependency to register themselves.
pub use inventory;
/// Re-exported: records, contexts and reports are JSON values.
pub use serde_json;
/// Re-exported: sinks log through `tracing` like the rest of the exporter.
pub use tracing;
