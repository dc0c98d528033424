//! The end of a run or of a generation: every sink finished (those that run last after the
//! others), every file validated, and all of them committed as one set, or none.

use std::path::PathBuf;

use super::{Pipeline, RunReport, Slot, stop_requested};
use crate::error::{ExportError, RejectedFile};
use exporter_core::{FileReport, FileUnderCheck, Finding, FinishContext, NamedValidator};
use exporter_core::{PendingFile, SinkError, SinkReport, Written};

impl Pipeline {
    /// Finishes every sink (those that run last after the others), validates every file, and
    /// commits them all, or none when any fails validation.
    pub fn finish(self) -> Result<RunReport, ExportError> {
        self.finish_with(None)
    }

    /// Following a stream: finishes this generation and commits its files together with the
    /// state the next one continues from (each sink's, the counts so far, and `position`,
    /// where the source stands). Unlike [`Pipeline::finish`], a stop request does not prevent
    /// the commit: a followed stream ends by committing what it read.
    pub fn commit_generation(
        self,
        position: Option<serde_json::Value>,
    ) -> Result<RunReport, ExportError> {
        if self.following.is_none() {
            return Err(ExportError::Sink {
                sink: "pipeline".into(),
                error: SinkError::new("commit_generation needs a run made with `follow: true`"),
            });
        }
        self.finish_with(Some(position))
    }

    fn finish_with(
        self,
        position: Option<Option<serde_json::Value>>,
    ) -> Result<RunReport, ExportError> {
        tracing::info!(lines = self.input.lines, "input read; finishing sinks");
        let Pipeline {
            slots,
            campaign,
            input,
            events,
            out_dir,
            now,
            reproducible,
            following,
            _lock: lock,
            ..
        } = self;
        let names: Vec<String> = slots.iter().map(|s| s.spec.name.clone()).collect();
        let mut states: Vec<Option<Vec<u8>>> = vec![None; slots.len()];
        let mut parts = following
            .as_ref()
            .map(|f| f.parts.clone())
            .unwrap_or_default();
        let (last, first): (Vec<Slot>, Vec<Slot>) =
            slots.into_iter().partition(|s| s.sink.runs_last());
        let mut reports: Vec<(usize, SinkReport)> = Vec::new();
        let mut pending: Vec<Staged> = Vec::new();
        // tables written in numbered parts, with their sink's index
        let mut numbered: Vec<(PathBuf, usize)> = Vec::new();
        for slot in first.into_iter().chain(last) {
            let index = slot.spec.index;
            if slot.spec.plugin.numbered_parts {
                numbered.push((slot.files.dir().join(&slot.spec.path), index));
            }
            let earlier: Vec<SinkReport> = reports.iter().map(|(_, r)| r.clone()).collect();
            let cx = FinishContext {
                campaign: &campaign,
                input: &input,
                events: &events,
                outputs: &earlier,
                generated_at: now,
                reproducible,
                out_dir: &out_dir,
            };
            let numbered_parts = slot.spec.plugin.numbered_parts;
            let (mut report, state) = finish_slot(slot, &cx, &mut pending)?;
            if following.is_some() && numbered_parts {
                // a followed table is every part committed so far, this generation's last
                let all = parts.entry(report.name.clone()).or_default();
                all.extend(report.files.iter().cloned());
                report.files = all.clone();
            }
            if let Some(at) = names.iter().position(|n| *n == report.name) {
                states[at] = state;
            }
            reports.push((index, report));
        }
        if pending.iter().any(|s| !s.findings.is_empty()) {
            let mut files = Vec::new();
            for staged in pending {
                if staged.findings.is_empty() {
                    continue; // dropped: its staging file is removed
                }
                let target = staged.file.target().to_path_buf();
                let kept_at = staged.file.reject().ok();
                files.push(RejectedFile {
                    sink: staged.sink,
                    target,
                    kept_at,
                    findings: staged.findings,
                });
            }
            return Err(ExportError::Validation(files));
        }
        // parts an earlier run wrote beyond this run's are no longer part of the table (a
        // followed stream's parts are all part of it)
        let mut removals = Vec::new();
        if following.is_some() {
            numbered.clear();
        }
        for (base, index) in numbered {
            let parts = reports
                .iter()
                .find(|(i, _)| *i == index)
                .map_or(0, |(_, r)| r.files.len());
            removals.extend(exporter_core::stale_parts(&base, parts).map_err(|e| {
                ExportError::OutputDir {
                    dir: out_dir.clone(),
                    source: e,
                }
            })?);
        }
        if stop_requested() && following.is_none() {
            return Err(ExportError::Interrupted); // the pending files are removed as they drop
        }
        let sync = following.is_some()
            || pending
                .iter()
                .any(|s| s.fsync == exporter_core::Fsync::OnCommit);
        let mut files: Vec<PendingFile> = pending.into_iter().map(|s| s.file).collect();
        if let (Some(f), Some(position)) = (&following, position) {
            let saved = crate::follow::Saved {
                generation: f.generation,
                sinks: names,
                campaign: campaign.clone(),
                input: input.clone(),
                events: events.clone(),
                position,
                parts,
            };
            let (state_files, stale) =
                crate::follow::stage(&out_dir, &saved, &states).map_err(|source| {
                    ExportError::Commit {
                        dir: out_dir.clone(),
                        source,
                    }
                })?;
            files.extend(state_files);
            removals.extend(stale);
        }
        crate::commit::commit_set(&out_dir, files, removals, sync).map_err(|source| {
            ExportError::Commit {
                dir: out_dir.clone(),
                source,
            }
        })?;
        drop(lock); // the set is committed: another run may start
        reports.sort_by_key(|(i, _)| *i);
        let sinks: Vec<SinkReport> = reports.into_iter().map(|(_, r)| r).collect();
        for report in &sinks {
            for f in &report.files {
                tracing::info!(sink = %report.name, path = %f.path(), rows = f.rows(), bytes = f.bytes(), write_ms = f.write_ms(), validated = f.validated(), "output committed");
            }
        }
        Ok(RunReport {
            campaign,
            out_dir,
            input,
            events,
            sinks,
        })
    }
}

struct Staged {
    sink: String,
    file: PendingFile,
    findings: Vec<Finding>,
    fsync: exporter_core::Fsync,
}

fn run_validators(validators: &[NamedValidator], file: &FileUnderCheck<'_>) -> Vec<Finding> {
    validators.iter().flat_map(|(_, v)| v.check(file)).collect()
}

/// The findings of every validator, in `validate` order: those that followed the file as it
/// was written are joined, the others run now.
fn check_staged(validators: &[NamedValidator], file: &mut PendingFile, name: &str) -> Vec<Finding> {
    let mut followers = file.take_followers();
    let under = FileUnderCheck {
        path: file.staging_path(),
        name,
        rows: Some(file.rows()),
    };
    let mut findings = Vec::new();
    for (i, (_, validator)) in validators.iter().enumerate() {
        match followers.iter().position(|(j, _)| *j == i) {
            Some(k) => {
                let (_, thread) = followers.swap_remove(k);
                findings.extend(
                    thread
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                );
            }
            None => findings.extend(validator.check(&under)),
        }
    }
    findings
}

fn finish_slot(
    slot: Slot,
    cx: &FinishContext<'_>,
    pending: &mut Vec<Staged>,
) -> Result<(SinkReport, Option<Vec<u8>>), ExportError> {
    let Slot {
        spec,
        sink,
        files: out,
        validators,
        interests,
    } = slot;
    let sink_err = |error: SinkError| ExportError::Sink {
        sink: spec.name.clone(),
        error,
    };
    let output = sink.finish(cx).map_err(sink_err)?;
    // the accounting is checked, not trusted: every record the sink was given is written,
    // rejected (raised) or a duplicate, and none is counted twice
    let given = if interests.records {
        cx.events.records
    } else {
        0
    };
    match &output.records {
        Some(t) if !t.balanced() || t.received != given => {
            return Err(sink_err(SinkError::new(format!(
                "its record accounting does not add up: it was given {given} records and reports {} received, {} written, {} rejected, {} duplicates",
                t.received, t.written, t.rejected, t.duplicates
            ))));
        }
        None if interests.records => {
            return Err(sink_err(SinkError::new(format!(
                "it was given {given} records and does not account for them (report a RecordTally)"
            ))));
        }
        _ => {}
    }
    let mut files: Vec<FileReport> = Vec::new();
    for written in output.files {
        match written {
            Written::Staged(staged) => {
                let target = staged.target().to_path_buf();
                let started = std::time::Instant::now();
                let mut file = staged
                    .finish()
                    .map_err(|e| sink_err(SinkError::io(e, &target)))?;
                let synced = started.elapsed();
                let name = out.display_path(&target);
                let findings = check_staged(&validators, &mut file, &name);
                tracing::info!(
                    sink = %spec.name,
                    path = %name,
                    flush_sync_ms = synced.as_secs_f64() * 1000.0,
                    validate_ms = (started.elapsed() - synced).as_secs_f64() * 1000.0,
                    findings = findings.len(),
                    "file checked"
                );
                let validated = !validators.is_empty() && findings.is_empty();
                files.push(file.report(&spec.name, name).stamped(&spec.name, validated));
                pending.push(Staged {
                    sink: spec.name.clone(),
                    file,
                    findings,
                    fsync: spec.fsync,
                });
            }
            Written::Appended(report) => {
                let path = out.dir().join(report.path());
                let findings = run_validators(
                    &validators,
                    &FileUnderCheck {
                        path: &path,
                        name: report.path(),
                        rows: None,
                    },
                );
                if !findings.is_empty() {
                    return Err(ExportError::Validation(vec![RejectedFile {
                        sink: spec.name.clone(),
                        target: path,
                        kept_at: None,
                        findings,
                    }]));
                }
                // the file is the sink's, whatever name the sink wrote into its report
                files.push(report.stamped(&spec.name, !validators.is_empty()));
            }
        }
    }
    Ok((
        SinkReport {
            name: spec.name.clone(),
            type_name: spec.plugin.name.to_string(),
            files,
            records: output.records,
            details: output.details,
            handoff: output.handoff,
        },
        output.state,
    ))
}
