//! The event model (docs/contract.md §2): campaign, record, request and error events.
//!
//! Events reach sinks as [`Event`], which borrows: a record pushed from Rust as a typed
//! `Serialize` value and a record read from NDJSON look the same to a sink, and neither is
//! copied on the way.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

pub use exporter_json::JsonObject;
use time::format_description::well_known::Rfc3339;

/// An instant from the event stream, parsed from RFC 3339 text.
///
/// ```
/// use exporter_core::Timestamp;
/// let ts = Timestamp::parse("2026-11-26T08:00:01.250Z").unwrap();
/// assert_eq!(ts.to_string(), "2026-11-26T08:00:01.25Z");
/// assert!(Timestamp::parse("26/11/2026 08:00").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Parses RFC 3339 text (`2026-11-26T08:00:00Z`, `2026-11-26T09:00:00+01:00`).
    ///
    /// ```
    /// use exporter_core::Timestamp;
    /// let ts = Timestamp::parse("2026-11-26T09:00:00+01:00").unwrap();
    /// assert_eq!(ts, Timestamp::parse("2026-11-26T08:00:00Z").unwrap()); // the same instant
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        OffsetDateTime::parse(text, &Rfc3339)
            .map(Timestamp)
            .map_err(|e| format!("not an RFC 3339 timestamp ({e}): {text:?}"))
    }

    /// The current time.
    ///
    /// ```
    /// assert!(exporter_core::Timestamp::now().unix_seconds() > 1_700_000_000);
    /// ```
    pub fn now() -> Self {
        Timestamp(OffsetDateTime::now_utc())
    }

    /// A timestamp from whole seconds since the Unix epoch (UTC).
    ///
    /// ```
    /// let ts = exporter_core::Timestamp::from_unix_seconds(0).unwrap();
    /// assert_eq!(ts.to_string(), "1970-01-01T00:00:00Z");
    /// ```
    pub fn from_unix_seconds(secs: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(secs)
            .ok()
            .map(Timestamp)
    }

    /// Whole seconds since the Unix epoch.
    ///
    /// ```
    /// let ts = exporter_core::Timestamp::parse("1970-01-01T00:01:00Z").unwrap();
    /// assert_eq!(ts.unix_seconds(), 60);
    /// ```
    pub fn unix_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Milliseconds since the Unix epoch, with fraction.
    ///
    /// ```
    /// let ts = exporter_core::Timestamp::parse("1970-01-01T00:00:01.5Z").unwrap();
    /// assert_eq!(ts.unix_millis(), 1500.0);
    /// ```
    pub fn unix_millis(&self) -> f64 {
        self.0.unix_timestamp_nanos() as f64 / 1e6
    }

    /// The underlying `time` value, for sinks that format dates themselves.
    ///
    /// ```
    /// let ts = exporter_core::Timestamp::parse("2026-11-26T08:00:00+01:00").unwrap();
    /// assert_eq!(ts.as_offset_datetime().hour(), 8);
    /// ```
    pub fn as_offset_datetime(&self) -> OffsetDateTime {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RFC 3339 has no room for years past 9999 or offsets with seconds
        let t = self.0;
        if !(0..=9999).contains(&t.year()) || t.offset().seconds_past_minute() != 0 {
            return write!(f, "{t}");
        }
        // straight into the formatter: date-time cells are written for every row
        struct Into<'a, 'b>(&'a mut fmt::Formatter<'b>);
        impl std::io::Write for Into<'_, '_> {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                let text = std::str::from_utf8(buf).map_err(std::io::Error::other)?;
                self.0.write_str(text).map_err(std::io::Error::other)?;
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        t.format_into(&mut Into(f), &Rfc3339)
            .map(|_| ())
            .map_err(|_| fmt::Error)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Campaign facts: from the manifest's `[campaign]`, overridden field by field by campaign
/// events in the stream.
///
/// ```
/// use exporter_core::Campaign;
/// let mut c = Campaign { id: Some("acme".into()), name: Some("ACME".into()), ..Default::default() };
/// c.update(&Campaign { name: Some("ACME dentists".into()), ..Default::default() });
/// assert_eq!(c.id.as_deref(), Some("acme"));
/// assert_eq!(c.name.as_deref(), Some("ACME dentists"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Campaign identifier.
    pub id: Option<String>,
    /// Human-readable name.
    pub name: Option<String>,
    /// Start time (RFC 3339).
    pub started_at: Option<String>,
    /// End time (RFC 3339).
    pub finished_at: Option<String>,
}

impl Campaign {
    /// Takes every field that `later` sets.
    ///
    /// ```
    /// use exporter_core::Campaign;
    /// let mut c = Campaign { id: Some("c1".into()), name: Some("Berlin".into()), ..Default::default() };
    /// c.update(&Campaign { name: Some("Berlin dentists".into()), ..Default::default() });
    /// assert_eq!((c.id.as_deref(), c.name.as_deref()), (Some("c1"), Some("Berlin dentists")));
    /// ```
    pub fn update(&mut self, later: &Campaign) {
        fn take(slot: &mut Option<String>, v: &Option<String>) {
            if v.is_some() {
                slot.clone_from(v);
            }
        }
        take(&mut self.id, &later.id);
        take(&mut self.name, &later.name);
        take(&mut self.started_at, &later.started_at);
        take(&mut self.finished_at, &later.finished_at);
    }

    /// Masks proxy passwords in every field (campaign names end up in every report).
    ///
    /// ```
    /// let mut c = exporter_core::Campaign { name: Some("via http://u:pw@h".into()), ..Default::default() };
    /// c.redact();
    /// assert_eq!(c.name.as_deref(), Some("via http://u:***@h"));
    /// ```
    pub fn redact(&mut self) {
        for text in [
            &mut self.id,
            &mut self.name,
            &mut self.started_at,
            &mut self.finished_at,
        ]
        .into_iter()
        .flatten()
        {
            crate::redact::redact_in_place(text);
        }
    }

    /// Seconds between `started_at` and `finished_at`, when both are valid timestamps.
    ///
    /// ```
    /// let c = exporter_core::Campaign {
    ///     started_at: Some("2026-11-26T08:00:00Z".into()),
    ///     finished_at: Some("2026-11-26T09:30:00Z".into()),
    ///     ..Default::default()
    /// };
    /// assert_eq!(c.duration_s(), Some(5400));
    /// ```
    pub fn duration_s(&self) -> Option<i64> {
        let start = Timestamp::parse(self.started_at.as_deref()?).ok()?;
        let end = Timestamp::parse(self.finished_at.as_deref()?).ok()?;
        Some(end.unix_seconds() - start.unix_seconds())
    }
}

/// One proxied request's telemetry.
///
/// `ok` and `blocked` may be left `None`; [`Request::is_ok`] and [`Request::is_blocked`]
/// derive them as docs/contract.md §2 says.
///
/// ```
/// use exporter_core::{Request, Timestamp};
/// let r = Request {
///     status: Some(429),
///     ..Request::new(Timestamp::parse("2026-11-26T08:00:01Z").unwrap(), "http://10.0.0.7:8080")
/// };
/// assert!(!r.is_ok());
/// assert!(r.is_blocked());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Request {
    /// When the request was made.
    pub ts: Timestamp,
    /// The proxy URL (its password is masked once the pipeline has seen it).
    pub proxy: String,
    /// The requested URL.
    pub url: Option<String>,
    /// HTTP status; `None` when no response came back.
    pub status: Option<u16>,
    /// Time to response in milliseconds; `None` when no response came back.
    pub latency_ms: Option<f64>,
    /// Response size in bytes.
    pub bytes: Option<u64>,
    /// Explicit success flag; derived when `None`.
    pub ok: Option<bool>,
    /// Error kind such as `Timeout`.
    pub error: Option<String>,
    /// Explicit block flag; derived when `None`.
    pub blocked: Option<bool>,
}

impl Request {
    /// The longest latency a request may report, in ms (about 11.6 days): beyond it a value
    /// is no latency but a unit mix-up or garbage, and the event is bad input.
    ///
    /// ```
    /// use exporter_core::Request;
    /// assert!(Request::MAX_LATENCY_MS / 86_400_000.0 > 11.0); // about 11.6 days
    /// ```
    pub const MAX_LATENCY_MS: f64 = 1e9;

    /// A request with only the required fields set.
    ///
    /// ```
    /// use exporter_core::{Request, Timestamp};
    /// let r = Request::new(Timestamp::now(), "http://proxy-1:8080");
    /// assert!(!r.has_response() && !r.is_ok());
    /// ```
    pub fn new(ts: Timestamp, proxy: impl Into<String>) -> Self {
        Request {
            ts,
            proxy: proxy.into(),
            url: None,
            status: None,
            latency_ms: None,
            bytes: None,
            ok: None,
            error: None,
            blocked: None,
        }
    }

    /// `ok` as given, else: status is 2xx or 3xx and there is no error.
    ///
    /// ```
    /// use exporter_core::{Request, Timestamp};
    /// let mut r = Request::new(Timestamp::now(), "p1");
    /// r.status = Some(302);
    /// assert!(r.is_ok());
    /// r.error = Some("Timeout".into());
    /// assert!(!r.is_ok());
    /// ```
    pub fn is_ok(&self) -> bool {
        self.ok
            .unwrap_or_else(|| matches!(self.status, Some(200..=399)) && self.error.is_none())
    }

    /// `blocked` as given, else: status is 403, 407 or 429.
    ///
    /// ```
    /// use exporter_core::{Request, Timestamp};
    /// let mut r = Request::new(Timestamp::now(), "p1");
    /// r.status = Some(429);
    /// assert!(r.is_blocked());
    /// r.blocked = Some(false); // as given wins
    /// assert!(!r.is_blocked());
    /// ```
    pub fn is_blocked(&self) -> bool {
        self.blocked
            .unwrap_or(matches!(self.status, Some(403 | 407 | 429)))
    }

    /// Whether a response came back (a status or a latency is known).
    ///
    /// ```
    /// use exporter_core::{Request, Timestamp};
    /// let mut r = Request::new(Timestamp::now(), "p1");
    /// r.status = Some(200);
    /// assert!(r.has_response());
    /// ```
    pub fn has_response(&self) -> bool {
        self.status.is_some()
    }
}

/// How serious an error event is.
///
/// ```
/// use exporter_core::Severity;
/// assert_eq!("warning".parse::<Severity>().unwrap(), Severity::Warning);
/// assert!(Severity::Critical > Severity::Error);
/// assert_eq!(Severity::default(), Severity::Error);
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Diagnostic detail.
    Debug,
    /// Worth knowing.
    Info,
    /// Something went wrong but was handled.
    Warning,
    /// A failure (the default).
    #[default]
    Error,
    /// A failure that endangers the campaign.
    Critical,
}

impl Severity {
    /// Every severity, least serious first.
    ///
    /// ```
    /// use exporter_core::Severity;
    /// let names: Vec<_> = Severity::ALL.iter().map(|s| s.as_str()).collect();
    /// assert_eq!(names, ["debug", "info", "warning", "error", "critical"]);
    /// ```
    pub const ALL: [Severity; 5] = [
        Severity::Debug,
        Severity::Info,
        Severity::Warning,
        Severity::Error,
        Severity::Critical,
    ];

    /// The lowercase name used in input and output.
    ///
    /// ```
    /// assert_eq!(exporter_core::Severity::Critical.as_str(), "critical");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Debug => "debug",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("unknown severity {s:?} (expected debug, info, warning, error or critical)")
            })
    }
}

/// A failure: an error event from the stream, a bad input line, a record a sink rejected, or
/// an error logged by application code. Every one becomes a row in the error log.
///
/// ```
/// use exporter_core::{ErrorEvent, Severity};
/// let e = ErrorEvent::new("Timeout", "read timed out").with_severity(Severity::Warning);
/// assert_eq!(e.kind, "Timeout");
/// assert_eq!(e.severity, Severity::Warning);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorEvent {
    /// When it happened.
    pub ts: Timestamp,
    /// How serious it is.
    pub severity: Severity,
    /// A short machine-friendly kind such as `Timeout`, `BadInput`, `SchemaViolation`.
    pub kind: String,
    /// What happened, for people.
    pub message: String,
    /// The URL concerned.
    pub url: Option<String>,
    /// The proxy concerned (password masked by the pipeline).
    pub proxy: Option<String>,
    /// Any JSON detail.
    pub context: Option<Value>,
}

impl ErrorEvent {
    /// Names the sink that raised the failure in its context (`"sink"`), unless the context
    /// names one already or is not an object.
    ///
    /// ```
    /// use exporter_core::ErrorEvent;
    /// let mut e = ErrorEvent::new("SchemaViolation", "m").with_context(serde_json::json!({"field": "id"}));
    /// e.name_sink("results");
    /// assert_eq!(e.context.unwrap()["sink"], "results");
    /// ```
    pub fn name_sink(&mut self, sink: &str) {
        match &mut self.context {
            Some(serde_json::Value::Object(map)) => {
                map.entry("sink")
                    .or_insert_with(|| serde_json::Value::String(sink.to_string()));
            }
            None => self.context = Some(serde_json::json!({ "sink": sink })),
            Some(_) => {}
        }
    }

    /// Kind of the failure recorded for a bad input line.
    ///
    /// ```
    /// use exporter_core::ErrorEvent;
    /// let e = ErrorEvent::new(ErrorEvent::BAD_INPUT, "invalid JSON at column 7");
    /// assert_eq!(e.kind, "BadInput");
    /// ```
    pub const BAD_INPUT: &'static str = "BadInput";
    /// Kind of the failure recorded for a record that violates its schema.
    ///
    /// ```
    /// use exporter_core::ErrorEvent;
    /// let e = ErrorEvent::new(ErrorEvent::SCHEMA_VIOLATION, "rating: maximum 5");
    /// assert_eq!(e.kind, "SchemaViolation");
    /// ```
    pub const SCHEMA_VIOLATION: &'static str = "SchemaViolation";

    /// An error of severity `error`, timestamped [now](crate::clock::now).
    ///
    /// ```
    /// use exporter_core::{ErrorEvent, Severity};
    /// let e = ErrorEvent::new("Timeout", "no answer in 30 s");
    /// assert_eq!((e.kind.as_str(), e.severity), ("Timeout", Severity::Error));
    /// ```
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorEvent {
            ts: crate::clock::now(),
            severity: Severity::Error,
            kind: kind.into(),
            message: message.into(),
            url: None,
            proxy: None,
            context: None,
        }
    }

    /// Sets the severity.
    ///
    /// ```
    /// use exporter_core::{ErrorEvent, Severity};
    /// let e = ErrorEvent::new("Captcha", "solved on retry").with_severity(Severity::Warning);
    /// assert_eq!(e.severity, Severity::Warning);
    /// ```
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Sets the JSON context.
    ///
    /// ```
    /// let e = exporter_core::ErrorEvent::new("X", "y").with_context(serde_json::json!({"attempt": 3}));
    /// assert_eq!(e.context.unwrap()["attempt"], 3);
    /// ```
    pub fn with_context(mut self, context: Value) -> Self {
        self.context = Some(context);
        self
    }

    /// Sets the timestamp.
    ///
    /// ```
    /// use exporter_core::{ErrorEvent, Timestamp};
    /// let at = Timestamp::from_unix_seconds(60).unwrap();
    /// assert_eq!(ErrorEvent::new("X", "y").with_ts(at).ts, at);
    /// ```
    pub fn with_ts(mut self, ts: Timestamp) -> Self {
        self.ts = ts;
        self
    }

    /// Masks every proxy password in every field, `context` included.
    ///
    /// ```
    /// let mut e = exporter_core::ErrorEvent::new("ProxyError", "via http://u:pw@h failed");
    /// e.redact();
    /// assert_eq!(e.message, "via http://u:***@h failed");
    /// ```
    pub fn redact(&mut self) {
        use crate::redact::{redact_address_in_place, redact_in_place, redact_json};
        redact_in_place(&mut self.kind);
        redact_in_place(&mut self.message);
        if let Some(url) = &mut self.url {
            redact_address_in_place(url);
        }
        if let Some(proxy) = &mut self.proxy {
            redact_address_in_place(proxy);
        }
        if let Some(ctx) = &mut self.context {
            redact_json(ctx);
        }
    }
}

/// A result record: its `data` object, kept as its JSON text with an index of its members
/// ([`JsonObject`]). The one form every record takes, however it arrived: read from NDJSON (the
/// reader checks and indexes the text on a parser thread) or pushed from Rust (serialized once
/// into the same form). A sink reads its values from [`Record::members`] as raw JSON text,
/// without any map being built.
///
/// ```
/// use exporter_core::{JsonObject, Record};
/// let data = JsonObject::parse(r#"{"place_id": "p1", "rating": 4.50}"#).unwrap();
/// let record = Record::new(&data);
/// let members: Vec<_> = record.members().map(|(k, v)| (k.into_owned(), v)).collect();
/// assert_eq!(members, [("place_id".to_string(), r#""p1""#), ("rating".to_string(), "4.50")]);
/// assert_eq!(record.to_json()["rating"], 4.5);
/// assert_eq!(record.as_str(), r#"{"place_id": "p1", "rating": 4.50}"#);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    data: &'a JsonObject,
}

impl<'a> Record<'a> {
    /// The record whose `data` is `data`.
    ///
    /// ```
    /// use exporter_core::{JsonObject, Record};
    /// let data = JsonObject::parse(r#"{"id": "p1", "tags": ["a"]}"#).unwrap();
    /// let record = Record::new(&data);
    /// assert_eq!(record.as_str(), data.as_str());
    /// ```
    pub fn new(data: &'a JsonObject) -> Self {
        Record { data }
    }

    /// The `data` object: its text and member index.
    ///
    /// ```
    /// use exporter_core::{JsonObject, Record};
    /// let data = JsonObject::parse(r#"{"id": "p1", "tags": ["a"]}"#).unwrap();
    /// let record = Record::new(&data);
    /// assert!(std::ptr::eq(record.data(), &data));
    /// ```
    pub fn data(&self) -> &'a JsonObject {
        self.data
    }

    /// Each member in the order written: its key (unescaped) and its value's JSON text. A
    /// key written twice is listed twice; the last one is the value JSON readers keep.
    ///
    /// ```
    /// use exporter_core::{JsonObject, Record};
    /// let data = JsonObject::parse(r#"{"id": "p1", "tags": ["a"]}"#).unwrap();
    /// let record = Record::new(&data);
    /// let keys: Vec<String> = record.members().map(|(k, _)| k.into_owned()).collect();
    /// assert_eq!(keys, ["id", "tags"]);
    /// ```
    pub fn members(&self) -> impl Iterator<Item = (std::borrow::Cow<'a, str>, &'a str)> + 'a {
        self.data.members()
    }

    /// The object's JSON text (as read, or as `serde_json` wrote a pushed record).
    ///
    /// ```
    /// use exporter_core::{JsonObject, Record};
    /// let data = JsonObject::parse(r#"{"id": "p1", "tags": ["a"]}"#).unwrap();
    /// let record = Record::new(&data);
    /// assert_eq!(record.as_str(), r#"{"id": "p1", "tags": ["a"]}"#);
    /// ```
    pub fn as_str(&self) -> &'a str {
        self.data.as_str()
    }

    /// The record as a JSON value (copies; for error contexts and the like, not the hot path).
    ///
    /// ```
    /// use exporter_core::{JsonObject, Record};
    /// let data = JsonObject::parse(r#"{"id": "p1", "tags": ["a"]}"#).unwrap();
    /// let record = Record::new(&data);
    /// assert_eq!(record.to_json()["tags"][0], "a");
    /// ```
    pub fn to_json(&self) -> Value {
        Value::Object(self.data.to_map())
    }
}

impl Serialize for Record<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.data.to_map().serialize(s)
    }
}

impl fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Record({})", self.as_str())
    }
}

/// An event as a sink receives it.
///
/// ```
/// use exporter_core::{Event, EventKind, Campaign};
/// let c = Campaign::default();
/// assert_eq!(Event::Campaign(&c).kind(), EventKind::Campaign);
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// Campaign facts changed (the sink may also read the merged campaign at finish).
    Campaign(&'a Campaign),
    /// A result record.
    Record(Record<'a>),
    /// Request telemetry.
    Request(&'a Request),
    /// A failure, from the stream or raised inside the run.
    Error(&'a ErrorEvent),
}

impl Event<'_> {
    /// Which kind of event this is.
    ///
    /// ```
    /// use exporter_core::{Event, EventKind, JsonObject, Record};
    /// let data = JsonObject::parse(r#"{"id": 1}"#).unwrap();
    /// assert_eq!(Event::Record(Record::new(&data)).kind(), EventKind::Record);
    /// ```
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Campaign(_) => EventKind::Campaign,
            Event::Record(_) => EventKind::Record,
            Event::Request(_) => EventKind::Request,
            Event::Error(_) => EventKind::Error,
        }
    }
}

/// The four kinds of event.
///
/// ```
/// assert_eq!(exporter_core::EventKind::Request.as_str(), "request");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `campaign`
    Campaign,
    /// `record`
    Record,
    /// `request`
    Request,
    /// `error`
    Error,
}

impl EventKind {
    /// The `type` value in the NDJSON stream.
    ///
    /// ```
    /// assert_eq!(exporter_core::EventKind::Campaign.as_str(), "campaign");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Campaign => "campaign",
            EventKind::Record => "record",
            EventKind::Request => "request",
            EventKind::Error => "error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(status: Option<u16>, error: Option<&str>) -> Request {
        Request {
            status,
            error: error.map(str::to_string),
            ..Request::new(
                Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
                "http://h:1",
            )
        }
    }

    #[test]
    fn derived_flags() {
        assert!(req(Some(200), None).is_ok());
        assert!(req(Some(304), None).is_ok());
        assert!(!req(Some(200), Some("CaptchaDetected")).is_ok());
        assert!(!req(None, Some("Timeout")).is_ok());
        assert!(!req(Some(404), None).is_ok());
        assert!(req(Some(407), None).is_blocked());
        assert!(!req(Some(200), None).is_blocked());
        let soft = Request {
            blocked: Some(true),
            ..req(Some(200), None)
        };
        assert!(soft.is_blocked());
    }
}
