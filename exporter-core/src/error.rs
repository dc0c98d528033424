//! The error a sink returns when it cannot go on.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

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
    ///
    /// ```
    /// let e = exporter_core::SinkError::new("the schema has no fields");
    /// assert_eq!((e.message(), e.path()), ("the schema has no fields", None));
    /// ```
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
    ///
    /// ```
    /// let e = exporter_core::SinkError::new("disk full").at("out/results.csv");
    /// assert_eq!(e.path().unwrap(), std::path::Path::new("out/results.csv"));
    /// ```
    pub fn at(mut self, path: impl AsRef<Path>) -> Self {
        self.path = Some(path.as_ref().to_path_buf());
        self
    }

    /// The message without the path.
    ///
    /// ```
    /// let e = exporter_core::SinkError::new("disk full").at("results.csv");
    /// assert_eq!(e.message(), "disk full");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The file concerned, if any.
    ///
    /// ```
    /// assert!(exporter_core::SinkError::new("disk full").path().is_none());
    /// ```
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
