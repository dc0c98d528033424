//! Proxy aggregation: one request into the per-proxy table (500 proxies).
//!
//! `cargo bench -p exporter-proxy-performance --bench aggregate`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use exporter_core::{Request, Timestamp};
use exporter_proxy_performance::ProxyTable;

fn aggregate(c: &mut Criterion) {
    let ts = Timestamp::parse("2026-11-26T08:00:01.250Z").unwrap();
    let requests: Vec<Request> = (0..5000u32)
        .map(|i| Request {
            status: Some(if i % 17 == 0 { 429 } else { 200 }),
            latency_ms: Some(100.0 + f64::from(i % 900)),
            bytes: Some(20_480),
            ..Request::new(
                ts,
                format!(
                    "http://cust{:04}:***@10.0.{}.{}:8080",
                    i % 500,
                    i % 500 / 256,
                    i % 256
                ),
            )
        })
        .collect();
    let mut group = c.benchmark_group("proxy_aggregation");
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function("add_5000_requests_500_proxies", |b| {
        b.iter(|| {
            let mut t = ProxyTable::default();
            for r in &requests {
                t.add(r);
            }
            t
        })
    });
    group.finish();
}

criterion_group!(benches, aggregate);
criterion_main!(benches);
