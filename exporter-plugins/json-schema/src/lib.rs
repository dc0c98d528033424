//! # exporter-json-schema
//!
//! The `json-schema` validator (docs/contract.md §5): checks a JSON output file against the JSON
//! Schema its sink plugin ships (`exporter schema TYPE` prints it), or against a schema of the
//! user's given as `validate = ["json-schema:my.schema.json"]`. The schema is compiled
//! once per run; every violation is reported with its JSON path, not just the first.
//! Compiled without network or file resolution: schemas are self-contained.

use exporter_core::serde_json::{self, Value};
use exporter_core::{
    FileUnderCheck, Finding, FindingCode, Validator, ValidatorContext, ValidatorPlugin,
};

/// A compiled schema.
pub struct JsonSchemaValidator {
    schema: jsonschema::Validator,
}

impl JsonSchemaValidator {
    /// Compiles `schema` (JSON text).
    ///
    /// ```
    /// use exporter_core::{FileUnderCheck, Validator};
    /// let v = exporter_json_schema::JsonSchemaValidator::new(r#"{"type": "object", "required": ["a"]}"#).unwrap();
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("x.json");
    /// std::fs::write(&path, r#"{"b": 1}"#).unwrap();
    /// let findings = v.check(&FileUnderCheck { path: &path, name: "x.json", rows: None });
    /// assert_eq!(findings[0].code, exporter_core::FindingCode::SchemaError);
    /// ```
    pub fn new(schema: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(schema)
            .map_err(|e| format!("the JSON Schema is not JSON: {e}"))?;
        let schema =
            jsonschema::validator_for(&value).map_err(|e| format!("invalid JSON Schema: {e}"))?;
        Ok(JsonSchemaValidator { schema })
    }
}

impl Validator for JsonSchemaValidator {
    fn check(&self, file: &FileUnderCheck<'_>) -> Vec<Finding> {
        let text = match std::fs::read(file.path) {
            Ok(t) => t,
            Err(e) => {
                return vec![Finding::new(
                    FindingCode::MissingFile,
                    file.name,
                    format!("cannot read the file: {e}"),
                )];
            }
        };
        let instance: Value = match serde_json::from_slice(&text) {
            Ok(v) => v,
            Err(e) => {
                return vec![Finding::new(
                    FindingCode::SchemaError,
                    file.name,
                    format!("not valid JSON: {e}"),
                )];
            }
        };
        self.schema
            .iter_errors(&instance)
            .map(|e| {
                let path = e.instance_path().to_string();
                let field = if path.is_empty() {
                    "/".to_string()
                } else {
                    path
                };
                Finding::new(FindingCode::SchemaError, file.name, e.to_string()).at_field(field)
            })
            .collect()
    }
}

fn build(cx: &ValidatorContext<'_>) -> Result<Box<dyn Validator>, String> {
    let schema = match cx.argument {
        // `json-schema:path`: a schema of the user's, relative to the manifest
        Some(path) => {
            let file = cx.manifest_dir.join(path);
            std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read the JSON Schema {}: {e}", file.display()))?
        }
        None => cx
            .output_schema
            .ok_or_else(|| {
                format!(
                    "sink type {:?} ships no JSON Schema; name one as `json-schema:FILE`",
                    cx.sink_type
                )
            })?
            .to_string(),
    };
    Ok(Box::new(JsonSchemaValidator::new(&schema)?))
}

exporter_core::inventory::submit! {
    ValidatorPlugin {
        name: "json-schema",
        description: "The JSON file matches the JSON Schema its sink plugin ships, or `json-schema:FILE` (every violation, with its JSON path).",
        build,
    }
}
