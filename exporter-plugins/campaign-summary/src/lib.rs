//! # exporter-campaign-summary
//!
//! The `campaign-summary` sink (docs/contract.md §4.2), written after every other sink has
//! finished: the campaign, what the input held, the accounting of every record
//! (`received = written + rejected + duplicates`), request statistics over all proxies,
//! every failure by severity and kind, proxies by health, and every other sink's files with
//! rows, bytes, SHA-256, write time and validation result.
//!
//! `records` comes from the first sink that writes records (the `csv` sink), and
//! `record_sinks` gives the accounting of each sink that takes records; `proxies` takes
//! the health counts of a `proxy-performance` sink when there is one (so the two reports
//! agree), and otherwise classifies with the default thresholds. Rates are rounded to 4
//! decimals, latencies as `exporter_stats::report_latency` says; `write_ms` to 0.001 ms, and written as 0 when
//! `SOURCE_DATE_EPOCH` asks for a byte-reproducible report.

use std::collections::BTreeMap;
use std::path::PathBuf;

use exporter_core::serde_json::{Value, json};
use exporter_core::{
    BuildError, Event, EventContext, FinishContext, Interests, OutputFiles, Sink, SinkContext,
    SinkError, SinkOutput, SinkPlugin, StagedFile,
};
use exporter_stats::{ByProxy, ErrorCounts, HealthThresholds, RequestStats, round};
use serde::Deserialize;

/// The JSON Schema (draft 2020-12) of `campaign_summary.json`.
pub const OUTPUT_SCHEMA: &str = include_str!("schema.json");

/// Version of the summary's layout.
pub const SCHEMA_VERSION: u64 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {}

/// Per-proxy counts, enough to classify health without a histogram per proxy.
#[derive(Default, serde::Serialize, Deserialize)]
struct ProxyCounts {
    requests: u64,
    ok: u64,
    blocked: u64,
}

struct Summary {
    path: PathBuf,
    file: Option<StagedFile>,
    totals: Totals,
    /// Following a stream: the summary is rewritten at each commit from the totals so far.
    following: bool,
}

/// What the summary counts itself (the rest it takes from the run at finish).
#[derive(Default, serde::Serialize, Deserialize)]
struct Totals {
    requests: RequestStats,
    proxies: ByProxy<ProxyCounts>,
    errors: ErrorCounts,
}

impl Sink for Summary {
    fn interests(&self) -> Interests {
        Interests {
            requests: true,
            errors: true,
            ..Interests::NONE
        }
    }

    fn runs_last(&self) -> bool {
        true
    }

    fn open(&mut self, files: &OutputFiles) -> Result<(), SinkError> {
        self.file = Some(files.stage(&self.path)?);
        Ok(())
    }

    fn follow(
        &mut self,
        saved: Option<&[u8]>,
        _files: &OutputFiles,
    ) -> Result<Option<Vec<u8>>, SinkError> {
        if let Some(bytes) = saved {
            self.totals = exporter_core::read_state(bytes)?;
        }
        self.following = true;
        Ok(None)
    }

    fn event(&mut self, event: &Event<'_>, _cx: &mut EventContext<'_>) -> Result<(), SinkError> {
        match event {
            Event::Request(r) => {
                self.totals.requests.add(r);
                let p = match self.totals.proxies.get_mut(r.proxy.as_str()) {
                    Some(p) => p,
                    None => self.totals.proxies.entry(r.proxy.clone()).or_default(),
                };
                p.requests += 1;
                p.ok += u64::from(r.is_ok());
                p.blocked += u64::from(r.is_blocked());
            }
            Event::Error(e) => self.totals.errors.add(e),
            _ => {}
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, cx: &FinishContext<'_>) -> Result<SinkOutput, SinkError> {
        let report = self.report(cx);
        let mut file = self.file.take().expect("opened");
        file.write_json(&report)
            .map_err(|e| SinkError::io(e, &self.path))?;
        file.add_rows(1);
        let mut out = SinkOutput::staged(vec![file]);
        if self.following {
            out.state = Some(exporter_core::serde_json::to_vec(&self.totals).expect("JSON"));
        }
        Ok(out)
    }
}

impl Summary {
    fn report(&self, cx: &FinishContext<'_>) -> Value {
        let c = cx.campaign;
        let records_sink = cx.outputs.iter().find(|r| r.records.is_some());
        let records = match records_sink.and_then(|r| r.records.as_ref()) {
            Some(t) => json!({
                "received": t.received,
                "written": t.written,
                "rejected": t.rejected,
                "duplicates": t.duplicates,
                "rejected_by_rule": t.rejected_by_rule,
                "extra_fields": t.extra_fields,
                "guarded_cells": t.guarded_cells,
                "truncated_cells": t.truncated_cells,
                "files": t.files,
                "sink": records_sink.map(|r| r.name.clone()),
            }),
            None => json!({
                "received": cx.events.records, "written": 0, "rejected": 0, "duplicates": 0,
                "rejected_by_rule": {}, "extra_fields": 0, "guarded_cells": 0, "truncated_cells": 0,
                "files": 0, "sink": null,
            }),
        };
        // a second table (a workbook beside the csv, say) may take the same records with other
        // settings: each one's accounting, not only the first's
        let record_sinks: Vec<Value> = cx
            .outputs
            .iter()
            .filter_map(|r| {
                let t = r.records.as_ref()?;
                Some(json!({
                    "sink": r.name, "type": r.type_name, "received": t.received,
                    "written": t.written, "rejected": t.rejected, "duplicates": t.duplicates,
                    "files": t.files,
                }))
            })
            .collect();
        let s = &self.totals.requests;
        let health = match cx
            .outputs
            .iter()
            .find(|r| r.type_name == "proxy-performance")
        {
            Some(pp) => {
                let n = |k: &str| pp.details.get(k).and_then(Value::as_u64).unwrap_or(0);
                [n("healthy"), n("degraded"), n("failing")]
            }
            None => {
                let t = HealthThresholds::default();
                let mut h = [0u64; 3];
                for p in self.totals.proxies.values() {
                    let sr = p.ok as f64 / p.requests as f64;
                    let br = p.blocked as f64 / p.requests as f64;
                    h[t.classify(sr, br) as usize] += 1;
                }
                h
            }
        };
        let outputs: Vec<Value> = cx
            .outputs
            .iter()
            .flat_map(|r| &r.files)
            .map(|f| {
                json!({
                    "sink": f.sink(), "path": f.path(), "rows": f.rows(), "bytes": f.bytes(), "sha256": f.sha256(),
                    "write_ms": if cx.reproducible { 0.0 } else { round(f.write_ms(), 3) },
                    "validated": f.validated(),
                    "appended": f.appended(),
                })
            })
            .collect();
        let by_severity: BTreeMap<&str, u64> = self
            .totals
            .errors
            .by_severity
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        json!({
            "schema_version": SCHEMA_VERSION,
            "generated_at": cx.generated_at.to_string(),
            "generator": cx.generator(),
            "campaign": {
                "id": c.id, "name": c.name, "started_at": c.started_at, "finished_at": c.finished_at,
                "duration_s": c.duration_s(),
            },
            "input": cx.input,
            "records": records,
            "record_sinks": record_sinks,
            "requests": {
                "total": s.requests,
                "ok": s.ok,
                "failed": s.failed,
                "blocked": s.blocked,
                "timeouts": s.timeouts,
                "success_rate": s.success_rate().map(|r| round(r, 4)),
                "block_rate": s.block_rate().map(|r| round(r, 4)),
                "bytes": s.bytes,
                "latency_ms": s.latency_summary(),
                "status_codes": s.status_codes_json(),
                "errors": s.errors_json(),
            },
            "errors": {
                "total": self.totals.errors.total(),
                "torn_bytes_repaired": cx
                    .outputs
                    .iter()
                    .filter(|r| r.type_name == "error-log")
                    .filter_map(|r| r.details.get("repaired_torn_bytes").and_then(Value::as_u64))
                    .sum::<u64>(),
                "by_severity": by_severity,
                "by_kind": self.totals.errors.by_kind,
            },
            "proxies": {"used": self.totals.proxies.len(), "healthy": health[0], "degraded": health[1], "failing": health[2]},
            "outputs": outputs,
        })
    }
}

fn build(
    d: &mut dyn exporter_core::erased_serde::Deserializer<'_>,
    cx: &SinkContext,
) -> Result<Box<dyn Sink>, BuildError> {
    let Config {} = exporter_core::config(d)?;
    Ok(Box::new(Summary {
        path: cx.path.clone(),
        file: None,
        totals: Totals::default(),
        following: false,
    }))
}

exporter_core::inventory::submit! {
    SinkPlugin {
        name: "campaign-summary",
        description: "Run statistics, the accounting of every event, and every output file with its SHA-256 (JSON).",
        default_path: Some("campaign_summary.json"),
        example: "type = \"campaign-summary\"\npath = \"campaign_summary.json\"\n",
        config_schema: exporter_core::no_options,
        default_validators: &["exists", "json-schema"],
        numbered_parts: false,
        output_schema: Some(OUTPUT_SCHEMA),
        build,
    }
}
