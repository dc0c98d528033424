//! `floor SCHEMA.json INPUT OUT_DIR`: parse every line into `serde_json::Value`; write each
//! record's schema columns to `OUT_DIR/results.csv`; count requests per proxy and write the
//! counts to `OUT_DIR/proxies.csv`. No validation, no guard, no dedupe, no staging, no hashes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter};

use serde_json::Value;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let schema: Value = serde_json::from_slice(&std::fs::read(&args[1]).unwrap()).unwrap();
    let columns: Vec<String> =
        schema["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string()).collect();
    let input = BufReader::with_capacity(1 << 20, std::fs::File::open(&args[2]).unwrap());
    let out = std::path::Path::new(&args[3]);
    std::fs::create_dir_all(out).unwrap();
    let mut csv = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, std::fs::File::create(out.join("results.csv")).unwrap()));
    csv.write_record(&columns).unwrap();
    let mut proxies: HashMap<String, [u64; 3]> = HashMap::new();
    let mut cell = String::new();
    let mut row: Vec<String> = vec![String::new(); columns.len()];
    for line in input.split(b'\n') {
        let line = line.unwrap();
        let Ok(v) = serde_json::from_slice::<Value>(&line) else { continue };
        match v.get("type").and_then(Value::as_str) {
            Some("record") => {
                let Some(data) = v.get("data").and_then(Value::as_object) else { continue };
                for (c, slot) in columns.iter().zip(row.iter_mut()) {
                    slot.clear();
                    match data.get(c) {
                        None | Some(Value::Null) => {}
                        Some(Value::String(s)) => slot.push_str(s),
                        Some(other) => {
                            cell.clear();
                            cell.push_str(&other.to_string());
                            slot.push_str(&cell);
                        }
                    }
                }
                csv.write_record(&row).unwrap();
            }
            Some("request") => {
                let Some(p) = v.get("proxy").and_then(Value::as_str) else { continue };
                let e = proxies.entry(p.to_string()).or_default();
                e[0] += 1;
                if matches!(v.get("status").and_then(Value::as_u64), Some(200..=399)) {
                    e[1] += 1;
                }
                if matches!(v.get("status").and_then(Value::as_u64), Some(403 | 407 | 429)) {
                    e[2] += 1;
                }
            }
            _ => {}
        }
    }
    csv.flush().unwrap();
    let mut w = csv::Writer::from_path(out.join("proxies.csv")).unwrap();
    w.write_record(["proxy", "requests", "ok", "blocked"]).unwrap();
    for (p, [n, ok, b]) in proxies {
        w.write_record([p, n.to_string(), ok.to_string(), b.to_string()]).unwrap();
    }
    w.flush().unwrap();
}
