//! The reports against an independent computation over a generated request stream: every
//! count exact, percentiles within 1% of the exact ones, passwords masked in every shape.

use std::collections::BTreeMap;

use exporter_core::serde_json::{self, Value, json};
use exporter_core::{FileUnderCheck, FindingCode, Request, Timestamp, Validator};
use exporter_json_schema::JsonSchemaValidator;
use exporter_proxy_performance::{OUTPUT_SCHEMA, ProxyTable};
use exporter_runtime::Manifest;
use exporter_runtime::{Pipeline, RunOptions};
use {exporter_campaign_summary as _, exporter_json_schema as _};

/// (as given in the stream, as the report must show it)
const PROXIES: [(&str, &str); 6] = [
    (
        "http://alice:s3cret@10.0.0.1:8080",
        "http://alice:***@10.0.0.1:8080",
    ),
    (
        "https://u%40team:p%3As%2Fw0rd%21@proxy.example.net:8443",
        "https://u%40team:***@proxy.example.net:8443",
    ),
    (
        "socks5://user-1-session-42@10.0.0.3:1080",
        "socks5://user-1-session-42@10.0.0.3:1080",
    ),
    (
        "http://bob:hunter2@[2001:db8::1]:8080",
        "http://bob:***@[2001:db8::1]:8080",
    ),
    ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
    ("http://carol:@10.0.0.6:8080", "http://carol:@10.0.0.6:8080"),
];

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// One request line and what it must count as: (proxy index, ts ms, status, latency, bytes,
/// error, ok, blocked).
type Truth = (
    usize,
    i64,
    Option<u16>,
    Option<f64>,
    Option<u64>,
    Option<&'static str>,
    bool,
    bool,
);

fn generate(n: usize) -> (String, Vec<Truth>) {
    let mut rng = Lcg(7);
    let mut text = String::new();
    let mut truth = Vec::new();
    for i in 0..n {
        let p = (rng.next() % PROXIES.len() as u64) as usize;
        // proxy i's quality: later proxies fail more
        let roll = rng.next() % 100;
        let ts_ms = 1_764_144_000_000 + i as i64 * 250;
        let (status, error): (Option<u16>, Option<&str>) = match roll {
            r if r < 3 * p as u64 => (
                None,
                Some(if r % 2 == 0 {
                    "Timeout"
                } else {
                    "ConnectionReset"
                }),
            ),
            r if r < 3 * p as u64 + 4 => (Some(403 + (r % 3) as u16 * 13), None), // 403, 416?, 429
            r if r < 3 * p as u64 + 6 => (Some(200), Some("CaptchaDetected")),
            r if r < 3 * p as u64 + 9 => (Some(503), None),
            r if r < 3 * p as u64 + 12 => (Some(301), None),
            _ => (Some(200), None),
        };
        let status = status.map(|s| if s == 416 { 407 } else { s });
        let latency =
            status.map(|_| ((rng.next() % 500_000) as f64) / 100.0 + 20.0 * (p as f64 + 1.0));
        let bytes = if rng.next().is_multiple_of(50) {
            None
        } else {
            Some(rng.next() % 100_000)
        };
        let explicit_ok = rng.next().is_multiple_of(4);
        let soft_block = error == Some("CaptchaDetected");
        let derived_ok = matches!(status, Some(200..=399)) && error.is_none();
        let derived_blocked = matches!(status, Some(403 | 407 | 429));
        let blocked = derived_blocked || soft_block;
        let ts = Timestamp::from_unix_seconds(ts_ms / 1000).unwrap();
        let mut line = json!({
            "type": "request",
            "ts": format!("{}", ts).replace('Z', &format!(".{:03}Z", ts_ms % 1000)),
            "proxy": PROXIES[p].0,
            "url": format!("https://example.com/{i}"),
            "status": status,
            "latency_ms": latency,
        });
        if let Some(b) = bytes {
            line["bytes"] = json!(b);
        }
        if let Some(e) = error {
            line["error"] = json!(e);
        }
        if explicit_ok {
            line["ok"] = json!(derived_ok);
        }
        if soft_block {
            line["blocked"] = json!(true);
        }
        text.push_str(&serde_json::to_string(&line).unwrap());
        text.push('\n');
        truth.push((p, ts_ms, status, latency, bytes, error, derived_ok, blocked));
    }
    (text, truth)
}

fn exact_quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((q * sorted.len() as f64).ceil() as usize).max(1) - 1]
}

fn run(events: &str) -> (tempfile::TempDir, Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = Manifest::parse(
        "[campaign]\nid = \"pp\"\n[output]\ndir = \"out\"\n[[sinks]]\ntype = \"proxy-performance\"\n[[sinks]]\ntype = \"campaign-summary\"\n",
        "m.toml",
        dir.path(),
    )
    .unwrap();
    let mut p = Pipeline::new(&manifest, RunOptions::default()).unwrap();
    p.read(events.as_bytes(), "requests.ndjson").unwrap();
    p.finish().unwrap();
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.path().join("out").join(name)).unwrap()).unwrap()
    };
    let (pp, summary) = (
        read("proxy_performance.json"),
        read("campaign_summary.json"),
    );
    (dir, pp, summary)
}

#[test]
fn every_count_matches_an_independent_computation() {
    let (events, truth) = generate(12_000);
    let (dir, report, summary) = run(&events);
    let text = std::fs::read_to_string(dir.path().join("out/proxy_performance.json")).unwrap();
    for secret in ["s3cret", "p%3As%2Fw0rd%21", "hunter2"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    let entries = report["proxies"].as_array().unwrap();
    assert_eq!(entries.len(), PROXIES.len());
    for (p, (_, shown)) in PROXIES.iter().enumerate() {
        let mine: Vec<&Truth> = truth.iter().filter(|t| t.0 == p).collect();
        let e = entries
            .iter()
            .find(|e| e["proxy"] == *shown)
            .unwrap_or_else(|| panic!("{shown} missing"));
        let count = |f: &dyn Fn(&&Truth) -> bool| mine.iter().filter(|t| f(t)).count() as u64;
        assert_eq!(e["requests"], mine.len() as u64);
        assert_eq!(e["ok"], count(&|t| t.6));
        assert_eq!(e["failed"], count(&|t| !t.6));
        assert_eq!(e["blocked"], count(&|t| t.7));
        assert_eq!(e["timeouts"], count(&|t| t.5 == Some("Timeout")));
        assert_eq!(e["bytes"], mine.iter().filter_map(|t| t.4).sum::<u64>());
        let mut codes: BTreeMap<String, u64> = BTreeMap::new();
        let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
        for t in &mine {
            if let Some(s) = t.2 {
                *codes.entry(s.to_string()).or_default() += 1;
            }
            if let Some(k) = t.5 {
                *kinds.entry(k.to_string()).or_default() += 1;
            }
        }
        assert_eq!(e["status_codes"], serde_json::to_value(&codes).unwrap());
        assert_eq!(e["errors"], serde_json::to_value(&kinds).unwrap());
        let sr = count(&|t| t.6) as f64 / mine.len() as f64;
        assert!((e["success_rate"].as_f64().unwrap() - sr).abs() <= 0.00005);
        let mut lat: Vec<f64> = mine.iter().filter_map(|t| t.3).collect();
        lat.sort_by(f64::total_cmp);
        let l = &e["latency_ms"];
        assert!((l["min"].as_f64().unwrap() - lat[0]).abs() <= 0.05);
        assert!((l["max"].as_f64().unwrap() - lat[lat.len() - 1]).abs() <= 0.05);
        let mean = lat.iter().sum::<f64>() / lat.len() as f64;
        assert!((l["mean"].as_f64().unwrap() - mean).abs() <= 0.05);
        for (key, q) in [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)] {
            let want = exact_quantile(&lat, q);
            let got = l[key].as_f64().unwrap();
            assert!(
                (got - want).abs() / want <= 0.01,
                "{shown} {key}: {got} vs exact {want}"
            );
        }
        let first = mine.iter().map(|t| t.1).min().unwrap();
        let first_ts = Timestamp::parse(e["first_used"].as_str().unwrap()).unwrap();
        assert_eq!(first_ts.unix_millis().round() as i64, first);
        assert!(e["score"].as_f64().unwrap() >= 0.0 && e["score"].as_f64().unwrap() <= 100.0);
    }
    let scores: Vec<f64> = entries
        .iter()
        .map(|e| e["score"].as_f64().unwrap())
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "sorted by score: {scores:?}"
    );
    // the summary's request totals equal the sums
    let s = &summary["requests"];
    assert_eq!(s["total"], truth.len() as u64);
    assert_eq!(s["ok"], truth.iter().filter(|t| t.6).count() as u64);
    assert_eq!(s["blocked"], truth.iter().filter(|t| t.7).count() as u64);
    assert_eq!(report["totals"]["requests"], truth.len() as u64);
    assert_eq!(summary["proxies"]["used"], PROXIES.len() as u64);
    let h = &summary["proxies"];
    let by_health = |c: &str| entries.iter().filter(|e| e["health"] == c).count() as u64;
    assert_eq!(
        (
            h["healthy"].as_u64(),
            h["degraded"].as_u64(),
            h["failing"].as_u64()
        ),
        (
            Some(by_health("healthy")),
            Some(by_health("degraded")),
            Some(by_health("failing"))
        )
    );
    assert_eq!(
        summary["outputs"][0]["validated"], true,
        "written file passed the json-schema validator"
    );
}

#[test]
fn halves_merge_into_the_whole() {
    let (events, _) = generate(4_000);
    let parse = |line: &str| -> Request {
        match exporter_runtime::parse_line(line.as_bytes()) {
            exporter_runtime::Line::Event(exporter_runtime::ParsedEvent::Request(mut r)) => {
                exporter_core::redact_in_place(&mut r.proxy);
                *r
            }
            other => panic!("{other:?}"),
        }
    };
    let (mut whole, mut a, mut b) = (
        ProxyTable::default(),
        ProxyTable::default(),
        ProxyTable::default(),
    );
    for (i, line) in events.lines().enumerate() {
        let r = parse(line);
        whole.add(&r);
        if i % 2 == 0 { a.add(&r) } else { b.add(&r) }
    }
    a.merge(&b);
    let weights = Default::default();
    let thresholds = Default::default();
    assert_eq!(
        a.entries(&weights, &thresholds),
        whole.entries(&weights, &thresholds)
    );
}

#[test]
fn a_broken_report_is_rejected_with_the_json_path() {
    let (events, _) = generate(300);
    let (dir, mut report, _) = run(&events);
    let validator = JsonSchemaValidator::new(OUTPUT_SCHEMA).unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, serde_json::to_vec(&report).unwrap()).unwrap();
    assert!(
        validator
            .check(&FileUnderCheck {
                path: &path,
                name: "broken.json",
                rows: None
            })
            .is_empty()
    );
    report["proxies"][1]["score"] = json!(150);
    report["proxies"][0]["proxy"] = json!("http://alice:s3cret@10.0.0.1:8080");
    report.as_object_mut().unwrap().remove("totals");
    std::fs::write(&path, serde_json::to_vec(&report).unwrap()).unwrap();
    let findings = validator.check(&FileUnderCheck {
        path: &path,
        name: "broken.json",
        rows: None,
    });
    let fields: Vec<&str> = findings
        .iter()
        .map(|f| f.field.as_deref().unwrap())
        .collect();
    assert!(findings.iter().all(|f| f.code == FindingCode::SchemaError));
    assert!(fields.contains(&"/proxies/1/score"), "{findings:?}");
    assert!(
        fields.contains(&"/proxies/0/proxy"),
        "a password in the report is a schema error: {findings:?}"
    );
    assert!(
        fields.contains(&"/"),
        "missing `totals` at the root: {findings:?}"
    );
}

/// Six proxies whose rates and median latency are chosen so every score can be worked out by
/// hand: (proxy, requests as (status, latency_ms, extra fields)).
fn hand_made_stream() -> String {
    let mut lines = Vec::new();
    let mut push = |proxy: &str, status: Option<u16>, latency: Option<f64>, extra: &str| {
        let n = lines.len();
        lines.push(format!(
            r#"{{"type":"request","ts":"2026-11-26T08:{:02}:{:02}Z","proxy":"{proxy}","status":{},"latency_ms":{}{extra}}}"#,
            n / 60,
            n % 60,
            status.map_or("null".into(), |s| s.to_string()),
            latency.map_or("null".into(), |l| l.to_string()),
        ));
    };
    // p1: all fine and fast
    for _ in 0..10 {
        push("http://10.0.0.1:8080", Some(200), Some(300.0), "");
    }
    // p2: 9 of 10 ok, median 1400 ms (the linear region)
    for i in 0..10 {
        let status = if i == 0 { 500 } else { 200 };
        push("http://10.0.0.2:8080", Some(status), Some(1400.0), "");
    }
    // p3: 4 ok, 1 blocked (429), median 3200 ms
    for i in 0..5 {
        let status = if i == 4 { 429 } else { 200 };
        push("http://10.0.0.3:8080", Some(status), Some(3200.0), "");
    }
    // p4: 2 ok at 6000 ms (past latency_bad_ms), 2 timeouts without a response
    for _ in 0..2 {
        push("socks5://10.0.0.4:1080", Some(200), Some(6000.0), "");
        push(
            "socks5://10.0.0.4:1080",
            None,
            None,
            r#","error":"Timeout""#,
        );
    }
    // p5: no response at all
    for _ in 0..2 {
        push(
            "http://10.0.0.5:8080",
            None,
            None,
            r#","error":"ProxyError""#,
        );
    }
    // p6: explicit flags that contradict the status: two 200s not ok, a 429 not blocked, a
    // 200 blocked (and, by its status, ok); derived from the statuses alone it would be 4 ok
    // and 1 blocked
    for extra in [
        r#","ok":false"#,
        r#","ok":false"#,
        r#","blocked":false"#,
        r#","blocked":true"#,
        "",
    ] {
        let status = if extra == r#","blocked":false"# {
            429
        } else {
            200
        };
        push("http://10.0.0.6:8080", Some(status), Some(500.0), extra);
    }
    lines.join("\n") + "\n"
}

fn run_with(table: &str, events: &str) -> (Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[campaign]\nid = \"hand\"\n[output]\ndir = \"out\"\n[[sinks]]\ntype = \"proxy-performance\"\n{table}\n[[sinks]]\ntype = \"campaign-summary\"\n"
    );
    let manifest = Manifest::parse(&text, "m.toml", dir.path()).unwrap();
    let mut p = Pipeline::new(&manifest, RunOptions::default()).unwrap();
    p.read(events.as_bytes(), "hand.ndjson").unwrap();
    p.finish().unwrap();
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.path().join("out").join(name)).unwrap()).unwrap()
    };
    (
        read("proxy_performance.json"),
        read("campaign_summary.json"),
    )
}

/// (proxy, ok, blocked, success_rate, block_rate, p50, score, health), in report order.
type Expected = (
    &'static str,
    u64,
    u64,
    f64,
    f64,
    Option<f64>,
    f64,
    &'static str,
);

fn assert_entries(report: &Value, summary: &Value, expected: &[Expected]) {
    let entries = report["proxies"].as_array().unwrap();
    let got: Vec<&str> = entries
        .iter()
        .map(|e| e["proxy"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = expected.iter().map(|e| e.0).collect();
    assert_eq!(got, want, "sorted by score, then proxy");
    for (e, (proxy, ok, blocked, success, block, p50, score, health)) in
        entries.iter().zip(expected)
    {
        let p50_got = e["latency_ms"]["p50"].as_f64();
        assert_eq!(
            (
                e["ok"].as_u64().unwrap(),
                e["blocked"].as_u64().unwrap(),
                e["success_rate"].as_f64().unwrap(),
                e["block_rate"].as_f64().unwrap(),
                p50_got,
                e["score"].as_f64().unwrap(),
                e["health"].as_str().unwrap(),
            ),
            (*ok, *blocked, *success, *block, *p50, *score, *health),
            "{proxy}"
        );
    }
    let count = |h: &str| expected.iter().filter(|e| e.7 == h).count() as u64;
    let p = &summary["proxies"];
    assert_eq!(
        (
            p["used"].as_u64(),
            p["healthy"].as_u64(),
            p["degraded"].as_u64(),
            p["failing"].as_u64()
        ),
        (
            Some(expected.len() as u64),
            Some(count("healthy")),
            Some(count("degraded")),
            Some(count("failing"))
        )
    );
}

#[test]
fn scores_and_health_match_values_worked_out_by_hand() {
    // default weights 0.6 / 0.25 / 0.15, latency bounds 500 / 5000 ms, so
    // L = clamp((5000 - p50) / 4500, 0, 1); thresholds 0.85 / 0.05 healthy, 0.60 / 0.15 failing
    let (report, summary) = run_with("", &hand_made_stream());
    let expected: [Expected; 6] = [
        // 100 * (0.6 * 1 + 0.25 * 1 + 0.15 * 1)
        (
            "http://10.0.0.1:8080",
            10,
            0,
            1.0,
            0.0,
            Some(300.0),
            100.0,
            "healthy",
        ),
        // L = 3600 / 4500 = 0.8: 100 * (0.54 + 0.25 + 0.12)
        (
            "http://10.0.0.2:8080",
            9,
            0,
            0.9,
            0.0,
            Some(1400.0),
            91.0,
            "healthy",
        ),
        // L = 1800 / 4500 = 0.4: 100 * (0.48 + 0.2 + 0.06); block rate 0.2 > 0.15
        (
            "http://10.0.0.3:8080",
            4,
            1,
            0.8,
            0.2,
            Some(3200.0),
            74.0,
            "failing",
        ),
        // the flags as given: ok 2 of 5, blocked 1 of 5, L = 1: 100 * (0.24 + 0.2 + 0.15)
        // (from the statuses alone: 100 * (0.48 + 0.2 + 0.15) = 83.0)
        (
            "http://10.0.0.6:8080",
            2,
            1,
            0.4,
            0.2,
            Some(500.0),
            59.0,
            "failing",
        ),
        // median of the responses only (the timeouts have none): 6000 ms, so L = 0;
        // 100 * (0.3 + 0.25 + 0); success rate 0.5 < 0.60
        (
            "socks5://10.0.0.4:1080",
            2,
            0,
            0.5,
            0.0,
            Some(6000.0),
            55.0,
            "failing",
        ),
        // no response: L = 0; 100 * (0 + 0.25 + 0)
        (
            "http://10.0.0.5:8080",
            0,
            0,
            0.0,
            0.0,
            None,
            25.0,
            "failing",
        ),
    ];
    assert_entries(&report, &summary, &expected);
}

#[test]
fn custom_weights_and_thresholds_give_the_values_worked_out_by_hand() {
    let table = "[sinks.score]\nsuccess = 0.5\nnot_blocked = 0.3\nlatency = 0.2\nlatency_good_ms = 1000\nlatency_bad_ms = 3000\n[sinks.thresholds]\nhealthy_min_success = 0.95\nhealthy_max_block = 0.0\nfailing_below_success = 0.5\nfailing_above_block = 0.3\n";
    let (report, summary) = run_with(table, &hand_made_stream());
    // L = clamp((3000 - p50) / 2000, 0, 1)
    let expected: [Expected; 6] = [
        (
            "http://10.0.0.1:8080",
            10,
            0,
            1.0,
            0.0,
            Some(300.0),
            100.0,
            "healthy",
        ),
        // L = 0.8: 100 * (0.45 + 0.3 + 0.16); 0.9 < 0.95 healthy, not below 0.5
        (
            "http://10.0.0.2:8080",
            9,
            0,
            0.9,
            0.0,
            Some(1400.0),
            91.0,
            "degraded",
        ),
        // L = 0: 100 * (0.4 + 0.24); block 0.2 within 0.3 -- ties p6, first by proxy
        (
            "http://10.0.0.3:8080",
            4,
            1,
            0.8,
            0.2,
            Some(3200.0),
            64.0,
            "degraded",
        ),
        // L = 1: 100 * (0.2 + 0.24 + 0.2); success 0.4 < 0.5
        (
            "http://10.0.0.6:8080",
            2,
            1,
            0.4,
            0.2,
            Some(500.0),
            64.0,
            "failing",
        ),
        // 100 * (0.25 + 0.3); success 0.5 is not below 0.5
        (
            "socks5://10.0.0.4:1080",
            2,
            0,
            0.5,
            0.0,
            Some(6000.0),
            55.0,
            "degraded",
        ),
        (
            "http://10.0.0.5:8080",
            0,
            0,
            0.0,
            0.0,
            None,
            30.0,
            "failing",
        ),
    ];
    assert_entries(&report, &summary, &expected);
    assert_eq!(report["score"]["success"], 0.5);
    assert_eq!(report["score"]["latency_bad_ms"], 3000.0);
    assert_eq!(report["thresholds"]["healthy_min_success"], 0.95);
}
