//! `exporter publish` against the NATS JetStream server every machine of this project runs at
//! 127.0.0.1:4222: each test publishes to a stream of its own and deletes it afterwards.

use std::process::{Command, Stdio};

use exporter_tests::harness::{Workspace, example, stderr};

use crate::support::{NATS, TestStream};

fn publish(ws: &Workspace, stream: &TestStream, id: &str, input: &str) -> std::process::Output {
    ws.command()
        .args(["publish", "--url", NATS, "--subject", &stream.subject])
        .args(["--create-stream", &stream.name, "--id", id, input])
        .output()
        .unwrap()
}

#[test]
fn every_line_is_stored_once_in_order_with_its_id() {
    let stream = TestStream::new("once");
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    let events = example("events.ndjson");
    ws.write("events.ndjson", &events);
    let lines: Vec<&[u8]> = events
        .strip_suffix(b"\n")
        .unwrap_or(&events)
        .split(|b| *b == b'\n')
        .collect();

    let out = publish(&ws, &stream, "host-a", "events.ndjson");
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stderr(&out);
    let n = lines.len();
    assert!(
        report.contains(&format!("{n} line(s) published"))
            && report.contains(&format!("{n} stored, 0 already there")),
        "{report}"
    );
    let stored = stream.messages();
    assert_eq!(stored.len(), n);
    for (i, ((payload, id), line)) in stored.iter().zip(&lines).enumerate() {
        // byte for byte: the blank line, the malformed ones, the one that is not UTF-8
        assert_eq!(payload.as_slice(), *line, "line {}", i + 1);
        assert_eq!(id, &format!("host-a:{}", i + 1));
    }

    // the same input again, within the duplicate window: nothing stored twice
    let again = publish(&ws, &stream, "host-a", "events.ndjson");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains(&format!("0 stored, {n} already there")),
        "{}",
        stderr(&again)
    );
    assert_eq!(stream.messages().len(), n);
}

#[test]
fn four_publishers_at_once_lose_nothing() {
    let stream = TestStream::new("four");
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    let events = example("events.ndjson");
    ws.write("events.ndjson", &events);
    assert!(events.ends_with(b"\n"));
    let n = events.iter().filter(|b| **b == b'\n').count();
    // the stream exists before the publishers race to create it
    let first = publish(&ws, &stream, "warm-up", "/dev/null");
    assert!(first.status.success(), "{}", stderr(&first));
    let children: Vec<_> = (0..4)
        .map(|i| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_exporter"));
            cmd.current_dir(ws.path())
                .args(["publish", "--url", NATS, "--subject", &stream.subject])
                .args(["--id", &format!("host-{i}"), "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let bytes = events.clone();
            let writer = std::thread::spawn(move || {
                use std::io::Write;
                stdin.write_all(&bytes).unwrap();
            });
            (child, writer)
        })
        .collect();
    for (child, writer) in children {
        writer.join().unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stored = stream.messages();
    assert_eq!(stored.len(), 4 * n);
    for i in 0..4 {
        let mine: Vec<&Vec<u8>> = stored
            .iter()
            .filter(|(_, id)| id.starts_with(&format!("host-{i}:")))
            .map(|(p, _)| p)
            .collect();
        assert_eq!(mine.len(), n, "host-{i}");
        // each publisher's lines in its order
        let joined: Vec<u8> = mine
            .iter()
            .flat_map(|p| p.iter().copied().chain([b'\n']))
            .collect();
        assert_eq!(joined, events, "host-{i}");
    }
}

#[test]
fn an_unreachable_server_fails_naming_the_url_without_the_password() {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("events.ndjson", "{}\n");
    let out = ws
        .command()
        .args([
            "publish",
            "--url",
            "nats://scraper:S3cretPw@127.0.0.1:1",
            "--subject",
            "x",
        ])
        .arg("events.ndjson")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot connect to NATS at nats://scraper:***@127.0.0.1:1"),
        "{err}"
    );
    assert!(!err.contains("S3cretPw"), "{err}");
}

#[test]
fn without_an_id_the_ids_name_the_host_and_the_input() {
    let stream = TestStream::new("default_id");
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("events.ndjson", "{\"type\":\"error\"}\n\n");
    let out = ws
        .command()
        .args([
            "publish",
            "--subject",
            &stream.subject,
            "--create-stream",
            &stream.name,
        ])
        .arg("events.ndjson")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let host = exporter_nats::host_name();
    let ids: Vec<String> = stream.messages().into_iter().map(|m| m.1).collect();
    assert_eq!(
        ids,
        [
            format!("{host}:events.ndjson:1"),
            format!("{host}:events.ndjson:2")
        ]
    );
}

#[test]
fn an_unreadable_credentials_file_is_named() {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("events.ndjson", "{}\n");
    for flag in ["--creds", "--token-file", "--nkey-file"] {
        let out = ws
            .command()
            .args([
                "publish",
                "--subject",
                "x",
                flag,
                "missing.secret",
                "events.ndjson",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{flag}");
        assert!(
            stderr(&out).contains("missing.secret"),
            "{flag}: {}",
            stderr(&out)
        );
    }
}
