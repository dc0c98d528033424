//! [`JsonObject`]: a record's `data` kept as its JSON text, with an index of its members.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A JSON object kept as its source text, with where each member's key and value are.
///
/// Records read from NDJSON take this form: the reader checks and indexes the object on a
/// parser thread, and a sink then takes each value's text straight from
/// [`JsonObject::members`] (no map is built or freed per record, and a string without
/// escapes is borrowed as it is).
///
/// ```
/// use exporter_core::JsonObject;
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
    text: Box<str>,
    // a Vec as collected: boxing it would cost a reallocation per record
    members: Vec<Member>,
}

/// Byte ranges into the text: the key with its quotes, and the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Member {
    key: (u32, u32),
    value: (u32, u32),
}

impl JsonObject {
    /// Checks that `text` is one JSON object (surrounding whitespace allowed) and keeps it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        // the full parse is the authority on what is valid (escapes that do not decode
        // included); the index pass only skips over values
        if let Err(e) = serde_json::from_str::<Map<String, Value>>(text) {
            return Err(format!("not a JSON object: {e}"));
        }
        if text.len() > u32::MAX as usize {
            return Err("not a JSON object: over 4 GiB".to_string());
        }
        let members = Self::members_of(text).map_err(|e| format!("not a JSON object: {e}"))?;
        Ok(Self::from_pairs(text, &members))
    }

    /// The object whose members `members` were read (borrowed) out of `source`: it spans from
    /// the `{` before the first to the `}` after the last. `None` without members (the object
    /// cannot be placed) or for an object over 4 GiB. How the reader indexes `data` in the same
    /// pass that reads the rest of the line.
    pub(crate) fn from_members(source: &str, members: &[(&str, &str)]) -> Option<Self> {
        const WS: [char; 4] = [' ', '\t', '\r', '\n'];
        let (first, last) = (members.first()?, members.last()?);
        let base = source.as_ptr() as usize;
        let key_at = (first.0.as_ptr() as usize).checked_sub(base)?;
        let value_end = (last.1.as_ptr() as usize).checked_sub(base)? + last.1.len();
        let open = source
            .get(..key_at)?
            .trim_end_matches(WS)
            .len()
            .checked_sub(1)?;
        let close = value_end
            + (source.len() - value_end - source.get(value_end..)?.trim_start_matches(WS).len());
        if source.as_bytes()[open] != b'{' || source.as_bytes().get(close) != Some(&b'}') {
            return None;
        }
        let text = &source[open..=close];
        (text.len() <= u32::MAX as usize).then(|| Self::from_pairs(text, members))
    }

    /// `text` with the members read out of it (borrowed slices of it).
    fn from_pairs(text: &str, members: &[(&str, &str)]) -> Self {
        let span = |part: &str| {
            let start = part.as_ptr() as usize - text.as_ptr() as usize;
            (start as u32, (start + part.len()) as u32)
        };
        JsonObject {
            text: text.into(),
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
    /// its value's text, borrowed, with nothing built. For an object nested in a value (the
    /// `csv` sink writes object cells from it); values are skipped over, not checked for
    /// escapes that do not decode.
    ///
    /// ```
    /// let members = exporter_core::JsonObject::members_of(r#"{"a": [1, 2], "b\n": null}"#).unwrap();
    /// assert_eq!(members, [(r#""a""#, "[1, 2]"), (r#""b\n""#, "null")]);
    /// assert!(exporter_core::JsonObject::members_of("[1]").is_err());
    /// ```
    pub fn members_of(text: &str) -> Result<Vec<(&str, &str)>, serde_json::Error> {
        serde_json::Deserializer::from_str(text).deserialize_map(Members)
    }

    /// The object's JSON text, as it was read.
    ///
    /// ```
    /// let data = exporter_core::JsonObject::parse(r#"{"a":1}"#).unwrap();
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
    /// let data = exporter_core::JsonObject::parse(r#"{"caf\u00e9": null, "a": 1, "a": 2}"#).unwrap();
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
    /// use exporter_core::JsonObject;
    /// assert_eq!(JsonObject::unquote(r#""plain""#), "plain");
    /// assert_eq!(JsonObject::unquote(r#""caf\u00e9 \"x\"""#), "café \"x\"");
    /// ```
    pub fn unquote(text: &str) -> Cow<'_, str> {
        match &text[1..text.len() - 1] {
            plain if !plain.contains('\\') => Cow::Borrowed(plain),
            _ => Cow::Owned(serde_json::from_str(text).unwrap_or_default()),
        }
    }

    /// Whether `text` is one JSON object, checked as the reader checks records: by skipping
    /// over it, with the full parse only where a `\u` escape may be half of a surrogate pair
    /// (skipping does not check that escapes pair up).
    ///
    /// ```
    /// use exporter_core::JsonObject;
    /// assert!(JsonObject::is_object(r#"{"a": [1, {"b": "\ud83d\ude00"}]}"#));
    /// assert!(!JsonObject::is_object(r#"{"a": "\ud800"}"#));
    /// assert!(!JsonObject::is_object("[1]"));
    /// assert!(!JsonObject::is_object("{} {}"));
    /// ```
    pub fn is_object(text: &str) -> bool {
        let text = text.trim();
        if !text.starts_with('{') {
            return false;
        }
        if has_surrogate_escape(text) {
            serde_json::from_str::<Map<String, Value>>(text).is_ok()
        } else {
            serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
        }
    }

    /// The object as a map (copies; a repeated key keeps its last value).
    ///
    /// ```
    /// let data = exporter_core::JsonObject::parse(r#"{"a": 1, "a": 2}"#).unwrap();
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

/// Whether `text` may hold a `\uD800`-`\uDFFF` escape (half of a surrogate pair).
pub(crate) fn has_surrogate_escape(text: &str) -> bool {
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

/// An object's members as read by the reader's fast path (see [`JsonObject::from_members`]).
pub(crate) struct MemberList<'a>(pub(crate) Vec<(&'a str, &'a str)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for MemberList<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(Members).map(MemberList)
    }
}

/// Collects each member's key and value text, skipping over the values.
struct Members;

impl<'de> Visitor<'de> for Members {
    type Value = Vec<(&'de str, &'de str)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(32));
        while let Some(key) = map.next_key::<&'de RawValue>()? {
            let value: &'de RawValue = map.next_value()?;
            members.push((key.get(), value.get()));
        }
        Ok(members)
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
        assert_eq!(data.as_str(), text.trim());
        assert!(JsonObject::parse("{}").unwrap().members().next().is_none());
    }

    #[test]
    fn an_object_is_found_around_its_members() {
        let line = r#"{"type":"record","data": { "a" : 1 ,"b":[ {"}":"{"} ] }  , "x":2}"#;
        let members = JsonObject::members_of(&line[24..line.len() - 10]).unwrap();
        let data = JsonObject::from_members(line, &members).unwrap();
        assert_eq!(data.as_str(), r#"{ "a" : 1 ,"b":[ {"}":"{"} ] }"#);
        assert_eq!(data, JsonObject::parse(data.as_str()).unwrap());
        assert!(JsonObject::from_members(line, &[]).is_none());
    }

    #[test]
    fn bad_objects_are_refused() {
        for text in [
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
}
