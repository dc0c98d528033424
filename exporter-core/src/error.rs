//! Error types of the library. The binary adds context and maps them to exit codes.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::input::Location;
use crate::manifest::ManifestErrors;
use crate::validate::Finding;

/// A sink could not do its work: an I/O error on a file, or a record it must fail the run on.
///
/// ```
/// let e = exporter_core::SinkError::new("disk full").at("out/results.csv");
/// assert_eq!(e.to_string(), "out/results.csv: disk full");
/// ```
#[derive(Debug)]
pub struct SinkError {
    message: String,
    path: Option<PathBuf>,
    source: Option<io::Error>,
}

impl SinkError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        SinkError {
            message: message.into(),
            path: None,
            source: None,
        }
    }

    /// An I/O error on `path`.
    ///
    /// ```
    /// let io = std::io::Error::other("File too large");
    /// let e = exporter_core::SinkError::io(io, "results.csv");
    /// assert_eq!(e.to_string(), "results.csv: File too large");
    /// ```
    pub fn io(error: io::Error, path: impl AsRef<Path>) -> Self {
        SinkError {
            message: error.to_string(),
            path: Some(path.as_ref().to_path_buf()),
            source: Some(error),
        }
    }

    /// Names the file concerned.
    pub fn at(mut self, path: impl AsRef<Path>) -> Self {
        self.path = Some(path.as_ref().to_path_buf());
        self
    }

    /// The message without the path.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The file concerned, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = crate::redact::redact(&self.message);
        match &self.path {
            Some(p) => write!(f, "{}: {message}", p.display()),
            None => f.write_str(&message),
        }
    }
}

impl std::error::Error for SinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

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
    /// The output directory could not be created or locked.
    #[error("output directory {}: {source}", .dir.display())]
    OutputDir {
        /// The directory.
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
