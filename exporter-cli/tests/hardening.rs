//! Hostile inputs and careless set-ups through the real binary, one test per fault class
//! found by the adversarial passes: each used to panic, leak a password, fail a whole run
//! over one value, or lose rows.

use exporter_tests::harness::{Workspace, stderr, stdout};

const SCHEMA: &str = r#"{"fields": [
  {"name": "id", "constraints": {"required": true}},
  {"name": "at", "type": "datetime"},
  {"name": "rating", "type": "number"}
], "primaryKey": "id"}"#;

fn workspace(manifest_sinks: &str) -> Workspace {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("schema.json", SCHEMA);
    ws.write(
        "exporter.toml",
        format!("[campaign]\nid = \"hard\"\n[output]\ndir = \"out\"\n{manifest_sinks}"),
    );
    ws
}

const ALL_SINKS: &str = r#"
[[sinks]]
type = "csv"
name = "results"
schema = "schema.json"

[[sinks]]
type = "error-log"

[[sinks]]
type = "proxy-performance"

[[sinks]]
type = "campaign-summary"
"#;

/// The binary started in the workspace, its standard error piped.
fn spawn(ws: &Workspace, args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_exporter"))
        .args(args)
        .current_dir(ws.path())
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn summary(ws: &Workspace) -> serde_json::Value {
    serde_json::from_str(&ws.read("out/campaign_summary.json")).unwrap()
}

/// A valid RFC 3339 date-time whose UTC form leaves years 0000-9999 is a value the excel
/// dialect cannot write: the record is rejected, the error event's time is written as given,
/// and nothing panics.
#[test]
fn date_times_beyond_excel_years_are_rejected_or_written_as_given() {
    let ws = workspace(ALL_SINKS);
    ws.write(
        "in.ndjson",
        concat!(
            r#"{"type":"record","data":{"id":"late","at":"9999-12-31T23:59:59-14:00"}}"#,
            "\n",
            r#"{"type":"record","data":{"id":"early","at":"0000-01-01T00:00:00+01:00"}}"#,
            "\n",
            r#"{"type":"record","data":{"id":"fine","at":"2026-11-26T08:00:00Z"}}"#,
            "\n",
            r#"{"type":"error","ts":"9999-12-31T23:59:59-14:00","kind":"K","message":"late"}"#,
            "\n",
            r#"{"type":"request","ts":"0000-01-01T00:00:00+01:00","proxy":"http://p:1","status":200,"latency_ms":1}"#,
            "\n",
        ),
    );
    let out = ws.run(&["run", "-m", "exporter.toml", "in.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(&ws);
    assert_eq!(s["records"]["written"], 1);
    assert_eq!(s["records"]["rejected"], 2);
    let log = ws.read("out/error_log.csv");
    assert!(
        log.contains("9999-12-31T23:59:59-14:00,error,K,late"),
        "{log}"
    );
    assert!(log.contains("cannot write this date-time"), "{log}");
    let check = ws.run(&["check", "-m", "exporter.toml"]);
    assert!(check.status.success(), "{}", stdout(&check));
}

/// A number beyond a double in a `number` field is a schema violation of that record, never
/// a failure of the run.
#[test]
fn a_number_beyond_a_double_rejects_its_record_only() {
    let ws = workspace(ALL_SINKS);
    ws.write(
        "in.ndjson",
        concat!(
            r#"{"type":"record","data":{"id":"big","rating":1e400}}"#,
            "\n",
            r#"{"type":"record","data":{"id":"ok","rating":4.5}}"#,
            "\n",
        ),
    );
    let out = ws.run(&["run", "-m", "exporter.toml", "in.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(&ws);
    assert_eq!(s["records"]["written"], 1);
    assert_eq!(s["records"]["rejected_by_rule"]["type"], 1);
    assert!(
        ws.read("out/error_log.csv")
            .contains("beyond the range of a number")
    );
}

/// Passwords in every form the passes found leaking: scheme-less, with `/`, `#`, `?`, a
/// space, a backslash or quotes in a `proxy` or `url` field, in lists without spaces, with
/// JSON's escaped slashes in a bad line, and where a cut of the raw line or of a message
/// excerpt falls just before the `@`. None reaches a file, standard output or error.
#[test]
fn no_password_form_reaches_any_output() {
    let ws = workspace(ALL_SINKS);
    let passwords = [
        "S3cretA",
        "S3c/retB",
        "p#ssC",
        "p?ssD",
        "p ssE",
        r"p\\ssF",
        r#"p\"ssG"#,
        "p'ssH",
    ];
    let mut lines = Vec::new();
    for (i, pw) in passwords.iter().enumerate() {
        for proxy in [
            format!("user{i}:{pw}@10.0.0.{i}:8080"),
            format!("http://user{i}:{pw}@10.0.1.{i}:8080"),
        ] {
            lines.push(format!(
                r#"{{"type":"request","ts":"2026-11-26T08:00:0{}Z","proxy":"{proxy}","url":"{proxy}/x","status":200,"latency_ms":12.5}}"#,
                i % 10
            ));
            lines.push(format!(
                r#"{{"type":"error","ts":"2026-11-26T08:00:00Z","kind":"ProxyError","message":"failed","proxy":"{proxy}","url":"https://u:{pw}@example.com/a"}}"#
            ));
        }
    }
    // lists, escaped slashes, and cuts just before the `@`
    lines.push(r#"{"type":"error","ts":"2026-11-26T08:00:00Z","kind":"K","message":"pool http://a:ListOneX@h1:1,http://b:ListTwoX@h2:2;c:ListThreeX@h3:3"}"#.to_string());
    lines.push(r#"{"type":"error","ts":"2026-11-26T08:00:00Z","kind":"K","message":"x","context":{"via":"http:\/\/u:EscapedX@h\/x"}}"#.to_string());
    let pad = "y".repeat(16 * 1024 - 60);
    lines.push(format!(
        r#"{{"type":"oops","pad":"{pad}","p":"http://u:CutRaw{}@h"}}"#,
        "Z".repeat(60)
    ));
    lines.push(format!(
        r#"{{"type":"request","ts":"2026-11-26T08:00:00Z","proxy":"p","latency_ms":"http://user:CutExcerpt{}@h"}}"#, "Z".repeat(60)
    ));
    lines.push(
        r#"{"type":"record","data":{"id":"r1","rating":"http://u:RecordMessageX@h"}}"#.to_string(),
    );
    ws.write("in.ndjson", lines.join("\n") + "\n");
    let out = ws.run(&["-v", "run", "-m", "exporter.toml", "in.ndjson"]);
    let check = ws.run(&["check", "-m", "exporter.toml", "--format", "json"]);
    let mut everything = String::new();
    for o in [&out, &check] {
        everything.push_str(&stdout(o));
        everything.push_str(&stderr(o));
    }
    for f in ws.files() {
        if f.starts_with("out/") {
            everything.push_str(&String::from_utf8_lossy(
                &std::fs::read(ws.path().join(&f)).unwrap(),
            ));
        }
    }
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(check.status.success(), "{}", stdout(&check));
    for secret in [
        "S3cret",
        "S3c/ret",
        "p#ss",
        "p?ss",
        "p ss",
        "ssF",
        "ssG",
        "p'ss",
        "ListOne",
        "ListTwo",
        "ListThree",
        "Escaped",
        "CutRaw",
        "CutExcerpt",
        "RecordMessage",
    ] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    // and the user names stay, so proxies are still told apart
    assert!(
        ws.read("out/proxy_performance.json")
            .contains("user3:***@10.0.0.3:8080")
    );
}

/// A UTF-8 byte order mark at the start of an input file, or of standard input, is skipped:
/// the first event is not lost.
#[test]
fn a_byte_order_mark_before_the_first_event_is_skipped() {
    let ws = workspace(ALL_SINKS);
    let events = "\u{feff}{\"type\":\"record\",\"data\":{\"id\":\"first\"}}\n{\"type\":\"record\",\"data\":{\"id\":\"second\"}}\n";
    ws.write("bom.ndjson", events);
    let out = ws.run(&["run", "-m", "exporter.toml", "bom.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(summary(&ws)["input"]["bad_lines"], 0);
    assert_eq!(summary(&ws)["records"]["written"], 2);
    let out = ws
        .command()
        .args(["run", "-m", "exporter.toml", "-"])
        .write_stdin(events)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(summary(&ws)["input"]["bad_lines"], 0);
    assert_eq!(summary(&ws)["records"]["written"], 2);
}

/// Latencies keep their precision at every scale (a 1.531 ms response is not 1.5), in both
/// reports; a latency no request can have is bad input; the error log has its name in the
/// summary's outputs.
#[test]
fn latencies_are_precise_and_every_output_has_its_sink() {
    let ws = workspace(ALL_SINKS);
    ws.write(
        "in.ndjson",
        concat!(
            r#"{"type":"request","ts":"2026-11-26T08:00:00Z","proxy":"http://fast:1","status":200,"latency_ms":1.531}"#,
            "\n",
            r#"{"type":"request","ts":"2026-11-26T08:00:01Z","proxy":"http://fast:1","status":200,"latency_ms":0.0123}"#,
            "\n",
            r#"{"type":"request","ts":"2026-11-26T08:00:02Z","proxy":"http://fast:1","status":200,"latency_ms":1e300}"#,
            "\n",
        ),
    );
    let out = ws.run(&["run", "-m", "exporter.toml", "in.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(&ws);
    assert_eq!(s["input"]["bad_by_reason"]["wrong_type"], 1);
    assert_eq!(s["requests"]["latency_ms"]["min"], 0.0123);
    assert_eq!(s["requests"]["latency_ms"]["max"], 1.531);
    let pp: serde_json::Value =
        serde_json::from_str(&ws.read("out/proxy_performance.json")).unwrap();
    let latency = &pp["proxies"][0]["latency_ms"];
    assert_eq!(latency["min"], 0.0123);
    assert_eq!(latency["max"], 1.531);
    for p in ["p50", "p90", "p99"] {
        let v = latency[p].as_f64().unwrap();
        assert!((0.0123..=1.531).contains(&v), "{p} = {v}");
    }
    let outputs = s["outputs"].as_array().unwrap();
    let log = outputs
        .iter()
        .find(|o| o["path"] == "error_log.csv")
        .unwrap();
    assert_eq!(log["sink"], "error-log");
    assert!(
        outputs
            .iter()
            .all(|o| !o["sink"].as_str().unwrap().is_empty())
    );
}

/// Two runs into one output directory never mix their files: the second waits for the first
/// and says so (or, with `--no-wait`, fails at once naming the holder), and the set committed
/// is one run's, its summary describing its own files.
#[test]
fn runs_into_one_directory_take_turns() {
    use std::fmt::Write;
    let ws = workspace(ALL_SINKS);
    let mut a = String::new();
    let mut b = String::new();
    for i in 0..20_000 {
        writeln!(a, r#"{{"type":"record","data":{{"id":"a{i}"}}}}"#).unwrap();
        writeln!(b, r#"{{"type":"record","data":{{"id":"b{i}"}}}}"#).unwrap();
    }
    ws.write("a.ndjson", a);
    ws.write("b.ndjson", b);
    std::fs::create_dir_all(ws.path().join("out")).unwrap();
    // the lock held by this process stands for a run in progress
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(ws.path().join("out/.exporter.lock"))
        .unwrap();
    held.lock().unwrap();
    std::fs::write(ws.path().join("out/.exporter.lock"), "4242").unwrap();
    let out = ws.run(&["run", "-m", "exporter.toml", "--no-wait", "a.ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("locked by pid 4242"),
        "{}",
        stderr(&out)
    );
    let waiting = spawn(&ws, &["run", "-m", "exporter.toml", "a.ndjson"]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        !ws.exists("out/results.csv"),
        "the waiting run has not written"
    );
    drop(held);
    let out = waiting.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("waiting for the lock on") && stderr(&out).contains("4242"),
        "{}",
        stderr(&out)
    );
    // two runs at once: whichever commits last, the set is its own
    let runs: Vec<_> = ["a.ndjson", "b.ndjson"]
        .iter()
        .map(|input| spawn(&ws, &["run", "-m", "exporter.toml", input]))
        .collect();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let check = ws.run(&["check", "-m", "exporter.toml"]);
    assert!(check.status.success(), "{}", stdout(&check));
    let results = ws.read("out/results.csv");
    assert!(
        results.contains("a19999") != results.contains("b19999"),
        "one run's rows"
    );
}

/// A run that rolls over fewer times than the one before removes the parts it did not
/// write, in the same commit: `results*.csv` is always one run's table.
#[test]
fn parts_of_an_earlier_run_are_removed() {
    let ws = workspace(&ALL_SINKS.replace(
        "schema = \"schema.json\"",
        "schema = \"schema.json\"\nmax_rows_per_file = 2",
    ));
    let records = |n: usize| -> String {
        (0..n)
            .map(|i| format!("{{\"type\":\"record\",\"data\":{{\"id\":\"r{i}\"}}}}\n"))
            .collect()
    };
    ws.write("many.ndjson", records(7));
    ws.write("few.ndjson", records(3));
    let out = ws.run(&["run", "-m", "exporter.toml", "many.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(ws.exists("out/results-0004.csv"));
    let out = ws.run(&["run", "-m", "exporter.toml", "few.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(ws.exists("out/results-0002.csv"));
    assert!(!ws.exists("out/results-0003.csv") && !ws.exists("out/results-0004.csv"));
    let check = ws.run(&["check", "-m", "exporter.toml"]);
    assert!(check.status.success(), "{}", stdout(&check));
}

/// Past a file-size limit, wherever the limit strikes (a table, a report, the error log's
/// append), the run fails naming the file, leaves no staging file (and so no space taken),
/// and no torn row in the error log.
#[cfg(unix)]
#[test]
fn a_file_size_limit_leaves_no_staging_file_and_no_torn_row() {
    let ws = workspace(ALL_SINKS);
    let mut events = String::new();
    for i in 0..3000 {
        events.push_str(&format!(
            "{{\"type\":\"record\",\"data\":{{\"id\":\"r{i}\",\"rating\":\"bad {i}\"}}}}\n"
        ));
        events.push_str(&format!(
            "{{\"type\":\"request\",\"ts\":\"2026-11-26T08:00:00Z\",\"proxy\":\"http://p{}:1\",\"status\":200,\"latency_ms\":{i}}}\n",
            i % 300
        ));
    }
    ws.write("in.ndjson", events);
    let mut failed = 0;
    for blocks in [1, 2, 4, 8, 16, 32, 64, 128] {
        let out = std::process::Command::new("sh")
            .current_dir(ws.path())
            .args([
                "-c",
                &format!("ulimit -f {blocks} && exec \"$0\" run -m exporter.toml in.ndjson"),
                env!("CARGO_BIN_EXE_exporter"),
            ])
            .output()
            .unwrap();
        let err = stderr(&out);
        if out.status.success() {
            continue; // the limit was high enough
        }
        failed += 1;
        assert_eq!(out.status.code(), Some(1), "{blocks}: {err}");
        assert!(err.contains("File too large"), "{blocks}: {err}");
        assert!(
            ws.staging_files().is_empty(),
            "{blocks}: {:?}",
            ws.staging_files()
        );
        if let Ok(log) = std::fs::read(ws.path().join("out/error_log.csv")) {
            assert!(
                log.is_empty() || log.ends_with(b"\r\n"),
                "{blocks}: a torn row"
            );
            let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(&log[3.min(log.len())..])
                .records()
                .map(|r| r.unwrap())
                .collect();
            assert!(
                rows.iter().all(|r| r.len() == 8),
                "{blocks}: every row whole"
            );
        }
    }
    assert!(failed >= 4, "the limit struck in {failed} runs only");
}

/// `exporter check` reads the error log too (a torn tail, a flipped byte, a cut log, each
/// found; rows appended later by other writers are fine) and holds the summary's record count
/// to the files it lists (a part missing with its entry, a part too many, each found).
#[test]
fn check_finds_a_damaged_error_log_and_parts_that_do_not_add_up() {
    let ws = workspace(&ALL_SINKS.replace(
        "schema = \"schema.json\"",
        "schema = \"schema.json\"\nmax_rows_per_file = 2",
    ));
    let mut events = String::new();
    for i in 0..5 {
        events.push_str(&format!(
            "{{\"type\":\"record\",\"data\":{{\"id\":\"r{i}\"}}}}\n"
        ));
        events.push_str(&format!(
            "{{\"type\":\"error\",\"ts\":\"2026-11-26T08:00:00Z\",\"kind\":\"Timeout\",\"message\":\"m{i}\",\"context\":{{\"n\":{i}}}}}\n"
        ));
    }
    ws.write("in.ndjson", events);
    let out = ws.run(&["run", "-m", "exporter.toml", "in.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let check = || ws.run(&["check", "-m", "exporter.toml"]);
    assert!(check().status.success(), "{}", stdout(&check()));
    let log_path = ws.path().join("out/error_log.csv");
    let log = std::fs::read(&log_path).unwrap();
    // appended to later, by another writer: still fine
    let mut later = log.clone();
    later.extend_from_slice(b"2026-11-26 09:00:00,error,K,later,hard,,,\r\n");
    std::fs::write(&log_path, &later).unwrap();
    assert!(check().status.success(), "{}", stdout(&check()));
    let text = String::from_utf8(log.clone()).unwrap();
    for (what, bytes) in [
        ("torn tail", [&log[..], b"2026-11-26 09:00:00,err"].concat()),
        ("flipped byte", text.replacen("m3", "m4", 1).into_bytes()),
        ("cut", log[..log.len() - 10].to_vec()),
    ] {
        std::fs::write(&log_path, &bytes).unwrap();
        let out = check();
        assert_eq!(out.status.code(), Some(1), "{what}: {}", stdout(&out));
        assert!(
            stdout(&out).contains("error_log.csv"),
            "{what}: {}",
            stdout(&out)
        );
    }
    std::fs::write(&log_path, &log).unwrap();
    assert!(check().status.success());
    // the last part gone, and its entry with it
    let summary_path = ws.path().join("out/campaign_summary.json");
    let original = std::fs::read_to_string(&summary_path).unwrap();
    let mut s: serde_json::Value = serde_json::from_str(&original).unwrap();
    s["outputs"]
        .as_array_mut()
        .unwrap()
        .retain(|o| o["path"] != "results-0003.csv");
    std::fs::write(&summary_path, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    let part = std::fs::read(ws.path().join("out/results-0003.csv")).unwrap();
    std::fs::remove_file(ws.path().join("out/results-0003.csv")).unwrap();
    let out = check();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("records.written is 5"),
        "{}",
        stdout(&out)
    );
    // a part too many
    std::fs::write(&summary_path, &original).unwrap();
    std::fs::write(ws.path().join("out/results-0003.csv"), &part).unwrap();
    std::fs::write(ws.path().join("out/results-0004.csv"), &part).unwrap();
    let out = check();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("results-0004.csv: extra-file"),
        "{}",
        stdout(&out)
    );
}

/// The binary run through `sh`, so a test can point a stream at `/dev/full`.
#[cfg(unix)]
fn shell(ws: &Workspace, script: &str) -> std::process::Output {
    std::process::Command::new("sh")
        .current_dir(ws.path())
        .env("EXPORTER", env!("CARGO_BIN_EXE_exporter"))
        .env_remove("SOURCE_DATE_EPOCH")
        .args(["-c", script])
        .output()
        .unwrap()
}

/// Writing to a full standard output or error is a failure of the command (exit 1, with a
/// message where the other stream still works), never a panic.
#[cfg(unix)]
#[test]
fn a_full_standard_output_or_error_fails_the_command_without_a_panic() {
    let ws = workspace(ALL_SINKS);
    ws.write(
        "in.ndjson",
        "{\"type\":\"record\",\"data\":{\"id\":\"r1\"}}\n",
    );
    let out = shell(&ws, "\"$EXPORTER\" run -m exporter.toml in.ndjson");
    assert!(out.status.success(), "{}", stderr(&out));
    for (script, says) in [
        ("\"$EXPORTER\" check -m exporter.toml > /dev/full", true),
        (
            "\"$EXPORTER\" check -m exporter.toml --format json > /dev/full",
            true,
        ),
        ("\"$EXPORTER\" schema campaign-summary > /dev/full", true),
        ("\"$EXPORTER\" plugins > /dev/full", true),
        ("\"$EXPORTER\" validate -m exporter.toml > /dev/full", true),
        ("\"$EXPORTER\" --help > /dev/full", false),
        (
            "\"$EXPORTER\" run -m exporter.toml in.ndjson 2> /dev/full",
            false,
        ),
    ] {
        let out = shell(&ws, script);
        assert_eq!(out.status.code(), Some(1), "{script}: {}", stderr(&out));
        if says {
            assert!(
                stderr(&out).contains("cannot write to standard output"),
                "{script}: {}",
                stderr(&out)
            );
        }
        assert!(
            !stderr(&out).contains("panicked"),
            "{script}: {}",
            stderr(&out)
        );
    }
}

/// A `SOURCE_DATE_EPOCH` that is not a non-negative integer is refused (exit 2), as
/// reproducible-builds tools refuse it.
#[cfg(unix)]
#[test]
fn an_unreadable_source_date_epoch_is_refused() {
    let ws = workspace(ALL_SINKS);
    ws.write("in.ndjson", "");
    for bad in ["abc", "1.5", "-1", ""] {
        for command in [
            "run -m exporter.toml in.ndjson",
            "validate -m exporter.toml",
        ] {
            let out = shell(
                &ws,
                &format!("SOURCE_DATE_EPOCH='{bad}' \"$EXPORTER\" {command}"),
            );
            assert_eq!(
                out.status.code(),
                Some(2),
                "{bad:?} {command}: {}",
                stderr(&out)
            );
            assert!(
                stderr(&out).contains("SOURCE_DATE_EPOCH"),
                "{}",
                stderr(&out)
            );
        }
    }
    let out = shell(
        &ws,
        "SOURCE_DATE_EPOCH=1764144000 \"$EXPORTER\" run -m exporter.toml in.ndjson",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        ws.read("out/campaign_summary.json")
            .contains("\"generated_at\": \"2025-11-26T08:00:00Z\"")
    );
}

/// With `--log-format json` every line on standard error is JSON, errors included; a run
/// with no input named, on a terminal, says it reads standard input.
#[cfg(unix)]
#[test]
fn json_logs_carry_errors_too_and_a_terminal_is_told_what_is_read() {
    let ws = workspace(ALL_SINKS);
    ws.write(
        "in.ndjson",
        "{\"type\":\"record\",\"data\":{\"id\":\"r1\"}}\n",
    );
    for args in [
        "run -m missing.toml in.ndjson",
        "run -m exporter.toml nope.ndjson",
        "schema nope",
        "-v run -m exporter.toml in.ndjson",
    ] {
        let out = shell(&ws, &format!("\"$EXPORTER\" --log-format json {args}"));
        let err = stderr(&out);
        assert!(!err.trim().is_empty(), "{args}");
        for line in err.lines() {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{args}: not JSON ({e}): {line}"));
            assert!(
                v["level"].is_string() && v["fields"]["message"].is_string(),
                "{line}"
            );
        }
    }
    // `script` gives the run a terminal for standard input; nothing is typed, so the run
    // waits until `timeout` ends it
    let out = shell(
        &ws,
        "timeout 2 script -qec '\"$EXPORTER\" run -m exporter.toml' /dev/null < /dev/null",
    );
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("reading events from standard input"), "{all}");
}

/// Keys only the formula guard tells apart (`=x` and `'=x`) stay two keys, and records
/// missing their dedupe key are all written (not collapsed into one), counted as unkeyed.
#[test]
fn guarded_keys_stay_apart_and_records_without_a_key_are_not_collapsed() {
    let ws = workspace(
        r#"
[[sinks]]
type = "csv"
name = "results"
dedupe_on = ["code"]
[sinks.schema]
[[sinks.schema.fields]]
name = "code"
constraints = { unique = false }
[[sinks.schema.fields]]
name = "n"
type = "integer"

[[sinks]]
type = "error-log"

[[sinks]]
type = "campaign-summary"
"#,
    );
    ws.write(
        "in.ndjson",
        concat!(
            r#"{"type":"record","data":{"code":"=x","n":1}}"#,
            "\n",
            r#"{"type":"record","data":{"code":"'=x","n":2}}"#,
            "\n",
            r#"{"type":"record","data":{"code":"=x","n":3}}"#,
            "\n",
            r#"{"type":"record","data":{"n":4}}"#,
            "\n",
            r#"{"type":"record","data":{"code":null,"n":5}}"#,
            "\n",
            r#"{"type":"record","data":{"code":"","n":6}}"#,
            "\n",
        ),
    );
    let out = ws.run(&["run", "-m", "exporter.toml", "in.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(&ws);
    assert_eq!(s["records"]["written"], 5);
    assert_eq!(s["records"]["duplicates"], 1);
    let results = ws.read("out/results.csv");
    assert!(
        results.contains("\r\n'=x,1\r\n''=x,2\r\n,4\r\n,5\r\n,6\r\n"),
        "{results}"
    );
    let check = ws.run(&["check", "-m", "exporter.toml"]);
    assert!(check.status.success(), "{}", stdout(&check));
}
