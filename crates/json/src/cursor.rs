//! Reading JSON text without decoding it or allocating.
//!
//! [`Cursor`] reads text that may be anything, for the hot path: it checks the grammar of
//! RFC 8259 as it goes and hands out the text of what it read. Whatever it cannot be sure of
//! (nesting deeper than [`MAX_DEPTH`]) it refuses, like anything invalid, and the caller falls
//! back to serde_json. [`Scan`] splits text already checked, at any depth.

/// How deep arrays and objects may nest. Below serde_json's limit when it builds values (128
/// levels, counting the record's own object), so whatever passes here passes there too; and
/// far from the depth at which code that walks a value recursively would run out of stack.
pub const MAX_DEPTH: u32 = 100;

/// Where the first byte that ends a run of plain string text is in `bytes`: a quote, a
/// backslash, or a control character (which JSON strings must escape; the text is UTF-8
/// already, so any other byte is part of a character). Sixteen bytes at a time on x86-64 (SSE2
/// is part of its baseline), eight elsewhere and for the last few bytes.
fn special_byte(bytes: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of x86-64's baseline.
        let (found, at) = unsafe { special_byte_sse2(bytes) };
        if found.is_some() {
            return found;
        }
        special_byte_swar(&bytes[at..]).map(|i| at + i)
    }
    #[cfg(not(target_arch = "x86_64"))]
    special_byte_swar(bytes)
}

/// The first special byte among the whole 16-byte blocks of `bytes`, or where the blocks end.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn special_byte_sse2(bytes: &[u8]) -> (Option<usize>, usize) {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    let quote = _mm_set1_epi8(b'"' as i8);
    let backslash = _mm_set1_epi8(b'\\' as i8);
    let below_space = _mm_set1_epi8(0x1f);
    let mut at = 0;
    while at + 16 <= bytes.len() {
        // SAFETY: the 16 bytes from `at` are in `bytes`, and `loadu` reads them unaligned.
        let x = unsafe { _mm_loadu_si128(bytes.as_ptr().add(at).cast()) };
        // a control byte is its own minimum with 0x1f
        let control = _mm_cmpeq_epi8(_mm_min_epu8(x, below_space), x);
        let hits = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
            control,
        );
        let mask = _mm_movemask_epi8(hits);
        if mask != 0 {
            return (Some(at + mask.trailing_zeros() as usize), at);
        }
        at += 16;
    }
    (None, at)
}

/// [`special_byte`] eight bytes at a time, as serde_json skips strings.
fn special_byte_swar(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in chunks.by_ref() {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // a byte is 0 in `q` where it is a quote (and so on); `y - ONES & !y` has the high
        // bit set in the lowest such byte (above it, borrows may set more: only the lowest
        // is taken)
        let q = x ^ (ONES * u64::from(b'"'));
        let b = x ^ (ONES * u64::from(b'\\'));
        let found = (q.wrapping_sub(ONES) & !q)
            | (b.wrapping_sub(ONES) & !b)
            | (x.wrapping_sub(ONES * 0x20) & !x);
        let found = found & (ONES << 7);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

/// `text` without the whitespace JSON allows around a value (space, tab, CR, LF), and only
/// that: a vertical tab or a no-break space is no JSON whitespace.
///
/// ```
/// assert_eq!(exporter_json::trim_json_whitespace(" \r\n{}\t"), "{}");
/// assert_eq!(exporter_json::trim_json_whitespace("{}\u{b}"), "{}\u{b}");
/// ```
pub fn trim_json_whitespace(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\r', '\n'])
}

/// A position in JSON text; each method reads one piece of grammar at the position (after any
/// whitespace) and moves past it, or returns `None` when the text does not follow it.
///
/// ```
/// use exporter_json::Cursor;
/// let mut c = Cursor::new(r#"{"n": -1.5e3, "s": "a\"b"}"#);
/// c.eat(b'{').unwrap();
/// assert_eq!(c.member_key(), Some(("n", false)));
/// assert_eq!(c.number(), Some(("-1.5e3", false)));
/// c.eat(b',').unwrap();
/// assert_eq!(c.member_key(), Some(("s", false)));
/// assert_eq!(c.string(), Some((r#"a\"b"#, true)));
/// assert!(c.eat(b'}').is_some() && c.at_end());
/// ```
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    text: &'a str,
    at: usize,
    /// `\uD800`-`\uDFFF` escapes read so far: halves of surrogate pairs, which only a
    /// decoder can tell are paired.
    surrogates: u32,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Cursor {
            text,
            at: 0,
            surrogates: 0,
        }
    }

    /// The byte offset reached.
    pub fn at(&self) -> usize {
        self.at
    }

    /// How many `\uD800`-`\uDFFF` escapes (halves of surrogate pairs) the strings read so far
    /// had: the grammar says nothing of whether they pair up.
    pub fn surrogate_escapes(&self) -> u32 {
        self.surrogates
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Skips whitespace, then gives the next byte without reading it.
    pub fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.at) {
            self.at += 1;
        }
        bytes.get(self.at).copied()
    }

    /// Reads the byte `b`.
    pub fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.at += 1)
    }

    /// Whether only whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Reads a string: its text between the quotes (escapes as written), and whether it has
    /// any escape.
    pub fn string(&mut self) -> Option<(&'a str, bool)> {
        self.eat(b'"')?;
        let bytes = self.bytes();
        let start = self.at;
        let mut escaped = false;
        loop {
            self.at += special_byte(&bytes[self.at..])?;
            match bytes[self.at] {
                b'"' => {
                    self.at += 1;
                    return Some((&self.text[start..self.at - 1], escaped));
                }
                b'\\' => {
                    escaped = true;
                    match bytes.get(self.at + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 2,
                        b'u' => {
                            let hex = bytes.get(self.at + 2..self.at + 6)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            if matches!(
                                hex,
                                [b'd' | b'D', b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F', ..]
                            ) {
                                self.surrogates += 1;
                            }
                            self.at += 6;
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a raw control character
            }
        }
    }

    /// Reads a number: its text, checked against the grammar
    /// (`-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`), and whether it is an integer
    /// (no fraction, no exponent).
    pub fn number(&mut self) -> Option<(&'a str, bool)> {
        self.peek()?;
        let bytes = self.bytes();
        let start = self.at;
        let digits = |at: &mut usize| {
            let from = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at > from
        };
        let mut at = self.at;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at)? {
            b'0' => at += 1,
            b'1'..=b'9' => {
                digits(&mut at);
            }
            _ => return None,
        }
        let mut integer = true;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            integer = false;
            if !digits(&mut at) {
                return None;
            }
        }
        if let Some(b'e' | b'E') = bytes.get(at) {
            at += 1;
            integer = false;
            if let Some(b'+' | b'-') = bytes.get(at) {
                at += 1;
            }
            if !digits(&mut at) {
                return None;
            }
        }
        // a digit straight after `0` (`01`) is no number
        if bytes.get(at).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        self.at = at;
        Some((&self.text[start..at], integer))
    }

    /// Reads `true`, `false` or `null`: `Some(Some(bool))`, or `Some(None)` for null.
    pub fn literal(&mut self) -> Option<Option<bool>> {
        let (value, word): (Option<bool>, &[u8]) = match self.peek()? {
            b't' => (Some(true), b"true"),
            b'f' => (Some(false), b"false"),
            b'n' => (None, b"null"),
            _ => return None,
        };
        if self.bytes().get(self.at..self.at + word.len())? != word {
            return None;
        }
        self.at += word.len();
        Some(value)
    }

    /// Reads any value, checking all of it: its text.
    pub fn value(&mut self) -> Option<&'a str> {
        let start = {
            self.peek()?;
            self.at
        };
        // one bit per open array (0) or object (1), innermost lowest
        let mut open: u128 = 0;
        let mut depth = 0u32;
        loop {
            // a value, or the end of an empty array or object
            match self.peek()? {
                b'{' | b'[' => {
                    let object = self.bytes()[self.at] == b'{';
                    self.at += 1;
                    let close = if object { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.at += 1;
                    } else {
                        if depth == MAX_DEPTH {
                            return None;
                        }
                        open = open << 1 | u128::from(object);
                        depth += 1;
                        if object {
                            self.member_key()?;
                        }
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                }
                _ => {
                    self.literal()?;
                }
            }
            // after a value: close what ends here, then the next item, or the end
            loop {
                if depth == 0 {
                    return Some(&self.text[start..self.at]);
                }
                let object = open & 1 == 1;
                match (self.peek()?, object) {
                    (b',', _) => {
                        self.at += 1;
                        if object {
                            self.member_key()?;
                        }
                        break;
                    }
                    (b'}', true) | (b']', false) => {
                        self.at += 1;
                        open >>= 1;
                        depth -= 1;
                    }
                    _ => return None,
                }
            }
        }
    }

    /// Reads a member's key and the colon after it: the key's text between its quotes, and
    /// whether it has escapes.
    pub fn member_key(&mut self) -> Option<(&'a str, bool)> {
        let key = self.string()?;
        self.eat(b':')?;
        Some(key)
    }
}

/// A cursor over checked JSON text (a record the reader took, or a value inside one): finds
/// where values end without decoding or checking them, at any depth. Where text may be
/// anything, [`Cursor`] reads it.
#[derive(Clone, Debug)]
pub(crate) struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    /// A cursor just inside `text`'s opening `open` (`{` or `[`); at the end when `text`
    /// does not start with it.
    pub(crate) fn inside(text: &'a str, open: u8) -> Self {
        let text = trim_json_whitespace(text);
        let at = if text.as_bytes().first() == Some(&open) {
            1
        } else {
            text.len()
        };
        Scan { text, at }
    }

    fn skip_ws(&mut self) {
        let bytes = self.text.as_bytes();
        while bytes
            .get(self.at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            self.at += 1;
        }
    }

    /// The next item of the container, after skipping a separating comma; `None` at its end.
    pub(crate) fn next_value(&mut self) -> Option<&'a str> {
        self.skip_ws();
        match self.text.as_bytes().get(self.at)? {
            b',' => {
                self.at += 1;
                self.skip_ws();
            }
            b']' | b'}' => {
                self.at = self.text.len();
                return None;
            }
            _ => {}
        }
        let start = self.at;
        self.at = value_end(self.text.as_bytes(), start);
        // every end found is just past an ASCII byte, so on a character boundary
        self.text.get(start..self.at).filter(|v| !v.is_empty())
    }

    /// Skips the `:` after a member's key.
    pub(crate) fn colon(&mut self) -> Option<()> {
        self.skip_ws();
        (self.text.as_bytes().get(self.at)? == &b':').then(|| self.at += 1)
    }
}

/// Where the JSON value starting at `bytes[start]` ends (just past it).
fn value_end(bytes: &[u8], start: usize) -> usize {
    match bytes.get(start) {
        None => start,
        Some(b'"') => string_end(bytes, start),
        Some(b'[' | b'{') => {
            let mut depth = 0usize;
            let mut at = start;
            while let Some(&b) = bytes.get(at) {
                match b {
                    b'"' => {
                        at = string_end(bytes, at);
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return at + 1;
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            bytes.len()
        }
        _ => {
            let rest = &bytes[start..];
            start
                + rest
                    .iter()
                    .position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n'))
                    .unwrap_or(rest.len())
        }
    }
}

/// Where the string whose opening quote is `bytes[start]` ends (just past its closing quote).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while let Some(found) = memchr::memchr2(b'"', b'\\', &bytes[at.min(bytes.len())..]) {
        at += found;
        if bytes[at] == b'"' {
            return at + 1;
        }
        at += 2; // an escape: the byte after the backslash is never the closing quote
    }
    bytes.len()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// Any JSON value, nested a few levels, with strings that hold quotes, backslashes,
    /// brackets and characters beyond ASCII.
    pub(crate) fn json_value() -> impl Strategy<Value = Value> {
        let text = "[a-z\\\\\"\\]\\[{},: \\n\u{e9}\u{1F600}]{0,6}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            text.prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 5, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec((text, inner), 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn serde_reads(text: &str) -> bool {
        serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
    }

    proptest! {
        /// Valid JSON is read whole, however it is spaced.
        #[test]
        fn reads_any_json(value in json_value(), pretty: bool) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            let mut c = Cursor::new(&text);
            prop_assert_eq!(c.value(), Some(text.as_str()));
        }

        /// Broken JSON is refused exactly where serde_json refuses it.
        #[test]
        fn refuses_what_serde_refuses(
            value in json_value(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..3u8, "[\\[\\]{}\",:\\\\ 0-9eE.+\\-tfnrua\u{1}]"), 1..4),
        ) {
            let mut text: Vec<char> = serde_json::to_string(&value).unwrap().chars().collect();
            for (at, op, with) in edits {
                let with = with.chars().next().unwrap();
                let i = at.index(text.len() + 1);
                match op {
                    0 => text.insert(i, with),
                    1 if i < text.len() => { text.remove(i); }
                    _ if i < text.len() => text[i] = with,
                    _ => text.push(with),
                }
            }
            let text: String = text.into_iter().collect();
            let mut c = Cursor::new(&text);
            let ours = c.value().is_some() && c.at_end();
            prop_assert_eq!(ours, serde_reads(&text), "{}", text);
        }
    }

    fn valid(text: &str) -> bool {
        let mut c = Cursor::new(text);
        c.value().is_some() && c.at_end()
    }

    proptest! {
        /// The block-at-a-time searches find what a byte-by-byte one finds.
        #[test]
        fn finds_the_first_special_byte(bytes in proptest::collection::vec(
            prop_oneof![
                1 => Just(b'"'), 1 => Just(b'\\'), 1 => 0u8..0x20, 12 => 0x20u8..=0xff,
            ],
            0..80,
        ), plain in 0usize..40) {
            let mut bytes = bytes;
            bytes.splice(0..0, std::iter::repeat_n(b'a', plain));
            let slow = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(special_byte(&bytes), slow);
            prop_assert_eq!(special_byte_swar(&bytes), slow);
        }
    }

    #[test]
    fn reads_what_json_allows_and_nothing_else() {
        for good in [
            "0",
            "-0.5e+10",
            "1E-2",
            r#""a\"\\\/\b\f\n\r\t\u00e9""#,
            " [ 1 , {\"a\" : [ ] , \"b\":{}} , null,true,false ] ",
            "{}",
            "[[[]]]",
        ] {
            assert!(valid(good), "{good}");
        }
        for bad in [
            "01",
            "1.",
            "-",
            "1e",
            ".5",
            "+1",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\"}",
            "{1:2}",
            "[1 2]",
            "tru",
            "nul",
            "\"a",
            "\"\\x\"",
            "\"\\u12G4\"",
            "\"tab\there\"",
            "[}",
            "{]",
            "[",
            "NaN",
            "'a'",
        ] {
            assert!(!valid(bad), "{bad}");
        }
        let mut c = Cursor::new(r#"["\\ud800 \ud83d\ude00", "\uDBFF", "\ucafe\u00e9"]"#);
        assert!(c.value().is_some());
        assert_eq!(
            c.surrogate_escapes(),
            3,
            "an escaped backslash is no escape"
        );
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(
            valid(&deep(MAX_DEPTH as usize + 1)),
            "an innermost empty array adds no level"
        );
        assert!(!valid(&deep(MAX_DEPTH as usize + 2)));
    }
}
