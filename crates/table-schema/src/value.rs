//! One record's values, slotted by schema column, borrowed from the record's JSON text: a
//! string without escapes and a number's literal are taken as written, an array or object as
//! its text, and no map is built.

use std::borrow::Cow;

use exporter_json::JsonObject;
use serde_json::Value;

use crate::schema::TableSchema;

/// A value as the schema checks and the cell renderer see it.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue<'a> {
    /// The key is absent.
    Missing,
    /// JSON null.
    Null,
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(Cow<'a, str>),
    /// A number, as its literal text (exact: no digits lost).
    Num(Cow<'a, str>),
    /// An array or an object.
    Json(Cow<'a, Value>),
    /// An array or an object as its JSON text (from a record read as text): parsed only as
    /// far as a check or its cell needs, with no value built for it.
    JsonText(&'a str),
}

impl<'a> FieldValue<'a> {
    /// Borrows a JSON value.
    pub fn from_json(v: &'a Value) -> Self {
        match v {
            Value::Null => FieldValue::Null,
            Value::Bool(b) => FieldValue::Bool(*b),
            Value::String(s) => FieldValue::Str(Cow::Borrowed(s)),
            Value::Number(n) => FieldValue::Num(Cow::Borrowed(n.as_str())),
            Value::Array(_) | Value::Object(_) => FieldValue::Json(Cow::Borrowed(v)),
        }
    }

    /// The JSON type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldValue::Missing => "nothing",
            FieldValue::Null => "null",
            FieldValue::Bool(_) => "a boolean",
            FieldValue::Str(_) => "a string",
            FieldValue::Num(_) => "a number",
            FieldValue::Json(v) if v.is_array() => "an array",
            FieldValue::Json(_) => "an object",
            FieldValue::JsonText(t) if t.starts_with('[') => "an array",
            FieldValue::JsonText(_) => "an object",
        }
    }

    /// As JSON (for enum comparison and messages).
    pub fn to_json(&self) -> Value {
        match self {
            FieldValue::Missing | FieldValue::Null => Value::Null,
            FieldValue::Bool(b) => Value::Bool(*b),
            FieldValue::Str(s) => Value::String(s.to_string()),
            FieldValue::Num(n) => serde_json::from_str(n).unwrap_or(Value::Null),
            FieldValue::Json(v) => v.as_ref().clone(),
            FieldValue::JsonText(t) => serde_json::from_str(t).unwrap_or(Value::Null),
        }
    }
}

/// A record's values in schema order, plus how many of its keys the schema lacks.
#[derive(Debug)]
pub struct Slots<'a> {
    /// One value per schema field.
    pub values: Vec<FieldValue<'a>>,
    /// Keys of the record that are not schema fields.
    pub extra: Vec<String>,
}

/// Storage for one record's values, reused record after record: the row of values, and
/// strings that values decoded from escaped JSON text are written into.
#[derive(Debug, Default)]
pub struct RowStorage {
    values: Vec<FieldValue<'static>>,
    strings: Vec<String>,
}

impl RowStorage {
    /// Takes back the values of a record the sink is done with.
    pub fn keep(&mut self, mut values: Vec<FieldValue<'_>>) {
        // a string per field at most: as many as one record can take
        let room = values.len();
        for value in values.drain(..) {
            if let FieldValue::Str(Cow::Owned(mut s)) = value
                && self.strings.len() < room
            {
                s.clear();
                self.strings.push(s);
            }
        }
        // collected into a vector of the same layout, a vector's iterator keeps its storage
        self.values = values
            .into_iter()
            .map(|_| unreachable!("emptied"))
            .collect();
    }

    /// The row, emptied, for values of any lifetime.
    fn row<'b>(&mut self) -> Vec<FieldValue<'b>> {
        std::mem::take(&mut self.values)
            .into_iter()
            .map(|_| unreachable!("kept empty"))
            .collect()
    }
}

impl TableSchema {
    /// The values of the record `data` in schema order, and its keys the schema lacks: borrowed
    /// from its text, strings with escapes decoded into `storage` (see [`RowStorage::keep`]:
    /// a sink slots every record into one row of storage).
    ///
    /// ```
    /// use table_schema::{FieldValue, RowStorage, TableSchema};
    /// let schema = TableSchema::from_json(serde_json::json!({"fields": [
    ///     {"name": "id"}, {"name": "n", "type": "number"}]})).unwrap();
    /// let data = exporter_json::JsonObject::parse(r#"{"n": 1e400, "x": 1, "id": "caf\u00e9"}"#).unwrap();
    /// let mut storage = RowStorage::default();
    /// let slots = schema.slot(&data, &mut storage);
    /// assert_eq!(slots.values, [FieldValue::Str("café".into()), FieldValue::Num("1e400".into())]);
    /// assert_eq!(slots.extra, ["x"]);
    /// storage.keep(slots.values);
    /// ```
    pub fn slot<'a>(&self, data: &'a JsonObject, storage: &mut RowStorage) -> Slots<'a> {
        let mut values = storage.row();
        values.resize(self.fields.len(), FieldValue::Missing);
        let fields = &self.fields;
        let mut extra = Vec::new();
        // records usually list their keys in schema order: try the next field before hashing
        let mut next = 0;
        for (key, raw) in data.members() {
            let index = match fields.get(next) {
                Some(f) if f.name == key => Some(next),
                _ => self.field_index(&key),
            };
            match index {
                Some(i) => {
                    values[i] = from_raw(raw, &mut storage.strings);
                    next = i + 1;
                }
                None => extra.push(key.into_owned()),
            }
        }
        // as a map would list them: sorted, a repeated key once
        extra.sort_unstable();
        extra.dedup();
        Slots { values, extra }
    }
}

/// One value from its raw JSON text; a string with escapes is decoded into one of `strings`.
fn from_raw<'a>(text: &'a str, strings: &mut Vec<String>) -> FieldValue<'a> {
    match text.as_bytes().first() {
        Some(b'"') if !text.contains('\\') => {
            FieldValue::Str(Cow::Borrowed(&text[1..text.len() - 1]))
        }
        Some(b'"') => {
            let mut value = strings.pop().unwrap_or_default();
            JsonObject::unquote_into(text, &mut value);
            FieldValue::Str(Cow::Owned(value))
        }
        Some(b't') => FieldValue::Bool(true),
        Some(b'f') => FieldValue::Bool(false),
        Some(b'n') => FieldValue::Null,
        Some(b'[' | b'{') => FieldValue::JsonText(text),
        // the number's literal text, exactly as written
        _ => FieldValue::Num(Cow::Borrowed(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> TableSchema {
        TableSchema::from_json(json!({"fields": [
            {"name": "id"}, {"name": "n", "type": "number"}, {"name": "tags", "type": "array"}, {"name": "ok", "type": "boolean"}
        ]}))
        .unwrap()
    }

    #[test]
    fn one_row_of_storage_slots_record_after_record() {
        let s = schema();
        let texts = [
            r#"{"id": "caf\u00e9 \"1\"", "n": 1, "tags": ["a"], "ok": true}"#,
            r#"{"id": "plain", "n": 2.5}"#,
            r#"{"id": "tab\there", "tags": [], "ok": null}"#,
        ];
        let records: Vec<JsonObject> = texts
            .iter()
            .map(|t| JsonObject::parse(t).unwrap())
            .collect();
        let mut storage = RowStorage::default();
        for round in 0..3 {
            for data in records.iter().cycle().skip(round).take(records.len()) {
                let reused = s.slot(data, &mut storage);
                let fresh = s.slot(data, &mut RowStorage::default());
                assert_eq!(reused.values, fresh.values, "{data:?}");
                storage.keep(reused.values);
            }
        }
        assert_eq!(
            storage.strings.len(),
            1,
            "the decoded string's storage is kept"
        );
    }

    #[test]
    fn records_slot_as_their_map_holds_them() {
        let s = schema();
        for text in [
            r#"{"id": "p1", "n": 4.50, "tags": ["a", {"z": 1, "b": 2}], "ok": true, "extra": 1}"#,
            r#"{"zz": null, "ok": false, "tags": [], "n": -0.000015, "id": "a\"b\u00e9\n", "extra": {}}"#,
            r#"{"id": "first", "id": "last", "n": 9007199254740993, "b": 1, "a": 2, "b": 3}"#,
            r#"{"\u0069d": "escaped key", "n": null}"#,
            r#"{}"#,
        ] {
            let data = JsonObject::parse(text).unwrap();
            let map = data.to_map();
            let slots = s.slot(&data, &mut RowStorage::default());
            for (field, value) in s.fields.iter().zip(&slots.values) {
                let want = map.get(&field.name).map_or(Value::Null, Value::clone);
                assert_eq!(value.to_json(), want, "{text}: {}", field.name);
                assert_eq!(
                    *value == FieldValue::Missing,
                    !map.contains_key(&field.name)
                );
            }
            let mut extra: Vec<&String> =
                map.keys().filter(|k| s.field_index(k).is_none()).collect();
            extra.sort();
            assert_eq!(slots.extra.iter().collect::<Vec<_>>(), extra, "{text}");
        }
        // numbers keep their literal text (a map would write `-1e+400`)
        let data = JsonObject::parse(r#"{"id": "plain", "n": -1e400}"#).unwrap();
        let slots = s.slot(&data, &mut RowStorage::default());
        assert!(matches!(
            &slots.values[0],
            FieldValue::Str(Cow::Borrowed("plain"))
        ));
        assert!(matches!(
            &slots.values[1],
            FieldValue::Num(Cow::Borrowed("-1e400"))
        ));
    }
}
