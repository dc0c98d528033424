//! # exporter-record-table
//!
//! What every sink that writes records as rows of a Table Schema shares, so that the `csv`
//! and `xlsx` sinks accept, reject, deduplicate and count records alike:
//!
//! - the settings ([`OnInvalid`], [`ExtraFields`], [`OnOverflow`], [`load_schema`],
//!   [`key_fields`]);
//! - the [`RecordGate`]: a record is slotted by the schema, checked, rendered by the sink
//!   ([`TableRow`]), and then written, rejected into the error log (or fails the run), or
//!   skipped as a duplicate; every record counted once in a [`RecordTally`].
//!
//! Keys (dedupe, `unique`) are fingerprints of the cells as written, not of the values: the
//! written cells are what the table holds and its validator compares.

#![forbid(unsafe_code)]

mod gate;
mod settings;

pub use gate::{RecordGate, TableRow, masked_message};
pub use settings::{ExtraFields, OnInvalid, OnOverflow, key_fields, load_schema, load_table};

/// Re-exported: the record accounting the gate keeps.
pub use exporter_core::RecordTally;
