//! What every CSV output shares (SPEC section 4.1): the four dialects, RFC 4180 writing, the
//! formula guard, spreadsheet cell limits, and how numbers, booleans and date-times become
//! cell text. The results table and the error log both use it, so they agree byte for byte.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::event::Timestamp;

/// A CSV dialect: encoding, line ending, formula guard default, row limit, booleans.
///
/// ```
/// use exporter_core::tabular::Dialect;
/// assert_eq!(Dialect::Excel.line_end(), b"\r\n");
/// assert_eq!(Dialect::Unix.line_end(), b"\n");
/// assert_eq!(Dialect::Excel.max_rows(), Some(1_048_575));
/// assert_eq!(Dialect::Sheets.cell_limit(), Some(50_000));
/// assert_eq!(Dialect::Rfc4180.booleans(), ("true", "false"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// UTF-8 with BOM, CRLF, guarded, 1,048,575 data rows per file, TRUE/FALSE, Excel date-times.
    #[default]
    Excel,
    /// UTF-8, CRLF, guarded, TRUE/FALSE.
    Sheets,
    /// UTF-8, CRLF, unguarded, true/false.
    Rfc4180,
    /// UTF-8, LF, unguarded, true/false.
    Unix,
}

/// The UTF-8 byte order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Dialect {
    /// The manifest name.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Excel => "excel",
            Dialect::Sheets => "sheets",
            Dialect::Rfc4180 => "rfc4180",
            Dialect::Unix => "unix",
        }
    }

    /// Whether a new file starts with the UTF-8 BOM (Excel needs it to read UTF-8).
    pub fn bom(self) -> bool {
        self == Dialect::Excel
    }

    /// The line terminator.
    pub fn line_end(self) -> &'static [u8] {
        match self {
            Dialect::Unix => b"\n",
            _ => b"\r\n",
        }
    }

    /// Whether the formula guard is on unless the manifest says otherwise.
    pub fn guards_formulas(self) -> bool {
        matches!(self, Dialect::Excel | Dialect::Sheets)
    }

    /// Data rows per file before rolling over (Excel's sheet holds 1,048,576 rows, one is
    /// the header).
    pub fn max_rows(self) -> Option<u64> {
        match self {
            Dialect::Excel => Some(1_048_575),
            _ => None,
        }
    }

    /// Longest cell in UTF-16 code units, as the spreadsheet counts.
    pub fn cell_limit(self) -> Option<usize> {
        match self {
            Dialect::Excel => Some(32_767),
            Dialect::Sheets => Some(50_000),
            _ => None,
        }
    }

    /// The text of `true` and `false`.
    pub fn booleans(self) -> (&'static str, &'static str) {
        match self {
            Dialect::Excel | Dialect::Sheets => ("TRUE", "FALSE"),
            _ => ("true", "false"),
        }
    }

    /// Appends one row to `out`: cells joined by `delimiter`, each quoted exactly where RFC
    /// 4180 needs it (a delimiter, a quote, CR or LF inside; quotes doubled), then the
    /// dialect's line ending. A row of one empty cell is written `""`, so it is not a blank
    /// line. What the `csv` crate's writer does with `QuoteStyle::Necessary`, without its
    /// byte-by-byte state machine: cells are searched with `memchr`.
    ///
    /// ```
    /// let mut out = Vec::new();
    /// exporter_core::tabular::Dialect::Excel.write_row(b',', ["a,b", "say \"hi\"", "plain"], &mut out);
    /// assert_eq!(out, b"\"a,b\",\"say \"\"hi\"\"\",plain\r\n");
    /// ```
    pub fn write_row<I, T>(self, delimiter: u8, cells: I, out: &mut Vec<u8>)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let start = out.len();
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                out.push(delimiter);
            }
            let cell = cell.as_ref();
            let special = |b: &u8| matches!(*b, b'"' | b'\n' | b'\r') || *b == delimiter;
            // most cells are short: a plain loop beats setting up two vector searches
            let quoted = if cell.len() < 64 {
                cell.iter().any(special)
            } else {
                memchr::memchr3(delimiter, b'"', b'\n', cell).is_some()
                    || memchr::memchr(b'\r', cell).is_some()
            };
            if !quoted {
                out.extend_from_slice(cell);
                continue;
            }
            out.push(b'"');
            let mut from = 0;
            for q in memchr::memchr_iter(b'"', cell) {
                out.extend_from_slice(&cell[from..=q]);
                out.push(b'"');
                from = q + 1;
            }
            out.extend_from_slice(&cell[from..]);
            out.push(b'"');
        }
        if out.len() == start {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(self.line_end());
    }

    /// Writes a date-time as this dialect does, after what `out` holds: Excel gets UTC as
    /// `YYYY-MM-DD HH:MM:SS` (`.fff` when there is a fraction), which Excel and Calc read as a
    /// date-time; the others get RFC 3339. Returns `false`, writing nothing, when the
    /// dialect cannot hold the instant: in UTC its year leaves 0000-9999
    /// (`9999-12-31T23:59:59-14:00` is in year 10000 once in UTC).
    ///
    /// ```
    /// use exporter_core::{Timestamp, tabular::Dialect};
    /// let ts = Timestamp::parse("2026-11-26T09:00:01.25+01:00").unwrap();
    /// let mut cell = String::new();
    /// assert!(Dialect::Excel.write_datetime(&ts, &mut cell));
    /// assert_eq!(cell, "2026-11-26 08:00:01.250");
    /// cell.clear();
    /// assert!(Dialect::Unix.write_datetime(&ts, &mut cell));
    /// assert_eq!(cell, "2026-11-26T09:00:01.25+01:00");
    /// let late = Timestamp::parse("9999-12-31T23:59:59-14:00").unwrap();
    /// cell.clear();
    /// assert!(!Dialect::Excel.write_datetime(&late, &mut cell));
    /// assert!(cell.is_empty());
    /// ```
    #[must_use = "a date-time the dialect cannot hold is not written"]
    pub fn write_datetime(self, ts: &Timestamp, out: &mut String) -> bool {
        use std::fmt::Write;
        match self {
            Dialect::Excel => excel_datetime(ts, out),
            _ => {
                let _ = write!(out, "{ts}");
                true
            }
        }
    }
}

/// The UTC date-time of `ts` as Excel reads it; `false` when its UTC year has not four digits.
fn excel_datetime(ts: &Timestamp, out: &mut String) -> bool {
    let Some(t) = ts
        .as_offset_datetime()
        .checked_to_offset(time::UtcOffset::UTC)
        .filter(|t| (0..=9999).contains(&t.year()))
    else {
        return false;
    };
    // digit by digit: this runs for every date-time cell of a large table
    let mut push = |n: u32, width: u32, sep: Option<char>| {
        out.extend(sep);
        for p in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10u32.pow(p) % 10) as u8));
        }
    };
    push(t.year() as u32, 4, None);
    push(u8::from(t.month()).into(), 2, Some('-'));
    push(t.day().into(), 2, Some('-'));
    push(t.hour().into(), 2, Some(' '));
    push(t.minute().into(), 2, Some(':'));
    push(t.second().into(), 2, Some(':'));
    if t.nanosecond() != 0 {
        push(t.millisecond().into(), 3, Some('.'));
    }
    true
}

/// A field delimiter: one ASCII character other than a quote, CR or LF (`","` by default).
///
/// ```
/// use exporter_core::tabular::Delimiter;
/// let d: Delimiter = serde_json::from_str("\";\"").unwrap();
/// assert_eq!(d.byte(), b';');
/// assert!(serde_json::from_str::<Delimiter>("\"ab\"").is_err());
/// assert_eq!(Delimiter::default().byte(), b',');
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Delimiter(u8);

impl Delimiter {
    /// The delimiter byte.
    pub fn byte(self) -> u8 {
        self.0
    }
}

impl Default for Delimiter {
    fn default() -> Self {
        Delimiter(b',')
    }
}

impl TryFrom<String> for Delimiter {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_bytes() {
            [b] if b.is_ascii() && !matches!(b, b'"' | b'\r' | b'\n') => Ok(Delimiter(*b)),
            _ => Err(format!(
                "delimiter must be one ASCII character other than a quote, CR or LF, got {s:?}"
            )),
        }
    }
}

impl From<Delimiter> for String {
    fn from(d: Delimiter) -> String {
        (d.0 as char).to_string()
    }
}

/// Whether a string cell needs the formula guard (OWASP CSV injection): it begins with `=`,
/// `@`, tab or CR, or with `+`/`-` followed by anything but an *inert tail* (one or more
/// characters, at least one a digit, all digits, spaces or `( ) . , / -`), so phone numbers
/// and signed numbers held as text are left alone.
///
/// Text that already starts with `'`s before such a start is guarded too (`'=x` becomes
/// `''=x`, as Excel itself writes a leading apostrophe): the guard then reads back one way
/// only ([`unguard`]), so two different values never share a cell.
///
/// ```
/// use exporter_core::tabular::needs_guard;
/// for s in ["=1+1", "@SUM(A1)", "\tx", "\rx", "+1+1", "-2+3", "-", "+", "-x", "'=x", "''@x"] {
///     assert!(needs_guard(s), "{s:?}");
/// }
/// for s in ["+1 555 0100", "+49 (30) 123-456", "-5", "-0.5", "0049", "a=b", "", "'x", "'"] {
///     assert!(!needs_guard(s), "{s:?}");
/// }
/// ```
pub fn needs_guard(cell: &str) -> bool {
    let mut chars = cell.trim_start_matches('\'').chars();
    match chars.next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => {
            let tail = chars.as_str();
            let inert = !tail.is_empty()
                && tail.chars().any(|c| c.is_ascii_digit())
                && tail.chars().all(|c| {
                    c.is_ascii_digit() || matches!(c, ' ' | '(' | ')' | '.' | ',' | '/' | '-')
                });
            !inert
        }
        _ => false,
    }
}

/// The value a cell written with the guard stands for: [`guard`] undone. Text that the guard
/// would not have written is returned as it is.
///
/// ```
/// use exporter_core::tabular::{guard, unguard};
/// for value in ["=1+1", "'=1+1", "''=x", "'plain", "+1 555 0100", "-x"] {
///     assert_eq!(unguard(&guard(value)), value);
/// }
/// ```
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

/// Applies the guard: a leading `'` where [`needs_guard`] says so.
///
/// ```
/// use exporter_core::tabular::guard;
/// assert_eq!(guard("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
/// assert_eq!(guard("+1 555 0100"), "+1 555 0100");
/// ```
pub fn guard(cell: &str) -> Cow<'_, str> {
    if needs_guard(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Cuts `cell` to at most `limit` UTF-16 code units without splitting a character; returns
/// the kept prefix and whether anything was cut.
///
/// ```
/// use exporter_core::tabular::truncate_utf16;
/// assert_eq!(truncate_utf16("abc", 2), ("ab", true));
/// assert_eq!(truncate_utf16("a😀b", 2), ("a", true)); // the emoji takes two units
/// assert_eq!(truncate_utf16("a😀b", 3), ("a😀", true));
/// assert_eq!(truncate_utf16("ab", 2), ("ab", false));
/// ```
pub fn truncate_utf16(cell: &str, limit: usize) -> (&str, bool) {
    // Fast path: even if every byte were one unit, it fits.
    if cell.len() <= limit {
        return (cell, false);
    }
    let mut units = 0;
    for (i, c) in cell.char_indices() {
        units += c.len_utf16();
        if units > limit {
            return (&cell[..i], true);
        }
    }
    (cell, false)
}

/// Writes a JSON number as cell text after what `out` holds: integers keep all their digits
/// whatever their size; other numbers become the shortest decimal text that reads back to the
/// same value, never in exponent form.
///
/// ```
/// use exporter_core::tabular::write_number;
/// let cell = |text: &str| {
///     let mut out = String::new();
///     write_number(text, &mut out);
///     out
/// };
/// assert_eq!(cell("9007199254740993"), "9007199254740993");
/// assert_eq!(cell("1e21"), "1000000000000000000000");
/// assert_eq!(cell("0.30000000000000004"), "0.30000000000000004");
/// assert_eq!(cell("4.50"), "4.5");
/// assert_eq!(cell("1.5E-7"), "0.00000015");
/// assert_eq!(cell("-0.0"), "-0");
/// assert_eq!(cell("1e400"), format!("1{}", "0".repeat(400)));
/// ```
pub fn write_number(text: &str, out: &mut String) {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return out.push_str(text);
    }
    if let Some(short) = plain_decimal(text) {
        return out.push_str(short);
    }
    shortest_via_f64(text, out)
}

/// `[-]digits.digits` with at most 15 digits in all is already the shortest text for its
/// `f64` once trailing zeros go (no other decimal of 15 digits or fewer reads back to the
/// same `f64`), so it needs no round trip through one.
fn plain_decimal(text: &str) -> Option<&str> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = digits.split_once('.')?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) || int.len() + frac.len() > 15 {
        return None;
    }
    if int.len() > 1 && int.starts_with('0') {
        return None; // not JSON; let the general path decide
    }
    Some(text.trim_end_matches('0').trim_end_matches('.'))
}

fn shortest_via_f64(text: &str, out: &mut String) {
    use std::fmt::Write;
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => {
            let _ = write!(out, "{f}");
        }
        _ => out.push_str(&expand_exponent(text)),
    }
}

/// Exact decimal expansion of `[-]digits[.digits][e[+-]digits]` (for values beyond `f64`).
fn expand_exponent(text: &str) -> String {
    let (neg, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all: String = format!("{int}{frac}");
    let point = int.len() as i64 + exp; // position of the decimal point in `all`
    let mut s = if point <= 0 {
        format!("0.{}{}", "0".repeat((-point) as usize), all)
    } else if point as usize >= all.len() {
        format!("{all}{}", "0".repeat(point as usize - all.len()))
    } else {
        format!("{}.{}", &all[..point as usize], &all[point as usize..])
    };
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    let s = s.trim_start_matches('0');
    let s = if s.is_empty() || s.starts_with('.') {
        format!("0{s}")
    } else {
        s.to_string()
    };
    if neg { format!("-{s}") } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the `csv` crate writes for `cells` with this dialect's settings.
    fn csv_crate_row(dialect: Dialect, delimiter: u8, cells: &[String]) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .quote_style(csv::QuoteStyle::Necessary)
            .double_quote(true)
            .terminator(match dialect {
                Dialect::Unix => csv::Terminator::Any(b'\n'),
                _ => csv::Terminator::CRLF,
            })
            .from_writer(Vec::new());
        w.write_record(cells).unwrap();
        w.into_inner().unwrap()
    }

    proptest::proptest! {
        #[test]
        fn rows_are_written_as_the_csv_crate_writes_them(
            cells in proptest::collection::vec("[a\",;\t\r\n é=]{0,6}|[a-z ]{60,70}[\",;\r\n]?[a-z]{0,3}", 1..5),
            unix in proptest::bool::ANY,
            delimiter in proptest::sample::select(vec![b',', b';', b'\t']),
        ) {
            let dialect = if unix { Dialect::Unix } else { Dialect::Excel };
            let mut out = Vec::new();
            dialect.write_row(delimiter, &cells, &mut out);
            proptest::prop_assert_eq!(out, csv_crate_row(dialect, delimiter, &cells));
        }
    }

    #[test]
    fn expands_big_exponents_exactly() {
        assert_eq!(expand_exponent("1.25e3"), "1250");
        assert_eq!(expand_exponent("-12.5e-3"), "-0.0125");
        assert_eq!(expand_exponent("1e400"), format!("1{}", "0".repeat(400)));
        assert_eq!(expand_exponent("1e-400"), format!("0.{}1", "0".repeat(399)));
    }

    proptest::proptest! {
        #[test]
        fn number_cells_read_back_to_the_same_f64(f in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
            for text in [format!("{f:e}"), format!("{f}"), format!("{f:E}")] {
                let mut cell = String::new();
                write_number(&text, &mut cell);
                proptest::prop_assert!(!cell.contains(['e', 'E']), "{cell}");
                proptest::prop_assert_eq!(cell.parse::<f64>().unwrap(), f);
            }
        }

        #[test]
        fn excel_datetimes_are_written_as_format_would(secs in -62_000_000_000i64..253_000_000_000, ms in 0u32..1000) {
            let ts = Timestamp::from_unix_seconds(secs).unwrap();
            let ts = Timestamp::parse(&format!("{}", ts).replace('Z', &format!(".{ms:03}Z"))).unwrap();
            let t = ts.as_offset_datetime();
            let mut want = format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second()
            );
            if t.nanosecond() != 0 {
                want.push_str(&format!(".{:03}", t.millisecond()));
            }
            let mut cell = String::new();
            let written = excel_datetime(&ts, &mut cell);
            proptest::prop_assert_eq!(written, (0..=9999).contains(&t.year()));
            if written {
                proptest::prop_assert_eq!(cell, want);
            }
        }

        #[test]
        fn plain_decimals_skip_the_round_trip_and_agree_with_it(
            neg in proptest::bool::ANY, int in "0|[1-9][0-9]{0,7}", frac in "[0-9]{1,7}",
        ) {
            let text = format!("{}{int}.{frac}", if neg { "-" } else { "" });
            let (mut fast, mut slow) = (String::new(), String::new());
            write_number(&text, &mut fast);
            shortest_via_f64(&text, &mut slow);
            proptest::prop_assert_eq!(fast, slow);
        }

        #[test]
        fn truncation_never_splits_and_respects_the_limit(s in "\\PC{0,40}", limit in 0usize..50) {
            let (kept, cut) = truncate_utf16(&s, limit);
            proptest::prop_assert!(kept.encode_utf16().count() <= limit || !cut && s.encode_utf16().count() <= limit);
            proptest::prop_assert!(s.starts_with(kept));
            proptest::prop_assert_eq!(cut, kept.len() < s.len());
        }
    }
}
