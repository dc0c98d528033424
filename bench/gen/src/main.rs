//! `gen-events --records N --requests M --errors E --proxies P [--seed S] [--first-uid U] [-o FILE]`
//!
//! A deterministic stream shaped like a real campaign's (docs/contract.md §2): business-listing
//! records in several scripts with the awkward content a results table must survive (quotes,
//! commas, line breaks, formula starts, emoji, long cells, huge and float-artefact numbers,
//! extra fields), duplicates and schema violations; requests through a proxy pool of good,
//! degraded and bad proxies (passwords, percent-encoded ones, IPv6 hosts, soft blocks, no
//! response); error events with contexts; bad lines and blank lines. The same arguments give
//! the same bytes. Memory stays flat: lines are written as they are made.

use exporter_bench_gen::{Shape, generate};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut records, mut requests, mut errors, mut proxy_count, mut seed, mut first_uid, mut out) = (
        10_000u64,
        30_000u64,
        1_000u64,
        50u64,
        42u64,
        0u64,
        "-".to_string(),
    );
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        let n = || {
            value
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--records" => records = n(),
            "--requests" => requests = n(),
            "--errors" => errors = n(),
            "--proxies" => proxy_count = n(),
            "--seed" => seed = n(),
            "--first-uid" => first_uid = n(),
            "-o" | "--output" => out = value,
            other => panic!("unknown argument {other}; see the source's header"),
        }
    }
    let shape = Shape {
        records,
        requests,
        errors,
        proxies: proxy_count,
        seed,
        first_uid,
    };
    if out == "-" {
        generate(shape, std::io::stdout().lock())
    } else {
        generate(shape, std::fs::File::create(&out)?)
    }
}
