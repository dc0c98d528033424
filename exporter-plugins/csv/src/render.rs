//! Turning a checked value into cell text: per type and dialect, then the formula guard and
//! the cell limit.

use std::fmt::Write;

use exporter_core::Timestamp;
use exporter_core::serde_json::{self, Value};
use exporter_core::tabular::{self, Dialect};

use crate::schema::{Field, FieldType};
use crate::value::FieldValue;

/// How cells are written.
#[derive(Clone, Debug)]
pub struct CellStyle {
    /// The dialect (booleans, date-times, cell limit).
    pub dialect: Dialect,
    /// Joins array items.
    pub array_separator: String,
    /// Whether string cells get the formula guard.
    pub guard: bool,
}

/// What rendering one cell did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CellEffects {
    /// The formula guard was applied.
    pub guarded: bool,
    /// The cell was cut at the dialect's limit.
    pub truncated: bool,
}

/// Writes the cell for `v` into `out` (cleared first).
pub fn render(
    field: &Field,
    v: &FieldValue<'_>,
    missing: bool,
    style: &CellStyle,
    out: &mut String,
) -> CellEffects {
    out.clear();
    if missing {
        return CellEffects::default();
    }
    let guardable = match v {
        FieldValue::Missing | FieldValue::Null => false,
        FieldValue::Bool(b) => {
            out.push_str(bool_text(*b, style.dialect));
            false
        }
        FieldValue::Num(n) => {
            out.push_str(&tabular::number_text(n));
            false
        }
        FieldValue::Str(s) => {
            match (field.ty, style.dialect) {
                (FieldType::Datetime, Dialect::Excel) => match Timestamp::parse(s) {
                    Ok(ts) => out.push_str(&style.dialect.datetime(&ts)),
                    Err(_) => out.push_str(s),
                },
                _ => out.push_str(s),
            }
            true
        }
        FieldValue::Json(j) => {
            match j.as_ref() {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(&style.array_separator);
                        }
                        match item {
                            Value::Null => {}
                            Value::Bool(b) => out.push_str(bool_text(*b, style.dialect)),
                            Value::String(s) => out.push_str(s),
                            Value::Number(n) => out.push_str(&tabular::number_text(n.as_str())),
                            nested => compact_json(nested, out),
                        }
                    }
                }
                other => compact_json(other, out),
            }
            true
        }
    };
    let mut effects = CellEffects::default();
    if guardable && style.guard && tabular::needs_guard(out) {
        out.insert(0, '\'');
        effects.guarded = true;
    }
    if let Some(limit) = style.dialect.cell_limit() {
        let (kept, cut) = tabular::truncate_utf16(out, limit);
        if cut {
            let len = kept.len();
            out.truncate(len);
            effects.truncated = true;
        }
    }
    effects
}

fn bool_text(b: bool, dialect: Dialect) -> &'static str {
    let (t, f) = dialect.booleans();
    if b { t } else { f }
}

/// Compact JSON with every number written as [`tabular::number_text`] (no exponents).
pub fn compact_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&tabular::number_text(n.as_str())),
        Value::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                compact_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:", serde_json::to_string(k).unwrap_or_default());
                compact_json(item, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::TableSchema;
    use exporter_core::serde_json::json;

    fn cell(ty: &str, v: Value, dialect: Dialect) -> (String, CellEffects) {
        let schema =
            TableSchema::from_json(json!({"fields": [{"name": "x", "type": ty}]})).unwrap();
        let style = CellStyle {
            dialect,
            array_separator: "; ".into(),
            guard: dialect.guards_formulas(),
        };
        let mut out = String::new();
        let fv = FieldValue::from_json(&v);
        let missing = crate::check::is_missing(&schema, &fv);
        let e = render(&schema.fields[0], &fv, missing, &style, &mut out);
        (out, e)
    }

    #[test]
    fn cells_per_type_and_dialect() {
        use Dialect::*;
        let big: Value = serde_json::from_str("1e21").unwrap();
        let exact: Value = serde_json::from_str("9007199254740993").unwrap();
        let cases: Vec<(&str, Value, Dialect, &str)> = vec![
            ("number", big.clone(), Excel, "1000000000000000000000"),
            ("integer", exact, Excel, "9007199254740993"),
            (
                "number",
                serde_json::from_str("0.30000000000000004").unwrap(),
                Excel,
                "0.30000000000000004",
            ),
            ("number", json!(-5), Excel, "-5"),
            ("boolean", json!(true), Excel, "TRUE"),
            ("boolean", json!(false), Unix, "false"),
            ("string", json!(null), Excel, ""),
            ("string", json!(""), Excel, ""),
            ("string", json!("=1+1"), Excel, "'=1+1"),
            ("string", json!("=1+1"), Rfc4180, "=1+1"),
            ("string", json!("+1 555 0100"), Sheets, "+1 555 0100"),
            (
                "array",
                json!(["a", null, 1.5, true, ["x"]]),
                Excel,
                "a; ; 1.5; TRUE; [\"x\"]",
            ),
            ("array", json!(["=cmd"]), Excel, "'=cmd"),
            (
                "object",
                json!({"n": big, "s": "q\"", "z": []}),
                Unix,
                "{\"n\":1000000000000000000000,\"s\":\"q\\\"\",\"z\":[]}",
            ),
            (
                "datetime",
                json!("2026-11-26T09:00:01.5+01:00"),
                Excel,
                "2026-11-26 08:00:01.500",
            ),
            (
                "datetime",
                json!("2026-11-26T09:00:01+01:00"),
                Sheets,
                "2026-11-26T09:00:01+01:00",
            ),
        ];
        for (ty, v, d, want) in cases {
            assert_eq!(cell(ty, v.clone(), d).0, want, "{ty} {v} {d:?}");
        }
    }

    #[test]
    fn long_cells_are_cut_at_the_dialect_limit() {
        let long = "😀".repeat(20_000); // 40,000 UTF-16 units
        let (text, e) = cell("string", json!(long), Dialect::Excel);
        assert!(e.truncated);
        assert_eq!(
            text.encode_utf16().count(),
            32_766,
            "an emoji is never split"
        );
        let (text, e) = cell("string", json!(long), Dialect::Unix);
        assert!(!e.truncated);
        assert_eq!(text.len(), long.len());
    }
}
