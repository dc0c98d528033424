//! Tracing set-up: `-v` levels, `RUST_LOG`, text or JSON lines, always on standard error.

use std::io::{IsTerminal, Write};

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

pub(crate) fn init(verbose: u8, format: LogFormat) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default))
        // the NATS client's debug and trace lines print its URL's password and every message
        // (proxy passwords in them): its warnings and errors are all that may show
        .add_directive("async_nats=warn".parse().expect("a valid directive"));
    // colours only for a person at a terminal: escape codes in a CI log or a file are noise
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(|| Redacting(Vec::new()));
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// One log line on its way to standard error: every password in it is masked first, whatever
/// wrote it (a library's message that quotes a URL).
struct Redacting(Vec<u8>);

impl Write for Redacting {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Redacting {
    fn drop(&mut self) {
        let line = String::from_utf8_lossy(&self.0);
        // a log line that cannot be written is dropped, as `std::io::stderr` would
        let _ = std::io::stderr().write_all(exporter_core::redact(&line).as_bytes());
    }
}

/// Whether info-level logs will show (then the progress bar would fight with them).
pub(crate) fn info_enabled() -> bool {
    tracing::enabled!(tracing::Level::INFO)
}
