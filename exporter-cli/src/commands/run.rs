//! `exporter run`.

use std::fs::File;
use std::io::{BufReader, IsTerminal};
use std::path::PathBuf;

use exporter_runtime::{Pipeline, RunOptions, RunReport};
use indicatif::{ProgressBar, ProgressStyle};

use super::{load, report_error};
use crate::cli::ManifestArgs;
use crate::{EXIT_FAILED, EXIT_OK, console, logging};

pub(crate) fn run(
    args: &ManifestArgs,
    strict: bool,
    no_progress: bool,
    no_wait: bool,
    inputs: &[PathBuf],
) -> u8 {
    let manifest = match load(args) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let opts = RunOptions {
        campaign_id: args.campaign_id.clone(),
        out_dir: args.out_dir.clone(),
        strict,
        wait_for_lock: !no_wait,
        ..RunOptions::default()
    };
    let mut pipeline = match Pipeline::new(&manifest, opts) {
        Ok(p) => p,
        Err(e) => return report_error(&e),
    };
    let stdin_only = [PathBuf::from("-")];
    let inputs = if inputs.is_empty() {
        &stdin_only[..]
    } else {
        inputs
    };
    let show_progress = !no_progress && std::io::stderr().is_terminal() && !logging::info_enabled();
    let total: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = if show_progress {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut done_before = 0;
    for input in inputs {
        let name = input.display().to_string();
        if name == "-" && std::io::stdin().is_terminal() {
            // no file named and nothing piped in: say so, or the run seems to hang
            console::info(
                "reading events from standard input (end with Ctrl-D; name NDJSON files to read them instead)",
                serde_json::json!({}),
            );
        }
        let result = if name == "-" {
            let stdin = BufReader::with_capacity(1 << 20, std::io::stdin());
            pipeline.read_with_progress(stdin, "-", |n| bar.set_position(done_before + n))
        } else {
            match File::open(input) {
                Ok(f) => {
                    pipeline.read_with_progress(BufReader::with_capacity(1 << 20, f), &name, |n| {
                        bar.set_position(done_before + n)
                    })
                }
                Err(source) => Err(exporter_runtime::ExportError::Input {
                    input: name.clone(),
                    source,
                }),
            }
        };
        if let Err(e) = result {
            bar.finish_and_clear();
            return report_error(&e);
        }
        done_before = bar.position();
    }
    bar.finish_and_clear();
    match pipeline.finish() {
        // the files are committed; a report that cannot be shown is still a failure to do
        // what was asked (exit 1), not a panic
        Ok(report) if print_report(&report) => EXIT_OK,
        Ok(_) => EXIT_FAILED,
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
