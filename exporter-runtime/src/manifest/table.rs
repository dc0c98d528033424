//! A plugin's table in the manifest: its keys deserialized with the exact place of each
//! error (line, column, key), every error of the table found in one go, and its values as
//! JSON for validators.

// Errors here are built once per bad manifest, never on a hot path: their size does not matter.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::ops::Range;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::diagnostic::Source;
use super::{ManifestError, SinkRef};
use exporter_core::{BuildError, closest};

pub(super) fn hint(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

pub(super) fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Converts a TOML value to JSON (datetimes as their text), for validators.
pub(super) fn to_json(v: &DeValue<'_>) -> Json {
    match v {
        DeValue::String(s) => Json::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(
            i.as_str()
                .replace('_', "")
                .trim_start_matches("0x")
                .trim_start_matches("0o")
                .trim_start_matches("0b"),
            i.radix(),
        )
        .map(Json::from)
        .unwrap_or_else(|_| Json::String(i.as_str().to_string())),
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .and_then(|x| serde_json::Number::from_f64(x).map(Json::Number))
            .unwrap_or_else(|| Json::String(f.as_str().to_string())),
        DeValue::Boolean(b) => Json::Bool(*b),
        DeValue::Datetime(d) => Json::String(d.to_string()),
        DeValue::Array(a) => Json::Array(a.iter().map(|x| to_json(x.get_ref())).collect()),
        DeValue::Table(t) => Json::Object(
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                .collect(),
        ),
    }
}

/// The `[[sinks]]` header line of an entry, found by scanning back from its first key.
pub(super) fn header_span(src: &Source<'_>, item: &Spanned<DeValue<'_>>) -> Range<usize> {
    let start = item.span().start.min(src.text.len());
    if src.text[start..].starts_with("[[") {
        return item.span(); // an array-of-tables entry is spanned by its header
    }
    match src.text[..start].rfind("[[") {
        Some(h) => {
            let end = src.text[h..].find('\n').map_or(src.text.len(), |e| h + e);
            h..end
        }
        None => item.span(),
    }
}

/// Deserializes `value` into `T`, reporting the exact place of a failure.
pub(super) fn deserialize_located<T: DeserializeOwned>(
    src: &Source<'_>,
    value: &Spanned<DeValue<'_>>,
    sink: Option<&SinkRef>,
    prefix: &str,
) -> Result<T, ManifestError> {
    let mut track = serde_path_to_error::Track::new();
    let result = T::deserialize(serde_path_to_error::Deserializer::new(
        ValueDeserializer::from(value.clone()),
        &mut track,
    ));
    result.map_err(|e| locate(src, value, sink, prefix, &track.path(), None, e.message()))
}

/// Runs the plugin's constructor on its own keys, through an erased deserializer that tracks
/// the path of any error; gives back the keys as parsed, for the runs to build from.
///
/// serde stops at a config's first error, so every error is found by building again without
/// the key at fault, until the config builds or an error names no key of the table (a
/// missing key is reported only when the user left it out, not when it was taken away here).
pub(super) fn build_plugin(
    src: &Source<'_>,
    entry: &SinkRef,
    item: &Spanned<DeValue<'_>>,
    common_keys: &[&str],
    build: &dyn Fn(&mut dyn erased_serde::Deserializer<'_>) -> Result<(), BuildError>,
) -> Result<toml::Value, Vec<ManifestError>> {
    const MAX_ERRORS: usize = 32;
    let sink = entry;
    let table = item.get_ref().as_table().expect("checked");
    let mut own = DeTable::new();
    for (k, v) in table.iter() {
        if !common_keys.contains(&k.get_ref().as_ref()) {
            own.insert(k.clone(), v.clone());
        }
    }
    let mut errors = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    loop {
        let spanned = Spanned::new(item.span(), DeValue::Table(own.clone()));
        let mut track = serde_path_to_error::Track::new();
        let result = {
            let tracked = serde_path_to_error::Deserializer::new(
                ValueDeserializer::from(spanned.clone()),
                &mut track,
            );
            let mut erased = <dyn erased_serde::Deserializer>::erase(tracked);
            build(&mut erased)
        };
        let BuildError { key, message } = match result {
            Ok(_) if errors.is_empty() => {
                return toml::Value::deserialize(ValueDeserializer::from(spanned)).map_err(|e| {
                    vec![src.error(Some(item.span()), Some(sink), None, e.message().to_string())]
                });
            }
            Ok(_) => return Err(errors),
            Err(e) => e,
        };
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next());
        if missing.is_some_and(|m| removed.iter().any(|r| r == m)) {
            return Err(errors); // it was taken away here, after its own error
        }
        let error = locate(
            src,
            &spanned,
            Some(sink),
            "",
            &track.path(),
            key.as_deref(),
            &message,
        );
        let at_fault = error
            .key
            .as_deref()
            .map(|k| k.split(['.', '[']).next().unwrap_or(k).to_string())
            .filter(|k| own.contains_key(k.as_str()));
        errors.push(error);
        match at_fault {
            Some(k) if errors.len() < MAX_ERRORS => {
                own.remove(k.as_str());
                removed.push(k);
            }
            _ => return Err(errors),
        }
    }
}

/// Finds the span for an error at `path` (or at the plugin-given `key`) inside `root`.
fn locate(
    src: &Source<'_>,
    root: &Spanned<DeValue<'_>>,
    sink: Option<&SinkRef>,
    prefix: &str,
    path: &serde_path_to_error::Path,
    key: Option<&str>,
    message: &str,
) -> ManifestError {
    let mut segments: Vec<Cow<'_, str>> = Vec::new();
    match key {
        Some(k) => segments.extend(split_key(k).into_iter().map(Cow::Owned)),
        None => {
            for seg in path.iter() {
                match seg {
                    serde_path_to_error::Segment::Map { key } => {
                        segments.push(Cow::Owned(key.clone()))
                    }
                    serde_path_to_error::Segment::Seq { index } => {
                        segments.push(Cow::Owned(format!("[{index}]")))
                    }
                    _ => {}
                }
            }
        }
    }
    // serde names an unknown field only in its message
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
        .map(str::to_string);
    let mut span = if sink.is_some() {
        None
    } else {
        Some(root.span())
    };
    let mut at = root;
    let mut walked = Vec::new();
    let mut key_span = None;
    for seg in &segments {
        let next = if let Some(i) = seg
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .and_then(|s| s.parse::<usize>().ok())
        {
            at.get_ref()
                .as_array()
                .and_then(|a| a.get(i))
                .map(|v| (None, v))
        } else {
            at.get_ref()
                .as_table()
                .and_then(|t| t.get_key_value(seg.as_ref()))
                .map(|(k, v)| (Some(k.span()), v))
        };
        let Some((k, v)) = next else { break };
        walked.push(seg.to_string());
        at = v;
        key_span = k;
        span = Some(v.span());
    }
    if let Some(name) = &unknown {
        if walked.last().map(String::as_str) != Some(name.as_str())
            && let Some((k, _)) = at
                .get_ref()
                .as_table()
                .and_then(|t| t.get_key_value(name.as_str()))
        {
            walked.push(name.clone());
            key_span = Some(k.span());
        }
        span = key_span.clone().or(span);
    }
    let span = span.unwrap_or_else(|| header_span(src, root));
    let mut key_path = String::from(prefix);
    for seg in &walked {
        if !seg.starts_with('[') && !key_path.is_empty() {
            key_path.push('.');
        }
        key_path.push_str(seg);
    }
    // toml appends its own location lines ("in `key`"); the first line is the message
    let message = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(message);
    let mut message = humanize(message);
    if let Some(name) = &unknown {
        // serde lists the expected fields; point at the closest one
        let expected: Vec<&str> = message.split('`').skip(3).step_by(2).collect();
        if let Some(best) = closest(name, expected.iter().copied()) {
            message = format!("{message}; did you mean `{best}`?");
        }
    }
    src.error(
        Some(span),
        sink,
        (!key_path.is_empty()).then_some(key_path.as_str()),
        message.to_string(),
    )
}

/// Rewrites serde's Rust type names in messages into the TOML words users know.
fn humanize(message: &str) -> String {
    let mut m = message.to_string();
    for (rust, toml) in [
        ("expected u64", "expected a non-negative integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected u16", "expected a non-negative integer"),
        ("expected u8", "expected a non-negative integer"),
        ("expected usize", "expected a non-negative integer"),
        ("expected i64", "expected an integer"),
        ("expected i32", "expected an integer"),
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
        ("a sequence", "an array"),
        ("a map", "a table"),
        ("expected struct", "expected a table for"),
    ] {
        m = m.replace(rust, toml);
    }
    m
}

/// `a.b[2].c` into `a`, `b`, `[2]`, `c`.
fn split_key(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in key.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            if open > 0 {
                out.push(rest[..open].to_string());
            }
            rest = &rest[open..];
            while let Some(close) = rest.find(']') {
                out.push(rest[..=close].to_string());
                rest = &rest[close + 1..];
            }
        } else {
            out.push(rest.to_string());
        }
    }
    out
}

/// A kind of plugin a manifest table names by its `type`.
pub(super) struct PluginKind<P: 'static> {
    /// `sink` or `source`, in "unknown sink type".
    pub kind: &'static str,
    /// How the list of registered names is introduced ("known types").
    pub known: &'static str,
    /// The registered names.
    pub names: fn() -> Vec<&'static str>,
    /// The plugin of a name.
    pub find: fn(&str) -> Option<&'static P>,
}

/// The plugin a table's `type` names; a missing `type` (`given` false) is an error at the
/// table's header, an unknown one at its value, with the closest registered name suggested.
pub(super) fn plugin_of_type<P>(
    src: &Source<'_>,
    item: &Spanned<DeValue<'_>>,
    entry: &SinkRef,
    ty: Option<&(String, Range<usize>)>,
    given: bool,
    kind: &PluginKind<P>,
    errors: &mut Vec<ManifestError>,
) -> Option<&'static P> {
    let names = (kind.names)();
    let list = if names.is_empty() {
        "(none registered)".to_string()
    } else {
        names.join(", ")
    };
    let known = kind.known;
    match ty {
        // a `type` that is not a string was reported where it was read
        None if given => None,
        None => {
            errors.push(src.error(
                Some(header_span(src, item)),
                Some(entry),
                Some("type"),
                format!("missing key `type`; {known}: {list}"),
            ));
            None
        }
        Some((t, span)) => {
            let found = (kind.find)(t);
            if found.is_none() {
                let suggestion = closest(t, names.iter().copied())
                    .map(|s| format!("; did you mean \"{s}\"?"))
                    .unwrap_or_default();
                errors.push(src.error(
                    Some(span.clone()),
                    Some(entry),
                    Some("type"),
                    format!(
                        "unknown {} type {t:?}; {known}: {list}{suggestion}",
                        kind.kind
                    ),
                ));
            }
            found
        }
    }
}

/// The string at `key` of a plugin's table with its span; a value of another type is an
/// error at the value (about `entry` when it is known yet).
pub(super) fn string_key(
    src: &Source<'_>,
    table: &DeTable<'_>,
    key: &str,
    entry: Option<&SinkRef>,
    errors: &mut Vec<ManifestError>,
) -> Option<(String, Range<usize>)> {
    let v = table.get(key)?;
    match v.get_ref() {
        DeValue::String(s) => Some((s.to_string(), v.span())),
        other => {
            errors.push(src.error(
                Some(v.span()),
                entry,
                Some(key),
                format!("`{key}` must be a string, found {}", type_name(other)),
            ));
            None
        }
    }
}
