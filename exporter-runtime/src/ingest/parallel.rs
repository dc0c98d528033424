//! Reading NDJSON on every core: one thread cuts the input into batches of lines, parser
//! threads turn batches into ready events (parsed, passwords masked, bad lines made into
//! error-log events), and the caller's thread hands them to the sinks in input order. Batches
//! in flight are bounded, so memory stays flat whatever the input's size; a parsed batch goes
//! back to the thread that allocated it to be freed.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};

use crate::error::ExportError;
use crate::ingest::{Line, ParsedEvent, Spares, bad_input_event, parse_line_into};
use exporter_core::ErrorEvent;
use exporter_core::Location;
use exporter_core::{redact_address_in_place, redact_in_place};

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Lines per batch.
const BATCH_LINES: usize = 1024;
/// Raw batches queued for the parsers.
const RAW_IN_FLIGHT: usize = 4;
/// Parsed batches queued for the sinks.
const PARSED_IN_FLIGHT: usize = 4;
/// About the most lines parsed and not yet given back at once: queued, waiting their turn,
/// and the one the sinks are on.
const EVENTS_IN_FLIGHT: usize = (PARSED_IN_FLIGHT + 2) * BATCH_LINES;

/// A line made ready for the sinks.
pub(crate) enum Item {
    Blank,
    Event(ParsedEvent),
    /// Boxed, like the larger events: the lines of a batch stay small to move and to read.
    Bad(Box<BadItem>),
}

/// A bad line made ready for the sinks.
pub(crate) struct BadItem {
    pub reason: &'static str,
    pub detail: String,
    pub failure: ErrorEvent,
}

pub(crate) struct ParsedLine {
    pub line: u64,
    pub item: Item,
}

/// Masks every password an event carries.
pub(crate) fn redact_event(event: &mut ParsedEvent) {
    match event {
        ParsedEvent::Campaign(c) => c.redact(),
        ParsedEvent::Record(_) => {} // the user's data, written as given
        ParsedEvent::Request(r) => {
            redact_address_in_place(&mut r.proxy);
            if let Some(url) = &mut r.url {
                redact_address_in_place(url);
            }
            if let Some(error) = &mut r.error {
                redact_in_place(error);
            }
        }
        ParsedEvent::Error(e) => e.redact(),
    }
}

/// Parses one line into what the sinks need, into storage from `spares` where it can.
pub(crate) fn prepare(raw: &[u8], line: u64, input: &str, spares: &mut Spares) -> Item {
    match parse_line_into(raw, spares) {
        Line::Blank => Item::Blank,
        Line::Event(mut event) => {
            redact_event(&mut event);
            Item::Event(event)
        }
        Line::Bad(bad) => {
            let at = Location {
                input: input.to_string(),
                line,
            };
            let mut failure = bad_input_event(&at, &bad, raw);
            failure.redact();
            let mut detail = bad.detail;
            redact_in_place(&mut detail);
            Item::Bad(Box::new(BadItem {
                reason: bad.reason.as_str(),
                detail,
                failure,
            }))
        }
    }
}

/// Lines as read: one buffer, with where each line ends (just past its line feed).
struct RawBatch {
    seq: u64,
    first_line: u64,
    bytes_read: u64,
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl RawBatch {
    fn starting(seq: u64, first_line: u64, bytes: usize) -> Self {
        RawBatch {
            seq,
            first_line,
            bytes_read: 0,
            data: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(BATCH_LINES),
        }
    }
}

struct ParsedBatch {
    seq: u64,
    bytes_read: u64,
    lines: Vec<ParsedLine>,
    parser: usize,
}

/// Cuts the input into batches of [`BATCH_LINES`] lines: line ends are found in whole
/// buffers of input with `memchr`, and the bytes copied once, into batches sized like the
/// last one (so memory in flight stays what the lines need).
fn cut_batches(mut reader: impl BufRead, tx: SyncSender<RawBatch>) -> std::io::Result<()> {
    // one UTF-8 byte order mark at the start (Windows tools write one) is no part of line 1
    let mut head = Vec::with_capacity(BOM.len());
    while head.len() < BOM.len() {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let take = buf.len().min(BOM.len() - head.len());
        head.extend_from_slice(&buf[..take]);
        reader.consume(take);
    }
    let skipped = if head == BOM { head.len() } else { 0 };
    let mut reader = std::io::Read::chain(std::io::Cursor::new(head.split_off(skipped)), reader);
    let mut read = skipped as u64; // bytes consumed before the current buffer
    let mut batch = RawBatch::starting(0, 1, 0);
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let mut copied = 0; // of `chunk`, into `batch`
        for nl in memchr::memchr_iter(b'\n', chunk) {
            batch.ends.push(batch.data.len() + nl + 1 - copied);
            if batch.ends.len() == BATCH_LINES {
                batch.data.extend_from_slice(&chunk[copied..=nl]);
                copied = nl + 1;
                batch.bytes_read = read + copied as u64;
                let next = RawBatch::starting(
                    batch.seq + 1,
                    batch.first_line + BATCH_LINES as u64,
                    batch.data.len(),
                );
                if tx.send(std::mem::replace(&mut batch, next)).is_err() {
                    return Ok(()); // the run stopped
                }
            }
        }
        batch.data.extend_from_slice(&chunk[copied..]);
        let len = chunk.len();
        reader.consume(len);
        read += len as u64;
    }
    if batch.ends.last().copied().unwrap_or(0) < batch.data.len() {
        batch.ends.push(batch.data.len()); // a last line without a line feed
    }
    batch.bytes_read = read;
    let _ = tx.send(batch);
    Ok(())
}

fn parse_loop(
    id: usize,
    input: &str,
    work: &Mutex<Receiver<RawBatch>>,
    out: &SyncSender<ParsedBatch>,
    returned: &Receiver<Vec<ParsedLine>>,
) {
    let mut spares = Spares::keeping(EVENTS_IN_FLIGHT);
    let mut spare_lines: Vec<Vec<ParsedLine>> = Vec::new();
    loop {
        // what the sinks are done with is filled again (or freed here, where it was allocated)
        while let Ok(mut used) = returned.try_recv() {
            for l in used.drain(..) {
                if let Item::Event(event) = l.item {
                    spares.keep(event);
                }
            }
            spare_lines.push(used);
        }
        let raw = match work.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(r) => r,
            Err(_) => return, // no more input
        };
        let mut lines = spare_lines
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(raw.ends.len()));
        let mut start = 0;
        for (i, &end) in raw.ends.iter().enumerate() {
            let line = raw.first_line + i as u64;
            let text = &raw.data[start..end];
            let text = text.strip_suffix(b"\n").unwrap_or(text);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            lines.push(ParsedLine {
                line,
                item: prepare(text, line, input, &mut spares),
            });
            start = end;
        }
        if out
            .send(ParsedBatch {
                seq: raw.seq,
                bytes_read: raw.bytes_read,
                lines,
                parser: id,
            })
            .is_err()
        {
            return; // the run stopped
        }
    }
}

/// Reads `reader` to its end, calling `sink` with each batch of parsed lines in input order
/// (and the bytes read so far). Stops at the first error `sink` returns.
pub(crate) fn read_parallel(
    reader: impl BufRead + Send,
    input: &str,
    mut sink: impl FnMut(&[ParsedLine], u64) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    // one core stays with the sinks
    let parsers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .clamp(1, 4);
    let (raw_tx, raw_rx) = sync_channel::<RawBatch>(RAW_IN_FLIGHT);
    let (parsed_tx, parsed_rx) = sync_channel::<ParsedBatch>(PARSED_IN_FLIGHT);
    let work = Arc::new(Mutex::new(raw_rx));
    std::thread::scope(|scope| {
        let cutter = scope.spawn(move || cut_batches(reader, raw_tx));
        let mut give_back: Vec<Sender<Vec<ParsedLine>>> = Vec::new();
        let mut parser_threads = Vec::with_capacity(parsers);
        for id in 0..parsers {
            let (back_tx, back_rx) = channel();
            give_back.push(back_tx);
            let (work, out) = (Arc::clone(&work), parsed_tx.clone());
            parser_threads.push(scope.spawn(move || parse_loop(id, input, &work, &out, &back_rx)));
        }
        // only the parsers may hold the queue of raw batches: when they stop, the cutter's
        // next send fails and it stops too (instead of waiting forever on a full queue)
        drop(work);
        drop(parsed_tx);
        let mut next = 0u64;
        let mut waiting: BTreeMap<u64, ParsedBatch> = BTreeMap::new();
        let mut result = Ok(());
        'batches: for batch in &parsed_rx {
            waiting.insert(batch.seq, batch);
            while let Some(batch) = waiting.remove(&next) {
                next += 1;
                if let Err(e) = sink(&batch.lines, batch.bytes_read) {
                    result = Err(e);
                    break 'batches;
                }
                let _ = give_back[batch.parser].send(batch.lines);
            }
        }
        drop(parsed_rx); // parsers and the cutter stop at their next send
        // a parser that panicked must not pass for the end of the input
        for t in parser_threads {
            t.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
        if result.is_ok() && !waiting.is_empty() {
            result = Err(ExportError::Input {
                input: input.to_string(),
                source: std::io::Error::other("a batch of parsed lines went missing"),
            });
        }
        drop(waiting);
        let read = cutter
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        result?;
        read.map_err(|source| ExportError::Input {
            input: input.to_string(),
            source,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_at_the_start_is_skipped() {
        for (input, want) in [
            (
                &b"\xEF\xBB\xBF{\"type\":\"record\",\"data\":{}}\n"[..],
                "event",
            ),
            (b"\xEF\xBB\xBF", "none"),
            (b"\n", "blank"),
            (b"{", "invalid_json"),
            (b"\xEF\xBB{", "invalid_utf8"),
        ] {
            for capacity in [1, 2, 4096] {
                let reader = std::io::BufReader::with_capacity(capacity, input);
                let mut seen = Vec::new();
                read_parallel(reader, "in", |lines, _| {
                    seen.extend(lines.iter().map(|l| match &l.item {
                        Item::Blank => "blank".to_string(),
                        Item::Bad(bad) => bad.reason.to_string(),
                        Item::Event(_) => "event".to_string(),
                    }));
                    Ok(())
                })
                .unwrap();
                let seen = seen.first().map_or("none", String::as_str).to_string();
                assert_eq!(seen, want, "{input:?} capacity {capacity}");
            }
        }
    }

    #[test]
    fn lines_survive_any_cut_into_buffers_and_batches() {
        let n = 2 * BATCH_LINES + 37;
        let mut input = String::new();
        for i in 0..n {
            match i % 5 {
                0 => input.push_str("\r\n"), // blank, CRLF
                1 => input.push_str(&format!(
                    "{{\"type\":\"record\",\"data\":{{\"n\":{i}}}}}\r\n"
                )),
                2 => input.push_str("{oops\n"),
                _ => input.push_str(&format!("{{\"type\":\"record\",\"data\":{{\"n\":{i}}}}}\n")),
            }
        }
        input.push_str(r#"{"type":"record","data":{"n":"last, no line feed"}}"#);
        for capacity in [1, 7, 4096, 1 << 20] {
            let reader = std::io::BufReader::with_capacity(capacity, input.as_bytes());
            let mut seen = Vec::new();
            read_parallel(reader, "in", |lines, _| {
                for l in lines {
                    let what = match &l.item {
                        Item::Blank => "blank".to_string(),
                        Item::Bad(bad) => bad.reason.to_string(),
                        Item::Event(ParsedEvent::Record(data)) => data.to_map()["n"].to_string(),
                        Item::Event(_) => "other".to_string(),
                    };
                    seen.push((l.line, what));
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(seen.len(), n + 1, "capacity {capacity}");
            for (i, (line, what)) in seen.iter().enumerate() {
                assert_eq!(*line, i as u64 + 1);
                let want = match i % 5 {
                    _ if i == n => "\"last, no line feed\"".to_string(),
                    0 => "blank".to_string(),
                    2 => "invalid_json".to_string(),
                    _ => i.to_string(),
                };
                assert_eq!(*what, want, "line {line}, capacity {capacity}");
            }
        }
    }
}
