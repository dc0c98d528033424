//! The workbooks of one table: rows go to a constant-memory worksheet; past the sheet limit a
//! new sheet (`results (2)`, ...) takes over, past `max_rows_per_file` a new file
//! (`results-0002.xlsx`); each sheet has its bold, frozen header with an autofilter over its
//! rows. A finished workbook is saved into a staged file, committed with the run.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use exporter_core::{OutputFiles, SinkError, StagedFile};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Note, Workbook, Worksheet, XlsxError};
use table_schema::TableSchema;

use crate::cells::{Cell, serial};

/// Excel's rows per sheet, the header included.
pub const SHEET_ROWS: u64 = 1_048_576;

/// Rows whose widths are measured for the column widths (the header and the first rows).
const WIDTH_SAMPLE: u64 = 1000;

/// What the workbooks hold beside the records.
pub struct Layout {
    /// The data sheets' name: the file's stem, made a valid sheet name.
    pub sheet: String,
    /// Data rows per sheet (at most `SHEET_ROWS - 1`).
    pub rows_per_sheet: u64,
    /// Data rows per file, if limited.
    pub rows_per_file: Option<u64>,
}

/// The open workbook and its current sheet.
struct Open {
    book: Workbook,
    /// Index of the current data sheet in the workbook.
    sheet: usize,
    /// Sheets in this workbook so far.
    sheets: usize,
    /// Data rows in the current sheet.
    rows_in_sheet: u64,
    /// Data rows in this file.
    rows_in_file: u64,
}

/// The staged workbooks of one table.
pub struct Books {
    out: OutputFiles,
    base: PathBuf,
    layout: Layout,
    header: Vec<String>,
    notes: Vec<Option<String>>,
    bold: Format,
    date: Format,
    datetime: Format,
    /// Widest cell (in characters) per column, over the sample.
    widths: Vec<usize>,
    open: Option<Open>,
    done: Vec<StagedFile>,
    /// Rows of each finished file, in order.
    rows: Vec<u64>,
}

fn xlsx_error(e: XlsxError, path: &Path) -> SinkError {
    SinkError::new(format!("writing the workbook: {e}")).at(path)
}

/// rust_xlsxwriter panics when it cannot write its scratch files (a full disk, a file size
/// limit): the run must fail with the reason, naming the workbook, instead.
fn panicked(payload: Box<dyn std::any::Any + Send>, path: &Path) -> SinkError {
    let reason = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("the writer stopped");
    SinkError::new(format!("writing the workbook: {reason}")).at(path)
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, not blank.
///
/// ```
/// assert_eq!(exporter_xlsx::sheet_name("results"), "results");
/// assert_eq!(exporter_xlsx::sheet_name("a/b:c"), "a_b_c");
/// assert_eq!(exporter_xlsx::sheet_name(""), "results");
/// ```
pub fn sheet_name(stem: &str) -> String {
    let clean: String = stem
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(26) // room for " (NN)" after it
        .collect();
    let clean = clean.trim_matches('\'').trim().to_string();
    if clean.is_empty() {
        "results".into()
    } else {
        clean
    }
}

impl Books {
    /// Prepares the table at `base`; the first workbook is started at once, so that an empty
    /// run still delivers a workbook with its header.
    pub fn open(
        out: &OutputFiles,
        base: &Path,
        schema: &TableSchema,
        layout: Layout,
    ) -> Result<Books, SinkError> {
        let header: Vec<String> = schema.fields.iter().map(|f| f.name.clone()).collect();
        let notes = schema
            .fields
            .iter()
            .map(|f| match (&f.title, &f.description) {
                (Some(t), Some(d)) => Some(format!("{t}\n{d}")),
                (Some(t), None) => Some(t.clone()),
                (None, Some(d)) => Some(d.clone()),
                (None, None) => None,
            })
            .collect();
        let widths = header.iter().map(|h| h.chars().count()).collect();
        let mut books = Books {
            out: out.clone(),
            base: out.dir().join(base),
            layout,
            header,
            notes,
            bold: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            widths,
            open: None,
            done: Vec::new(),
            rows: Vec::new(),
        };
        books.start_file()?;
        Ok(books)
    }

    fn path_of(&self, n: usize) -> PathBuf {
        exporter_core::part_path(&self.base, n)
    }

    fn current_path(&self) -> PathBuf {
        self.path_of(self.done.len() + 1)
    }

    fn start_file(&mut self) -> Result<(), SinkError> {
        let path = self.current_path();
        let mut book = Workbook::new();
        // level 3: 0.71x the time of the default 6 for 1.06x the size (rust_xlsxwriter's
        // measurements; here 1.11x the size of level 6 on the bench stream)
        book.set_zip_compression_level(3);
        // created when the run started, as its reports say (`SOURCE_DATE_EPOCH` when set): the
        // library's own clock would make two reproducible runs differ in docProps/core.xml
        let created = ExcelDateTime::from_timestamp(exporter_core::run_timestamp().unix_seconds())
            .map_err(|e| xlsx_error(e, &path))?;
        book.set_properties(&DocProperties::new().set_creation_datetime(&created));
        // the rows wait in scratch files beside the outputs, not in a temporary directory
        // that may be memory
        book.set_tempdir(self.out.dir())
            .map_err(|e| xlsx_error(e, &path))?;
        self.open = Some(Open {
            book,
            sheet: 0,
            sheets: 0,
            rows_in_sheet: 0,
            rows_in_file: 0,
        });
        self.start_sheet()
    }

    fn start_sheet(&mut self) -> Result<(), SinkError> {
        let path = self.current_path();
        let open = self.open.as_mut().expect("a workbook is open");
        let name = match open.sheets {
            0 => self.layout.sheet.clone(),
            n => format!("{} ({})", self.layout.sheet, n + 1),
        };
        let sheet = open
            .book
            .add_worksheet_with_constant_memory()
            .map_err(|e| xlsx_error(e, &path))?;
        let index = open.sheets;
        open.sheets += 1;
        open.sheet = index;
        open.rows_in_sheet = 0;
        sheet.set_name(name).map_err(|e| xlsx_error(e, &path))?;
        write_header(sheet, &self.header, &self.notes, &self.bold)
            .map_err(|e| xlsx_error(e, &path))?;
        Ok(())
    }

    /// Finishes the current sheet: column widths from the sample, the autofilter over its
    /// rows.
    fn finish_sheet(&mut self) -> Result<(), SinkError> {
        let path = self.current_path();
        let open = self.open.as_mut().expect("a workbook is open");
        let sheet = open
            .book
            .worksheet_from_index(open.sheet)
            .map_err(|e| xlsx_error(e, &path))?;
        let last_col = (self.header.len() - 1) as u16;
        sheet
            .autofilter(0, 0, open.rows_in_sheet as u32, last_col)
            .map_err(|e| xlsx_error(e, &path))?;
        for (col, chars) in self.widths.iter().enumerate() {
            // Excel's widths count characters of the default font; a little room for the
            // filter button
            let width = (*chars as f64 + 3.0).clamp(6.0, 60.0);
            sheet
                .set_column_width(col as u16, width)
                .map_err(|e| xlsx_error(e, &path))?;
        }
        Ok(())
    }

    /// Writes one row of cells.
    pub fn write_row(&mut self, cells: &[Cell], texts: &[String]) -> Result<(), SinkError> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.write_row_unguarded(cells, texts)))
        {
            Ok(result) => result,
            Err(payload) => Err(panicked(payload, &self.current_path())),
        }
    }

    fn write_row_unguarded(&mut self, cells: &[Cell], texts: &[String]) -> Result<(), SinkError> {
        let needs_file = {
            let open = self.open.as_ref().expect("a workbook is open");
            self.layout
                .rows_per_file
                .is_some_and(|max| open.rows_in_file >= max)
        };
        if needs_file {
            self.finish_file()?;
            self.start_file()?;
        } else if self.open.as_ref().expect("open").rows_in_sheet >= self.layout.rows_per_sheet {
            self.finish_sheet()?;
            self.start_sheet()?;
        }
        let sampled = self.rows.iter().sum::<u64>()
            + self.open.as_ref().expect("open").rows_in_file
            < WIDTH_SAMPLE;
        if sampled {
            for (w, t) in self.widths.iter_mut().zip(texts) {
                *w = (*w).max(t.chars().count());
            }
        }
        let path = self.current_path();
        let open = self.open.as_mut().expect("a workbook is open");
        let row = (open.rows_in_sheet + 1) as u32;
        let sheet = open
            .book
            .worksheet_from_index(open.sheet)
            .map_err(|e| xlsx_error(e, &path))?;
        for (col, cell) in cells.iter().enumerate() {
            let col = col as u16;
            let written = match cell {
                Cell::Empty => continue,
                Cell::Text(s) => sheet.write_string(row, col, s),
                Cell::Number(f) => sheet.write_number(row, col, *f),
                Cell::Bool(b) => sheet.write_boolean(row, col, *b),
                Cell::Date(d) => {
                    let at = time::PrimitiveDateTime::new(*d, time::Time::MIDNIGHT);
                    let value = ExcelDateTime::from_serial_datetime(serial(at))
                        .map_err(|e| xlsx_error(e, &path))?;
                    sheet.write_datetime_with_format(row, col, &value, &self.date)
                }
                Cell::DateTime(at) => {
                    let value = ExcelDateTime::from_serial_datetime(serial(*at))
                        .map_err(|e| xlsx_error(e, &path))?;
                    sheet.write_datetime_with_format(row, col, &value, &self.datetime)
                }
            };
            written.map_err(|e| xlsx_error(e, &path))?;
        }
        open.rows_in_sheet += 1;
        open.rows_in_file += 1;
        Ok(())
    }

    /// Saves the open workbook into its staged file.
    fn finish_file(&mut self) -> Result<(), SinkError> {
        self.finish_sheet()?;
        let path = self.current_path();
        let mut open = self.open.take().expect("a workbook is open");
        let relative = path
            .strip_prefix(self.out.dir())
            .unwrap_or(&path)
            .to_path_buf();
        let mut file = self.out.stage(&relative)?;
        let saved =
            std::panic::catch_unwind(AssertUnwindSafe(|| open.book.save_to_writer(&mut file)));
        match saved {
            Ok(result) => result.map_err(|e| xlsx_error(e, &path))?,
            Err(payload) => return Err(panicked(payload, &path)),
        }
        file.add_rows(open.rows_in_file);
        self.rows.push(open.rows_in_file);
        self.done.push(file);
        Ok(())
    }

    /// Adds a sheet to the last workbook (the accounting), then saves every workbook.
    pub fn finish(
        mut self,
        extra: impl FnOnce(&mut Workbook) -> Result<(), XlsxError>,
    ) -> Result<Vec<StagedFile>, SinkError> {
        let path = self.current_path();
        extra(&mut self.open.as_mut().expect("a workbook is open").book)
            .map_err(|e| xlsx_error(e, &path))?;
        self.finish_file()?;
        Ok(self.done)
    }
}

fn write_header(
    sheet: &mut Worksheet,
    header: &[String],
    notes: &[Option<String>],
    bold: &Format,
) -> Result<(), XlsxError> {
    for (col, name) in header.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, name, bold)?;
        if let Some(text) = &notes[col] {
            sheet.insert_note(0, col as u16, &Note::new(text).set_author("Table Schema"))?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}
