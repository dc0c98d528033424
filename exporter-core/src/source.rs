//! Sources: where a run's events come from. The runtime pulls input from one source, hands
//! every event to the sinks, commits, and then tells the source its input is committed, so a
//! source of messages acknowledges them only once the deliverables hold them.

use std::fmt;
use std::io::BufRead;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

/// A source of events, built from a `[[sources]]` table (or the default `ndjson`).
///
/// The runtime calls [`Source::next`] until it returns `Ok(None)` (the input ended) or the
/// run decides to stop (`--until-idle`: nothing new for a while; `--follow`: a signal), then
/// commits the outputs and calls [`Source::committed`]. A source never acknowledges anything
/// before that call.
///
/// ```
/// use std::time::Duration;
/// use exporter_core::{Input, MessageBatch, Source, SourceError};
/// /// Three messages, then the end.
/// struct Three { batch: MessageBatch, given: bool }
/// impl Source for Three {
///     fn next(&mut self, _wait: Duration) -> Result<Option<Input<'_>>, SourceError> {
///         if std::mem::replace(&mut self.given, true) {
///             return Ok(None);
///         }
///         self.batch.clear();
///         for n in 1..=3 {
///             self.batch.push(n, "events", br#"{"type":"record","data":{}}"#);
///         }
///         Ok(Some(Input::Messages(&self.batch)))
///     }
/// }
/// let mut s = Three { batch: MessageBatch::new("demo"), given: false };
/// s.start().unwrap();
/// let Some(Input::Messages(b)) = s.next(Duration::ZERO).unwrap() else { panic!() };
/// assert_eq!(b.len(), 3);
/// assert!(s.next(Duration::ZERO).unwrap().is_none());
/// s.committed().unwrap();
/// ```
pub trait Source: Send {
    /// Gets ready before any output is opened (a message source connects and finds its
    /// stream), so a source that cannot be read fails the run before it writes anything.
    /// Called once; the default has nothing to do.
    fn start(&mut self) -> Result<(), SourceError> {
        Ok(())
    }

    /// The next input, waiting at most `wait` for some. `Ok(None)`: there is no more. A
    /// source of messages that got none within `wait` returns an empty batch, so the runtime
    /// keeps its clock (idle time, periodic commits, signals).
    fn next(&mut self, wait: Duration) -> Result<Option<Input<'_>>, SourceError>;

    /// Everything handed out so far is in committed outputs: acknowledge it. Called after
    /// each commit; a source that has nothing to acknowledge keeps the default.
    fn committed(&mut self) -> Result<(), SourceError> {
        Ok(())
    }

    /// Whether the input never ends by itself (a message stream): the run then needs a way
    /// to stop (`--until-idle` or `--follow`).
    fn endless(&self) -> bool {
        false
    }

    /// Where the source stands (what it has handed out), saved with each commit of a
    /// `--follow` run; `None` when there is nothing to save.
    fn position(&self) -> Option<serde_json::Value> {
        None
    }

    /// Continues after a saved [`position`](Source::position): what it covers is in the
    /// committed outputs already, so it is acknowledged and never handed out again, even when
    /// the server delivers it again (a run killed between its commit and its acknowledgement).
    fn resume(&mut self, position: &serde_json::Value) -> Result<(), SourceError> {
        let _ = position;
        Ok(())
    }
}

/// A piece of input handed to the runtime.
///
/// ```
/// let input = exporter_core::Input::Stream {
///     name: "events.ndjson".into(),
///     reader: Box::new(std::io::Cursor::new(b"{}\n".to_vec())),
/// };
/// assert!(matches!(input, exporter_core::Input::Stream { .. }));
/// ```
pub enum Input<'a> {
    /// NDJSON bytes (a file, standard input) read to their end; lines are numbered from 1 and
    /// located as `name:line`.
    Stream {
        /// How locations and the summary call it.
        name: String,
        /// The bytes.
        reader: Box<dyn BufRead + Send + 'a>,
    },
    /// Messages, each holding one event (one NDJSON line without its line feed), located as
    /// `name:number`.
    Messages(&'a MessageBatch),
}

/// Messages fetched together: each with its number in its stream (the location of a bad one),
/// its subject, and its payload. One buffer holds them all, reused batch after batch.
///
/// ```
/// let mut batch = exporter_core::MessageBatch::new("EVENTS");
/// batch.push(7, "campaign.a", b"{}");
/// let m = batch.iter().next().unwrap();
/// assert_eq!((m.number, m.subject, m.payload), (7, "campaign.a", &b"{}"[..]));
/// assert_eq!(batch.name(), "EVENTS");
/// ```
#[derive(Clone, Debug, Default)]
pub struct MessageBatch {
    name: String,
    data: Vec<u8>,
    items: Vec<(u64, Range<usize>, Range<usize>)>,
}

/// One message of a [`MessageBatch`].
///
/// ```
/// let mut batch = exporter_core::MessageBatch::new("EVENTS");
/// batch.push(1, "s", b"x");
/// assert_eq!(batch.iter().map(|m| m.payload.len()).sum::<usize>(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// Its number in the stream (a JetStream stream sequence).
    pub number: u64,
    /// The subject it was published to.
    pub subject: &'a str,
    /// The event, as published.
    pub payload: &'a [u8],
}

impl MessageBatch {
    /// An empty batch of the stream `name`.
    ///
    /// ```
    /// assert!(exporter_core::MessageBatch::new("EVENTS").is_empty());
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        MessageBatch {
            name: name.into(),
            ..Default::default()
        }
    }

    /// The stream's name, as locations show it.
    ///
    /// ```
    /// assert_eq!(exporter_core::MessageBatch::new("EVENTS").name(), "EVENTS");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Empties the batch, keeping its storage.
    ///
    /// ```
    /// let mut b = exporter_core::MessageBatch::new("E");
    /// b.push(1, "s", b"{}");
    /// b.clear();
    /// assert_eq!(b.len(), 0);
    /// ```
    pub fn clear(&mut self) {
        self.data.clear();
        self.items.clear();
    }

    /// Adds a message.
    ///
    /// ```
    /// let mut b = exporter_core::MessageBatch::new("E");
    /// b.push(41, "s", b"{}");
    /// b.push(42, "s", b"");
    /// assert_eq!(b.last_number(), Some(42));
    /// ```
    pub fn push(&mut self, number: u64, subject: &str, payload: &[u8]) {
        let s = self.data.len();
        self.data.extend_from_slice(subject.as_bytes());
        let p = self.data.len();
        self.data.extend_from_slice(payload);
        self.items.push((number, s..p, p..self.data.len()));
    }

    /// How many messages it holds.
    ///
    /// ```
    /// assert_eq!(exporter_core::MessageBatch::new("E").len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether it holds none.
    ///
    /// ```
    /// assert!(exporter_core::MessageBatch::new("E").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The number of its last message.
    ///
    /// ```
    /// assert_eq!(exporter_core::MessageBatch::new("E").last_number(), None);
    /// ```
    pub fn last_number(&self) -> Option<u64> {
        self.items.last().map(|i| i.0)
    }

    /// Its messages, in order.
    ///
    /// ```
    /// let mut b = exporter_core::MessageBatch::new("E");
    /// b.push(1, "a", b"x");
    /// b.push(2, "b", b"y");
    /// let subjects: Vec<_> = b.iter().map(|m| m.subject).collect();
    /// assert_eq!(subjects, ["a", "b"]);
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Message<'_>> + '_ {
        self.items.iter().map(|(number, s, p)| Message {
            number: *number,
            // pushed as a `&str`, cut at its own ends
            subject: std::str::from_utf8(&self.data[s.clone()]).unwrap_or_default(),
            payload: &self.data[p.clone()],
        })
    }
}

/// Why a source failed. The message names where (a file, a server's URL with its password
/// masked) and never holds a secret.
///
/// ```
/// let e = exporter_core::SourceError::new("cannot connect to NATS at nats://127.0.0.1:4222");
/// assert!(e.to_string().contains("127.0.0.1"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceError {
    message: String,
}

impl SourceError {
    /// An error; passwords in the message are masked here, whatever the caller did.
    ///
    /// ```
    /// let e = exporter_core::SourceError::new("nats://u:S3cret@h:4222 went away");
    /// assert!(!e.to_string().contains("S3cret"));
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        let message = message.into();
        SourceError {
            message: crate::redact(&message).into_owned(),
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SourceError {}

/// What a source's constructor knows besides its own keys.
///
/// ```
/// let cx = exporter_core::SourceContext::new("events", "examples");
/// assert_eq!(cx.manifest_file("nats.creds"), std::path::Path::new("examples/nats.creds"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct SourceContext {
    /// The source's name (`name`, defaulting to its type).
    pub name: String,
    /// The folder of the manifest.
    pub manifest_dir: PathBuf,
    /// The inputs named on the command line (`exporter run ... INPUT...`), if any.
    pub inputs: Vec<PathBuf>,
}

impl SourceContext {
    /// A context (tests and embedders; the manifest loader makes these).
    ///
    /// ```
    /// assert!(exporter_core::SourceContext::new("s", ".").inputs.is_empty());
    /// ```
    pub fn new(name: impl Into<String>, manifest_dir: impl Into<PathBuf>) -> Self {
        SourceContext {
            name: name.into(),
            manifest_dir: manifest_dir.into(),
            inputs: Vec::new(),
        }
    }

    /// The context with the command line's inputs.
    ///
    /// ```
    /// let cx = exporter_core::SourceContext::new("s", ".").with_inputs(["a.ndjson"]);
    /// assert_eq!(cx.inputs.len(), 1);
    /// ```
    pub fn with_inputs<P: Into<PathBuf>>(mut self, inputs: impl IntoIterator<Item = P>) -> Self {
        self.inputs = inputs.into_iter().map(Into::into).collect();
        self
    }

    /// Resolves a path written in the manifest against the manifest's folder.
    ///
    /// ```
    /// let cx = exporter_core::SourceContext::new("s", "/srv");
    /// assert_eq!(cx.manifest_file("/abs"), std::path::Path::new("/abs"));
    /// ```
    pub fn manifest_file(&self, path: impl AsRef<std::path::Path>) -> PathBuf {
        self.manifest_dir.join(path)
    }
}
