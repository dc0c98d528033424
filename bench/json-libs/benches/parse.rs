//! One step of a run, done four ways on the same event lines (those of
//! `examples/events.ndjson`, records, requests and errors): read the line, check all of it,
//! and index the members of a record's `data` as (key, value text) spans. The exporter's
//! own cursor does exactly that; sonic-rs's lazy object iterator is its closest counterpart
//! (it does not check the values it skips, so it does less); simd-json's tape is the least
//! it can do before any indexing (a copy of the line, checked, into a tape); serde_json's
//! borrowed raw values are the reference.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use exporter_json::{Cursor, JsonObject};

fn lines() -> Vec<String> {
    let text = include_bytes!("../../../examples/events.ndjson");
    let lines: Vec<String> = text
        .split(|&b| b == b'\n')
        .filter_map(|l| std::str::from_utf8(l).ok())
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v.is_object()))
        .map(str::to_string)
        .collect();
    lines.iter().cycle().take(4096).cloned().collect()
}

/// The cursor: every member of the line read and checked, `data` indexed in the same pass.
fn by_cursor(line: &str, data: &mut JsonObject) -> usize {
    let mut c = Cursor::new(line);
    let mut n = 0;
    c.eat(b'{').unwrap();
    loop {
        let (key, _) = c.member_key().unwrap();
        if key == "data" && c.peek() == Some(b'{') {
            data.index_members(&mut c).unwrap();
            n += data.member_index().len();
        } else {
            c.value().unwrap();
        }
        match c.peek().unwrap() {
            b',' => c.eat(b',').unwrap(),
            _ => break,
        }
    }
    n
}

fn by_sonic(line: &str) -> usize {
    let mut n = 0;
    for member in sonic_rs::to_object_iter(line) {
        let (key, value) = member.unwrap();
        if key == "data" && value.as_raw_str().starts_with('{') {
            for inner in sonic_rs::to_object_iter(value.as_raw_str()) {
                let (k, v) = inner.unwrap();
                n += black_box(k.len() + v.as_raw_str().len()).min(1);
            }
        }
    }
    n
}

fn by_simd_json(line: &str, scratch: &mut Vec<u8>, buffers: &mut simd_json::Buffers) -> usize {
    scratch.clear();
    scratch.extend_from_slice(line.as_bytes());
    // a number beyond 64 bits (`1e400`, a 30-digit integer) is refused: counted as 0
    simd_json::to_tape_with_buffers(scratch, buffers).map_or(0, |t| t.0.len())
}

fn by_serde(line: &str) -> usize {
    let members: std::collections::HashMap<&str, &serde_json::value::RawValue> =
        serde_json::from_str(line).unwrap();
    match members.get("data") {
        Some(data) if data.get().starts_with('{') => {
            let inner: Vec<(&str, &serde_json::value::RawValue)> =
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(data.get())
                    .map(|_| Vec::new())
                    .unwrap();
            inner.len()
        }
        _ => 0,
    }
}

fn parse(c: &mut Criterion) {
    let lines = lines();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let refused = lines
        .iter()
        .filter(|l| simd_json::to_tape(&mut l.as_bytes().to_vec()).is_err())
        .count();
    eprintln!("simd-json refuses {refused} of {} valid lines", lines.len());
    let mut group = c.benchmark_group("event_lines");
    group.throughput(Throughput::Bytes(bytes as u64));
    let mut data = JsonObject::spare();
    group.bench_function("exporter_json_cursor", |b| {
        b.iter(|| lines.iter().map(|l| by_cursor(black_box(l), &mut data)).sum::<usize>())
    });
    group.bench_function("sonic_rs_lazy_iter", |b| {
        b.iter(|| lines.iter().map(|l| by_sonic(black_box(l))).sum::<usize>())
    });
    let mut scratch = Vec::new();
    let mut buffers = simd_json::Buffers::default();
    group.bench_function("simd_json_tape", |b| {
        b.iter(|| {
            lines
                .iter()
                .map(|l| by_simd_json(black_box(l), &mut scratch, &mut buffers))
                .sum::<usize>()
        })
    });
    group.bench_function("serde_json_raw", |b| {
        b.iter(|| lines.iter().map(|l| by_serde(black_box(l))).sum::<usize>())
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
