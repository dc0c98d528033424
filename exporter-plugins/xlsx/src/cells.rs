//! A record's values as typed workbook cells, and the one text of a cell that keys and checks
//! compare: the sink computes it from the cell it writes, the validator from the cell it reads
//! back, so the two agree by construction.

use std::fmt::Write as _;

use exporter_tabular::Dialect;
use table_schema::{CellEffects, CellFormat, Field, FieldType, FieldValue, parse_datetime};
use time::{Date, Duration, Month, PrimitiveDateTime, Time, UtcOffset};

/// The largest integer a double holds exactly: beyond it an integer is written as text.
pub const EXACT_INTEGER: f64 = 9_007_199_254_740_992.0; // 2^53

/// A cell as the workbook holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// No value.
    Empty,
    /// Text, written as a string (never a formula).
    Text(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A calendar date (shown `yyyy-mm-dd`).
    Date(Date),
    /// A UTC date-time to the millisecond (shown `yyyy-mm-dd hh:mm:ss`).
    DateTime(PrimitiveDateTime),
}

/// What rendering a value as a typed cell did, beyond [`CellEffects`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fallbacks {
    /// An integer beyond 2^53, written as text so no digit is lost.
    pub integer_as_text: bool,
    /// A date or date-time before 1 March 1900 (Excel shows none of them right), written as
    /// text.
    pub date_as_text: bool,
}

/// The double of an integer literal when the double holds it exactly (|n| <= 2^53): a
/// literal of digits is compared as an integer, so 2^53 + 1 (which a double reads as 2^53)
/// is not taken for one.
///
/// ```
/// use exporter_xlsx::exact_integer;
/// assert_eq!(exact_integer("9007199254740992"), Some(9007199254740992.0));
/// assert_eq!(exact_integer("9007199254740993"), None);
/// assert_eq!(exact_integer("-12"), Some(-12.0));
/// assert_eq!(exact_integer("1e3"), Some(1000.0));
/// assert_eq!(exact_integer("9007199254740993.0"), None);
/// ```
pub fn exact_integer(literal: &str) -> Option<f64> {
    match literal.parse::<i128>() {
        Ok(n) if n.unsigned_abs() <= 1u128 << 53 => Some(n as f64),
        Ok(_) => None,
        // an exponent or a fraction: only what is clearly inside the exact range
        Err(_) => literal
            .parse::<f64>()
            .ok()
            .filter(|f| f.abs() < EXACT_INTEGER && f.fract() == 0.0),
    }
}

/// Whether Excel shows `date` as itself: its 1900 date system starts in 1900 and counts a
/// 29 February 1900 that never was, so days before 1 March 1900 would show a day off.
fn excel_epoch_ok(date: Date) -> bool {
    date >= Date::from_calendar_date(1900, Month::March, 1).expect("a valid date")
}

/// Renders `value` of `field` as a typed cell. `text` is the Excel dialect's rendering of the
/// value (cut at 32,767 UTF-16 units, no formula guard: a workbook holds strings as strings),
/// used for text cells; `effects` say whether it was cut or cannot be written at all.
pub fn render(
    field: &Field,
    value: &FieldValue<'_>,
    missing: bool,
    format: &CellFormat,
    text: &mut String,
) -> (Cell, CellEffects, Fallbacks) {
    let effects = format.write(field, value, missing, text);
    let mut fallbacks = Fallbacks::default();
    if missing || effects.unwritable {
        return (Cell::Empty, effects, fallbacks);
    }
    let cell = match (field.ty, value) {
        (FieldType::Integer, FieldValue::Num(n)) => match exact_integer(n) {
            Some(f) => Cell::Number(f),
            None => {
                fallbacks.integer_as_text = true;
                Cell::Text(text.clone())
            }
        },
        (FieldType::Number, FieldValue::Num(n)) => match n.parse::<f64>() {
            Ok(f) if f.is_finite() => Cell::Number(f),
            _ => Cell::Text(text.clone()),
        },
        (FieldType::Boolean, FieldValue::Bool(b)) => Cell::Bool(*b),
        (FieldType::Date, FieldValue::Str(s)) => {
            match Date::parse(s, &time::format_description::well_known::Iso8601::DATE) {
                Ok(d) if excel_epoch_ok(d) => Cell::Date(d),
                _ => {
                    fallbacks.date_as_text = true;
                    Cell::Text(text.clone())
                }
            }
        }
        (FieldType::Datetime, FieldValue::Str(s)) => match parse_datetime(s) {
            Some(t) => {
                let utc = t.to_offset(UtcOffset::UTC);
                // to the millisecond, as the excel dialect writes it
                let ms = utc.millisecond();
                let at = PrimitiveDateTime::new(
                    utc.date(),
                    Time::from_hms_milli(utc.hour(), utc.minute(), utc.second(), ms)
                        .expect("a valid time"),
                );
                if excel_epoch_ok(at.date()) {
                    Cell::DateTime(at)
                } else {
                    fallbacks.date_as_text = true;
                    Cell::Text(text.clone())
                }
            }
            None => Cell::Text(text.clone()),
        },
        _ if text.is_empty() => Cell::Empty,
        _ => Cell::Text(text.clone()),
    };
    (cell, effects, fallbacks)
}

/// The text of a cell that keys compare and that [`CellFormat::verdict`] (the Excel dialect,
/// no guard) checks against the field: numbers as their shortest exact decimal, booleans
/// `TRUE`/`FALSE`, dates `YYYY-MM-DD`, date-times `YYYY-MM-DD HH:MM:SS[.fff]`.
///
/// ```
/// use exporter_xlsx::{Cell, cell_text};
/// let mut out = String::new();
/// cell_text(&Cell::Number(1e21), &mut out);
/// assert_eq!(out, "1000000000000000000000");
/// cell_text(&Cell::Number(4.5), &mut out);
/// assert_eq!(out, "4.5");
/// ```
pub fn cell_text(cell: &Cell, out: &mut String) {
    out.clear();
    match cell {
        Cell::Empty => {}
        Cell::Text(s) => out.push_str(s),
        // Rust prints the shortest decimal that reads back to the same double, never with an
        // exponent
        Cell::Number(f) => {
            let _ = write!(out, "{f}");
        }
        Cell::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
        Cell::Date(d) => {
            let _ = write!(
                out,
                "{:04}-{:02}-{:02}",
                d.year(),
                u8::from(d.month()),
                d.day()
            );
        }
        Cell::DateTime(t) => {
            let _ = write!(
                out,
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            );
            if t.millisecond() != 0 {
                let _ = write!(out, ".{:03}", t.millisecond());
            }
        }
    }
}

/// The cell format the validator checks with: the Excel dialect's readings, without the
/// formula guard (a workbook's strings are never formulas).
pub fn check_format(array_separator: &str) -> CellFormat {
    CellFormat {
        dialect: Dialect::Excel,
        array_separator: array_separator.to_string(),
        guard: false,
    }
}

/// The Excel serial number of a date-time (days since 1899-12-30, the fraction the time).
pub fn serial(at: PrimitiveDateTime) -> f64 {
    let epoch = Date::from_calendar_date(1899, Month::December, 30).expect("a valid date");
    let days = (at.date() - epoch).whole_days() as f64;
    let ms = f64::from(at.hour()) * 3_600_000.0
        + f64::from(at.minute()) * 60_000.0
        + f64::from(at.second()) * 1000.0
        + f64::from(at.millisecond());
    days + ms / 86_400_000.0
}

/// The date-time of an Excel serial number, to the millisecond.
///
/// ```
/// use exporter_xlsx::{from_serial, serial};
/// let at = time::macros::datetime!(2026-11-26 08:00:01.250);
/// assert_eq!(from_serial(serial(at)), Some(at));
/// ```
pub fn from_serial(value: f64) -> Option<PrimitiveDateTime> {
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let epoch = PrimitiveDateTime::new(
        Date::from_calendar_date(1899, Month::December, 30).ok()?,
        Time::MIDNIGHT,
    );
    let ms = (value * 86_400_000.0).round();
    epoch.checked_add(Duration::milliseconds(ms as i64))
}
