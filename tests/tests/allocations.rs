//! The hot path allocates nothing per event. The whole run (reader, parser, the four built-in
//! sinks, the following validator) goes through an allocator that counts; a stream three times
//! longer may only cost a few more allocations (batches, growing tables), not more per event.
//!
//! The one test of this binary: other tests would allocate on the same counter meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use exporter_cli as _; // links the built-in plugins
use exporter_runtime::Manifest;
use exporter_runtime::{Pipeline, RunOptions};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only a count is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

const SCHEMA: &str = r#"{"fields": [
    {"name": "place_id", "constraints": {"required": true, "pattern": "p[0-9]+"}},
    {"name": "name"},
    {"name": "rating", "type": "number", "constraints": {"minimum": 0, "maximum": 5}},
    {"name": "reviews", "type": "integer"},
    {"name": "latitude", "type": "number"},
    {"name": "tags", "type": "array"},
    {"name": "attributes", "type": "object"},
    {"name": "scraped_at", "type": "datetime"}
], "primaryKey": "place_id"}"#;

const MANIFEST: &str = r#"
[campaign]
id = "alloc"

[[sinks]]
type = "csv"
name = "results"
path = "results.csv"
schema = "lead.schema.json"

[[sinks]]
type = "campaign-summary"
path = "campaign_summary.json"

[[sinks]]
type = "proxy-performance"
path = "proxy_performance.json"

[[sinks]]
type = "error-log"
path = "error_log.csv"
"#;

/// `lines` lines of records and requests (three requests to a record, as campaigns go);
/// `nested` gives records an object value with an array inside.
fn stream(lines: usize, nested: bool) -> String {
    let mut text = String::new();
    for i in 0..lines {
        let p = i % 50;
        if i % 4 == 0 {
            let attributes = if nested {
                r#"{"price_level":2,"payment":["cash","card"]}"#
            } else {
                r#"{"price_level":2,"wheelchair":true}"#
            };
            writeln!(
                text,
                r#"{{"type":"record","data":{{"place_id":"p{i}","name":"Bäckerei {i}","rating":4.{p},"reviews":{i},"latitude":52.60262722483{i:04},"tags":["halal","wifi"],"attributes":{attributes},"scraped_at":"2026-11-26T08:00:0{}.{i:03}Z"}}}}"#,
                i % 10,
            )
        } else if i % 7 == 0 {
            writeln!(
                text,
                r#"{{"type":"request","ts":"2026-11-26T08:00:01Z","proxy":"socks5://cust{p}:pw{i}@10.0.0.{p}:1080","url":"https://www.example.com/maps/search/{i}?hl=en","status":null,"latency_ms":null,"error":"Timeout"}}"#
            )
        } else {
            writeln!(
                text,
                r#"{{"type":"request","ts":"2026-11-26T08:00:01.{p:03}Z","proxy":"http://cust{p}:secret{p}@proxy-{p}.pool.example.net:8080","url":"https://www.example.com/maps/search/{i}?hl=en","status":200,"latency_ms":{}.5,"bytes":{}}}"#,
                100 + i % 900,
                10_000 + i
            )
        }
        .unwrap();
    }
    text
}

/// Allocations per line of a typical batch (the median of the batches of the second half of
/// `input`; the reader hands the sinks batches of 1024 lines). The first half warms the run up.
fn allocations_per_line(dir: &std::path::Path, input: &str) -> f64 {
    let manifest = Manifest::parse(MANIFEST, "exporter.toml", dir).unwrap();
    let options = RunOptions {
        out_dir: Some(dir.join("out")),
        ..RunOptions::default()
    };
    let mut pipeline = Pipeline::new(&manifest, options).unwrap();
    let half = input.len() as u64 / 2;
    let mut counts = Vec::new(); // after each batch of the second half
    pipeline
        .read_with_progress(input.as_bytes(), "events.ndjson", |read| {
            if read >= half {
                counts.push(ALLOCATIONS.load(Ordering::Relaxed));
            }
        })
        .unwrap();
    let report = pipeline.finish().unwrap();
    assert_eq!(
        report.events.records as usize,
        input.lines().count().div_ceil(4)
    );
    std::fs::remove_dir_all(dir.join("out")).unwrap();
    let mut per_batch: Vec<u64> = counts.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(per_batch.len() > 50, "{} batches", per_batch.len());
    per_batch.sort_unstable();
    per_batch[per_batch.len() / 2] as f64 / 1024.0
}

#[test]
fn events_cost_no_allocation_once_the_run_is_warm() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lead.schema.json"), SCHEMA).unwrap();
    // What may still allocate: a batch's own buffers, a dedupe table that doubles as it grows,
    // spare storage for one more batch when more batches than ever before are in flight. An
    // allocation per record would be 0.25 a line, per request 0.75, per failed request 0.14.
    let flat = allocations_per_line(dir.path(), &stream(120_000, false));
    assert!(flat < 0.05, "{flat:.4} allocations per line");
    // serde_json's skipper takes a stack for a value nested two deep, once per line, and the
    // validator's object check once per row: two per record at most, half a line on average
    let nested = allocations_per_line(dir.path(), &stream(120_000, true));
    assert!(
        nested < 0.05 + 2.0 / 4.0,
        "{nested:.4} allocations per line"
    );
    eprintln!("allocations per line: {flat:.4} flat, {nested:.4} nested");
}
