//! Proxy password redaction (see [`redact`]).

use std::borrow::Cow;
use std::ops::Range;

use serde_json::Value;

/// The text that replaces a password.
///
/// ```
/// let url = exporter_core::redact_address("http://user:secret@proxy.example:8080");
/// assert_eq!(url, format!("http://user:{}@proxy.example:8080", exporter_core::MASK));
/// ```
pub const MASK: &str = "***";

/// Schemes that are written `scheme:user@host` without `//`: what follows the colon is a
/// user, not a password.
const SCHEMES_WITHOUT_AUTHORITY: [&str; 4] = ["mailto", "sip", "sips", "xmpp"];

/// Replaces the password of every `user:password@host` in free text with `***`. Text without
/// a password is returned borrowed, without copying.
///
///  Every string that leaves the exporter through a report, an error-log row, a log line or an
///  error message goes through [`redact`] (free text) or [`redact_address`] (a field that holds
///  one address: a request's or an error's `proxy` and `url`). The pipeline applies them to
///  requests, error events and campaign facts on the way in, so no sink can see (and so leak) a
///  password. Record data is the user's and is written as given.
/// !
///  What is masked, in free text: the password of every `user:password@host`, with or without a
///  scheme before it (`http://`, `socks5://`, also written with JSON's escaped slashes
///  `http:\/\/`), in lists without spaces (`http://a:x@h1,http://b:y@h2`), percent-encoded or
///  holding `/`, `@`, `,` or `;`. The credentials end at the last `@` before the host; they start
///  after whitespace, a quote, a bracket of `(){}<>`, or the `//` (or `\/`) of a scheme. In a field
///  that holds one address, the credentials are everything between the scheme (or the start)
///  and the field's last `@`, whatever they hold (`#`, `?`, spaces, quotes, backslashes).
/// !
///  What is left alone: text without `@`; `user@host` without a password; an empty password
///  (`user:@host`); an `@` in a URL's path (`https://www.google.com/maps/@48.1,11.5`), told by a
///  `/` before the colon or by a port before the path (`https://h:8080/x@y`); in free text,
///  `mailto:`, `sip:`, `sips:` and `xmpp:` addresses (`mailto:bob@example.com`).
///
/// ```
/// use exporter_core::redact;
/// assert_eq!(redact("http://bob:s3cr%40t@10.0.0.7:8080"), "http://bob:***@10.0.0.7:8080");
/// assert_eq!(redact("proxy socks5://u:p@h:1 failed"), "proxy socks5://u:***@h:1 failed");
/// assert_eq!(redact("via bob:hunter2@10.0.0.1:8080"), "via bob:***@10.0.0.1:8080");
/// assert_eq!(redact("http://a:x@h1:1,http://b:pw@h2:2"), "http://a:***@h1:1,http://b:***@h2:2");
/// assert_eq!(redact(r#"{"proxy":"http:\/\/u:pw@h"}"#), r#"{"proxy":"http:\/\/u:***@h"}"#);
/// assert_eq!(redact("http://10.0.0.9:8080"), "http://10.0.0.9:8080");
/// assert_eq!(redact("mailto:bob@example.com"), "mailto:bob@example.com");
/// ```
pub fn redact(text: &str) -> Cow<'_, str> {
    apply(text, free_text_masks(text))
}

fn free_text_masks(text: &str) -> Masks {
    let mut masks = Masks::default();
    if text.contains('@') {
        free_text_passwords(text, &mut masks);
    }
    masks
}

/// Replaces the password of the address a field holds (a proxy, a requested URL) with
/// `***`: everything between the scheme (or the start, for `user:password@host`) and the last
/// `@`, after the first `:`, whatever it holds. Other credentials in the text are masked as
/// [`redact`] masks them.
///
/// ```
/// use exporter_core::redact_address;
/// assert_eq!(redact_address("user:S3cret@10.0.0.1:8080"), "user:***@10.0.0.1:8080");
/// assert_eq!(redact_address("http://user:S3c/ret@10.0.0.4:8080"), "http://user:***@10.0.0.4:8080");
/// assert_eq!(redact_address("http://u:p#s s\"'\\@h:1"), "http://u:***@h:1");
/// assert_eq!(redact_address("https://www.google.com/maps/@48.1,11.5"), "https://www.google.com/maps/@48.1,11.5");
/// assert_eq!(redact_address("http://user@h:1"), "http://user@h:1");
/// ```
pub fn redact_address(text: &str) -> Cow<'_, str> {
    apply(text, address_masks(text))
}

fn address_masks(text: &str) -> Masks {
    let mut masks = Masks::default();
    let Some(last_at) = memchr::memrchr(b'@', text.as_bytes()) else {
        return masks;
    };
    // the address rule covers the last `@`; free text has more only when there are others
    if memchr::memchr(b'@', &text.as_bytes()[..last_at]).is_some() {
        free_text_passwords(text, &mut masks);
    }
    // a field that holds a proxy or a URL holds no `mailto:`: its credentials are masked
    let start = scheme_separator_before(text, last_at).unwrap_or(0);
    if let Some(mask) = password_in(text, start, last_at, false) {
        masks.push(mask);
    }
    masks
}

/// Redacts `text` in place with [`redact`], allocating only when it holds a password.
///
/// ```
/// let mut s = String::from("http://u:pw@h");
/// exporter_core::redact_in_place(&mut s);
/// assert_eq!(s, "http://u:***@h");
/// ```
pub fn redact_in_place(text: &mut String) {
    let masks = free_text_masks(text);
    apply_in_place(text, masks);
}

/// Redacts `text` in place with [`redact_address`].
///
/// ```
/// let mut s = String::from("u:pw@h:1");
/// exporter_core::redact_address_in_place(&mut s);
/// assert_eq!(s, "u:***@h:1");
/// ```
pub fn redact_address_in_place(text: &mut String) {
    let masks = address_masks(text);
    apply_in_place(text, masks);
}

/// Masks the passwords of every `@` that a host follows.
fn free_text_passwords(text: &str, masks: &mut Masks) {
    let bytes = text.as_bytes();
    for at in memchr::memchr_iter(b'@', bytes) {
        let host_follows = text[at + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '[');
        if !host_follows {
            continue;
        }
        let (start, after_scheme) = credentials_start(text, at);
        if let Some(mask) = password_in(text, start, at, !after_scheme) {
            masks.push(mask);
        }
    }
}

/// Where the credentials before the `@` at `at` may start, scanning back: after whitespace, a
/// quote or a bracket, or after the `//` (or JSON's `\/`) of a scheme; and whether it was a
/// scheme's.
fn credentials_start(text: &str, at: usize) -> (usize, bool) {
    let bytes = text.as_bytes();
    // byte by byte: every stop is ASCII but for a few whitespace characters, decoded where
    // a character beyond ASCII starts
    for i in (0..at).rev() {
        match bytes[i] {
            b'/' if i > 0 && matches!(bytes[i - 1], b'/' | b'\\') => return (i + 1, true),
            b'"' | b'\'' | b'`' | b'<' | b'>' | b'(' | b')' | b'{' | b'}' | b'|' | b'^' => {
                return (i + 1, false);
            }
            b if b.is_ascii_whitespace() || b == 0x0b => return (i + 1, false),
            b if b >= 0xc0 => {
                let c = text[i..].chars().next().expect("a character starts here");
                if c.is_whitespace() {
                    return (i + c.len_utf8(), false);
                }
            }
            _ => {}
        }
    }
    (0, false)
}

/// The end of the first `://` (or `:\/\/`) before `at`: where a URL's credentials start.
fn scheme_separator_before(text: &str, at: usize) -> Option<usize> {
    let before = &text.as_bytes()[..at];
    memchr::memchr_iter(b':', before).find_map(|colon| {
        let rest = &before[colon + 1..];
        if rest.starts_with(b"//") {
            Some(colon + 3)
        } else if rest.starts_with(b"\\/\\/") {
            Some(colon + 5)
        } else {
            None
        }
    })
}

/// The password in the credentials `text[start..at]`: after the first `:`, up to the `@`.
/// `None` without a colon, for an empty password, for a path (a `/` before the colon), for a
/// port followed by a path (`h:8080/x@y`), and for `mailto:`-like schemes when `scheme_less`.
fn password_in(text: &str, start: usize, at: usize, scheme_less: bool) -> Option<Range<usize>> {
    let credentials = &text[start..at];
    let colon = credentials.find(':')?;
    let (user, password) = (&credentials[..colon], &credentials[colon + 1..]);
    if password.is_empty() || user.contains('/') {
        return None;
    }
    let digits = password.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && password.as_bytes().get(digits) == Some(&b'/') {
        return None; // a port, then a path holding an `@`
    }
    if scheme_less
        && SCHEMES_WITHOUT_AUTHORITY
            .iter()
            .any(|s| user.eq_ignore_ascii_case(s))
    {
        return None;
    }
    Some(start + colon + 1..at)
}

/// The passwords found in a text, as byte ranges: a few kept inline, so redacting a proxy or
/// a message allocates nothing for them (it runs for every request).
#[derive(Default)]
struct Masks {
    inline: [Range<usize>; 4],
    len: usize,
    spill: Vec<Range<usize>>,
}

impl Masks {
    fn push(&mut self, mask: Range<usize>) {
        match self.inline.get_mut(self.len) {
            Some(slot) if self.spill.is_empty() => {
                *slot = mask;
                self.len += 1;
            }
            _ => {
                if self.spill.is_empty() {
                    self.spill.extend(self.inline[..self.len].iter().cloned());
                }
                self.spill.push(mask);
            }
        }
    }

    fn all(&mut self) -> &mut [Range<usize>] {
        if self.spill.is_empty() {
            &mut self.inline[..self.len]
        } else {
            &mut self.spill
        }
    }

    /// The ranges, sorted, overlapping ones merged.
    fn merged(&mut self) -> &[Range<usize>] {
        let all = self.all();
        all.sort_unstable_by_key(|r| r.start);
        let mut kept = 0;
        for i in 0..all.len() {
            if kept > 0 && all[i].start <= all[kept - 1].end {
                all[kept - 1].end = all[kept - 1].end.max(all[i].end);
            } else {
                all[kept] = all[i].clone();
                kept += 1;
            }
        }
        &self.all()[..kept]
    }

    fn is_empty(&self) -> bool {
        self.len == 0 && self.spill.is_empty()
    }
}

/// `text` with every password replaced by [`MASK`].
fn apply(text: &str, mut masks: Masks) -> Cow<'_, str> {
    if masks.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for mask in masks.merged() {
        out.push_str(&text[copied..mask.start]);
        out.push_str(MASK);
        copied = mask.end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// [`apply`] in place: from the last password back, so earlier ranges stay where they are.
fn apply_in_place(text: &mut String, mut masks: Masks) {
    if masks.is_empty() {
        return;
    }
    for mask in masks.merged().iter().rev() {
        text.replace_range(mask.clone(), MASK);
    }
}

/// Whether any string of `value` (a key or a value, at any depth) holds a proxy password:
/// whether [`redact_json`] would change it. Looks without copying.
///
/// ```
/// use exporter_core::has_password;
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
/// exporter_core::redact_json(&mut v);
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

/// `text` cut to at most `max` bytes on a character boundary, masked first: a cut can then
/// never keep part of a password whose `@` it cut away. How every excerpt of untrusted text
/// in a message or a log row is made.
///
/// ```
/// use exporter_core::redact_then_cut;
/// assert_eq!(redact_then_cut("http://u:secret@h", 12), "http://u:***");
/// assert_eq!(redact_then_cut("héllo", 2), "h");
/// ```
pub fn redact_then_cut(text: &str, max: usize) -> Cow<'_, str> {
    let clean = redact(text);
    if clean.len() <= max {
        return clean;
    }
    let mut cut = max;
    while !clean.is_char_boundary(cut) {
        cut -= 1;
    }
    Cow::Owned(clean[..cut].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
            // lists without spaces, with commas and semicolons
            (
                "http://a:x@h1:1,http://b:pw@h2:2",
                "http://a:***@h1:1,http://b:***@h2:2",
            ),
            (
                "http://a:x@h1:1;http://b:pw@h2:2",
                "http://a:***@h1:1;http://b:***@h2:2",
            ),
            ("a:x@h1:1,b:pw@h2:2", "a:***@h2:2"),
            // scheme-less credentials
            ("user:S3cret@10.0.0.1:8080", "user:***@10.0.0.1:8080"),
            ("via user:S3cret@host.example", "via user:***@host.example"),
            // JSON's escaped slashes
            (r"http:\/\/u:pw@h\/x", r"http:\/\/u:***@h\/x"),
            // a slash in a password after a scheme
            (
                "http://user:S3c/ret@10.0.0.4:8080",
                "http://user:***@10.0.0.4:8080",
            ),
            // left alone
            ("mailto:bob@example.com", "mailto:bob@example.com"),
            ("write to bob@example.com", "write to bob@example.com"),
            ("https://h:8080/users/@alice", "https://h:8080/users/@alice"),
            ("https://h/a:b@c", "https://h/a:b@c"),
            ("user@host:8080", "user@host:8080"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "input {input:?}");
        }
    }

    #[test]
    fn addresses_are_masked_whatever_the_password_holds() {
        for pw in [
            "p#ss", "p?ss", "p ss", "p\\ss", "p\"ss", "p'ss", "S3c/ret", "a@b", "x:y",
        ] {
            for scheme in ["", "http://", "socks5://"] {
                let address = format!("{scheme}user:{pw}@10.0.0.1:8080");
                let red = redact_address(&address);
                assert_eq!(red, format!("{scheme}user:***@10.0.0.1:8080"), "{address}");
            }
        }
    }

    #[test]
    fn borrowed_when_clean() {
        assert!(matches!(redact("http://h:1/@x"), Cow::Borrowed(_)));
        assert!(matches!(redact_address("http://h:1"), Cow::Borrowed(_)));
    }

    /// Characters a password may hold in free text: everything but what ends credentials
    /// there (whitespace, quotes, brackets) and the scheme separators `//` and `\/`.
    const PASSWORD: &str = "[A-Za-z0-9%!$&*+,;=:@#?~.-]{0,3}[A-Z0-9]{2}";

    fn url_form() -> impl Strategy<Value = (String, String)> {
        (
            "[a-z]{1,6}".prop_filter("a scheme without //", |u| {
                !SCHEMES_WITHOUT_AUTHORITY.contains(&u.as_str())
            }),
            PASSWORD,
            "[a-z0-9]{1,8}(\\.[a-z]{2,3})?",
            prop_oneof![
                Just("http://"),
                Just("socks5://"),
                Just(r"http:\/\/"),
                Just("")
            ],
            prop_oneof![Just(""), Just(":8080"), Just("/x"), Just(r"\/x")],
        )
            .prop_map(|(user, pw, host, scheme, tail)| {
                let pw = format!("PW{pw}");
                (format!("{scheme}{user}:{pw}@{host}{tail}"), pw)
            })
    }

    proptest! {
        /// However URLs with passwords sit in text (alone, in lists joined by `,` or `;`,
        /// quoted, in JSON with escaped slashes, scheme-less), no password survives.
        #[test]
        fn no_password_survives(
            parts in prop::collection::vec(url_form(), 1..4),
            joins in prop::collection::vec(
                prop_oneof![Just(","), Just(";"), Just(" "), Just("\" \""), Just(", "), Just("\n")], 3),
            before in "[a-z ]{0,10}", after in "[a-z ]{0,10}",
        ) {
            let mut text = before.clone();
            for (i, (url, _)) in parts.iter().enumerate() {
                if i > 0 {
                    text.push_str(joins[i - 1]);
                }
                text.push_str(url);
            }
            text.push_str(&after);
            let red = redact(&text);
            prop_assert!(!red.contains("PW"), "{} -> {}", text, red);
            let whole = redact_address(&text);
            prop_assert!(!whole.contains("PW"), "{} -> {}", text, whole);
        }

        /// A proxy address keeps no password, whatever characters it holds.
        #[test]
        fn proxy_addresses_keep_no_password(
            user in "[a-z]{1,6}", pw in "[^\u{0}]{0,6}[A-Z]{2}", host in "[a-z0-9.]{1,8}",
            scheme in prop_oneof![Just(""), Just("http://"), Just("socks5://")],
        ) {
            let address = format!("{scheme}{user}:PW{pw}@{host}:8080");
            let red = redact_address(&address);
            prop_assert_eq!(red, format!("{scheme}{user}:***@{host}:8080"));
        }

        /// Text without a password is left as it is.
        #[test]
        fn text_without_passwords_is_unchanged(
            parts in prop::collection::vec(prop_oneof![
                "https?://[a-z]{1,8}(:[0-9]{2,4})?(/[a-z@.,]{0,8}){0,3}",
                "[a-z]{1,6}@[a-z]{1,6}\\.[a-z]{2}",
                "mailto:[a-z]{1,6}@[a-z]{1,6}\\.com",
                "https://www\\.google\\.com/maps/@[0-9.,]{1,10}z",
                "[a-z ]{0,8}",
            ], 1..5),
        ) {
            let text = parts.join(" ");
            prop_assert_eq!(redact(&text), text.as_str());
        }

        #[test]
        fn in_place_agrees_with_the_copy(text in "([a-z]{0,3}(://|:|@|/| |é|[A-Z0-9.%]))*") {
            let mut in_place = text.clone();
            redact_in_place(&mut in_place);
            prop_assert_eq!(in_place, redact(&text));
        }

        #[test]
        fn any_text_is_handled(text in "\\PC{0,40}") {
            let _ = redact(&text);
            let _ = redact_address(&text);
        }
    }
}
