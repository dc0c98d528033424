//! The `error-log` validator: the log reads back as the table it should be. The BOM and the
//! header of its dialect, every row whole (its columns, balanced quotes, the dialect's line
//! ends, a line end after the last row), UTF-8, a known severity, and a `context` that is
//! empty or JSON. Read under a shared lock on the file, so a batch another process is
//! appending is never seen half-written.

use std::io::Read;

use exporter_core::serde_json;
use exporter_core::{
    FileUnderCheck, Finding, FindingCode, Severity, Validator, ValidatorContext, ValidatorPlugin,
};
use exporter_tabular::{self as tabular, BOM};

use crate::log::{COLUMNS, Options, header_line};
use exporter_core::MAX_LISTED_FINDINGS;

/// Checks an error log written with `options`.
pub struct LogIntegrity {
    options: Options,
}

impl LogIntegrity {
    /// A validator for logs written with `options`.
    ///
    /// ```
    /// use exporter_core::{FileUnderCheck, Validator};
    /// use exporter_error_log::{ErrorLog, LogIntegrity, Options};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("log.csv");
    /// let log = ErrorLog::open(&path, Options::default()).unwrap();
    /// log.log(&exporter_core::ErrorEvent::new("K", "m")).unwrap();
    /// drop(log);
    /// let check = LogIntegrity::new(Options::default());
    /// let file = FileUnderCheck { path: &path, name: "log.csv", rows: None };
    /// assert!(check.check(&file).is_empty());
    /// let mut bytes = std::fs::read(&path).unwrap();
    /// bytes.truncate(bytes.len() - 3); // a torn last row
    /// std::fs::write(&path, bytes).unwrap();
    /// assert!(!check.check(&file).is_empty());
    /// ```
    pub fn new(options: Options) -> Self {
        LogIntegrity { options }
    }

    fn check_bytes(&self, name: &str, bytes: &[u8], out: &mut Vec<Finding>) {
        let finding = |code, message: String| Finding::new(code, name, message);
        let dialect = self.options.dialect;
        let body = match (dialect.bom(), bytes.strip_prefix(BOM)) {
            (true, Some(body)) => body,
            (false, None) => bytes,
            (true, None) => {
                out.push(finding(
                    FindingCode::EncodingError,
                    "the file does not start with the UTF-8 BOM of the excel dialect".into(),
                ));
                bytes
            }
            (false, Some(body)) => {
                out.push(finding(
                    FindingCode::EncodingError,
                    format!(
                        "the {} dialect writes no BOM, but the file has one",
                        dialect.as_str()
                    ),
                ));
                body
            }
        };
        self.check_framing(name, body, out);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.options.delimiter.byte())
            .from_reader(body);
        let header = header_line(&self.options);
        let mut record = csv::ByteRecord::new();
        let mut row = 0u64;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    out.push(finding(
                        FindingCode::EncodingError,
                        format!("unreadable: {e}"),
                    ));
                    break;
                }
            }
            if row == 0 {
                let expected = String::from_utf8_lossy(trim_line_end(&header)).into_owned();
                let found = record
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect::<Vec<_>>()
                    .join(&char::from(self.options.delimiter.byte()).to_string());
                if found != expected {
                    out.push(finding(
                        FindingCode::MissingLabel,
                        format!("the header is {found:?}, the error log writes {expected:?}"),
                    ));
                    return; // the rows cannot be read as this log's
                }
                row += 1;
                continue;
            }
            self.check_row(name, row, &record, out);
            row += 1;
            if out.len() > MAX_LISTED_FINDINGS {
                break;
            }
        }
        if row == 0 {
            out.push(finding(
                FindingCode::MissingLabel,
                "the file has no header row".into(),
            ));
        }
    }

    /// Line ends outside quotes are the dialect's, quotes balance, and the last row ends.
    fn check_framing(&self, name: &str, body: &[u8], out: &mut Vec<Finding>) {
        let crlf = self.options.dialect.line_end() == b"\r\n";
        let mut in_quotes = false;
        let mut row = 0u64;
        for (i, &b) in body.iter().enumerate() {
            match b {
                b'"' => in_quotes = !in_quotes,
                b'\n' if !in_quotes => {
                    if crlf && (i == 0 || body[i - 1] != b'\r') {
                        out.push(
                            Finding::new(
                                FindingCode::EncodingError,
                                name,
                                "a line ends in LF alone, the dialect writes CRLF",
                            )
                            .at_row(row),
                        );
                    }
                    row += 1;
                }
                b'\r' if !in_quotes && (!crlf || body.get(i + 1) != Some(&b'\n')) => {
                    out.push(
                        Finding::new(FindingCode::EncodingError, name, "a lone CR ends a line")
                            .at_row(row),
                    );
                }
                _ => {}
            }
        }
        if in_quotes || !body.is_empty() && !body.ends_with(b"\n") {
            out.push(Finding::new(
                FindingCode::EncodingError,
                name,
                "the last row is torn (no line end, or a quote left open)",
            ));
        }
    }

    fn check_row(&self, name: &str, row: u64, record: &csv::ByteRecord, out: &mut Vec<Finding>) {
        let at = |code, message: String| Finding::new(code, name, message).at_row(row);
        if record.len() != COLUMNS.len() {
            let code = if record.len() > COLUMNS.len() {
                FindingCode::ExtraCell
            } else {
                FindingCode::MissingCell
            };
            out.push(at(
                code,
                format!("{} cells, the header has {}", record.len(), COLUMNS.len()),
            ));
            return;
        }
        let cells: Vec<&str> = match record.iter().map(std::str::from_utf8).collect() {
            Ok(cells) => cells,
            Err(e) => {
                out.push(at(FindingCode::EncodingError, format!("not UTF-8: {e}")));
                return;
            }
        };
        if !Severity::ALL.iter().any(|s| s.as_str() == cells[1]) {
            out.push(
                at(
                    FindingCode::TypeError,
                    format!("{:?} is not a severity", cells[1]),
                )
                .at_field("severity"),
            );
        }
        let context = match self.options.formula_guard {
            true => tabular::unguard(cells[7]),
            false => cells[7],
        };
        let cut = self
            .options
            .dialect
            .cell_limit()
            .is_some_and(|limit| context.encode_utf16().count() + 1 >= limit);
        if !context.is_empty()
            && !cut
            && serde_json::from_str::<serde::de::IgnoredAny>(context).is_err()
        {
            out.push(
                at(FindingCode::TypeError, "the context is not JSON".into()).at_field("context"),
            );
        }
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl Validator for LogIntegrity {
    fn check(&self, file: &FileUnderCheck<'_>) -> Vec<Finding> {
        let read = || -> std::io::Result<Vec<u8>> {
            let mut f = std::fs::File::open(file.path)?;
            f.lock_shared()?; // appending writers hold it exclusively per batch
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes)?;
            Ok(bytes)
        };
        let bytes = match read() {
            Ok(b) => b,
            Err(e) => {
                return vec![Finding::new(
                    FindingCode::MissingFile,
                    file.name,
                    format!("cannot read the file: {e}"),
                )];
            }
        };
        let mut out = Vec::new();
        self.check_bytes(file.name, &bytes, &mut out);
        if out.len() > MAX_LISTED_FINDINGS {
            let more = out.len() - MAX_LISTED_FINDINGS;
            out.truncate(MAX_LISTED_FINDINGS);
            let code = out[0].code;
            out.push(Finding::new(
                code,
                file.name,
                format!("… and {more} more findings"),
            ));
        }
        out
    }
}

fn build(cx: &ValidatorContext<'_>) -> Result<Box<dyn Validator>, String> {
    if cx.sink_type != "error-log" {
        return Err(format!(
            "error-log checks `error-log` sinks, not {:?}",
            cx.sink_type
        ));
    }
    let config: crate::Config =
        serde_json::from_value(cx.config.clone()).map_err(|e| e.to_string())?;
    Ok(Box::new(LogIntegrity::new(config.options())))
}

exporter_core::inventory::submit! {
    ValidatorPlugin {
        name: "error-log",
        description: "The error log reads back whole: BOM and header of its dialect, every row with its columns and line end, UTF-8, known severities, JSON contexts.",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorLog;

    #[test]
    fn damage_of_every_kind_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        let log = ErrorLog::open(&path, Options::default()).unwrap();
        for i in 0..5 {
            let e = exporter_core::ErrorEvent::new("K", format!("m{i}\nsecond line"))
                .with_context(serde_json::json!({"i": i}));
            log.log(&e).unwrap();
        }
        drop(log);
        let good = std::fs::read(&path).unwrap();
        let check = LogIntegrity::new(Options::default());
        let file = FileUnderCheck {
            path: &path,
            name: "log.csv",
            rows: None,
        };
        assert!(check.check(&file).is_empty(), "{:?}", check.check(&file));
        let text = String::from_utf8(good.clone()).unwrap();
        let damages: Vec<(&str, Vec<u8>)> = vec![
            ("torn tail", good[..good.len() - 5].to_vec()),
            ("no BOM", good[3..].to_vec()),
            (
                "severity flipped",
                text.replacen(",error,", ",errxr,", 1).into_bytes(),
            ),
            (
                "context flipped",
                text.replacen("\"\"i\"\":2", "\"\"i\"\"!2", 1).into_bytes(),
            ),
            ("a column lost", text.replacen(",K,", ",", 1).into_bytes()),
            (
                "LF alone",
                text.replacen("}\"\r\n", "}\"\n", 1).into_bytes(),
            ),
            (
                "header changed",
                text.replacen("timestamp", "time", 1).into_bytes(),
            ),
            (
                "invalid UTF-8",
                [&good[..40], b"\xff", &good[41..]].concat(),
            ),
        ];
        for (what, bytes) in damages {
            std::fs::write(&path, &bytes).unwrap();
            assert!(!check.check(&file).is_empty(), "{what} went unnoticed");
        }
    }
}
