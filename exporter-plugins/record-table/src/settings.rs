//! The settings every table sink has, and loading its Table Schema.

use exporter_core::BuildError;
use exporter_core::serde_json::{self, Value};
use schemars::JsonSchema;
use serde::Deserialize;
use table_schema::TableSchema;

/// What to do with a record that breaks the schema.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnInvalid {
    /// Reject it into the error log and go on.
    #[default]
    Reject,
    /// Fail the run.
    Fail,
}

/// What to do with record fields the schema lacks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtraFields {
    /// Leave them out of the table (counted).
    #[default]
    Ignore,
    /// Reject the record.
    Reject,
}

/// What to do with a cell over the format's limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnOverflow {
    /// Cut it at the limit (counted).
    #[default]
    Truncate,
    /// Reject the record.
    Reject,
}

/// Loads the `schema` setting: a path (relative to `manifest_dir`) or an inline table.
/// Errors name the `schema` key and, inside the schema, the JSON path of the problem.
///
/// ```
/// use exporter_core::serde_json::json;
/// let schema = exporter_record_table::load_schema(
///     &json!({"fields": [{"name": "id"}]}), "/nowhere".as_ref()).unwrap();
/// assert_eq!(schema.fields[0].name, "id");
/// let err = exporter_record_table::load_schema(
///     &json!({"fields": [{"name": "id", "type": "integr"}]}), "/nowhere".as_ref()).unwrap_err();
/// assert_eq!(err.key.as_deref(), Some("schema.fields[0].type"));
/// ```
pub fn load_schema(
    value: &Value,
    manifest_dir: &std::path::Path,
) -> Result<TableSchema, BuildError> {
    match value {
        Value::String(path) => {
            let file = manifest_dir.join(path);
            let text = std::fs::read_to_string(&file).map_err(|e| {
                BuildError::at_key(
                    "schema",
                    format!("cannot read the Table Schema {}: {e}", file.display()),
                )
            })?;
            let json: Value = serde_json::from_str(&text).map_err(|e| {
                BuildError::at_key(
                    "schema",
                    format!("the Table Schema {} is not valid JSON: {e}", file.display()),
                )
            })?;
            TableSchema::from_json(json).map_err(|(at, msg)| {
                let at = if at.is_empty() {
                    String::new()
                } else {
                    format!(" at `{at}`")
                };
                BuildError::at_key(
                    "schema",
                    format!("invalid Table Schema {}{at}: {msg}", file.display()),
                )
            })
        }
        Value::Object(_) => TableSchema::from_json(value.clone()).map_err(|(at, msg)| {
            let key = if at.is_empty() {
                "schema".to_string()
            } else {
                format!("schema.{at}")
            };
            BuildError::at_key(key, format!("invalid Table Schema: {msg}"))
        }),
        _ => Err(BuildError::at_key(
            "schema",
            "`schema` must be a path to a Table Schema file or an inline table",
        )),
    }
}

/// The table a sink's settings name: its schema (see [`load_schema`]) and the fields of its
/// dedupe key (see [`key_fields`]), as every table sink and its validator load them.
///
/// ```
/// use exporter_core::serde_json::json;
/// let (schema, key) = exporter_record_table::load_table(
///     &json!({"fields": [{"name": "id"}], "primaryKey": "id"}), None, "/nowhere".as_ref()).unwrap();
/// assert_eq!((schema.fields.len(), key), (1, vec![0]));
/// ```
pub fn load_table(
    schema: &Value,
    dedupe_on: Option<&[String]>,
    manifest_dir: &std::path::Path,
) -> Result<(TableSchema, Vec<usize>), BuildError> {
    let schema = load_schema(schema, manifest_dir)?;
    let key = key_fields(&schema, dedupe_on)?;
    Ok((schema, key))
}

/// The fields of the dedupe key: `dedupe_on` when given (`[]` turns dedupe off), else the
/// schema's `primaryKey`.
///
/// ```
/// use exporter_core::serde_json::json;
/// let schema = table_schema::TableSchema::from_json(
///     json!({"fields": [{"name": "id"}, {"name": "city"}], "primaryKey": "id"})).unwrap();
/// assert_eq!(exporter_record_table::key_fields(&schema, None).unwrap(), [0]);
/// assert_eq!(exporter_record_table::key_fields(&schema, Some(&["city".into()])).unwrap(), [1]);
/// assert!(exporter_record_table::key_fields(&schema, Some(&[])).unwrap().is_empty());
/// ```
pub fn key_fields(
    schema: &TableSchema,
    dedupe_on: Option<&[String]>,
) -> Result<Vec<usize>, BuildError> {
    match dedupe_on {
        Some(names) => names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                schema.field_index(n).ok_or_else(|| {
                    BuildError::at_key(
                        format!("dedupe_on[{i}]"),
                        format!("{n:?} is not a field of the schema"),
                    )
                })
            })
            .collect(),
        None => Ok(schema.primary_key.clone()),
    }
}
