//! What the tests that need the NATS JetStream server share: every machine of this project
//! runs one at 127.0.0.1:4222; each test uses a stream of its own and deletes it afterwards.

#![allow(dead_code)] // each test file uses its part

use std::time::{SystemTime, UNIX_EPOCH};

pub const NATS: &str = "nats://127.0.0.1:4222";

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A stream name (and subject) of this test's own, deleted when dropped.
pub struct TestStream {
    pub name: String,
    pub subject: String,
}

impl TestStream {
    pub fn new(test: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!(
            "EXPTEST_{}_{}_{nanos}",
            test.to_uppercase(),
            std::process::id()
        );
        let subject = format!("exptest.{}.{nanos}", std::process::id());
        runtime().block_on(async {
            async_nats::connect(NATS).await.unwrap_or_else(|e| {
                panic!(
                    "NATS with JetStream must run at {NATS} for these tests (nats-server -js): {e}"
                )
            });
        });
        TestStream { name, subject }
    }

    /// The stored messages in order: (payload, message id).
    pub fn messages(&self) -> Vec<(Vec<u8>, String)> {
        runtime().block_on(async {
            let js = async_nats::jetstream::new(async_nats::connect(NATS).await.unwrap());
            let mut stream = js.get_stream(&self.name).await.unwrap();
            let n = stream.info().await.unwrap().state.messages;
            let mut out = Vec::new();
            for seq in 1..=n {
                let m = stream.get_raw_message(seq).await.unwrap();
                let id = m
                    .headers
                    .get("Nats-Msg-Id")
                    .map(|v| v.as_str().to_string())
                    .unwrap_or_default();
                out.push((m.payload.to_vec(), id));
            }
            out
        })
    }
}

impl TestStream {
    /// The consumer's acknowledgement floor (stream sequence) and messages awaiting one.
    pub fn consumer_state(&self, consumer: &str) -> (u64, usize) {
        runtime().block_on(async {
            let js = async_nats::jetstream::new(async_nats::connect(NATS).await.unwrap());
            let stream = js.get_stream(&self.name).await.unwrap();
            let info = stream.consumer_info(consumer).await.unwrap();
            (info.ack_floor.stream_sequence, info.num_ack_pending)
        })
    }

    /// A manifest's `[[sources]]` table reading this stream through `consumer`.
    pub fn source_table(&self, consumer: &str) -> String {
        format!(
            "\n[[sources]]\ntype = \"nats\"\nurl = \"{NATS}\"\nstream = \"{}\"\nconsumer = \"{consumer}\"\n",
            self.name
        )
    }
}

impl Drop for TestStream {
    fn drop(&mut self) {
        runtime().block_on(async {
            if let Ok(client) = async_nats::connect(NATS).await {
                let _ = async_nats::jetstream::new(client)
                    .delete_stream(&self.name)
                    .await;
            }
        });
    }
}

/// The bench manifest's four deliverables.
pub const SINKS: &str = r#"
[campaign]
id = "nats-test"

[[sinks]]
type = "csv"
name = "results"
path = "results.csv"
dialect = "excel"
schema = "lead.schema.json"
dedupe_on = ["place_id"]

[[sinks]]
type = "campaign-summary"

[[sinks]]
type = "proxy-performance"

[[sinks]]
type = "error-log"
"#;

/// Runs `exporter run -m MANIFEST --out-dir OUT --until-idle IDLE` in the workspace.
pub fn drain(
    ws: &exporter_tests::harness::Workspace,
    manifest: &str,
    out: &str,
    idle: &str,
) -> std::process::Output {
    ws.run(&[
        "run",
        "-m",
        manifest,
        "--out-dir",
        out,
        "--until-idle",
        idle,
    ])
}
