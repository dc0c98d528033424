//! # exporter-csv
//!
//! The `csv` sink (docs/contract.md §4.1): the results table people open first. Columns,
//! order and rules come from a Frictionless Table Schema (the `table-schema` crate); every
//! record is checked before it is written (an invalid record is rejected into the error log,
//! never silently dropped), deduplicated on a key in bounded memory, written for the chosen
//! dialect (Excel, Google Sheets, RFC 4180, Unix; the `exporter-tabular` crate) with the
//! formula guard and cell limits, and rolled over into numbered files past the row limit.
//! Its validator, `csv-table-schema`, reads the table back as the schema says.

#![forbid(unsafe_code)]

mod files;
mod validator;

use std::collections::BTreeMap;
use std::path::PathBuf;

use exporter_core::serde_json::{self, Map, Value, json};
use exporter_core::{
    BuildError, ErrorEvent, Event, EventContext, FinishContext, Interests, OutputFiles, Record,
    RecordTally, Sink, SinkContext, SinkError, SinkOutput, SinkPlugin,
};
use exporter_tabular::{Delimiter, Dialect};
use schemars::JsonSchema;
use serde::Deserialize;

pub use files::rollover_path;

use files::TableFiles;
use table_schema::{
    CellFormat, FieldType, KeySet, RowStorage, Slots, TableSchema, Violation, check, cut,
    is_missing,
};

/// What to do with a record that breaks the schema.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum OnInvalid {
    /// Reject it into the error log and go on.
    #[default]
    Reject,
    /// Fail the run.
    Fail,
}

/// What to do with record fields the schema lacks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum ExtraFields {
    /// Leave them out of the table (counted).
    #[default]
    Ignore,
    /// Reject the record.
    Reject,
}

/// What to do with a cell over the dialect's limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum OnOverflow {
    /// Cut it at the limit (counted).
    #[default]
    Truncate,
    /// Reject the record.
    Reject,
}

/// The `csv` sink's own keys.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The Frictionless Table Schema: a file (relative to the manifest) or an inline table.
    schema: Value,
    /// The spreadsheet dialect: encoding, line end, formula guard, limits, booleans, date-times.
    #[serde(default)]
    dialect: Dialect,
    /// The field delimiter.
    #[serde(default)]
    delimiter: Delimiter,
    /// Fields whose written cells make the dedupe key (default: the schema's `primaryKey`;
    /// `[]` turns dedupe off).
    dedupe_on: Option<Vec<String>>,
    /// What a record that breaks the schema does to the run.
    #[serde(default)]
    on_invalid: OnInvalid,
    /// What a record field absent from the schema does.
    #[serde(default)]
    extra_fields: ExtraFields,
    /// Whether cells a spreadsheet would run as formulas get a leading `'` (default: the
    /// dialect's: on for excel and sheets).
    formula_guard: Option<bool>,
    /// What joins the items of an array cell.
    #[serde(default = "default_separator")]
    array_separator: String,
    /// Rows per file before continuing in `NAME-0002.csv` (default: the dialect's limit).
    max_rows_per_file: Option<u64>,
    /// What a cell longer than the dialect's cell limit does.
    #[serde(default)]
    on_overflow: OnOverflow,
}

fn config_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Config)).expect("a schema is JSON")
}

fn default_separator() -> String {
    "; ".into()
}

impl Config {
    /// How cells are written (and read back).
    fn format(&self) -> CellFormat {
        CellFormat {
            dialect: self.dialect,
            array_separator: self.array_separator.clone(),
            guard: self.formula_guard.unwrap_or(self.dialect.guards_formulas()),
        }
    }

    /// The schema, and the fields of the dedupe key (`dedupe_on`, else `primaryKey`).
    fn table(
        &self,
        manifest_dir: &std::path::Path,
    ) -> Result<(TableSchema, Vec<usize>), BuildError> {
        let schema = load_schema(&self.schema, manifest_dir)?;
        let key_fields = match &self.dedupe_on {
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
                .collect::<Result<Vec<_>, _>>()?,
            None => schema.primary_key.clone(),
        };
        Ok((schema, key_fields))
    }
}

/// A violation's message for the error log: the value at fault masked of passwords, then cut
/// (masked first, so a cut cannot keep half of one).
fn shown(v: &Violation) -> String {
    v.message_with(|value| {
        let clean = exporter_core::redact(value);
        std::borrow::Cow::Owned(cut(&clean, 80).into_owned())
    })
}

/// Loads the `schema` setting: a path (relative to the manifest) or an inline table.
fn load_schema(value: &Value, manifest_dir: &std::path::Path) -> Result<TableSchema, BuildError> {
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

struct CsvSink {
    schema: TableSchema,
    /// How cells are written, and read back as the table's validator reads them.
    format: CellFormat,
    delimiter: u8,
    max_rows: Option<u64>,
    on_invalid: OnInvalid,
    extra_fields: ExtraFields,
    on_overflow: OnOverflow,
    path: PathBuf,
    key_fields: Vec<usize>,
    keys: KeySet,
    unique: Vec<(usize, KeySet)>,
    files: Option<TableFiles>,
    tally: RecordTally,
    cells: Vec<String>,
    /// Per field: whether its written cell may read back otherwise than its value checks
    /// (an array's items joined, an `any` value as text, an Excel date-time to the
    /// millisecond), so the written cell is checked too.
    reads_back: Vec<bool>,
    /// Valid records written without deduplication: a part of their key was missing.
    unkeyed: u64,
    /// Storage for the values of one record, reused for the next.
    row: RowStorage,
}

impl CsvSink {
    fn reject(
        &mut self,
        record: &Record<'_>,
        violations: Vec<Violation>,
        cx: &mut EventContext<'_>,
    ) -> Result<(), SinkError> {
        let first = &violations[0];
        let mut message = format!("field {:?}: {} ({})", first.field, shown(first), first.rule);
        if violations.len() > 1 {
            message.push_str(&format!(" (and {} more)", violations.len() - 1));
        }
        if self.on_invalid == OnInvalid::Fail {
            let at = cx.location().map(|l| format!("{l}: ")).unwrap_or_default();
            return Err(SinkError::new(format!(
                "{at}record violates the schema: {message} (on_invalid = \"fail\")"
            )));
        }
        self.tally.rejected += 1;
        *self
            .tally
            .rejected_by_rule
            .entry(first.rule.to_string())
            .or_default() += 1;
        let mut context = Map::new();
        context.insert("field".into(), Value::String(first.field.clone()));
        context.insert("rule".into(), Value::String(first.rule.into()));
        context.insert(
            "violations".into(),
            Value::Array(
                violations
                    .iter()
                    .map(|v| json!({"field": v.field, "rule": v.rule, "message": shown(v)}))
                    .collect(),
            ),
        );
        if let Some(at) = cx.location() {
            context.insert("input".into(), Value::String(at.input.clone()));
            context.insert("line".into(), Value::from(at.line));
        }
        context.insert("record".into(), record.to_json());
        cx.raise(
            ErrorEvent::new(ErrorEvent::SCHEMA_VIOLATION, message)
                .with_context(Value::Object(context)),
        );
        Ok(())
    }

    /// The fingerprint of the written cells of `fields`, or `None` when one is empty (a
    /// record missing a part of its key is not deduplicated). Keys come from the cells, not
    /// the values, because the cells are what the table holds and its validator compares:
    /// two values written alike (the same instant at two offsets, two long texts cut at the
    /// cell limit) are the same key.
    fn key_of(&self, fields: &[usize]) -> Option<u128> {
        if fields.iter().any(|&i| self.cells[i].is_empty()) {
            return None;
        }
        Some(KeySet::fingerprint(
            fields.iter().map(|&i| self.cells[i].as_str()),
        ))
    }

    fn record(&mut self, record: &Record<'_>, cx: &mut EventContext<'_>) -> Result<(), SinkError> {
        self.tally.received += 1;
        let slots = self.schema.slot(record.data(), &mut self.row);
        let done = self.slotted(record, &slots, cx);
        self.row.keep(slots.values);
        done
    }

    /// Checks, renders and writes (or rejects, or counts as a duplicate) a slotted record.
    fn slotted(
        &mut self,
        record: &Record<'_>,
        slots: &Slots<'_>,
        cx: &mut EventContext<'_>,
    ) -> Result<(), SinkError> {
        let mut violations = Vec::new();
        if !slots.extra.is_empty() {
            self.tally.extra_fields += 1;
            if self.extra_fields == ExtraFields::Reject {
                violations.push(Violation::new(
                    &slots.extra[0],
                    "extra_field",
                    format!(
                        "fields not in the schema: {}",
                        cut(&slots.extra.join(", "), 200)
                    ),
                ));
            }
        }
        violations.extend(check(&self.schema, &slots.values));
        // Then the cells, and what they read back as: the written form must pass the checks
        // the table's validator makes, or the record is rejected (never the run failed).
        let mut guarded = 0;
        let mut truncated = 0;
        for (i, field) in self.schema.fields.iter().enumerate() {
            let value = &slots.values[i];
            let missing = is_missing(&self.schema, value);
            let effects = self.format.write(field, value, missing, &mut self.cells[i]);
            guarded += u64::from(effects.guarded);
            truncated += u64::from(effects.truncated);
            if !violations.is_empty() {
                continue;
            }
            let dialect = self.format.dialect.as_str();
            if effects.unwritable {
                violations.push(Violation::new(
                    &field.name,
                    "type",
                    format!(
                        "the {dialect} dialect cannot write this date-time: in UTC its year leaves 0000-9999"
                    ),
                ));
            } else if effects.truncated && self.on_overflow == OnOverflow::Reject {
                violations.push(Violation::new(
                    &field.name,
                    "cell_limit",
                    format!("longer than the {dialect} dialect's cell limit"),
                ));
            } else if (effects.truncated || self.reads_back[i])
                && let Some(violation) = self.format.verdict(&self.schema, field, &self.cells[i])
            {
                violations.push(if effects.truncated {
                    let rule = violation.rule;
                    violation.recast(
                        "cell_limit",
                        &format!(
                            "cut at the {dialect} dialect's cell limit, the cell breaks `{rule}`: "
                        ),
                    )
                } else {
                    let rule = violation.rule;
                    violation.recast(rule, "as written in the table: ")
                });
            }
        }
        let mut unique_keys = Vec::with_capacity(self.unique.len());
        for u in 0..self.unique.len() {
            let field = self.unique[u].0;
            let Some(key) = self.key_of(&[field]) else {
                continue;
            };
            if self.unique[u].1.contains(key) {
                violations.push(Violation::new(
                    &self.schema.fields[field].name,
                    "unique",
                    "the value repeats an earlier record's",
                ));
            }
            unique_keys.push((u, key));
        }
        if !violations.is_empty() {
            return self.reject(record, violations, cx);
        }
        // Only a valid record claims its key.
        if !self.key_fields.is_empty() {
            match self.key_of(&self.key_fields) {
                Some(key) => {
                    if !self.keys.insert(key) {
                        self.tally.duplicates += 1;
                        return Ok(());
                    }
                }
                None => self.unkeyed += 1,
            }
        }
        for (u, key) in unique_keys {
            self.unique[u].1.insert(key);
        }
        self.files
            .as_mut()
            .expect("opened")
            .write_row(self.cells.iter().map(String::as_bytes))?;
        self.tally.written += 1;
        self.tally.guarded_cells += guarded;
        self.tally.truncated_cells += truncated;
        Ok(())
    }
}

impl Sink for CsvSink {
    fn interests(&self) -> Interests {
        Interests {
            records: true,
            ..Interests::NONE
        }
    }

    fn open(&mut self, out: &OutputFiles) -> Result<(), SinkError> {
        let header: Vec<String> = self
            .schema
            .fields
            .iter()
            .map(|f| self.format.label(&f.name).into_owned())
            .collect();
        self.files = Some(TableFiles::open(
            out,
            &self.path,
            self.format.dialect,
            self.delimiter,
            header,
            self.max_rows,
        )?);
        Ok(())
    }

    fn event(&mut self, event: &Event<'_>, cx: &mut EventContext<'_>) -> Result<(), SinkError> {
        match event {
            Event::Record(r) => self.record(r, cx),
            _ => Ok(()),
        }
    }

    fn finish(mut self: Box<Self>, _cx: &FinishContext<'_>) -> Result<SinkOutput, SinkError> {
        let files = self.files.take().expect("opened").finish()?;
        self.tally.files = files.len() as u64;
        let mut details = Map::new();
        details.insert("distinct_keys".into(), Value::from(self.keys.len() as u64));
        details.insert("unkeyed".into(), Value::from(self.unkeyed));
        details.insert("dialect".into(), Value::from(self.format.dialect.as_str()));
        let mut out = SinkOutput::staged(files);
        out.records = Some(self.tally.clone());
        out.details = details;
        Ok(out)
    }
}

/// Whether a valid value of `field` may be written as a cell that reads back otherwise than
/// the value was checked: array items are joined (an item holding the separator reads as two,
/// `[]` as a missing value), an `any` value reads back as text, an Excel date-time to the
/// millisecond. Strings, numbers, booleans, dates and objects read back as they were checked
/// (the formula guard reads back one way only), so their cells need no second look.
fn cell_may_read_back_otherwise(field: &table_schema::Field, dialect: Dialect) -> bool {
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
            dialect == Dialect::Excel && (c.minimum.is_some() || c.maximum.is_some())
        }
        _ => false,
    }
}

fn build(
    d: &mut dyn exporter_core::erased_serde::Deserializer<'_>,
    cx: &SinkContext,
) -> Result<Box<dyn Sink>, BuildError> {
    let config: Config = exporter_core::config(d)?;
    let (schema, key_fields) = config.table(&cx.manifest_dir)?;
    if config.max_rows_per_file == Some(0) {
        return Err(BuildError::at_key(
            "max_rows_per_file",
            "`max_rows_per_file` must be at least 1",
        ));
    }
    let max_rows = match (config.dialect.max_rows(), config.max_rows_per_file) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let unique = schema
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.constraints.unique)
        .map(|(i, _)| (i, KeySet::default()))
        .collect();
    let n = schema.fields.len();
    let reads_back = schema
        .fields
        .iter()
        .map(|f| cell_may_read_back_otherwise(f, config.dialect))
        .collect();
    Ok(Box::new(CsvSink {
        format: config.format(),
        reads_back,
        unkeyed: 0,
        delimiter: config.delimiter.byte(),
        max_rows,
        on_invalid: config.on_invalid,
        extra_fields: config.extra_fields,
        on_overflow: config.on_overflow,
        path: cx.path.clone(),
        key_fields,
        keys: KeySet::default(),
        unique,
        files: None,
        tally: RecordTally {
            rejected_by_rule: BTreeMap::new(),
            ..RecordTally::default()
        },
        cells: vec![String::new(); n],
        row: RowStorage::default(),
        schema,
    }))
}

exporter_core::inventory::submit! {
    SinkPlugin {
        name: "csv",
        description: "The results table: one row per record, columns from a Table Schema, Excel/Sheets-safe.",
        default_path: Some("results.csv"),
        example: "type = \"csv\"\nname = \"results\"\npath = \"results.csv\"\ndialect = \"excel\"            # excel | sheets | rfc4180 | unix\ndedupe_on = [\"place_id\"]\n# the Table Schema: a file next to the manifest (schema = \"lead.schema.json\"), or inline:\n[sinks.schema]\nprimaryKey = \"place_id\"\n[[sinks.schema.fields]]\nname = \"place_id\"\nconstraints = { required = true, pattern = \"[A-Za-z0-9_-]+\" }\n[[sinks.schema.fields]]\nname = \"name\"\n[[sinks.schema.fields]]\nname = \"rating\"\ntype = \"number\"\nconstraints = { minimum = 0, maximum = 5 }\n",
        config_schema,
        default_validators: &["exists", "csv-table-schema"],
        numbered_parts: true,
        output_schema: None,
        build,
    }
}
