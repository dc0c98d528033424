//! What a cell's text is: the formula guard, the spreadsheet cell limit, and numbers written
//! with all their digits and never with an exponent.

use std::borrow::Cow;

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
/// use exporter_tabular::needs_guard;
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
/// use exporter_tabular::{guard, unguard};
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
/// use exporter_tabular::guard;
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
/// use exporter_tabular::truncate_utf16;
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
/// use exporter_tabular::write_number;
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
