//! Checking values against the schema: types, formats and constraints. Every violation is
//! collected; the first names the rule a record is counted under.

use std::borrow::Cow;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::schema::{Bound, Field, FieldType, StringFormat, TableSchema};
use crate::value::FieldValue;

/// One broken rule. Its message may quote the value at fault, which is untrusted text of any
/// length: [`Violation::message_with`] lets the caller choose how it is shown (cut, masked).
///
/// ```
/// use table_schema::Violation;
/// let v = Violation::with_value("rating", "maximum", "{value} is above the maximum 5", "7.5");
/// assert_eq!(v.message(), "7.5 is above the maximum 5");
/// assert_eq!(v.message_with(|_| "…".into()), "… is above the maximum 5");
/// assert_eq!(v.to_string(), "field \"rating\": 7.5 is above the maximum 5 (maximum)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// The field.
    pub field: String,
    /// The rule: `required`, `type`, `format`, `enum`, `minLength`, `maxLength`, `minimum`,
    /// `maximum`, `pattern`, `unique`, `extra_field`, `cell_limit`.
    pub rule: &'static str,
    /// What is wrong, with [`VALUE`] where the value goes.
    template: String,
    /// The value at fault (its JSON text, or a cell's text), when the message quotes it.
    value: Option<String>,
}

/// Where a message quotes the value at fault.
const VALUE: &str = "{value}";

/// How long a value may be when a message quotes it, by default.
const SHOWN: usize = 80;

impl Violation {
    /// A violation whose message quotes no value.
    pub fn new(field: impl Into<String>, rule: &'static str, message: impl Into<String>) -> Self {
        Violation {
            field: field.into(),
            rule,
            template: message.into(),
            value: None,
        }
    }

    /// A violation whose message quotes `value` where `template` says `{value}`.
    pub fn with_value(
        field: impl Into<String>,
        rule: &'static str,
        template: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        Violation {
            field: field.into(),
            rule,
            template: template.into(),
            value: Some(value.into()),
        }
    }

    /// The message, the value shown as `excerpt` makes it (it gets the whole value).
    pub fn message_with(&self, excerpt: impl FnOnce(&str) -> Cow<'_, str>) -> String {
        match &self.value {
            Some(value) => self.template.replacen(VALUE, &excerpt(value), 1),
            None => self.template.clone(),
        }
    }

    /// The message, the value cut to 80 characters.
    pub fn message(&self) -> String {
        self.message_with(|v| cut(v, SHOWN))
    }

    /// The same violation, under `rule`, its message led by `prefix` (how the sink says a
    /// violation concerns the cell it would write, not the value it got).
    pub fn recast(mut self, rule: &'static str, prefix: &str) -> Self {
        self.template.insert_str(0, prefix);
        self.rule = rule;
        self
    }
}

/// `text` cut to `max` characters, `...` marking the cut.
///
/// ```
/// assert_eq!(table_schema::cut("abcdef", 5), "ab...");
/// assert_eq!(table_schema::cut("abc", 5), "abc");
/// ```
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    if text.chars().count() > max {
        let kept: String = text.chars().take(max.saturating_sub(3)).collect();
        Cow::Owned(format!("{kept}..."))
    } else {
        Cow::Borrowed(text)
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "field {:?}: {} ({})",
            self.field,
            self.message(),
            self.rule
        )
    }
}

/// An RFC 3339 date-time.
///
/// ```
/// assert!(table_schema::parse_datetime("2026-11-26T08:00:00+01:00").is_some());
/// assert!(table_schema::parse_datetime("yesterday").is_none());
/// ```
pub fn parse_datetime(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Whether a value counts as missing (absent, null, or a missing-value string).
pub fn is_missing(schema: &TableSchema, v: &FieldValue<'_>) -> bool {
    match v {
        FieldValue::Missing | FieldValue::Null => true,
        FieldValue::Str(s) => schema.is_missing(s),
        _ => false,
    }
}

/// Every violation of `values` (in schema order).
pub fn check(schema: &TableSchema, values: &[FieldValue<'_>]) -> Vec<Violation> {
    schema
        .fields
        .iter()
        .zip(values)
        .filter_map(|(field, v)| check_one(schema, field, v))
        .collect()
}

/// The violation of one value, if any.
pub fn check_one(schema: &TableSchema, field: &Field, v: &FieldValue<'_>) -> Option<Violation> {
    if is_missing(schema, v) {
        return field
            .constraints
            .required
            .then(|| Violation::new(&field.name, "required", "a value is required"));
    }
    check_value(field, v).err().map(|(rule, template)| {
        Violation::with_value(&field.name, rule, template, v.to_json().to_string())
    })
}

/// Whether number text is a whole number (`12`, `1e21`, `12.0`), of any size.
pub fn is_integral(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    text.parse::<f64>()
        .is_ok_and(|f| f.is_finite() && f.fract() == 0.0)
}

/// Whether text is a `YYYY-MM-DD` calendar date.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (
        s[..4].parse::<i32>(),
        s[5..7].parse::<u8>(),
        s[8..].parse::<u8>(),
    ) else {
        return false;
    };
    time::Month::try_from(m).is_ok_and(|m| time::Date::from_calendar_date(y, m, d).is_ok())
}

fn check_format(format: StringFormat, s: &str) -> bool {
    match format {
        StringFormat::Default => true,
        StringFormat::Email => s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
        }),
        StringFormat::Uri => s.split_once(':').is_some_and(|(scheme, rest)| {
            !rest.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }),
        StringFormat::Uuid => {
            let parts: Vec<&str> = s.split('-').collect();
            parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
                && parts
                    .iter()
                    .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
        }
    }
}

fn check_value(field: &Field, v: &FieldValue<'_>) -> Result<(), (&'static str, String)> {
    let c = &field.constraints;
    // a number's value, parsed once for its range and its bounds
    let number = match v {
        FieldValue::Num(n)
            if field.ty == FieldType::Number || c.minimum.is_some() || c.maximum.is_some() =>
        {
            n.parse::<f64>().ok()
        }
        _ => None,
    };
    let type_error = || {
        (
            "type",
            format!(
                "expected {}, found {} {}",
                expected(field.ty),
                v.type_name(),
                VALUE
            ),
        )
    };
    // type
    match (field.ty, v) {
        (FieldType::String, FieldValue::Str(s)) => {
            if !check_format(field.format, s) {
                return Err((
                    "format",
                    format!(
                        "not a valid {} value: {}",
                        format!("{:?}", field.format).to_lowercase(),
                        VALUE
                    ),
                ));
            }
        }
        (FieldType::Integer, FieldValue::Num(n)) if is_integral(n) => {}
        // a number no double holds would be written as hundreds of digits that no
        // spreadsheet (and no reader of the table) takes for a number
        (FieldType::Number, FieldValue::Num(_)) if !number.is_some_and(f64::is_finite) => {
            return Err((
                "type",
                format!("{} is beyond the range of a number (a 64-bit float)", VALUE),
            ));
        }
        (FieldType::Number, FieldValue::Num(_)) => {}
        (FieldType::Boolean, FieldValue::Bool(_)) => {}
        (FieldType::Date, FieldValue::Str(s)) if is_date(s) => {}
        (FieldType::Datetime, FieldValue::Str(s)) if parse_datetime(s).is_some() => {}
        (FieldType::Array, FieldValue::Json(j)) if j.is_array() => {}
        (FieldType::Object, FieldValue::Json(j)) if j.is_object() => {}
        (FieldType::Array, FieldValue::JsonText(t)) if t.starts_with('[') => {}
        (FieldType::Object, FieldValue::JsonText(t)) if t.starts_with('{') => {}
        (FieldType::Any, _) => {}
        _ => return Err(type_error()),
    }
    if let Some(allowed) = &c.one_of {
        let found = match v {
            // the common case, compared without building a JSON value
            FieldValue::Str(s) => allowed.iter().any(|a| a.as_str() == Some(s.as_ref())),
            _ => {
                let value = v.to_json();
                allowed.iter().any(|a| match (a, &value) {
                    (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
                    _ => *a == value,
                })
            }
        };
        if !found {
            return Err((
                "enum",
                format!("{} is not one of the allowed values", VALUE),
            ));
        }
    }
    let length = match v {
        // characters are between a quarter of the bytes and all of them: count only when
        // that range straddles a bound
        FieldValue::Str(s)
            if c.min_length.is_none_or(|m| s.len() as u64 / 4 >= m)
                && c.max_length.is_none_or(|m| s.len() as u64 <= m) =>
        {
            None
        }
        FieldValue::Str(s) => Some(s.chars().count() as u64),
        FieldValue::Json(j) => json_len(j),
        // items are counted only for a bound on them
        FieldValue::JsonText(_) if c.min_length.is_some() || c.max_length.is_some() => {
            json_len(&v.to_json())
        }
        _ => None,
    };
    if let Some(len) = length {
        if let Some(min) = c.min_length.filter(|m| len < *m) {
            return Err((
                "minLength",
                format!("length {len} is below the minimum length {min}"),
            ));
        }
        if let Some(max) = c.max_length.filter(|m| len > *m) {
            return Err((
                "maxLength",
                format!("length {len} is above the maximum length {max}"),
            ));
        }
    }
    for (bound, rule) in [(&c.minimum, "minimum"), (&c.maximum, "maximum")] {
        let Some(bound) = bound else { continue };
        let outside = |ord: std::cmp::Ordering| {
            if rule == "minimum" {
                ord.is_lt()
            } else {
                ord.is_gt()
            }
        };
        let broken = match (bound, v) {
            (Bound::Number(b), FieldValue::Num(_)) => {
                number.and_then(|x| x.partial_cmp(b)).is_some_and(outside)
            }
            (Bound::Text(b), FieldValue::Str(s)) if field.ty == FieldType::Datetime => {
                match (parse_datetime(s), parse_datetime(b)) {
                    (Some(x), Some(y)) => outside(x.cmp(&y)),
                    _ => false,
                }
            }
            (Bound::Text(b), FieldValue::Str(s)) => outside(s.as_ref().cmp(b.as_str())),
            _ => false,
        };
        if broken {
            let b = match bound {
                Bound::Number(b) => {
                    let mut text = String::new();
                    exporter_tabular::write_number(&b.to_string(), &mut text);
                    text
                }
                Bound::Text(t) => t.clone(),
            };
            return Err((
                rule,
                format!(
                    "{} is {} {rule} {b}",
                    VALUE,
                    if rule == "minimum" {
                        "below the"
                    } else {
                        "above the"
                    }
                ),
            ));
        }
    }
    if let (Some(pattern), FieldValue::Str(s)) = (&c.pattern, v)
        && !pattern.is_match(s)
    {
        return Err((
            "pattern",
            format!(
                "{} does not match the pattern {:?}",
                VALUE,
                pattern.as_str()
            ),
        ));
    }
    Ok(())
}

/// Items of an array, members of an object.
fn json_len(j: &Value) -> Option<u64> {
    j.as_array()
        .map(Vec::len)
        .or(j.as_object().map(Map::len))
        .map(|n| n as u64)
}

fn expected(ty: FieldType) -> &'static str {
    match ty {
        FieldType::String => "a string",
        FieldType::Integer => "an integer",
        FieldType::Number => "a number",
        FieldType::Boolean => "a boolean",
        FieldType::Date => "a date (YYYY-MM-DD)",
        FieldType::Datetime => "an RFC 3339 date-time",
        FieldType::Array => "an array",
        FieldType::Object => "an object",
        FieldType::Any => "any value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lead_schema() -> TableSchema {
        TableSchema::from_json(json!({"fields": [
            {"name": "place_id", "constraints": {"required": true, "minLength": 4, "pattern": "[A-Za-z0-9_-]+"}},
            {"name": "category", "constraints": {"enum": ["dentist", "cafe"]}},
            {"name": "rating", "type": "number", "constraints": {"minimum": 0, "maximum": 5}},
            {"name": "reviews", "type": "integer", "constraints": {"minimum": 0}},
            {"name": "tags", "type": "array", "constraints": {"maxLength": 2}},
            {"name": "attributes", "type": "object"},
            {"name": "claimed", "type": "boolean"},
            {"name": "scraped_at", "type": "datetime"},
            {"name": "day", "type": "date"},
            {"name": "email", "format": "email"}
        ]}))
        .unwrap()
    }

    fn first_rule(record: Value) -> Option<(String, &'static str)> {
        let s = lead_schema();
        let map = record.as_object().unwrap();
        let values: Vec<_> = s
            .fields
            .iter()
            .map(|f| {
                map.get(&f.name)
                    .map_or(FieldValue::Missing, FieldValue::from_json)
            })
            .collect();
        check(&s, &values)
            .first()
            .map(|v| (v.field.clone(), v.rule))
    }

    #[test]
    fn each_rule_is_caught() {
        let ok = json!({"place_id": "ChIJ1", "category": "cafe", "rating": 4.5, "reviews": 1e21, "tags": ["a"],
                        "attributes": {}, "claimed": true, "scraped_at": "2026-11-26T08:00:00Z", "day": "2026-02-28",
                        "email": "a@b.de"});
        assert_eq!(first_rule(ok.clone()), None);
        let cases = [
            ("place_id", json!(null), "required"),
            ("place_id", json!(""), "required"),
            ("place_id", json!("ab"), "minLength"),
            ("place_id", json!("ab cd"), "pattern"),
            ("place_id", json!(12345), "type"),
            ("category", json!("Dentist "), "enum"),
            ("rating", json!(7.5), "maximum"),
            ("rating", json!(-1), "minimum"),
            ("rating", json!("4,5"), "type"),
            ("rating", serde_json::from_str("1e400").unwrap(), "type"),
            ("rating", serde_json::from_str("-1e309").unwrap(), "type"),
            ("reviews", json!(12.5), "type"),
            ("reviews", json!(-3), "minimum"),
            ("tags", json!("a;b"), "type"),
            ("tags", json!(["a", "b", "c"]), "maxLength"),
            ("attributes", json!([1]), "type"),
            ("claimed", json!("yes"), "type"),
            ("scraped_at", json!("yesterday 14:03"), "type"),
            ("day", json!("2026-02-30"), "type"),
            ("email", json!("not-an-email"), "format"),
        ];
        for (field, value, rule) in cases {
            let mut r = ok.clone();
            r[field] = value.clone();
            assert_eq!(
                first_rule(r),
                Some((field.to_string(), rule)),
                "{field} = {value}"
            );
        }
    }

    #[test]
    fn integers_of_any_size() {
        assert!(is_integral("123456789012345678901234567890"));
        assert!(is_integral("1e21"));
        assert!(is_integral("-0"));
        assert!(!is_integral("12.5"));
    }
}
