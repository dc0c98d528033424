//! # exporter-proxy-performance
//!
//! The `proxy-performance` sink (docs/contract.md §4.3): one entry per proxy with request counts,
//! success and block rates, latency percentiles (HDR histogram, within 1% of exact), bytes,
//! status codes, error kinds, first and last use, a score from 0 to 100 and a health class.
//! Proxies are keyed by their URL with the password masked, so a proxy is one row and its
//! password never appears.
//!
//! ## Score
//! `score = 100 × (success × success_rate + not_blocked × (1 − block_rate) + latency × L)`,
//! rounded to 0.1, where `L` is 1 when the median latency is at most `latency_good_ms`, 0 when
//! it is at least `latency_bad_ms` (or no request got a response), linear in between. Weights
//! default to 0.6 / 0.25 / 0.15 and must sum to 1.
//!
//! ## Health
//! `failing` when the success rate is below `failing_below_success` (0.60) or the block rate
//! above `failing_above_block` (0.15); `healthy` when the success rate is at least
//! `healthy_min_success` (0.85) and the block rate at most `healthy_max_block` (0.05);
//! `degraded` otherwise.
//!
//! Rates are rounded to 4 decimals, latencies as [`exporter_stats::report_latency`] says.

use std::path::PathBuf;

use exporter_core::serde_json::{Value, json};
use exporter_core::{
    BuildError, Event, EventContext, FinishContext, Interests, OutputFiles, Request, Sink,
    SinkContext, SinkError, SinkOutput, SinkPlugin, StagedFile,
};
use exporter_stats::{ByProxy, Health, HealthThresholds, RequestStats, round};
use serde::Deserialize;

/// The JSON Schema (draft 2020-12) of `proxy_performance.json`.
pub const OUTPUT_SCHEMA: &str = include_str!("schema.json");

/// Version of the report's layout.
pub const SCHEMA_VERSION: u64 = 1;

/// Weights and latency bounds of the score.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreWeights {
    /// Weight of the success rate.
    pub success: f64,
    /// Weight of the share not blocked.
    pub not_blocked: f64,
    /// Weight of the latency score.
    pub latency: f64,
    /// Median latency that scores full marks.
    pub latency_good_ms: f64,
    /// Median latency that scores nothing.
    pub latency_bad_ms: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        ScoreWeights {
            success: 0.6,
            not_blocked: 0.25,
            latency: 0.15,
            latency_good_ms: 500.0,
            latency_bad_ms: 5000.0,
        }
    }
}

impl ScoreWeights {
    /// Weights at least 0 that sum to 1, and latency bounds in order.
    pub fn check(&self) -> Result<(), String> {
        let sum = self.success + self.not_blocked + self.latency;
        if [self.success, self.not_blocked, self.latency]
            .iter()
            .any(|w| *w < 0.0)
            || (sum - 1.0).abs() > 1e-9
        {
            return Err(format!(
                "score weights must be >= 0 and sum to 1, got {sum}"
            ));
        }
        if self.latency_good_ms >= self.latency_bad_ms || self.latency_good_ms < 0.0 {
            return Err("`latency_good_ms` must be >= 0 and below `latency_bad_ms`".into());
        }
        Ok(())
    }

    /// The score of a proxy, 0 to 100.
    ///
    /// ```
    /// let w = exporter_proxy_performance::ScoreWeights::default();
    /// assert_eq!(w.score(1.0, 0.0, Some(300.0)), 100.0);
    /// assert_eq!(w.score(0.5, 0.5, None), 42.5);
    /// ```
    pub fn score(&self, success_rate: f64, block_rate: f64, p50_ms: Option<f64>) -> f64 {
        let latency_score = match p50_ms {
            None => 0.0,
            Some(p) => ((self.latency_bad_ms - p) / (self.latency_bad_ms - self.latency_good_ms))
                .clamp(0.0, 1.0),
        };
        round(
            100.0
                * (self.success * success_rate
                    + self.not_blocked * (1.0 - block_rate)
                    + self.latency * latency_score),
            1,
        )
    }
}

/// Per-proxy statistics: mergeable, so partial tables from several machines or halves of a
/// stream combine into the table of the whole.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ProxyTable {
    proxies: ByProxy<RequestStats>,
}

impl ProxyTable {
    /// Counts a request under its proxy (the caller masks the password; the pipeline does).
    pub fn add(&mut self, r: &Request) {
        match self.proxies.get_mut(r.proxy.as_str()) {
            Some(s) => s.add(r),
            None => {
                let mut s = RequestStats::default();
                s.add(r);
                self.proxies.insert(r.proxy.clone(), s);
            }
        }
    }

    /// Adds another table into this one.
    pub fn merge(&mut self, other: &ProxyTable) {
        for (proxy, stats) in &other.proxies {
            self.proxies.entry(proxy.clone()).or_default().merge(stats);
        }
    }

    /// One proxy's statistics.
    pub fn get(&self, proxy: &str) -> Option<&RequestStats> {
        self.proxies.get(proxy)
    }

    /// Proxies seen.
    pub fn len(&self) -> usize {
        self.proxies.len()
    }

    /// Whether no proxy was seen.
    pub fn is_empty(&self) -> bool {
        self.proxies.is_empty()
    }

    /// All requests together.
    pub fn totals(&self) -> RequestStats {
        let mut t = RequestStats::default();
        for s in self.proxies.values() {
            t.merge(s);
        }
        t
    }

    /// The `proxies` array: scored, classified, sorted by score descending then proxy.
    pub fn entries(
        &self,
        weights: &ScoreWeights,
        thresholds: &HealthThresholds,
    ) -> Vec<(Health, Value)> {
        let mut rows: Vec<(f64, &str, Health, Value)> = self
            .proxies
            .iter()
            .map(|(proxy, s)| {
                let sr = s.success_rate().unwrap_or(0.0);
                let br = s.block_rate().unwrap_or(0.0);
                let score = weights.score(sr, br, s.latency_quantile(0.5));
                let health = thresholds.classify(sr, br);
                let mut v = json!({"proxy": proxy});
                let obj = v.as_object_mut().expect("object");
                if let Value::Object(stats) = stats_json(s) {
                    obj.extend(stats);
                }
                obj.insert("first_used".into(), json!(s.first.map(|t| t.to_string())));
                obj.insert("last_used".into(), json!(s.last.map(|t| t.to_string())));
                obj.insert("score".into(), json!(score));
                obj.insert("health".into(), json!(health.as_str()));
                (score, proxy.as_str(), health, v)
            })
            .collect();
        rows.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        rows.into_iter().map(|(_, _, h, v)| (h, v)).collect()
    }
}

/// What the sink hands to the sinks that run after it ([`exporter_core::Handoff`]): its
/// per-proxy statistics and the settings it scored and classified them with, so a later page
/// shows the same numbers without counting every request again.
#[derive(Debug)]
pub struct ProxyReport {
    /// The per-proxy statistics.
    pub table: ProxyTable,
    /// The score's weights.
    pub score: ScoreWeights,
    /// The health classes' bounds.
    pub thresholds: HealthThresholds,
}

/// The statistics object shared by each proxy entry and `totals`.
pub fn stats_json(s: &RequestStats) -> Value {
    json!({
        "requests": s.requests,
        "ok": s.ok,
        "failed": s.failed,
        "blocked": s.blocked,
        "timeouts": s.timeouts,
        "success_rate": s.success_rate().map(|r| round(r, 4)),
        "block_rate": s.block_rate().map(|r| round(r, 4)),
        "latency_ms": s.latency_summary(),
        "bytes": s.bytes,
        "status_codes": s.status_codes_json(),
        "errors": s.errors_json(),
    })
}

/// The `proxy-performance` sink's own keys.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Health class bounds on the success and block rates.
    #[serde(default)]
    thresholds: HealthThresholds,
    /// Score weights (they sum to 1) and latency bounds.
    #[serde(default)]
    score: ScoreWeights,
}

fn config_schema() -> Value {
    exporter_core::serde_json::to_value(schemars::schema_for!(Config)).expect("a schema is JSON")
}

struct ProxyPerformance {
    config: Config,
    path: PathBuf,
    file: Option<StagedFile>,
    table: ProxyTable,
    /// Following a stream: the report is rewritten at each commit from every request so far.
    following: bool,
}

impl Sink for ProxyPerformance {
    fn follow(
        &mut self,
        saved: Option<&[u8]>,
        _files: &OutputFiles,
    ) -> Result<Option<Vec<u8>>, SinkError> {
        if let Some(bytes) = saved {
            self.table = exporter_core::read_state(bytes)?;
        }
        self.following = true;
        Ok(None)
    }

    fn interests(&self) -> Interests {
        Interests {
            requests: true,
            ..Interests::NONE
        }
    }

    fn open(&mut self, files: &OutputFiles) -> Result<(), SinkError> {
        self.file = Some(files.stage(&self.path)?);
        Ok(())
    }

    fn event(&mut self, event: &Event<'_>, _cx: &mut EventContext<'_>) -> Result<(), SinkError> {
        if let Event::Request(r) = event {
            self.table.add(r);
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, cx: &FinishContext<'_>) -> Result<SinkOutput, SinkError> {
        let totals = self.table.totals();
        let entries = self
            .table
            .entries(&self.config.score, &self.config.thresholds);
        let mut health = [0u64; 3];
        for (h, _) in &entries {
            health[*h as usize] += 1;
        }
        let w = &self.config.score;
        let report = json!({
            "schema_version": SCHEMA_VERSION,
            "generated_at": cx.generated_at.to_string(),
            "generator": cx.generator(),
            "campaign_id": cx.campaign.id,
            "window": {
                "first_ts": totals.first.map(|t| t.to_string()),
                "last_ts": totals.last.map(|t| t.to_string()),
            },
            "score": {
                "formula": "100 * (success * success_rate + not_blocked * (1 - block_rate) + latency * clamp((latency_bad_ms - p50) / (latency_bad_ms - latency_good_ms), 0, 1))",
                "success": w.success,
                "not_blocked": w.not_blocked,
                "latency": w.latency,
                "latency_good_ms": w.latency_good_ms,
                "latency_bad_ms": w.latency_bad_ms,
            },
            "thresholds": self.config.thresholds,
            "totals": stats_json(&totals),
            "proxies": entries.iter().map(|(_, v)| v).collect::<Vec<_>>(),
        });
        let mut file = self.file.take().expect("opened");
        file.write_json(&report)
            .map_err(|e| SinkError::io(e, &self.path))?;
        file.add_rows(entries.len() as u64);
        let mut out = SinkOutput::staged(vec![file]);
        if self.following {
            out.state = Some(exporter_core::serde_json::to_vec(&self.table).expect("JSON"));
        }
        out.details.insert("proxies".into(), json!(entries.len()));
        out.details
            .insert("healthy".into(), json!(health[Health::Healthy as usize]));
        out.details
            .insert("degraded".into(), json!(health[Health::Degraded as usize]));
        out.details
            .insert("failing".into(), json!(health[Health::Failing as usize]));
        out.handoff = Some(exporter_core::Handoff::new(ProxyReport {
            table: self.table,
            score: self.config.score,
            thresholds: self.config.thresholds,
        }));
        Ok(out)
    }
}

fn build(
    d: &mut dyn exporter_core::erased_serde::Deserializer<'_>,
    cx: &SinkContext,
) -> Result<Box<dyn Sink>, BuildError> {
    let config: Config = exporter_core::config(d)?;
    config
        .thresholds
        .check()
        .map_err(|m| BuildError::at_key("thresholds", m))?;
    config
        .score
        .check()
        .map_err(|m| BuildError::at_key("score", m))?;
    Ok(Box::new(ProxyPerformance {
        config,
        path: cx.path.clone(),
        file: None,
        table: ProxyTable::default(),
        following: false,
    }))
}

exporter_core::inventory::submit! {
    SinkPlugin {
        name: "proxy-performance",
        description: "Per-proxy request statistics, latency percentiles, a 0-100 score and a health class (JSON).",
        default_path: Some("proxy_performance.json"),
        example: "type = \"proxy-performance\"\npath = \"proxy_performance.json\"\n\n[sinks.thresholds]\nhealthy_min_success = 0.85\nhealthy_max_block = 0.05\nfailing_below_success = 0.60\nfailing_above_block = 0.15\n\n[sinks.score]\nsuccess = 0.6\nnot_blocked = 0.25\nlatency = 0.15\nlatency_good_ms = 500\nlatency_bad_ms = 5000\n",
        config_schema,
        default_validators: &["exists", "json-schema"],
        numbered_parts: false,
        output_schema: Some(OUTPUT_SCHEMA),
        build,
    }
}
