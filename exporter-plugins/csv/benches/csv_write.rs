//! CSV writing throughput: the `csv` sink (schema checks, guard, dialect cells, dedupe,
//! staging, hashing, validation) fed records pushed as maps and records read from NDJSON,
//! against a bare `csv::Writer` writing the same rows, in one run.
//!
//! `cargo bench -p exporter-csv --bench csv_write`

use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use exporter_core::serde_json::Value;
use exporter_csv as _;
use exporter_runtime::Manifest;
use exporter_runtime::{Pipeline, RunOptions};

const ROWS: usize = 20_000;

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
    let records = exporter_testkit::lead_records(ROWS);
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
