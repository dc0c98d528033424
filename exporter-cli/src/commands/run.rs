//! `exporter run`.

use std::fs::File;
use std::io::{BufReader, IsTerminal};
use std::path::PathBuf;

use exporter_core::{Pipeline, RunOptions, RunReport};
use indicatif::{ProgressBar, ProgressStyle};

use super::{load, report_error};
use crate::cli::ManifestArgs;
use crate::{EXIT_OK, logging};

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
                Err(source) => Err(exporter_core::ExportError::Input {
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
        Ok(report) => {
            print_report(&report);
            EXIT_OK
        }
        Err(e) => report_error(&e),
    }
}

fn print_report(report: &RunReport) {
    let input = &report.input;
    eprintln!(
        "read {} lines from {} input(s): {} records, {} requests, {} errors, {} bad, {} blank",
        input.lines,
        input.files.len(),
        report.events.records,
        report.events.requests,
        report.events.errors,
        input.bad_lines,
        input.blank_lines
    );
    for sink in &report.sinks {
        for f in &sink.files {
            eprintln!(
                "  {:<20} {} ({} rows, {} bytes{})",
                sink.name,
                report.out_dir.join(&f.path).display(),
                f.rows,
                f.bytes,
                if f.validated { ", validated" } else { "" }
            );
        }
    }
}
