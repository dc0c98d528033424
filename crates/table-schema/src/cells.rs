//! Cells as text: a checked value written as the cell of a dialect (per type, then the
//! formula guard and the cell limit), and a cell's text read back as the value it stands for.
//! Both sides live here, in one [`CellFormat`], so they agree by construction; a property
//! test holds reading to writing.

use std::borrow::Cow;

use exporter_json::JsonObject;
use exporter_tabular::{self as tabular, Dialect};
use serde_json::{Map, Value};

use crate::constraints::{Violation, check_one, is_date, is_integral, parse_datetime};
use crate::schema::{Field, FieldType, TableSchema};
use crate::value::FieldValue;

/// How a table's cells are written and read: the dialect (booleans, date-times, the cell
/// limit), what joins array items, and whether text gets the formula guard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellFormat {
    /// The dialect.
    pub dialect: Dialect,
    /// Joins array items (default `"; "`).
    pub array_separator: String,
    /// Whether string cells (and header labels) get the formula guard.
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

impl CellFormat {
    /// The dialect's defaults: `"; "` between array items, the guard where the dialect has it.
    pub fn of(dialect: Dialect) -> Self {
        CellFormat {
            dialect,
            array_separator: "; ".into(),
            guard: dialect.guards_formulas(),
        }
    }

    /// Whether a valid value of `field` may be written as a cell that reads back otherwise
    /// than the value was checked: array items are joined (an item holding the separator
    /// reads as two, `[]` as a missing value), an `any` value reads back as text, an Excel
    /// date-time to the millisecond. Strings, numbers, booleans, dates and objects read back
    /// as they were checked (the formula guard reads back one way only), so their cells need
    /// no second look ([`CellFormat::verdict`]).
    ///
    /// ```
    /// use table_schema::{CellFormat, TableSchema};
    /// let schema = TableSchema::from_json(serde_json::json!({"fields": [
    ///     {"name": "tags", "type": "array", "constraints": {"maxLength": 3}},
    ///     {"name": "name"}]})).unwrap();
    /// let format = CellFormat::of(exporter_tabular::Dialect::Excel);
    /// assert!(format.reads_back_otherwise(&schema.fields[0]));
    /// assert!(!format.reads_back_otherwise(&schema.fields[1]));
    /// ```
    pub fn reads_back_otherwise(&self, field: &Field) -> bool {
        let c = &field.constraints;
        let counted = c.one_of.is_some() || c.min_length.is_some() || c.max_length.is_some();
        match field.ty {
            FieldType::Array => c.required || counted,
            FieldType::Any => {
                c.required
                    || counted
                    || c.pattern.is_some()
                    || c.minimum.is_some()
                    || c.maximum.is_some()
            }
            FieldType::Datetime => {
                self.dialect == Dialect::Excel && (c.minimum.is_some() || c.maximum.is_some())
            }
            _ => false,
        }
    }

    /// Writes the cell of `v` into `out` (cleared first); `missing` (see
    /// [`crate::is_missing`]) writes an empty cell.
    ///
    /// ```
    /// use table_schema::{CellFormat, FieldValue, TableSchema};
    /// use exporter_tabular::Dialect;
    /// let schema = TableSchema::from_json(serde_json::json!({"fields": [
    ///     {"name": "tags", "type": "array"}]})).unwrap();
    /// let mut cell = String::new();
    /// let tags = FieldValue::JsonText(r#"["a", null, 1e21, true]"#);
    /// CellFormat::of(Dialect::Excel).write(&schema.fields[0], &tags, false, &mut cell);
    /// assert_eq!(cell, "a; ; 1000000000000000000000; TRUE");
    /// ```
    pub fn write(
        &self,
        field: &Field,
        v: &FieldValue<'_>,
        missing: bool,
        out: &mut String,
    ) -> CellEffects {
        let style = self;
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
                    (FieldType::Datetime, Dialect::Excel) => match parse_datetime(s) {
                        Some(ts) => {
                            if !style.dialect.write_datetime(&ts, out) {
                                return CellEffects {
                                    unwritable: true,
                                    ..CellEffects::default()
                                };
                            }
                        }
                        None => out.push_str(s),
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

    /// The value a cell's text stands for, as the schema checks see it: the guard undone,
    /// booleans and date-times read as this format writes them, arrays split at the
    /// separator. A `type` violation when the text is no cell of the field's type.
    ///
    /// ```
    /// use table_schema::{CellFormat, FieldValue, TableSchema};
    /// use exporter_tabular::Dialect;
    /// let schema = TableSchema::from_json(serde_json::json!({"fields": [
    ///     {"name": "note"}, {"name": "ok", "type": "boolean"}]})).unwrap();
    /// let format = CellFormat::of(Dialect::Excel);
    /// assert_eq!(format.read(&schema.fields[0], "'=1+1").unwrap(), FieldValue::Str("=1+1".into()));
    /// assert_eq!(format.read(&schema.fields[1], "TRUE").unwrap(), FieldValue::Bool(true));
    /// assert_eq!(format.read(&schema.fields[1], "yes").unwrap_err().rule, "type");
    /// ```
    pub fn read<'c>(&self, field: &Field, text: &'c str) -> Result<FieldValue<'c>, Violation> {
        if text.is_empty() {
            return Ok(FieldValue::Missing);
        }
        let unguarded = if self.guard {
            exporter_tabular::unguard(text)
        } else {
            text
        };
        let bad = |what: &str| {
            let value = serde_json::Value::from(text).to_string();
            Err(Violation::with_value(
                &field.name,
                "type",
                format!("{{value}} is not {what}"),
                value,
            ))
        };
        match field.ty {
            FieldType::String | FieldType::Any => Ok(FieldValue::Str(Cow::Borrowed(unguarded))),
            FieldType::Integer if is_integral(text) && !text.contains(['.', 'e', 'E']) => {
                Ok(FieldValue::Num(Cow::Borrowed(text)))
            }
            FieldType::Integer => bad("an integer"),
            FieldType::Number
                if text.parse::<f64>().is_ok_and(f64::is_finite)
                    && !text.contains(['e', 'E', 'i', 'n', 'N']) =>
            {
                Ok(FieldValue::Num(Cow::Borrowed(text)))
            }
            FieldType::Number => bad("a number without exponent"),
            FieldType::Boolean => {
                let (t, f) = self.dialect.booleans();
                match text {
                    _ if text == t => Ok(FieldValue::Bool(true)),
                    _ if text == f => Ok(FieldValue::Bool(false)),
                    _ => bad(&format!("{t} or {f}")),
                }
            }
            FieldType::Date if is_date(unguarded) => Ok(FieldValue::Str(Cow::Borrowed(unguarded))),
            FieldType::Date => bad("a date (YYYY-MM-DD)"),
            FieldType::Datetime => match self.dialect {
                Dialect::Excel => match excel_to_rfc3339(unguarded, &mut [0; 64]) {
                    // the text is built only for constraints that compare it; otherwise a
                    // valid date-time (no allocation) stands for the cell in the type check
                    Some(_) if !compares_value(field) => {
                        Ok(FieldValue::Str(Cow::Borrowed(VALID_DATETIME)))
                    }
                    Some(rfc) => Ok(FieldValue::Str(Cow::Owned(rfc.to_string()))),
                    None => bad("an Excel date-time (YYYY-MM-DD HH:MM:SS[.fff])"),
                },
                _ if parse_datetime(unguarded).is_some() => {
                    Ok(FieldValue::Str(Cow::Borrowed(unguarded)))
                }
                _ => bad("an RFC 3339 date-time"),
            },
            // Items are built only for constraints that look at them; otherwise an empty
            // array or object (no allocation) stands for the cell in the type check.
            FieldType::Array if !looks_at_items(field) => {
                Ok(FieldValue::Json(Cow::Owned(Value::Array(Vec::new()))))
            }
            FieldType::Array => Ok(FieldValue::Json(Cow::Owned(Value::Array(
                unguarded
                    .split(self.array_separator.as_str())
                    .map(|p| Value::String(p.to_string()))
                    .collect(),
            )))),
            FieldType::Object if !looks_at_items(field) => {
                if JsonObject::is_object(unguarded) {
                    Ok(FieldValue::Json(Cow::Owned(Value::Object(Map::new()))))
                } else {
                    bad("a JSON object")
                }
            }
            FieldType::Object => match serde_json::from_str::<Value>(unguarded) {
                Ok(v @ Value::Object(_)) => Ok(FieldValue::Json(Cow::Owned(v))),
                _ => bad("a JSON object"),
            },
        }
    }

    /// What is wrong with `text` as the cell of `field`: a `type` violation for text no cell
    /// of its type holds, or the constraint the value it stands for breaks; `None` for a
    /// valid cell. What a table's validator checks of every cell.
    pub fn verdict(&self, schema: &TableSchema, field: &Field, text: &str) -> Option<Violation> {
        match self.read(field, text) {
            Err(violation) => Some(violation),
            Ok(v) => check_one(schema, field, &v),
        }
    }

    /// The header label of `field` as this format writes it (the guard applies to names too).
    ///
    /// ```
    /// use table_schema::CellFormat;
    /// assert_eq!(CellFormat::of(exporter_tabular::Dialect::Sheets).label("=x"), "'=x");
    /// assert_eq!(CellFormat::of(exporter_tabular::Dialect::Unix).label("=x"), "=x");
    /// ```
    pub fn label<'n>(&self, name: &'n str) -> Cow<'n, str> {
        match self.guard {
            true => exporter_tabular::guard(name),
            false => Cow::Borrowed(name),
        }
    }
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

/// `YYYY-MM-DD HH:MM:SS[.fff]` (UTC) as RFC 3339.
/// Whether a field's constraints look at an array's or an object's items, not just its type.
fn looks_at_items(field: &Field) -> bool {
    let c = &field.constraints;
    c.one_of.is_some() || c.min_length.is_some() || c.max_length.is_some()
}

/// Whether a field's constraints look at a value beyond its type.
fn compares_value(field: &Field) -> bool {
    let c = &field.constraints;
    looks_at_items(field) || c.minimum.is_some() || c.maximum.is_some() || c.pattern.is_some()
}

/// Stands for a date-time cell whose value no constraint compares.
const VALID_DATETIME: &str = "1970-01-01T00:00:00Z";

/// `YYYY-MM-DD HH:MM:SS[.fff]` (UTC) as the RFC 3339 text it stands for, built in `buf` (a
/// longer cell is no date-time), when that is a valid date-time.
fn excel_to_rfc3339<'b>(s: &str, buf: &'b mut [u8; 64]) -> Option<&'b str> {
    let (date, time) = s.split_once(' ')?;
    let len = date.len() + time.len() + 2;
    if len > buf.len() {
        return None;
    }
    buf[..date.len()].copy_from_slice(date.as_bytes());
    buf[date.len()] = b'T';
    buf[date.len() + 1..len - 1].copy_from_slice(time.as_bytes());
    buf[len - 1] = b'Z';
    let rfc = std::str::from_utf8(&buf[..len]).ok()?;
    parse_datetime(rfc).map(|_| rfc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::TableSchema;
    use serde_json::json;
    use std::fmt::Write;

    fn cell(ty: &str, v: Value, dialect: Dialect) -> (String, CellEffects) {
        let schema =
            TableSchema::from_json(json!({"fields": [{"name": "x", "type": ty}]})).unwrap();
        let style = CellFormat {
            dialect,
            array_separator: "; ".into(),
            guard: dialect.guards_formulas(),
        };
        let mut out = String::new();
        let fv = FieldValue::from_json(&v);
        let missing = crate::constraints::is_missing(&schema, &fv);
        let e = style.write(&schema.fields[0], &fv, missing, &mut out);
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
            let style = CellFormat { dialect, array_separator: "; ".into(), guard: dialect.guards_formulas() };
            let ty = if v.is_object() { "object" } else { "array" };
            let schema = TableSchema::from_json(json!({"fields": [{"name": "x", "type": ty}]})).unwrap();
            let text = stream_json(&v, spaced);
            let (mut from_value, mut from_text) = (String::new(), String::new());
            style.write(&schema.fields[0], &FieldValue::from_json(&v), false, &mut from_value);
            style.write(&schema.fields[0], &FieldValue::JsonText(&text), false, &mut from_text);
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
