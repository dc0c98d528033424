//! Hints that start loading memory a thread is about to read.
//!
//! The sinks read each event through pointers into memory that the parser filled on the other
//! core: a record's text and member index, a request's box and proxy. Followed one event at a
//! time, every pointer waits for its load. The pipeline hints at the events a few lines ahead
//! instead, so their memory is on its way while the sinks handle the current one
//! (bench/README.md has what it saves).
//!
//! The other way round, the parser refills storage the sinks last read on their core. It
//! hints at the spare it will fill next while it fills the current one.
//!
//! A hint never faults and never changes what a program computes: a wrong address only wastes
//! the hint. Off x86-64 the hints do nothing.

// the cache hints below are the crate's only `unsafe`; each block has its SAFETY comment
#![allow(unsafe_code)]

use crate::ingest::ParsedEvent;
use crate::ingest::parallel::Item;

/// What is read of a record at most: the first 2 KiB of a long one are a fair start.
const RECORD_BYTES: usize = 2048;

/// Hints at `len` bytes from `start`, one cache line at a time.
fn bytes(start: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    for offset in (0..len).step_by(64) {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of x86-64's baseline, and a prefetch reads nothing the program
        // sees: it cannot fault, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (start, len);
}

fn value<T>(v: &T) {
    bytes((v as *const T).cast(), std::mem::size_of::<T>());
}

/// Hints at the boxes behind a line's event: for a line well ahead, since what the boxes point
/// to can be hinted at only once they have arrived.
pub(crate) fn boxes(item: &Item) {
    match item {
        Item::Event(ParsedEvent::Request(r)) => value(&**r),
        Item::Event(ParsedEvent::Error(e)) => value(&**e),
        _ => {}
    }
}

/// Hints at what the sinks read behind a line's event (its boxes hinted at before).
pub(crate) fn contents(item: &Item) {
    match item {
        Item::Event(ParsedEvent::Record(data)) => record(data),
        Item::Event(ParsedEvent::Request(r)) => bytes(r.proxy.as_ptr(), r.proxy.len()),
        _ => {}
    }
}

/// Hints at a record's text and member index: one the sinks read soon, or the spare the
/// parser fills next.
pub(crate) fn record(data: &exporter_core::JsonObject) {
    let text = data.as_str();
    bytes(text.as_ptr(), text.len().min(RECORD_BYTES));
    let index = data.member_index();
    bytes(index.as_ptr().cast(), std::mem::size_of_val(index));
}

/// Hints at the spare requests the parser takes next: the next one's strings, and the box of
/// the one after.
pub(crate) fn spare_requests(spares: &[Box<exporter_core::Request>]) {
    if let Some(next) = spares.last() {
        bytes(next.proxy.as_ptr(), next.proxy.capacity());
        if let Some(url) = &next.url {
            bytes(url.as_ptr(), url.capacity());
        }
    }
    if let Some(after) = spares.len().checked_sub(2).map(|i| &spares[i]) {
        value(&**after);
    }
}
