//! The `csv-table-schema` validator: reads a written table back and checks it against its
//! Table Schema and dialect: BOM and line endings, header labels, cells per row, every cell's
//! type and constraints, key uniqueness, and the row count the sink reported. Every problem is
//! collected (up to a cap per file), each with its row and field.

use std::borrow::Cow;

use exporter_core::serde_json::{self, Value};
use exporter_core::tabular::{self, BOM, Dialect};
use exporter_core::{
    FileUnderCheck, Finding, FindingCode, Validator, ValidatorContext, ValidatorPlugin,
};

use crate::check::{check_one, is_date, is_integral};
use crate::dedupe::KeySet;
use crate::schema::{Field, FieldType, TableSchema};
use crate::value::FieldValue;
use crate::{Config, load_schema};

/// Findings reported per file before the rest are only counted.
const MAX_FINDINGS: usize = 200;

/// A table's expected shape.
pub struct TableValidator {
    schema: TableSchema,
    dialect: Dialect,
    delimiter: u8,
    guard: bool,
    separator: String,
    key_fields: Vec<usize>,
}

fn build(cx: &ValidatorContext<'_>) -> Result<Box<dyn Validator>, String> {
    if cx.sink_type != "csv" {
        return Err(format!(
            "csv-table-schema checks `csv` sinks, not {:?}",
            cx.sink_type
        ));
    }
    let config: Config = serde_json::from_value(cx.config.clone()).map_err(|e| e.to_string())?;
    let schema = load_schema(&config.schema, cx.manifest_dir).map_err(|e| e.message)?;
    let key_fields = match &config.dedupe_on {
        Some(names) => schema.key_indexes(names)?,
        None => schema.primary_key.clone(),
    };
    Ok(Box::new(TableValidator {
        dialect: config.dialect,
        delimiter: config.delimiter.byte(),
        guard: config
            .formula_guard
            .unwrap_or(config.dialect.guards_formulas()),
        separator: config.array_separator,
        key_fields,
        schema,
    }))
}

exporter_core::inventory::submit! {
    ValidatorPlugin {
        name: "csv-table-schema",
        description: "The CSV reads back with the dialect's BOM and line endings, the schema's header, valid cells, unique keys and the row count written.",
        build,
    }
}

struct Findings<'a> {
    name: &'a str,
    list: Vec<Finding>,
    dropped: usize,
}

impl Findings<'_> {
    fn push(&mut self, f: Finding) {
        if self.list.len() < MAX_FINDINGS {
            self.list.push(f);
        } else {
            self.dropped += 1;
        }
    }
    fn finding(&self, code: FindingCode, message: impl Into<String>) -> Finding {
        Finding::new(code, self.name, message)
    }
}

impl TableValidator {
    fn labels(&self) -> Vec<String> {
        self.schema
            .fields
            .iter()
            .map(|f| {
                if self.guard {
                    tabular::guard(&f.name).into_owned()
                } else {
                    f.name.clone()
                }
            })
            .collect()
    }

    /// The value a cell holds, as the schema checks see it; an error for a type error.
    fn cell_value<'c>(&self, field: &Field, text: &'c str) -> Result<FieldValue<'c>, String> {
        if text.is_empty() {
            return Ok(FieldValue::Missing);
        }
        let unguarded = match text.strip_prefix('\'') {
            Some(rest) if self.guard && tabular::needs_guard(rest) => rest,
            _ => text,
        };
        let bad = |what: &str| Err(format!("{text:?} is not {what}"));
        match field.ty {
            FieldType::String | FieldType::Any => Ok(FieldValue::Str(Cow::Borrowed(unguarded))),
            FieldType::Integer if is_integral(text) && !text.contains(['.', 'e', 'E']) => {
                Ok(FieldValue::Num(Cow::Borrowed(text)))
            }
            FieldType::Integer => bad("an integer"),
            FieldType::Number
                if text.parse::<f64>().is_ok_and(f64::is_finite)
                    && !text.contains(['e', 'E', 'i', 'n', 'N']) =>
            {
                Ok(FieldValue::Num(Cow::Borrowed(text)))
            }
            FieldType::Number => bad("a number without exponent"),
            FieldType::Boolean => {
                let (t, f) = self.dialect.booleans();
                match text {
                    _ if text == t => Ok(FieldValue::Bool(true)),
                    _ if text == f => Ok(FieldValue::Bool(false)),
                    _ => bad(&format!("{t} or {f}")),
                }
            }
            FieldType::Date if is_date(unguarded) => Ok(FieldValue::Str(Cow::Borrowed(unguarded))),
            FieldType::Date => bad("a date (YYYY-MM-DD)"),
            FieldType::Datetime => match self.dialect {
                Dialect::Excel => match excel_to_rfc3339(unguarded) {
                    Some(s) => Ok(FieldValue::Str(Cow::Owned(s))),
                    None => bad("an Excel date-time (YYYY-MM-DD HH:MM:SS[.fff])"),
                },
                _ if exporter_core::Timestamp::parse(unguarded).is_ok() => {
                    Ok(FieldValue::Str(Cow::Borrowed(unguarded)))
                }
                _ => bad("an RFC 3339 date-time"),
            },
            FieldType::Array => Ok(FieldValue::Json(Cow::Owned(Value::Array(
                unguarded
                    .split(self.separator.as_str())
                    .map(|p| Value::String(p.to_string()))
                    .collect(),
            )))),
            FieldType::Object => match serde_json::from_str::<Value>(unguarded) {
                Ok(v @ Value::Object(_)) => Ok(FieldValue::Json(Cow::Owned(v))),
                _ => bad("a JSON object"),
            },
        }
    }

    fn check_framing(&self, bytes: &[u8], out: &mut Findings<'_>) {
        let starts_with_bom = bytes.starts_with(BOM);
        if self.dialect.bom() && !starts_with_bom {
            out.push(out.finding(
                FindingCode::EncodingError,
                "the file does not start with the UTF-8 BOM the excel dialect needs",
            ));
        }
        if !self.dialect.bom() && starts_with_bom {
            out.push(out.finding(
                FindingCode::EncodingError,
                format!(
                    "the {} dialect writes no BOM, but the file has one",
                    self.dialect.as_str()
                ),
            ));
        }
        if let Err(e) = std::str::from_utf8(bytes) {
            out.push(out.finding(
                FindingCode::EncodingError,
                format!("not UTF-8 at byte {}", e.valid_up_to()),
            ));
        }
        // record terminators (line feeds outside quotes) must be the dialect's
        let crlf = self.dialect.line_end() == b"\r\n";
        let (mut in_quotes, mut row, mut wrong) = (false, 0u64, None);
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'"' => in_quotes = !in_quotes,
                b'\n' if !in_quotes => {
                    let has_cr = i > 0 && bytes[i - 1] == b'\r';
                    if has_cr != crlf && wrong.is_none() {
                        wrong = Some(row);
                    }
                    row += 1;
                }
                _ => {}
            }
        }
        if let Some(r) = wrong {
            let want = if crlf { "CRLF" } else { "LF" };
            let f = out.finding(
                FindingCode::EncodingError,
                format!(
                    "line ending is not {want} as the {} dialect writes",
                    self.dialect.as_str()
                ),
            );
            out.push(if r == 0 { f } else { f.at_row(r) });
        }
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            out.push(out.finding(
                FindingCode::EncodingError,
                "the last row has no line ending (a torn write?)",
            ));
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS[.fff]` (UTC) as RFC 3339.
fn excel_to_rfc3339(s: &str) -> Option<String> {
    let (date, time) = s.split_once(' ')?;
    let rfc = format!("{date}T{time}Z");
    exporter_core::Timestamp::parse(&rfc).ok().map(|_| rfc)
}

impl Validator for TableValidator {
    fn check(&self, file: &FileUnderCheck<'_>) -> Vec<Finding> {
        let mut out = Findings {
            name: file.name,
            list: Vec::new(),
            dropped: 0,
        };
        let bytes = match std::fs::read(file.path) {
            Ok(b) => b,
            Err(e) => {
                return vec![out.finding(
                    FindingCode::MissingFile,
                    format!("cannot read the file: {e}"),
                )];
            }
        };
        self.check_framing(&bytes, &mut out);
        let body = bytes.strip_prefix(BOM).unwrap_or(&bytes);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(body);
        let mut records = reader.byte_records();
        let expected = self.labels();
        match records.next() {
            None => out.push(out.finding(FindingCode::MissingLabel, "the file has no header row")),
            Some(Err(e)) => out.push(out.finding(
                FindingCode::EncodingError,
                format!("unreadable header: {e}"),
            )),
            Some(Ok(header)) => {
                let found: Vec<String> = header
                    .iter()
                    .map(|h| String::from_utf8_lossy(h).into_owned())
                    .collect();
                for (i, label) in expected.iter().enumerate() {
                    if found.get(i) != Some(label) {
                        let f = out.finding(
                            FindingCode::MissingLabel,
                            format!(
                                "column {} should be {label:?}, found {:?}",
                                i + 1,
                                found.get(i)
                            ),
                        );
                        out.push(f.at_field(&self.schema.fields[i].name));
                    }
                }
                for label in found.iter().skip(expected.len()) {
                    out.push(
                        out.finding(
                            FindingCode::ExtraLabel,
                            format!("column {label:?} is not in the schema"),
                        )
                        .at_field(label),
                    );
                }
            }
        }
        let n = self.schema.fields.len();
        let mut rows = 0u64;
        let mut keys = KeySet::default();
        for record in records {
            rows += 1;
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    out.push(
                        out.finding(FindingCode::EncodingError, format!("unreadable row: {e}"))
                            .at_row(rows),
                    );
                    continue;
                }
            };
            if record.len() > n {
                out.push(
                    out.finding(
                        FindingCode::ExtraCell,
                        format!("{} cells, the header has {n}", record.len()),
                    )
                    .at_row(rows),
                );
            } else if record.len() < n {
                out.push(
                    out.finding(
                        FindingCode::MissingCell,
                        format!("{} cells, the header has {n}", record.len()),
                    )
                    .at_row(rows),
                );
            }
            let texts: Vec<Cow<'_, str>> = (0..n)
                .map(|i| {
                    record
                        .get(i)
                        .map(String::from_utf8_lossy)
                        .unwrap_or_default()
                })
                .collect();
            for (field, text) in self.schema.fields.iter().zip(&texts) {
                let finding = match self.cell_value(field, text) {
                    Err(msg) => Some((FindingCode::TypeError, msg)),
                    Ok(v) => check_one(&self.schema, field, &v).map(|violation| {
                        let code = if violation.rule == "type" {
                            FindingCode::TypeError
                        } else {
                            FindingCode::ConstraintError
                        };
                        (code, format!("{} ({})", violation.message, violation.rule))
                    }),
                };
                if let Some((code, msg)) = finding {
                    out.push(out.finding(code, msg).at_row(rows).at_field(&field.name));
                }
            }
            if !self.key_fields.is_empty() {
                let key = KeySet::fingerprint(self.key_fields.iter().map(|&i| texts[i].as_ref()));
                if !keys.insert(key) {
                    let names: Vec<&str> = self
                        .key_fields
                        .iter()
                        .map(|&i| self.schema.fields[i].name.as_str())
                        .collect();
                    out.push(
                        out.finding(
                            FindingCode::UniqueError,
                            format!("the key ({}) repeats an earlier row", names.join(", ")),
                        )
                        .at_row(rows),
                    );
                }
            }
        }
        if let Some(want) = file.rows
            && want != rows
        {
            out.push(out.finding(
                FindingCode::RowCount,
                format!("{rows} data rows, {want} were written"),
            ));
        }
        if out.dropped > 0 {
            let f = out.finding(
                out.list[0].code,
                format!("… and {} more findings", out.dropped),
            );
            out.list.push(f);
        }
        out.list
    }
}
