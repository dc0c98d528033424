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

use std::path::PathBuf;

use exporter_core::serde_json::{self, Value};
use exporter_core::{
    BuildError, Event, EventContext, FinishContext, Interests, OutputFiles, Sink, SinkContext,
    SinkError, SinkOutput, SinkPlugin,
};
use exporter_record_table::{ExtraFields, OnInvalid, OnOverflow, RecordGate, TableRow, load_table};
use exporter_tabular::{Delimiter, Dialect};
use schemars::JsonSchema;
use serde::Deserialize;

pub use files::rollover_path;

use files::TableFiles;
use table_schema::{CellFormat, TableSchema, Violation};

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
}

struct CsvSink {
    gate: RecordGate,
    row: CsvRow,
    delimiter: u8,
    max_rows: Option<u64>,
    path: PathBuf,
    /// Following a stream: the number of this generation's first part.
    follow: Option<usize>,
}

/// One record's cells as the table gets them, and the files they go to.
struct CsvRow {
    /// How cells are written, and read back as the table's validator reads them.
    format: CellFormat,
    cells: Vec<String>,
    /// Per field: whether its written cell may read back otherwise than its value checks
    /// (an array's items joined, an `any` value as text, an Excel date-time to the
    /// millisecond), so the written cell is checked too.
    reads_back: Vec<bool>,
    files: Option<TableFiles>,
    /// `the excel dialect`, for messages.
    written_as: String,
}

impl TableRow for CsvRow {
    fn written_as(&self) -> &str {
        &self.written_as
    }

    fn render(
        &mut self,
        i: usize,
        field: &table_schema::Field,
        value: &table_schema::FieldValue<'_>,
        missing: bool,
    ) -> table_schema::CellEffects {
        self.format.write(field, value, missing, &mut self.cells[i])
    }

    fn text(&self, i: usize) -> &str {
        &self.cells[i]
    }

    fn read_back(&self, schema: &TableSchema, i: usize, truncated: bool) -> Option<Violation> {
        if !truncated && !self.reads_back[i] {
            return None;
        }
        let field = &schema.fields[i];
        let violation = self.format.verdict(schema, field, &self.cells[i])?;
        let rule = violation.rule;
        Some(if truncated {
            let dialect = self.format.dialect.as_str();
            violation.recast(
                "cell_limit",
                &format!("cut at the {dialect} dialect's cell limit, the cell breaks `{rule}`: "),
            )
        } else {
            violation.recast(rule, "as written in the table: ")
        })
    }

    fn write(&mut self) -> Result<(), SinkError> {
        self.files
            .as_mut()
            .expect("opened")
            .write_row(self.cells.iter().map(String::as_bytes))
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
            .gate
            .schema()
            .fields
            .iter()
            .map(|f| self.row.format.label(&f.name).into_owned())
            .collect();
        self.row.files = Some(TableFiles::open(
            out,
            &self.path,
            self.row.format.dialect,
            self.delimiter,
            header,
            self.max_rows,
            self.follow,
        )?);
        Ok(())
    }

    fn follow(
        &mut self,
        saved: Option<&[u8]>,
        _files: &OutputFiles,
    ) -> Result<Option<Vec<u8>>, SinkError> {
        let first = match saved {
            None => 1,
            Some(bytes) => {
                let (next, gate) = bytes
                    .split_first_chunk::<8>()
                    .ok_or_else(|| SinkError::new("its saved state is damaged"))?;
                self.gate.restore(gate).map_err(SinkError::new)?;
                u64::from_le_bytes(*next) as usize
            }
        };
        self.follow = Some(first);
        Ok(None)
    }

    fn event(&mut self, event: &Event<'_>, cx: &mut EventContext<'_>) -> Result<(), SinkError> {
        match event {
            Event::Record(r) => self.gate.offer(r, cx, &mut self.row),
            _ => Ok(()),
        }
    }

    fn finish(mut self: Box<Self>, _cx: &FinishContext<'_>) -> Result<SinkOutput, SinkError> {
        let files = self.row.files.take().expect("opened").finish()?;
        // following: the next generation's parts continue the numbering, and the keys
        // seen so far keep a later part from repeating an earlier one's rows
        let state = self.follow.map(|first| {
            let mut state = ((first + files.len()) as u64).to_le_bytes().to_vec();
            state.extend(self.gate.save());
            state
        });
        let parts_before = self.follow.map_or(0, |first| first - 1);
        let (mut tally, mut details) = self.gate.finish();
        tally.files = (parts_before + files.len()) as u64;
        details.insert(
            "dialect".into(),
            Value::from(self.row.format.dialect.as_str()),
        );
        let mut out = SinkOutput::staged(files).with_records(tally);
        out.details = details;
        out.state = state;
        Ok(out)
    }
}

fn build(
    d: &mut dyn exporter_core::erased_serde::Deserializer<'_>,
    cx: &SinkContext,
) -> Result<Box<dyn Sink>, BuildError> {
    let config: Config = exporter_core::config(d)?;
    let (schema, key_fields) = load_table(
        &config.schema,
        config.dedupe_on.as_deref(),
        &cx.manifest_dir,
    )?;
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
    let n = schema.fields.len();
    let format = config.format();
    let reads_back = schema
        .fields
        .iter()
        .map(|f| format.reads_back_otherwise(f))
        .collect();
    Ok(Box::new(CsvSink {
        row: CsvRow {
            format,
            cells: vec![String::new(); n],
            reads_back,
            files: None,
            written_as: format!("the {} dialect", config.dialect.as_str()),
        },
        delimiter: config.delimiter.byte(),
        max_rows,
        path: cx.path.clone(),
        follow: None,
        gate: RecordGate::new(
            schema,
            key_fields,
            config.on_invalid,
            config.extra_fields,
            config.on_overflow,
        ),
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
