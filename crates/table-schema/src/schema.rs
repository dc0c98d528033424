//! Frictionless Table Schema: loading, and the checks that make a schema usable (known types,
//! formats and constraints; patterns that compile; key fields that exist).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use crate::pattern::Pattern;

/// A field type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Text.
    String,
    /// A whole number of any size.
    Integer,
    /// A number.
    Number,
    /// true or false.
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339 date-time.
    Datetime,
    /// A JSON array (cells join items with the array separator).
    Array,
    /// A JSON object (cells hold compact JSON).
    Object,
    /// Any JSON value.
    Any,
}

impl FieldType {
    /// The Table Schema name.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Array => "array",
            FieldType::Object => "object",
            FieldType::Any => "any",
        }
    }
}

/// The `format` of a string field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringFormat {
    /// Any text.
    Default,
    /// `local@domain.tld`.
    Email,
    /// `scheme:rest`.
    Uri,
    /// 8-4-4-4-12 hexadecimal.
    Uuid,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawConstraints {
    #[serde(default)]
    required: bool,
    #[serde(default)]
    unique: bool,
    #[serde(rename = "enum")]
    one_of: Option<Vec<Value>>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    minimum: Option<Value>,
    maximum: Option<Value>,
    pattern: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    #[serde(rename = "type", default = "default_type")]
    ty: String,
    format: Option<String>,
    constraints: Option<RawConstraints>,
    // documentation keys Table Schema allows
    title: Option<Value>,
    description: Option<Value>,
    #[allow(dead_code)]
    example: Option<Value>,
    #[allow(dead_code)]
    #[serde(rename = "rdfType")]
    rdf_type: Option<Value>,
}

fn default_type() -> String {
    "string".into()
}

// Unknown keys are refused, not ignored: a misspelt constraint (`maxLenght`) or a feature
// this crate lacks (`foreignKeys`, `trueValues`) would otherwise look applied and not be.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSchema {
    fields: Vec<RawField>,
    primary_key: Option<KeyFields>,
    missing_values: Option<Vec<String>>,
    #[serde(rename = "$schema")]
    #[allow(dead_code)]
    schema: Option<Value>,
    #[allow(dead_code)]
    description: Option<Value>,
    #[allow(dead_code)]
    title: Option<Value>,
    #[allow(dead_code)]
    name: Option<Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KeyFields {
    One(String),
    Many(Vec<String>),
}

/// A field's constraints, compiled.
#[derive(Clone, Debug, Default)]
pub struct Constraints {
    /// Missing values (null, absent, a missing-value string) are violations.
    pub required: bool,
    /// Values must not repeat.
    pub unique: bool,
    /// Allowed values.
    pub one_of: Option<Vec<Value>>,
    /// Minimum length (characters for strings, items for arrays and objects).
    pub min_length: Option<u64>,
    /// Maximum length.
    pub max_length: Option<u64>,
    /// Minimum value (numbers, dates, date-times).
    pub minimum: Option<Bound>,
    /// Maximum value.
    pub maximum: Option<Bound>,
    /// The pattern, anchored at both ends as Table Schema says.
    pub pattern: Option<Pattern>,
}

/// A minimum or maximum: a number, or a date/date-time text compared as such.
#[derive(Clone, Debug)]
pub enum Bound {
    /// For numbers and integers.
    Number(f64),
    /// For dates and date-times (compared as instants or ISO text).
    Text(String),
}

/// One column.
#[derive(Clone, Debug)]
pub struct Field {
    /// Column name (the header label).
    pub name: String,
    /// Its type.
    pub ty: FieldType,
    /// Its string format.
    pub format: StringFormat,
    /// Its constraints.
    pub constraints: Constraints,
    /// Its `title`, when the schema gives one as text (documentation, shown to people).
    pub title: Option<String>,
    /// Its `description`, likewise.
    pub description: Option<String>,
}

/// A checked Table Schema.
#[derive(Clone, Debug)]
pub struct TableSchema {
    /// Columns in order.
    pub fields: Vec<Field>,
    /// Field indexes of the primary key.
    pub primary_key: Vec<usize>,
    /// Strings that count as missing (default `[""]`).
    pub missing_values: Vec<String>,
    index: HashMap<String, usize>,
    sorted: Vec<(String, usize)>,
}

impl TableSchema {
    /// Parses and checks a Table Schema given as JSON. Errors carry the JSON path of the
    /// problem (`fields[2].constraints.pattern`).
    pub fn from_json(value: Value) -> Result<TableSchema, (String, String)> {
        let raw: RawSchema = serde_path_to_json(value)?;
        let mut fields = Vec::with_capacity(raw.fields.len());
        let mut index = HashMap::new();
        if raw.fields.is_empty() {
            return Err((
                "fields".into(),
                "a Table Schema needs at least one field".into(),
            ));
        }
        for (i, f) in raw.fields.into_iter().enumerate() {
            let at = |key: &str| format!("fields[{i}].{key}");
            let ty: FieldType = serde_json::from_value(Value::String(f.ty.clone())).map_err(|_| {
                (at("type"), format!("unknown field type {:?}; expected string, integer, number, boolean, date, datetime, array, object or any", f.ty))
            })?;
            let format = match (ty, f.format.as_deref()) {
                (_, None | Some("default")) => StringFormat::Default,
                (FieldType::String, Some("email")) => StringFormat::Email,
                (FieldType::String, Some("uri")) => StringFormat::Uri,
                (FieldType::String, Some("uuid")) => StringFormat::Uuid,
                (FieldType::Datetime | FieldType::Date, Some("any")) => StringFormat::Default,
                (_, Some(other)) => {
                    return Err((
                        at("format"),
                        format!(
                            "format {other:?} is not supported for {} fields",
                            ty.as_str()
                        ),
                    ));
                }
            };
            let constraints = match f.constraints {
                None => Constraints::default(),
                Some(c) => compile_constraints(c, ty, &|k| at(&format!("constraints.{k}")))?,
            };
            if index.insert(f.name.clone(), i).is_some() {
                return Err((at("name"), format!("field {:?} appears twice", f.name)));
            }
            let text = |v: Option<Value>| match v {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
                _ => None,
            };
            fields.push(Field {
                name: f.name,
                ty,
                format,
                constraints,
                title: text(f.title),
                description: text(f.description),
            });
        }
        let primary_key = match raw.primary_key {
            None => Vec::new(),
            Some(KeyFields::One(k)) => vec![k],
            Some(KeyFields::Many(ks)) => ks,
        };
        let primary_key =
            key_indexes(&index, &primary_key).map_err(|m| ("primaryKey".to_string(), m))?;
        let mut sorted: Vec<(String, usize)> = index.iter().map(|(k, v)| (k.clone(), *v)).collect();
        sorted.sort();
        Ok(TableSchema {
            fields,
            primary_key,
            missing_values: raw.missing_values.unwrap_or_else(|| vec![String::new()]),
            index,
            sorted,
        })
    }

    /// Field names in byte order, with their column index.
    pub fn sorted_names(&self) -> &[(String, usize)] {
        &self.sorted
    }

    /// The index of field `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The indexes of `names`, or which one is not a field.
    pub fn key_indexes(&self, names: &[String]) -> Result<Vec<usize>, String> {
        key_indexes(&self.index, names)
    }

    /// Whether `s` counts as missing.
    pub fn is_missing(&self, s: &str) -> bool {
        self.missing_values.iter().any(|m| m == s)
    }
}

fn key_indexes(index: &HashMap<String, usize>, names: &[String]) -> Result<Vec<usize>, String> {
    names
        .iter()
        .map(|n| {
            index
                .get(n)
                .copied()
                .ok_or_else(|| format!("{n:?} is not a field of the schema"))
        })
        .collect()
}

fn serde_path_to_json<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path = e.path().to_string();
        if path == "." {
            path.clear();
        }
        let message = e.into_inner().to_string();
        // a missing key is located at the object that lacks it: name the key too
        if let Some(key) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            path = if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            };
        }
        (path, message)
    })
}

fn compile_constraints(
    c: RawConstraints,
    ty: FieldType,
    at: &dyn Fn(&str) -> String,
) -> Result<Constraints, (String, String)> {
    let bound = |v: Option<Value>, key: &str| -> Result<Option<Bound>, (String, String)> {
        match (v, ty) {
            (None, _) => Ok(None),
            (Some(v), FieldType::Integer | FieldType::Number) => {
                v.as_f64().map(|f| Some(Bound::Number(f))).ok_or_else(|| {
                    (
                        at(key),
                        format!("`{key}` of a {} field must be a number", ty.as_str()),
                    )
                })
            }
            (Some(Value::String(s)), FieldType::Date | FieldType::Datetime) => {
                Ok(Some(Bound::Text(s)))
            }
            (Some(_), _) => Err((
                at(key),
                format!("`{key}` does not apply to {} fields", ty.as_str()),
            )),
        }
    };
    let pattern = match c.pattern {
        None => None,
        Some(p) => {
            if !matches!(ty, FieldType::String | FieldType::Any) {
                return Err((
                    at("pattern"),
                    format!("`pattern` does not apply to {} fields", ty.as_str()),
                ));
            }
            let pattern =
                Pattern::new(&p).map_err(|e| (at("pattern"), format!("invalid pattern: {e}")))?;
            Some(pattern)
        }
    };
    Ok(Constraints {
        required: c.required,
        unique: c.unique,
        one_of: c.one_of,
        min_length: c.min_length,
        max_length: c.max_length,
        minimum: bound(c.minimum, "minimum")?,
        maximum: bound(c.maximum, "maximum")?,
        pattern,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_it_does_not_know_are_refused_with_their_path() {
        for (schema, path, key) in [
            (
                serde_json::json!({"fields": [{"name": "a", "constraints": {"maxLenght": 3}}]}),
                "fields[0].constraints.maxLenght",
                "maxLenght",
            ),
            (
                serde_json::json!({"fields": [{"name": "a", "type": "boolean", "trueValues": ["yes"]}]}),
                "fields[0].trueValues",
                "trueValues",
            ),
            (
                serde_json::json!({"fields": [{"name": "a"}], "foreignKeys": []}),
                "foreignKeys",
                "foreignKeys",
            ),
        ] {
            let (at, message) = TableSchema::from_json(schema).unwrap_err();
            assert_eq!(at, path);
            assert!(message.contains(key), "{message}");
        }
        // documentation keys are welcome
        TableSchema::from_json(serde_json::json!({
            "name": "leads", "title": "Leads", "description": "d",
            "fields": [{"name": "a", "title": "A", "description": "d", "example": "x", "rdfType": "https://schema.org/name"}]
        }))
        .unwrap();
    }
    use serde_json::json;

    #[test]
    fn loads_the_bench_style_schema() {
        let s = TableSchema::from_json(json!({
            "fields": [
                {"name": "place_id", "type": "string", "constraints": {"required": true, "pattern": "[a-z]+"}},
                {"name": "rating", "type": "number", "constraints": {"minimum": 0, "maximum": 5}},
                {"name": "when", "type": "datetime"}
            ],
            "primaryKey": "place_id"
        }))
        .unwrap();
        assert_eq!(s.primary_key, [0]);
        assert!(
            s.fields[0]
                .constraints
                .pattern
                .as_ref()
                .unwrap()
                .is_match("abc")
        );
        assert!(
            !s.fields[0]
                .constraints
                .pattern
                .as_ref()
                .unwrap()
                .is_match("abc1"),
            "anchored"
        );
        assert!(s.is_missing(""));
    }

    #[test]
    fn errors_name_the_json_path() {
        let cases = [
            (
                json!({"fields": [{"name": "a", "type": "strnig"}]}),
                "fields[0].type",
            ),
            (
                json!({"fields": [{"name": "a", "constraints": {"pattern": "("}}]}),
                "fields[0].constraints.pattern",
            ),
            (
                json!({"fields": [{"name": "a", "type": "boolean", "constraints": {"minimum": 1}}]}),
                "fields[0].constraints.minimum",
            ),
            (
                json!({"fields": [{"name": "a"}], "primaryKey": "b"}),
                "primaryKey",
            ),
            (json!({"fields": [{"type": "string"}]}), "fields[0].name"),
            (
                json!({"fields": [{"name": "a"}, {"name": "a"}]}),
                "fields[1].name",
            ),
            (json!({"fields": []}), "fields"),
            (json!({"columns": []}), "columns"),
        ];
        for (schema, path) in cases {
            let err = TableSchema::from_json(schema.clone()).unwrap_err();
            assert_eq!(err.0, path, "{schema}: {}", err.1);
        }
    }
}
