//! # exporter-nats
//!
//! NATS JetStream for campaigns spread over many hosts. [`publish`] ships NDJSON lines to a
//! JetStream subject, as `exporter publish` does: each line one message, in order, every
//! publish acknowledged by the server before the run counts it, each with a message id
//! (`Nats-Msg-Id`) so a line published twice within the stream's duplicate window is stored
//! once. The async runtime (tokio, one thread) stays inside this crate.
//!
//! Every line is published as it is, blank and malformed ones included: the exporter that
//! reads the stream accounts for them exactly as a file run would (bad input into the error
//! log, blank lines counted), so the deliverables of a stream match those of the file.
//!
//! Credentials come from a creds file, a token file or an nkey seed file, or the URL's
//! `user:password@`; no error message or log line holds a password or a token.

#![forbid(unsafe_code)]

mod source;

pub use source::{NatsSource, SourceConfig};

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, context::PublishAckFuture};
use exporter_core::redact;

/// Publishes acknowledged at once (the rest wait): enough to keep a loopback link busy,
/// few enough that a lost connection leaves a short list to report.
const IN_FLIGHT: usize = 4096;

/// How a publisher reaches the server.
#[derive(Clone, Debug, Default)]
pub struct Connection {
    /// `nats://[user:password@]host:port`, or several separated by commas.
    pub url: String,
    /// A `.creds` file (JWT and nkey seed).
    pub creds: Option<PathBuf>,
    /// A file holding a token.
    pub token_file: Option<PathBuf>,
    /// A file holding an nkey seed.
    pub nkey_file: Option<PathBuf>,
}

/// What to publish, and where.
#[derive(Clone, Debug)]
pub struct PublishOptions {
    /// The server.
    pub connection: Connection,
    /// The subject each line is published to.
    pub subject: String,
    /// A stream to create for the subject when none exists (with the server's defaults and a
    /// two-minute duplicate window); without it, a stream must already capture the subject.
    pub create_stream: Option<String>,
    /// What message ids start with: `ID:LINE` names each line. Give each publisher and input
    /// its own (the default is the host's name and the input's path).
    pub id_prefix: Option<String>,
}

/// What a publish did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// Lines read.
    pub lines: u64,
    /// Lines the server stored.
    pub stored: u64,
    /// Lines the server already held (published before, within the duplicate window).
    pub duplicates: u64,
    /// The stream that took them.
    pub stream: String,
}

/// Why a publish stopped.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect {
        /// The URL, password masked.
        url: String,
        /// Why (secrets masked).
        reason: String,
    },
    /// A credentials file could not be read.
    #[error("{path}: {reason}")]
    Credentials {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The stream could not be found or created.
    #[error("stream {stream:?}: {reason}")]
    Stream {
        /// Its name.
        stream: String,
        /// Why.
        reason: String,
    },
    /// A publish failed or was not acknowledged; lines from `line` on may not be stored.
    #[error("{input}:{line}: not acknowledged by NATS at {url}: {reason}")]
    Publish {
        /// The input.
        input: String,
        /// The first line not known to be stored.
        line: u64,
        /// The URL, password masked.
        url: String,
        /// Why.
        reason: String,
    },
    /// The input could not be read.
    #[error("{input}: {source}")]
    Input {
        /// The input.
        input: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The URL as errors may show it.
fn shown(url: &str) -> String {
    redact(url).into_owned()
}

/// A message from the client library, with secrets masked (a library may echo the URL).
fn reason(e: impl std::fmt::Display) -> String {
    redact(&e.to_string()).into_owned()
}

/// The host's name, for default message ids.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a one-thread tokio runtime builds")
}

/// Connects, with the credentials the connection names.
pub async fn connect(c: &Connection) -> Result<async_nats::Client, PublishError> {
    let secret = |path: &PathBuf| {
        std::fs::read_to_string(path)
            .map(|s| s.trim().to_string())
            .map_err(|e| PublishError::Credentials {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
    };
    let mut options = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .name("campaign-exporter");
    if let Some(path) = &c.creds {
        options = options
            .credentials_file(path)
            .await
            .map_err(|e| PublishError::Credentials {
                path: path.display().to_string(),
                reason: reason(e),
            })?;
    }
    if let Some(path) = &c.token_file {
        options = options.token(secret(path)?);
    }
    if let Some(path) = &c.nkey_file {
        options = options.nkey(secret(path)?);
    }
    options
        .connect(c.url.as_str())
        .await
        .map_err(|e| PublishError::Connect {
            url: shown(&c.url),
            reason: reason(e),
        })
}

/// Publishes every line of `input` (named `name` in errors and ids) to the subject.
///
/// Lines are published in order, up to a few thousand awaiting their acknowledgement at a
/// time; the report counts a line only once the server acknowledged it. A failure names the
/// first line that may not be stored: publishing the same input again with the same id
/// prefix, within the stream's duplicate window, stores only what is missing.
pub fn publish(
    options: &PublishOptions,
    name: &str,
    input: impl BufRead,
) -> Result<PublishReport, PublishError> {
    runtime().block_on(publish_async(options, name, input))
}

async fn publish_async(
    options: &PublishOptions,
    name: &str,
    mut input: impl BufRead,
) -> Result<PublishReport, PublishError> {
    let c = &options.connection;
    let client = connect(c).await?;
    let js = jetstream::new(client.clone());
    let mut report = PublishReport::default();
    if let Some(stream) = &options.create_stream {
        js.get_or_create_stream(jetstream::stream::Config {
            name: stream.clone(),
            subjects: vec![options.subject.clone()],
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(|e| PublishError::Stream {
            stream: stream.clone(),
            reason: reason(e),
        })?;
    }
    let prefix = options
        .id_prefix
        .clone()
        .unwrap_or_else(|| format!("{}:{name}", host_name()));
    let failed = |line: u64, e: String| PublishError::Publish {
        input: name.to_string(),
        line,
        url: shown(&c.url),
        reason: e,
    };
    let mut waiting: VecDeque<(u64, PublishAckFuture)> = VecDeque::with_capacity(IN_FLIGHT);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|source| PublishError::Input {
                input: name.to_string(),
                source,
            })?;
        if n == 0 {
            break;
        }
        report.lines += 1;
        let line = report.lines;
        // the line as it is, without its `\n`: a `\r` before it, a bad byte, a blank line
        // all reach the exporter, which treats them as a file run does
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", format!("{prefix}:{line}").as_str());
        let ack = js
            .publish_with_headers(options.subject.clone(), headers, buf.clone().into())
            .await
            .map_err(|e| failed(waiting.front().map_or(line, |w| w.0), reason(e)))?;
        waiting.push_back((line, ack));
        if waiting.len() >= IN_FLIGHT {
            let (at, ack) = waiting.pop_front().expect("full");
            settle(&mut report, ack.await).map_err(|e| failed(at, e))?;
        }
    }
    while let Some((at, ack)) = waiting.pop_front() {
        settle(&mut report, ack.await).map_err(|e| failed(at, e))?;
    }
    client
        .flush()
        .await
        .map_err(|e| failed(report.lines + 1, reason(e)))?;
    Ok(report)
}

fn settle(
    report: &mut PublishReport,
    ack: Result<jetstream::publish::PublishAck, jetstream::context::PublishError>,
) -> Result<(), String> {
    let ack = ack.map_err(reason)?;
    if ack.duplicate {
        report.duplicates += 1;
    } else {
        report.stored += 1;
    }
    if report.stream.is_empty() {
        report.stream = ack.stream;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_server_is_named_without_its_password() {
        let options = PublishOptions {
            connection: Connection {
                // a port nothing listens on
                url: "nats://user:S3cret@127.0.0.1:1".into(),
                ..Default::default()
            },
            subject: "x".into(),
            create_stream: None,
            id_prefix: None,
        };
        let err = publish(&options, "events.ndjson", &b"{}\n"[..]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("127.0.0.1:1"), "{text}");
        assert!(!text.contains("S3cret"), "{text}");
        assert!(matches!(err, PublishError::Connect { .. }));
    }
}
