//! Checking a record's values against the schema: types, formats and constraints. Every
//! violation is collected; the first names the rule the record is counted under.

use exporter_core::Timestamp;
use exporter_core::serde_json::{Map, Value};

use crate::schema::{Bound, Field, FieldType, StringFormat, TableSchema};
use crate::value::FieldValue;

/// One broken rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// The field.
    pub field: String,
    /// The rule: `required`, `type`, `format`, `enum`, `minLength`, `maxLength`, `minimum`,
    /// `maximum`, `pattern`, `unique`, `extra_field`, `cell_limit`.
    pub rule: &'static str,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "field {:?}: {} ({})",
            self.field, self.message, self.rule
        )
    }
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
            .then(|| violation(field, "required", "a value is required".to_string()));
    }
    check_value(field, v)
        .err()
        .map(|(rule, msg)| violation(field, rule, msg))
}

fn violation(field: &Field, rule: &'static str, message: String) -> Violation {
    Violation {
        field: field.name.clone(),
        rule,
        message,
    }
}

/// A value for a message: its JSON, passwords masked, then cut to 80 characters (masked
/// first, so a cut cannot keep half of a password).
fn shown(v: &FieldValue<'_>) -> String {
    let text = exporter_core::redact::redact(&v.to_json().to_string()).into_owned();
    if text.chars().count() > 80 {
        format!("{}...", text.chars().take(77).collect::<String>())
    } else {
        text
    }
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
    let type_error = || {
        (
            "type",
            format!(
                "expected {}, found {} {}",
                expected(field.ty),
                v.type_name(),
                shown(v)
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
                        shown(v)
                    ),
                ));
            }
        }
        (FieldType::Integer, FieldValue::Num(n)) if is_integral(n) => {}
        // a number no double holds would be written as hundreds of digits that no
        // spreadsheet (and no reader of the table) takes for a number
        (FieldType::Number, FieldValue::Num(n)) if !n.parse::<f64>().is_ok_and(f64::is_finite) => {
            return Err((
                "type",
                format!(
                    "{} is beyond the range of a number (a 64-bit float)",
                    shown(v)
                ),
            ));
        }
        (FieldType::Number, FieldValue::Num(_)) => {}
        (FieldType::Boolean, FieldValue::Bool(_)) => {}
        (FieldType::Date, FieldValue::Str(s)) if is_date(s) => {}
        (FieldType::Datetime, FieldValue::Str(s)) if Timestamp::parse(s).is_ok() => {}
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
                format!("{} is not one of the allowed values", shown(v)),
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
            (Bound::Number(b), FieldValue::Num(n)) => n
                .parse::<f64>()
                .ok()
                .and_then(|x| x.partial_cmp(b))
                .is_some_and(outside),
            (Bound::Text(b), FieldValue::Str(s)) if field.ty == FieldType::Datetime => {
                match (Timestamp::parse(s), Timestamp::parse(b)) {
                    (Ok(x), Ok(y)) => outside(x.cmp(&y)),
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
                    shown(v),
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
                shown(v),
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
    use exporter_core::serde_json::{self, json};

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
