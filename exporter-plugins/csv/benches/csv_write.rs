//! CSV writing throughput: the `csv` sink (schema checks, guard, dialect cells, dedupe,
//! staging, hashing, validation) fed records pushed as maps and records read from NDJSON,
//! against a bare `csv::Writer` writing the same rows, in one run.
//!
//! `cargo bench -p exporter-csv --bench csv_write`

use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use exporter_core::serde_json::{Map, Value, json};
use exporter_csv as _;
use exporter_runtime::Manifest;
use exporter_runtime::{Pipeline, RunOptions};

const ROWS: usize = 20_000;

/// Lead-like records, deterministic (a small LCG, no dependency).
fn records() -> Vec<Map<String, Value>> {
    let mut seed: u64 = 42;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as u32
    };
    let cities = ["Berlin", "München", "New York", "東京", "서울", "İstanbul"];
    (0..ROWS)
        .map(|i| {
            let r = next();
            let v = json!({
                "place_id": format!("ChIJ{i:08}{r:08x}"),
                "name": format!("Praxis \"Dr. {}\", {}", r % 977, cities[(r % 6) as usize]),
                "category": "dentist",
                "address": format!("Hauptstraße {}, 10115 {}", r % 200, cities[(r % 6) as usize]),
                "city": cities[(r % 6) as usize],
                "country": "DE",
                "phone": format!("+49 30 {:07}", r % 10_000_000),
                "website": format!("https://example.com/{r}"),
                "email": format!("info{r}@example.com"),
                "rating": ((r % 50) as f64) / 10.0,
                "reviews": r % 5000,
                "latitude": 52.0 + (r % 1000) as f64 / 1000.0,
                "longitude": 13.0 + (r % 1000) as f64 / 997.0,
                "opening_hours": ["Mo-Fr 08:00–18:00", "Sa 09:00–12:00"],
                "tags": ["parking", "wifi"],
                "attributes": {"wheelchair": true, "floor": r % 5},
                "claimed": r % 2 == 0,
                "scraped_at": "2026-11-26T08:00:01.250Z",
                "source_url": format!("https://www.google.com/maps/place/?q=place_id:{r}"),
            });
            match v {
                Value::Object(m) => m,
                _ => unreachable!(),
            }
        })
        .collect()
}

fn manifest(dir: &std::path::Path, dialect: &str) -> Manifest {
    let schema =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lead.schema.json");
    let text = format!(
        "[output]\ndir = {:?}\n[[sinks]]\ntype = \"csv\"\npath = \"results.csv\"\ndialect = \"{dialect}\"\nfsync = \"never\"\nschema = {:?}\ndedupe_on = [\"place_id\"]\n",
        dir.display().to_string(),
        schema.display().to_string()
    );
    Manifest::parse(&text, "bench.toml", dir).unwrap()
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn bench(c: &mut Criterion) {
    let records = records();
    let columns: Vec<&str> = records[0].keys().map(String::as_str).collect();
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("csv_write");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(20);

    for dialect in ["excel", "unix"] {
        let m = manifest(dir.path(), dialect);
        group.bench_function(format!("sink_{dialect}"), |b| {
            b.iter(|| {
                let mut p = Pipeline::new(&m, RunOptions::default()).unwrap();
                for r in &records {
                    p.record(r).unwrap();
                }
                p.finish().unwrap()
            })
        });
    }
    // The same rows as NDJSON: what a run reads (records stay JSON text, indexed on a parser
    // thread, cells taken from the text).
    let ndjson: String = records
        .iter()
        .map(|r| {
            format!(
                "{{\"type\":\"record\",\"data\":{}}}\n",
                Value::Object(r.clone())
            )
        })
        .collect();
    let m = manifest(dir.path(), "excel");
    group.bench_function("sink_excel_from_ndjson", |b| {
        b.iter(|| {
            let mut p = Pipeline::new(&m, RunOptions::default()).unwrap();
            p.read(ndjson.as_bytes(), "bench.ndjson").unwrap();
            p.finish().unwrap()
        })
    });
    // The floor: a bare csv::Writer writing the same rows (values already text).
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| columns.iter().map(|c| cell(&r[*c])).collect())
        .collect();
    group.bench_function("bare_csv_writer", |b| {
        b.iter(|| {
            let f = std::fs::File::create(dir.path().join("bare.csv")).unwrap();
            let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(256 * 1024, f));
            w.write_record(&columns).unwrap();
            for row in &rows {
                w.write_record(row).unwrap();
            }
            w.into_inner().unwrap().flush().unwrap();
        })
    });
    group.finish();
    let bytes = std::fs::metadata(dir.path().join("results.csv"))
        .map(|m| m.len())
        .unwrap_or(0);
    eprintln!(
        "results.csv: {bytes} bytes for {ROWS} rows ({:.0} bytes/row)",
        bytes as f64 / ROWS as f64
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
