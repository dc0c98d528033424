//! The four dialects (docs/contract.md §4.1): encoding, line ending, formula guard default,
//! row limit, cell limit, booleans and how date-times are written; and the field delimiter.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A CSV dialect: encoding, line ending, formula guard default, row limit, booleans.
///
/// ```
/// use exporter_tabular::Dialect;
/// assert_eq!(Dialect::Excel.line_end(), b"\r\n");
/// assert_eq!(Dialect::Unix.line_end(), b"\n");
/// assert_eq!(Dialect::Excel.max_rows(), Some(1_048_575));
/// assert_eq!(Dialect::Sheets.cell_limit(), Some(50_000));
/// assert_eq!(Dialect::Rfc4180.booleans(), ("true", "false"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
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

    /// Writes a date-time as this dialect does, after what `out` holds: Excel gets UTC as
    /// `YYYY-MM-DD HH:MM:SS` (`.fff` when there is a fraction), which Excel and Calc read as a
    /// date-time; the others get RFC 3339. Returns `false`, writing nothing, when the
    /// dialect cannot hold the instant: in UTC its year leaves 0000-9999
    /// (`9999-12-31T23:59:59-14:00` is in year 10000 once in UTC).
    ///
    /// ```
    /// use exporter_tabular::Dialect;
    /// use time::{OffsetDateTime, format_description::well_known::Rfc3339};
    /// let ts = OffsetDateTime::parse("2026-11-26T09:00:01.25+01:00", &Rfc3339).unwrap();
    /// let mut cell = String::new();
    /// assert!(Dialect::Excel.write_datetime(&ts, &mut cell));
    /// assert_eq!(cell, "2026-11-26 08:00:01.250");
    /// cell.clear();
    /// assert!(Dialect::Unix.write_datetime(&ts, &mut cell));
    /// assert_eq!(cell, "2026-11-26T09:00:01.25+01:00");
    /// let late = OffsetDateTime::parse("9999-12-31T23:59:59-14:00", &Rfc3339).unwrap();
    /// cell.clear();
    /// assert!(!Dialect::Excel.write_datetime(&late, &mut cell));
    /// assert!(cell.is_empty());
    /// ```
    #[must_use = "a date-time the dialect cannot hold is not written"]
    pub fn write_datetime(self, ts: &OffsetDateTime, out: &mut String) -> bool {
        use std::fmt::Write;
        match self {
            Dialect::Excel => excel_datetime(ts, out),
            _ => {
                let _ = write!(out, "{}", Rfc3339Text(ts));
                true
            }
        }
    }
}

/// The UTC date-time of `ts` as Excel reads it; `false` when its UTC year has not four digits.
fn excel_datetime(ts: &OffsetDateTime, out: &mut String) -> bool {
    let Some(t) = ts
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
/// use exporter_tabular::Delimiter;
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

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for Delimiter {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Delimiter".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": 1,
            "description": "One ASCII character other than a quote, CR or LF."
        })
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

/// RFC 3339 text of a date-time, as the stream gave it (offset kept). Years past 9999 and
/// offsets with seconds, which RFC 3339 cannot hold, are written as `time` shows them.
struct Rfc3339Text<'a>(&'a OffsetDateTime);

impl std::fmt::Display for Rfc3339Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use time::format_description::well_known::Rfc3339;
        match self.0.format(&Rfc3339) {
            Ok(text) => f.write_str(&text),
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn excel_datetimes_are_written_as_format_would(secs in -62_000_000_000i64..253_000_000_000, ms in 0u32..1000) {
            let t = OffsetDateTime::from_unix_timestamp(secs).unwrap()
                + time::Duration::milliseconds(ms.into());
            let ts = t;
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

    }
}
