//! The saved state of a run that follows a stream (`--follow`): what the last commit held, so
//! the next generation, or a restart, continues from it. It lives in `.exporter-state/` of the
//! output directory and is staged and committed with each generation's files, in the same
//! journalled set: the deliverables and the state that produced them never disagree.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use std::time::{Duration, Instant};

use exporter_core::{Campaign, EventCounts, Fsync, InputStats, OutputFiles, PendingFile};
use exporter_core::{Input, Source};

use crate::error::ExportError;
use crate::manifest::Manifest;
use crate::pipeline::{POLL, Pipeline, RunOptions, RunReport, stop_requested};

/// When a followed stream commits a generation (`[commit]` in the manifest): once `events`
/// events arrived since the last commit, or `every` passed with at least one, whichever comes
/// first; and always at the end (a stop request, or the end of a source that has one).
///
/// ```
/// let every = exporter_runtime::CommitEvery::default();
/// assert_eq!(every.every, Some(std::time::Duration::from_secs(300)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitEvery {
    /// Time since the last commit.
    pub every: Option<Duration>,
    /// Events (input lines or messages) since the last commit.
    pub events: Option<u64>,
}

impl Default for CommitEvery {
    fn default() -> Self {
        CommitEvery {
            every: Some(Duration::from_secs(300)),
            events: None,
        }
    }
}

/// Follows `source`: reads, and commits a new generation of the deliverables whenever
/// the manifest's `[commit]` says, each time together with the state the next one continues from and then
/// acknowledged to the source; continues a stream the output directory already holds. Ends
/// when a stop is requested ([`crate::request_stop`], SIGTERM/SIGINT in the binary) or the
/// source ends, committing what it read first. `on_commit` sees each generation's report.
/// Returns the generations committed.
pub fn follow(
    manifest: &Manifest,
    opts: &RunOptions,
    source: &mut dyn Source,
    mut on_commit: impl FnMut(u64, &RunReport),
) -> Result<u64, ExportError> {
    source.start().map_err(ExportError::Source)?;
    let every = manifest.commit;
    let opts = RunOptions {
        follow: true,
        ..opts.clone()
    };
    let mut committed = 0;
    let mut resumed = false;
    loop {
        let mut pipeline = Pipeline::new(manifest, opts.clone())?;
        if !resumed {
            if let Some(position) = pipeline.saved_position() {
                source.resume(position).map_err(ExportError::Source)?;
            }
            resumed = true;
        }
        let generation = pipeline.generation().unwrap_or(1);
        let started = Instant::now();
        let mut read = 0u64;
        let mut ended = false;
        loop {
            if stop_requested() {
                break;
            }
            let due = every.events.is_some_and(|n| read >= n)
                || every.every.is_some_and(|d| started.elapsed() >= d);
            if read > 0 && due {
                break;
            }
            match source.next(POLL).map_err(ExportError::Source)? {
                None => {
                    ended = true;
                    break;
                }
                Some(Input::Stream { name, reader }) => {
                    let before = pipeline.lines_read();
                    pipeline.read(reader, &name)?;
                    read += pipeline.lines_read() - before;
                }
                Some(Input::Messages(batch)) => {
                    read += batch.len() as u64;
                    pipeline.push_messages(batch)?;
                }
            }
        }
        if read == 0 {
            drop(pipeline); // nothing new: no generation (its staged files go)
            return Ok(committed);
        }
        let report = pipeline.commit_generation(source.position())?;
        tracing::info!(generation, events = read, "generation committed");
        source.committed().map_err(ExportError::Source)?;
        committed += 1;
        on_commit(generation, &report);
        if ended || stop_requested() {
            return Ok(committed);
        }
    }
}

/// The folder of the saved state, inside the output directory.
pub const STATE_DIR: &str = ".exporter-state";

const RUNTIME_FILE: &str = "runtime.json";

/// What the runtime saves with each commit of a followed stream.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Saved {
    /// The generation committed (0: the state before the first event).
    pub generation: u64,
    /// The sinks' names, in manifest order: a manifest whose sinks changed cannot continue.
    pub sinks: Vec<String>,
    pub campaign: Campaign,
    pub input: InputStats,
    pub events: EventCounts,
    /// Where the source stood ([`exporter_core::Source::position`]).
    pub position: Option<serde_json::Value>,
    /// The committed parts of the sinks that write numbered parts, by sink: every generation
    /// adds its own, and the summary lists them all.
    #[serde(default)]
    pub parts: std::collections::BTreeMap<String, Vec<exporter_core::FileReport>>,
}

/// Each sink's saved bytes, in manifest order (`None`: it saved none).
pub(crate) type SinkStates = Vec<Option<Vec<u8>>>;

fn sink_file(index: usize) -> PathBuf {
    Path::new(STATE_DIR).join(format!("sink-{index}.state"))
}

/// The state the last commit saved in `out_dir`, with each sink's bytes, if there is one.
pub(crate) fn load(out_dir: &Path) -> std::io::Result<Option<(Saved, SinkStates)>> {
    let path = out_dir.join(STATE_DIR).join(RUNTIME_FILE);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let saved: Saved = serde_json::from_slice(&text).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })?;
    let mut sinks = Vec::with_capacity(saved.sinks.len());
    for index in 0..saved.sinks.len() {
        match std::fs::read(out_dir.join(sink_file(index))) {
            Ok(bytes) => sinks.push(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => sinks.push(None),
            Err(e) => return Err(e),
        }
    }
    Ok(Some((saved, sinks)))
}

/// Stages the state files of a commit: they join the commit's set. A sink without state
/// this time keeps no file (a stale one is removed with the set: see `stale`).
pub(crate) fn stage(
    out_dir: &Path,
    saved: &Saved,
    sinks: &[Option<Vec<u8>>],
) -> std::io::Result<(Vec<PendingFile>, Vec<PathBuf>)> {
    std::fs::create_dir_all(out_dir.join(STATE_DIR))?;
    let files = OutputFiles::new(out_dir, "state".to_string(), Fsync::OnCommit, false);
    let stage = |path: &Path, bytes: &[u8]| -> std::io::Result<PendingFile> {
        let mut file = files
            .stage(path)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        std::io::Write::write_all(&mut file, bytes)?;
        file.finish()
    };
    let mut pending = vec![stage(
        &Path::new(STATE_DIR).join(RUNTIME_FILE),
        &serde_json::to_vec_pretty(saved).expect("the state is JSON"),
    )?];
    let mut removals = Vec::new();
    for (index, state) in sinks.iter().enumerate() {
        match state {
            Some(bytes) => pending.push(stage(&sink_file(index), bytes)?),
            None => {
                let stale = out_dir.join(sink_file(index));
                if stale.exists() {
                    removals.push(stale);
                }
            }
        }
    }
    Ok((pending, removals))
}

/// A duration as people write it: a number and a unit (`ms`, `s`, `m`, `h`).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(exporter_runtime::parse_duration("5m"), Ok(Duration::from_secs(300)));
/// ```
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let digits = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let value: f64 = number.parse().map_err(|_| {
        format!("{text:?} is no duration; write a number and a unit: 500ms, 5s, 2m, 1h")
    })?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?}; use ms, s, m or h (500ms, 5s, 2m, 1h)"
            ));
        }
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("5").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("s").unwrap_err().contains("no duration"));
        assert!(parse_duration("5 days").is_err());
    }
}
