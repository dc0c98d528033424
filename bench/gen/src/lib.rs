//! `gen-events --records N --requests M --errors E --proxies P [--seed S] [-o FILE]`
//!
//! A deterministic stream shaped like a real campaign's (docs/contract.md §2): business-listing
//! records in several scripts with the awkward content a results table must survive (quotes,
//! commas, line breaks, formula starts, emoji, long cells, huge and float-artefact numbers,
//! extra fields), duplicates and schema violations; requests through a proxy pool of good,
//! degraded and bad proxies (passwords, percent-encoded ones, IPv6 hosts, soft blocks, no
//! response); error events with contexts; bad lines and blank lines. The same arguments give
//! the same bytes. Memory stays flat: lines are written as they are made.
//!
//! Also a library, so tests can make the same streams without the binary.

use std::io::{BufWriter, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const CATEGORIES: [&str; 8] = [
    "dentist",
    "restaurant",
    "cafe",
    "plumber",
    "lawyer",
    "gym",
    "pharmacy",
    "hotel",
];
const CITIES: [(&str, &str, f64, f64, &str); 8] = [
    ("Berlin", "DE", 52.52, 13.40, "+49 30"),
    ("München", "DE", 48.14, 11.58, "+49 89"),
    ("New York", "US", 40.71, -74.00, "+1 212"),
    ("東京", "JP", 35.68, 139.69, "+81 3"),
    ("서울", "KR", 37.57, 126.98, "+82 2"),
    ("İstanbul", "TR", 41.01, 28.98, "+90 212"),
    ("Москва", "RU", 55.75, 37.62, "+7 495"),
    ("القاهرة", "EG", 30.04, 31.24, "+20 2"),
];
const SURNAMES: [&str; 10] = [
    "Müller",
    "Schmidt",
    "García",
    "佐藤",
    "김",
    "Yılmaz",
    "Иванов",
    "O'Brien",
    "Nguyễn",
    "Dubois",
];
const NASTY: [&str; 12] = [
    "Dr. \"Best\" Smile",
    "Smile, Teeth & Co., Ltd.",
    "line one\nline two",
    "crlf\r\ninside",
    "=HYPERLINK(\"http://evil\")",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\tTabbed",
    "Family 👩‍👩‍👧‍👦 Dental 🇩🇪",
    "\u{202E}reversed\u{202C} text",
    "zero\u{200B}width\u{FEFF}bom",
];
const ERROR_KINDS: [&str; 6] = [
    "Timeout",
    "ConnectionReset",
    "ProxyError",
    "HTTPError",
    "ParseError",
    "CaptchaDetected",
];
const SEVERITIES: [&str; 5] = ["debug", "info", "warning", "error", "critical"];
const BAD_LINES: [&str; 8] = [
    "{\"type\":\"record\",\"data\":{\"place_id\":\"ChIJtrunc",
    "<html><body><h1>502 Bad Gateway</h1></body></html>",
    "{'type': 'record', 'data': {}}",
    "{\"type\":\"heartbeat\",\"worker\":3}",
    "{\"type\":\"request\",\"ts\":\"2026-11-26T08:00:00Z\",\"proxy\":\"http://u:pw@h:1\",\"status\":\"200\"}",
    "{\"type\":\"request\",\"ts\":\"2026-11-26T08:00:00Z\",\"proxy\":\"http://u:pw@h:1\",\"latency_ms\":NaN}",
    "[{\"type\":\"record\"}]",
    "{\"type\":\"error\",\"ts\":\"2026-11-26T08:00:00Z\",\"kind\":\"Timeout\"}",
];

struct Proxy {
    url: String,
    fail: f64,
    block: f64,
    latency: f64,
}

fn proxies(rng: &mut Rng, n: u64) -> Vec<Proxy> {
    (0..n)
        .map(|i| {
            let host = if i % 97 == 13 {
                format!("[2001:db8::{:x}]", i + 1)
            } else {
                format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256)
            };
            let auth = match rng.below(100) {
                0..45 => format!("cust{i:04}:pw{:012x}@", rng.next() & 0xFFFF_FFFF_FFFF),
                45..52 => format!("u%40team{i}:p%3As%2Fw0rd%21{i}@"),
                52..60 => format!("user-{i}-session-{}@", rng.below(9000) + 1000),
                _ => String::new(),
            };
            let scheme = ["http", "http", "https", "socks5"][rng.below(4) as usize];
            let (fail, block, latency) = match i % 10 {
                0 => (0.4, 0.2, 3000.0),      // bad
                1 | 2 => (0.1, 0.08, 1000.0), // degraded
                _ => (0.02, 0.015, 300.0),    // good
            };
            Proxy {
                url: format!("{scheme}://{auth}{host}:8080"),
                fail,
                block,
                latency,
            }
        })
        .collect()
}

fn ts(ms: u64) -> String {
    let s = ms / 1000;
    format!(
        "2026-11-26T{:02}:{:02}:{:02}.{:03}Z",
        8 + s / 3600 % 16,
        s / 60 % 60,
        s % 60,
        ms % 1000
    )
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn record(rng: &mut Rng, uid: u64, ms: u64) -> String {
    let (city, country, lat, lon, prefix) = CITIES[(uid % CITIES.len() as u64) as usize];
    let category = CATEGORIES[(uid / 7 % CATEGORIES.len() as u64) as usize];
    let mut name = format!(
        "{} {}",
        SURNAMES[(uid / 3 % 10) as usize],
        ["Praxis", "Kitchen", "Services", "Clinic"][(uid % 4) as usize]
    );
    let mut address = format!(
        "Hauptstraße {}, {} {}",
        uid % 200 + 1,
        10_000 + uid % 89_999,
        city
    );
    if rng.chance(0.02) {
        name = rng.pick(&NASTY).to_string();
    }
    if rng.chance(0.0001) {
        address = "长".repeat(40_000);
    }
    let mut extra = String::new();
    if rng.chance(0.01) {
        extra = ",\"_debug\":{\"worker\":3}".into();
    }
    let attributes = if rng.chance(0.01) {
        "{\"big\":1e21,\"tiny\":5e-324,\"float\":0.30000000000000004,\"exact\":9007199254740993}"
            .to_string()
    } else {
        format!(
            "{{\"wheelchair\":{},\"floor\":{}}}",
            uid.is_multiple_of(2),
            uid % 5
        )
    };
    let mut rating = format!("{:.1}", (uid % 50) as f64 / 10.0);
    if rng.chance(0.002) {
        rating = "7.5".into(); // breaks the schema's maximum
    }
    format!(
        "{{\"type\":\"record\",\"data\":{{\"place_id\":\"ChIJ{uid:012}x{:04x}\",\"name\":{},\"category\":\"{category}\",\"address\":{},\"city\":{},\"country\":\"{country}\",\"phone\":\"{prefix} {:07}\",\"website\":\"https://example.com/{uid}\",\"email\":\"info{uid}@example.com\",\"rating\":{rating},\"reviews\":{},\"latitude\":{},\"longitude\":{},\"opening_hours\":[\"Mo–Fr 08:00\u{202f}–\u{2009}18:00\",\"Sa 09:00–12:00\"],\"tags\":[\"parking\",\"wifi\"],\"attributes\":{attributes},\"claimed\":{},\"scraped_at\":\"{}\",\"source_url\":\"https://www.google.com/maps/place/?q=place_id:{uid}\"{extra}}}}}",
        uid & 0xFFFF,
        json_str(&name),
        json_str(&address),
        json_str(city),
        uid % 10_000_000,
        uid * 7 % 5000,
        lat + (uid % 1000) as f64 / 10_000.0,
        lon + (uid % 997) as f64 / 10_000.0,
        uid.is_multiple_of(3),
        ts(ms)
    )
}

fn request(rng: &mut Rng, pool: &[Proxy], ms: u64) -> String {
    let p = &pool[rng.below(pool.len() as u64) as usize];
    let roll = rng.unit();
    let (status, error, blocked) = if roll < p.fail * 0.4 {
        (
            "null".to_string(),
            Some(["Timeout", "ConnectionReset", "ProxyError"][rng.below(3) as usize]),
            None,
        )
    } else if roll < p.fail * 0.4 + p.block {
        (
            ["403", "429", "407"][rng.below(3) as usize].to_string(),
            None,
            None,
        )
    } else if roll < p.fail * 0.4 + p.block + 0.01 {
        ("200".to_string(), Some("CaptchaDetected"), Some(true))
    } else if roll < p.fail + p.block {
        (
            ["404", "500", "503"][rng.below(3) as usize].to_string(),
            None,
            None,
        )
    } else {
        (
            ["200", "200", "200", "200", "301"][rng.below(5) as usize].to_string(),
            None,
            None,
        )
    };
    let latency = if status == "null" {
        "null".to_string()
    } else {
        format!(
            "{:.1}",
            p.latency * (0.3 + 1.4 * rng.unit()) * (1.0 + rng.unit().powi(8) * 20.0)
        )
    };
    let mut line = format!(
        "{{\"type\":\"request\",\"ts\":\"{}\",\"proxy\":{},\"url\":\"https://www.google.com/maps/search/dentist/@48.{:04},11.{:04},14z\",\"status\":{status},\"latency_ms\":{latency},\"bytes\":{}",
        ts(ms),
        json_str(&p.url),
        rng.below(10_000),
        rng.below(10_000),
        rng.below(200_000)
    );
    if let Some(e) = error {
        line.push_str(&format!(",\"error\":\"{e}\""));
    }
    if let Some(b) = blocked {
        line.push_str(&format!(",\"blocked\":{b}"));
    }
    line.push('}');
    line
}

fn error(rng: &mut Rng, pool: &[Proxy], ms: u64) -> String {
    let p = &pool[rng.below(pool.len() as u64) as usize];
    let kind = rng.pick(&ERROR_KINDS);
    let severity = rng.pick(&SEVERITIES);
    let message = match rng.below(4) {
        0 => format!("read timed out after {}s via {}", rng.below(60), p.url),
        1 => {
            "Traceback (most recent call last):\n  File \"spider.py\", line 42\nValueError: \"bad\""
                .to_string()
        }
        2 => "=cmd|' /C calc'!A0".to_string(),
        _ => format!(
            "HTTP {} from upstream",
            [500, 502, 503][rng.below(3) as usize]
        ),
    };
    format!(
        "{{\"type\":\"error\",\"ts\":\"{}\",\"severity\":\"{severity}\",\"kind\":\"{kind}\",\"message\":{},\"url\":\"https://www.google.com/maps/place/?q={}\",\"proxy\":{},\"context\":{{\"attempt\":{},\"proxy_url\":{}}}}}",
        ts(ms),
        json_str(&message),
        rng.below(1_000_000),
        json_str(&p.url),
        rng.below(5) + 1,
        json_str(&p.url)
    )
}

/// The size of a generated stream.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Record events (about 2% duplicates of recent ones).
    pub records: u64,
    /// Request events.
    pub requests: u64,
    /// Error events.
    pub errors: u64,
    /// Proxies in the pool.
    pub proxies: u64,
    /// The seed: the same shape and seed give the same bytes.
    pub seed: u64,
    /// Where record ids start: streams with ranges far apart share no record (four
    /// publishers of one campaign, each with its own places).
    pub first_uid: u64,
}

impl Shape {
    /// The bench README's medium stream (405,621 lines).
    pub const MEDIUM: Shape = Shape {
        records: 100_000,
        requests: 300_000,
        errors: 5_000,
        proxies: 200,
        seed: 42,
        first_uid: 0,
    };
}

/// Writes the stream of `shape` to `sink`.
pub fn generate(shape: Shape, sink: impl Write) -> std::io::Result<()> {
    let Shape {
        records,
        requests,
        errors,
        proxies: proxy_count,
        seed,
        first_uid,
    } = shape;
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let pool = proxies(&mut rng, proxy_count.max(1));
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    writeln!(
        w,
        "{{\"type\":\"campaign\",\"id\":\"gen-s{seed}\",\"name\":\"Generated campaign: cafés, \\\"dentists\\\" & more\",\"started_at\":\"2026-11-26T08:00:00Z\"}}"
    )?;
    let total = records + requests + errors;
    let (mut left_rec, mut left_req, mut left_err) = (records, requests, errors);
    let mut unique = 0u64;
    for i in 0..total {
        let ms = i * 3_600_000 / total.max(1);
        let pick = rng.below(left_rec + left_req + left_err);
        let line = if pick < left_rec {
            left_rec -= 1;
            let uid = if unique > 0 && rng.chance(0.02) {
                unique - 1 - rng.below(unique.min(500))
            } else {
                unique += 1;
                unique - 1
            };
            record(&mut rng, first_uid + uid, ms)
        } else if pick < left_rec + left_req {
            left_req -= 1;
            request(&mut rng, &pool, ms)
        } else {
            left_err -= 1;
            error(&mut rng, &pool, ms)
        };
        w.write_all(line.as_bytes())?;
        w.write_all(if rng.chance(0.01) { b"\r\n" } else { b"\n" })?;
        if rng.chance(0.001) {
            writeln!(w, "{}", rng.pick(&BAD_LINES))?;
        }
        if rng.chance(0.0005) {
            writeln!(w)?;
        }
    }
    writeln!(
        w,
        "{{\"type\":\"campaign\",\"id\":\"gen-s{seed}\",\"finished_at\":\"2026-11-26T09:00:00Z\"}}"
    )?;
    w.flush()
}
