//! The fast parse of an event line: one pass with a [`Cursor`] that checks the JSON grammar,
//! into storage kept from events the sinks are done with ([`Spares`]). It gives up on anything
//! unusual, and the careful parse in the parent module decides.

use std::borrow::Cow;

use super::ParsedEvent;
use exporter_core::{Campaign, ErrorEvent, JsonObject, Request, Severity, Timestamp};
use exporter_json::Cursor;

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
/// an escaped key, a missing field) gives up and leaves the line to [`super::parse_event_checked`],
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
pub(super) fn fast_parse(line: &str, spares: &mut Spares) -> Option<ParsedEvent> {
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
                    if let Some(next) = spares.records.last() {
                        crate::ingest::prefetch::record(next);
                    }
                    let before = c.surrogate_escapes();
                    data.index_members(&mut c)?;
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
                    .is_some_and(|l| !(0.0..=Request::MAX_LATENCY_MS).contains(&l))
                {
                    return None;
                }
                let ts = Timestamp::parse(&self.ts?).ok()?;
                let proxy = self.proxy?;
                let mut r = spares
                    .requests
                    .pop()
                    .unwrap_or_else(|| Box::new(Request::new(ts, String::new())));
                crate::ingest::prefetch::spare_requests(&spares.requests);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Line, parse_line, parse_line_into};

    #[test]
    fn events_read_into_spare_storage_equal_fresh_ones() {
        let example = include_bytes!("../../../examples/events.ndjson");
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
}
