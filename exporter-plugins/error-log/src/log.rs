//! The error log file itself: row encoding, the header check, torn-tail repair, and batched
//! appends under the file lock. [`ErrorLog`] is the cloneable, thread-safe handle.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use exporter_core::serde_json;
use exporter_core::{AppendFile, ErrorEvent, FileReport, Fsync, Severity};
use exporter_core::{has_password, redact, redact_address, redact_json};
use exporter_tabular::{self as tabular, BOM, Delimiter, Dialect, RowWriter};

/// The columns, in order.
pub const COLUMNS: [&str; 8] = [
    "timestamp",
    "severity",
    "kind",
    "message",
    "campaign_id",
    "url",
    "proxy",
    "context",
];

/// Rows are appended in batches of about this many bytes (and whenever the log is flushed).
pub const BATCH_BYTES: usize = 64 * 1024;

/// How the log is written.
///
/// ```
/// let o = exporter_error_log::Options::default();
/// assert_eq!(o.dialect, exporter_tabular::Dialect::Excel);
/// assert!(o.formula_guard);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// CSV dialect (default `excel`).
    pub dialect: Dialect,
    /// Field delimiter.
    pub delimiter: Delimiter,
    /// Whether string cells get the formula guard.
    pub formula_guard: bool,
    /// Rows below this severity are not written (counted as filtered).
    pub min_severity: Severity,
    /// Durability of appended batches.
    pub fsync: Fsync,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dialect: Dialect::Excel,
            delimiter: Delimiter::default(),
            formula_guard: true,
            min_severity: Severity::Debug,
            fsync: Fsync::OnCommit,
        }
    }
}

/// Counts of one log handle (all its clones together).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogCounts {
    /// Rows written.
    pub rows: u64,
    /// Rows below `min_severity`, not written.
    pub filtered: u64,
    /// Cells that got the formula guard.
    pub guarded_cells: u64,
    /// Cells cut at the dialect's cell limit.
    pub truncated_cells: u64,
    /// Bytes of a torn last row removed when the file was opened.
    pub repaired_bytes: u64,
    /// Whether this handle created the file (and wrote its header).
    pub created: bool,
}

struct State {
    file: Option<AppendFile>,
    options: Options,
    writer: RowWriter,
    buf: Vec<u8>,
    /// A row's timestamp and context, written here row after row.
    ts: String,
    context: Vec<u8>,
    pending_rows: u64,
    campaign_id: Option<String>,
    counts: LogCounts,
}

/// A cloneable, thread-safe handle on an error log: any thread can [`ErrorLog::log`] through
/// it. Rows are encoded whole and appended in batches under the file's exclusive lock, so
/// rows from threads and from other processes never interleave or tear.
///
/// ```
/// use exporter_error_log::{ErrorLog, Options};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("error_log.csv");
/// let log = ErrorLog::open(&path, Options::default()).unwrap();
/// let worker = log.clone();
/// std::thread::spawn(move || {
///     worker.log(&exporter_core::ErrorEvent::new("Timeout", "=read timed out")).unwrap();
/// }).join().unwrap();
/// log.flush().unwrap();
/// let text = std::fs::read_to_string(&path).unwrap();
/// assert!(text.starts_with("\u{feff}timestamp,severity,kind,message,"));
/// assert!(text.contains(",error,Timeout,'=read timed out,"));
/// ```
#[derive(Clone)]
pub struct ErrorLog {
    state: Arc<Mutex<State>>,
}

/// Why an error log cannot be opened.
#[derive(Debug)]
pub enum OpenError {
    /// The file could not be read or written.
    Io(io::Error),
    /// The file exists with other columns: appending would mix two tables.
    HeaderMismatch {
        /// The header found in the file.
        found: String,
        /// The header this log writes.
        expected: String,
    },
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Io(e) => e.fmt(f),
            OpenError::HeaderMismatch { found, expected } => write!(
                f,
                "the existing file has the header {found:?} but this error log writes {expected:?}; \
                 appending would mix two tables: move the old file away or choose another path"
            ),
        }
    }
}

impl std::error::Error for OpenError {}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> Self {
        OpenError::Io(e)
    }
}

impl ErrorLog {
    /// Opens (creating if needed) the log at `path`: writes the header when the file is new
    /// or empty, refuses a file with another header, and repairs a torn last row.
    pub fn open(path: &Path, options: Options) -> Result<ErrorLog, OpenError> {
        ErrorLog::from_append_file(AppendFile::open(path, options.fsync)?, options)
    }

    /// [`ErrorLog::open`] on a file already opened for appending (the sink gets it from the
    /// output directory).
    pub fn from_append_file(mut file: AppendFile, options: Options) -> Result<ErrorLog, OpenError> {
        let header = header_line(&options);
        let mut created = false;
        let mut repaired = 0;
        let mut first = Vec::new();
        if options.dialect.bom() {
            first.extend_from_slice(BOM);
        }
        first.extend_from_slice(&header);
        let mismatch = file.locked(|f| {
            let len = f.metadata()?.len();
            let tail = last_row_end(f)?;
            if tail.complete_rows_end == 0 && starts_header(f, len, &first)? {
                // new, or only a header that a killed writer left without its line end (or
                // cut short): written whole, so rows never follow a missing header
                f.set_len(0)?;
                f.write_all(&first)?;
                created = true;
                return Ok(None);
            }
            let found = read_header(f)?;
            let expected = String::from_utf8_lossy(trim_line_end(&header)).into_owned();
            if found != expected {
                return Ok(Some(OpenError::HeaderMismatch { found, expected }));
            }
            repaired = repair_torn_tail(f, len, tail, &options)?;
            Ok(None)
        })?;
        if let Some(e) = mismatch {
            return Err(e);
        }
        Ok(ErrorLog {
            state: Arc::new(Mutex::new(State {
                file: Some(file),
                options,
                writer: RowWriter::new(options.dialect, options.delimiter.byte()),
                buf: Vec::with_capacity(BATCH_BYTES + 4096),
                ts: String::new(),
                context: Vec::new(),
                pending_rows: 0,
                campaign_id: None,
                counts: LogCounts {
                    created,
                    repaired_bytes: repaired,
                    ..LogCounts::default()
                },
            })),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Rows are encoded into the buffer whole; a panic elsewhere cannot leave half a row.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the `campaign_id` column of rows logged from now on.
    pub fn set_campaign_id(&self, id: Option<String>) {
        self.state().campaign_id = id;
    }

    /// Logs one failure (masking proxy passwords in every column). The row reaches the file
    /// with the next batch: when about [`BATCH_BYTES`] are buffered, on [`ErrorLog::flush`],
    /// or when the last handle is dropped.
    pub fn log(&self, event: &ErrorEvent) -> io::Result<()> {
        let mut state = self.state();
        if event.severity < state.options.min_severity {
            state.counts.filtered += 1;
            return Ok(());
        }
        encode_row(&mut state, event);
        if state.buf.len() >= BATCH_BYTES {
            state.flush()?;
        }
        Ok(())
    }

    /// Appends every buffered row now.
    pub fn flush(&self) -> io::Result<()> {
        self.state().flush()
    }

    /// Counts so far (of every clone).
    pub fn counts(&self) -> LogCounts {
        self.state().counts
    }

    /// Flushes and reports the file (rows of this handle, size and SHA-256 of the whole file).
    pub fn finish(&self) -> io::Result<FileReport> {
        let mut state = self.state();
        state.flush()?;
        let file = state
            .file
            .take()
            .ok_or_else(|| io::Error::other("error log already finished"))?;
        file.finish()
    }
}

impl State {
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("error log already finished"))?;
        file.append(&self.buf, self.pending_rows)?;
        self.buf.clear();
        self.pending_rows = 0;
        Ok(())
    }
}

impl Drop for State {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// The header row (with its line end) of a log written with `options`.
pub(crate) fn header_line(options: &Options) -> Vec<u8> {
    let mut line = Vec::new();
    RowWriter::new(options.dialect, options.delimiter.byte()).write_row(COLUMNS, &mut line);
    line
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The first line, without BOM and line ending.
fn read_header(f: &mut File) -> io::Result<String> {
    f.seek(SeekFrom::Start(0))?;
    let mut head = Vec::new();
    f.take(64 * 1024).read_to_end(&mut head)?;
    let head = head.strip_prefix(BOM).unwrap_or(&head);
    let line = match head.iter().position(|&b| b == b'\n') {
        Some(i) => &head[..=i],
        None => head,
    };
    Ok(String::from_utf8_lossy(trim_line_end(line)).into_owned())
}

/// Where the complete rows of a log end (just past a line feed outside quotes).
#[derive(Clone, Copy)]
struct Tail {
    complete_rows_end: u64,
}

fn last_row_end(f: &mut File) -> io::Result<Tail> {
    f.seek(SeekFrom::Start(0))?;
    let mut in_quotes = false;
    let mut last_end = 0u64;
    let mut pos = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        for &b in &buf[..n] {
            pos += 1;
            match b {
                b'"' => in_quotes = !in_quotes,
                b'\n' if !in_quotes => last_end = pos,
                _ => {}
            }
        }
    }
    Ok(Tail {
        complete_rows_end: last_end,
    })
}

/// Whether the file's `len` bytes are the start of `first` (BOM and header line): a file
/// with no complete line that a writer of this log began.
fn starts_header(f: &mut File, len: u64, first: &[u8]) -> io::Result<bool> {
    if len > first.len() as u64 {
        return Ok(false);
    }
    let mut bytes = Vec::new();
    f.seek(SeekFrom::Start(0))?;
    f.take(len).read_to_end(&mut bytes)?;
    Ok(first.starts_with(&bytes))
}

/// Repairs what follows the last complete row: a row a killed writer left whole but for its
/// line end gets its line end; anything else (a row cut short) is cut away. Returns the bytes
/// removed.
fn repair_torn_tail(f: &mut File, len: u64, tail: Tail, options: &Options) -> io::Result<u64> {
    let end = tail.complete_rows_end;
    if end >= len {
        return Ok(0);
    }
    let mut rest = Vec::new();
    f.seek(SeekFrom::Start(end))?;
    f.take(len - end).read_to_end(&mut rest)?;
    if let Some(missing) = missing_line_end(&rest, options) {
        f.write_all(missing)?; // the file is in append mode: this goes at the end
        f.sync_data()?;
        exporter_core::tracing::warn!(
            "completed the last row of the error log, which lacked its line end"
        );
        return Ok(0);
    }
    f.set_len(end)?;
    f.sync_data()?;
    Ok(len - end)
}

/// What a row lacking only its line end needs appended: the whole line end, or the LF after
/// a CR that made it; `None` for a row cut short. A row is whole when its quotes balance, it
/// has every column, and its last column (`context`) is empty or whole JSON.
fn missing_line_end(row: &[u8], options: &Options) -> Option<&'static [u8]> {
    let line_end = options.dialect.line_end();
    let delimiter = options.delimiter.byte();
    let mut in_quotes = false;
    let mut cells = 1;
    let mut last_cell = 0;
    for (i, &b) in row.iter().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            _ if b == delimiter && !in_quotes => {
                cells += 1;
                last_cell = i + 1;
            }
            _ => {}
        }
    }
    if in_quotes || cells != COLUMNS.len() {
        return None;
    }
    let (row, missing) = match row.strip_suffix(b"\r") {
        Some(row) if line_end == b"\r\n" => (row, &b"\n"[..]),
        _ => (row, line_end),
    };
    let context = &row[last_cell.min(row.len())..];
    let context = match context
        .strip_prefix(b"\"")
        .and_then(|c| c.strip_suffix(b"\""))
    {
        Some(quoted) => Cow::Owned(
            String::from_utf8_lossy(quoted)
                .replace("\"\"", "\"")
                .into_bytes(),
        ),
        None => Cow::Borrowed(context),
    };
    let whole =
        context.is_empty() || serde_json::from_slice::<serde::de::IgnoredAny>(&context).is_ok();
    whole.then_some(missing)
}

/// Encodes one row into the batch, masking proxy passwords in every column. Allocates only
/// for a cell that needs changing (a password masked, a formula guarded).
fn encode_row(state: &mut State, e: &ErrorEvent) {
    let options = state.options;
    let State {
        ts,
        context,
        buf,
        writer,
        campaign_id,
        pending_rows,
        counts,
        ..
    } = &mut *state;
    ts.clear();
    if !options
        .dialect
        .write_datetime(&e.ts.as_offset_datetime(), ts)
    {
        // an instant the dialect cannot show (its UTC year leaves 0000-9999): as given
        use std::fmt::Write;
        let _ = write!(ts, "{}", e.ts);
    }
    context.clear();
    let mut context_cut = false;
    if let Some(c) = &e.context {
        let clean = if has_password(c) {
            let mut clean = c.clone();
            redact_json(&mut clean);
            Cow::Owned(clean)
        } else {
            Cow::Borrowed(c)
        };
        let _ = serde_json::to_writer(&mut *context, &*clean);
        if let Some(limit) = options.dialect.cell_limit() {
            context_cut = fit_json(&clean, limit, context);
        }
    }
    let context = String::from_utf8_lossy(context);
    let cells: [Cow<'_, str>; 8] = [
        Cow::Borrowed(ts.as_str()),
        Cow::Borrowed(e.severity.as_str()),
        redact(&e.kind),
        redact(&e.message),
        Cow::Borrowed(campaign_id.as_deref().unwrap_or("")),
        redact_address(e.url.as_deref().unwrap_or("")),
        redact_address(e.proxy.as_deref().unwrap_or("")),
        context,
    ];
    let mut guarded = 0;
    let mut truncated = 0;
    let mut record: [(Cow<'_, str>, usize); 8] = Default::default();
    for (slot, cell) in record.iter_mut().zip(&cells) {
        let guarded_cell = if options.formula_guard {
            tabular::guard(cell)
        } else {
            Cow::Borrowed(&**cell)
        };
        if guarded_cell.len() != cell.len() {
            guarded += 1;
        }
        let (kept, cut) = match options.dialect.cell_limit() {
            Some(limit) => tabular::truncate_utf16(&guarded_cell, limit),
            None => (&*guarded_cell, false),
        };
        truncated += u64::from(cut);
        let kept = kept.len();
        *slot = (guarded_cell, kept);
    }
    writer.write_row(
        record.iter().map(|(cell, kept)| &cell.as_bytes()[..*kept]),
        buf,
    );
    *pending_rows += 1;
    counts.rows += 1;
    counts.guarded_cells += guarded;
    counts.truncated_cells += truncated + u64::from(context_cut);
}

/// Shortens `json` (the compact text of `value`) to at most `limit` UTF-16 units while it
/// stays JSON: a cell cut at the limit would leave text no reader parses (and the log's own
/// repair would take for a torn row). Long strings are cut first, each to the same length
/// with an ellipsis, so the keys and the short values (field, rule, line) stay whole; what
/// still does not fit becomes an excerpt of the text. Whether it was shortened.
fn fit_json(value: &serde_json::Value, limit: usize, json: &mut Vec<u8>) -> bool {
    let units = |b: &[u8]| String::from_utf8_lossy(b).encode_utf16().count();
    if json.len() <= limit || units(json) <= limit {
        return false;
    }
    let mut keep = limit / 2;
    while keep >= 16 {
        let mut cut = value.clone();
        cut_strings(&mut cut, keep);
        json.clear();
        let _ = serde_json::to_writer(&mut *json, &cut);
        if units(json) <= limit {
            return true;
        }
        keep /= 2;
    }
    let text = String::from_utf8_lossy(json).into_owned();
    let mut excerpt = tabular::truncate_utf16(&text, limit / 2).0;
    loop {
        json.clear();
        let _ = serde_json::to_writer(
            &mut *json,
            &serde_json::json!({"cut": true, "excerpt": excerpt}),
        );
        if units(json) <= limit {
            break;
        }
        // escaping grew it past the limit (quotes, control characters): half again
        excerpt = tabular::truncate_utf16(excerpt, excerpt.encode_utf16().count() / 2).0;
    }
    true
}

/// Cuts every string in `value` longer than `keep` characters to `keep` and an ellipsis.
fn cut_strings(value: &mut serde_json::Value, keep: usize) {
    match value {
        serde_json::Value::String(s) if s.chars().count() > keep => {
            let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
            s.truncate(end);
            s.push('…');
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| cut_strings(v, keep)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| cut_strings(v, keep)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_past_the_cell_limit_is_shortened_and_stays_json() {
        let units = |b: &[u8]| String::from_utf8_lossy(b).encode_utf16().count();
        let fit = |value: serde_json::Value, limit: usize| {
            let mut json = serde_json::to_vec(&value).unwrap();
            let cut = fit_json(&value, limit, &mut json);
            let back: serde_json::Value = serde_json::from_slice(&json).expect("still JSON");
            assert!(units(&json) <= limit, "{} > {limit}", units(&json));
            (cut, back)
        };
        // long strings are cut, the short values stay whole
        let (cut, back) = fit(
            serde_json::json!({"field": "note", "rule": "maxLength", "record": {"note": "é".repeat(40_000), "id": "a"}}),
            32_767,
        );
        assert!(cut);
        assert_eq!(
            (back["field"].as_str(), back["rule"].as_str()),
            (Some("note"), Some("maxLength"))
        );
        assert_eq!(back["record"]["id"], "a");
        assert!(back["record"]["note"].as_str().unwrap().ends_with('…'));
        // thousands of short values: an excerpt of the text, however it escapes
        let many: Vec<String> = (0..20_000).map(|i| format!("\"{i}")).collect();
        let (cut, back) = fit(serde_json::json!({"items": many}), 32_767);
        assert!(cut);
        assert_eq!(back["cut"], true);
        assert!(
            back["excerpt"]
                .as_str()
                .unwrap()
                .starts_with("{\"items\":[\"\\\"0\"")
        );
        // within the limit: as it was
        let (cut, back) = fit(serde_json::json!({"a": 1}), 32_767);
        assert!(!cut);
        assert_eq!(back, serde_json::json!({"a": 1}));
    }

    fn event(kind: &str, message: &str) -> ErrorEvent {
        ErrorEvent::new(kind, message)
            .with_ts(exporter_core::Timestamp::parse("2026-11-26T08:00:02.5Z").unwrap())
    }

    #[test]
    fn rows_are_quoted_guarded_and_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        let log = ErrorLog::open(&path, Options::default()).unwrap();
        log.set_campaign_id(Some("acme".into()));
        let mut e = event("HTTPError", "line1\nline \"2\", via http://u:pw@h:1");
        e.proxy = Some("http://u:pw@10.0.0.9:8080".into());
        e.context = Some(serde_json::json!({"proxy_url": "socks5://a:b@c:1", "n": 1e21}));
        log.log(&e).unwrap();
        log.log(&event("=cmd", "-2+3")).unwrap();
        log.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "\u{feff}timestamp,severity,kind,message,campaign_id,url,proxy,context\r\n\
             2026-11-26 08:00:02.500,error,HTTPError,\"line1\nline \"\"2\"\", via http://u:***@h:1\",acme,,http://u:***@10.0.0.9:8080,\"{\"\"n\"\":1e+21,\"\"proxy_url\"\":\"\"socks5://a:***@c:1\"\"}\"\r\n\
             2026-11-26 08:00:02.500,error,'=cmd,'-2+3,acme,,,\r\n"
        );
        assert_eq!(log.counts().guarded_cells, 2);
    }

    #[test]
    fn header_only_when_new_and_mismatch_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        for _ in 0..3 {
            let log = ErrorLog::open(&path, Options::default()).unwrap();
            log.log(&event("K", "m")).unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.windows(3).filter(|w| *w == BOM).count(), 1);
        assert!(bytes.starts_with(BOM));
        assert_eq!(
            String::from_utf8_lossy(&bytes)
                .matches("timestamp,")
                .count(),
            1
        );
        let semicolon = Options {
            delimiter: Delimiter::try_from(";".to_string()).unwrap(),
            ..Options::default()
        };
        let err = ErrorLog::open(&path, semicolon).err().unwrap();
        assert!(err.to_string().contains("\"timestamp;severity"), "{err}");
    }

    #[test]
    fn a_header_or_row_lacking_only_its_line_end_is_completed_not_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        let header = "\u{feff}timestamp,severity,kind,message,campaign_id,url,proxy,context";
        let row = "2026-11-26 08:00:02.500,error,A,m,,,,\"{\"\"n\"\":1}\"";
        let reopened = |bytes: &str| {
            std::fs::write(&path, bytes).unwrap();
            let log = ErrorLog::open(&path, Options::default()).unwrap();
            log.log(&event("B", "after")).unwrap();
            let counts = log.counts();
            drop(log);
            (std::fs::read_to_string(&path).unwrap(), counts)
        };
        let after = "2026-11-26 08:00:02.500,error,B,after,,,,\r\n";
        // a header without its line end, or cut short (a BOM alone, half a header)
        for torn in [header, "\u{feff}", &header[..20]] {
            let (text, counts) = reopened(torn);
            assert_eq!(text, format!("{header}\r\n{after}"), "{torn:?}");
            assert!(counts.created);
        }
        // a whole row without its CRLF, or without its LF
        for ending in ["", "\r"] {
            let (text, counts) = reopened(&format!("{header}\r\n{row}{ending}"));
            assert_eq!(text, format!("{header}\r\n{row}\r\n{after}"), "{ending:?}");
            assert_eq!(counts.repaired_bytes, 0);
        }
        // a row cut inside its context, or short of columns: cut away
        for torn in [
            &row[..row.len() - 3],
            "2026-11-26 08:00:02.500,error,A,m,,,",
        ] {
            let (text, counts) = reopened(&format!("{header}\r\n{torn}"));
            assert_eq!(text, format!("{header}\r\n{after}"), "{torn:?}");
            assert_eq!(counts.repaired_bytes, torn.len() as u64);
        }
    }

    #[test]
    fn torn_rows_are_cut_back_to_the_last_complete_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        let log = ErrorLog::open(
            &path,
            Options {
                dialect: Dialect::Unix,
                ..Options::default()
            },
        )
        .unwrap();
        log.log(&event("A", "multi\nline")).unwrap();
        drop(log);
        let good = std::fs::read(&path).unwrap();
        for torn in [
            "2026-11-26T08:00:02.5Z,error,B,\"half\nrow",
            "2026-11-26T08:00:02.5Z,err",
        ] {
            let mut bytes = good.clone();
            bytes.extend_from_slice(torn.as_bytes());
            std::fs::write(&path, &bytes).unwrap();
            let log = ErrorLog::open(
                &path,
                Options {
                    dialect: Dialect::Unix,
                    ..Options::default()
                },
            )
            .unwrap();
            assert_eq!(log.counts().repaired_bytes, torn.len() as u64);
            drop(log);
            assert_eq!(std::fs::read(&path).unwrap(), good);
        }
    }
}
