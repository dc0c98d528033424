//! Why a run failed. The binary adds context and maps these to exit codes.

use std::io;
use std::path::PathBuf;

use exporter_core::{Finding, Location, SinkError};

use crate::manifest::ManifestErrors;

/// A file that failed its validators: where it now lies (`NAME.rejected`) and every finding.
#[derive(Debug)]
pub struct RejectedFile {
    /// The sink that wrote it.
    pub sink: String,
    /// The final path it was meant for (left untouched).
    pub target: PathBuf,
    /// Where the rejected bytes were kept.
    pub kept_at: Option<PathBuf>,
    /// What the validators found.
    pub findings: Vec<Finding>,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The manifest is invalid (every problem found, with locations).
    #[error(transparent)]
    Manifest(#[from] ManifestErrors),
    /// A bad input line under `--strict`.
    #[error("{at}: bad input ({reason}): {detail}")]
    BadInput {
        /// Input and line.
        at: Location,
        /// Stable reason name.
        reason: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// An input could not be read.
    #[error("cannot read input {input}: {source}")]
    Input {
        /// The input's name.
        input: String,
        /// The I/O error.
        source: io::Error,
    },
    /// The source failed (its message names where: a file, a server's URL, passwords masked).
    #[error(transparent)]
    Source(exporter_core::SourceError),
    /// The output directory could not be created or locked.
    #[error("output directory {}: {source}", .dir.display())]
    OutputDir {
        /// The directory.
        dir: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The run's files could not be committed (or an interrupted commit rolled forward); the
    /// journal in the output directory lets the next run finish it.
    #[error("committing the files in {}: {source}", .dir.display())]
    Commit {
        /// The output directory.
        dir: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// A sink failed.
    #[error("sink {sink:?} failed: {error}")]
    Sink {
        /// The sink's name.
        sink: String,
        /// What went wrong.
        error: SinkError,
    },
    /// Files failed validation; nothing was committed.
    #[error("{}", describe_rejected(.0))]
    Validation(Vec<RejectedFile>),
    /// A stop was requested (SIGINT, SIGTERM) before the commit: nothing was committed.
    #[error("interrupted: nothing of this run was committed")]
    Interrupted,
    /// `finish` was already called, or a previous error ended the run.
    #[error("the run has already ended")]
    Finished,
}

fn describe_rejected(files: &[RejectedFile]) -> String {
    let mut s = String::from("validation failed; no file of this run was committed");
    for f in files {
        s.push_str(&format!("\n  sink {:?}: {}", f.sink, f.target.display()));
        if let Some(kept) = &f.kept_at {
            s.push_str(&format!(" (kept as {})", kept.display()));
        }
        for finding in &f.findings {
            s.push_str(&format!("\n    {finding}"));
        }
    }
    s
}
