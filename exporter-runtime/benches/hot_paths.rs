//! Hot paths of the core: NDJSON event parsing (fast path and the checked path for bad lines),
//! password redaction of a request's strings, and request statistics.
//!
//! `cargo bench -p exporter-core --bench hot_paths`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use exporter_runtime::{Line, ParsedEvent, parse_line};
use exporter_stats::RequestStats;

const RECORD: &str = r#"{"type":"record","data":{"place_id":"ChIJ000000012345x3039","name":"Müller \"Praxis\", Mitte","category":"dentist","address":"Hauptstraße 12, 10115 Berlin","city":"Berlin","country":"DE","phone":"+49 30 1234567","website":"https://example.com/12345","email":"info12345@example.com","rating":4.5,"reviews":345,"latitude":52.5234,"longitude":13.4111,"opening_hours":["Mo–Fr 08:00–18:00","Sa 09:00–12:00"],"tags":["parking","wifi"],"attributes":{"wheelchair":true,"floor":2},"claimed":true,"scraped_at":"2026-11-26T08:00:01.250Z","source_url":"https://www.google.com/maps/place/?q=place_id:12345"}}"#;
const REQUEST: &str = r#"{"type":"request","ts":"2026-11-26T08:00:01.250Z","proxy":"http://cust0044:pw0946a1734211@10.0.0.44:8080","url":"https://www.google.com/maps/search/dentist/@48.8999,11.7082,14z","status":200,"latency_ms":312.5,"bytes":20480}"#;
const ERROR: &str = r#"{"type":"error","ts":"2026-11-26T08:00:02Z","severity":"error","kind":"Timeout","message":"read timed out via http://u:pw@h:1","url":"https://example.com/b","proxy":"http://10.0.0.9:8080","context":{"attempt":3}}"#;
const BAD: &str =
    r#"{"type":"request","ts":"2026-11-26T08:00:00Z","proxy":"http://u:pw@h:1","status":"200"}"#;

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("ndjson_parse");
    for (name, line) in [
        ("record", RECORD),
        ("request", REQUEST),
        ("error", ERROR),
        ("bad_line", BAD),
    ] {
        group.throughput(Throughput::Bytes(line.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| parse_line(std::hint::black_box(line.as_bytes())))
        });
    }
    group.finish();
}

fn redact(c: &mut Criterion) {
    let mut group = c.benchmark_group("redact_in_place");
    for (name, text) in [
        (
            "proxy",
            "http://cust0044:pw0946a1734211@proxy-44.pool.example.net:8080",
        ),
        (
            "maps_url",
            "https://www.google.com/maps/search/dentist+near+city/@48.8999,11.7082,14z?hl=en&page=2",
        ),
        (
            "message",
            "connection reset by peer while reading the response body",
        ),
    ] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| {
            b.iter_batched_ref(
                || text.to_string(),
                exporter_core::redact_in_place,
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn stats(c: &mut Criterion) {
    let Line::Event(ParsedEvent::Request(request)) = parse_line(REQUEST.as_bytes()) else {
        unreachable!()
    };
    let mut group = c.benchmark_group("request_stats");
    group.throughput(Throughput::Elements(1));
    let mut s = RequestStats::default();
    group.bench_function("add", |b| b.iter(|| s.add(std::hint::black_box(&request))));
    group.finish();
}

criterion_group!(benches, parse, redact, stats);
criterion_main!(benches);
