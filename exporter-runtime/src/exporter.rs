//! The library entry point: a handle many threads push typed events through.

use std::io::BufRead;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::error::ExportError;
use crate::manifest::Manifest;
use crate::pipeline::{Pipeline, RunOptions, RunReport};
use exporter_core::{Campaign, ErrorEvent, Request};

/// A thread-safe, cheaply cloneable handle on a running export: many threads of a campaign
/// push records, requests and errors at once; one calls [`Exporter::finish`].
///
/// ```no_run
/// use exporter_runtime::{Exporter, RunOptions};
/// #[derive(serde::Serialize)]
/// struct Lead { place_id: String, rating: f64 }
/// let exporter = Exporter::from_manifest_path("exporter.toml".as_ref(), RunOptions::default()).unwrap();
/// std::thread::scope(|s| {
///     for t in 0..4 {
///         let exporter = exporter.clone();
///         s.spawn(move || exporter.record(&Lead { place_id: format!("p{t}"), rating: 4.5 }).unwrap());
///     }
/// });
/// let report = exporter.finish().unwrap();
/// ```
#[derive(Clone)]
pub struct Exporter {
    inner: Arc<Mutex<Option<Pipeline>>>,
}

impl Exporter {
    /// Starts a run of `manifest`.
    pub fn new(manifest: &Manifest, opts: RunOptions) -> Result<Exporter, ExportError> {
        let pipeline = Pipeline::new(manifest, opts)?;
        Ok(Exporter {
            inner: Arc::new(Mutex::new(Some(pipeline))),
        })
    }

    /// Loads the manifest at `path` and starts a run.
    pub fn from_manifest_path(path: &Path, opts: RunOptions) -> Result<Exporter, ExportError> {
        Exporter::new(&Manifest::load(path)?, opts)
    }

    /// Starts a run of manifest text; relative paths in it resolve against `base_dir`.
    pub fn from_manifest_str(
        text: &str,
        base_dir: &Path,
        opts: RunOptions,
    ) -> Result<Exporter, ExportError> {
        Exporter::new(&Manifest::parse(text, "<manifest>", base_dir)?, opts)
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Pipeline) -> Result<T, ExportError>,
    ) -> Result<T, ExportError> {
        // A panic in another pushing thread leaves the pipeline consistent between events.
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let pipeline = guard.as_mut().ok_or(ExportError::Finished)?;
        let result = f(pipeline);
        if result.is_err() {
            *guard = None; // a failed sink ends the run; dropping removes staged files
        }
        result
    }

    /// Pushes a record (any `Serialize` value that is a JSON object).
    pub fn record<T: Serialize + ?Sized>(&self, record: &T) -> Result<(), ExportError> {
        self.with(|p| p.record(record))
    }

    /// Pushes request telemetry.
    pub fn request(&self, request: Request) -> Result<(), ExportError> {
        self.with(|p| p.request(request))
    }

    /// Pushes an error event (it reaches the error log like an error line of the stream).
    pub fn error(&self, error: ErrorEvent) -> Result<(), ExportError> {
        self.with(|p| p.error(error))
    }

    /// Pushes campaign facts.
    pub fn campaign(&self, campaign: &Campaign) -> Result<(), ExportError> {
        self.with(|p| p.campaign(campaign))
    }

    /// Reads NDJSON from `reader`.
    pub fn read(&self, reader: impl BufRead + Send, name: &str) -> Result<(), ExportError> {
        self.with(|p| p.read(reader, name))
    }

    /// Finishes the run: validates and commits every file. Later calls on any clone fail with
    /// [`ExportError::Finished`].
    pub fn finish(&self) -> Result<RunReport, ExportError> {
        let pipeline = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        pipeline.ok_or(ExportError::Finished)?.finish()
    }
}
