//! [`JsonObject`]: a record's `data` kept as its JSON text, with an index of its members.

use std::borrow::Cow;
use std::fmt;

use crate::cursor::{Cursor, Scan, trim_json_whitespace};

use serde_json::{Map, Value};

/// A JSON object kept as its source text, with where each member's key and value are.
///
/// Records read from NDJSON take this form: the reader checks and indexes the object on a
/// parser thread, and a sink then takes each value's text straight from
/// [`JsonObject::members`] (no map is built or freed per record, and a string without
/// escapes is borrowed as it is).
///
/// ```
/// use exporter_json::JsonObject;
/// let data = JsonObject::parse(r#"{"place_id": "p1", "rating": 4.50, "tags": ["a"]}"#).unwrap();
/// let members: Vec<_> = data.members().collect();
/// assert_eq!(members[0], ("place_id".into(), r#""p1""#));
/// assert_eq!(members[1], ("rating".into(), "4.50"));
/// assert_eq!(members[2], ("tags".into(), r#"["a"]"#));
/// assert_eq!(data.to_map()["rating"], 4.5);
/// assert!(JsonObject::parse("[1, 2]").is_err());
/// assert!(JsonObject::parse(r#"{"a": 1,}"#).is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct JsonObject {
    // a String and a Vec, not boxed: the reader refills the objects of batches the sinks are
    // done with, so a record costs no allocation once their capacity has grown to fit
    text: String,
    members: Vec<Member>,
}

/// Where one member of a [`JsonObject`] is: byte ranges into its text of the key (with its
/// quotes) and of the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    key: (u32, u32),
    value: (u32, u32),
}

impl JsonObject {
    /// Checks that `text` is one JSON object (surrounding whitespace allowed) and keeps it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = trim_json_whitespace(text);
        // the full parse is the authority on what is valid (escapes that do not decode
        // included); the index pass only skips over values
        if let Err(e) = serde_json::from_str::<Map<String, Value>>(text) {
            return Err(format!("not a JSON object: {e}"));
        }
        if text.len() > u32::MAX as usize {
            return Err("not a JSON object: over 4 GiB".to_string());
        }
        let members: Vec<_> = Self::members_of(text).collect();
        Ok(Self::from_pairs(text, &members))
    }

    /// An object with no text and no members, to be filled by
    /// [`JsonObject::index_members`] and [`JsonObject::refill`]: how a reader reuses the
    /// storage of objects it is done with.
    ///
    /// ```
    /// use exporter_json::{Cursor, JsonObject};
    /// let line = r#"{"type":"record","data":{"a":1,"b":[2]}}"#;
    /// let mut c = Cursor::new(line);
    /// c.eat(b'{').unwrap();
    /// c.member_key().unwrap(); // "type"
    /// c.value().unwrap();
    /// c.eat(b',').unwrap();
    /// c.member_key().unwrap(); // "data"
    /// let mut data = JsonObject::spare();
    /// data.index_members(&mut c).unwrap();
    /// assert!(data.refill(line));
    /// assert_eq!(data.as_str(), r#"{"a":1,"b":[2]}"#);
    /// assert_eq!(data.members().count(), 2);
    /// ```
    pub fn spare() -> Self {
        JsonObject {
            text: String::new(),
            members: Vec::new(),
        }
    }

    /// Frees the text's storage when it holds more than `bytes` (the next
    /// [`JsonObject::refill`] takes what it needs).
    pub fn let_go_beyond(&mut self, bytes: usize) {
        if self.text.capacity() > bytes {
            self.text = String::new();
        }
    }

    /// How many bytes the text's storage holds.
    pub fn text_capacity(&self) -> usize {
        self.text.capacity()
    }

    /// Reads the object at the cursor, checking it, and indexes its members (as spans of the
    /// cursor's text) into this object's member list; [`JsonObject::refill`] then takes its
    /// text. `None` when the text there is no object (what the grammar refuses, or nesting
    /// deeper than [`crate::MAX_DEPTH`]).
    pub fn index_members(&mut self, c: &mut Cursor<'_>) -> Option<()> {
        let members = &mut self.members;
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

    /// Fills this object with the JSON object `text` (reusing its storage): `false`, leaving
    /// it empty, when `text` is not one object or nests deeper than [`crate::MAX_DEPTH`]
    /// (then `JsonObject::parse` decides). How a record written by `serde_json` from a Rust
    /// value takes the form of one read from a stream.
    ///
    /// ```
    /// use exporter_json::JsonObject;
    /// let mut data = JsonObject::spare();
    /// assert!(data.fill_from(r#"{"id":"p1","n":[1,2]}"#));
    /// assert_eq!(data.members().count(), 2);
    /// assert!(!data.fill_from("[1]"));
    /// assert!(!data.fill_from("{}")); // no member to place it by: parse it
    /// assert!(JsonObject::parse("{}").is_ok());
    /// ```
    pub fn fill_from(&mut self, text: &str) -> bool {
        let mut c = Cursor::new(text);
        let indexed = self.index_members(&mut c).is_some() && c.at_end() && self.refill(text);
        if indexed && has_surrogate_escape(text) && Self::parse(text).is_err() {
            self.members.clear();
            return false;
        }
        if !indexed {
            self.members.clear();
            self.text.clear();
        }
        indexed
    }

    /// Takes the object whose members were indexed (into this object's own member list, as
    /// spans of `source`) out of `source`: it spans from the `{` before the
    /// first member to the `}` after the last. `false` without members (the object cannot be
    /// placed) or for an object over 4 GiB. How the reader indexes `data` in the same pass
    /// that reads the rest of the line, into storage it reuses.
    pub fn refill(&mut self, source: &str) -> bool {
        const WS: [char; 4] = [' ', '\t', '\r', '\n'];
        let (Some(first), Some(last)) = (self.members.first(), self.members.last()) else {
            return false;
        };
        let (key_at, value_end) = (first.key.0 as usize, last.value.1 as usize);
        let Some(open) = source
            .get(..key_at)
            .and_then(|before| before.trim_end_matches(WS).len().checked_sub(1))
        else {
            return false;
        };
        let Some(after) = source.get(value_end..) else {
            return false;
        };
        let close = value_end + (after.len() - after.trim_start_matches(WS).len());
        if source.as_bytes()[open] != b'{' || source.as_bytes().get(close) != Some(&b'}') {
            return false;
        }
        let shift = open as u32; // spans fit u32, so the source up to them does
        for m in &mut self.members {
            m.key = (m.key.0 - shift, m.key.1 - shift);
            m.value = (m.value.0 - shift, m.value.1 - shift);
        }
        let text = &source[open..=close];
        self.text.clear();
        // not doubled: storage kept for the next record should not hold twice what records
        // need; rounded up, so records a few bytes longer than the last fit as they are
        self.text.reserve_exact(text.len().next_multiple_of(256));
        self.text.push_str(text);
        true
    }

    /// `text` with the members read out of it (borrowed slices of it).
    fn from_pairs(text: &str, members: &[(&str, &str)]) -> Self {
        let span = |part: &str| {
            let start = part.as_ptr() as usize - text.as_ptr() as usize;
            (start as u32, (start + part.len()) as u32)
        };
        JsonObject {
            text: text.to_string(),
            members: members
                .iter()
                .map(|(key, value)| Member {
                    key: span(key),
                    value: span(value),
                })
                .collect(),
        }
    }

    /// The members of the JSON object `text` as written: each key's text with its quotes and
    /// its value's text, borrowed, with nothing built or allocated. For checked JSON, such as
    /// an object or array nested in a record's value (the `csv` sink writes object cells from
    /// it): `text` is not checked, and text that is not JSON gives members that mean nothing
    /// (never a panic).
    ///
    /// ```
    /// use exporter_json::JsonObject;
    /// let members: Vec<_> = JsonObject::members_of(r#" {"a": [1, "]"], "b\n": null} "#).collect();
    /// assert_eq!(members, [(r#""a""#, r#"[1, "]"]"#), (r#""b\n""#, "null")]);
    /// assert_eq!(JsonObject::members_of("[1]").count(), 0);
    /// ```
    pub fn members_of(text: &str) -> JsonMembers<'_> {
        JsonMembers(Scan::inside(text, b'{'))
    }

    /// The items of the JSON array `text`, each item's text borrowed; like
    /// [`JsonObject::members_of`], for checked JSON.
    ///
    /// ```
    /// use exporter_json::JsonObject;
    /// let items: Vec<_> = JsonObject::items_of(r#"[1.50, "a,\"]", {"b": [2]}, null]"#).collect();
    /// assert_eq!(items, ["1.50", r#""a,\"]""#, r#"{"b": [2]}"#, "null"]);
    /// assert_eq!(JsonObject::items_of("[ ]").count(), 0);
    /// ```
    pub fn items_of(text: &str) -> JsonItems<'_> {
        JsonItems(Scan::inside(text, b'['))
    }

    /// The member index, as laid out in memory (for hinting it into the cache).
    pub fn member_index(&self) -> &[Member] {
        &self.members
    }

    /// The object's JSON text, as it was read.
    ///
    /// ```
    /// let data = exporter_json::JsonObject::parse(r#"{"a":1}"#).unwrap();
    /// assert_eq!(data.as_str(), r#"{"a":1}"#);
    /// ```
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Each member in the order written: its key (unescaped; borrowed unless it had escapes)
    /// and its value's JSON text. A repeated key is listed each time; the last one is the
    /// value JSON readers keep.
    ///
    /// ```
    /// let data = exporter_json::JsonObject::parse(r#"{"caf\u00e9": null, "a": 1, "a": 2}"#).unwrap();
    /// let keys: Vec<_> = data.members().map(|(k, _)| k.into_owned()).collect();
    /// assert_eq!(keys, ["café", "a", "a"]);
    /// ```
    pub fn members(&self) -> impl Iterator<Item = (Cow<'_, str>, &str)> {
        self.members.iter().map(|m| {
            let key = Self::unquote(&self.text[m.key.0 as usize..m.key.1 as usize]);
            (key, &self.text[m.value.0 as usize..m.value.1 as usize])
        })
    }

    /// The value of a JSON string given as its text, quotes included, from a checked object
    /// (so it decodes): borrowed unless it has escapes.
    ///
    /// ```
    /// use exporter_json::JsonObject;
    /// assert_eq!(JsonObject::unquote(r#""plain""#), "plain");
    /// assert_eq!(JsonObject::unquote(r#""caf\u00e9 \"x\"""#), "café \"x\"");
    /// ```
    pub fn unquote(text: &str) -> Cow<'_, str> {
        match between_quotes(text) {
            plain if !plain.contains('\\') => Cow::Borrowed(plain),
            _ => {
                let mut value = String::new();
                Self::unquote_into(text, &mut value);
                Cow::Owned(value)
            }
        }
    }

    /// Writes the value of a JSON string given as its text, quotes included, after what `out`
    /// holds: [`JsonObject::unquote`] into storage of the caller's. For text from a checked
    /// object; other text gives a value that means nothing (never a panic).
    ///
    /// ```
    /// let mut out = String::from("> ");
    /// exporter_json::JsonObject::unquote_into(r#""a\tb \ud83d\ude00""#, &mut out);
    /// assert_eq!(out, "> a\tb \u{1F600}");
    /// ```
    pub fn unquote_into(text: &str, out: &mut String) {
        decode_string(between_quotes(text), |part| out.push_str(part));
    }

    /// Writes `value` as a JSON string, quotes included, escaped as `serde_json` escapes it
    /// (so cells of compact JSON read the same whichever way they were made).
    ///
    /// ```
    /// let mut out = String::new();
    /// exporter_json::JsonObject::quote_into("a \"b\"\n\u{1}é", &mut out);
    /// assert_eq!(out, r#""a \"b\"\n\u0001é""#);
    /// ```
    pub fn quote_into(value: &str, out: &mut String) {
        out.push('"');
        escape_into(value, out);
        out.push('"');
    }

    /// A JSON string given as its text, quotes included, from a checked object, written as
    /// `serde_json` would write its value: [`JsonObject::unquote`] then
    /// [`JsonObject::quote_into`], without the value in between.
    ///
    /// ```
    /// let mut out = String::new();
    /// exporter_json::JsonObject::requote_into(r#""caf\u00e9 \/ \"x\"""#, &mut out);
    /// assert_eq!(out, r#""café / \"x\"""#);
    /// ```
    pub fn requote_into(text: &str, out: &mut String) {
        out.push('"');
        decode_string(between_quotes(text), |part| escape_into(part, out));
        out.push('"');
    }

    /// Whether `text` is one JSON object, checked as the reader checks records: by skipping
    /// over it, with the full parse only where a `\u` escape may be half of a surrogate pair
    /// (skipping does not check that escapes pair up).
    ///
    /// ```
    /// use exporter_json::JsonObject;
    /// assert!(JsonObject::is_object(r#"{"a": [1, {"b": "\ud83d\ude00"}]}"#));
    /// assert!(!JsonObject::is_object(r#"{"a": "\ud800"}"#));
    /// assert!(!JsonObject::is_object("[1]"));
    /// assert!(!JsonObject::is_object("{} {}"));
    /// ```
    pub fn is_object(text: &str) -> bool {
        let text = trim_json_whitespace(text);
        if !text.starts_with('{') {
            return false;
        }
        if has_surrogate_escape(text) {
            return serde_json::from_str::<Map<String, Value>>(text).is_ok();
        }
        // read without allocating; serde_json decides only what the cursor refuses (nesting
        // deeper than it reads, or text that is no JSON at all)
        let mut c = Cursor::new(text);
        (c.value().is_some() && c.at_end())
            || serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
    }

    /// The object as a map (copies; a repeated key keeps its last value).
    ///
    /// ```
    /// let data = exporter_json::JsonObject::parse(r#"{"a": 1, "a": 2}"#).unwrap();
    /// assert_eq!(data.to_map()["a"], 2);
    /// ```
    pub fn to_map(&self) -> Map<String, Value> {
        serde_json::from_str(&self.text).expect("a JsonObject holds a checked JSON object")
    }
}

impl fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The text of a JSON string between its quotes (empty for text too short to have them).
fn between_quotes(text: &str) -> &str {
    text.get(1..text.len().saturating_sub(1))
        .unwrap_or_default()
}

/// Hands `emit` the value of the string whose text between the quotes is `inner`, piece by
/// piece: runs without escapes as they are, each escape decoded.
fn decode_string(inner: &str, mut emit: impl FnMut(&str)) {
    let mut rest = inner;
    while let Some(at) = memchr::memchr(b'\\', rest.as_bytes()) {
        emit(&rest[..at]);
        let escape = rest.as_bytes().get(at + 1).copied();
        rest = rest.get(at + 2..).unwrap_or_default();
        let c = match escape {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hex = |s: &str| s.get(..4).and_then(|h| u32::from_str_radix(h, 16).ok());
                let Some(unit) = hex(rest) else {
                    return;
                };
                rest = &rest[4..];
                let pair = (0xD800..0xDC00).contains(&unit)
                    && rest.starts_with("\\u")
                    && hex(&rest[2..]).is_some_and(|low| (0xDC00..0xE000).contains(&low));
                let code = if pair {
                    let low = hex(&rest[2..]).unwrap_or(0xDC00);
                    rest = &rest[6..];
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    unit
                };
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
            _ => return,
        };
        emit(c.encode_utf8(&mut [0; 4]));
    }
    emit(rest);
}

/// Escapes `value` for a JSON string as `serde_json` does: quote, backslash and control
/// characters (the short forms where JSON has them), nothing else.
fn escape_into(value: &str, out: &mut String) {
    let mut from = 0;
    for (i, b) in value.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(&value[from..i]);
        from = i + 1;
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(short);
        }
    }
    out.push_str(&value[from..]);
}

/// Whether `text` may hold a `\uD800`-`\uDFFF` escape (half of a surrogate pair): what the
/// grammar alone cannot tell is valid, so such text gets serde_json's full parse.
///
/// ```
/// assert!(exporter_json::has_surrogate_escape(r#""\ud83d\ude00""#));
/// assert!(!exporter_json::has_surrogate_escape(r#""\u00e9""#));
/// ```
pub fn has_surrogate_escape(text: &str) -> bool {
    // a backslash is found with memchr; most text has none
    text.match_indices('\\').any(|(i, _)| {
        matches!(
            &text.as_bytes()[i + 1..],
            [
                b'u',
                b'd' | b'D',
                b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F',
                ..,
            ]
        )
    })
}

/// Indexes an object's members as serde reads it, into `members` as spans of `source` (the
/// text being deserialized, which the values are borrowed from): what the tests hold the
/// reader's own indexing and the scanner to.
#[cfg(test)]
use serde::de::{Deserializer, MapAccess, Visitor};
#[cfg(test)]
use serde_json::value::RawValue;

#[cfg(test)]
pub(crate) struct MemberSpans<'s> {
    pub(crate) source: &'s str,
    pub(crate) members: &'s mut Vec<Member>,
}

#[cfg(test)]
impl<'de, 's> serde::de::DeserializeSeed<'de> for MemberSpans<'s> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

#[cfg(test)]
impl<'de, 's> Visitor<'de> for MemberSpans<'s> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let base = self.source.as_ptr() as usize;
        let span = |part: &str| -> Result<(u32, u32), A::Error> {
            let start = (part.as_ptr() as usize)
                .checked_sub(base)
                .filter(|s| s + part.len() <= self.source.len())
                .ok_or_else(|| serde::de::Error::custom("a member outside its line"))?;
            u32::try_from(start + part.len())
                .map(|end| (start as u32, end))
                .map_err(|_| serde::de::Error::custom("an object over 4 GiB"))
        };
        self.members.clear();
        while let Some(key) = map.next_key::<&'de RawValue>()? {
            let value: &'de RawValue = map.next_value()?;
            self.members.push(Member {
                key: span(key.get())?,
                value: span(value.get())?,
            });
        }
        Ok(())
    }
}

/// The members of an object's text: see [`JsonObject::members_of`].
///
/// ```
/// let mut members = exporter_json::JsonObject::members_of(r#"{"a": 1}"#);
/// assert_eq!(members.next(), Some((r#""a""#, "1")));
/// assert_eq!(members.next(), None);
/// ```
#[derive(Clone, Debug)]
pub struct JsonMembers<'a>(Scan<'a>);

impl<'a> Iterator for JsonMembers<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let key = self.0.next_value()?;
        self.0.colon()?;
        let value = self.0.next_value()?;
        Some((key, value))
    }
}

/// The items of an array's text: see [`JsonObject::items_of`].
///
/// ```
/// let mut items = exporter_json::JsonObject::items_of("[true]");
/// assert_eq!(items.next(), Some("true"));
/// assert_eq!(items.next(), None);
/// ```
#[derive(Clone, Debug)]
pub struct JsonItems<'a>(Scan<'a>);

impl<'a> Iterator for JsonItems<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.0.next_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_point_at_their_text() {
        let text = r#" { "a\"b" : 1.50e3 , "c":{"x":[1, 2]}, "d\u00e9": "s\n" , "e":null} "#;
        let data = JsonObject::parse(text).unwrap();
        let members: Vec<(String, &str)> =
            data.members().map(|(k, v)| (k.into_owned(), v)).collect();
        assert_eq!(
            members,
            [
                ("a\"b".to_string(), "1.50e3"),
                ("c".to_string(), r#"{"x":[1, 2]}"#),
                ("dé".to_string(), r#""s\n""#),
                ("e".to_string(), "null"),
            ]
        );
        assert_eq!(data.as_str(), trim_json_whitespace(text));
        assert!(JsonObject::parse("{}").unwrap().members().next().is_none());
    }

    #[test]
    fn an_object_is_found_around_its_members() {
        let line = r#"{"type":"record","data": { "a" : 1 ,"b":[ {"}":"{"} ] }  , "x":2}"#;
        let mut data = JsonObject::spare();
        let seed = MemberSpans {
            source: line,
            members: &mut data.members,
        };
        let value = &line[24..line.len() - 10];
        serde::de::DeserializeSeed::deserialize(
            seed,
            &mut serde_json::Deserializer::from_str(value),
        )
        .unwrap();
        assert!(data.refill(line));
        assert_eq!(data.as_str(), r#"{ "a" : 1 ,"b":[ {"}":"{"} ] }"#);
        assert_eq!(data, JsonObject::parse(data.as_str()).unwrap());
        assert!(!JsonObject::spare().refill(line));
    }

    #[test]
    fn bad_objects_are_refused() {
        for text in [
            "{}\u{b}",
            "\u{a0}{}",
            r#"{"a":"\ud800"}"#,
            "{",
            r#"{"a" 1}"#,
            "null",
            r#""{}""#,
            "{} {}",
        ] {
            assert!(JsonObject::parse(text).is_err(), "{text}");
        }
    }

    proptest::proptest! {
        /// The scanner splits checked JSON exactly where serde_json does, however it is
        /// spaced and whatever its strings hold.
        #[test]
        fn the_scanner_splits_like_serde(value in crate::cursor::tests::json_value(), pretty: bool) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            let wrapped = format!(" {{ \"k\" : {text} , \"z\":[ {text} ,{text}] }} ");
            let mut spans = Vec::new();
            let seed = MemberSpans { source: &wrapped, members: &mut spans };
            serde::de::DeserializeSeed::deserialize(seed, &mut serde_json::Deserializer::from_str(&wrapped)).unwrap();
            let by_serde: Vec<(&str, &str)> = spans
                .iter()
                .map(|m| (&wrapped[m.key.0 as usize..m.key.1 as usize], &wrapped[m.value.0 as usize..m.value.1 as usize]))
                .collect();
            let scanned: Vec<_> = JsonObject::members_of(&wrapped).collect();
            proptest::prop_assert_eq!(&scanned, &by_serde);
            let items: Vec<&RawValue> = serde_json::from_str(by_serde[1].1).unwrap();
            let items: Vec<&str> = items.iter().map(|i| i.get()).collect();
            proptest::prop_assert_eq!(JsonObject::items_of(by_serde[1].1).collect::<Vec<_>>(), items);
            match &value {
                Value::Object(_) => {
                    let members: Vec<_> = JsonObject::members_of(&text).collect();
                    let mut spans = Vec::new();
                    let seed = MemberSpans { source: &text, members: &mut spans };
                    serde::de::DeserializeSeed::deserialize(seed, &mut serde_json::Deserializer::from_str(&text)).unwrap();
                    proptest::prop_assert_eq!(members.len(), spans.len());
                }
                Value::Array(a) => proptest::prop_assert_eq!(JsonObject::items_of(&text).count(), a.len()),
                _ => proptest::prop_assert_eq!(JsonObject::items_of(&text).count(), 0),
            }
        }

        /// On text that is not JSON the scanner still ends, and never panics.
        #[test]
        fn the_scanner_survives_any_text(text in "[\\[\\]{}\",:\\\\ a1]{0,40}") {
            let _ = JsonObject::members_of(&text).count();
            let _ = JsonObject::items_of(&text).count();
        }
    }

    proptest::proptest! {
        /// Strings decode as serde_json decodes them, whichever characters were written as
        /// escapes (surrogate pairs included), and are written back as serde_json writes them.
        #[test]
        fn strings_decode_and_encode_as_serde_does(
            value in "\\PC*|[\"\\\\/\u{0}-\u{1f}\u{7f}é\u{1F600}a]{0,12}",
            escape_mask: u64,
        ) {
            let mut text = String::from("\"");
            for (i, c) in value.chars().enumerate() {
                let plain = escape_mask >> (i % 64) & 1 == 0;
                match c {
                    '"' | '\\' => {
                        text.push('\\');
                        text.push(c);
                    }
                    c if (c as u32) < 0x20 || !plain => {
                        let mut units = [0u16; 2];
                        for unit in c.encode_utf16(&mut units) {
                            text.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                    c => text.push(c),
                }
            }
            text.push('"');
            let by_serde: String = serde_json::from_str(&text).unwrap();
            proptest::prop_assert_eq!(&by_serde, &value);
            proptest::prop_assert_eq!(JsonObject::unquote(&text), by_serde.as_str());
            let mut quoted = String::new();
            JsonObject::quote_into(&value, &mut quoted);
            proptest::prop_assert_eq!(&quoted, &serde_json::to_string(&value).unwrap());
            let mut requoted = String::new();
            JsonObject::requote_into(&text, &mut requoted);
            proptest::prop_assert_eq!(requoted, quoted);
        }

        /// On text that is no JSON string, decoding still ends, and never panics.
        #[test]
        fn decoding_survives_any_text(text in "[\\\\u\"0-9a-fA-FdD]{0,16}") {
            let _ = JsonObject::unquote(&text);
            let mut out = String::new();
            JsonObject::requote_into(&text, &mut out);
        }
    }
}
