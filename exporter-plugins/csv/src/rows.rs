//! Reading a written table back, row by row, for the validator.
//!
//! Rows split into cells exactly as the `csv` crate splits them with `flexible(true)`:
//! - RFC 4180 quoting, with `""` for a quote inside quotes;
//! - CR, LF or CRLF ends a row, and blank lines are skipped;
//! - text after a closing quote is kept, as is a quote inside an unquoted cell;
//! - a last row without a line ending, or with an open quote, ends at the end of the input.
//!
//! A proptest holds it to the `csv` crate. Where that crate steps through every byte, this
//! reader jumps from one cell's end to the next with `memchr`: the validator's read of a table
//! costs a third of what it did.
//!
//! The same pass checks the framing that the dialect promises: each row's line ending, and a
//! last row that ends (a torn write does not).

use std::io::{self, Read};
use std::ops::Range;

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

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    fn end_cell(&mut self) {
        self.ends.push(self.bytes.len());
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

/// How a row ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    Lf,
    CrLf,
    Cr,
    Input,
}

/// What scanning the buffered bytes found.
enum Scan {
    /// A row, `used` bytes long with what came before it.
    Row { used: usize, ending: Ending },
    /// Nothing but blank lines up to the end of the input.
    End { used: usize },
    /// The row may go on past the buffered bytes.
    NeedMore,
}

/// The line endings seen so far.
struct Endings {
    crlf: bool,
    rows: u64,
    wrong_row: Option<u64>,
}

impl Endings {
    fn note(&mut self, ending: Ending) {
        let right = match ending {
            Ending::CrLf => self.crlf,
            Ending::Lf => !self.crlf,
            Ending::Cr => false,
            Ending::Input => true, // a torn last row is reported on its own
        };
        if !right && self.wrong_row.is_none() {
            self.wrong_row = Some(self.rows);
        }
    }
}

/// Reads rows from a table's bytes; see the module's documentation.
pub struct RowReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// The unread bytes are `buf[pos..len]`.
    pos: usize,
    len: usize,
    at_end: bool,
    delimiter: u8,
    endings: Endings,
    last_byte: u8,
}

/// Bytes asked of the inner reader at a time; a longer row grows the buffer.
const BUFFER: usize = 256 * 1024;

impl<R: Read> RowReader<R> {
    /// Reads rows of cells split by `delimiter` from `inner`; `crlf` says whether the
    /// dialect ends rows with CRLF (else LF).
    pub fn new(inner: R, delimiter: u8, crlf: bool) -> Self {
        RowReader {
            inner,
            buf: vec![0; BUFFER],
            pos: 0,
            len: 0,
            at_end: false,
            delimiter,
            endings: Endings {
                crlf,
                rows: 0,
                wrong_row: None,
            },
            last_byte: b'\n',
        }
    }

    /// Reads the next row into `row`; `false` at the end of the input.
    pub fn read_row(&mut self, row: &mut Row) -> io::Result<bool> {
        loop {
            let data = &self.buf[self.pos..self.len];
            match scan(data, self.at_end, self.delimiter, &mut self.endings, row) {
                Scan::Row { used, ending } => {
                    self.pos += used;
                    self.endings.note(ending);
                    self.endings.rows += 1;
                    return Ok(true);
                }
                Scan::End { used } => {
                    self.pos += used;
                    return Ok(false);
                }
                Scan::NeedMore => self.fill()?,
            }
        }
    }

    /// What the framing showed; complete once [`read_row`](RowReader::read_row) returned
    /// `false`.
    pub fn report(&self) -> FramingReport {
        FramingReport {
            wrong_terminator_row: self.endings.wrong_row,
            ends_with_newline: self.last_byte == b'\n',
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        // the unread part of a row moves to the front; a row longer than the buffer grows it
        self.buf.copy_within(self.pos..self.len, 0);
        self.len -= self.pos;
        self.pos = 0;
        if self.len == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = loop {
            match self.inner.read(&mut self.buf[self.len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            self.at_end = true;
        } else {
            self.len += n;
            self.last_byte = self.buf[self.len - 1];
        }
        Ok(())
    }
}

/// The line ending at `data[at]` (a CR or an LF) and its length; `None` when a CR is the last
/// buffered byte and more input may follow.
fn ending_at(data: &[u8], at: usize, at_end: bool) -> Option<(Ending, usize)> {
    if data[at] == b'\n' {
        return Some((Ending::Lf, 1));
    }
    match data.get(at + 1) {
        Some(b'\n') => Some((Ending::CrLf, 2)),
        Some(_) => Some((Ending::Cr, 1)),
        None if at_end => Some((Ending::Cr, 1)),
        None => None,
    }
}

/// Scans one row from the start of `data` into `row`. Blank lines before it are skipped,
/// their line endings noted.
fn scan(data: &[u8], at_end: bool, delimiter: u8, endings: &mut Endings, row: &mut Row) -> Scan {
    let mut p = 0;
    while p < data.len() && matches!(data[p], b'\r' | b'\n') {
        let Some((ending, n)) = ending_at(data, p, at_end) else {
            return Scan::NeedMore;
        };
        endings.note(ending);
        p += n;
    }
    if p == data.len() {
        return if at_end {
            Scan::End { used: p }
        } else {
            Scan::NeedMore
        };
    }
    row.clear();
    // the bytes run out inside the row: it ends there at the end of the input
    let ran_out = |row: &mut Row, rest: &[u8]| {
        if !at_end {
            return Scan::NeedMore;
        }
        row.bytes.extend_from_slice(rest);
        row.end_cell();
        Scan::Row {
            used: data.len(),
            ending: Ending::Input,
        }
    };
    loop {
        // a cell starts at `p`
        if p == data.len() {
            return ran_out(row, &[]);
        }
        if data[p] == b'"' {
            p += 1;
            loop {
                let Some(i) = memchr::memchr(b'"', &data[p..]) else {
                    return ran_out(row, &data[p..]);
                };
                row.bytes.extend_from_slice(&data[p..p + i]);
                p += i + 1;
                match data.get(p) {
                    None => return ran_out(row, &[]),
                    Some(b'"') => {
                        row.bytes.push(b'"');
                        p += 1;
                    }
                    Some(_) => break,
                }
            }
            // after the closing quote: the cell ends, or what follows is kept as text
            if data[p] == delimiter {
                row.end_cell();
                p += 1;
                continue;
            }
        }
        let Some(i) = memchr::memchr3(delimiter, b'\r', b'\n', &data[p..]) else {
            return ran_out(row, &data[p..]);
        };
        row.bytes.extend_from_slice(&data[p..p + i]);
        row.end_cell();
        p += i;
        if data[p] == delimiter {
            p += 1;
            continue;
        }
        return match ending_at(data, p, at_end) {
            Some((ending, n)) => Scan::Row {
                used: p + n,
                ending,
            },
            None => Scan::NeedMore,
        };
    }
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
    fn a_row_longer_than_the_buffer_grows_it() {
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
