//! `exporter run`.

use std::io::IsTerminal;
use std::path::PathBuf;

use exporter_runtime::{ExportError, Pipeline, RunOptions, RunReport};
use indicatif::{ProgressBar, ProgressStyle};

use super::{load, report_error};
use crate::cli::ManifestArgs;
use crate::{EXIT_FAILED, EXIT_OK, EXIT_USAGE, console, logging};

/// `exporter run`'s switches.
pub(crate) struct Flags {
    pub strict: bool,
    pub no_progress: bool,
    pub no_wait: bool,
    pub until_idle: Option<std::time::Duration>,
    pub follow: bool,
}

pub(crate) fn run(args: &ManifestArgs, flags: Flags, inputs: &[PathBuf]) -> u8 {
    let manifest = match load(args) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let mut source = match manifest.build_source(inputs) {
        Ok(s) => s,
        Err(e) => return report_error(&ExportError::Manifest(e)),
    };
    if source.endless() && flags.until_idle.is_none() && !flags.follow {
        console::error(
            "the manifest's source is a message stream, which never ends by itself: run with `--until-idle DURATION` (drain it, then commit), e.g. --until-idle 5s, or with `--follow` (commit as `[commit]` says, until SIGTERM)",
        );
        return EXIT_USAGE;
    }
    // an unreachable server fails the run before any output is opened
    if let Err(e) = source.start() {
        return report_error(&ExportError::Source(e));
    }
    let opts = RunOptions {
        campaign_id: args.campaign_id.clone(),
        out_dir: args.out_dir.clone(),
        strict: flags.strict,
        wait_for_lock: !flags.no_wait,
        ..RunOptions::default()
    };
    if flags.follow {
        return follow(&manifest, &opts, source.as_mut());
    }
    let mut pipeline = match Pipeline::new(&manifest, opts) {
        Ok(p) => p,
        Err(e) => return report_error(&e),
    };
    let reads_stdin = manifest.source.is_none()
        && (inputs.is_empty() || inputs.iter().any(|p| p.as_os_str() == "-"));
    if reads_stdin && std::io::stdin().is_terminal() {
        // no file named and nothing piped in: say so, or the run seems to hang
        console::info(
            "reading events from standard input (end with Ctrl-D; name NDJSON files to read them instead)",
            serde_json::json!({}),
        );
    }
    let show_progress =
        !flags.no_progress && std::io::stderr().is_terminal() && !logging::info_enabled();
    let total: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = if show_progress && total > 0 {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let read = pipeline.read_source(source.as_mut(), flags.until_idle, |n| bar.set_position(n));
    bar.finish_and_clear();
    if let Err(e) = read {
        return report_error(&e);
    }
    let report = match pipeline.finish() {
        Ok(report) => report,
        Err(e) => return report_error(&e),
    };
    // only now, with the outputs committed, may a message source let go of its input
    if let Err(e) = source.committed() {
        console::error(&format!(
            "the outputs are committed, but the source could not be told: {e}"
        ));
        return EXIT_FAILED;
    }
    // the files are committed; a report that cannot be shown is still a failure to do what
    // was asked (exit 1), not a panic
    if print_report(&report) {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

/// `run --follow`: generations committed until a stop or the end of the source.
fn follow(
    manifest: &exporter_runtime::Manifest,
    opts: &RunOptions,
    source: &mut dyn exporter_core::Source,
) -> u8 {
    let mut shown = true;
    let done = exporter_runtime::follow(manifest, opts, source, |generation, report| {
        let files: usize = report.sinks.iter().map(|s| s.files.len()).sum();
        shown &= console::info(
            &format!(
                "generation {generation} committed: {} lines so far ({} records, {} requests, {} errors, {} bad); {files} files in {}",
                report.input.lines,
                report.events.records,
                report.events.requests,
                report.events.errors,
                report.input.bad_lines,
                report.out_dir.display()
            ),
            serde_json::json!({"generation": generation, "input": report.input, "events": report.events}),
        );
    });
    match done {
        Ok(n) => {
            shown &= console::info(
                &format!("stopped after {n} generation(s) committed by this run"),
                serde_json::json!({"generations": n}),
            );
            if shown { EXIT_OK } else { EXIT_FAILED }
        }
        Err(e) => report_error(&e),
    }
}

/// The run's report on standard error; whether it got there.
fn print_report(report: &RunReport) -> bool {
    let input = &report.input;
    let mut shown = console::info(
        &format!(
            "read {} lines from {} input(s): {} records, {} requests, {} errors, {} bad, {} blank",
            input.lines,
            input.files.len(),
            report.events.records,
            report.events.requests,
            report.events.errors,
            input.bad_lines,
            input.blank_lines
        ),
        serde_json::json!({"input": input, "events": report.events}),
    );
    for sink in &report.sinks {
        for f in &sink.files {
            shown &= console::info(
                &format!(
                    "  {:<20} {} ({} rows, {} bytes{})",
                    sink.name,
                    report.out_dir.join(f.path()).display(),
                    f.rows(),
                    f.bytes(),
                    if f.validated() { ", validated" } else { "" }
                ),
                serde_json::json!({"file": f}),
            );
        }
    }
    shown
}
