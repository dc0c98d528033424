//! The `xlsx-table-schema` validator: reads a workbook back with `calamine`, cell by cell (no
//! sheet held in memory), and checks each data sheet's header against the schema, every
//! cell's type (a number where the schema has a number, text that stays text, dates as dates)
//! and its value against the field's type and constraints, key uniqueness across the file, and
//! the rows the sink reported.

use std::io::BufReader;

use calamine::{DataRef, Reader, Xlsx};
use exporter_core::serde_json;
use exporter_core::{
    FileUnderCheck, Finding, FindingCode, FindingList, Validator, ValidatorContext, ValidatorPlugin,
};
use table_schema::{CellFormat, Field, FieldType, KeySet, TableSchema};

use crate::Config;
use crate::cells::{Cell, cell_text, check_format, exact_integer, from_serial};

/// A workbook's expected shape.
pub struct WorkbookValidator {
    schema: TableSchema,
    format: CellFormat,
    key_fields: Vec<usize>,
    unique: Vec<usize>,
}

fn build(cx: &ValidatorContext<'_>) -> Result<Box<dyn Validator>, String> {
    if cx.sink_type != "xlsx" {
        return Err(format!(
            "xlsx-table-schema checks `xlsx` sinks, not {:?}",
            cx.sink_type
        ));
    }
    let config: Config = serde_json::from_value(cx.config.clone()).map_err(|e| e.to_string())?;
    let (schema, key_fields) = exporter_record_table::load_table(
        &config.schema,
        config.dedupe_on.as_deref(),
        cx.manifest_dir,
    )
    .map_err(|e| e.message)?;
    let unique = schema
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.constraints.unique)
        .map(|(i, _)| i)
        .collect();
    Ok(Box::new(WorkbookValidator {
        format: check_format(&config.array_separator),
        schema,
        key_fields,
        unique,
    }))
}

exporter_core::inventory::submit! {
    ValidatorPlugin {
        name: "xlsx-table-schema",
        description: "The workbook reads back (calamine) with the schema's header on every data sheet, typed cells that meet the schema, unique keys and the row count written.",
        build,
    }
}

/// The cell the sink would have written for `data` in `field`, or why the type is wrong.
fn typed(field: &Field, data: &DataRef<'_>) -> Result<Cell, String> {
    let text = |s: &str| Cell::Text(s.to_string());
    let cell = match data {
        DataRef::Empty => return Ok(Cell::Empty),
        DataRef::String(s) => text(s),
        DataRef::SharedString(s) => text(s),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(d) => {
            let at = from_serial(d.as_f64()).ok_or("a date-time Excel cannot show")?;
            if field.ty == FieldType::Date && at.time() == time::Time::MIDNIGHT {
                Cell::Date(at.date())
            } else {
                Cell::DateTime(at)
            }
        }
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => text(s),
        DataRef::Error(e) => return Err(format!("an error cell ({e})")),
    };
    let expected = match (field.ty, &cell) {
        (FieldType::Integer | FieldType::Number, Cell::Number(_)) => None,
        // an integer beyond 2^53 is text, so no digit is lost
        (FieldType::Integer, Cell::Text(s)) => match exact_integer(s) {
            None if s.parse::<f64>().is_ok() => None,
            _ => Some("a number"),
        },
        (FieldType::Boolean, Cell::Bool(_)) => None,
        (FieldType::Date, Cell::Date(_)) | (FieldType::Datetime, Cell::DateTime(_)) => None,
        // dates before 1 March 1900 (Excel shows none of them right) are text
        (FieldType::Date | FieldType::Datetime, Cell::Text(s)) => match s.get(..10) {
            Some(day) if day < "1900-03-01" => None,
            _ => Some("a date"),
        },
        (
            FieldType::String | FieldType::Array | FieldType::Object | FieldType::Any,
            Cell::Text(_),
        ) => None,
        (FieldType::Integer | FieldType::Number, _) => Some("a number"),
        (FieldType::Boolean, _) => Some("a boolean"),
        (FieldType::Date | FieldType::Datetime, _) => Some("a date"),
        _ => Some("text"),
    };
    match expected {
        None => Ok(cell),
        Some(want) => Err(format!("expected {want} cell, found {}", kind(&cell))),
    }
}

fn kind(cell: &Cell) -> &'static str {
    match cell {
        Cell::Empty => "an empty cell",
        Cell::Text(_) => "text",
        Cell::Number(_) => "a number",
        Cell::Bool(_) => "a boolean",
        Cell::Date(_) | Cell::DateTime(_) => "a date",
    }
}

/// The last row (0-based) of the autofilter the sink set on `sheet`, from the workbook's
/// defined names (`'results (2)'!$A$1:$C$10`).
fn filter_end(names: &[(String, String)], sheet: &str) -> Option<u32> {
    names
        .iter()
        .filter(|(name, _)| name == "_xlnm._FilterDatabase")
        .find_map(|(_, formula)| {
            let (on, range) = formula.rsplit_once('!')?;
            let on = on.trim_matches('\'').replace("''", "'");
            if on != sheet {
                return None;
            }
            let last = range.rsplit('$').next()?;
            last.parse::<u32>().ok().map(|n| n - 1)
        })
}

impl WorkbookValidator {
    fn check_file(&self, file: &FileUnderCheck<'_>, out: &mut FindingList) {
        let opened = std::fs::File::open(file.path)
            .map_err(|e| e.to_string())
            .and_then(|f| Xlsx::new(BufReader::new(f)).map_err(|e| e.to_string()));
        let mut book = match opened {
            Ok(b) => b,
            Err(e) => {
                let code = if file.path.exists() {
                    FindingCode::EncodingError
                } else {
                    FindingCode::MissingFile
                };
                out.push(out.finding(code, format!("not a readable workbook: {e}")));
                return;
            }
        };
        let sheets = book.sheet_names();
        let Some(first) = sheets.first().cloned() else {
            out.push(out.finding(FindingCode::MissingLabel, "the workbook has no sheet"));
            return;
        };
        let data_sheets: Vec<String> = sheets
            .iter()
            .filter(|s| {
                **s == first
                    || s.strip_prefix(first.as_str())
                        .and_then(|rest| rest.strip_prefix(" ("))
                        .and_then(|rest| rest.strip_suffix(')'))
                        .is_some_and(|n| n.parse::<u32>().is_ok())
            })
            .cloned()
            .collect();
        let names = book.defined_names().to_vec();
        let mut keys = KeySet::default();
        let mut unique: Vec<KeySet> = self.unique.iter().map(|_| KeySet::default()).collect();
        let mut rows = 0u64;
        for sheet in &data_sheets {
            let end = filter_end(&names, sheet);
            let mut reader = match book.worksheet_cells_reader(sheet) {
                Ok(r) => r,
                Err(e) => {
                    out.push(out.finding(
                        FindingCode::EncodingError,
                        format!("sheet {sheet:?} cannot be read: {e}"),
                    ));
                    continue;
                }
            };
            let mut sheet_check = SheetCheck {
                v: self,
                sheet,
                header: vec![None; self.schema.fields.len()],
                cells: vec![Cell::Empty; self.schema.fields.len()],
                text: String::new(),
                texts: vec![String::new(); self.schema.fields.len()],
                row: 0,
                rows_before: rows,
            };
            let mut last_row = 0u32;
            loop {
                let next = match reader.next_cell() {
                    Ok(Some(c)) => c,
                    Ok(None) => break,
                    Err(e) => {
                        out.push(out.finding(
                            FindingCode::EncodingError,
                            format!("sheet {sheet:?} cannot be read: {e}"),
                        ));
                        break;
                    }
                };
                let (row, col) = next.get_position();
                while sheet_check.row < row {
                    sheet_check.end_row(out, &mut keys, &mut unique);
                }
                last_row = row;
                sheet_check.cell(col as usize, next.get_value(), out);
            }
            let end = end.unwrap_or(last_row);
            if last_row > end {
                out.push(out.finding(
                    FindingCode::ExtraCell,
                    format!(
                        "sheet {sheet:?} has cells below its table (row {})",
                        last_row + 1
                    ),
                ));
            }
            while sheet_check.row <= end {
                sheet_check.end_row(out, &mut keys, &mut unique);
            }
            rows += u64::from(end);
        }
        if let Some(want) = file.rows
            && want != rows
        {
            out.push(out.finding(
                FindingCode::RowCount,
                format!("{rows} data rows in the workbook, {want} written"),
            ));
        }
    }
}

/// One data sheet, read row by row.
struct SheetCheck<'v> {
    v: &'v WorkbookValidator,
    sheet: &'v str,
    /// Header labels found.
    header: Vec<Option<String>>,
    /// The current row's cells.
    cells: Vec<Cell>,
    text: String,
    texts: Vec<String>,
    /// The current row (0-based: 0 is the header).
    row: u32,
    /// Data rows of earlier sheets, so findings count rows across the file.
    rows_before: u64,
}

impl SheetCheck<'_> {
    fn cell(&mut self, col: usize, data: &DataRef<'_>, out: &mut FindingList) {
        let fields = &self.v.schema.fields;
        let Some(field) = fields.get(col) else {
            if !matches!(data, DataRef::Empty) {
                out.push(
                    out.finding(
                        FindingCode::ExtraCell,
                        format!("sheet {:?}: a cell beyond the schema's columns", self.sheet),
                    )
                    .at_row(self.data_row()),
                );
            }
            return;
        };
        if self.row == 0 {
            self.header[col] = Some(match data {
                DataRef::String(s) => s.clone(),
                DataRef::SharedString(s) => s.to_string(),
                other => format!("{other:?}"),
            });
            return;
        }
        match typed(field, data) {
            Ok(cell) => self.cells[col] = cell,
            Err(why) => {
                out.push(
                    out.finding(
                        FindingCode::TypeError,
                        format!("sheet {:?}: {why}", self.sheet),
                    )
                    .at_row(self.data_row())
                    .at_field(&field.name),
                );
                self.cells[col] = Cell::Empty;
            }
        }
    }

    fn data_row(&self) -> u64 {
        self.rows_before + u64::from(self.row)
    }

    fn end_row(&mut self, out: &mut FindingList, keys: &mut KeySet, unique: &mut [KeySet]) {
        let v = self.v;
        if self.row == 0 {
            for (i, field) in v.schema.fields.iter().enumerate() {
                match &self.header[i] {
                    Some(label) if *label == field.name => {}
                    Some(label) => out.push(
                        out.finding(
                            FindingCode::MissingLabel,
                            format!(
                                "sheet {:?}: column {} is headed {label:?}, not {:?}",
                                self.sheet,
                                i + 1,
                                field.name
                            ),
                        )
                        .at_field(&field.name),
                    ),
                    None => out.push(
                        out.finding(
                            FindingCode::MissingLabel,
                            format!("sheet {:?}: no header for {:?}", self.sheet, field.name),
                        )
                        .at_field(&field.name),
                    ),
                }
            }
            self.row = 1;
            return;
        }
        let row = self.data_row();
        for (i, field) in v.schema.fields.iter().enumerate() {
            cell_text(&self.cells[i], &mut self.text);
            std::mem::swap(&mut self.text, &mut self.texts[i]);
            if let Some(violation) = v.format.verdict(&v.schema, field, &self.texts[i]) {
                let code = match violation.rule {
                    "type" => FindingCode::TypeError,
                    _ => FindingCode::ConstraintError,
                };
                let msg = format!(
                    "{} ({})",
                    exporter_record_table::masked_message(&violation),
                    violation.rule
                );
                out.push(out.finding(code, msg).at_row(row).at_field(&field.name));
            }
        }
        // a row missing a part of its key is not deduplicated (the sink writes it)
        let texts = &self.texts;
        if !v.key_fields.is_empty() && v.key_fields.iter().all(|&i| !texts[i].is_empty()) {
            let key = KeySet::fingerprint(v.key_fields.iter().map(|&i| texts[i].as_str()));
            if !keys.insert(key) {
                out.push(
                    out.finding(
                        FindingCode::UniqueError,
                        "the row repeats an earlier row's key",
                    )
                    .at_row(row),
                );
            }
        }
        for (u, &i) in v.unique.iter().enumerate() {
            if texts[i].is_empty() {
                continue;
            }
            if !unique[u].insert(KeySet::fingerprint([texts[i].as_str()])) {
                out.push(
                    out.finding(
                        FindingCode::UniqueError,
                        "the value repeats an earlier row's",
                    )
                    .at_row(row)
                    .at_field(&v.schema.fields[i].name),
                );
            }
        }
        for c in &mut self.cells {
            *c = Cell::Empty;
        }
        self.row += 1;
    }
}

impl Validator for WorkbookValidator {
    fn check(&self, file: &FileUnderCheck<'_>) -> Vec<Finding> {
        let mut out = FindingList::new(file.name);
        self.check_file(file, &mut out);
        out.into_vec()
    }
}
