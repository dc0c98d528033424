//! `exporter check`: re-validates the outputs on disk with each sink's validators, and checks
//! every file the summary lists against its recorded rows, bytes and SHA-256.

use std::path::{Path, PathBuf};

use exporter_core::{FileUnderCheck, Finding, FindingCode};
use exporter_runtime::{Manifest, SinkSpec};
use serde_json::Value;

use super::{load, report_error};
use crate::cli::{Format, ManifestArgs};
use crate::console::{self, say};
use crate::{EXIT_FAILED, EXIT_OK};

/// One file the summary recorded.
struct Recorded {
    sink: String,
    path: String,
    rows: Option<u64>,
    bytes: Option<u64>,
    sha256: Option<String>,
    /// Appended across runs: later writers may have extended it since.
    appended: bool,
}

/// What the summary says of the records and the files it lists.
struct Summary {
    name: String,
    outputs: Vec<Recorded>,
    /// `records.sink`, `records.written` and `records.files`.
    records: Option<(String, u64, u64)>,
}

/// The summary's `outputs` and record counts, when the manifest has a summary sink and its
/// file is readable.
fn read_summary(manifest: &Manifest, dir: &Path, findings: &mut Vec<Finding>) -> Option<Summary> {
    let spec = manifest
        .sinks
        .iter()
        .find(|s| s.plugin.name == "campaign-summary")?;
    let name = spec.path.to_string_lossy().into_owned();
    let text = match std::fs::read(dir.join(&spec.path)) {
        Ok(t) => t,
        Err(e) => {
            findings.push(Finding::new(
                FindingCode::MissingFile,
                &name,
                format!("cannot read the summary: {e}"),
            ));
            return None;
        }
    };
    let summary: Value = match serde_json::from_slice(&text) {
        Ok(v) => v,
        Err(e) => {
            findings.push(Finding::new(
                FindingCode::SchemaError,
                &name,
                format!("the summary is not JSON: {e}"),
            ));
            return None;
        }
    };
    let outputs = summary.get("outputs").and_then(Value::as_array)?;
    let records = &summary["records"];
    Some(Summary {
        name,
        outputs: outputs
            .iter()
            .map(|o| Recorded {
                sink: o["sink"].as_str().unwrap_or_default().to_string(),
                path: o["path"].as_str().unwrap_or_default().to_string(),
                rows: o["rows"].as_u64(),
                bytes: o["bytes"].as_u64(),
                sha256: o["sha256"].as_str().map(str::to_string),
                appended: o["appended"].as_bool().unwrap_or(false),
            })
            .collect(),
        records: match (
            records["sink"].as_str(),
            records["written"].as_u64(),
            records["files"].as_u64(),
        ) {
            (Some(sink), Some(written), Some(files)) => Some((sink.to_string(), written, files)),
            _ => None,
        },
    })
}

/// The records the summary counts as written are the rows of the files it lists for the
/// records sink, in as many files as it says; and no part of a numbered table lies on disk
/// beyond those it lists (a run that wrote fewer parts removed them).
fn compare_records(manifest: &Manifest, dir: &Path, summary: &Summary) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some((sink, written, files)) = &summary.records {
        let listed: Vec<&Recorded> = summary.outputs.iter().filter(|o| &o.sink == sink).collect();
        let rows: u64 = listed.iter().filter_map(|o| o.rows).sum();
        if rows != *written {
            findings.push(Finding::new(
                FindingCode::RowCount,
                &summary.name,
                format!(
                    "records.written is {written}, the files it lists for {sink:?} hold {rows} rows"
                ),
            ));
        }
        if listed.len() as u64 != *files {
            findings.push(Finding::new(
                FindingCode::RowCount,
                &summary.name,
                format!(
                    "records.files is {files}, the summary lists {} files of {sink:?}",
                    listed.len()
                ),
            ));
        }
    }
    for spec in manifest.sinks.iter().filter(|s| s.plugin.numbered_parts) {
        let listed = summary
            .outputs
            .iter()
            .filter(|o| o.sink == spec.name)
            .count();
        if listed == 0 {
            continue;
        }
        let base = dir.join(&spec.path);
        for part in exporter_core::stale_parts(&base, listed).unwrap_or_default() {
            let name = part
                .strip_prefix(dir)
                .unwrap_or(&part)
                .to_string_lossy()
                .into_owned();
            findings.push(Finding::new(
                FindingCode::ExtraFile,
                name,
                format!(
                    "a part of {:?}'s table that the summary does not list",
                    spec.name
                ),
            ));
        }
    }
    findings
}

fn validate_file(
    manifest: &Manifest,
    spec: &SinkSpec,
    path: &Path,
    name: &str,
    rows: Option<u64>,
) -> Result<Vec<Finding>, String> {
    let mut findings = Vec::new();
    for (_, v) in spec
        .validators(&manifest.base_dir)
        .map_err(|m| format!("sink {:?}: {m}", spec.name))?
    {
        findings.extend(v.check(&FileUnderCheck { path, name, rows }));
    }
    Ok(findings)
}

fn compare(recorded: &Recorded, path: &Path) -> Vec<Finding> {
    use std::io::Read;
    let mut findings = Vec::new();
    let Ok(file) = std::fs::File::open(path) else {
        return findings; // the validators report the missing file
    };
    let digest = match (recorded.appended, recorded.bytes) {
        // appended since by others, maybe: what the run left is the file's first bytes
        (true, Some(len)) => {
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            if size < len {
                findings.push(Finding::new(
                    FindingCode::ByteCount,
                    &recorded.path,
                    format!("{size} bytes, shorter than the {len} the summary recorded"),
                ));
                return findings;
            }
            let _ = file.lock_shared();
            exporter_core::digest(file.take(len))
        }
        _ => exporter_core::digest(file),
    };
    let Ok((bytes, sha)) = digest else {
        return findings;
    };
    if let Some(want) = recorded.bytes.filter(|b| *b != bytes) {
        findings.push(Finding::new(
            FindingCode::ByteCount,
            &recorded.path,
            format!("{bytes} bytes, the summary recorded {want}"),
        ));
    }
    if let Some(want) = recorded.sha256.as_deref().filter(|s| *s != sha) {
        findings.push(Finding::new(
            FindingCode::HashCount,
            &recorded.path,
            format!("SHA-256 {sha}, the summary recorded {want}"),
        ));
    }
    findings
}

pub(crate) fn check(args: &ManifestArgs, format: Format) -> u8 {
    let manifest = match load(args) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let dir = match &args.out_dir {
        Some(d) => d.clone(),
        None => {
            match manifest.output_dir(args.campaign_id.as_deref(), exporter_core::run_timestamp()) {
                Ok(d) => d,
                Err(e) => return report_error(&exporter_runtime::ExportError::Manifest(e)),
            }
        }
    };
    // a run committing meanwhile would show half of one set and half of another
    let _lock = match dir.is_dir() {
        true => match exporter_runtime::DirLock::acquire(&dir, true) {
            Ok(lock) => Some(lock),
            Err(source) => {
                return report_error(&exporter_runtime::ExportError::OutputDir { dir, source });
            }
        },
        false => None,
    };
    let mut findings: Vec<Finding> = Vec::new();
    // a commit a crash interrupted is finished first: then the set on disk is one run's
    let recovered = match _lock.is_some() {
        true => match exporter_runtime::recover(&dir) {
            Ok(r) => r,
            Err(source) => {
                return report_error(&exporter_runtime::ExportError::Commit { dir, source });
            }
        },
        false => None,
    };
    for missing in recovered.iter().flat_map(|r| &r.missing) {
        findings.push(Finding::new(
            FindingCode::MissingFile,
            missing,
            "an interrupted commit could not restore this file",
        ));
    }
    let summary = read_summary(&manifest, &dir, &mut findings);
    if let Some(summary) = &summary {
        findings.extend(compare_records(&manifest, &dir, summary));
    }
    let recorded = summary.map(|s| s.outputs);
    let mut checked: Vec<String> = Vec::new();
    for spec in &manifest.sinks {
        let files: Vec<(PathBuf, String, Option<&Recorded>)> = match recorded
            .as_ref()
            .map(|r| r.iter().filter(|o| o.sink == spec.name).collect::<Vec<_>>())
        {
            Some(listed) if !listed.is_empty() => listed
                .into_iter()
                .map(|o| (dir.join(&o.path), o.path.clone(), Some(o)))
                .collect(),
            _ if spec.path.as_os_str().is_empty() => Vec::new(),
            _ => vec![(
                dir.join(&spec.path),
                spec.path.to_string_lossy().into_owned(),
                None,
            )],
        };
        for (path, name, rec) in files {
            match validate_file(&manifest, spec, &path, &name, rec.and_then(|r| r.rows)) {
                Ok(f) => findings.extend(f),
                Err(m) => {
                    console::error(&m);
                    return EXIT_FAILED;
                }
            }
            if let Some(rec) = rec {
                findings.extend(compare(rec, &path));
            }
            checked.push(name);
        }
    }
    let mut out = String::new();
    match format {
        Format::Json => {
            let report = serde_json::json!({
                "ok": findings.is_empty(),
                "dir": dir.display().to_string(),
                "recovered": recovered,
                "files": checked,
                "findings": findings,
            });
            say!(
                out,
                "{}",
                serde_json::to_string_pretty(&report).expect("JSON")
            );
        }
        Format::Text => {
            if let Some(r) = &recovered {
                say!(out, "{r}");
            }
            for f in &findings {
                say!(out, "{f}");
            }
            if findings.is_empty() {
                say!(
                    out,
                    "ok: {} file(s) in {} checked",
                    checked.len(),
                    dir.display()
                );
            } else {
                say!(
                    out,
                    "{} finding(s) in {} file(s) checked",
                    findings.len(),
                    checked.len()
                );
            }
        }
    }
    console::print(
        &out,
        if findings.is_empty() {
            EXIT_OK
        } else {
            EXIT_FAILED
        },
    )
}
