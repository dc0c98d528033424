//! Reading the NDJSON event stream (SPEC section 2): line by line, keeping the input's name
//! and line number, and classifying every line as blank, an event, or bad input.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::BufRead;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::event::{Campaign, ErrorEvent, JsonObject, Request, Severity, Timestamp};
use crate::json_cursor::Cursor;
use crate::json_object::Member;

/// Where a line came from: the input's name (a path, or `-` for standard input) and the
/// 1-based line number.
///
/// ```
/// let at = exporter_core::input::Location { input: "events.ndjson".into(), line: 7 };
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

/// An event parsed from one line, owning its data.
///
/// ```
/// use exporter_core::input::{parse_line, Line, ParsedEvent};
/// let line = parse_line(br#"{"type":"record","data":{"place_id":"p1"}}"#);
/// assert!(matches!(line, Line::Event(ParsedEvent::Record(_))));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ParsedEvent {
    /// A `campaign` event.
    Campaign(Box<Campaign>),
    /// A `record` event's `data` object, kept as text.
    Record(JsonObject),
    /// A `request` event (boxed, as the error: a batch's lines are moved and read by
    /// another thread, and stay small so).
    Request(Box<Request>),
    /// An `error` event.
    Error(Box<ErrorEvent>),
}

/// What one input line turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// Empty or only whitespace: ignored, counted.
    Blank,
    /// A well-formed event.
    Event(ParsedEvent),
    /// Bad input: counted and routed to the error log (or fatal under `--strict`).
    Bad(BadLine),
}

/// Why a line is bad input. The names are stable: they key `bad_by_reason` in the summary.
///
/// ```
/// assert_eq!(exporter_core::input::BadReason::InvalidJson.as_str(), "invalid_json");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BadReason {
    /// The bytes are not UTF-8.
    InvalidUtf8,
    /// Not parseable as JSON (truncated, single quotes, `NaN`, trailing comma, ...).
    InvalidJson,
    /// Valid JSON, but not an object.
    NotAnObject,
    /// No `type`, or `type` is null.
    MissingType,
    /// `type` is not one of `campaign`, `record`, `request`, `error`.
    UnknownType,
    /// A required field is absent or null.
    MissingField,
    /// A field has the wrong type or an impossible value.
    WrongType,
}

impl BadReason {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            BadReason::InvalidUtf8 => "invalid_utf8",
            BadReason::InvalidJson => "invalid_json",
            BadReason::NotAnObject => "not_an_object",
            BadReason::MissingType => "missing_type",
            BadReason::UnknownType => "unknown_type",
            BadReason::MissingField => "missing_field",
            BadReason::WrongType => "wrong_type",
        }
    }
}

/// A bad line: why, and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// The class of problem.
    pub reason: BadReason,
    /// What exactly is wrong, e.g. ``field `latency_ms`: expected a number >= 0, found "312ms"``.
    pub detail: String,
}

impl BadLine {
    fn new(reason: BadReason, detail: impl Into<String>) -> Self {
        BadLine {
            reason,
            detail: detail.into(),
        }
    }
}

/// How many bytes of a bad line are kept in the error log's `context.raw`.
pub const RAW_LINE_LIMIT: usize = 16 * 1024;

/// The `context` of a `BadInput` error-log row: input, line, reason, the raw line (lossy
/// UTF-8, cut at [`RAW_LINE_LIMIT`] bytes on a character boundary) and its full length.
///
/// ```
/// use exporter_core::input::{bad_input_event, BadLine, BadReason, Location, parse_line, Line};
/// let Line::Bad(bad) = parse_line(b"{oops") else { panic!() };
/// let at = Location { input: "in.ndjson".into(), line: 3 };
/// let e = bad_input_event(&at, &bad, b"{oops");
/// assert_eq!(e.kind, "BadInput");
/// assert_eq!(e.context.as_ref().unwrap()["line"], 3);
/// assert_eq!(e.context.as_ref().unwrap()["raw_bytes"], 5);
/// ```
pub fn bad_input_event(at: &Location, bad: &BadLine, raw: &[u8]) -> ErrorEvent {
    let text = String::from_utf8_lossy(raw);
    let mut cut = text.len().min(RAW_LINE_LIMIT);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut context = Map::new();
    context.insert("input".into(), Value::String(at.input.clone()));
    context.insert("line".into(), Value::from(at.line));
    context.insert("reason".into(), Value::String(bad.reason.as_str().into()));
    context.insert("raw".into(), Value::String(text[..cut].to_string()));
    context.insert("raw_bytes".into(), Value::from(raw.len() as u64));
    if cut < text.len() {
        context.insert("raw_truncated".into(), Value::Bool(true));
    }
    ErrorEvent::new(ErrorEvent::BAD_INPUT, format!("{at}: {}", bad.detail))
        .with_severity(Severity::Warning)
        .with_context(Value::Object(context))
}

/// Counts of what the input held. `lines` counts every line, blank and bad ones included.
///
/// ```
/// let stats = exporter_core::input::InputStats::default();
/// assert_eq!(stats.lines, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct InputStats {
    /// Input names in the order read.
    pub files: Vec<String>,
    /// Every line read.
    pub lines: u64,
    /// Empty or whitespace-only lines.
    pub blank_lines: u64,
    /// Lines that were bad input.
    pub bad_lines: u64,
    /// Bad lines by [`BadReason::as_str`].
    pub bad_by_reason: BTreeMap<String, u64>,
}

/// Classifies one line (without its line ending; a trailing `\r` is tolerated).
///
/// ```
/// use exporter_core::input::{parse_line, Line, BadReason};
/// assert_eq!(parse_line(b"  \r"), Line::Blank);
/// let Line::Bad(bad) = parse_line(br#"{"type":"heartbeat"}"#) else { panic!() };
/// assert_eq!(bad.reason, BadReason::UnknownType);
/// ```
pub fn parse_line(bytes: &[u8]) -> Line {
    parse_line_into(bytes, &mut Spares::default())
}

/// [`parse_line`], into storage from `spares` where it can.
pub(crate) fn parse_line_into(bytes: &[u8], spares: &mut Spares) -> Line {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Line::Blank;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Line::Bad(BadLine::new(
                BadReason::InvalidUtf8,
                format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1),
            ));
        }
    };
    match parse_event(text, spares) {
        Ok(ev) => Line::Event(ev),
        Err(bad) => Line::Bad(bad),
    }
}

/// Storage from events the sinks are done with, for the reader to fill again: a record's text
/// and member list and a request's strings keep their capacity, so reading a record or a
/// request into them allocates nothing once they have grown to fit.
#[derive(Default)]
pub(crate) struct Spares {
    records: Vec<JsonObject>,
    // the boxes themselves are kept: a request's event holds one
    #[allow(clippy::vec_box)]
    requests: Vec<Box<Request>>,
    strings: Vec<String>,
    /// Events of each kind kept at most: what the batches in flight hold, since they all come
    /// back (sometimes several batches at once); beyond it, storage is freed.
    kept: usize,
    /// A running average of the size of records' text.
    typical_record: usize,
}

impl Spares {
    /// Spares that keep up to `kept` events of each kind.
    pub(crate) fn keeping(kept: usize) -> Self {
        Spares {
            kept,
            ..Spares::default()
        }
    }

    /// Takes back an event the sinks are done with.
    pub(crate) fn keep(&mut self, event: ParsedEvent) {
        match event {
            ParsedEvent::Record(mut data) if self.records.len() < self.kept => {
                // Storage that held an outsized record is let go: kept, every spare would in
                // time grow to the largest record it ever held, and memory with it.
                self.typical_record = (self.typical_record * 15 + data.as_str().len()) / 16;
                data.let_go_beyond(4 * self.typical_record.max(256));
                self.records.push(data)
            }
            ParsedEvent::Request(r) if self.requests.len() < self.kept => self.requests.push(r),
            _ => {}
        }
    }

    /// `slot` set to `text`, in the storage it has or a spare string.
    fn fill(&mut self, slot: &mut Option<String>, text: Option<Text<'_>>) {
        match (slot.as_mut(), text) {
            (Some(s), Some(t)) => {
                s.clear();
                s.push_str(&t);
            }
            (None, Some(t)) => {
                let mut s = self.strings.pop().unwrap_or_default();
                s.push_str(&t);
                *slot = Some(s);
            }
            (Some(_), None) => {
                let mut s = slot.take().expect("some");
                if self.strings.len() < self.kept {
                    s.clear();
                    self.strings.push(s);
                }
            }
            (None, None) => {}
        }
    }
}

/// A string field, borrowed from the line unless it has escapes.
type Text<'a> = Cow<'a, str>;

/// The fast parse: one pass over the line with a [`Cursor`] that checks the JSON grammar,
/// straight into typed fields, with `data` indexed as it is read into a spare record. Any
/// surprise (a wrong type, a field of another event type with an odd value, a repeated field,
/// an escaped key, a missing field) gives up and leaves the line to [`parse_event_checked`],
/// which is the authority on what is wrong.
#[derive(Default)]
struct FastLine<'a> {
    ty: Option<Text<'a>>,
    id: Option<Text<'a>>,
    name: Option<Text<'a>>,
    started_at: Option<Text<'a>>,
    finished_at: Option<Text<'a>>,
    data: Option<JsonObject>,
    /// Whether `data` has `\u` escapes of surrogates (whether they pair up is not checked).
    data_has_surrogates: bool,
    ts: Option<Text<'a>>,
    proxy: Option<Text<'a>>,
    url: Option<Text<'a>>,
    status: Option<u16>,
    latency_ms: Option<f64>,
    bytes: Option<u64>,
    ok: Option<bool>,
    error: Option<Text<'a>>,
    blocked: Option<bool>,
    severity: Option<Text<'a>>,
    kind: Option<Text<'a>>,
    message: Option<Text<'a>>,
    /// The text of a `context` that is not null.
    context: Option<&'a str>,
}

/// The event of `line` by the fast parse, when it is valid in every respect; otherwise `None`.
fn fast_parse(line: &str, spares: &mut Spares) -> Option<ParsedEvent> {
    if line.len() > u32::MAX as usize {
        return None; // member spans are 32-bit
    }
    FastLine::read(line, spares)?.into_event(line, spares)
}

impl<'a> FastLine<'a> {
    /// The fields of `line`, taking a spare record from `spares` for `data`.
    fn read(line: &'a str, spares: &mut Spares) -> Option<Self> {
        let mut c = Cursor::new(line);
        let mut fields = FastLine::default();
        c.eat(b'{')?;
        if c.peek()? == b'}' {
            c.eat(b'}')?;
            return c.at_end().then_some(fields);
        }
        let mut seen = 0u32;
        loop {
            let (key, escaped) = c.member_key()?;
            if escaped {
                return None;
            }
            let (bit, slot) = match key {
                "type" => (0, Slot::Text(&mut fields.ty)),
                "id" => (1, Slot::Text(&mut fields.id)),
                "name" => (2, Slot::Text(&mut fields.name)),
                "started_at" => (3, Slot::Text(&mut fields.started_at)),
                "finished_at" => (4, Slot::Text(&mut fields.finished_at)),
                "data" => (5, Slot::Data),
                "ts" => (6, Slot::Text(&mut fields.ts)),
                "proxy" => (7, Slot::Text(&mut fields.proxy)),
                "url" => (8, Slot::Text(&mut fields.url)),
                "status" => (9, Slot::Status(&mut fields.status)),
                "latency_ms" => (10, Slot::Float(&mut fields.latency_ms)),
                "bytes" => (11, Slot::Count(&mut fields.bytes)),
                "ok" => (12, Slot::Bool(&mut fields.ok)),
                "error" => (13, Slot::Text(&mut fields.error)),
                "blocked" => (14, Slot::Bool(&mut fields.blocked)),
                "severity" => (15, Slot::Text(&mut fields.severity)),
                "kind" => (16, Slot::Text(&mut fields.kind)),
                "message" => (17, Slot::Text(&mut fields.message)),
                "context" => (18, Slot::Any(&mut fields.context)),
                _ => (31, Slot::Skip),
            };
            if bit < 31 {
                if seen & 1 << bit != 0 {
                    return None;
                }
                seen |= 1 << bit;
            }
            match slot {
                Slot::Text(t) => *t = text(&mut c)?,
                Slot::Status(n) => *n = integer(&mut c)?,
                Slot::Count(n) => *n = integer(&mut c)?,
                Slot::Float(f) => *f = float(&mut c)?,
                Slot::Bool(b) => *b = c.literal()?,
                Slot::Any(v) => *v = Some(c.value()?).filter(|v| *v != "null"),
                Slot::Skip => {
                    c.value()?;
                }
                Slot::Data if c.peek()? == b'{' => {
                    let mut data = spares.records.pop().unwrap_or_else(JsonObject::spare);
                    let before = c.surrogate_escapes();
                    read_members(&mut c, data.members_mut())?;
                    fields.data = Some(data);
                    fields.data_has_surrogates = c.surrogate_escapes() > before;
                }
                Slot::Data => {
                    if c.literal()?.is_some() {
                        return None; // a boolean
                    }
                }
            }
            match c.peek()? {
                b',' => c.eat(b',')?,
                b'}' => {
                    c.eat(b'}')?;
                    return c.at_end().then_some(fields);
                }
                _ => return None,
            }
        }
    }
}

/// Where a field's value goes.
enum Slot<'f, 'a> {
    Text(&'f mut Option<Text<'a>>),
    Status(&'f mut Option<u16>),
    Count(&'f mut Option<u64>),
    Float(&'f mut Option<f64>),
    Bool(&'f mut Option<bool>),
    Any(&'f mut Option<&'a str>),
    Data,
    Skip,
}

/// A string or null; a string with escapes is decoded (by serde_json, which also refuses
/// `\u` escapes that do not pair up).
fn text<'a>(c: &mut Cursor<'a>) -> Option<Option<Text<'a>>> {
    if c.peek()? != b'"' {
        return c.literal()?.map_or(Some(None), |_| None);
    }
    match c.string()? {
        (plain, false) => Some(Some(Cow::Borrowed(plain))),
        (escaped, true) => {
            let decoded: String = serde_json::from_str(&format!("\"{escaped}\"")).ok()?;
            Some(Some(Cow::Owned(decoded)))
        }
    }
}

/// An integer without fraction or exponent that fits `T`, or null.
fn integer<T: std::str::FromStr>(c: &mut Cursor<'_>) -> Option<Option<T>> {
    if c.peek()? == b'n' {
        return c.literal()?.map_or(Some(None), |_| None);
    }
    match c.number()? {
        (digits, true) => digits.parse().ok().map(Some),
        _ => None,
    }
}

/// A number (read by serde_json, so to the same bit as the careful parse), or null.
fn float(c: &mut Cursor<'_>) -> Option<Option<f64>> {
    if c.peek()? == b'n' {
        return c.literal()?.map_or(Some(None), |_| None);
    }
    let (text, _) = c.number()?;
    serde_json::from_str(text).ok().map(Some)
}

/// Reads an object, indexing each member's key and value as spans of the cursor's text.
fn read_members(c: &mut Cursor<'_>, members: &mut Vec<Member>) -> Option<()> {
    members.clear();
    c.eat(b'{')?;
    if c.peek()? == b'}' {
        return c.eat(b'}');
    }
    loop {
        c.peek()?;
        let key_at = c.at() as u32;
        let (key, _) = c.member_key()?;
        let key_end = key_at + key.len() as u32 + 2; // with its quotes
        let value = c.value()?;
        let value_end = c.at() as u32;
        members.push(Member {
            key: (key_at, key_end),
            value: (value_end - value.len() as u32, value_end),
        });
        match c.peek()? {
            b',' => c.eat(b',')?,
            b'}' => return c.eat(b'}'),
            _ => return None,
        }
    }
}

impl FastLine<'_> {
    /// The event, when it is valid in every respect; otherwise `None`.
    fn into_event(mut self, line: &str, spares: &mut Spares) -> Option<ParsedEvent> {
        let ty = self.ty.take()?;
        if ty != "record"
            && let Some(data) = self.data.take()
        {
            spares.keep(ParsedEvent::Record(data)); // a field of another event type
        }
        match &*ty {
            "campaign" => Some(ParsedEvent::Campaign(Box::new(Campaign {
                id: self.id.map(Cow::into_owned),
                name: self.name.map(Cow::into_owned),
                started_at: self.started_at.map(Cow::into_owned),
                finished_at: self.finished_at.map(Cow::into_owned),
            }))),
            "record" => {
                // `data` was indexed as it was read (an empty object is left to the careful
                // parse). Reading its values checked their grammar, but not that `\u` escapes
                // of surrogates pair up into whole characters: those few objects get the full
                // parse.
                let mut data = self.data?;
                if !data.refill(line) {
                    return None;
                }
                if self.data_has_surrogates {
                    JsonObject::parse(data.as_str()).ok()?;
                }
                Some(ParsedEvent::Record(data))
            }
            "request" => {
                if self
                    .latency_ms
                    .is_some_and(|l| !(l >= 0.0 && l.is_finite()))
                {
                    return None;
                }
                let ts = Timestamp::parse(&self.ts?).ok()?;
                let proxy = self.proxy?;
                let mut r = spares
                    .requests
                    .pop()
                    .unwrap_or_else(|| Box::new(Request::new(ts, String::new())));
                r.proxy.clear();
                r.proxy.push_str(&proxy);
                spares.fill(&mut r.url, self.url);
                spares.fill(&mut r.error, self.error);
                r.ts = ts;
                r.status = self.status;
                r.latency_ms = self.latency_ms;
                r.bytes = self.bytes;
                r.ok = self.ok;
                r.blocked = self.blocked;
                Some(ParsedEvent::Request(r))
            }
            "error" => Some(ParsedEvent::Error(Box::new(ErrorEvent {
                ts: Timestamp::parse(&self.ts?).ok()?,
                severity: match self.severity {
                    None => Severity::default(),
                    Some(s) => s.parse().ok()?,
                },
                kind: self.kind?.into_owned(),
                message: self.message?.into_owned(),
                url: self.url.map(Cow::into_owned),
                proxy: self.proxy.map(Cow::into_owned),
                context: match self.context {
                    Some(text) => Some(serde_json::from_str(text).ok()?),
                    None => None,
                },
            }))),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct RawLine<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
    #[serde(borrow)]
    started_at: Option<&'a RawValue>,
    #[serde(borrow)]
    finished_at: Option<&'a RawValue>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(borrow)]
    ts: Option<&'a RawValue>,
    #[serde(borrow)]
    proxy: Option<&'a RawValue>,
    #[serde(borrow)]
    url: Option<&'a RawValue>,
    #[serde(borrow)]
    status: Option<&'a RawValue>,
    #[serde(borrow)]
    latency_ms: Option<&'a RawValue>,
    #[serde(borrow)]
    bytes: Option<&'a RawValue>,
    #[serde(borrow)]
    ok: Option<&'a RawValue>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    #[serde(borrow)]
    blocked: Option<&'a RawValue>,
    #[serde(borrow)]
    severity: Option<&'a RawValue>,
    #[serde(borrow)]
    kind: Option<&'a RawValue>,
    #[serde(borrow)]
    message: Option<&'a RawValue>,
    #[serde(borrow)]
    context: Option<&'a RawValue>,
}

fn json_type(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

fn shown(raw: &RawValue) -> String {
    let s = raw.get();
    if s.len() > 60 {
        let mut cut = 57;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &s[..cut])
    } else {
        s.to_string()
    }
}

/// An optional field of type `T`; `expected` names the type for the message.
fn opt<T: DeserializeOwned>(
    raw: Option<&RawValue>,
    name: &str,
    expected: &str,
) -> Result<Option<T>, BadLine> {
    match raw {
        None => Ok(None),
        Some(raw) => serde_json::from_str(raw.get()).map(Some).map_err(|_| {
            BadLine::new(
                BadReason::WrongType,
                format!(
                    "field `{name}`: expected {expected}, found {} {}",
                    json_type(raw),
                    shown(raw)
                ),
            )
        }),
    }
}

fn required<T: DeserializeOwned>(
    raw: Option<&RawValue>,
    event: &str,
    name: &str,
    expected: &str,
) -> Result<T, BadLine> {
    opt(raw, name, expected)?.ok_or_else(|| {
        BadLine::new(
            BadReason::MissingField,
            format!("{event} event without required field `{name}`"),
        )
    })
}

fn timestamp(raw: Option<&RawValue>, event: &str) -> Result<Timestamp, BadLine> {
    let text: String = required(raw, event, "ts", "an RFC 3339 timestamp string")?;
    Timestamp::parse(&text)
        .map_err(|e| BadLine::new(BadReason::WrongType, format!("field `ts`: {e}")))
}

fn parse_event(text: &str, spares: &mut Spares) -> Result<ParsedEvent, BadLine> {
    match fast_parse(text, spares) {
        Some(event) => Ok(event),
        None => parse_event_checked(text),
    }
}

/// The careful parse: every field on its own, so a bad line gets a precise reason and message,
/// and fields that do not belong to the event's type are ignored whatever they hold.
fn parse_event_checked(text: &str) -> Result<ParsedEvent, BadLine> {
    let first = text.trim_start().as_bytes().first().copied();
    if first != Some(b'{') {
        // Tell JSON that is not an object from text that is not JSON at all.
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => BadLine::new(BadReason::NotAnObject, "the line is JSON but not an object"),
            Err(e) => BadLine::new(BadReason::InvalidJson, format!("not valid JSON: {e}")),
        });
    }
    let line: RawLine<'_> = serde_json::from_str(text)
        .map_err(|e| BadLine::new(BadReason::InvalidJson, format!("not valid JSON: {e}")))?;
    let ty: Option<String> = opt(line.ty, "type", "a string")?;
    let Some(ty) = ty else {
        return Err(BadLine::new(
            BadReason::MissingType,
            "no `type` field (or it is null)",
        ));
    };
    match ty.as_str() {
        "campaign" => Ok(ParsedEvent::Campaign(Box::new(Campaign {
            id: opt(line.id, "id", "a string")?,
            name: opt(line.name, "name", "a string")?,
            started_at: opt(line.started_at, "started_at", "a string")?,
            finished_at: opt(line.finished_at, "finished_at", "a string")?,
        }))),
        "record" => {
            let Some(data) = line.data else {
                return Err(BadLine::new(
                    BadReason::MissingField,
                    "record event without required field `data`",
                ));
            };
            if !data.get().starts_with('{') {
                return Err(BadLine::new(
                    BadReason::WrongType,
                    match data.get() {
                        "null" => "field `data`: expected an object, found null".to_string(),
                        _ => format!(
                            "field `data`: expected an object, found {} {}",
                            json_type(data),
                            shown(data)
                        ),
                    },
                ));
            }
            // the syntax is fine (the line parsed); its strings may still not decode
            JsonObject::parse(data.get())
                .map(ParsedEvent::Record)
                .map_err(|e| BadLine::new(BadReason::InvalidJson, format!("field `data`: {e}")))
        }
        "request" => {
            let ts = timestamp(line.ts, "request")?;
            let proxy: String = required(line.proxy, "request", "proxy", "a string")?;
            let latency_ms: Option<f64> = opt(line.latency_ms, "latency_ms", "a number >= 0")?;
            if let (Some(l), Some(raw)) = (latency_ms, line.latency_ms)
                && !(l >= 0.0 && l.is_finite())
            {
                return Err(BadLine::new(
                    BadReason::WrongType,
                    format!(
                        "field `latency_ms`: expected a number >= 0, found {}",
                        shown(raw)
                    ),
                ));
            }
            Ok(ParsedEvent::Request(Box::new(Request {
                ts,
                proxy,
                url: opt(line.url, "url", "a string")?,
                status: opt(
                    line.status,
                    "status",
                    "an HTTP status code (integer) or null",
                )?,
                latency_ms,
                bytes: opt(line.bytes, "bytes", "an integer >= 0")?,
                ok: opt(line.ok, "ok", "a boolean")?,
                error: opt(line.error, "error", "a string or null")?,
                blocked: opt(line.blocked, "blocked", "a boolean")?,
            })))
        }
        "error" => {
            let ts = timestamp(line.ts, "error")?;
            let severity = match opt::<String>(line.severity, "severity", "a string")? {
                None => Severity::default(),
                Some(s) => s.parse().map_err(|e: String| {
                    BadLine::new(BadReason::WrongType, format!("field `severity`: {e}"))
                })?,
            };
            Ok(ParsedEvent::Error(Box::new(ErrorEvent {
                ts,
                severity,
                kind: required(line.kind, "error", "kind", "a string")?,
                message: required(line.message, "error", "message", "a string")?,
                url: opt(line.url, "url", "a string")?,
                proxy: opt(line.proxy, "proxy", "a string")?,
                context: opt(line.context, "context", "JSON")?,
            })))
        }
        other => Err(BadLine::new(
            BadReason::UnknownType,
            format!(
                "unknown event type {other:?} (expected \"campaign\", \"record\", \"request\" or \"error\")"
            ),
        )),
    }
}

/// Reads NDJSON from any `BufRead`, line by line with a reused buffer, so memory stays flat.
///
/// ```
/// use exporter_core::input::{LineReader, Line};
/// let mut reader = LineReader::new(&b"{\"type\":\"record\",\"data\":{}}\r\n\n"[..]);
/// let (n, raw) = reader.next_line().unwrap().unwrap();
/// assert_eq!((n, raw), (1, &b"{\"type\":\"record\",\"data\":{}}"[..]));
/// assert_eq!(reader.next_line().unwrap().unwrap().0, 2);
/// assert!(reader.next_line().unwrap().is_none());
/// ```
pub struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
    bytes: u64,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps a reader.
    pub fn new(reader: R) -> Self {
        LineReader {
            reader,
            buf: Vec::with_capacity(8192),
            line: 0,
            bytes: 0,
        }
    }

    /// The next line's number and bytes (without `\n` or `\r\n`), or `None` at the end.
    pub fn next_line(&mut self) -> std::io::Result<Option<(u64, &[u8])>> {
        self.buf.clear();
        let n = self.reader.read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        self.bytes += n as u64;
        self.line += 1;
        let mut line = &self.buf[..];
        if let Some(rest) = line.strip_suffix(b"\n") {
            line = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        Ok(Some((self.line, line)))
    }

    /// Bytes consumed so far (for progress reporting).
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_object::has_surrogate_escape;

    /// Lines of every kind, with the fields that take each path of the fast parse.
    const EDGE_LINES: [&str; 9] = [
        r#"{"type":"record","data":{"place_id":"p1","name":"B\u00e4cker \"Bob\"","rating":4.5,"tags":["a","b"],"attributes":{"payment":["cash"],"level":2},"claimed":true,"closed":null}}"#,
        r#" { "type" : "record" , "data" : { "a" : [ 1 , { "b" : -0.5e-3 } ] } , "ts" : 5 } "#,
        r#"{"type":"request","ts":"2026-11-26T08:00:00.120Z","proxy":"http://u:pw@h:8080","url":"https://x/?q=\"a\"","status":200,"latency_ms":12.5,"bytes":1024,"ok":true,"blocked":false,"error":null}"#,
        r#"{"type":"request","ts":"2026-11-26T08:00:00Z","proxy":"socks5://h:1080","status":null,"latency_ms":null,"error":"Timeout","extra":{"x":[true,false,null]}}"#,
        r#"{"type":"error","ts":"2026-11-26T08:00:00Z","severity":"warning","kind":"Captcha","message":"m\n2","url":"u","proxy":"p","context":{"attempt":3,"ids":[1,2]}}"#,
        r#"{"type":"error","ts":"2026-11-26T08:00:00Z","kind":"k","message":"m","context":null}"#,
        r#"{"type":"campaign","id":"c1","name":"ACME \u2603","started_at":"2026-11-26T08:00:00Z","finished_at":null}"#,
        r#"{"type":"record","data":{"n":1e400,"s":"\ud83d\ude00","e":{}}}"#,
        r#"{"type":"request","ts":"2026-11-26T08:00:00Z","proxy":"p","status":404,"latency_ms":0,"bytes":0,"ok":false}"#,
    ];

    fn bad(line: &str) -> BadLine {
        match parse_line(line.as_bytes()) {
            Line::Bad(b) => b,
            other => panic!("{line} parsed as {other:?}"),
        }
    }

    #[test]
    fn classifies_bad_lines() {
        use BadReason::*;
        let ts = "2026-11-26T08:00:00Z";
        let cases: Vec<(String, BadReason)> = vec![
            (r#"{"type":"record","data":{"a":1"#.into(), InvalidJson),
            ("{'type': 'record'}".into(), InvalidJson),
            (r#"{"type":"request","status":200,}"#.into(), InvalidJson),
            (r#"{"type":"request","latency_ms":NaN}"#.into(), InvalidJson),
            ("<html>".into(), InvalidJson),
            (r#"[{"type":"record"}]"#.into(), NotAnObject),
            ("42".into(), NotAnObject),
            ("null".into(), NotAnObject),
            (r#"{"data":{}}"#.into(), MissingType),
            (r#"{"type":null}"#.into(), MissingType),
            (r#"{"type":"Record","data":{}}"#.into(), UnknownType),
            (
                format!(r#"{{"type":"request","ts":"{ts}","proxy":"p","status":"200"}}"#),
                WrongType,
            ),
            (
                format!(r#"{{"type":"request","ts":"{ts}","proxy":"p","latency_ms":"312ms"}}"#),
                WrongType,
            ),
            (
                format!(r#"{{"type":"request","ts":"{ts}","proxy":"p","latency_ms":-5.0}}"#),
                WrongType,
            ),
            (
                format!(r#"{{"type":"request","ts":"{ts}","proxy":"p","bytes":20480.5}}"#),
                WrongType,
            ),
            (
                format!(r#"{{"type":"request","ts":"{ts}","proxy":8080}}"#),
                WrongType,
            ),
            (
                r#"{"type":"request","ts":1764144000,"proxy":"p"}"#.into(),
                WrongType,
            ),
            (
                r#"{"type":"request","ts":"26/11/2026 08:00","proxy":"p"}"#.into(),
                WrongType,
            ),
            (format!(r#"{{"type":"request","ts":"{ts}"}}"#), MissingField),
            (r#"{"type":"request","proxy":"p"}"#.into(), MissingField),
            (
                format!(r#"{{"type":"error","ts":"{ts}","message":"m"}}"#),
                MissingField,
            ),
            (
                format!(r#"{{"type":"error","ts":"{ts}","kind":"k"}}"#),
                MissingField,
            ),
            (
                format!(
                    r#"{{"type":"error","ts":"{ts}","kind":"k","message":"m","severity":"fatal"}}"#
                ),
                WrongType,
            ),
            (r#"{"type":"record","place_id":"x"}"#.into(), MissingField),
            (r#"{"type":"record","data":[{"a":1}]}"#.into(), WrongType),
            (r#"{"type":"record","data":"{}"}"#.into(), WrongType),
            (
                r#"{"type":"record","data":{"a":"\ud800"}}"#.into(),
                InvalidJson,
            ),
            (
                r#"{"type":"record","data":{"a":"\u00"}}"#.into(),
                InvalidJson,
            ),
            (
                r#"{"type":"record","data":{"a":"x\uDc00"}}"#.into(),
                InvalidJson,
            ),
            (
                r#"{"type":"record","data":{"a":"\ud83d\u0041"}}"#.into(),
                InvalidJson,
            ),
        ];
        for (line, want) in cases {
            assert_eq!(bad(&line).reason, want, "{line}: {}", bad(&line).detail);
        }
        assert_eq!(
            match parse_line(b"{\"type\":\"record\",\"data\":{\"n\":\"M\xfcller\"}}") {
                Line::Bad(b) => b.reason,
                _ => panic!(),
            },
            InvalidUtf8
        );
    }

    #[test]
    fn surrogate_escapes_are_spotted() {
        assert!(has_surrogate_escape(r#"{"a":"\ud83d\ude00"}"#));
        assert!(has_surrogate_escape(r#"{"a":"\uDBFF"}"#));
        assert!(!has_surrogate_escape(r#"{"a":"\u00e9 \ucafe \\"}"#));
        assert!(!has_surrogate_escape(r#"{"a":"\u"#));
        let Line::Event(ParsedEvent::Record(data)) =
            parse_line(r#"{"type":"record","data":{"e":"\ud83d\ude00"}}"#.as_bytes())
        else {
            panic!("a whole surrogate pair is fine")
        };
        assert_eq!(data.to_map()["e"], "\u{1F600}");
    }

    #[test]
    fn messages_name_the_field() {
        let b = bad(
            r#"{"type":"request","ts":"2026-11-26T08:00:00Z","proxy":"p","latency_ms":"312ms"}"#,
        );
        assert_eq!(
            b.detail,
            r#"field `latency_ms`: expected a number >= 0, found a string "312ms""#
        );
    }

    #[test]
    fn parses_every_event_kind() {
        let lines = [
            r#"{"type":"campaign","id":"c","name":"N","started_at":"2026-11-26T08:00:00Z"}"#,
            r#"{"type":"record","data":{"a":1,"a":2,"big":9007199254740993}}"#,
            r#"{"type":"request","ts":"2026-11-26T08:00:01.250Z","proxy":"http://u:pw@h:1","status":null,"latency_ms":null,"error":"Timeout"}"#,
            r#"{"type":"error","ts":"2026-11-26T08:00:02Z","kind":"Timeout","message":"m","context":{"attempt":3}}"#,
        ];
        let parsed: Vec<_> = lines.iter().map(|l| parse_line(l.as_bytes())).collect();
        let Line::Event(ParsedEvent::Record(data)) = &parsed[1] else {
            panic!()
        };
        let data = data.to_map();
        assert_eq!(data["a"], 2, "last repeated key wins");
        assert_eq!(data["big"].to_string(), "9007199254740993");
        let Line::Event(ParsedEvent::Request(r)) = &parsed[2] else {
            panic!()
        };
        assert!(!r.is_ok() && !r.has_response());
        let Line::Event(ParsedEvent::Error(e)) = &parsed[3] else {
            panic!()
        };
        assert_eq!(e.severity, Severity::Error);
    }

    #[test]
    fn the_fast_parse_agrees_with_the_checked_one() {
        let example = include_bytes!("../../examples/events.ndjson");
        let golden = include_bytes!("../../tests/golden/csv/events.ndjson");
        let utf8_lines = |b: &'static [u8]| {
            b.split(|&c| c == b'\n')
                .filter_map(|l| std::str::from_utf8(l).ok())
        };
        let odd = [
            r#"{"type":"record","data":{"a":1},"ts":5}"#,
            r#"{"type":"request","ts":"2026-11-26T08:00:00Z","proxy":"p","data":[1],"status":200}"#,
            r#"{"type":"request","ts":"2026-11-26T08:00:00Z","proxy":"p","latency_ms":-0.0}"#,
            r#"{"type":"request","ts":"2026-11-26T08:00:00Z","proxy":"p","status":70000}"#,
            r#"{"type":"error","ts":"2026-11-26T08:00:00Z","kind":"k","message":"m","context":null}"#,
            r#"{"type":"campaign","id":null,"name":5}"#,
            r#"{"type":"record","data": { "a" : 1 ,"b":[ {"}":"{"} ] } , "x":2}"#,
            r#"{"type":"record","data":{}}"#,
            r#"{"type":"record","data":{"e":"\ud83d\ude00"},"data":{"a":1}}"#,
        ];
        let mut fast_hits = 0;
        for line in utf8_lines(example).chain(utf8_lines(golden)).chain(odd) {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let checked = parse_event_checked(line);
            if let Some(fast) = fast_parse(line, &mut Spares::default()) {
                fast_hits += 1;
                assert_eq!(Ok(fast), checked, "{line}");
            }
        }
        assert!(
            fast_hits > 300,
            "the fast path takes the common lines ({fast_hits})"
        );
    }

    #[test]
    fn events_read_into_spare_storage_equal_fresh_ones() {
        let example = include_bytes!("../../examples/events.ndjson");
        let extra: [&str; 4] = [
            r#"{"type":"request","ts":"2026-11-26T08:00:00Z","proxy":"http://u:pw@h:1","url":"https://a/very/long/url/that/needs/more/room","error":"Timeout"}"#,
            r#"{"type":"request","ts":"2026-11-26T08:00:00Z","proxy":"p"}"#,
            r#"{"type":"record","data":{"a":[1,{"b":2}],"c":"\u00e9"}}"#,
            r#"{"type":"record","data":{"z":1}}"#,
        ];
        let lines: Vec<&[u8]> = example
            .split(|&b| b == b'\n')
            .chain(extra.iter().map(|l| l.as_bytes()))
            .collect();
        let mut spares = Spares::keeping(16);
        // each event goes back to the spares before the next line, in three different
        // orders, so every kind of storage is refilled by every other kind of line
        for round in 0..3 {
            for i in 0..lines.len() {
                let line = lines[(i * (2 * round + 1)) % lines.len()];
                let reused = parse_line_into(line, &mut spares);
                assert_eq!(
                    reused,
                    parse_line(line),
                    "{}",
                    String::from_utf8_lossy(line)
                );
                if let Line::Event(event) = reused {
                    spares.keep(event);
                }
            }
        }
        assert!(!spares.records.is_empty() && !spares.requests.is_empty());
    }

    #[test]
    fn spares_let_go_of_storage_an_outsized_record_grew() {
        fn record(text: &str, spares: &mut Spares) -> ParsedEvent {
            let line = format!(r#"{{"type":"record","data":{{"t":"{text}"}}}}"#);
            let Line::Event(event) = parse_line_into(line.as_bytes(), spares) else {
                panic!("{line}")
            };
            event
        }
        let mut spares = Spares::keeping(64);
        for _ in 0..32 {
            let event = record(&"a".repeat(500), &mut spares);
            spares.keep(event);
        }
        let big = record(&"b".repeat(100_000), &mut spares);
        spares.keep(big);
        let capacities: Vec<usize> = spares.records.iter().map(|r| r.text_capacity()).collect();
        assert!(capacities.iter().all(|&c| c < 1024), "{capacities:?}");
        assert_eq!(capacities.last(), Some(&0), "the big record's storage went");
    }

    #[test]
    fn the_fast_parse_takes_the_edge_lines() {
        for (i, line) in EDGE_LINES.iter().enumerate() {
            let fast = fast_parse(line, &mut Spares::default());
            // the second line's record has a `ts` that is no string: left to the careful parse
            assert_eq!(fast.is_some(), i != 1, "{line}");
            if let Some(fast) = fast {
                assert_eq!(Ok(fast), parse_event_checked(line));
            }
        }
    }

    proptest::proptest! {
        /// Whatever the fast parse makes of a line, broken or not, the careful parse makes
        /// the same: the fast one may only give up.
        #[test]
        fn the_fast_parse_never_disagrees(
            pick in proptest::sample::select(EDGE_LINES.to_vec()),
            edits in proptest::collection::vec(
                (proptest::prelude::any::<proptest::sample::Index>(), 0..3u8,
                 "[\\[\\]{}\",:\\\\ 0-9eE.+\\-tfnrua\u{1}\u{e9}]"),
                0..4,
            ),
        ) {
            let mut text: Vec<char> = pick.chars().collect();
            for (at, op, with) in edits {
                let with = with.chars().next().unwrap();
                let i = at.index(text.len() + 1);
                match op {
                    0 => text.insert(i, with),
                    1 if i < text.len() => {
                        text.remove(i);
                    }
                    _ if i < text.len() => text[i] = with,
                    _ => text.push(with),
                }
            }
            let line: String = text.into_iter().collect();
            if let Some(fast) = fast_parse(&line, &mut Spares::default()) {
                proptest::prop_assert_eq!(Ok(fast), parse_event_checked(&line), "{}", line);
            }
        }
    }

    #[test]
    fn raw_line_is_cut_on_a_char_boundary() {
        let raw = "é".repeat(RAW_LINE_LIMIT); // 2 bytes each
        let at = Location {
            input: "x".into(),
            line: 1,
        };
        let e = bad_input_event(
            &at,
            &BadLine::new(BadReason::InvalidJson, "x"),
            raw.as_bytes(),
        );
        let ctx = e.context.unwrap();
        assert_eq!(ctx["raw"].as_str().unwrap().len(), RAW_LINE_LIMIT);
        assert_eq!(ctx["raw_bytes"], 2 * RAW_LINE_LIMIT as u64);
    }
}
