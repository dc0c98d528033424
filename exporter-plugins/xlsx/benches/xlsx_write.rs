//! Workbook writing throughput, in cells per second: the `xlsx` sink fed NDJSON records
//! (checks, typed cells, dedupe, constant-memory worksheet, compression, staging, hashing),
//! without and with its read-back validator, against a bare `rust_xlsxwriter` writing the
//! same cells, in one run. rust_xlsxwriter publishes about 1M cells/s in constant-memory mode.
//!
//! `cargo bench -p exporter-xlsx --bench xlsx_write`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use exporter_core::serde_json::Value;
use exporter_runtime::{Manifest, Pipeline, RunOptions};
use exporter_xlsx as _;
use rust_xlsxwriter::Workbook;

const ROWS: usize = 20_000;

fn manifest(dir: &std::path::Path, validate: &str) -> (Manifest, usize) {
    let schema_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lead.schema.json");
    let schema: Value =
        exporter_core::serde_json::from_slice(&std::fs::read(&schema_path).unwrap()).unwrap();
    let fields = schema["fields"].as_array().unwrap().len();
    let text = format!(
        "[output]\ndir = {:?}\n[[sinks]]\ntype = \"xlsx\"\npath = \"results.xlsx\"\nfsync = \"never\"\nvalidate = {validate}\nschema = {:?}\ndedupe_on = [\"place_id\"]\n",
        dir.display().to_string(),
        schema_path.display().to_string()
    );
    (Manifest::parse(&text, "bench.toml", dir).unwrap(), fields)
}

fn bench(c: &mut Criterion) {
    let records = exporter_testkit::lead_records(ROWS);
    let ndjson: String = records
        .iter()
        .map(|r| {
            format!(
                "{{\"type\":\"record\",\"data\":{}}}\n",
                Value::Object(r.clone())
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (_, fields) = manifest(dir.path(), "[]");
    let mut group = c.benchmark_group("xlsx_write");
    group.throughput(Throughput::Elements((ROWS * fields) as u64));
    group.sample_size(10);
    for (name, validate) in [
        ("sink", r#"["exists"]"#),
        ("sink_and_read_back", r#"["exists", "xlsx-table-schema"]"#),
    ] {
        let (m, _) = manifest(dir.path(), validate);
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut p = Pipeline::new(&m, RunOptions::default()).unwrap();
                p.read(ndjson.as_bytes(), "bench.ndjson").unwrap();
                p.finish().unwrap()
            })
        });
    }
    // the floor: rust_xlsxwriter alone, the cells already typed (text or number)
    let columns: Vec<&str> = records[0].keys().map(String::as_str).collect();
    group.bench_function("bare_rust_xlsxwriter", |b| {
        b.iter(|| {
            let mut book = Workbook::new();
            book.set_tempdir(dir.path()).unwrap();
            book.set_zip_compression_level(3);
            let sheet = book.add_worksheet_with_constant_memory().unwrap();
            for (col, name) in columns.iter().enumerate() {
                sheet.write_string(0, col as u16, *name).unwrap();
            }
            for (row, r) in records.iter().enumerate() {
                for (col, name) in columns.iter().enumerate() {
                    let (row, col) = (row as u32 + 1, col as u16);
                    match &r[*name] {
                        Value::Number(n) => {
                            sheet.write_number(row, col, n.as_f64().unwrap()).unwrap();
                        }
                        Value::String(s) => {
                            sheet.write_string(row, col, s).unwrap();
                        }
                        Value::Null => {}
                        other => {
                            sheet.write_string(row, col, other.to_string()).unwrap();
                        }
                    }
                }
            }
            book.save(dir.path().join("bare.xlsx")).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
