//! `exporter run --follow` against the NATS JetStream server at 127.0.0.1:4222: generations
//! committed as `[commit]` says, and a follower killed with SIGKILL at random moments that
//! still counts every event exactly once, in parts numbered without a gap.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::support::{NATS, SINKS, TestStream};
use exporter_bench_gen::{Shape, generate};
use exporter_tests::harness::{Workspace, example, stderr};

fn follower(ws: &Workspace) -> Child {
    Command::new(env!("CARGO_BIN_EXE_exporter"))
        .current_dir(ws.path())
        .env(
            "SOURCE_DATE_EPOCH",
            exporter_tests::harness::SOURCE_DATE_EPOCH,
        )
        .env_remove("RUST_LOG")
        .args(["run", "-m", "follow.toml", "--out-dir", "out", "--follow"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `exporter run --follow` of `m.toml` into `out/`, reading `inputs`.
fn follow_files(ws: &Workspace, inputs: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "-m", "m.toml", "--out-dir", "out", "--follow"];
    args.extend_from_slice(inputs);
    ws.run(&args)
}

fn json(ws: &Workspace, path: &str) -> serde_json::Value {
    serde_json::from_str(&ws.read(path)).unwrap()
}

/// The data rows of a CSV file, each as its cells.
fn rows(ws: &Workspace, path: &str) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(ws.path().join(path)).unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The committed parts of the results table, in order, checked to be numbered 1..=n.
fn parts(ws: &Workspace) -> Vec<String> {
    let mut parts: Vec<String> = ws
        .files()
        .into_iter()
        .filter(|f| f.starts_with("out/results"))
        .collect();
    parts.sort();
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(
            *p,
            format!("out/results-{:04}.csv", i + 1),
            "parts {parts:?}"
        );
    }
    parts
}

#[test]
fn a_follower_killed_at_ten_moments_counts_every_event_once() {
    let stream = TestStream::new("follow_kill");
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("lead.schema.json", example("lead.schema.json"));
    let mut events = Vec::new();
    generate(
        Shape {
            records: 2_500,
            requests: 7_500,
            errors: 150,
            proxies: 20,
            seed: 7,
            first_uid: 0,
        },
        &mut events,
    )
    .unwrap();
    let lines = events.iter().filter(|b| **b == b'\n').count() as u64;
    ws.write("events.ndjson", &events);
    let published = ws
        .command()
        .args(["publish", "--url", NATS, "--subject", &stream.subject])
        .args(["--create-stream", &stream.name, "events.ndjson"])
        .output()
        .unwrap();
    assert!(published.status.success(), "{}", stderr(&published));
    ws.write("file.toml", SINKS);
    ws.write(
        "follow.toml",
        format!(
            "{SINKS}\n[commit]\nevery = \"1s\"\nevery_events = 400\n{}",
            stream.source_table("follower")
        ),
    );
    let file = ws.run(&[
        "run",
        "-m",
        "file.toml",
        "--out-dir",
        "file",
        "events.ndjson",
    ]);
    assert!(file.status.success(), "{}", stderr(&file));

    // ten kills at moments spread over the stream's reading (printed, to replay a failure)
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut moments = Vec::new();
    for _ in 0..10 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        moments.push(Duration::from_millis(100 + seed % 1200));
    }
    eprintln!("kill -9 after {moments:?}");
    for moment in &moments {
        let mut child = follower(&ws);
        std::thread::sleep(*moment);
        child.kill().unwrap(); // SIGKILL: no commit, no acknowledgement, no clean-up
        child.wait().unwrap();
        parts(&ws); // whatever was committed so far is numbered without a gap
    }

    // a last follower reads what is left; SIGTERM once the summary counts every line
    let child = follower(&ws);
    // the last killed follower may have committed everything already: give this one time to
    // start (and install its signal handlers) before it is stopped
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    loop {
        let done = ws.exists("out/campaign_summary.json")
            && json(&ws, "out/campaign_summary.json")["input"]["lines"] == lines;
        if done {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the follower did not catch up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    sigterm(&child);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));

    // every event exactly once: the counts of the file run
    let (f, n) = (
        json(&ws, "file/campaign_summary.json"),
        json(&ws, "out/campaign_summary.json"),
    );
    for key in ["events", "requests", "errors"] {
        assert_eq!(f[key], n[key], "summary {key}");
    }
    let (mut fi, mut ni) = (f["input"].clone(), n["input"].clone());
    fi["files"] = serde_json::Value::Null;
    ni["files"] = serde_json::Value::Null;
    assert_eq!(fi, ni);
    let (mut fr, mut nr) = (f["records"].clone(), n["records"].clone());
    fr["files"] = serde_json::Value::Null;
    nr["files"] = serde_json::Value::Null;
    assert_eq!(fr, nr, "record accounting");
    assert_eq!(
        json(&ws, "file/proxy_performance.json"),
        json(&ws, "out/proxy_performance.json")
    );
    // the parts hold the file run's rows, in order, each once
    let mut followed = Vec::new();
    for part in parts(&ws) {
        followed.extend(rows(&ws, &part));
    }
    assert!(
        followed == rows(&ws, "file/results.csv"),
        "the parts' rows differ from the table's"
    );
    assert_eq!(n["records"]["files"], parts(&ws).len());
    // the error log: the file run's rows, each once (located in the stream, not the file)
    let logged = rows(&ws, "out/error_log.csv");
    let expected = rows(&ws, "file/error_log.csv");
    assert_eq!(logged.len(), expected.len(), "error log rows");
    for (a, b) in logged.iter().zip(&expected) {
        let a: Vec<String> = a[..7]
            .iter()
            .map(|cell| cell.replace(&stream.name, "events.ndjson"))
            .collect();
        assert_eq!(a, b[..7]);
    }
    assert!(ws.staging_files().is_empty(), "{:?}", ws.staging_files());
    // the summary lists every part, and each passes its validators again
    let check = ws.run(&["check", "-m", "follow.toml", "--out-dir", "out"]);
    assert!(check.status.success(), "{}", stderr(&check));
    // acknowledged through the last message
    assert_eq!(stream.consumer_state("follower"), (lines, 0));
}

#[test]
fn sinks_that_cannot_follow_are_named_before_anything_is_read() {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("lead.schema.json", example("lead.schema.json"));
    ws.write(
        "m.toml",
        "[[sinks]]\ntype = \"xlsx\"\nschema = \"lead.schema.json\"\n",
    );
    ws.write("events.ndjson", example("events.ndjson"));
    let out = follow_files(&ws, &["events.ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("sink \"xlsx\" failed: this sink cannot follow a stream"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn files_followed_commit_each_generation_and_end_with_the_input() {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("lead.schema.json", example("lead.schema.json"));
    ws.write("events.ndjson", example("events.ndjson"));
    ws.write("m.toml", format!("{SINKS}\n[commit]\nevery_events = 1\n"));
    // each input file is read whole: with two files, two generations
    let out = follow_files(&ws, &["events.ndjson", "events.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(parts(&ws).len(), 2);
    let summary = json(&ws, "out/campaign_summary.json");
    let lines = example("events.ndjson")
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64;
    assert_eq!(summary["input"]["lines"], 2 * lines);
    // the second copy's records are all duplicates of the first's
    let once = rows(&ws, "out/results-0001.csv").len();
    assert!(once > 0);
    assert!(rows(&ws, "out/results-0002.csv").is_empty());
    assert_eq!(summary["records"]["written"], once);
    // a run that follows again continues the numbering
    let again = follow_files(&ws, &["events.ndjson"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(parts(&ws).len(), 3);
    assert_eq!(
        json(&ws, "out/campaign_summary.json")["input"]["lines"],
        3 * lines
    );
}

/// SIGTERM, as a service manager stops the follower.
fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
