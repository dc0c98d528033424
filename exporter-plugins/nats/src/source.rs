//! The `nats` source: events from a JetStream stream through a durable pull consumer, each
//! message one event, acknowledged only once the outputs holding it are committed.
//!
//! How "nothing lost, nothing counted twice" holds:
//! - the consumer acknowledges all (`AckPolicy::All`): one acknowledgement, of the last message
//!   a commit holds, settles every message before it, and it is sent only after the commit;
//! - messages delivered again within a run (an acknowledgement wait that ran out) have a
//!   stream sequence at or below the last handed out, and are dropped, not handed out twice;
//! - a `--follow` run saves the last sequence its commit holds ([`Source::position`]) with
//!   the commit; after a restart, messages at or below it (committed by a run killed before it
//!   acknowledged) are acknowledged and dropped;
//! - a consumer with messages a dead run left unacknowledged is created again from its
//!   acknowledgement floor, so they come back at once instead of after the wait runs out.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use exporter_core::{
    BuildError, Input, MessageBatch, Source, SourceContext, SourceError, SourcePlugin,
};
use futures_util::{FutureExt, StreamExt};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::{Connection, reason, shown};

/// How long the server waits for an acknowledgement before it delivers a message again. The
/// exporter acknowledges at commits only; a live run drops what comes again, and a dead run's
/// messages are sent again at once by creating the consumer anew, so this only bounds how long
/// a run that stopped without the exporter noticing (a frozen host) holds its messages.
const ACK_WAIT: Duration = Duration::from_secs(3600);

/// Batches fetched and waiting for the pipeline.
const BATCHES_AHEAD: usize = 4;

/// The `nats` source's options.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The server: `nats://[user:password@]host:port`, or several separated by commas. The
    /// password never appears in any output, log line or error message.
    #[serde(default = "default_url")]
    #[schemars(default = "default_url")]
    pub url: String,
    /// The JetStream stream to read (it must exist; `exporter publish --create-stream` makes
    /// one).
    pub stream: String,
    /// The durable pull consumer that remembers what was committed; created when missing.
    /// Give one exporter (one set of deliverables) its own consumer.
    #[serde(default = "default_consumer")]
    #[schemars(default = "default_consumer")]
    pub consumer: String,
    /// Read only messages whose subject matches (wildcards allowed); all of the stream's
    /// when unset.
    #[serde(default)]
    pub filter_subject: Option<String>,
    /// A `.creds` file (JWT and nkey seed), relative to the manifest.
    #[serde(default)]
    pub creds: Option<PathBuf>,
    /// A file holding a token, relative to the manifest.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// A file holding an nkey seed, relative to the manifest.
    #[serde(default)]
    pub nkey_file: Option<PathBuf>,
    /// Messages asked for per fetch.
    #[serde(default = "default_batch")]
    #[schemars(default = "default_batch", range(min = 1, max = 100000))]
    pub batch: usize,
}

fn default_url() -> String {
    "nats://127.0.0.1:4222".into()
}

fn default_consumer() -> String {
    "exporter".into()
}

fn default_batch() -> usize {
    1024
}

fn config_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(SourceConfig)).expect("a schema is JSON")
}

fn build(
    d: &mut dyn exporter_core::erased_serde::Deserializer<'_>,
    cx: &SourceContext,
) -> Result<Box<dyn Source>, BuildError> {
    let c: SourceConfig = exporter_core::config(d)?;
    if c.batch == 0 || c.batch > 100_000 {
        return Err(BuildError::at_key(
            "batch",
            format!("must be between 1 and 100000, found {}", c.batch),
        ));
    }
    if c.stream.is_empty() {
        return Err(BuildError::at_key("stream", "must not be empty"));
    }
    if !cx.inputs.is_empty() {
        return Err(BuildError::new(format!(
            "the source reads the NATS stream {:?}; input files on the command line ({}) would be ignored: run without them, or without this [[sources]] table",
            c.stream,
            cx.inputs[0].display()
        )));
    }
    Ok(Box::new(NatsSource::new(c, cx)))
}

exporter_core::inventory::submit! {
    SourcePlugin {
        name: "nats",
        description: "Events from a NATS JetStream stream (a durable pull consumer), each message acknowledged only once the outputs holding it are committed.",
        example: "type = \"nats\"\nurl = \"nats://127.0.0.1:4222\"\nstream = \"CAMPAIGN\"\nconsumer = \"exporter\"\n",
        config_schema,
        build,
    }
}

/// What the fetching task hands over.
enum Fetched {
    /// Boxed: a message with its headers is large, and few of these are in flight.
    Batch(Box<(MessageBatch, jetstream::Message)>),
    Failed(String),
}

struct Open {
    rt: tokio::runtime::Runtime,
    /// The consumer, until the first [`Source::next`] starts fetching: only then, after a
    /// restart's [`Source::resume`], is it known what to skip.
    consumer: Option<jetstream::consumer::PullConsumer>,
    rx: Option<mpsc::Receiver<Fetched>>,
}

/// A JetStream stream read through a durable pull consumer.
pub struct NatsSource {
    config: SourceConfig,
    connection: Connection,
    open: Option<Open>,
    /// The batch handed out last, and the message that acknowledges it and all before it.
    batch: MessageBatch,
    last: Option<jetstream::Message>,
    /// The last sequence handed out.
    handed: u64,
    /// Where a restarted run resumes: what is at or below it is committed. Shared with the
    /// fetching task, which may have started before the saved position was known.
    resume_at: Arc<AtomicU64>,
}

impl NatsSource {
    fn new(config: SourceConfig, cx: &SourceContext) -> Self {
        let file = |p: &Option<PathBuf>| p.as_ref().map(|p| cx.manifest_file(p));
        let connection = Connection {
            url: config.url.clone(),
            creds: file(&config.creds),
            token_file: file(&config.token_file),
            nkey_file: file(&config.nkey_file),
        };
        NatsSource {
            batch: MessageBatch::new(config.stream.clone()),
            config,
            connection,
            open: None,
            last: None,
            handed: 0,
            resume_at: Arc::new(AtomicU64::new(0)),
        }
    }

    fn error(&self, what: impl std::fmt::Display) -> SourceError {
        SourceError::new(format!(
            "NATS at {}, stream {:?}: {what}",
            shown(&self.connection.url),
            self.config.stream
        ))
    }

    fn connect(&mut self) -> Result<(), SourceError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| self.error(e))?;
        let consumer = rt.block_on(self.consumer())?;
        self.open = Some(Open {
            rt,
            consumer: Some(consumer),
            rx: None,
        });
        Ok(())
    }

    /// The durable consumer, created when missing, or anew from its acknowledgement floor
    /// when a run that died left messages unacknowledged.
    async fn consumer(&self) -> Result<jetstream::consumer::PullConsumer, SourceError> {
        let client = crate::connect(&self.connection)
            .await
            .map_err(|e| SourceError::new(e.to_string()))?;
        self.consumer_on(client).await.map_err(|e| self.error(e))
    }

    async fn consumer_on(
        &self,
        client: async_nats::Client,
    ) -> Result<jetstream::consumer::PullConsumer, String> {
        let js = jetstream::new(client);
        let stream = js
            .get_stream(&self.config.stream)
            .await
            .map_err(|e| format!("cannot open the stream: {}", reason(e)))?;
        let filter = self.config.filter_subject.clone().unwrap_or_default();
        let config = |deliver_policy| pull::Config {
            durable_name: Some(self.config.consumer.clone()),
            deliver_policy,
            ack_policy: jetstream::consumer::AckPolicy::All,
            ack_wait: ACK_WAIT,
            // acknowledged at commits only: every message of a generation is pending until then
            max_ack_pending: -1,
            filter_subject: filter.clone(),
            ..Default::default()
        };
        let name = &self.config.consumer;
        match stream.consumer_info(name).await {
            Ok(info) => {
                if info.config.filter_subject != filter {
                    return Err(format!(
                        "the consumer {name:?} exists with filter_subject {:?}, and the manifest asks for {filter:?}; delete the consumer or name another",
                        info.config.filter_subject
                    ));
                }
                if info.num_ack_pending > 0 {
                    // a run died holding these: have them now, not when their wait runs out
                    let floor = info.ack_floor.stream_sequence;
                    tracing::info!(consumer = %name, pending = info.num_ack_pending, floor, "a previous run left messages unacknowledged; the consumer starts again after its acknowledgement floor");
                    stream.delete_consumer(name).await.map_err(|e| {
                        format!("cannot reset the consumer {name:?}: {}", reason(e))
                    })?;
                    let policy = if floor == 0 {
                        jetstream::consumer::DeliverPolicy::All
                    } else {
                        jetstream::consumer::DeliverPolicy::ByStartSequence {
                            start_sequence: floor + 1,
                        }
                    };
                    return stream.create_consumer(config(policy)).await.map_err(|e| {
                        format!("cannot create the consumer {name:?}: {}", reason(e))
                    });
                }
                stream
                    .get_consumer(name)
                    .await
                    .map_err(|e| format!("cannot open the consumer {name:?}: {}", reason(e)))
            }
            Err(_) => stream
                .create_consumer(config(jetstream::consumer::DeliverPolicy::All))
                .await
                .map_err(|e| format!("cannot create the consumer {name:?}: {}", reason(e))),
        }
    }
}

/// Fetches messages continuously and hands them over in batches, dropping what was handed out
/// before (or committed before a restart: those are acknowledged).
async fn pump(
    consumer: jetstream::consumer::PullConsumer,
    tx: mpsc::Sender<Fetched>,
    name: String,
    batch_size: usize,
    committed: Arc<AtomicU64>,
) {
    let mut messages = match consumer
        .stream()
        .max_messages_per_batch(batch_size)
        .heartbeat(Duration::from_secs(5))
        .expires(Duration::from_secs(30))
        .messages()
        .await
    {
        Ok(m) => m,
        Err(e) => {
            let _ = tx.send(Fetched::Failed(reason(e))).await;
            return;
        }
    };
    let mut handed = 0;
    loop {
        let mut batch = MessageBatch::new(name.clone());
        let mut last = None;
        // wait for one message, then take what is ready, up to a batch
        let mut next = messages.next().await;
        loop {
            let m = match next {
                None => {
                    let _ = tx
                        .send(Fetched::Failed("the server ended the subscription".into()))
                        .await;
                    return;
                }
                Some(Err(e)) => {
                    let _ = tx.send(Fetched::Failed(reason(e))).await;
                    return;
                }
                Some(Ok(m)) => m,
            };
            let seq = match m.info() {
                Ok(info) => info.stream_sequence,
                Err(e) => {
                    let _ = tx.send(Fetched::Failed(reason(e))).await;
                    return;
                }
            };
            let committed = committed.load(Ordering::SeqCst);
            handed = handed.max(committed);
            if seq <= committed {
                // in the outputs of a run killed before it acknowledged: settle it now
                if let Err(e) = m.ack().await {
                    let _ = tx.send(Fetched::Failed(reason(e))).await;
                    return;
                }
            } else if seq > handed {
                handed = seq;
                batch.push(seq, m.subject.as_str(), &m.payload);
                last = Some(m);
            } // else: delivered again while this run holds it; it is acknowledged at the commit
            if batch.len() >= batch_size {
                break;
            }
            match messages.next().now_or_never() {
                Some(n) => next = n,
                None => break,
            }
        }
        if let Some(last) = last
            && tx
                .send(Fetched::Batch(Box::new((batch, last))))
                .await
                .is_err()
        {
            return; // the source is gone
        }
    }
}

impl Source for NatsSource {
    fn start(&mut self) -> Result<(), SourceError> {
        if self.open.is_none() {
            self.connect()?;
        }
        Ok(())
    }

    fn next(&mut self, wait: Duration) -> Result<Option<Input<'_>>, SourceError> {
        self.start()?;
        let open = self.open.as_mut().expect("started");
        if let Some(consumer) = open.consumer.take() {
            let (tx, rx) = mpsc::channel(BATCHES_AHEAD);
            let (name, batch, skip) = (
                self.config.stream.clone(),
                self.config.batch,
                Arc::clone(&self.resume_at),
            );
            open.rt.spawn(pump(consumer, tx, name, batch, skip));
            open.rx = Some(rx);
        }
        let rx = open.rx.as_mut().expect("fetching");
        let got = open
            .rt
            .block_on(async { tokio::time::timeout(wait, rx.recv()).await });
        match got {
            Err(_) => {
                self.batch.clear(); // nothing within `wait`
            }
            Ok(None) => return Err(self.error("the fetching task stopped")),
            Ok(Some(Fetched::Failed(why))) => return Err(self.error(why)),
            Ok(Some(Fetched::Batch(fetched))) => {
                let (batch, last) = *fetched;
                self.handed = batch.last_number().unwrap_or(self.handed);
                self.batch = batch;
                self.last = Some(last);
            }
        }
        Ok(Some(Input::Messages(&self.batch)))
    }

    fn committed(&mut self) -> Result<(), SourceError> {
        let (Some(open), Some(last)) = (&self.open, self.last.take()) else {
            return Ok(());
        };
        // the server confirms it holds the acknowledgement before this returns
        open.rt
            .block_on(last.double_ack())
            .map_err(|e| self.error(format!("the acknowledgement of the committed messages (through sequence {}) failed: {}; the next run receives them again and skips what its committed state holds", self.handed, reason(e))))?;
        Ok(())
    }

    fn endless(&self) -> bool {
        true
    }

    fn position(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({
            "stream": self.config.stream,
            "consumer": self.config.consumer,
            "sequence": self.handed.max(self.resume_at.load(Ordering::SeqCst)),
        }))
    }

    fn resume(&mut self, position: &serde_json::Value) -> Result<(), SourceError> {
        let stream = position.get("stream").and_then(|s| s.as_str());
        if stream != Some(self.config.stream.as_str()) {
            return Err(self.error(format!(
                "the saved state was committed from the stream {stream:?}; start with a fresh output directory to read another stream"
            )));
        }
        let sequence = position.get("sequence").and_then(|s| s.as_u64());
        let sequence = sequence.ok_or_else(|| self.error("the saved position has no sequence"))?;
        if self.handed > sequence {
            return Err(self.error(format!(
                "the saved state ends at sequence {sequence}, and this run already handed out up to {}",
                self.handed
            )));
        }
        self.resume_at.store(sequence, Ordering::SeqCst);
        self.handed = sequence;
        Ok(())
    }
}
