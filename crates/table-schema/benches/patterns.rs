//! `pattern` constraints, one match at a time: the bench schema's six patterns on typical
//! cells, through the run matcher, and the same patterns through the `regex` crate for scale.
//!
//! `cargo bench -p exporter-csv --bench patterns`

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use table_schema::TableSchema;

const CASES: [(&str, &str, &str); 5] = [
    (
        "maps_url",
        "https?://\\S+",
        "https://www.google.com/maps/place/?q=place_id:ChIJ8qLEclaEape4V-t5Xjy08Sh&hl=de",
    ),
    (
        "email",
        "[^@\\s]+@[^@\\s]+\\.[^@\\s]+",
        "info@schafer-fitness.de",
    ),
    ("place_id", "[A-Za-z0-9_-]+", "ChIJ8qLEclaEape4V-t5Xjy08Sh"),
    ("phone", "[+0][0-9 ()./-]{4,30}", "030 1 503 4415"),
    ("country", "[A-Z]{2}", "DE"),
];

fn patterns(c: &mut Criterion) {
    let mut group = c.benchmark_group("pattern_match");
    for (name, pattern, text) in CASES {
        let schema = TableSchema::from_json(
            json!({"fields": [{"name": "x", "constraints": {"pattern": pattern}}]}),
        )
        .expect("a valid pattern");
        let compiled = schema.fields[0]
            .constraints
            .pattern
            .as_ref()
            .expect("a pattern");
        assert!(compiled.is_match(text), "{name}");
        group.bench_function(format!("runs/{name}"), |b| {
            b.iter(|| compiled.is_match(std::hint::black_box(text)))
        });
        let regex = regex::Regex::new(&format!("^(?:{pattern})$")).expect("a valid regex");
        group.bench_function(format!("regex/{name}"), |b| {
            b.iter(|| regex.is_match(std::hint::black_box(text)))
        });
    }
    group.finish();
}

criterion_group!(benches, patterns);
criterion_main!(benches);
