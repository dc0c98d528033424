//! # exporter-xlsx
//!
//! The `xlsx` sink (docs/contract.md §4.5): the results as an Excel workbook with typed cells,
//! which Excel, LibreOffice and Google Sheets open without guessing. Columns, checks, dedupe,
//! rejection and accounting are the `csv` sink's (the `exporter-record-table` gate, the
//! `table-schema` crate); the workbook is written by `rust_xlsxwriter` in constant-memory
//! mode, so memory stays flat in the row count. Its validator, `xlsx-table-schema`, reads the
//! workbook back with `calamine`.

#![forbid(unsafe_code)]

mod book;
mod cells;
mod validator;

use std::path::PathBuf;

use exporter_core::serde_json::{self, Value};
use exporter_core::{
    BuildError, Event, EventContext, FinishContext, Interests, OutputFiles, RecordTally, Sink,
    SinkContext, SinkError, SinkOutput, SinkPlugin,
};
use exporter_record_table::{ExtraFields, OnInvalid, OnOverflow, RecordGate, TableRow, load_table};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use schemars::JsonSchema;
use serde::Deserialize;
use table_schema::{CellEffects, CellFormat, Field, FieldValue, TableSchema, Violation};

pub use book::sheet_name;
use book::{Books, Layout, SHEET_ROWS};
pub use cells::{Cell, EXACT_INTEGER, cell_text, exact_integer, from_serial, serial};
use cells::{Fallbacks, check_format};

/// The `xlsx` sink's own keys.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The Frictionless Table Schema: a file (relative to the manifest) or an inline table.
    schema: Value,
    /// Fields whose written cells make the dedupe key (default: the schema's `primaryKey`;
    /// `[]` turns dedupe off).
    dedupe_on: Option<Vec<String>>,
    /// What a record that breaks the schema does to the run.
    #[serde(default)]
    on_invalid: OnInvalid,
    /// What a record field absent from the schema does.
    #[serde(default)]
    extra_fields: ExtraFields,
    /// What joins the items of an array cell.
    #[serde(default = "default_separator")]
    array_separator: String,
    /// Data rows per sheet before the next sheet (`results (2)`, ...); at most and by
    /// default 1,048,575 (Excel's 1,048,576 rows, the header included).
    max_rows_per_sheet: Option<u64>,
    /// Data rows per workbook before continuing in `NAME-0002.xlsx` (default: no limit).
    max_rows_per_file: Option<u64>,
    /// What a text longer than Excel's 32,767-character cell limit does.
    #[serde(default)]
    on_overflow: OnOverflow,
    /// Add a `summary` sheet with the record accounting (to the last workbook).
    #[serde(default)]
    summary_sheet: bool,
}

fn default_separator() -> String {
    "; ".into()
}

fn config_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Config)).expect("a schema is JSON")
}

struct XlsxSink {
    gate: RecordGate,
    row: XlsxRow,
    path: PathBuf,
    layout: Option<Layout>,
    summary_sheet: bool,
}

/// One record's cells, and the workbooks they go to.
struct XlsxRow {
    /// Renders values as the Excel dialect would, without the guard, and reads texts back.
    format: CellFormat,
    cells: Vec<Cell>,
    /// The Excel dialect's rendering of each value (the text of text cells).
    rendered: Vec<String>,
    /// The text of each cell as the validator reads it back (keys compare these).
    texts: Vec<String>,
    reads_back: Vec<bool>,
    /// Fallbacks of the row being rendered, counted when it is written.
    pending: FallbackCounts,
    fallbacks: FallbackCounts,
    books: Option<Books>,
}

#[derive(Clone, Copy, Default)]
struct FallbackCounts {
    integers_as_text: u64,
    dates_as_text: u64,
}

impl TableRow for XlsxRow {
    fn written_as(&self) -> &str {
        "an Excel workbook"
    }

    fn render(
        &mut self,
        i: usize,
        field: &Field,
        value: &FieldValue<'_>,
        missing: bool,
    ) -> CellEffects {
        let (cell, effects, fallbacks) =
            cells::render(field, value, missing, &self.format, &mut self.rendered[i]);
        cell_text(&cell, &mut self.texts[i]);
        self.cells[i] = cell;
        if i == 0 {
            self.pending = FallbackCounts::default();
        }
        let Fallbacks {
            integer_as_text,
            date_as_text,
        } = fallbacks;
        self.pending.integers_as_text += u64::from(integer_as_text);
        self.pending.dates_as_text += u64::from(date_as_text);
        effects
    }

    fn text(&self, i: usize) -> &str {
        &self.texts[i]
    }

    fn read_back(&self, schema: &TableSchema, i: usize, truncated: bool) -> Option<Violation> {
        if !truncated && !self.reads_back[i] {
            return None;
        }
        let violation = self
            .format
            .verdict(schema, &schema.fields[i], &self.texts[i])?;
        let rule = violation.rule;
        Some(if truncated {
            violation.recast(
                "cell_limit",
                &format!("cut at Excel's cell limit, the cell breaks `{rule}`: "),
            )
        } else {
            violation.recast(rule, "as written in the workbook: ")
        })
    }

    fn write(&mut self) -> Result<(), SinkError> {
        self.books
            .as_mut()
            .expect("opened")
            .write_row(&self.cells, &self.texts)?;
        // counted for rows written only
        self.fallbacks.integers_as_text += self.pending.integers_as_text;
        self.fallbacks.dates_as_text += self.pending.dates_as_text;
        Ok(())
    }
}

impl Sink for XlsxSink {
    fn interests(&self) -> Interests {
        Interests {
            records: true,
            ..Interests::NONE
        }
    }

    fn open(&mut self, out: &OutputFiles) -> Result<(), SinkError> {
        let layout = self.layout.take().expect("opened once");
        self.row.books = Some(Books::open(out, &self.path, self.gate.schema(), layout)?);
        Ok(())
    }

    fn event(&mut self, event: &Event<'_>, cx: &mut EventContext<'_>) -> Result<(), SinkError> {
        match event {
            Event::Record(r) => self.gate.offer(r, cx, &mut self.row),
            _ => Ok(()),
        }
    }

    fn finish(mut self: Box<Self>, _cx: &FinishContext<'_>) -> Result<SinkOutput, SinkError> {
        let books = self.row.books.take().expect("opened");
        let (mut tally, mut details) = self.gate.finish();
        let summary = self.summary_sheet.then(|| tally.clone());
        let files = books.finish(|book| match &summary {
            Some(tally) => add_summary(book, tally),
            None => Ok(()),
        })?;
        tally.files = files.len() as u64;
        details.insert(
            "integers_as_text".into(),
            Value::from(self.row.fallbacks.integers_as_text),
        );
        details.insert(
            "dates_as_text".into(),
            Value::from(self.row.fallbacks.dates_as_text),
        );
        let mut out = SinkOutput::staged(files).with_records(tally);
        out.details = details;
        Ok(out)
    }
}

/// The `summary` sheet: the record accounting, and the rejections by rule.
fn add_summary(book: &mut Workbook, tally: &RecordTally) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("summary")?;
    sheet.write_string_with_format(0, 0, "records", &bold)?;
    sheet.write_string_with_format(0, 1, "count", &bold)?;
    let rows = [
        ("received", tally.received),
        ("written", tally.written),
        ("rejected", tally.rejected),
        ("duplicates", tally.duplicates),
        ("extra fields", tally.extra_fields),
        ("truncated cells", tally.truncated_cells),
    ];
    let mut row = 1;
    for (label, n) in rows {
        sheet.write_string(row, 0, label)?;
        sheet.write_number(row, 1, n as f64)?;
        row += 1;
    }
    if !tally.rejected_by_rule.is_empty() {
        row += 1;
        sheet.write_string_with_format(row, 0, "rejected by rule", &bold)?;
        row += 1;
        for (rule, n) in &tally.rejected_by_rule {
            sheet.write_string(row, 0, rule)?;
            sheet.write_number(row, 1, *n as f64)?;
            row += 1;
        }
    }
    sheet.set_column_width(0, 20)?;
    Ok(())
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
    let rows_per_sheet = match config.max_rows_per_sheet {
        Some(0) => {
            return Err(BuildError::at_key(
                "max_rows_per_sheet",
                "`max_rows_per_sheet` must be at least 1",
            ));
        }
        Some(n) if n > SHEET_ROWS - 1 => {
            return Err(BuildError::at_key(
                "max_rows_per_sheet",
                format!(
                    "a sheet holds at most {} data rows (Excel's limit)",
                    SHEET_ROWS - 1
                ),
            ));
        }
        Some(n) => n,
        None => SHEET_ROWS - 1,
    };
    if config.max_rows_per_file == Some(0) {
        return Err(BuildError::at_key(
            "max_rows_per_file",
            "`max_rows_per_file` must be at least 1",
        ));
    }
    if schema.fields.len() > 16_384 {
        return Err(BuildError::at_key(
            "schema",
            "a sheet holds at most 16,384 columns",
        ));
    }
    let format = check_format(&config.array_separator);
    let reads_back = schema
        .fields
        .iter()
        .map(|f| format.reads_back_otherwise(f))
        .collect();
    let n = schema.fields.len();
    let stem = cx
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Box::new(XlsxSink {
        row: XlsxRow {
            format,
            cells: vec![Cell::Empty; n],
            rendered: vec![String::new(); n],
            texts: vec![String::new(); n],
            reads_back,
            pending: FallbackCounts::default(),
            fallbacks: FallbackCounts::default(),
            books: None,
        },
        layout: Some(Layout {
            sheet: sheet_name(&stem),
            rows_per_sheet,
            rows_per_file: config.max_rows_per_file,
        }),
        summary_sheet: config.summary_sheet,
        path: cx.path.clone(),
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
        name: "xlsx",
        description: "The results as an Excel workbook: typed cells (numbers, dates, booleans, text that stays text), a frozen header with filters.",
        default_path: Some("results.xlsx"),
        example: "type = \"xlsx\"\nname = \"workbook\"\npath = \"results.xlsx\"\nsummary_sheet = true\ndedupe_on = [\"place_id\"]\n# the same Table Schema as the csv sink: a file next to the manifest (schema = \"lead.schema.json\"), or inline:\n[sinks.schema]\nprimaryKey = \"place_id\"\n[[sinks.schema.fields]]\nname = \"place_id\"\nconstraints = { required = true, pattern = \"[A-Za-z0-9_-]+\" }\n[[sinks.schema.fields]]\nname = \"name\"\n[[sinks.schema.fields]]\nname = \"rating\"\ntype = \"number\"\nconstraints = { minimum = 0, maximum = 5 }\n",
        config_schema,
        default_validators: &["exists", "xlsx-table-schema"],
        numbered_parts: true,
        output_schema: None,
        build,
    }
}
