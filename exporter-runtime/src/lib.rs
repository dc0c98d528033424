//! # exporter-runtime
//!
//! The engine of the campaign exporter: it loads a [`Manifest`], reads the event stream
//! ([`Pipeline::read`]: NDJSON cut into batches, parsed on every core, passwords masked on
//! the way), hands each event to the sinks the manifest names, turns what they reject into
//! error events (so nothing is lost), and at the end validates every file with its
//! validators and commits the run's files as one set, or none.
//!
//! Events come from a [`exporter_core::Source`] ([`Pipeline::read_source`]; the manifest's
//! `[[sources]]`, or the `ndjson` source this crate registers), and a source is told its input
//! is committed only after the commit. [`follow`] keeps reading a stream and commits one
//! generation after another, each with the state the next continues from.
//!
//! Sinks and validators are plugins: they depend on the contract (`exporter-core`), never on
//! this crate, and reach it through the registry. [`Exporter`] is the thread-safe handle an
//! application pushes events through; the `exporter` binary (`exporter-cli`) is a thin layer
//! over [`Pipeline`].
//!
//! ```no_run
//! use exporter_runtime::{Manifest, Pipeline, RunOptions};
//! let manifest = Manifest::load("exporter.toml".as_ref()).unwrap();
//! let mut pipeline = Pipeline::new(&manifest, RunOptions::default()).unwrap();
//! pipeline.read(std::io::BufReader::new(std::io::stdin()), "-").unwrap();
//! let report = pipeline.finish().unwrap();
//! println!("{} sinks", report.sinks.len());
//! ```

#![warn(missing_docs)]
// `unsafe` lives in one module only: the cache hints of `ingest::prefetch`
#![deny(unsafe_code)]

mod commit;
mod error;
mod exporter;
mod follow;
mod ingest;
mod lock;
mod manifest;
mod ndjson;
mod pipeline;

pub use commit::{JOURNAL_FILE, Recovered, recover};
pub use error::{ExportError, RejectedFile};
pub use exporter::Exporter;
pub use follow::{CommitEvery, STATE_DIR, follow, parse_duration};
pub use ingest::{
    BadLine, BadReason, Line, LineReader, ParsedEvent, RAW_LINE_LIMIT, bad_input_event, parse_line,
};
pub use lock::{DirLock, LOCK_FILE};
pub use manifest::{
    COMMON_KEYS, DEFAULT_SOURCE, MAX_FILE_NAME, Manifest, ManifestError, ManifestErrors,
    SOURCE_COMMON_KEYS, SinkRef, SinkSpec, SourceSpec, check_file_name, validator_entry,
};
pub use pipeline::{PUSHED, Pipeline, RunOptions, RunReport, request_stop, stop_requested};
