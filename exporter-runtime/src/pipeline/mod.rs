//! The pipeline: builds the sinks of a manifest, routes events to them, turns failures they
//! raise into error events, and at the end validates and commits every file together
//! (`finish`); a followed stream's generations resume from the saved state (`resume`).

mod finish;
mod resume;

use resume::resume_following;

use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::ExportError;
use crate::ingest::parallel::{BadItem, Item, prepare, redact_event};
use crate::ingest::{BadLine, BadReason, ParsedEvent, Spares, bad_input_event};
use crate::lock::DirLock;
use crate::manifest::{Manifest, SinkSpec};
use exporter_core::NamedValidator;
use exporter_core::SinkError;
use exporter_core::{Campaign, ErrorEvent, Event, JsonObject, Record, Request, Timestamp};
use exporter_core::{EventContext, EventCounts, Interests, Sink, SinkReport};
use exporter_core::{FileReport, OutputFiles};
use exporter_core::{Input, MessageBatch, Source, SourceError};
use exporter_core::{InputStats, Location};

/// How long a source is asked to wait for input before the run checks its clock again.
pub(crate) const POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// Settings of one run that do not come from the manifest.
///
/// ```
/// let opts = exporter_runtime::RunOptions { strict: true, ..Default::default() };
/// assert!(opts.campaign_id.is_none());
/// ```
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Overrides `[campaign].id` (also in `{campaign_id}` of the output directory).
    pub campaign_id: Option<String>,
    /// Overrides the manifest's output directory.
    pub out_dir: Option<PathBuf>,
    /// Fail on the first bad input line instead of routing it to the error log.
    pub strict: bool,
    /// `generated_at` and `{date}`; defaults to [`exporter_core::run_timestamp`](exporter_core::run_timestamp).
    pub now: Timestamp,
    /// Byte-reproducible reports: timings in files are written as 0. Defaults to whether
    /// `SOURCE_DATE_EPOCH` is set.
    pub reproducible: bool,
    /// When another run holds the output directory: wait for it (the default), or fail at
    /// once.
    pub wait_for_lock: bool,
    /// Follow a stream: this run is the next *generation* of the output directory's
    /// deliverables, continuing from the state its last commit saved (see
    /// [`Pipeline::commit_generation`]).
    pub follow: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            campaign_id: None,
            out_dir: None,
            strict: false,
            now: exporter_core::run_timestamp(),
            reproducible: std::env::var_os("SOURCE_DATE_EPOCH").is_some(),
            wait_for_lock: true,
            follow: false,
        }
    }
}

/// What a finished run did.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// The campaign as finally known.
    pub campaign: Campaign,
    /// The output directory.
    pub out_dir: PathBuf,
    /// What the input held.
    pub input: InputStats,
    /// Events seen.
    pub events: EventCounts,
    /// Every sink's files and counts, in manifest order.
    pub sinks: Vec<SinkReport>,
}

struct Slot {
    spec: SinkSpec,
    sink: Box<dyn Sink>,
    interests: Interests,
    files: OutputFiles,
    validators: Vec<NamedValidator>,
}

/// The engine: sinks are driven from one thread (reading parses on the others).
/// [`Exporter`] wraps it for use from many threads.
///
/// ```no_run
/// use exporter_runtime::{Manifest, Pipeline, RunOptions};
/// let manifest = Manifest::load("exporter.toml".as_ref()).unwrap();
/// let mut pipeline = Pipeline::new(&manifest, RunOptions::default()).unwrap();
/// pipeline.read(std::io::BufReader::new(std::io::stdin()), "-").unwrap();
/// let report = pipeline.finish().unwrap();
/// println!("{} sinks", report.sinks.len());
/// ```
pub struct Pipeline {
    slots: Vec<Slot>,
    campaign: Campaign,
    input: InputStats,
    events: EventCounts,
    strict: bool,
    out_dir: PathBuf,
    now: Timestamp,
    reproducible: bool,
    raised: Vec<ErrorEvent>,
    warned_unrouted: bool,
    /// Events [`Pipeline::push_line`] is done with, filled again by the next line.
    spares: Spares,
    /// Records pushed from Rust so far, and the storage they are written into.
    pushed: u64,
    push_text: Vec<u8>,
    push_record: JsonObject,
    /// Following a stream: the generation this run is, and where the source stood at the
    /// last commit.
    following: Option<Following>,
    /// The output directory's lock, released when the run ends.
    _lock: DirLock,
}

#[derive(Clone, Debug)]
struct Following {
    generation: u64,
    position: Option<serde_json::Value>,
    /// The parts committed by earlier generations, by sink.
    parts: std::collections::BTreeMap<String, Vec<FileReport>>,
}

static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Asks every run of this process to stop: a run still reading ends at its next batch with
/// [`ExportError::Interrupted`], committing nothing; a run already committing finishes its
/// commit (a set is never left half committed). Async-signal-safe (it only stores a flag), so
/// a SIGINT or SIGTERM handler can call it; the `exporter` binary does.
///
/// ```
/// assert!(!exporter_runtime::stop_requested());
/// ```
pub fn request_stop() {
    STOP.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Whether [`request_stop`] was called.
pub fn stop_requested() -> bool {
    STOP.load(std::sync::atomic::Ordering::SeqCst)
}

/// The input name of records pushed from Rust ([`Pipeline::record`]), in locations.
pub const PUSHED: &str = "<pushed>";

/// How deep failures raised while handling failures may nest before the run is stopped.
const MAX_RAISE_DEPTH: usize = 4;

impl Pipeline {
    /// Builds and opens every sink of `manifest`.
    pub fn new(manifest: &Manifest, opts: RunOptions) -> Result<Pipeline, ExportError> {
        exporter_core::check_unique_names().map_err(|m| ExportError::Sink {
            sink: "registry".into(),
            error: SinkError::new(m),
        })?;
        let out_dir = match &opts.out_dir {
            Some(d) => d.clone(),
            None => manifest.output_dir(opts.campaign_id.as_deref(), opts.now)?,
        };
        let mut campaign = manifest.campaign.clone();
        if opts.campaign_id.is_some() {
            campaign.id.clone_from(&opts.campaign_id);
        }
        campaign.redact();
        let dir_error = |source| ExportError::OutputDir {
            dir: out_dir.clone(),
            source,
        };
        std::fs::create_dir_all(&out_dir).map_err(dir_error)?;
        // held until the run's files are committed (or given up): one run at a time
        let lock = DirLock::acquire(&out_dir, opts.wait_for_lock).map_err(dir_error)?;
        // a commit a crash interrupted is finished before anything else is written here
        crate::commit::recover(&out_dir).map_err(|source| ExportError::Commit {
            dir: out_dir.clone(),
            source,
        })?;
        let mut slots = Vec::with_capacity(manifest.sinks.len());
        for spec in &manifest.sinks {
            let sink = manifest.build_sink(spec)?;
            let validators =
                spec.validators(&manifest.base_dir)
                    .map_err(|m| ExportError::Sink {
                        sink: spec.name.clone(),
                        error: SinkError::new(m),
                    })?;
            let files =
                OutputFiles::new(&out_dir, spec.name.clone(), spec.fsync, spec.allow_outside)
                    .followed_by(&validators);
            slots.push(Slot {
                interests: sink.interests(),
                spec: spec.clone(),
                sink,
                files,
                validators,
            });
        }
        let mut input = InputStats::default();
        let mut events = EventCounts::default();
        let following = if opts.follow {
            Some(resume_following(
                &out_dir,
                &mut slots,
                &mut campaign,
                &mut input,
                &mut events,
            )?)
        } else {
            None
        };
        for slot in &mut slots {
            slot.sink
                .open(&slot.files)
                .map_err(|error| ExportError::Sink {
                    sink: slot.spec.name.clone(),
                    error,
                })?;
        }
        tracing::info!(out_dir = %out_dir.display(), sinks = slots.len(), "pipeline open");
        let mut pipeline = Pipeline {
            slots,
            campaign,
            input,
            events,
            strict: opts.strict,
            out_dir,
            now: opts.now,
            reproducible: opts.reproducible,
            raised: Vec::new(),
            warned_unrouted: false,
            spares: Spares::keeping(1),
            pushed: 0,
            push_text: Vec::new(),
            push_record: JsonObject::spare(),
            following,
            _lock: lock,
        };
        if pipeline.generation().is_some_and(|g| g > 1) {
            // a generation continues the campaign the stream named before: the sinks that
            // write its id (the error log's rows) learn it again, without counting an event
            let known = pipeline.campaign.clone();
            pipeline.dispatch(Event::Campaign(&known), None)?;
        }
        Ok(pipeline)
    }

    /// Following a stream: the generation this run commits (1 for the first).
    pub fn generation(&self) -> Option<u64> {
        self.following.as_ref().map(|f| f.generation)
    }

    /// Following a stream: where the source stood at the last commit (give it to
    /// [`Source::resume`]).
    pub fn saved_position(&self) -> Option<&serde_json::Value> {
        self.following.as_ref().and_then(|f| f.position.as_ref())
    }

    /// Input lines (and messages) read so far; following a stream, the earlier generations'
    /// included.
    pub fn lines_read(&self) -> u64 {
        self.input.lines
    }

    /// The output directory of this run.
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// Reads an NDJSON input to its end. `name` is how errors and the summary call it.
    pub fn read(&mut self, reader: impl BufRead + Send, name: &str) -> Result<(), ExportError> {
        self.read_with_progress(reader, name, |_| {})
    }

    /// [`Pipeline::read`], calling `progress` with the bytes consumed so far now and then.
    ///
    /// Two threads share the work: one reads and parses lines in batches, this one hands the
    /// parsed events to the sinks, so parsing and writing overlap on two cores. The batches in
    /// flight are bounded, so memory stays flat whatever the input's size.
    pub fn read_with_progress(
        &mut self,
        reader: impl BufRead + Send,
        name: &str,
        mut progress: impl FnMut(u64),
    ) -> Result<(), ExportError> {
        self.input.files.push(name.to_string());
        let mut at = Location {
            input: name.to_string(),
            line: 0,
        };
        crate::ingest::parallel::read_parallel(reader, name, |lines, bytes_read| {
            if stop_requested() {
                return Err(ExportError::Interrupted);
            }
            for (i, parsed) in lines.iter().enumerate() {
                // see `prefetch`: boxes 8 lines ahead, what they point to 4 lines ahead
                if let Some(ahead) = lines.get(i + 8) {
                    crate::ingest::prefetch::boxes(&ahead.item);
                }
                if let Some(ahead) = lines.get(i + 4) {
                    crate::ingest::prefetch::contents(&ahead.item);
                }
                at.line = parsed.line;
                self.push_item(&parsed.item, &at)?;
            }
            progress(bytes_read);
            Ok(())
        })
    }

    /// Reads everything `source` hands out: to its end, or, for a source that never ends (a
    /// message stream), until nothing new arrived for `until_idle`. `progress` is called
    /// with the bytes of streams read so far, now and then. The source is not told anything
    /// is committed: call [`Source::committed`] after [`Pipeline::finish`].
    pub fn read_source(
        &mut self,
        source: &mut dyn Source,
        until_idle: Option<std::time::Duration>,
        mut progress: impl FnMut(u64),
    ) -> Result<(), ExportError> {
        if source.endless() && until_idle.is_none() {
            return Err(ExportError::Source(SourceError::new(
                "the source is a message stream, which never ends by itself: run with `--until-idle DURATION` (drain it, then commit) or `--follow` (commit periodically)",
            )));
        }
        source.start().map_err(ExportError::Source)?;
        let mut last_input = std::time::Instant::now();
        let mut done = 0u64;
        // what the source cost: time waiting for it, batches and messages it gave
        let (mut waited, mut batches, mut messages) = (std::time::Duration::ZERO, 0u64, 0u64);
        let log = |waited: std::time::Duration, batches, messages| {
            tracing::info!(
                waited_ms = waited.as_secs_f64() * 1000.0,
                batches,
                messages,
                "source read"
            );
        };
        loop {
            if stop_requested() {
                return Err(ExportError::Interrupted);
            }
            let wait = until_idle.map_or(POLL, |idle| {
                POLL.min(idle.saturating_sub(last_input.elapsed()))
                    .max(std::time::Duration::from_millis(1))
            });
            let asked = std::time::Instant::now();
            let next = source.next(wait).map_err(ExportError::Source)?;
            waited += asked.elapsed();
            match next {
                None => {
                    log(waited, batches, messages);
                    return Ok(());
                }
                Some(Input::Stream { name, reader }) => {
                    let base = done;
                    self.read_with_progress(reader, &name, |n| {
                        done = base + n;
                        progress(done);
                    })?;
                }
                Some(Input::Messages(batch)) if batch.is_empty() => {
                    if until_idle.is_some_and(|idle| last_input.elapsed() >= idle) {
                        log(waited, batches, messages);
                        return Ok(());
                    }
                }
                Some(Input::Messages(batch)) => {
                    batches += 1;
                    messages += batch.len() as u64;
                    self.push_messages(batch)?;
                    last_input = std::time::Instant::now();
                }
            }
        }
    }

    /// Handles a batch of messages, each one event located as `stream:number`; a bad one's
    /// error-log row also names its subject.
    pub fn push_messages(&mut self, batch: &MessageBatch) -> Result<(), ExportError> {
        if !self.input.files.iter().any(|f| f == batch.name()) {
            self.input.files.push(batch.name().to_string());
        }
        let mut at = Location {
            input: batch.name().to_string(),
            line: 0,
        };
        for m in batch.iter() {
            at.line = m.number;
            // one event per message; a publisher that kept the line feed is forgiven it
            let payload = m.payload.strip_suffix(b"\n").unwrap_or(m.payload);
            let mut item = prepare(payload, m.number, &at.input, &mut self.spares);
            if let Item::Bad(bad) = &mut item
                && let Some(serde_json::Value::Object(context)) = &mut bad.failure.context
            {
                context.insert("subject".into(), m.subject.into());
            }
            let pushed = self.push_item(&item, &at);
            if let Item::Event(event) = item {
                self.spares.keep(event);
            }
            pushed?;
        }
        Ok(())
    }

    /// Handles one input line (without its line ending).
    pub fn push_line(&mut self, raw: &[u8], at: &Location) -> Result<(), ExportError> {
        let item = prepare(raw, at.line, &at.input, &mut self.spares);
        let pushed = self.push_item(&item, at);
        if let Item::Event(event) = item {
            self.spares.keep(event);
        }
        pushed
    }

    fn push_item(&mut self, item: &Item, at: &Location) -> Result<(), ExportError> {
        self.input.lines += 1;
        match item {
            Item::Blank => {
                self.input.blank_lines += 1;
                Ok(())
            }
            Item::Event(ParsedEvent::Campaign(c)) => self.campaign(c),
            Item::Event(ParsedEvent::Record(data)) => {
                self.dispatch_record(Record::new(data), Some(at))
            }
            Item::Event(ParsedEvent::Request(r)) => {
                self.events.requests += 1;
                self.dispatch(Event::Request(r), None)
            }
            Item::Event(ParsedEvent::Error(e)) => {
                self.events.errors += 1;
                self.dispatch(Event::Error(e), None)
            }
            Item::Bad(bad) => self.bad_input(bad, at),
        }
    }

    /// Counts a bad input line (or pushed record) and routes its failure to the error log;
    /// under `--strict`, ends the run.
    fn bad_input(&mut self, bad: &BadItem, at: &Location) -> Result<(), ExportError> {
        let BadItem {
            reason,
            detail,
            failure,
        } = bad;
        self.input.bad_lines += 1;
        *self
            .input
            .bad_by_reason
            .entry(reason.to_string())
            .or_default() += 1;
        if self.strict {
            return Err(ExportError::BadInput {
                at: at.clone(),
                reason,
                detail: detail.clone(),
            });
        }
        self.raised.push(failure.clone());
        self.drain_raised()
    }

    /// Merges campaign facts and tells the sinks that want to know.
    pub fn campaign(&mut self, update: &Campaign) -> Result<(), ExportError> {
        self.events.campaign += 1;
        let mut update = update.clone();
        update.redact();
        self.campaign.update(&update);
        let merged = self.campaign.clone();
        self.dispatch(Event::Campaign(&merged), None)
    }

    /// Pushes a record: any `Serialize` value that is a JSON object (a struct, a map), written
    /// once as JSON into the form every record takes. A value that is no object is bad input
    /// (`not_an_object`), like such a line in a stream, located as `<pushed>:N`.
    pub fn record<T: Serialize + ?Sized>(&mut self, record: &T) -> Result<(), ExportError> {
        self.pushed += 1;
        let at = Location {
            input: PUSHED.to_string(),
            line: self.pushed,
        };
        self.push_text.clear();
        let bad = match serde_json::to_writer(&mut self.push_text, record) {
            Err(e) => BadLine {
                reason: BadReason::WrongType,
                detail: format!("the record cannot be written as JSON: {e}"),
            },
            Ok(()) => {
                let text = std::str::from_utf8(&self.push_text).expect("serde_json writes UTF-8");
                if self.push_record.fill_from(text) {
                    let data = std::mem::replace(&mut self.push_record, JsonObject::spare());
                    let done = self.dispatch_record(Record::new(&data), Some(&at));
                    self.push_record = data;
                    return done;
                }
                // what the cursor leaves (nesting deeper than it reads) serde_json decides
                match JsonObject::parse(text) {
                    Ok(data) => return self.dispatch_record(Record::new(&data), Some(&at)),
                    Err(e) if text.starts_with('{') => BadLine {
                        reason: BadReason::InvalidJson,
                        detail: e,
                    },
                    Err(_) => BadLine {
                        reason: BadReason::NotAnObject,
                        detail: "a record must be a JSON object (a struct or a map)".into(),
                    },
                }
            }
        };
        let mut failure = bad_input_event(&at, &bad, &self.push_text);
        failure.redact();
        let bad = BadItem {
            reason: bad.reason.as_str(),
            detail: exporter_core::redact(&bad.detail).into_owned(),
            failure,
        };
        self.bad_input(&bad, &at)
    }

    fn dispatch_record(
        &mut self,
        record: Record<'_>,
        at: Option<&Location>,
    ) -> Result<(), ExportError> {
        self.events.records += 1;
        self.dispatch(Event::Record(record), at)
    }

    /// Pushes request telemetry; the proxy password is masked first.
    pub fn request(&mut self, request: Request) -> Result<(), ExportError> {
        let mut event = ParsedEvent::Request(Box::new(request));
        redact_event(&mut event);
        let ParsedEvent::Request(request) = event else {
            unreachable!()
        };
        self.events.requests += 1;
        self.dispatch(Event::Request(&request), None)
    }

    /// Pushes an error event; every proxy password in it is masked first.
    pub fn error(&mut self, mut error: ErrorEvent) -> Result<(), ExportError> {
        error.redact();
        self.events.errors += 1;
        self.dispatch(Event::Error(&error), None)
    }

    fn dispatch(&mut self, event: Event<'_>, at: Option<&Location>) -> Result<(), ExportError> {
        let kind = event.kind();
        for slot in &mut self.slots {
            if slot.interests.contains(kind) {
                let before = self.raised.len();
                let mut cx = EventContext::collecting(&mut self.raised, at);
                slot.sink
                    .event(&event, &mut cx)
                    .map_err(|error| ExportError::Sink {
                        sink: slot.spec.name.clone(),
                        error,
                    })?;
                // two sinks may reject one record (a csv and an xlsx table): each row of the
                // error log says whose rejection it is
                for raised in &mut self.raised[before..] {
                    raised.name_sink(&slot.spec.name);
                }
            }
        }
        if self.raised.is_empty() {
            Ok(())
        } else {
            self.drain_raised()
        }
    }

    /// Routes raised failures to every sink that takes errors, counting them; failures raised
    /// while handling those are routed too, up to a small depth.
    fn drain_raised(&mut self) -> Result<(), ExportError> {
        let mut depth = 0;
        while !self.raised.is_empty() {
            depth += 1;
            if depth > MAX_RAISE_DEPTH {
                return Err(ExportError::Sink {
                    sink: "pipeline".into(),
                    error: SinkError::new("sinks keep raising failures while handling failures"),
                });
            }
            let batch = std::mem::take(&mut self.raised);
            let routed = self.slots.iter().any(|s| s.interests.errors);
            if !routed && !self.warned_unrouted {
                tracing::warn!(
                    "failures were raised but no sink takes errors; they are only counted (add an error-log sink)"
                );
                self.warned_unrouted = true;
            }
            for mut failure in batch {
                failure.redact();
                *self.events.raised.entry(failure.kind.clone()).or_default() += 1;
                for slot in &mut self.slots {
                    if slot.interests.errors {
                        let mut cx = EventContext::collecting(&mut self.raised, None);
                        slot.sink
                            .event(&Event::Error(&failure), &mut cx)
                            .map_err(|error| ExportError::Sink {
                                sink: slot.spec.name.clone(),
                                error,
                            })?;
                    }
                }
            }
        }
        Ok(())
    }
}
