//! Reading the NDJSON event stream (docs/contract.md §2): line by line, keeping the input's name
//! and line number, and classifying every line as blank, an event, or bad input.

use std::io::BufRead;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use exporter_core::Location;
use exporter_core::{Campaign, ErrorEvent, JsonObject, Request, Severity, Timestamp};

mod fast;
pub(crate) mod parallel;
pub(crate) mod prefetch;

pub(crate) use fast::Spares;
use fast::fast_parse;

/// An event parsed from one line, owning its data.
///
/// ```
/// use exporter_runtime::{parse_line, Line, ParsedEvent};
/// let line = parse_line(br#"{"type":"record","data":{"place_id":"p1"}}"#);
/// assert!(matches!(line, Line::Event(ParsedEvent::Record(_))));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ParsedEvent {
    /// A `campaign` event.
    Campaign(Box<Campaign>),
    /// A `record` event's `data` object, kept as text.
    Record(JsonObject),
    /// A `request` event. Boxed, like the error and the campaign facts: the lines of a batch
    /// stay small to move and to hand to the sinks' thread.
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
/// assert_eq!(exporter_runtime::BadReason::InvalidJson.as_str(), "invalid_json");
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
/// use exporter_core::Location;
/// use exporter_runtime::{bad_input_event, BadLine, BadReason, parse_line, Line};
/// let Line::Bad(bad) = parse_line(b"{oops") else { panic!() };
/// let at = Location { input: "in.ndjson".into(), line: 3 };
/// let e = bad_input_event(&at, &bad, b"{oops");
/// assert_eq!(e.kind, "BadInput");
/// assert_eq!(e.context.as_ref().unwrap()["line"], 3);
/// assert_eq!(e.context.as_ref().unwrap()["raw_bytes"], 5);
/// ```
pub fn bad_input_event(at: &Location, bad: &BadLine, raw: &[u8]) -> ErrorEvent {
    let lossy = String::from_utf8_lossy(raw);
    // masked before it is cut: a cut before an `@` would keep the password it ends
    let text = exporter_core::redact(&lossy);
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

/// Classifies one line (without its line ending; a trailing `\r` is tolerated).
///
/// ```
/// use exporter_runtime::{parse_line, Line, BadReason};
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

/// The fields of a line, each as its raw JSON text. A key written twice keeps its last
/// value, as inside `data` (JSON readers agree on that, and so a line means what it means
/// to them).
struct RawLine<'a> {
    ty: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    name: Option<&'a RawValue>,
    started_at: Option<&'a RawValue>,
    finished_at: Option<&'a RawValue>,
    data: Option<&'a RawValue>,
    ts: Option<&'a RawValue>,
    proxy: Option<&'a RawValue>,
    url: Option<&'a RawValue>,
    status: Option<&'a RawValue>,
    latency_ms: Option<&'a RawValue>,
    bytes: Option<&'a RawValue>,
    ok: Option<&'a RawValue>,
    error: Option<&'a RawValue>,
    blocked: Option<&'a RawValue>,
    severity: Option<&'a RawValue>,
    kind: Option<&'a RawValue>,
    message: Option<&'a RawValue>,
    context: Option<&'a RawValue>,
}

impl<'a> RawLine<'a> {
    fn parse(text: &'a str) -> Result<Self, serde_json::Error> {
        let members: std::collections::HashMap<String, &'a RawValue> = serde_json::from_str(text)?;
        // a null field is an absent one
        let get = |key: &str| members.get(key).copied().filter(|raw| raw.get() != "null");
        Ok(RawLine {
            ty: get("type"),
            id: get("id"),
            name: get("name"),
            started_at: get("started_at"),
            finished_at: get("finished_at"),
            data: get("data"),
            ts: get("ts"),
            proxy: get("proxy"),
            url: get("url"),
            status: get("status"),
            latency_ms: get("latency_ms"),
            bytes: get("bytes"),
            ok: get("ok"),
            error: get("error"),
            blocked: get("blocked"),
            severity: get("severity"),
            kind: get("kind"),
            message: get("message"),
            context: get("context"),
        })
    }
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
    // masked before it is cut, so a cut cannot keep half of a password
    let s = exporter_core::redact(raw.get());
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
    let line = RawLine::parse(text)
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
                && !(0.0..=Request::MAX_LATENCY_MS).contains(&l)
            {
                return Err(BadLine::new(
                    BadReason::WrongType,
                    format!(
                        "field `latency_ms`: expected a number from 0 to 1e9 (ms), found {}",
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
/// use exporter_runtime::{LineReader, Line};
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
    use exporter_json::has_surrogate_escape;

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
                format!(r#"{{"type":"request","ts":"{ts}","proxy":"p","latency_ms":1e300}}"#),
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
            (
                r#"{"type":"record","data":{},"type":"heartbeat"}"#.into(),
                UnknownType,
            ),
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
        // at the top level too
        let Line::Event(ParsedEvent::Record(again)) =
            parse_line(br#"{"type":"record","data":{"a":1},"data":{"a":2}}"#)
        else {
            panic!()
        };
        assert_eq!(again.to_map()["a"], 2);
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
        let example = include_bytes!("../../../examples/events.ndjson");
        let golden = include_bytes!("../../../exporter-cli/tests/golden/csv/events.ndjson");
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
