//! Reading a written table back, row by row: cells split by `csv-core`'s reader (the engine
//! of the `csv` crate: RFC 4180 quoting with `""` for a quote inside quotes; CR, LF or CRLF
//! ending a row; blank lines skipped; text after a closing quote kept), and, in the same
//! pass over the bytes, the framing a dialect promises, which no CSV reader checks: each row's
//! line ending, and a last row that ends (a torn write does not).

use std::io::{self, Read};
use std::ops::Range;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};

/// One row: the bytes of its cells back to back, quoting undone, and where each cell ends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Row {
    /// How many cells the row has.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the row has no cell.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes of all cells, back to back.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    /// Where cell `i` lies in [`as_slice`](Row::as_slice).
    pub fn range(&self, i: usize) -> Option<Range<usize>> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(start..end)
    }

    /// The cells in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|i| &self.bytes[self.range(i).expect("a cell")])
    }
}

/// What the framing showed, once the reader is exhausted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FramingReport {
    /// The first row (0 for the header) ending with a line ending the dialect does not write.
    pub wrong_terminator_row: Option<u64>,
    /// Whether the input's last byte was a line feed (or the input was empty).
    pub ends_with_newline: bool,
}

/// Where the framing scan is in the bytes, in the terms RFC 4180 reads them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a row (blank lines are skipped here).
    StartRow,
    /// Before a cell.
    StartCell,
    /// In a cell without quotes (a quote there is text).
    Unquoted,
    /// Inside quotes.
    Quoted,
    /// Just after a quote inside quotes: the closing one, or the first of `""`.
    QuoteInQuoted,
}

/// The raw framing check, which `csv-core` does not make: which line endings end rows.
struct Framing {
    crlf: bool,
    delimiter: u8,
    state: State,
    /// A CR was the last byte: what follows tells a CRLF from a lone CR. Holds the row it
    /// ended (or the next row's index for a blank line).
    pending_cr: Option<u64>,
    rows: u64,
    wrong_row: Option<u64>,
    last_byte: u8,
}

impl Framing {
    fn note(&mut self, right: bool, row: u64) {
        if !right && self.wrong_row.is_none() {
            self.wrong_row = Some(row);
        }
    }

    /// A line ending (its first byte, `b`) in the current state.
    fn line_end(&mut self, b: u8) {
        let row = self.rows;
        if self.state != State::StartRow {
            self.rows += 1; // it ends a row; a blank line is noted as the next row's
        }
        self.state = State::StartRow;
        if b == b'\r' {
            self.pending_cr = Some(row);
        } else {
            self.note(!self.crlf, row); // an LF alone
        }
    }

    fn scan(&mut self, bytes: &[u8]) {
        let Some(&last) = bytes.last() else {
            return;
        };
        self.last_byte = last;
        let mut at = 0;
        while at < bytes.len() {
            let b = bytes[at];
            if let Some(row) = self.pending_cr.take() {
                if b == b'\n' {
                    self.note(self.crlf, row);
                    at += 1;
                    continue;
                }
                self.note(false, row); // a lone CR
            }
            match self.state {
                State::StartRow | State::StartCell if b == b'"' => self.state = State::Quoted,
                State::StartRow | State::StartCell | State::Unquoted | State::QuoteInQuoted => {
                    match b {
                        b'\r' | b'\n' => self.line_end(b),
                        _ if b == self.delimiter => self.state = State::StartCell,
                        b'"' if self.state == State::QuoteInQuoted => self.state = State::Quoted,
                        _ => {
                            self.state = State::Unquoted;
                            // the rest of an unquoted cell, at once
                            let rest = &bytes[at + 1..];
                            at += memchr::memchr3(self.delimiter, b'\r', b'\n', rest)
                                .unwrap_or(rest.len());
                        }
                    }
                }
                State::Quoted => match memchr::memchr(b'"', &bytes[at..]) {
                    Some(i) => {
                        at += i;
                        self.state = State::QuoteInQuoted;
                    }
                    None => at = bytes.len() - 1,
                },
            }
            at += 1;
        }
    }

    /// The input ended: a CR at its very end was a lone one.
    fn finish(&mut self) {
        if let Some(row) = self.pending_cr.take() {
            self.note(false, row);
        }
    }
}

/// Reads rows from a table's bytes; see the module's documentation.
pub struct RowReader<R> {
    inner: R,
    cells: Reader,
    buf: Vec<u8>,
    /// The unread bytes are `buf[pos..len]`.
    pos: usize,
    len: usize,
    at_end: bool,
    framing: Framing,
}

/// Bytes asked of the inner reader at a time.
const BUFFER: usize = 256 * 1024;

impl<R: Read> RowReader<R> {
    /// Reads rows of cells split by `delimiter` from `inner`; `crlf` says whether the
    /// dialect ends rows with CRLF (else LF).
    ///
    /// ```
    /// use exporter_tabular::{Row, RowReader};
    /// let mut reader = RowReader::new(&b"a,\"b,c\"\r\nd\n"[..], b',', true);
    /// let mut row = Row::default();
    /// assert!(reader.read_row(&mut row).unwrap());
    /// assert_eq!(row.iter().collect::<Vec<_>>(), [&b"a"[..], b"b,c"]);
    /// assert!(reader.read_row(&mut row).unwrap());
    /// assert!(!reader.read_row(&mut row).unwrap());
    /// assert_eq!(reader.report().wrong_terminator_row, Some(1)); // an LF in a CRLF table
    /// ```
    pub fn new(inner: R, delimiter: u8, crlf: bool) -> Self {
        RowReader {
            inner,
            cells: ReaderBuilder::new().delimiter(delimiter).build(),
            buf: vec![0; BUFFER],
            pos: 0,
            len: 0,
            at_end: false,
            framing: Framing {
                crlf,
                delimiter,
                state: State::StartRow,
                pending_cr: None,
                rows: 0,
                wrong_row: None,
                last_byte: b'\n',
            },
        }
    }

    /// Reads the next row into `row`; `false` at the end of the input.
    pub fn read_row(&mut self, row: &mut Row) -> io::Result<bool> {
        let (mut out_len, mut ends_len) = (0, 0);
        if row.bytes.len() < 1024 {
            row.bytes.resize(1024, 0);
        }
        if row.ends.len() < 64 {
            row.ends.resize(64, 0);
        }
        loop {
            if self.pos == self.len && !self.at_end {
                self.fill()?;
            }
            let input = &self.buf[self.pos..self.len];
            let (result, read, written, ended) =
                self.cells
                    .read_record(input, &mut row.bytes[out_len..], &mut row.ends[ends_len..]);
            self.framing.scan(&input[..read]);
            self.pos += read;
            out_len += written;
            ends_len += ended;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => row.bytes.resize(row.bytes.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => row.ends.resize(row.ends.len() * 2, 0),
                ReadRecordResult::Record => {
                    row.bytes.truncate(out_len);
                    row.ends.truncate(ends_len);
                    return Ok(true);
                }
                ReadRecordResult::End => {
                    self.framing.finish();
                    row.bytes.clear();
                    row.ends.clear();
                    return Ok(false);
                }
            }
        }
    }

    /// What the framing showed; complete once [`read_row`](RowReader::read_row) returned
    /// `false`.
    pub fn report(&self) -> FramingReport {
        FramingReport {
            wrong_terminator_row: self.framing.wrong_row,
            ends_with_newline: self.framing.last_byte == b'\n',
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        self.pos = 0;
        self.len = loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.at_end = self.len == 0;
        Ok(())
    }
}

/// Where to cut a table of `size` bytes into about `parts` stretches that can be read on
/// their own: just after a line feed outside quotes, near equal sizes. Counting quotes before
/// each cut is a light pass (vectorized byte counting).
pub fn cut_points(path: &std::path::Path, size: u64, parts: u64) -> io::Result<Vec<u64>> {
    use std::io::BufRead;
    let mut file = io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut cuts = vec![0];
    let (mut pos, mut quotes) = (0u64, 0u64);
    for k in 1..parts {
        let target = size * k / parts;
        // parity up to the target
        while pos < target {
            let buf = file.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let take = buf.len().min((target - pos) as usize);
            quotes += buf[..take].iter().filter(|&&b| b == b'"').count() as u64;
            file.consume(take);
            pos += take as u64;
        }
        // then to the next record end
        let mut byte = [0u8; 1];
        loop {
            if file.read(&mut byte)? == 0 {
                return Ok(cuts); // no record end after the target: fewer stretches
            }
            pos += 1;
            match byte[0] {
                b'"' => quotes += 1,
                b'\n' if quotes % 2 == 0 => break,
                _ => {}
            }
        }
        cuts.push(pos);
    }
    Ok(cuts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Hands out `bytes` a few at a time, so rows, quotes and CRLFs straddle reads.
    struct Chunked<'a>(&'a [u8], usize);

    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn read_all(
        bytes: &[u8],
        delimiter: u8,
        crlf: bool,
        chunk: usize,
    ) -> (Vec<Row>, FramingReport) {
        let mut reader = RowReader::new(Chunked(bytes, chunk), delimiter, crlf);
        let (mut rows, mut row) = (Vec::new(), Row::default());
        while reader.read_row(&mut row).unwrap() {
            rows.push(row.clone());
        }
        (rows, reader.report())
    }

    fn cells(rows: &[Row]) -> Vec<Vec<Vec<u8>>> {
        rows.iter()
            .map(|r| r.iter().map(<[u8]>::to_vec).collect())
            .collect()
    }

    /// How the `csv` crate splits the same bytes.
    fn csv_cells(bytes: &[u8], delimiter: u8) -> Vec<Vec<Vec<u8>>> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        reader
            .byte_records()
            .map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect())
            .collect()
    }

    proptest! {
        #[test]
        fn rows_split_as_the_csv_crate_splits_them(
            bytes in proptest::collection::vec(
                prop_oneof![
                    Just(b'a'), Just(b'\xc3'), Just(b','), Just(b';'), Just(b'"'),
                    Just(b'\r'), Just(b'\n'),
                ],
                0..60,
            ),
            delimiter in prop_oneof![Just(b','), Just(b';')],
            chunk in 1usize..8,
        ) {
            let (rows, _) = read_all(&bytes, delimiter, true, chunk);
            prop_assert_eq!(cells(&rows), csv_cells(&bytes, delimiter));
        }
    }

    #[test]
    fn a_row_longer_than_the_buffer_is_read_whole() {
        let long = "x".repeat(3 * BUFFER);
        let text = format!("a,\"{long}\"\r\nb,{long}\r\n");
        let (rows, report) = read_all(text.as_bytes(), b',', true, BUFFER);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].iter().nth(1).unwrap().len(), long.len());
        assert_eq!(rows[1].iter().nth(1).unwrap().len(), long.len());
        assert_eq!(report.wrong_terminator_row, None);
    }

    #[test]
    fn finds_wrong_line_endings_and_torn_ends_across_reads() {
        for chunk in [1, 2, 3, 7, 1000] {
            let good = "a,\"x\ny\"\r\nü😀,b\r\n".as_bytes();
            let (rows, r) = read_all(good, b',', true, chunk);
            assert_eq!(rows.len(), 2);
            assert_eq!((r.wrong_terminator_row, r.ends_with_newline), (None, true));
            assert_eq!(
                read_all(good, b',', false, chunk).1.wrong_terminator_row,
                Some(0)
            );
            let lf_row = read_all(b"a\r\nb\nc\r\n", b',', true, chunk).1;
            assert_eq!(lf_row.wrong_terminator_row, Some(1));
            let cr_row = read_all(b"a\nb\rc\n", b',', false, chunk).1;
            assert_eq!(cr_row.wrong_terminator_row, Some(1), "a lone CR");
            let blank = read_all(b"a\r\n\nb\r\n", b',', true, chunk).1;
            assert_eq!(blank.wrong_terminator_row, Some(1), "a blank LF line");
            let torn = read_all(b"a\r\nb", b',', true, chunk).1;
            assert_eq!(
                (torn.wrong_terminator_row, torn.ends_with_newline),
                (None, false)
            );
            assert!(read_all(b"", b',', true, chunk).1.ends_with_newline);
        }
    }

    #[test]
    fn read_errors_reach_the_caller() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk gone"))
            }
        }
        let mut reader = RowReader::new(Failing, b',', true);
        let err = reader.read_row(&mut Row::default()).unwrap_err();
        assert_eq!(err.to_string(), "disk gone");
    }
}
