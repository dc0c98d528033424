//! What the commands print. Output that fails to reach its stream (`check > /dev/full`, a
//! closed pipe) is an error of the command, exit 1 with a message where one can be given,
//! never a panic. Errors follow `--log-format`: plain `error:` lines, or JSON lines shaped like
//! the logs.

use std::io::Write;
use std::sync::OnceLock;

use crate::EXIT_FAILED;
use crate::cli::LogFormat;

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Sets the format of error lines (once, at start-up).
pub(crate) fn set_format(format: LogFormat) {
    let _ = FORMAT.set(format);
}

fn json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}

/// Appends a line to text that a command prints when it is done.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}
pub(crate) use say;

/// Writes a command's output to standard output; `code` when it got there, else exit 1 (with
/// a message on standard error, if that still works).
pub(crate) fn print(text: &str, code: u8) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => code,
        Err(e) => {
            error(&format!("cannot write to standard output: {e}"));
            EXIT_FAILED
        }
    }
}

/// Writes notes (a run's report) to standard error; whether they got there.
pub(crate) fn note(text: &str) -> bool {
    let mut stderr = std::io::stderr().lock();
    stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.flush())
        .is_ok()
}

/// Reports an error on standard error: `error: ...` (a manifest's errors carry their own
/// `error:` prefixes), or one JSON line with `--log-format json`.
pub(crate) fn error(text: &str) {
    let line = if json() {
        let mut line = serde_json::json!({
            "timestamp": exporter_core::Timestamp::now().to_string(),
            "level": "ERROR",
            "fields": {"message": text},
            "target": "exporter",
        })
        .to_string();
        line.push('\n');
        line
    } else if text.starts_with("error: ") {
        format!("{text}\n")
    } else {
        format!("error: {text}\n")
    };
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Reports a fact of the run on standard error: a plain line, or a JSON line at level INFO
/// with the fields given.
pub(crate) fn info(text: &str, fields: serde_json::Value) -> bool {
    if json() {
        let mut all = serde_json::json!({"message": text});
        if let (Some(all), serde_json::Value::Object(more)) = (all.as_object_mut(), fields) {
            all.extend(more);
        }
        let line = serde_json::json!({
            "timestamp": exporter_core::Timestamp::now().to_string(),
            "level": "INFO",
            "fields": all,
            "target": "exporter",
        });
        note(&format!("{line}\n"))
    } else {
        note(&format!("{text}\n"))
    }
}
