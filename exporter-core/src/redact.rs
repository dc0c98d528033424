//! Proxy password redaction.
//!
//! Every string that leaves the exporter through a report, an error-log row, a log line or an
//! error message goes through [`redact`]: the password of each `scheme://user:password@host`
//! in it becomes `***`. The pipeline applies it to requests and error events on the way in, so
//! no sink can see (and so leak) a password.

use std::borrow::Cow;

use serde_json::Value;

/// The text that replaces a password.
pub const MASK: &str = "***";

/// Replaces the password of every `scheme://user:password@host` in `text` with `***`.
///
/// The user name is kept (it tells proxies apart); a password given percent-encoded is masked
/// all the same. The userinfo is what precedes the last `@` before the path, query or fragment
/// starts, as URL parsers read it, so an `@` later in a path (`/maps/@48.1,11.5`) is left
/// alone. Text without a password is returned borrowed, without copying.
///
/// ```
/// use exporter_core::redact::redact;
/// assert_eq!(redact("http://bob:s3cr%40t@10.0.0.7:8080"), "http://bob:***@10.0.0.7:8080");
/// assert_eq!(redact("proxy socks5://u:p@h:1 failed"), "proxy socks5://u:***@h:1 failed");
/// assert_eq!(redact("http://10.0.0.9:8080"), "http://10.0.0.9:8080");
/// ```
pub fn redact(text: &str) -> Cow<'_, str> {
    if !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `text` already copied into `out`
    let mut from = 0;
    while let Some((password, resume)) = next_password(text, from) {
        let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
        buf.push_str(&text[copied..password.start]);
        buf.push_str(MASK);
        copied = password.end;
        from = resume;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buf) => {
            buf.push_str(&text[copied..]);
            Cow::Owned(buf)
        }
    }
}

/// The next password at or after byte `from`, and where to look on after it (the end of its
/// authority).
fn next_password(text: &str, from: usize) -> Option<(std::ops::Range<usize>, usize)> {
    let bytes = text.as_bytes();
    let mut search = from;
    while let Some(start) = scheme_end(bytes, search) {
        let (end, last_at) = authority(text, start);
        search = end;
        let Some(at) = last_at else {
            continue;
        };
        let Some(colon) = bytes[start..at].iter().position(|&b| b == b':') else {
            continue;
        };
        if start + colon + 1 == at {
            continue; // empty password: nothing to hide
        }
        return Some((start + colon + 1..at, end));
    }
    None
}

/// Where the first `://` at or after byte `from` ends.
fn scheme_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = bytes[at..].iter().position(|&b| b == b':') {
        let colon = at + i;
        if bytes[colon + 1..].starts_with(b"//") {
            return Some(colon + 3);
        }
        at = colon + 1;
    }
    None
}

/// What a byte means inside an authority.
const PLAIN: u8 = 0;
const ENDS: u8 = 1;
const AT: u8 = 2;
const NON_ASCII: u8 = 3;

/// The meaning of each byte: the authority ends at the path, query or fragment, or where the
/// URL ends inside running text (a quote, a bracket, a backslash or whitespace).
const CLASS: [u8; 256] = {
    let mut class = [PLAIN; 256];
    let mut b = 0;
    while b < 256 {
        class[b] = match b as u8 {
            b'/' | b'?' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'\\' => ENDS,
            b'@' => AT,
            c if c.is_ascii() && (c as char).is_whitespace() => ENDS,
            c if !c.is_ascii() => NON_ASCII,
            _ => PLAIN,
        };
        b += 1;
    }
    class
};

/// Where the authority starting at byte `start` ends, and the last `@` in it, in one pass.
/// Only non-ASCII characters are decoded (a few of them are whitespace).
fn authority(text: &str, start: usize) -> (usize, Option<usize>) {
    let bytes = text.as_bytes();
    let mut last_at = None;
    let mut i = start;
    while i < bytes.len() {
        match CLASS[bytes[i] as usize] {
            PLAIN => i += 1,
            AT => {
                last_at = Some(i);
                i += 1;
            }
            ENDS => break,
            _ => {
                // NON_ASCII: a few such characters are whitespace, and end the authority too
                let c = text[i..].chars().next().expect("a char starts here");
                if c.is_whitespace() {
                    break;
                }
                i += c.len_utf8();
            }
        }
    }
    (i, last_at)
}

/// Redacts `text` in place, allocating only when it holds a password.
///
/// ```
/// let mut s = String::from("http://u:pw@h");
/// exporter_core::redact::redact_in_place(&mut s);
/// assert_eq!(s, "http://u:***@h");
/// ```
pub fn redact_in_place(text: &mut String) {
    if !text.contains('@') {
        return;
    }
    let mut from = 0;
    while let Some((password, resume)) = next_password(text, from) {
        // in place: the tail moves, nothing is allocated while the mask is no longer
        from = resume - password.len() + MASK.len();
        text.replace_range(password, MASK);
    }
}

/// Whether any string of `value` (a key or a value, at any depth) holds a proxy password:
/// whether [`redact_json`] would change it. Looks without copying.
///
/// ```
/// use exporter_core::redact::has_password;
/// assert!(has_password(&serde_json::json!({"via": ["http://u:pw@h:1"]})));
/// assert!(!has_password(&serde_json::json!({"via": "http://u@h:1", "n": 1})));
/// ```
pub fn has_password(value: &Value) -> bool {
    let in_text = |s: &str| matches!(redact(s), Cow::Owned(_));
    match value {
        Value::String(s) => in_text(s),
        Value::Array(items) => items.iter().any(has_password),
        Value::Object(map) => map.iter().any(|(k, v)| in_text(k) || has_password(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Redacts every string inside a JSON value: object values, object keys and array items,
/// at any depth.
///
/// ```
/// let mut v = serde_json::json!({"proxy_url": "http://u:pw@h", "n": [1, "https://a:b@c/"]});
/// exporter_core::redact::redact_json(&mut v);
/// assert_eq!(v, serde_json::json!({"proxy_url": "http://u:***@h", "n": [1, "https://a:***@c/"]}));
/// ```
pub fn redact_json(value: &mut Value) {
    match value {
        Value::String(s) => redact_in_place(s),
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::Object(map) => {
            if map.keys().any(|k| matches!(redact(k), Cow::Owned(_))) {
                let old = std::mem::take(map);
                for (k, v) in old {
                    map.insert(redact(&k).into_owned(), v);
                }
            }
            map.values_mut().for_each(redact_json);
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords_and_keeps_users() {
        let cases = [
            (
                "http://user:pw@10.0.0.7:8080",
                "http://user:***@10.0.0.7:8080",
            ),
            ("https://u:p%3Ap%40ss@h", "https://u:***@h"),
            ("socks5://u:p@ss@h:1080/x", "socks5://u:***@h:1080/x"),
            ("http://user@h:1", "http://user@h:1"),
            ("http://user:@h:1", "http://user:@h:1"),
            (
                "http://u:pw@[2001:db8::1]:8080",
                "http://u:***@[2001:db8::1]:8080",
            ),
            (
                "a http://a:b@h and https://c:d@i/p?q=http://e:f@j",
                "a http://a:***@h and https://c:***@i/p?q=http://e:***@j",
            ),
            (
                "https://www.google.com/maps/search/x/@48.1,11.2,14z",
                "https://www.google.com/maps/search/x/@48.1,11.2,14z",
            ),
            ("\"http://u:pw@h\"", "\"http://u:***@h\""),
            ("no url @ all", "no url @ all"),
            ("http://ü:pässwörd@höst", "http://ü:***@höst"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "input {input:?}");
        }
    }

    #[test]
    fn borrowed_when_clean() {
        assert!(matches!(redact("http://h:1/@x"), Cow::Borrowed(_)));
    }

    /// The first, char by char, version: the byte-wise one must agree with it.
    fn redact_reference(text: &str) -> Cow<'_, str> {
        if !text.contains('@') || !text.contains("://") {
            return Cow::Borrowed(text);
        }
        let mut out: Option<String> = None;
        let mut copied = 0; // bytes of `text` already copied into `out`
        let mut search = 0;
        while let Some(found) = text[search..].find("://") {
            let start = search + found + 3;
            let rest = &text[start..];
            // The authority ends where the path, query or fragment starts, or where the URL ends
            // inside running text.
            let end = rest
                .find(|c: char| {
                    matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '\\')
                        || c.is_whitespace()
                })
                .unwrap_or(rest.len());
            let authority = &rest[..end];
            search = start + end;
            let Some(at) = authority.rfind('@') else {
                continue;
            };
            let userinfo = &authority[..at];
            let Some(colon) = userinfo.find(':') else {
                continue;
            };
            if colon + 1 == userinfo.len() {
                continue; // empty password: nothing to hide
            }
            let pw_start = start + colon + 1;
            let pw_end = start + at;
            let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
            buf.push_str(&text[copied..pw_start]);
            buf.push_str(MASK);
            copied = pw_end;
        }
        match out {
            None => Cow::Borrowed(text),
            Some(mut buf) => {
                buf.push_str(&text[copied..]);
                Cow::Owned(buf)
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_char_by_char_version(
            text in "([a-z]{0,3}(://|:|@|/|\\?|#|\"|'|<|>|\\\\| |\u{a0}|\u{2028}|\u{3000}|é|ü|[A-Z0-9.%]))*"
        ) {
            proptest::prop_assert_eq!(redact(&text), redact_reference(&text));
        }

        #[test]
        fn in_place_agrees_with_the_copy(
            text in "([a-z]{0,3}(://|:|@|/| |é|[A-Z0-9.%]))*"
        ) {
            let mut in_place = text.clone();
            redact_in_place(&mut in_place);
            proptest::prop_assert_eq!(in_place, redact(&text));
        }

        #[test]
        fn password_never_survives(user in "[a-z]{1,8}", pw in "[A-Za-z0-9%!$&()*+,;=-]{1,16}",
                                   host in "[a-z0-9.]{1,12}", before in ".{0,20}", after in "[ /?#].{0,20}") {
            let url = format!("{before} http://{user}:{pw}@{host}{after}");
            let red = redact(&url);
            let expected = format!("http://{user}:***@{host}");
            proptest::prop_assert!(red.contains(&expected), "{red}");
        }
    }
}
