//! The `html-report` page through the real binary: its numbers against an independent count
//! of the input and against the JSON reports, untrusted text escaped everywhere, and, when a
//! browser is at hand, the page opened in headless Chromium.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use exporter_tests::harness::{Workspace, example, stderr};
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::Value;

/// Text that would run or load something if a page let it through as markup.
const HOSTILE: [&str; 3] = [
    "<script>parent.document.title='pwned'</script>",
    "\"><img src=x onerror=\"parent.document.title='pwned'\">",
    "</textarea><svg onload=\"parent.document.title='pwned'\"/>",
];

fn hostile_events() -> String {
    let mut lines = vec![
        serde_json::json!({"type": "campaign", "id": "hostile", "name": HOSTILE[2],
            "started_at": "2026-11-26T08:00:00Z", "finished_at": "2026-11-26T09:00:00Z"}),
    ];
    for (i, h) in HOSTILE.iter().enumerate() {
        lines.push(
            serde_json::json!({"type": "request", "ts": format!("2026-11-26T08:0{i}:00Z"),
            "proxy": format!("http://u:{h}@10.0.0.{i}:8080"), "status": 200, "latency_ms": 120.5}),
        );
        lines.push(
            serde_json::json!({"type": "request", "ts": format!("2026-11-26T08:1{i}:00Z"),
            "proxy": format!("http://{h}:8080"), "status": 403, "latency_ms": 80.0}),
        );
        lines.push(
            serde_json::json!({"type": "error", "ts": format!("2026-11-26T08:2{i}:00Z"),
            "severity": "error", "kind": h, "message": h, "url": h}),
        );
        // an extra field named with the payload, rejected into the log with its name
        let mut data = serde_json::Map::new();
        data.insert("place_id".into(), format!("p{i}").into());
        data.insert("name".into(), (*h).into());
        data.insert(h.to_string(), 1.into());
        lines.push(serde_json::json!({"type": "record", "data": data}));
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn run(ws: &Workspace, manifest: impl AsRef<[u8]>, events: impl AsRef<[u8]>) -> PathBuf {
    ws.write("exporter.toml", manifest);
    ws.write("lead.schema.json", example("lead.schema.json"));
    ws.write("events.ndjson", events);
    let out = ws.run(&["run", "-m", "exporter.toml", "events.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    ws.path().join("out")
}

/// The cells of each row of the table with the given id.
fn table(page: &str, id: &str) -> Vec<Vec<String>> {
    let mut reader = Reader::from_str(page);
    let (mut inside, mut depth, mut rows) = (false, 0, Vec::new());
    let mut cell: Option<String> = None;
    loop {
        match reader.read_event().expect("well-formed") {
            Event::Eof => break,
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if name == "table" {
                    let this = e
                        .attributes()
                        .flatten()
                        .any(|a| a.key.as_ref() == "id" && a.value.as_ref() == id);
                    inside |= this;
                }
                if inside {
                    depth += usize::from(name == "table");
                    match name.as_str() {
                        "tr" => rows.push(Vec::new()),
                        "td" => cell = Some(String::new()),
                        _ => {}
                    }
                }
            }
            Event::Text(t) if inside => {
                if let Some(c) = cell.as_mut() {
                    c.push_str(t.as_ref());
                }
            }
            Event::GeneralRef(r) if inside => {
                if let Some(c) = cell.as_mut() {
                    let ch = r.resolve_char_ref().unwrap();
                    match ch {
                        Some(ch) => c.push(ch),
                        None => c.push_str(match r.as_ref() {
                            "lt" => "<",
                            "gt" => ">",
                            "amp" => "&",
                            "quot" => "\"",
                            "apos" => "'",
                            other => panic!("unknown entity {other}"),
                        }),
                    }
                }
            }
            Event::End(e) if inside => match e.name().as_ref() {
                "td" => rows.last_mut().unwrap().push(cell.take().unwrap()),
                "table" => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    rows.retain(|r| !r.is_empty()); // the header row has th cells only
    rows
}

#[test]
fn the_page_counts_what_the_input_holds_and_agrees_with_the_reports() {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    let out = run(&ws, example("exporter.toml"), example("events.ndjson"));
    let dir = out.join("example");
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();

    // every request and stream error counted in its bucket, by a count of our own
    let series = table(&page, "series");
    assert!(
        (50..=200).contains(&series.len()),
        "{} buckets",
        series.len()
    );
    let starts: Vec<i64> = series.iter().map(|r| unix(&r[0]).unwrap()).collect();
    let width = starts[1] - starts[0];
    // lines the exporter set aside as bad input are not counted (which lines those are is
    // tested elsewhere); the rest are counted here from the JSON
    let log = std::fs::read(dir.join("error_log.csv")).unwrap();
    let bad: Vec<u64> = csv::Reader::from_reader(&log[3..])
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[2] == "BadInput")
        .map(|r| {
            serde_json::from_str::<Value>(&r[7]).unwrap()["line"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let mut want: BTreeMap<usize, [u64; 4]> = BTreeMap::new();
    let input = String::from_utf8_lossy(&example("events.ndjson")).into_owned();
    for (n, line) in input.lines().enumerate() {
        if bad.contains(&(n as u64 + 1)) {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(ts) = v["ts"].as_str().and_then(unix) else {
            continue;
        };
        let i = ((ts - starts[0]) / width) as usize;
        let counts = want.entry(i).or_default();
        match v["type"].as_str() {
            Some("request") if v["proxy"].is_string() => {
                counts[0] += 1;
                let status = v["status"].as_u64();
                let blocked = v["blocked"]
                    .as_bool()
                    .unwrap_or(matches!(status, Some(403 | 407 | 429)));
                let ok = v["ok"].as_bool().unwrap_or(
                    matches!(status, Some(200..=399)) && v["error"].is_null() && !blocked,
                );
                counts[1] += u64::from(ok);
                counts[2] += u64::from(blocked);
            }
            Some("error") if v["kind"].is_string() => counts[3] += 1,
            _ => {}
        }
    }
    for (i, row) in series.iter().enumerate() {
        let got: Vec<u64> = row[1..].iter().map(|c| c.parse().unwrap()).collect();
        let expect = want.get(&i).copied().unwrap_or_default();
        assert_eq!(got, expect, "bucket {i} from {}", row[0]);
    }

    // the proxy table is the proxy report's, row for row
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.join("proxy_performance.json")).unwrap())
            .unwrap();
    let proxies = report["proxies"].as_array().unwrap();
    let rows = table(&page, "proxy-table");
    assert_eq!(rows.len(), proxies.len());
    for (row, p) in rows.iter().zip(proxies) {
        assert_eq!(row[1], p["proxy"].as_str().unwrap());
        assert_eq!(row[2], p["requests"].to_string());
        assert_eq!(row[8], p["score"].to_string());
        assert_eq!(row[9], p["health"].as_str().unwrap());
    }

    // the accounting and the files are the summary's
    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.join("campaign_summary.json")).unwrap()).unwrap();
    let by_rule = table(&page, "rejected-rules");
    let rules = summary["records"]["rejected_by_rule"].as_object().unwrap();
    assert_eq!(by_rule.len(), rules.len());
    for r in &by_rule {
        assert_eq!(r[1], rules[&r[0]].to_string(), "{}", r[0]);
    }
    let files = table(&page, "outputs");
    for o in summary["outputs"].as_array().unwrap() {
        let row = files
            .iter()
            .find(|r| r[1] == o["path"].as_str().unwrap())
            .unwrap();
        assert_eq!(row[4], o["sha256"].as_str().unwrap());
    }
    let kinds = table(&page, "errors-by-kind");
    let total: u64 = kinds
        .iter()
        .map(|r| r[1].replace(',', "").parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, summary["errors"]["total"].as_u64().unwrap());
}

/// Seconds since the epoch; `None` for text that is not RFC 3339 (a bad input line's).
fn unix(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

const HOSTILE_MANIFEST: &str = r#"
[campaign]
id = "hostile"
[output]
dir = "out"
[[sinks]]
type = "csv"
name = "results"
path = "results.csv"
schema = "lead.schema.json"
extra_fields = "reject"
[[sinks]]
type = "proxy-performance"
[[sinks]]
type = "error-log"
[[sinks]]
type = "html-report"
"#;

#[test]
fn untrusted_text_is_escaped_everywhere_on_the_page() {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    let out = run(&ws, HOSTILE_MANIFEST, hostile_events());
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    // as markup, nothing of it: the validator's parse finds no script, handler or image
    assert_eq!(exporter_html_report::check_page(page.as_bytes()), vec![]);
    for bad in ["<script", "<img", "</textarea", "<svg onload"] {
        assert!(!page.contains(bad), "{bad} reached the page as markup");
    }
    // as text, all of it, where it belongs
    let kinds = table(&page, "errors-by-kind");
    for h in HOSTILE {
        assert!(
            kinds.iter().any(|r| r[0] == h),
            "{h} missing from {kinds:?}"
        );
    }
    let proxies = table(&page, "proxy-table");
    assert_eq!(proxies.len(), 6);
    assert!(
        proxies
            .iter()
            .any(|r| r[1] == format!("http://{}:8080", HOSTILE[0]))
    );
    let fields = table(&page, "rejected-fields");
    assert!(
        fields.iter().any(|r| HOSTILE.contains(&r[0].as_str())),
        "{fields:?}"
    );
    assert!(
        page.contains("&lt;&#x2f;textarea&gt;"),
        "the campaign's name, escaped"
    );
}

/// Chromium, when installed; `.ci/run` installs it and sets `EXPORTER_BROWSER_TESTS=1`, so
/// there a missing browser fails the test instead of skipping it.
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(name))
                    .find(|p| p.is_file())
            })
        });
    if found.is_none() {
        assert!(
            std::env::var_os("EXPORTER_BROWSER_TESTS").is_none(),
            "EXPORTER_BROWSER_TESTS is set but no chromium is installed"
        );
        eprintln!("skipped: no chromium on PATH (.ci/run installs it)");
    }
    found
}

fn headless(browser: &Path, args: &[&str]) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--allow-file-access-from-files",
            "--virtual-time-budget=10000",
        ])
        .args(args)
        .output()
        .expect("chromium runs")
}

/// Opens the page inside an iframe of a harness page whose script measures it, then prints
/// the harness's DOM: what the page rendered, and whether anything ran or loaded.
const HARNESS: &str = r#"<!DOCTYPE html>
<html><head><title>harness</title></head><body>
<pre id="result">pending</pre>
<iframe id="page" src="report.html" style="width:1200px;height:4000px"></iframe>
<script>
document.getElementById('page').addEventListener('load', function () {
  var w = this.contentWindow, d = this.contentDocument;
  var svgs = Array.prototype.map.call(d.querySelectorAll('svg'), function (s) {
    var r = s.getBoundingClientRect();
    return {w: r.width, h: r.height, shapes: s.querySelectorAll('rect,circle,polyline,path,line').length};
  });
  document.getElementById('result').textContent = JSON.stringify({
    svgs: svgs,
    proxy_rows: d.querySelectorAll('#proxy-table tbody tr').length,
    scripts: d.querySelectorAll('script').length,
    images: d.querySelectorAll('img').length,
    resources: w.performance.getEntriesByType('resource').length,
    title: document.title,
    page_title: d.title
  });
});
</script>
</body></html>
"#;

#[test]
fn the_page_renders_in_a_real_browser_and_nothing_runs_or_loads() {
    let Some(browser) = chromium() else { return };
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    let mut events = example("events.ndjson");
    for line in hostile_events().lines().skip(1) {
        events.extend_from_slice(format!("{line}\n").as_bytes());
    }
    let out = run(&ws, example("exporter.toml"), &events);
    let dir = out.join("example");
    std::fs::write(dir.join("harness.html"), HARNESS).unwrap();
    let harness = format!("file://{}", dir.join("harness.html").display());
    let dom = headless(&browser, &["--dump-dom", &harness]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    let json = dom
        .split("<pre id=\"result\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("no result in the harness's DOM:\n{dom}"));
    let json = json.replace("&quot;", "\"").replace("&amp;", "&");
    let r: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));

    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.join("proxy_performance.json")).unwrap())
            .unwrap();
    assert_eq!(r["proxy_rows"], report["proxies"].as_array().unwrap().len());
    let svgs = r["svgs"].as_array().unwrap();
    assert_eq!(
        svgs.len(),
        6,
        "accounting, requests, rates, errors, latency, scatter: {r}"
    );
    for s in svgs {
        assert!(
            s["w"].as_f64().unwrap() > 100.0 && s["h"].as_f64().unwrap() > 100.0,
            "{s}"
        );
        assert!(s["shapes"].as_u64().unwrap() > 3, "an empty chart: {s}");
    }
    assert_eq!(r["scripts"], 0);
    assert_eq!(r["images"], 0, "injected markup became an element");
    assert_eq!(r["resources"], 0, "the page loaded something");
    assert_eq!(r["title"], "harness", "injected code ran");

    let shot = dir.join("report.png");
    let page = format!("file://{}", dir.join("report.html").display());
    let arg = format!("--screenshot={}", shot.display());
    headless(
        &browser,
        &["--window-size=1200,3000", "--hide-scrollbars", &arg, &page],
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "{} bytes",
        png.len()
    );
    if let Ok(keep) = std::env::var("EXPORTER_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

fn manifest_with(extra: &str) -> String {
    format!(
        "[campaign]\nid = \"x\"\n[output]\ndir = \"out\"\n{extra}\n[[sinks]]\ntype = \"html-report\"\n"
    )
}

fn proxy_table_of(ws: &Workspace, manifest: &str) -> (Vec<Vec<String>>, PathBuf) {
    let out = run(ws, manifest, example("events.ndjson"));
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    (table(&page, "proxy-table"), out)
}

#[test]
fn the_page_scores_proxies_as_the_proxy_report_does_with_or_without_one() {
    // with a proxy-performance sink of its own settings: the page takes its statistics and
    // settings, so every proxy is classified alike
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    let strict = "[[sinks]]\ntype = \"proxy-performance\"\n[sinks.thresholds]\nhealthy_min_success = 0.99\nfailing_below_success = 0.95\n";
    let (rows, out) = proxy_table_of(&ws, &manifest_with(strict));
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("proxy_performance.json")).unwrap())
            .unwrap();
    let proxies = report["proxies"].as_array().unwrap();
    assert!(proxies.iter().filter(|p| p["health"] == "failing").count() >= 3);
    let health = |rows: &[Vec<String>]| rows.iter().map(|r| r[9].clone()).collect::<Vec<_>>();
    let want: Vec<String> = proxies
        .iter()
        .map(|p| p["health"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(health(&rows), want);

    // without one: the page counts for itself, with the default settings, and comes to the
    // numbers a default proxy report gives
    let alone = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    let (own, _) = proxy_table_of(&alone, &manifest_with(""));
    let beside = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    let (shared, out) = proxy_table_of(
        &beside,
        &manifest_with("[[sinks]]\ntype = \"proxy-performance\"\n"),
    );
    assert!(out.join("proxy_performance.json").exists());
    assert_eq!(own, shared);
    assert_ne!(
        health(&own),
        want,
        "the strict thresholds changed some class"
    );
}

#[test]
fn title_and_latency_chart_proxies_are_honoured_and_checked() {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    let page_sink = "[[sinks]]\ntype = \"html-report\"\ntitle = \"Dentists <November>\"\nlatency_chart_proxies = 3\n";
    let manifest = format!("[campaign]\nid = \"x\"\n[output]\ndir = \"out\"\n{page_sink}");
    let out = run(&ws, &manifest, example("events.ndjson"));
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        page.contains("<title>Dentists &lt;November&gt;</title>"),
        "the title, escaped"
    );
    assert!(page.contains("<h1>Dentists &lt;November&gt;</h1>"));
    let chart = page
        .split("id=\"chart-latency\">")
        .nth(1)
        .and_then(|s| s.split("</svg>").next())
        .expect("the latency chart");
    // one rank label per proxy shown, the lowest-scored first; the last of the 8 got no
    // response, so has no latency to draw: ranks 7, 6 and 5
    let ranks: Vec<&str> = chart
        .split('>')
        .filter_map(|s| s.strip_suffix("</text"))
        .map(str::trim)
        .filter(|t| t.starts_with('#'))
        .collect();
    assert_eq!(ranks, ["#7", "#6", "#5"]);

    let bad =
        "[output]\ndir = \"out\"\n[[sinks]]\ntype = \"html-report\"\nlatency_chart_proxies = 0\n";
    ws.write("exporter.toml", bad);
    let out = ws.run(&["validate", "-m", "exporter.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("latency_chart_proxies") && err.contains("must be 1 to 100"),
        "{err}"
    );
}
