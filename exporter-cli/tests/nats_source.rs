//! The `nats` source against the NATS JetStream server every machine of this project runs at
//! 127.0.0.1:4222: each test publishes to a stream of its own (`exporter publish`) and deletes
//! it afterwards.

use std::process::{Command, Stdio};

use crate::support::{NATS, SINKS, TestStream, drain};
use exporter_bench_gen::{Shape, generate};
use exporter_tests::harness::{Workspace, example, stderr};

const OUTPUTS: [&str; 4] = [
    "results.csv",
    "campaign_summary.json",
    "proxy_performance.json",
    "error_log.csv",
];

fn workspace() -> Workspace {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("lead.schema.json", example("lead.schema.json"));
    ws.write("file.toml", SINKS);
    ws
}

fn publish(ws: &Workspace, stream: &TestStream, input: &str) {
    let out = ws
        .command()
        .args(["publish", "--url", NATS, "--subject", &stream.subject])
        .args(["--create-stream", &stream.name, input])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

fn shape(records: u64, seed: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    generate(
        Shape {
            records,
            requests: 3 * records,
            errors: records / 20,
            proxies: 20,
            seed,
            first_uid: seed * 1_000_000,
        },
        &mut bytes,
    )
    .unwrap();
    bytes
}

/// Runs the manifests `file.toml` on `input` (into `file/`) and `nats.toml` with
/// `--until-idle IDLE` (into `nats/`).
fn file_and_stream_runs(ws: &Workspace, input: &str, idle: &str) {
    let file = ws.run(&["run", "-m", "file.toml", "--out-dir", "file", input]);
    assert!(file.status.success(), "{}", stderr(&file));
    let drained = drain(ws, "nats.toml", "nats", idle);
    assert!(drained.status.success(), "{}", stderr(&drained));
}

/// The summary with what names the input (its file or stream, and the error log's bytes and
/// digest, which hold those names) taken out.
fn summary_without_input_names(text: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    v["input"]["files"] = serde_json::Value::Null;
    for output in v["outputs"].as_array_mut().unwrap() {
        if output["sink"] == "error-log" {
            output["bytes"] = serde_json::Value::Null;
            output["sha256"] = serde_json::Value::Null;
        }
    }
    v
}

#[test]
fn a_drained_stream_gives_the_file_runs_deliverables_and_is_acknowledged() {
    let stream = TestStream::new("drain");
    let ws = workspace();
    let mut medium = Vec::new();
    generate(Shape::MEDIUM, &mut medium).unwrap();
    let lines = medium.iter().filter(|b| **b == b'\n').count() as u64;
    ws.write("medium.ndjson", &medium);
    publish(&ws, &stream, "medium.ndjson");
    ws.write(
        "nats.toml",
        format!("{SINKS}{}", stream.source_table("exporter")),
    );

    file_and_stream_runs(&ws, "medium.ndjson", "3s");

    for name in ["results.csv", "proxy_performance.json"] {
        assert!(
            ws.read(&format!("file/{name}")) == ws.read(&format!("nats/{name}")),
            "{name} differs"
        );
    }
    // the error log differs only where it locates bad input: the stream, not the file (a
    // fresh stream numbers its messages as the file numbers its lines), and the subject
    let file_log = ws.read("file/error_log.csv");
    let nats_log = ws.read("nats/error_log.csv");
    let subject = format!(",\"\"subject\"\":\"\"{}\"\"", stream.subject);
    assert!(nats_log.contains(&subject));
    assert!(
        file_log.replace("medium.ndjson", &stream.name) == nats_log.replace(&subject, ""),
        "the error logs differ in more than the input's name"
    );
    assert_eq!(
        summary_without_input_names(&ws.read("file/campaign_summary.json")),
        summary_without_input_names(&ws.read("nats/campaign_summary.json"))
    );
    let summary: serde_json::Value =
        serde_json::from_str(&ws.read("nats/campaign_summary.json")).unwrap();
    assert_eq!(summary["input"]["lines"], lines);
    assert_eq!(summary["input"]["files"][0], stream.name.as_str());

    // acknowledged after the commit: every message, none still pending
    assert_eq!(stream.consumer_state("exporter"), (lines, 0));
    // so the next drain has nothing new
    let again = drain(&ws, "nats.toml", "again", "1s");
    assert!(again.status.success(), "{}", stderr(&again));
    let summary: serde_json::Value =
        serde_json::from_str(&ws.read("again/campaign_summary.json")).unwrap();
    assert_eq!(summary["input"]["lines"], 0);
}

#[test]
fn four_publishers_at_once_count_as_the_file_run() {
    let stream = TestStream::new("four_pub");
    let ws = workspace();
    let mut all = Vec::new();
    for i in 0..4u64 {
        let part = shape(2_000, 100 + i);
        all.extend_from_slice(&part);
        ws.write(&format!("part{i}.ndjson"), part);
    }
    ws.write("all.ndjson", &all);
    publish(&ws, &stream, "/dev/null"); // the stream exists before the publishers race
    let publishers: Vec<_> = (0..4)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_exporter"))
                .current_dir(ws.path())
                .args(["publish", "--url", NATS, "--subject", &stream.subject])
                .arg(format!("part{i}.ndjson"))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for p in publishers {
        let out = p.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    ws.write(
        "nats.toml",
        format!("{SINKS}{}", stream.source_table("exporter")),
    );
    file_and_stream_runs(&ws, "all.ndjson", "2s");

    let json = |path: &str| -> serde_json::Value { serde_json::from_str(&ws.read(path)).unwrap() };
    let (f, n) = (
        json("file/campaign_summary.json"),
        json("nats/campaign_summary.json"),
    );
    for key in [
        "input",
        "events",
        "records",
        "record_sinks",
        "errors",
        "requests",
    ] {
        let (mut a, mut b) = (f[key].clone(), n[key].clone());
        if key == "input" {
            a["files"] = serde_json::Value::Null;
            b["files"] = serde_json::Value::Null;
        }
        assert_eq!(a, b, "summary {key}");
    }
    // every proxy's counts and latencies: the order of the events does not matter to them
    // (the campaign does: the last of the four publishers' campaign events names it)
    let proxies = |path: &str| {
        let mut v = json(path);
        v["campaign_id"] = serde_json::Value::Null;
        v
    };
    assert_eq!(
        proxies("file/proxy_performance.json"),
        proxies("nats/proxy_performance.json")
    );
    let rows = |path: &str| ws.read(path).lines().count();
    assert_eq!(rows("file/results.csv"), rows("nats/results.csv"));
    assert_eq!(rows("file/error_log.csv"), rows("nats/error_log.csv"));
}

#[test]
fn bad_messages_are_accounted_and_no_password_leaks() {
    let stream = TestStream::new("secrets");
    let ws = workspace();
    let events = [
        r#"{"type":"campaign","id":"c1","name":"via http://pooluser:P00lSecret@pool.example:8080"}"#,
        r#"{"type":"request","ts":"2026-11-26T08:00:00Z","proxy":"http://scraper:Pr0xySecret@10.0.0.1:8080","url":"https://example.com/a","status":200,"latency_ms":120}"#,
        r#"{"type":"request","ts":"2026-11-26T08:00:01Z","proxy":"http://scraper:Pr0xySecret@10.0.0.1:8080","url":"https://example.com/b","status":null,"error":"connect to http://scraper:Pr0xySecret@10.0.0.1:8080 refused"}"#,
        r#"{"type":"error","ts":"2026-11-26T08:00:02Z","kind":"ProxyError","message":"proxy http://scraper:Pr0xySecret@10.0.0.1:8080 refused","proxy":"http://scraper:Pr0xySecret@10.0.0.1:8080"}"#,
        r#"{"not json http://scraper:Pr0xySecret@10.0.0.1:8080"#,
        r#"{"type":"heartbeat"}"#,
        "",
        r#"{"type":"record","data":{"place_id":"p1","name":"Café"}}"#,
    ];
    ws.write("events.ndjson", events.join("\n") + "\n");
    publish(&ws, &stream, "events.ndjson");
    let table = stream
        .source_table("exporter")
        .replace(NATS, "nats://scraper:N4tsSecret@127.0.0.1:4222");
    ws.write("nats.toml", format!("{SINKS}{table}"));
    let out = ws.run(&[
        "-vvv",
        "run",
        "-m",
        "nats.toml",
        "--out-dir",
        "out",
        "--until-idle",
        "1s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let summary: serde_json::Value =
        serde_json::from_str(&ws.read("out/campaign_summary.json")).unwrap();
    assert_eq!(summary["input"]["lines"], events.len());
    assert_eq!(summary["input"]["bad_lines"], 2);
    assert_eq!(summary["input"]["blank_lines"], 1);
    // each bad message is located in the stream, with its subject
    let log = ws.read("out/error_log.csv");
    for seq in [5, 6] {
        assert!(
            log.contains(&format!("{}:{seq}:", stream.name)),
            "message {seq} is located: {log}"
        );
    }
    assert!(
        log.contains(&format!("\"\"subject\"\":\"\"{}\"\"", stream.subject)),
        "{log}"
    );
    let mut everything = stderr(&out).into_bytes();
    everything.extend_from_slice(&out.stdout);
    for f in ws.files() {
        if f.starts_with("out/") {
            everything.extend(std::fs::read(ws.path().join(f)).unwrap());
        }
    }
    let text = String::from_utf8_lossy(&everything);
    for secret in ["P00lSecret", "Pr0xySecret", "N4tsSecret"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    assert!(
        text.contains("scraper:***@10.0.0.1"),
        "the proxy stays, masked"
    );
}

#[test]
fn an_unreachable_server_fails_naming_it_and_commits_nothing() {
    let ws = workspace();
    ws.write(
        "nats.toml",
        format!(
            "{SINKS}\n[[sources]]\ntype = \"nats\"\nurl = \"nats://scraper:N4tsSecret@127.0.0.1:1\"\nstream = \"NOWHERE\"\n"
        ),
    );
    let out = drain(&ws, "nats.toml", "out", "1s");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot connect to NATS at nats://scraper:***@127.0.0.1:1"),
        "{err}"
    );
    assert!(!err.contains("N4tsSecret"), "{err}");
    let committed: Vec<String> = ws
        .files()
        .into_iter()
        .filter(|f| f.starts_with("out/"))
        .collect();
    assert!(
        committed
            .iter()
            .all(|f| !OUTPUTS.iter().any(|o| f.ends_with(o))),
        "{committed:?}"
    );
}

#[test]
fn a_stream_source_needs_a_way_to_end() {
    let ws = workspace();
    ws.write(
        "nats.toml",
        format!("{SINKS}\n[[sources]]\ntype = \"nats\"\nstream = \"ANY\"\n"),
    );
    let out = ws.run(&["run", "-m", "nats.toml", "--out-dir", "out"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--until-idle"), "{}", stderr(&out));
    // input files and a stream source do not mix
    let out = ws.run(&["run", "-m", "nats.toml", "--until-idle", "1s", "x.ndjson"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("x.ndjson"), "{}", stderr(&out));
}

/// A TCP relay to the NATS server that can be cut, as a server going away mid-run.
struct Relay {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    sockets: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    fn start() -> Relay {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sockets = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, s) = (cut.clone(), sockets.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if c.load(Ordering::SeqCst) {
                    continue; // gone: every new connection is dropped at once
                }
                let server = std::net::TcpStream::connect("127.0.0.1:4222").unwrap();
                s.lock()
                    .unwrap()
                    .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Relay { port, cut, sockets }
    }

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for s in self.sockets.lock().unwrap().iter() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

#[test]
fn a_server_that_goes_away_mid_run_fails_it_and_nothing_is_committed_or_acknowledged() {
    let stream = TestStream::new("gone");
    let ws = workspace();
    ws.write("events.ndjson", shape(5_000, 3));
    publish(&ws, &stream, "events.ndjson");
    let relay = Relay::start();
    let table = stream.source_table("exporter").replace(
        NATS,
        &format!("nats://scraper:N4tsSecret@127.0.0.1:{}", relay.port),
    );
    ws.write("nats.toml", format!("{SINKS}{table}"));
    let child = Command::new(env!("CARGO_BIN_EXE_exporter"))
        .current_dir(ws.path())
        .args([
            "run",
            "-m",
            "nats.toml",
            "--out-dir",
            "out",
            "--until-idle",
            "60s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the run drains the stream (every message), then waits for more: the server goes away
    std::thread::sleep(std::time::Duration::from_secs(3));
    relay.cut();
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(45),
        "noticed within the heartbeat"
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("nats://scraper:***@127.0.0.1:{}", relay.port)),
        "{err}"
    );
    assert!(!err.contains("N4tsSecret"), "{err}");
    for name in [
        "results.csv",
        "campaign_summary.json",
        "proxy_performance.json",
    ] {
        assert!(!ws.exists(&format!("out/{name}")), "{name} was committed");
    }
    assert!(ws.staging_files().is_empty(), "{:?}", ws.staging_files());
    // nothing acknowledged: every message is still the consumer's to deliver
    let (floor, _) = stream.consumer_state("exporter");
    assert_eq!(floor, 0);
}

#[test]
fn filter_subject_and_batch_choose_and_size_what_is_read() {
    let stream = TestStream::new("filter");
    crate::support::runtime().block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(NATS).await.unwrap());
        js.create_stream(async_nats::jetstream::stream::Config {
            name: stream.name.clone(),
            subjects: vec![format!("{}.>", stream.subject)],
            ..Default::default()
        })
        .await
        .unwrap();
    });
    let ws = workspace();
    let record = |id: &str| format!("{{\"type\":\"record\",\"data\":{{\"place_id\":\"{id}\"}}}}\n");
    ws.write(
        "a.ndjson",
        (0..10)
            .map(|i| record(&format!("a{i}")))
            .collect::<String>(),
    );
    ws.write(
        "b.ndjson",
        (0..4).map(|i| record(&format!("b{i}"))).collect::<String>(),
    );
    for (file, leaf) in [("a.ndjson", "a"), ("b.ndjson", "b")] {
        let out = ws
            .command()
            .args(["publish", "--url", NATS, "--subject"])
            .arg(format!("{}.{leaf}", stream.subject))
            .arg(file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let table = format!(
        "{}filter_subject = \"{}.a\"\nbatch = 3\n",
        stream.source_table("only-a"),
        stream.subject
    );
    ws.write("nats.toml", format!("{SINKS}{table}"));
    let out = drain(&ws, "nats.toml", "out", "1s");
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value =
        serde_json::from_str(&ws.read("out/campaign_summary.json")).unwrap();
    assert_eq!(
        summary["input"]["lines"], 10,
        "only subject .a, in batches of 3"
    );
    // (the records lack the schema's required fields: the error log holds them)
    let log = ws.read("out/error_log.csv");
    assert!(log.contains("a9") && !log.contains("b0"), "{log}");
    // the messages of .a are acknowledged: the last of them is the stream's 10th
    assert_eq!(stream.consumer_state("only-a"), (10, 0));
    // the consumer keeps its filter: another one is refused, naming both
    let other = table.replace(
        &format!("{}.a", stream.subject),
        &format!("{}.b", stream.subject),
    );
    ws.write("other.toml", format!("{SINKS}{other}"));
    let out = drain(&ws, "other.toml", "o2", "1s");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("filter_subject"), "{}", stderr(&out));
}

#[test]
fn credential_files_of_the_source_are_named_when_unreadable() {
    let ws = workspace();
    for key in ["creds", "token_file", "nkey_file"] {
        ws.write(
            "nats.toml",
            format!(
                "{SINKS}\n[[sources]]\ntype = \"nats\"\nstream = \"ANY\"\n{key} = \"missing.secret\"\n"
            ),
        );
        let out = drain(&ws, "nats.toml", "out", "1s");
        assert_eq!(out.status.code(), Some(1), "{key}");
        assert!(
            stderr(&out).contains("missing.secret"),
            "{key}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn the_ndjson_source_reads_its_paths_and_the_command_line_replaces_them() {
    let ws = workspace();
    ws.write("events.ndjson", example("events.ndjson"));
    ws.write("empty.ndjson", "");
    ws.write(
        "m.toml",
        format!("{SINKS}\n[[sources]]\ntype = \"ndjson\"\npaths = [\"events.ndjson\"]\n"),
    );
    let out = ws.run(&["run", "-m", "m.toml", "--out-dir", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = example("events.ndjson")
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64;
    let summary: serde_json::Value =
        serde_json::from_str(&ws.read("out/campaign_summary.json")).unwrap();
    assert_eq!(summary["input"]["lines"], lines);
    let out = ws.run(&["run", "-m", "m.toml", "--out-dir", "out2", "empty.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value =
        serde_json::from_str(&ws.read("out2/campaign_summary.json")).unwrap();
    assert_eq!(summary["input"]["lines"], 0);
    assert_eq!(summary["input"]["files"][0], "empty.ndjson");
}
