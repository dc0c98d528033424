//! Validators (docs/contract.md §5): plugins that check a finished file before it is committed, and
//! later with `exporter check`. Findings are values, collected, so a user sees every problem of
//! a file at once.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::output::GrowingFile;

/// Stable finding codes, in the spirit of Frictionless.
///
/// ```
/// use exporter_core::FindingCode;
/// assert_eq!(FindingCode::RowCount.as_str(), "row-count");
/// assert_eq!(serde_json::to_value(FindingCode::TypeError).unwrap(), "type-error");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingCode {
    /// The file that should exist does not.
    MissingFile,
    /// A file is there that should not be (a part the summary does not list).
    ExtraFile,
    /// A header label is missing.
    MissingLabel,
    /// A header label is not expected.
    ExtraLabel,
    /// A row has more cells than the header.
    ExtraCell,
    /// A row has fewer cells than the header.
    MissingCell,
    /// A cell does not parse as its field's type.
    TypeError,
    /// A cell breaks a constraint of its field.
    ConstraintError,
    /// A unique key repeats.
    UniqueError,
    /// The number of rows differs from what was written or reported.
    RowCount,
    /// The size differs from what was written or reported (or is zero where rows were written).
    ByteCount,
    /// The SHA-256 differs from what was reported.
    HashCount,
    /// A JSON document does not match its JSON Schema.
    SchemaError,
    /// The bytes are not in the expected encoding or framing (BOM, line endings, UTF-8,
    /// well-formed markup).
    EncodingError,
    /// A document that must stand alone loads something from elsewhere (a script, a style
    /// sheet, an image, a font: any URL it would fetch).
    ExternalReference,
}

impl FindingCode {
    /// The stable kebab-case code.
    ///
    /// ```
    /// assert_eq!(exporter_core::FindingCode::ExternalReference.as_str(), "external-reference");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::MissingFile => "missing-file",
            FindingCode::ExtraFile => "extra-file",
            FindingCode::MissingLabel => "missing-label",
            FindingCode::ExtraLabel => "extra-label",
            FindingCode::ExtraCell => "extra-cell",
            FindingCode::MissingCell => "missing-cell",
            FindingCode::TypeError => "type-error",
            FindingCode::ConstraintError => "constraint-error",
            FindingCode::UniqueError => "unique-error",
            FindingCode::RowCount => "row-count",
            FindingCode::ByteCount => "byte-count",
            FindingCode::HashCount => "hash-count",
            FindingCode::SchemaError => "schema-error",
            FindingCode::EncodingError => "encoding-error",
            FindingCode::ExternalReference => "external-reference",
        }
    }
}

/// Findings listed per file; the rest are counted in one last finding.
///
/// ```
/// use exporter_core::{FindingCode, FindingList, MAX_LISTED_FINDINGS};
/// let mut list = FindingList::new("results.csv");
/// for row in 1..=1000 {
///     list.push(list.finding(FindingCode::TypeError, "not a number").at_row(row));
/// }
/// // the first ones listed, and one more that counts the rest
/// assert_eq!(list.into_vec().len(), MAX_LISTED_FINDINGS + 1);
/// ```
pub const MAX_LISTED_FINDINGS: usize = 200;

/// A file's findings as a validator collects them: the first [`MAX_LISTED_FINDINGS`]
/// listed, the rest counted, so a file broken on every row still gives a short report.
///
/// ```
/// use exporter_core::{FindingCode, FindingList, MAX_LISTED_FINDINGS};
/// let mut out = FindingList::new("results.csv");
/// for row in 1..=MAX_LISTED_FINDINGS as u64 + 5 {
///     out.push(out.finding(FindingCode::TypeError, "not a number").at_row(row));
/// }
/// let findings = out.into_vec();
/// assert_eq!(findings.len(), MAX_LISTED_FINDINGS + 1);
/// assert_eq!(findings.last().unwrap().message, "… and 5 more findings");
/// ```
#[derive(Debug)]
pub struct FindingList {
    name: String,
    list: Vec<Finding>,
    unlisted: usize,
}

impl FindingList {
    /// An empty list for the file `name`.
    ///
    /// ```
    /// use exporter_core::{FindingCode, FindingList};
    /// let mut list = FindingList::new("results.csv");
    /// assert!(list.into_vec().is_empty());
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        FindingList {
            name: name.into(),
            list: Vec::new(),
            unlisted: 0,
        }
    }

    /// A finding about this file.
    ///
    /// ```
    /// use exporter_core::{FindingCode, FindingList};
    /// let mut list = FindingList::new("results.csv");
    /// let f = list.finding(FindingCode::RowCount, "3 rows, 4 written");
    /// assert_eq!(f.file, "results.csv");
    /// ```
    pub fn finding(&self, code: FindingCode, message: impl Into<String>) -> Finding {
        Finding::new(code, &self.name, message)
    }

    /// Lists a finding, or counts it once the list is full.
    ///
    /// ```
    /// use exporter_core::{FindingCode, FindingList};
    /// let mut list = FindingList::new("results.csv");
    /// list.push(list.finding(FindingCode::TypeError, "not a number").at_row(2));
    /// assert_eq!(list.listed().len(), 1);
    /// ```
    pub fn push(&mut self, f: Finding) {
        if self.list.len() < MAX_LISTED_FINDINGS {
            self.list.push(f);
        } else {
            self.unlisted += 1;
        }
    }

    /// Adds the findings of a part of the file (rows already numbered for the whole).
    ///
    /// ```
    /// use exporter_core::{FindingCode, FindingList};
    /// let mut list = FindingList::new("results.csv");
    /// let mut part = FindingList::new("results.csv");
    /// part.push(part.finding(FindingCode::TypeError, "not a number").at_row(1));
    /// list.extend(part);
    /// assert_eq!(list.listed()[0].row, Some(1));
    /// ```
    pub fn extend(&mut self, part: FindingList) {
        for f in part.list {
            self.push(f);
        }
        self.unlisted += part.unlisted;
    }

    /// The findings listed so far.
    ///
    /// ```
    /// use exporter_core::{FindingCode, FindingList};
    /// let mut list = FindingList::new("results.csv");
    /// assert!(list.listed().is_empty());
    /// ```
    pub fn listed(&self) -> &[Finding] {
        &self.list
    }

    /// Renumbers the listed findings' rows (a part's rows, counted from the part's start).
    ///
    /// ```
    /// use exporter_core::{FindingCode, FindingList};
    /// let mut list = FindingList::new("results.csv");
    /// list.push(list.finding(FindingCode::TypeError, "not a number").at_row(3));
    /// list.shift_rows(1000); // the part began after row 1000 of the file
    /// assert_eq!(list.listed()[0].row, Some(1003));
    /// ```
    pub fn shift_rows(&mut self, by: u64) {
        for f in &mut self.list {
            f.row = f.row.map(|r| r + by);
        }
    }

    /// Orders the list: findings about the whole file first, then by row and code, so the
    /// report reads the same however the file was cut into parts.
    ///
    /// ```
    /// use exporter_core::{FindingCode, FindingList};
    /// let mut list = FindingList::new("results.csv");
    /// list.push(list.finding(FindingCode::TypeError, "b").at_row(9));
    /// list.push(list.finding(FindingCode::RowCount, "about the whole file"));
    /// list.sort_by_row();
    /// assert_eq!(list.listed()[0].row, None);
    /// ```
    pub fn sort_by_row(&mut self) {
        self.list.sort_by_key(|f| (f.row.unwrap_or(0), f.code));
    }

    /// The findings, with one more saying how many were not listed.
    ///
    /// ```
    /// use exporter_core::{FindingCode, FindingList};
    /// let mut list = FindingList::new("results.csv");
    /// list.push(list.finding(FindingCode::TypeError, "not a number").at_row(2));
    /// assert_eq!(list.into_vec().len(), 1); // nothing unlisted, so no count
    /// ```
    pub fn into_vec(mut self) -> Vec<Finding> {
        if self.unlisted > 0 {
            let code = self.list[0].code;
            let more = self.finding(code, format!("… and {} more findings", self.unlisted));
            self.list.push(more);
        }
        self.list
    }
}

/// One problem in one file.
///
/// ```
/// use exporter_core::{Finding, FindingCode};
/// let f = Finding::new(FindingCode::TypeError, "results.csv", "not a number: \"4,5\"")
///     .at_row(12).at_field("rating");
/// assert_eq!(f.to_string(), "results.csv: row 12, field \"rating\": type-error: not a number: \"4,5\"");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Stable code.
    pub code: FindingCode,
    /// The file (as the user knows it: the final path, relative to the output directory).
    pub file: String,
    /// 1-based data row (header excluded), where it applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// Field name or JSON path, where it applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Finding {
    /// A finding about a whole file. Proxy passwords in the message are masked: findings are
    /// printed, logged and kept in reports, and a validator may quote the file it checks.
    ///
    /// ```
    /// use exporter_core::{Finding, FindingCode};
    /// let f = Finding::new(FindingCode::SchemaError, "p.json", "\"http://u:pw@h\" is not valid");
    /// assert_eq!(f.message, "\"http://u:***@h\" is not valid");
    /// ```
    pub fn new(code: FindingCode, file: impl Into<String>, message: impl Into<String>) -> Self {
        let mut message = message.into();
        crate::redact::redact_in_place(&mut message);
        Finding {
            code,
            file: file.into(),
            row: None,
            field: None,
            message,
        }
    }

    /// Sets the row.
    ///
    /// ```
    /// use exporter_core::{Finding, FindingCode};
    /// let f = Finding::new(FindingCode::TypeError, "results.csv", "not a number").at_row(7);
    /// assert_eq!(f.row, Some(7));
    /// ```
    pub fn at_row(mut self, row: u64) -> Self {
        self.row = Some(row);
        self
    }

    /// Sets the field (passwords masked, like the message).
    ///
    /// ```
    /// use exporter_core::{Finding, FindingCode};
    /// let f = Finding::new(FindingCode::TypeError, "r.csv", "bad").at_field("http://u:pw@h");
    /// assert_eq!(f.field.as_deref(), Some("http://u:***@h"));
    /// ```
    pub fn at_field(mut self, field: impl Into<String>) -> Self {
        let mut field = field.into();
        crate::redact::redact_in_place(&mut field);
        self.field = Some(field);
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        match (&self.row, &self.field) {
            (Some(r), Some(field)) => write!(f, "row {r}, field {field:?}: ")?,
            (Some(r), None) => write!(f, "row {r}: ")?,
            (None, Some(field)) => write!(f, "field {field:?}: ")?,
            (None, None) => {}
        }
        // masked again: the fields are public, and a finding may have been built by hand
        let message = crate::redact::redact(&self.message);
        write!(f, "{}: {message}", self.code.as_str())
    }
}

/// A file to check: where its bytes are, what the user calls it, and what the writer claims.
///
/// ```
/// let file = exporter_core::FileUnderCheck {
///     path: "out/.results.csv.1-0.tmp".as_ref(), name: "results.csv", rows: Some(3),
/// };
/// assert_eq!(file.rows, Some(3));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FileUnderCheck<'a> {
    /// Where the bytes are (a staging file before commit, the final file in `exporter check`).
    pub path: &'a Path,
    /// The name findings use.
    pub name: &'a str,
    /// Data rows the writer reported, when known.
    pub rows: Option<u64>,
}

/// Checks one file. Implementations must not stop at the first problem.
///
/// ```
/// use exporter_core::{FileUnderCheck, Finding, FindingCode, Validator};
/// /// The file ends with a line feed.
/// struct EndsWithNewline;
/// impl Validator for EndsWithNewline {
///     fn check(&self, file: &FileUnderCheck<'_>) -> Vec<Finding> {
///         match std::fs::read(file.path) {
///             Ok(bytes) if bytes.is_empty() || bytes.ends_with(b"\n") => Vec::new(),
///             _ => vec![Finding::new(FindingCode::EncodingError, file.name, "no final line feed")],
///         }
///     }
/// }
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.txt");
/// std::fs::write(&path, "x").unwrap();
/// let findings = EndsWithNewline.check(&FileUnderCheck { path: &path, name: "a.txt", rows: None });
/// assert_eq!(findings[0].code, FindingCode::EncodingError);
/// // it does not follow writes: the pipeline calls `check` on the finished file
/// assert!(!EndsWithNewline.follows_writes());
/// ```
pub trait Validator: Send + Sync {
    /// Every finding; empty when the file is valid.
    fn check(&self, file: &FileUnderCheck<'_>) -> Vec<Finding>;

    /// Whether to check staged files while they are written: the pipeline then calls
    /// [`Validator::check_while_written`] on a thread of its own as soon as a file is
    /// created, so reading and checking it overlaps the run instead of following it. Worth
    /// it for a validator that reads a large file once, front to back.
    fn follows_writes(&self) -> bool {
        false
    }

    /// Checks a staged file as its sink writes it. `file` reads like the file, waiting for
    /// more to be written, and ends when the sink has finished it; then
    /// [`GrowingFile::under_check`] tells the rows written. Must give the same findings as
    /// [`Validator::check`] on the finished file. The default waits for the end and calls it.
    fn check_while_written(&self, file: &mut GrowingFile) -> Vec<Finding> {
        match file.wait_until_complete() {
            Ok(()) => self.check(&file.under_check()),
            Err(e) => vec![Finding::new(
                FindingCode::MissingFile,
                file.under_check().name,
                format!("the file was not finished: {e}"),
            )],
        }
    }
}

/// A built validator with the `validate` entry that named it (`json-schema:my.json`).
///
/// ```
/// use std::sync::Arc;
/// use exporter_core::{Exists, NamedValidator};
/// let v: NamedValidator = ("exists".into(), Arc::new(Exists));
/// assert_eq!(v.0, "exists");
/// ```
pub type NamedValidator = (String, std::sync::Arc<dyn Validator>);

/// What a validator is built from: the sink it checks, with that sink's manifest table as
/// JSON so a validator can read the settings it needs (a schema path, a dialect).
///
/// ```
/// use exporter_core::{ValidatorContext, validator_plugin};
/// let config = exporter_core::serde_json::json!({"path": "results.csv"});
/// let cx = ValidatorContext {
///     sink_type: "csv",
///     sink_name: "results",
///     config: &config,
///     manifest_dir: std::path::Path::new("."),
///     output_schema: None,
///     argument: None,
/// };
/// assert!((validator_plugin("exists").unwrap().build)(&cx).is_ok());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ValidatorContext<'a> {
    /// The sink's plugin type.
    pub sink_type: &'a str,
    /// The sink's name.
    pub sink_name: &'a str,
    /// The sink's table without the common keys.
    pub config: &'a serde_json::Value,
    /// The manifest's folder, for relative paths in `config`.
    pub manifest_dir: &'a Path,
    /// The sink plugin's JSON Schema for its output, if it ships one.
    pub output_schema: Option<&'static str>,
    /// What follows the name in a `validate` entry written `name:argument` (for
    /// `json-schema:my.schema.json`, the schema file).
    pub argument: Option<&'a str>,
}

/// The built-in `exists` validator: the file is there and, where rows were written, not empty.
///
/// ```
/// use exporter_core::{Exists, FileUnderCheck, Validator};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.csv");
/// std::fs::write(&path, "").unwrap();
/// let findings = Exists.check(&FileUnderCheck { path: &path, name: "a.csv", rows: Some(2) });
/// assert_eq!(findings[0].code, exporter_core::FindingCode::ByteCount);
/// ```
pub struct Exists;

impl Validator for Exists {
    fn check(&self, file: &FileUnderCheck<'_>) -> Vec<Finding> {
        match std::fs::metadata(file.path) {
            Err(e) => vec![Finding::new(
                FindingCode::MissingFile,
                file.name,
                format!("cannot read the file: {e}"),
            )],
            Ok(m) if !m.is_file() => {
                vec![Finding::new(
                    FindingCode::MissingFile,
                    file.name,
                    "not a regular file",
                )]
            }
            Ok(m) if m.len() == 0 && file.rows.unwrap_or(0) > 0 => vec![Finding::new(
                FindingCode::ByteCount,
                file.name,
                format!(
                    "the file is empty but {} rows were written",
                    file.rows.unwrap_or(0)
                ),
            )],
            Ok(_) => Vec::new(),
        }
    }
}

fn build_exists(_: &ValidatorContext<'_>) -> Result<Box<dyn Validator>, String> {
    Ok(Box::new(Exists))
}

inventory::submit! {
    crate::registry::ValidatorPlugin {
        name: "exists",
        description: "The file exists and is a regular file; not empty where rows were written.",
        build: build_exists,
    }
}
