//! What the kit feeds a plugin: a stream of every event kind with passwords everywhere, and
//! lead-like records for the table sinks' benchmarks.

use exporter_core::serde_json::{Map, Value, json};

/// The secrets the kit's stream carries; none may reach an output.
pub const SECRETS: [&str; 4] = ["kit-s3cret", "kit%2Fpass%21", "kitpass123", "hunter2kit"];

/// The stream the kit feeds: every event kind, awkward text, passwords in every place the
/// pipeline must mask them, and a bad line.
pub const SAMPLE_EVENTS: &str = r#"{"type":"campaign","id":"kit","name":"Kit run via http://ops:hunter2kit@10.9.9.9:3128"}
{"type":"record","data":{"place_id":"kit-1","name":"Dr. \"Smith\", Zahnärzte\nMitte","rating":4.5,"tags":["a","=b"]}}
{"type":"record","data":{"place_id":"kit-2","name":"=HYPERLINK(\"x\")","rating":3}}
{"type":"record","data":{"place_id":"kit-1","name":"duplicate","rating":1}}
{"type":"record","data":{"name":"no id","rating":9}}
{"type":"request","ts":"2026-11-26T08:00:01.250Z","proxy":"http://alice:kit-s3cret@10.0.0.7:8080","url":"https://example.com/a","status":200,"latency_ms":312.5,"bytes":20480}
{"type":"request","ts":"2026-11-26T08:00:02Z","proxy":"https://u%40team:kit%2Fpass%21@[2001:db8::1]:8443","status":null,"latency_ms":null,"error":"Timeout"}
{"type":"request","ts":"2026-11-26T08:00:03Z","proxy":"http://alice:kit-s3cret@10.0.0.7:8080","status":429}
{"type":"error","ts":"2026-11-26T08:00:04Z","kind":"ProxyError","message":"tunnel via socks5://bob:kitpass123@h:1080 failed","url":"https://x:kitpass123@example.com/","proxy":"socks5://bob:kitpass123@h:1080","context":{"proxy_url":"http://alice:kit-s3cret@10.0.0.7:8080"}}
{"type":"request","ts":"2026-11-26T08:00:05Z","proxy":"http://alice:kit-s3cret@10.0.0.7:8080","latency_ms":"3ms"}
"#;

/// Records the accounting check adds to the sample stream.
pub(crate) const EXTRA_RECORDS: u64 = 25;

/// `n` lead-like records, deterministic (a small LCG): text in several scripts, quotes,
/// numbers, booleans, arrays and an object, for the benchmarks of the table sinks.
///
/// ```
/// let records = exporter_testkit::lead_records(3);
/// assert_eq!(records.len(), 3);
/// assert!(records[0]["place_id"].is_string());
/// ```
pub fn lead_records(n: usize) -> Vec<Map<String, Value>> {
    let mut seed: u64 = 42;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as u32
    };
    let cities = ["Berlin", "München", "New York", "東京", "서울", "İstanbul"];
    (0..n)
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
