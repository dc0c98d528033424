//! The `Sink` trait and what a sink sees of the run.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::SinkError;
use crate::event::{Campaign, ErrorEvent, Event, EventKind, Timestamp};
use crate::output::{FileReport, OutputFiles, StagedFile};

/// Where a line came from: the input's name (a path, or `-` for standard input) and the
/// 1-based line number.
///
/// ```
/// let at = exporter_core::Location { input: "events.ndjson".into(), line: 7 };
/// assert_eq!(at.to_string(), "events.ndjson:7");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Input name as given on the command line.
    pub input: String,
    /// 1-based line number.
    pub line: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.input, self.line)
    }
}

/// Counts of what the input held. `lines` counts every line, blank and bad ones included.
///
/// ```
/// let stats = exporter_core::InputStats::default();
/// assert_eq!(stats.lines, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct InputStats {
    /// Input names in the order read.
    pub files: Vec<String>,
    /// Every line read.
    pub lines: u64,
    /// Empty or whitespace-only lines.
    pub blank_lines: u64,
    /// Lines that were bad input.
    pub bad_lines: u64,
    /// Bad lines by reason (`invalid_json`, `missing_field`, ...).
    pub bad_by_reason: BTreeMap<String, u64>,
}

/// Which kinds of event a sink receives.
///
/// ```
/// use exporter_core::{Interests, EventKind};
/// let i = Interests { records: true, ..Interests::NONE };
/// assert!(i.contains(EventKind::Record));
/// assert!(!i.contains(EventKind::Error));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interests {
    /// Campaign events.
    pub campaign: bool,
    /// Records.
    pub records: bool,
    /// Requests.
    pub requests: bool,
    /// Errors: from the stream, bad input, and failures raised by sinks.
    pub errors: bool,
}

impl Interests {
    /// Every kind.
    ///
    /// ```
    /// use exporter_core::{EventKind, Interests};
    /// assert!(Interests::ALL.contains(EventKind::Error));
    /// ```
    pub const ALL: Interests = Interests {
        campaign: true,
        records: true,
        requests: true,
        errors: true,
    };
    /// No kind (a sink that only reports at finish).
    ///
    /// ```
    /// use exporter_core::{EventKind, Interests};
    /// let records = Interests { records: true, ..Interests::NONE };
    /// assert!(records.contains(EventKind::Record) && !records.contains(EventKind::Request));
    /// ```
    pub const NONE: Interests = Interests {
        campaign: false,
        records: false,
        requests: false,
        errors: false,
    };

    /// Whether events of `kind` are wanted.
    ///
    /// ```
    /// use exporter_core::{EventKind, Interests};
    /// assert!(!Interests::NONE.contains(EventKind::Campaign));
    /// ```
    pub fn contains(&self, kind: EventKind) -> bool {
        match kind {
            EventKind::Campaign => self.campaign,
            EventKind::Record => self.records,
            EventKind::Request => self.requests,
            EventKind::Error => self.errors,
        }
    }
}

/// What a sink knows at build time: its name, type and path as the manifest gives them, and
/// the manifest's folder for resolving files it reads (a schema).
///
/// ```
/// let cx = exporter_core::SinkContext::new("results", "csv", "examples", "results.csv");
/// assert_eq!(cx.manifest_file("lead.json"), std::path::Path::new("examples/lead.json"));
/// ```
#[derive(Clone, Debug)]
pub struct SinkContext {
    /// The sink's unique name (`name`, defaulting to its type).
    pub name: String,
    /// The plugin type.
    pub type_name: String,
    /// The folder of the manifest.
    pub manifest_dir: PathBuf,
    /// The sink's `path`, relative to the output directory.
    pub path: PathBuf,
    /// The types of every sink of the manifest, in its order (this one's included): a sink
    /// that could take a [`Handoff`] from another learns here whether one will come.
    pub manifest_sinks: Vec<String>,
}

impl SinkContext {
    /// A context (tests and embedders; the manifest loader makes these).
    ///
    /// ```
    /// let cx = exporter_core::SinkContext::new("results", "csv", "/campaigns/berlin", "results.csv");
    /// assert_eq!((cx.name.as_str(), cx.type_name.as_str()), ("results", "csv"));
    /// ```
    pub fn new(
        name: impl Into<String>,
        type_name: impl Into<String>,
        manifest_dir: impl Into<PathBuf>,
        path: impl Into<PathBuf>,
    ) -> Self {
        SinkContext {
            name: name.into(),
            type_name: type_name.into(),
            manifest_dir: manifest_dir.into(),
            path: path.into(),
            manifest_sinks: Vec::new(),
        }
    }

    /// The context with the types of the manifest's sinks.
    ///
    /// ```
    /// let cx = exporter_core::SinkContext::new("page", "html-report", ".", "report.html")
    ///     .with_manifest_sinks(["proxy-performance", "html-report"]);
    /// assert!(cx.manifest_has("proxy-performance"));
    /// ```
    pub fn with_manifest_sinks<S: Into<String>>(
        mut self,
        types: impl IntoIterator<Item = S>,
    ) -> Self {
        self.manifest_sinks = types.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the manifest has a sink of this type.
    ///
    /// ```
    /// let cx = exporter_core::SinkContext::new("results", "csv", "/campaigns/berlin", "results.csv");
    /// assert!(!cx.manifest_has("proxy-performance")); // no types given
    /// ```
    pub fn manifest_has(&self, type_name: &str) -> bool {
        self.manifest_sinks.iter().any(|t| t == type_name)
    }

    /// Resolves a path written in the manifest against the manifest's folder.
    ///
    /// ```
    /// let cx = exporter_core::SinkContext::new("results", "csv", "/campaigns/berlin", "results.csv");
    /// assert_eq!(cx.manifest_file("lead.schema.json"), std::path::Path::new("/campaigns/berlin/lead.schema.json"));
    /// ```
    pub fn manifest_file(&self, path: impl AsRef<Path>) -> PathBuf {
        self.manifest_dir.join(path)
    }
}

/// Handed to [`Sink::event`]: raise failures, and learn where the event came from.
///
/// ```
/// use exporter_core::{ErrorEvent, EventContext, Location};
/// let at = Location { input: "day1.ndjson".into(), line: 7 };
/// let mut raised = Vec::new();
/// let mut cx = EventContext::collecting(&mut raised, Some(&at));
/// assert_eq!(cx.location().unwrap().to_string(), "day1.ndjson:7");
/// cx.raise(ErrorEvent::new(ErrorEvent::SCHEMA_VIOLATION, "rating: maximum 5"));
/// assert_eq!(raised.len(), 1);
/// ```
pub struct EventContext<'a> {
    pub(crate) raised: &'a mut Vec<ErrorEvent>,
    pub(crate) location: Option<&'a Location>,
}

impl<'a> EventContext<'a> {
    /// A context that collects raised failures into `raised` (for sink unit tests).
    ///
    /// ```
    /// let mut raised = Vec::new();
    /// let mut cx = exporter_core::EventContext::collecting(&mut raised, None);
    /// cx.raise(exporter_core::ErrorEvent::new("SchemaViolation", "rating: maximum 5"));
    /// assert_eq!(raised.len(), 1);
    /// ```
    pub fn collecting(raised: &'a mut Vec<ErrorEvent>, location: Option<&'a Location>) -> Self {
        EventContext { raised, location }
    }

    /// Raises a failure: it becomes an error event for every sink that takes errors (the
    /// error log writes it), and is counted in the summary.
    ///
    /// ```
    /// let mut raised = Vec::new();
    /// let mut cx = exporter_core::EventContext::collecting(&mut raised, None);
    /// cx.raise(exporter_core::ErrorEvent::new("SchemaViolation", "rating: maximum 5"));
    /// assert_eq!(raised[0].kind, "SchemaViolation");
    /// ```
    pub fn raise(&mut self, failure: ErrorEvent) {
        self.raised.push(failure);
    }

    /// The input line the event came from (`None` for events pushed from Rust).
    ///
    /// ```
    /// let mut raised = Vec::new();
    /// assert!(exporter_core::EventContext::collecting(&mut raised, None).location().is_none());
    /// ```
    pub fn location(&self) -> Option<&Location> {
        self.location
    }
}

/// Counts of events seen by the pipeline.
///
/// ```
/// let c = exporter_core::EventCounts::default();
/// assert_eq!(c.records, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct EventCounts {
    /// Campaign events.
    pub campaign: u64,
    /// Record events (with an object `data`).
    pub records: u64,
    /// Request events.
    pub requests: u64,
    /// Error events from the stream or pushed by the application.
    pub errors: u64,
    /// Failures raised inside the run (bad input, rejected records), by kind.
    pub raised: BTreeMap<String, u64>,
}

/// Record accounting of a sink that writes records: `received = written + rejected +
/// duplicates` always holds.
///
/// ```
/// let t = exporter_core::RecordTally { received: 3, written: 1, rejected: 1, duplicates: 1, ..Default::default() };
/// assert!(t.balanced());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct RecordTally {
    /// Records received.
    pub received: u64,
    /// Records written.
    pub written: u64,
    /// Records rejected (schema violations, overflow).
    pub rejected: u64,
    /// Records skipped as duplicates.
    pub duplicates: u64,
    /// Rejections by rule (`required`, `maximum`, ...).
    pub rejected_by_rule: BTreeMap<String, u64>,
    /// Record fields absent from the schema (ignored or rejected per config).
    pub extra_fields: u64,
    /// Cells that got the formula guard.
    pub guarded_cells: u64,
    /// Cells cut at the cell limit.
    pub truncated_cells: u64,
    /// Files written.
    pub files: u64,
}

impl RecordTally {
    /// Whether the accounting identity holds.
    ///
    /// ```
    /// let t = exporter_core::RecordTally { received: 3, written: 1, ..Default::default() };
    /// assert!(!t.balanced()); // two records unaccounted for
    /// ```
    pub fn balanced(&self) -> bool {
        self.received == self.written + self.rejected + self.duplicates
    }
}

/// A file a sink hands back at finish.
///
/// ```
/// use exporter_core::{Fsync, OutputFiles, SinkOutput, Written};
/// let dir = tempfile::tempdir().unwrap();
/// let files = OutputFiles::new(dir.path(), "results", Fsync::Never, false);
/// let out = SinkOutput::staged(vec![files.stage("results.csv").unwrap()]);
/// assert!(matches!(out.files[..], [Written::Staged(_)]));
/// ```
pub enum Written {
    /// A staged file: the pipeline flushes, validates and commits it.
    Staged(StagedFile),
    /// An append file, already reported (its rows are durable as written).
    Appended(FileReport),
}

/// What a sink hands back at finish.
///
/// ```
/// use exporter_core::{RecordTally, SinkOutput};
/// let tally = RecordTally { received: 2, written: 1, duplicates: 1, ..Default::default() };
/// let mut out = SinkOutput::default().with_records(tally);
/// out.details.insert("skipped_columns".into(), 0.into());
/// assert!(out.records.as_ref().unwrap().balanced());
/// ```
#[derive(Default)]
pub struct SinkOutput {
    /// Its files.
    pub files: Vec<Written>,
    /// Its record accounting: required of a sink [interested](Interests) in records (the
    /// pipeline refuses a run whose sink takes records and does not account for them, or whose
    /// tally does not balance).
    pub records: Option<RecordTally>,
    /// Anything else worth reporting (counts of its own), shown in the summary.
    pub details: Map<String, Value>,
    /// A value for the sinks that run after this one (see [`Handoff`]).
    pub handoff: Option<Handoff>,
    /// In a run that [follows](Sink::follow) a stream: what the sink needs to continue at
    /// the next generation (its totals, the keys it has seen), in an encoding of its own. It
    /// is committed with the generation's files and handed back to [`Sink::follow`].
    pub state: Option<Vec<u8>>,
}

/// A value a sink hands, at finish, to the sinks that [run last](Sink::runs_last): they find
/// it in [`FinishContext::outputs`] and take it by type. It spares a later sink a second
/// aggregation of what an earlier one already holds (the `html-report` page takes the
/// `proxy-performance` sink's per-proxy statistics). Never serialized.
///
/// ```
/// let h = exporter_core::Handoff::new(42u32);
/// assert_eq!(h.get::<u32>(), Some(&42));
/// assert_eq!(h.get::<String>(), None);
/// ```
#[derive(Clone)]
pub struct Handoff(std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl Handoff {
    /// Wraps a value.
    ///
    /// ```
    /// let h = exporter_core::Handoff::new(vec![1u64, 2]);
    /// assert_eq!(h.get::<Vec<u64>>().unwrap().len(), 2);
    /// ```
    pub fn new<T: std::any::Any + Send + Sync>(value: T) -> Self {
        Handoff(std::sync::Arc::new(value))
    }

    /// The value, if it is a `T`.
    ///
    /// ```
    /// let h = exporter_core::Handoff::new("text");
    /// assert_eq!(h.get::<&str>(), Some(&"text"));
    /// assert!(h.get::<String>().is_none()); // by exact type
    /// ```
    pub fn get<T: std::any::Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

impl std::fmt::Debug for Handoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handoff(..)")
    }
}

impl SinkOutput {
    /// An output of staged files only.
    ///
    /// ```
    /// let out = exporter_core::SinkOutput::staged(Vec::new());
    /// assert!(out.files.is_empty());
    /// ```
    pub fn staged(files: Vec<StagedFile>) -> Self {
        SinkOutput {
            files: files.into_iter().map(Written::Staged).collect(),
            ..Default::default()
        }
    }

    /// The output with its record accounting.
    ///
    /// ```
    /// use exporter_core::{RecordTally, SinkOutput};
    /// let tally = RecordTally { received: 2, written: 2, ..Default::default() };
    /// let out = SinkOutput::staged(Vec::new()).with_records(tally);
    /// assert_eq!(out.records.unwrap().written, 2);
    /// ```
    pub fn with_records(mut self, tally: RecordTally) -> Self {
        self.records = Some(tally);
        self
    }

    /// The output with the state to carry into the next generation of a followed stream.
    ///
    /// ```
    /// let out = exporter_core::SinkOutput::staged(Vec::new()).with_state(b"{}".to_vec());
    /// assert_eq!(out.state.as_deref(), Some(&b"{}"[..]));
    /// ```
    pub fn with_state(mut self, state: Vec<u8>) -> Self {
        self.state = Some(state);
        self
    }
}

/// Reads a state a sink saved as JSON ([`SinkOutput::state`]) when it [follows](Sink::follow)
/// a stream again.
///
/// ```
/// let totals: Vec<u64> = exporter_core::read_state(b"[1,2]").unwrap();
/// assert_eq!(totals, [1, 2]);
/// assert!(exporter_core::read_state::<Vec<u64>>(b"{").is_err());
/// ```
pub fn read_state<T: serde::de::DeserializeOwned>(saved: &[u8]) -> Result<T, SinkError> {
    serde_json::from_slice(saved)
        .map_err(|e| SinkError::new(format!("its saved state is damaged: {e}")))
}

/// A finished sink as the summary sees it.
///
/// ```
/// let report = exporter_core::SinkReport {
///     name: "results".into(),
///     type_name: "csv".into(),
///     files: Vec::new(),
///     records: None,
///     details: Default::default(),
///     handoff: None,
/// };
/// let json = exporter_core::serde_json::to_value(&report).unwrap();
/// assert_eq!(json["type"], "csv");
/// assert!(json.get("records").is_none()); // left out when absent
/// ```
#[derive(Clone, Debug, Serialize)]
pub struct SinkReport {
    /// The sink's name.
    pub name: String,
    /// Its plugin type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its files (paths relative to the output directory).
    pub files: Vec<FileReport>,
    /// Its record accounting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<RecordTally>,
    /// Its other counts.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub details: Map<String, Value>,
    /// What it handed to the sinks that run after it.
    #[serde(skip)]
    pub handoff: Option<Handoff>,
}

/// The generator named in reports.
///
/// ```
/// assert_eq!(exporter_core::generator()["name"], exporter_core::GENERATOR_NAME);
/// ```
pub const GENERATOR_NAME: &str = "campaign-exporter";

/// What a sink sees at finish.
///
/// ```
/// use exporter_core::{Campaign, EventCounts, FinishContext, InputStats, Timestamp};
/// let (campaign, input, events) = (Campaign::default(), InputStats::default(), EventCounts::default());
/// let cx = FinishContext {
///     campaign: &campaign,
///     input: &input,
///     events: &events,
///     outputs: &[],
///     generated_at: Timestamp::from_unix_seconds(0).unwrap(),
///     reproducible: true,
///     out_dir: std::path::Path::new("out"),
/// };
/// assert_eq!(cx.generator()["name"], "campaign-exporter");
/// ```
pub struct FinishContext<'a> {
    /// The campaign: manifest defaults overridden by campaign events.
    pub campaign: &'a Campaign,
    /// What the input held.
    pub input: &'a InputStats,
    /// Events seen.
    pub events: &'a EventCounts,
    /// Reports of the sinks that finished before this one (all others, for a sink that
    /// [runs last](Sink::runs_last)); their files are validated but not yet committed.
    pub outputs: &'a [SinkReport],
    /// The time to print as `generated_at` (honours `SOURCE_DATE_EPOCH`).
    pub generated_at: Timestamp,
    /// Whether reports must be byte-reproducible (`SOURCE_DATE_EPOCH` is set): timings such
    /// as `write_ms` are then written as 0.
    pub reproducible: bool,
    /// The output directory.
    pub out_dir: &'a Path,
}

impl FinishContext<'_> {
    /// The `generator` object reports carry: name and version of the exporter.
    ///
    /// ```
    /// let g = exporter_core::generator();
    /// assert_eq!(g["name"], "campaign-exporter");
    /// ```
    pub fn generator(&self) -> Value {
        generator()
    }
}

/// The `generator` object: name and version.
///
/// ```
/// let g = exporter_core::generator();
/// assert_eq!(g["version"], env!("CARGO_PKG_VERSION"));
/// ```
pub fn generator() -> Value {
    serde_json::json!({"name": GENERATOR_NAME, "version": env!("CARGO_PKG_VERSION")})
}

/// An output.
///
/// Lifecycle, in order:
/// 1. **build**: the plugin's constructor ([`crate::SinkPlugin::build`]) deserializes its typed
///    config and checks it, with no side effect on the outputs (so `exporter validate` can run
///    it);
/// 2. **open**: [`Sink::open`] creates its files through [`OutputFiles`] (staged, or append);
/// 3. **event**: [`Sink::event`] receives every event of the kinds in [`Sink::interests`], in
///    stream order; a problem with one event (a record that breaks the schema) is *raised*
///    through [`EventContext::raise`] and becomes an error event for every sink that takes
///    errors, so nothing is lost;
/// 4. **finish**: [`Sink::finish`] hands back its files and counts; the pipeline validates and
///    commits the files. Sinks with [`Sink::runs_last`] finish after all others and see their
///    reports (the campaign summary).
///
/// Every sink MUST report the files it wrote (rows, bytes and duration come from
/// [`StagedFile`]/[`AppendFile`](crate::AppendFile) themselves) and MUST NOT write outside [`OutputFiles`].
///
/// A sink that counts records into `count.txt`, taken through its lifecycle by hand (the
/// runtime also validates each file before it commits the set; `docs/plugins.md` registers a
/// whole plugin):
///
/// ```
/// use std::io::Write;
/// use exporter_core::{
///     Campaign, Event, EventContext, EventCounts, FinishContext, Fsync, InputStats, Interests,
///     JsonObject, OutputFiles, Record, RecordTally, Sink, SinkError, SinkOutput, StagedFile,
///     Timestamp, Written,
/// };
///
/// struct Count {
///     n: u64,
///     file: Option<StagedFile>,
/// }
///
/// impl Sink for Count {
///     fn interests(&self) -> Interests {
///         Interests { records: true, ..Interests::NONE }
///     }
///     fn open(&mut self, files: &OutputFiles) -> Result<(), SinkError> {
///         self.file = Some(files.stage("count.txt")?);
///         Ok(())
///     }
///     fn event(&mut self, _: &Event<'_>, _: &mut EventContext<'_>) -> Result<(), SinkError> {
///         self.n += 1;
///         Ok(())
///     }
///     fn finish(mut self: Box<Self>, _: &FinishContext<'_>) -> Result<SinkOutput, SinkError> {
///         let mut file = self.file.take().expect("opened");
///         writeln!(file, "{}", self.n).map_err(|e| SinkError::io(e, "count.txt"))?;
///         let tally = RecordTally { received: self.n, written: self.n, ..Default::default() };
///         Ok(SinkOutput::staged(vec![file]).with_records(tally))
///     }
/// }
///
/// let dir = tempfile::tempdir().unwrap();
/// let mut sink: Box<dyn Sink> = Box::new(Count { n: 0, file: None });
/// sink.open(&OutputFiles::new(dir.path(), "count", Fsync::Never, false)).unwrap();
/// let data = JsonObject::parse(r#"{"id": 1}"#).unwrap();
/// let mut raised = Vec::new();
/// let mut cx = EventContext::collecting(&mut raised, None);
/// sink.event(&Event::Record(Record::new(&data)), &mut cx).unwrap();
/// let (campaign, input, events) = (Campaign::default(), InputStats::default(), EventCounts::default());
/// let out = sink
///     .finish(&FinishContext {
///         campaign: &campaign,
///         input: &input,
///         events: &events,
///         outputs: &[],
///         generated_at: Timestamp::now(),
///         reproducible: false,
///         out_dir: dir.path(),
///     })
///     .unwrap();
/// assert!(out.records.as_ref().unwrap().balanced());
/// for written in out.files {
///     let Written::Staged(file) = written else { unreachable!() };
///     file.finish().unwrap().commit().unwrap();
/// }
/// assert_eq!(std::fs::read_to_string(dir.path().join("count.txt")).unwrap(), "1\n");
/// ```
pub trait Sink: Send {
    /// The kinds of event to receive.
    fn interests(&self) -> Interests;

    /// Whether to finish after every other sink and see their reports.
    fn runs_last(&self) -> bool {
        false
    }

    /// Creates the sink's files.
    fn open(&mut self, files: &OutputFiles) -> Result<(), SinkError>;

    /// Handles one event.
    fn event(&mut self, event: &Event<'_>, cx: &mut EventContext<'_>) -> Result<(), SinkError>;

    /// Hands back files and counts.
    fn finish(self: Box<Self>, cx: &FinishContext<'_>) -> Result<SinkOutput, SinkError>;

    /// Joins a run that follows a stream (`exporter run --follow`), called before
    /// [`Sink::open`]: the run commits a new *generation* of the deliverables now and then,
    /// each with a fresh instance of the sink. `saved` is the
    /// [state](SinkOutput::state) the sink returned at the previous commit, `None` when the
    /// stream has none yet: the sink then returns its state as things stand before the first
    /// event (an appended log's length), which the run commits before it reads anything.
    ///
    /// A sink that can follow writes each generation's files so that the committed ones stay
    /// valid (numbered parts, a report rewritten from its totals, an appended log) and returns
    /// its state from [`Sink::finish`]; the default refuses, and the run does not start.
    fn follow(
        &mut self,
        saved: Option<&[u8]>,
        files: &OutputFiles,
    ) -> Result<Option<Vec<u8>>, SinkError> {
        let _ = (saved, files);
        Err(SinkError::new(
            "this sink cannot follow a stream: it keeps no state from one commit to the next",
        ))
    }
}
