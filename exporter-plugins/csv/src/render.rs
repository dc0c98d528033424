//! Turning a checked value into cell text: per type and dialect, then the formula guard and
//! the cell limit.

use exporter_core::JsonObject;
use exporter_core::Timestamp;
use exporter_core::serde_json::Value;
use exporter_tabular::{self as tabular, Dialect};

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
    /// The dialect cannot write the value (an Excel date-time whose UTC year leaves
    /// 0000-9999); the cell is empty and the record must not be written.
    pub unwritable: bool,
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
            tabular::write_number(n, out);
            false
        }
        FieldValue::Str(s) => {
            match (field.ty, style.dialect) {
                (FieldType::Datetime, Dialect::Excel) => match Timestamp::parse(s) {
                    Ok(ts) => {
                        if !style.dialect.write_datetime(&ts.as_offset_datetime(), out) {
                            return CellEffects {
                                unwritable: true,
                                ..CellEffects::default()
                            };
                        }
                    }
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
                            Value::Number(n) => tabular::write_number(n.as_str(), out),
                            nested => compact_json(nested, out),
                        }
                    }
                }
                other => compact_json(other, out),
            }
            true
        }
        FieldValue::JsonText(text) if text.starts_with('[') => {
            for (i, item) in JsonObject::items_of(text).enumerate() {
                if i > 0 {
                    out.push_str(&style.array_separator);
                }
                match item.as_bytes()[0] {
                    b'n' => {}
                    b't' => out.push_str(bool_text(true, style.dialect)),
                    b'f' => out.push_str(bool_text(false, style.dialect)),
                    b'"' => JsonObject::unquote_into(item, out),
                    b'[' | b'{' => compact_json_text(item, out),
                    _ => tabular::write_number(item, out),
                }
            }
            true
        }
        FieldValue::JsonText(text) => {
            compact_json_text(text, out);
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

/// Compact JSON with every number written as [`tabular::write_number`] (no exponents).
pub fn compact_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => tabular::write_number(n.as_str(), out),
        Value::String(s) => JsonObject::quote_into(s, out),
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
                JsonObject::quote_into(k, out);
                out.push(':');
                compact_json(item, out);
            }
            out.push('}');
        }
    }
}

/// [`compact_json`] of the value `text` holds, straight from the text: objects' members
/// sorted by key (a repeated key keeping its last value) as a map would hold them, strings
/// without escapes copied as they are.
pub fn compact_json_text(text: &str, out: &mut String) {
    let text = text.trim();
    match text.as_bytes().first() {
        Some(b'{') => {
            // small objects are sorted on the stack: this runs for every object cell
            const ON_STACK: usize = 16;
            let mut stack = [("", ""); ON_STACK];
            let mut n = 0;
            for member in JsonObject::members_of(text) {
                if let Some(slot) = stack.get_mut(n) {
                    *slot = member;
                }
                n += 1;
            }
            let mut heap = Vec::new();
            let members = if n <= ON_STACK {
                &mut stack[..n]
            } else {
                heap.extend(JsonObject::members_of(text));
                &mut heap[..]
            };
            // keys compare unescaped (borrowed unless they have escapes)
            let key = JsonObject::unquote;
            // stable: of equal keys the last stays last, and is the one kept
            members.sort_by(|a, b| key(a.0).cmp(&key(b.0)));
            out.push('{');
            let mut first = true;
            for (i, (raw_key, value)) in members.iter().enumerate() {
                if members
                    .get(i + 1)
                    .is_some_and(|next| key(next.0) == key(raw_key))
                {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                compact_json_text(raw_key, out); // a key is a string
                out.push(':');
                compact_json_text(value, out);
            }
            out.push('}');
        }
        Some(b'[') => {
            out.push('[');
            for (i, item) in JsonObject::items_of(text).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                compact_json_text(item, out);
            }
            out.push(']');
        }
        Some(b'"') if !text.contains('\\') => out.push_str(text),
        Some(b'"') => JsonObject::requote_into(text, out),
        Some(b't' | b'f' | b'n') => out.push_str(text),
        _ => tabular::write_number(text, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::TableSchema;
    use exporter_core::serde_json;
    use exporter_core::serde_json::json;
    use std::fmt::Write;

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

    /// JSON text of `v` as a stream might hold it: members in reverse order, each after a
    /// decoy of the same key that it overrides, spaces after separators when `spaced`, and
    /// every non-ASCII character as a `\u` escape.
    fn stream_json(v: &Value, spaced: bool) -> String {
        fn write(v: &Value, spaced: bool, out: &mut String) {
            let sep = if spaced { ", " } else { "," };
            match v {
                Value::Array(items) => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(sep);
                        }
                        write(item, spaced, out);
                    }
                    out.push(']');
                }
                Value::Object(map) => {
                    out.push('{');
                    for (i, (k, item)) in map.iter().rev().enumerate() {
                        if i > 0 {
                            out.push_str(sep);
                        }
                        let key = serde_json::to_string(k).unwrap();
                        let _ = write!(out, "{key}: 0{sep}{key}: ");
                        write(item, spaced, out);
                    }
                    out.push('}');
                }
                scalar => out.push_str(&serde_json::to_string(scalar).unwrap()),
            }
        }
        let mut text = String::new();
        write(v, spaced, &mut text);
        let mut out = String::new();
        for c in text.chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
        out
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-z\"\\\\/\n\t\u{1}é😀=+-]{0,6}".prop_map(Value::from),
        ];
        let compound = |inner: BoxedStrategy<Value>| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-zé\"]{0,3}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        };
        // a cell holds an array or an object
        compound(
            leaf.prop_recursive(2, 24, 5, move |inner| compound(inner.boxed()))
                .boxed(),
        )
    }

    proptest::proptest! {
        #[test]
        fn cells_from_json_text_match_cells_from_values(
            v in json_value(), spaced in proptest::bool::ANY, excel in proptest::bool::ANY
        ) {
            let dialect = if excel { Dialect::Excel } else { Dialect::Unix };
            let style = CellStyle { dialect, array_separator: "; ".into(), guard: dialect.guards_formulas() };
            let ty = if v.is_object() { "object" } else { "array" };
            let schema = TableSchema::from_json(json!({"fields": [{"name": "x", "type": ty}]})).unwrap();
            let text = stream_json(&v, spaced);
            let (mut from_value, mut from_text) = (String::new(), String::new());
            render(&schema.fields[0], &FieldValue::from_json(&v), false, &style, &mut from_value);
            render(&schema.fields[0], &FieldValue::JsonText(&text), false, &style, &mut from_text);
            proptest::prop_assert_eq!(&from_text, &from_value, "{}", text);
            let (mut a, mut b) = (String::new(), String::new());
            compact_json(&v, &mut a);
            compact_json_text(&text, &mut b);
            proptest::prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_as_a_map_does() {
        let text = r#"{"b": 1, "a": [1.50, -0.0, 1e400], "b": {"y": 2, "x": 1}, "a": "last"}"#;
        let mut out = String::new();
        compact_json_text(text, &mut out);
        let mut want = String::new();
        compact_json(&serde_json::from_str(text).unwrap(), &mut want);
        assert_eq!(out, want);
        assert_eq!(out, r#"{"a":"last","b":{"x":1,"y":2}}"#);
        let mut out = String::new();
        compact_json_text("[1.50, -0.0, 1e400, 1E-7]", &mut out);
        assert_eq!(out, format!("[1.5,-0,1{},0.0000001]", "0".repeat(400)));
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
