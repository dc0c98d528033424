//! The `error-log` sink through the real `exporter` binary: appends across runs, repairs a
//! torn row, refuses a foreign header, keeps passwords out.

use exporter_tests::harness::{EVENTS, Workspace, stderr};

const MANIFEST: &str = r#"
[campaign]
id = "acme"

[output]
dir = "out"

[[sinks]]
type = "error-log"
path = "error_log.csv"

[[sinks]]
type = "campaign-summary"
"#;

fn workspace() -> Workspace {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("exporter.toml", MANIFEST);
    ws.write("events.ndjson", EVENTS);
    ws
}

fn rows(bytes: &[u8]) -> Vec<csv::StringRecord> {
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("BOM at offset 0");
    csv::Reader::from_reader(body)
        .records()
        .map(|r| r.unwrap())
        .collect()
}

fn run(ws: &Workspace) {
    let out = ws.run(&["run", "-m", "exporter.toml", "events.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn appends_across_runs_with_one_header_and_one_bom() {
    let ws = workspace();
    for _ in 0..3 {
        run(&ws);
    }
    let bytes = std::fs::read(ws.path().join("out/error_log.csv")).unwrap();
    assert_eq!(
        bytes.windows(3).filter(|w| *w == b"\xEF\xBB\xBF").count(),
        1
    );
    let rows = rows(&bytes);
    // each run: the Timeout error event and the bad line (no other sink raises failures)
    assert_eq!(rows.len(), 6);
    let kinds: Vec<&str> = rows.iter().map(|r| &r[2]).collect();
    assert_eq!(kinds, ["Timeout", "BadInput"].repeat(3));
    let timeout = &rows[0];
    assert_eq!(&timeout[0], "2026-11-26 08:00:02", "excel date-time in UTC");
    assert_eq!(&timeout[1], "error", "default severity");
    assert_eq!(&timeout[4], "acme-2026", "campaign id from the stream");
    let bad = &rows[1];
    assert_eq!(&bad[1], "warning");
    assert!(bad[3].starts_with("events.ndjson:7: "), "{}", &bad[3]);
    let context: serde_json::Value = serde_json::from_str(&bad[7]).unwrap();
    assert_eq!(context["line"], 7);
    assert_eq!(context["raw_bytes"], EVENTS.lines().nth(6).unwrap().len());
}

#[test]
fn no_password_reaches_the_file() {
    let ws = workspace();
    run(&ws);
    let text = ws.read("out/error_log.csv");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("http://u:***@10.0.0.9:8080"), "{text}");
    assert!(text.contains("socks5://a:***@c:1"), "{text}");
}

#[test]
fn a_row_torn_by_a_crash_is_repaired_on_the_next_run() {
    let ws = workspace();
    run(&ws);
    let path = ws.path().join("out/error_log.csv");
    let full = std::fs::read(&path).unwrap();
    let complete = rows(&full).len();
    // a crash mid-write leaves the start of a row (cut inside the quoted multi-line context)
    let torn_at = full.len() - 20;
    std::fs::write(&path, &full[..torn_at]).unwrap();
    let out = ws.run(&["run", "-m", "exporter.toml", "events.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("torn last row"), "{}", stderr(&out));
    let summary: serde_json::Value =
        serde_json::from_str(&ws.read("out/campaign_summary.json")).unwrap();
    let row_start = full[..torn_at].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    assert_eq!(
        summary["errors"]["torn_bytes_repaired"],
        (torn_at - row_start) as u64,
        "the repair is counted in the summary"
    );
    let after = std::fs::read(&path).unwrap();
    let rows = rows(&after);
    assert_eq!(
        rows.len(),
        (complete - 1) + complete,
        "torn row dropped, new rows whole"
    );
    assert!(rows.iter().all(|r| r.len() == 8));
    assert!(after.ends_with(b"\r\n"));
}

#[test]
fn a_foreign_header_is_refused_and_left_alone() {
    let ws = workspace();
    let foreign = "\u{feff}when,what\r\n2026-01-01,something\r\n";
    ws.write("out/error_log.csv", foreign);
    let out = ws.run(&["run", "-m", "exporter.toml", "events.ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("\"when,what\""), "{err}");
    assert!(
        err.contains("\"timestamp,severity,kind,message,campaign_id,url,proxy,context\""),
        "{err}"
    );
    assert_eq!(ws.read("out/error_log.csv"), foreign);
}

#[test]
fn unix_dialect_and_severity_filter() {
    let ws = workspace();
    ws.write(
        "exporter.toml",
        MANIFEST.replace(
            "path = \"error_log.csv\"",
            "path = \"error_log.csv\"
dialect = \"unix\"
min_severity = \"error\"",
        ),
    );
    run(&ws);
    let text = ws.read("out/error_log.csv");
    assert!(text.starts_with("timestamp,"), "no BOM in unix");
    assert!(!text.contains('\r'), "LF only: {text:?}");
    assert!(
        text.contains("2026-11-26T08:00:02Z,error,Timeout"),
        "{text}"
    );
    assert!(!text.contains("BadInput"), "warning filtered out");
}
