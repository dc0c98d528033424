//! Writing rows: RFC 4180 with `csv-core`'s writer, the engine of the `csv` crate.

use csv_core::{QuoteStyle, Terminator, WriteResult, Writer, WriterBuilder};

use crate::Dialect;

/// Writes rows of a dialect: cells joined by the delimiter, each quoted exactly where RFC
/// 4180 needs it (a delimiter, a quote, CR or LF inside; quotes doubled), then the dialect's
/// line ending. A row of one empty cell is written `""`, so it is not a blank line. Keep one
/// per file: it holds `csv-core`'s writer and its quoting table.
///
/// ```
/// use exporter_tabular::{Dialect, RowWriter};
/// let mut writer = RowWriter::new(Dialect::Excel, b',');
/// let mut out = Vec::new();
/// writer.write_row(["a,b", "say \"hi\"", "plain"], &mut out);
/// writer.write_row([""], &mut out);
/// assert_eq!(out, b"\"a,b\",\"say \"\"hi\"\"\",plain\r\n\"\"\r\n");
/// ```
#[derive(Debug)]
pub struct RowWriter {
    inner: Writer,
    /// Where `csv-core` writes a row (it takes a slice): kept from row to row, so it is
    /// zeroed once as it grows, not for every cell; the row is copied out at its end.
    room: Vec<u8>,
}

impl RowWriter {
    /// A writer of `dialect`'s rows with cells split by `delimiter`.
    pub fn new(dialect: Dialect, delimiter: u8) -> Self {
        RowWriter {
            inner: WriterBuilder::new()
                .delimiter(delimiter)
                .quote_style(QuoteStyle::Necessary)
                .double_quote(true)
                .terminator(match dialect.line_end() {
                    b"\n" => Terminator::Any(b'\n'),
                    _ => Terminator::CRLF,
                })
                .build(),
            room: Vec::new(),
        }
    }

    /// Appends one row to `out`.
    pub fn write_row<I, T>(&mut self, cells: I, out: &mut Vec<u8>)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut at = 0;
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                at = self.put(at, 2, |w, o| w.delimiter(o));
            }
            let cell = cell.as_ref();
            // quoting at most doubles a cell and adds its two quotes
            at = self.put(at, 2 * cell.len() + 2, |w, o| {
                let (result, _, written) = w.field(cell, o);
                (result, written)
            });
        }
        at = self.put(at, 4, |w, o| w.terminator(o));
        out.extend_from_slice(&self.room[..at]);
    }

    /// Runs one step of the writer at byte `at` of the room, with `needed` bytes free after
    /// it; where the row has got to.
    fn put(
        &mut self,
        at: usize,
        needed: usize,
        step: impl FnOnce(&mut Writer, &mut [u8]) -> (WriteResult, usize),
    ) -> usize {
        if self.room.len() < at + needed {
            self.room.resize((at + needed).next_power_of_two(), 0);
        }
        let (result, written) = step(&mut self.inner, &mut self.room[at..]);
        debug_assert!(
            matches!(result, WriteResult::InputEmpty),
            "room for the step"
        );
        at + written
    }
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
            rows in proptest::collection::vec(proptest::collection::vec(
                "[a\",;\t\r\n é=]{0,6}|[a-z ]{60,70}[\",;\r\n]?[a-z]{0,3}", 1..5), 1..4),
            unix in proptest::bool::ANY,
            delimiter in proptest::sample::select(vec![b',', b';', b'\t']),
        ) {
            let dialect = if unix { Dialect::Unix } else { Dialect::Excel };
            let mut writer = RowWriter::new(dialect, delimiter);
            let mut out = Vec::new();
            let mut want = Vec::new();
            for cells in &rows {
                writer.write_row(cells, &mut out);
                want.extend(csv_crate_row(dialect, delimiter, cells));
            }
            proptest::prop_assert_eq!(out, want);
        }
    }
}
