//! One record's values, slotted by schema column: borrowed from a JSON record, or captured
//! field by field from a typed `Serialize` record without building a JSON object for it.

use std::borrow::Cow;

use exporter_core::serde_json::{self, Map, Value};
use exporter_core::{JsonObject, Record};
use serde::ser::{self, Serialize};

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

    fn from_owned_json(v: Value) -> FieldValue<'static> {
        match v {
            Value::Null => FieldValue::Null,
            Value::Bool(b) => FieldValue::Bool(b),
            Value::String(s) => FieldValue::Str(Cow::Owned(s)),
            Value::Number(n) => FieldValue::Num(Cow::Owned(n.as_str().to_string())),
            other => FieldValue::Json(Cow::Owned(other)),
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

/// Slots a record: JSON records are borrowed (from their text or their map); typed records
/// are captured field by field.
#[cfg(test)]
pub fn slot<'a>(record: &Record<'a>, schema: &TableSchema) -> Result<Slots<'a>, String> {
    slot_into(record, schema, &mut RowStorage::default())
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

/// Slots a record: JSON records are borrowed (from their text or their map); typed records
/// are captured field by field. Into `storage` (see [`RowStorage::keep`]): the sink slots
/// every record into one row of storage.
pub fn slot_into<'a>(
    record: &Record<'a>,
    schema: &TableSchema,
    storage: &mut RowStorage,
) -> Result<Slots<'a>, String> {
    let mut values = storage.row();
    values.resize(schema.fields.len(), FieldValue::Missing);
    if let Some(data) = record.as_text() {
        return slot_text(data, schema, values, &mut storage.strings);
    }
    match record.as_json() {
        Some(map) => Ok(slot_json(map, schema, values)),
        None => {
            let mut capture = Capture {
                schema,
                slots: Slots {
                    values: values.into_iter().map(|_| FieldValue::Missing).collect(),
                    extra: Vec::new(),
                },
                key: None,
            };
            record.serialize(&mut capture).map_err(|e| e.0)?;
            Ok(capture.slots)
        }
    }
}

fn slot_json<'a>(
    map: &'a Map<String, Value>,
    schema: &TableSchema,
    mut values: Vec<FieldValue<'a>>,
) -> Slots<'a> {
    // The map iterates its keys in sorted order and the schema keeps its names sorted too:
    // one merge pass places every value and finds the extra keys, with no hashing.
    let mut extra = Vec::new();
    let mut names = schema.sorted_names().iter().peekable();
    for (key, value) in map {
        while names
            .next_if(|(name, _)| name.as_str() < key.as_str())
            .is_some()
        {}
        match names.peek() {
            Some((name, i)) if name == key => {
                values[*i] = FieldValue::from_json(value);
                names.next();
            }
            _ => extra.push(key.clone()),
        }
    }
    Slots { values, extra }
}

/// Slots a record read as text, from its members' raw values: strings without escapes and
/// numbers are borrowed, and no map is built.
fn slot_text<'a>(
    data: &'a JsonObject,
    schema: &TableSchema,
    mut values: Vec<FieldValue<'a>>,
    strings: &mut Vec<String>,
) -> Result<Slots<'a>, String> {
    let fields = &schema.fields;
    let mut extra = Vec::new();
    // records usually list their keys in schema order: try the next field before hashing
    let mut next = 0;
    for (key, raw) in data.members() {
        let index = match fields.get(next) {
            Some(f) if f.name == key => Some(next),
            _ => schema.field_index(&key),
        };
        match index {
            Some(i) => {
                values[i] = from_raw(raw, strings);
                next = i + 1;
            }
            None => extra.push(key.into_owned()),
        }
    }
    // as a map would list them: sorted, a repeated key once
    extra.sort_unstable();
    extra.dedup();
    Ok(Slots { values, extra })
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

/// Serializer error.
#[derive(Debug)]
pub struct CaptureError(String);

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CaptureError {}

impl ser::Error for CaptureError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        CaptureError(msg.to_string())
    }
}

/// Captures the top-level fields of a struct or map into slots; each field's value is
/// converted on its own (scalars straight to text).
struct Capture<'s> {
    schema: &'s TableSchema,
    slots: Slots<'static>,
    key: Option<String>,
}

impl Capture<'_> {
    fn put<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), CaptureError> {
        match self.schema.field_index(key) {
            Some(i) => {
                // scalars go straight to a value; only arrays and objects become JSON
                self.slots.values[i] = match value.serialize(Scalar) {
                    Ok(v) => v,
                    Err(_) => serde_json::to_value(value)
                        .map(FieldValue::from_owned_json)
                        .map_err(|e| CaptureError(format!("field {key:?}: {e}")))?,
                };
            }
            None => self.slots.extra.push(key.to_string()),
        }
        Ok(())
    }
}

/// Serializer methods that write integers as their decimal text (what `serde_json` writes).
macro_rules! integers_as_text {
    ($($method:ident: $t:ty),*) => {
        $( fn $method(self, v: $t) -> Result<Self::Ok, CaptureError> { num(v.to_string()) } )*
    };
}

/// Serializer methods that refuse a number where a record must be a struct or a map.
macro_rules! numbers_refused {
    ($($method:ident: $t:ty),*) => {
        $( fn $method(self, _: $t) -> Result<(), CaptureError> { not_a_record("a number") } )*
    };
}

/// Turns a scalar field straight into a [`FieldValue`]; refuses compounds (the caller then
/// goes through JSON).
struct Scalar;

/// Numbers as the text `serde_json` would write, so typed and JSON records render alike.
fn num(text: String) -> Result<FieldValue<'static>, CaptureError> {
    Ok(FieldValue::Num(Cow::Owned(text)))
}

/// A float as `serde_json` writes it (shortest for its own width; NaN and infinity as null).
fn float(f: impl Serialize) -> Result<FieldValue<'static>, CaptureError> {
    match serde_json::to_string(&f) {
        Ok(text) if text != "null" => num(text),
        _ => Ok(FieldValue::Null),
    }
}

fn compound<T>() -> Result<T, CaptureError> {
    Err(CaptureError("compound".into()))
}

impl ser::Serializer for Scalar {
    type Ok = FieldValue<'static>;
    type Error = CaptureError;
    type SerializeSeq = ser::Impossible<FieldValue<'static>, CaptureError>;
    type SerializeTuple = ser::Impossible<FieldValue<'static>, CaptureError>;
    type SerializeTupleStruct = ser::Impossible<FieldValue<'static>, CaptureError>;
    type SerializeTupleVariant = ser::Impossible<FieldValue<'static>, CaptureError>;
    type SerializeMap = ser::Impossible<FieldValue<'static>, CaptureError>;
    type SerializeStruct = ser::Impossible<FieldValue<'static>, CaptureError>;
    type SerializeStructVariant = ser::Impossible<FieldValue<'static>, CaptureError>;

    fn serialize_bool(self, v: bool) -> Result<Self::Ok, CaptureError> {
        Ok(FieldValue::Bool(v))
    }
    integers_as_text!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64,
        serialize_u128: u128);
    fn serialize_f32(self, v: f32) -> Result<Self::Ok, CaptureError> {
        float(v)
    }
    fn serialize_f64(self, v: f64) -> Result<Self::Ok, CaptureError> {
        float(v)
    }
    fn serialize_char(self, v: char) -> Result<Self::Ok, CaptureError> {
        Ok(FieldValue::Str(Cow::Owned(v.to_string())))
    }
    fn serialize_str(self, v: &str) -> Result<Self::Ok, CaptureError> {
        Ok(FieldValue::Str(Cow::Owned(v.to_string())))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Self::Ok, CaptureError> {
        compound()
    }
    fn serialize_none(self) -> Result<Self::Ok, CaptureError> {
        Ok(FieldValue::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Self::Ok, CaptureError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Self::Ok, CaptureError> {
        Ok(FieldValue::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Self::Ok, CaptureError> {
        Ok(FieldValue::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Self::Ok, CaptureError> {
        Ok(FieldValue::Str(Cow::Borrowed(variant)))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<Self::Ok, CaptureError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, CaptureError> {
        compound()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, CaptureError> {
        compound()
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, CaptureError> {
        compound()
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, CaptureError> {
        compound()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, CaptureError> {
        compound()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, CaptureError> {
        compound()
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, CaptureError> {
        compound()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, CaptureError> {
        compound()
    }
}

fn not_a_record<T>(what: &str) -> Result<T, CaptureError> {
    Err(CaptureError(format!(
        "a record must serialize as a struct or a map, not {what}"
    )))
}

impl ser::Serializer for &mut Capture<'_> {
    type Ok = ();
    type Error = CaptureError;
    type SerializeSeq = ser::Impossible<(), CaptureError>;
    type SerializeTuple = ser::Impossible<(), CaptureError>;
    type SerializeTupleStruct = ser::Impossible<(), CaptureError>;
    type SerializeTupleVariant = ser::Impossible<(), CaptureError>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = ser::Impossible<(), CaptureError>;

    fn serialize_bool(self, _: bool) -> Result<(), CaptureError> {
        not_a_record("a boolean")
    }
    numbers_refused!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_f32: f32,
        serialize_f64: f64);
    fn serialize_char(self, _: char) -> Result<(), CaptureError> {
        not_a_record("a string")
    }
    fn serialize_str(self, _: &str) -> Result<(), CaptureError> {
        not_a_record("a string")
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), CaptureError> {
        not_a_record("bytes")
    }
    fn serialize_none(self) -> Result<(), CaptureError> {
        not_a_record("null")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), CaptureError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), CaptureError> {
        not_a_record("null")
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), CaptureError> {
        not_a_record("a unit struct")
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), CaptureError> {
        not_a_record("an enum variant")
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), CaptureError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), CaptureError> {
        not_a_record("an enum variant")
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, CaptureError> {
        not_a_record("an array")
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, CaptureError> {
        not_a_record("a tuple")
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, CaptureError> {
        not_a_record("a tuple struct")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, CaptureError> {
        not_a_record("an enum variant")
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, CaptureError> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, CaptureError> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, CaptureError> {
        not_a_record("an enum variant")
    }
}

impl ser::SerializeStruct for &mut Capture<'_> {
    type Ok = ();
    type Error = CaptureError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CaptureError> {
        self.put(key, value)
    }
    fn end(self) -> Result<(), CaptureError> {
        Ok(())
    }
}

impl ser::SerializeMap for &mut Capture<'_> {
    type Ok = ();
    type Error = CaptureError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), CaptureError> {
        self.key = Some(
            match serde_json::to_value(key).map_err(|e| CaptureError(e.to_string()))? {
                Value::String(s) => s,
                other => other.to_string(),
            },
        );
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CaptureError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| CaptureError("map value without a key".into()))?;
        self.put(&key, value)
    }
    fn end(self) -> Result<(), CaptureError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exporter_core::serde_json::json;

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
                let reused = slot_into(&Record::text(data), &s, &mut storage).unwrap();
                let fresh = slot(&Record::text(data), &s).unwrap();
                assert_eq!(reused.values, fresh.values, "{data:?}");
                storage.keep(reused.values);
            }
        }
        assert_eq!(
            storage.strings.len(),
            1,
            "the decoded string's storage is kept"
        );
        #[derive(serde::Serialize)]
        struct Typed {
            id: String,
        }
        for i in 0..10 {
            let typed = Typed {
                id: format!("t{i}"),
            };
            let slots = slot_into(&Record::typed(&typed), &s, &mut storage).unwrap();
            storage.keep(slots.values);
        }
        assert!(
            storage.strings.len() <= s.fields.len(),
            "typed records' strings are not hoarded"
        );
    }

    #[test]
    fn typed_and_json_records_slot_alike() {
        #[derive(serde::Serialize)]
        struct Lead {
            id: &'static str,
            n: f64,
            tags: Vec<&'static str>,
            extra: u8,
        }
        let s = schema();
        let lead = Lead {
            id: "p1",
            n: 4.5,
            tags: vec!["a"],
            extra: 1,
        };
        let typed = slot(&Record::typed(&lead), &s).unwrap();
        let json = json!({"id": "p1", "n": 4.5, "tags": ["a"], "extra": 1});
        let from_json = slot(&Record::json(json.as_object().unwrap()), &s).unwrap();
        assert_eq!(typed.values, from_json.values);
        assert_eq!(typed.values[3], FieldValue::Missing);
        assert_eq!(typed.extra, ["extra"]);
        assert_eq!(from_json.extra, ["extra"]);
    }

    #[test]
    fn typed_scalars_match_their_json_form() {
        #[derive(serde::Serialize)]
        enum Kind {
            Cafe,
        }
        #[derive(serde::Serialize)]
        struct Row {
            id: u128,
            n: f32,
            tags: (u8, &'static str),
            ok: Option<bool>,
            kind: Kind,
        }
        let s = TableSchema::from_json(json!({"fields": [
            {"name": "id", "type": "integer"}, {"name": "n", "type": "number"}, {"name": "tags", "type": "array"},
            {"name": "ok", "type": "boolean"}, {"name": "kind"}
        ]}))
        .unwrap();
        let row = Row {
            id: u128::MAX,
            n: 0.1,
            tags: (1, "x"),
            ok: None,
            kind: Kind::Cafe,
        };
        let typed = slot(&Record::typed(&row), &s).unwrap();
        let as_json = serde_json::to_value(&row).unwrap();
        let from_json = slot(&Record::json(as_json.as_object().unwrap()), &s).unwrap();
        assert_eq!(typed.values, from_json.values);
        assert_eq!(
            typed.values[0],
            FieldValue::Num("340282366920938463463374607431768211455".into())
        );
    }

    #[test]
    fn text_records_slot_like_their_map() {
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
            let from_text = slot(&Record::text(&data), &s).unwrap();
            let from_map = slot(&Record::json(&map), &s).unwrap();
            // arrays and objects stay text: compare what they hold
            let held = |values: &[FieldValue<'_>]| -> Vec<FieldValue<'static>> {
                values
                    .iter()
                    .map(|v| match v {
                        FieldValue::JsonText(_) | FieldValue::Json(_) => {
                            FieldValue::Json(Cow::Owned(v.to_json()))
                        }
                        FieldValue::Str(x) => FieldValue::Str(Cow::Owned(x.to_string())),
                        FieldValue::Num(x) => FieldValue::Num(Cow::Owned(x.to_string())),
                        FieldValue::Missing => FieldValue::Missing,
                        FieldValue::Null => FieldValue::Null,
                        FieldValue::Bool(b) => FieldValue::Bool(*b),
                    })
                    .collect()
            };
            assert_eq!(held(&from_text.values), held(&from_map.values), "{text}");
            assert_eq!(from_text.extra, from_map.extra, "{text}");
        }
        // numbers keep their literal text (a map would write `-1e+400`)
        let data = JsonObject::parse(r#"{"id": "plain", "n": -1e400}"#).unwrap();
        let slots = slot(&Record::text(&data), &s).unwrap();
        assert!(matches!(
            &slots.values[0],
            FieldValue::Str(Cow::Borrowed("plain"))
        ));
        assert!(matches!(
            &slots.values[1],
            FieldValue::Num(Cow::Borrowed("-1e400"))
        ));
    }

    #[test]
    fn maps_work_and_scalars_are_refused() {
        let s = schema();
        let mut m = std::collections::BTreeMap::new();
        m.insert("id", "x");
        assert_eq!(
            slot(&Record::typed(&m), &s).unwrap().values[0],
            FieldValue::Str("x".into())
        );
        assert!(
            slot(&Record::typed(&5), &s)
                .unwrap_err()
                .contains("struct or a map")
        );
    }
}
