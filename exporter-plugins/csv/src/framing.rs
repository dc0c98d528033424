//! Checks on the bytes of a table as they stream past the CSV reader, so a file is read once:
//! UTF-8 validity, the dialect's record terminator, and a last row that ends.

use std::io::{self, Read};

/// A reader that inspects what passes through it.
pub struct Framing<R> {
    inner: R,
    crlf: bool,
    in_quotes: bool,
    prev: u8,
    rows: u64,
    offset: u64,
    wrong_terminator_row: Option<u64>,
    utf8_carry: Vec<u8>,
    utf8_error_at: Option<u64>,
    check_utf8: bool,
}

/// What the bytes showed.
pub struct FramingReport {
    /// The first data row (0 for the header) ending with the wrong terminator.
    pub wrong_terminator_row: Option<u64>,
    /// The byte offset of the first invalid UTF-8 (after a BOM).
    pub utf8_error_at: Option<u64>,
    /// Whether the last byte was a line feed (or the file was empty).
    pub ends_with_newline: bool,
}

impl<R: Read> Framing<R> {
    /// Wraps `inner`; `crlf` says whether records must end with CRLF (else LF).
    pub fn new(inner: R, crlf: bool) -> Self {
        Framing {
            inner,
            crlf,
            in_quotes: false,
            prev: b'\n',
            rows: 0,
            offset: 0,
            wrong_terminator_row: None,
            utf8_carry: Vec::new(),
            utf8_error_at: None,
            check_utf8: true,
        }
    }

    /// Leaves UTF-8 to the caller (who checks each row anyway).
    pub fn without_utf8_check(mut self) -> Self {
        self.check_utf8 = false;
        self
    }

    /// What was seen, once the reader is exhausted.
    pub fn report(&self) -> FramingReport {
        FramingReport {
            wrong_terminator_row: self.wrong_terminator_row,
            utf8_error_at: self
                .utf8_error_at
                .or((!self.utf8_carry.is_empty()).then_some(self.offset)),
            ends_with_newline: self.prev == b'\n',
        }
    }

    fn inspect(&mut self, chunk: &[u8]) {
        // jump from quote to line feed with memchr: rows are long, quotes rare
        let mut at = 0;
        while let Some(i) = memchr::memchr2(b'"', b'\n', &chunk[at..]) {
            let i = at + i;
            if chunk[i] == b'"' {
                self.in_quotes = !self.in_quotes;
            } else if !self.in_quotes {
                let before = if i > 0 { chunk[i - 1] } else { self.prev };
                if (before == b'\r') != self.crlf && self.wrong_terminator_row.is_none() {
                    self.wrong_terminator_row = Some(self.rows);
                }
                self.rows += 1;
            }
            at = i + 1;
        }
        if let Some(&last) = chunk.last() {
            self.prev = last;
        }
        if self.check_utf8 {
            self.check_utf8(chunk);
        }
        self.offset += chunk.len() as u64;
    }

    fn check_utf8(&mut self, chunk: &[u8]) {
        if self.utf8_error_at.is_some() {
            return;
        }
        let mut start = 0;
        if !self.utf8_carry.is_empty() {
            // finish the character split across reads
            let need = match self.utf8_carry[0] {
                b if b >= 0xF0 => 4,
                b if b >= 0xE0 => 3,
                _ => 2,
            };
            let take = (need - self.utf8_carry.len()).min(chunk.len());
            self.utf8_carry.extend_from_slice(&chunk[..take]);
            start = take;
            if self.utf8_carry.len() < need {
                return;
            }
            if std::str::from_utf8(&self.utf8_carry).is_err() {
                self.utf8_error_at = Some(self.offset);
                return;
            }
            self.utf8_carry.clear();
        }
        if let Err(e) = std::str::from_utf8(&chunk[start..]) {
            let at = start + e.valid_up_to();
            match e.error_len() {
                None => self.utf8_carry.extend_from_slice(&chunk[at..]),
                Some(_) => self.utf8_error_at = Some(self.offset + at as u64),
            }
        }
    }
}

impl<R: Read> Read for Framing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.inspect(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framing(bytes: &[u8], crlf: bool, chunk: usize) -> FramingReport {
        // feed in small reads so characters and CRLFs straddle read boundaries
        struct Chunked<'a>(&'a [u8], usize);
        impl Read for Chunked<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut f = Framing::new(Chunked(bytes, chunk), crlf);
        std::io::copy(&mut f, &mut std::io::sink()).unwrap();
        f.report()
    }

    #[test]
    fn finds_terminators_utf8_and_torn_ends_across_reads() {
        for chunk in [1, 2, 3, 7, 1000] {
            let good = "a,\"x\ny\"\r\nü😀,b\r\n".as_bytes();
            let r = framing(good, true, chunk);
            assert_eq!(
                (r.wrong_terminator_row, r.utf8_error_at, r.ends_with_newline),
                (None, None, true)
            );
            assert_eq!(framing(good, false, chunk).wrong_terminator_row, Some(0));
            assert_eq!(
                framing(b"a\r\nb\nc\r\n", true, chunk).wrong_terminator_row,
                Some(1)
            );
            assert_eq!(
                framing(b"a\r\n\xff\r\n", true, chunk).utf8_error_at,
                Some(3)
            );
            assert_eq!(
                framing("a\r\n\u{fc}".as_bytes()[..4].as_ref(), true, chunk).utf8_error_at,
                Some(4),
                "cut mid-character"
            );
            assert!(!framing(b"a\r\nb", true, chunk).ends_with_newline);
        }
    }
}
