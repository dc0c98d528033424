//! # exporter-html-report
//!
//! The `html-report` sink (docs/contract.md §4.6): the campaign at a glance in one HTML page
//! that works offline. It runs after the other sinks, like `campaign-summary`, and shows the
//! campaign, the record accounting (by rule, the fields most rejected), the output files with
//! rows, bytes and SHA-256, requests and error events over time, and every proxy scored and
//! classified as the `proxy-performance` report does, with a latency chart of the worst and a
//! success-against-latency scatter of all. With a `proxy-performance` sink in the manifest the
//! page takes that sink's statistics and settings (handed over at its finish), so the two
//! agree to the digit and no request is counted twice; without one it counts its own with the
//! default score and thresholds.
//!
//! The page loads nothing: no script at all, the style sheet inline, charts as inline SVG
//! drawn by plotters, the markup from a minijinja template that escapes every value (record
//! data, error kinds, proxy addresses and file names are untrusted text). Its validator,
//! `html-report`, holds the committed page to that: well-formed (the page is written as
//! polyglot markup, so an XML reader checks it), no script, no event-handler attribute, and
//! no reference that would fetch anything.
//!
//! The time series come from [`exporter_stats::TimeSeries`], mergeable like the other
//! statistics, regrouped into 50 to 200 buckets of a readable width over the campaign's
//! window (its `started_at`..`finished_at`, or the requests' first..last).

#![forbid(unsafe_code)]

mod charts;
mod page;
mod validator;

use std::collections::BTreeMap;
use std::path::PathBuf;

use exporter_core::serde_json::{Value, json};
use exporter_core::{
    BuildError, Event, EventContext, FinishContext, Interests, OutputFiles, Sink, SinkContext,
    SinkError, SinkOutput, SinkPlugin, StagedFile,
};
use exporter_proxy_performance::{ProxyReport, ProxyTable, ScoreWeights};
use exporter_stats::{Bucket, ErrorCounts, HealthThresholds, TimeSeries};
use serde::{Deserialize, Serialize};

pub use page::{Page, ProxyRow};
pub use validator::check_page;

/// The page's template (minijinja; values are escaped as HTML).
const TEMPLATE: &str = include_str!("report.html");

/// The `html-report` sink's own keys.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The page's heading (default: "Campaign report: " and the campaign's name or id).
    #[serde(default)]
    title: Option<String>,
    /// How many of the lowest-scored proxies the latency chart shows (1 to 100).
    #[serde(default = "default_worst")]
    latency_chart_proxies: usize,
}

fn default_worst() -> usize {
    30
}

fn config_schema() -> Value {
    exporter_core::serde_json::to_value(schemars::schema_for!(Config)).expect("a schema is JSON")
}

struct HtmlReport {
    config: Config,
    path: PathBuf,
    file: Option<StagedFile>,
    /// The page's own per-proxy statistics, kept only when no `proxy-performance` sink will
    /// hand its own over (counting every request twice costs a tenth of a run).
    table: Option<ProxyTable>,
    series: TimeSeries,
    errors: ErrorCounts,
    rejected_fields: page::RejectedFields,
}

impl Sink for HtmlReport {
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

    fn event(&mut self, event: &Event<'_>, _cx: &mut EventContext<'_>) -> Result<(), SinkError> {
        match event {
            Event::Request(r) => {
                if let Some(table) = &mut self.table {
                    table.add(r);
                }
                self.series.add_request(r);
            }
            Event::Error(e) => {
                self.series.add_error(e.ts);
                self.errors.add(e);
                // a record sink's rejection names the sink and the field in its context
                if e.kind == "SchemaViolation"
                    && let Some(cx) = &e.context
                    && let (Some(sink), Some(field)) = (cx["sink"].as_str(), cx["field"].as_str())
                {
                    *self
                        .rejected_fields
                        .entry((sink.to_string(), field.to_string()))
                        .or_default() += 1;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, cx: &FinishContext<'_>) -> Result<SinkOutput, SinkError> {
        let (page, charts) = self.page(cx).map_err(SinkError::new)?;
        let html =
            render(&page, &charts, self.config.latency_chart_proxies).map_err(SinkError::new)?;
        let mut file = self.file.take().expect("opened");
        std::io::Write::write_all(&mut file, html.as_bytes())
            .map_err(|e| SinkError::io(e, &self.path))?;
        file.add_rows(page.proxies.rows.len() as u64);
        let mut out = SinkOutput::staged(vec![file]);
        out.details
            .insert("proxies".into(), json!(page.proxies.rows.len()));
        out.details
            .insert("buckets".into(), json!(page.requests.buckets));
        Ok(out)
    }
}

/// The charts, as SVG markup of our own (no untrusted text in them).
#[derive(Serialize, Default)]
struct Charts {
    accounting: Option<String>,
    requests: Option<String>,
    rates: Option<String>,
    errors: Option<String>,
    latency: Option<String>,
    scatter: Option<String>,
}

impl HtmlReport {
    /// The per-proxy statistics and the settings to score them with: the `proxy-performance`
    /// sink's when it ran, the page's own with the default settings otherwise.
    fn proxies<'a>(
        &'a self,
        cx: &'a FinishContext<'_>,
    ) -> Result<(&'a ProxyTable, ScoreWeights, HealthThresholds), String> {
        if let Some(table) = &self.table {
            return Ok((table, ScoreWeights::default(), HealthThresholds::default()));
        }
        cx.outputs
            .iter()
            .filter(|r| r.type_name == "proxy-performance")
            .find_map(|r| r.handoff.as_ref()?.get::<ProxyReport>())
            .map(|p| (&p.table, p.score, p.thresholds))
            .ok_or_else(|| "the proxy-performance sink handed over no statistics".to_string())
    }

    fn page(&self, cx: &FinishContext<'_>) -> Result<(Page, Charts), String> {
        let c = cx.campaign;
        let id = c.id.clone().unwrap_or_default();
        let (table, score, thresholds) = self.proxies(cx)?;
        // merging every proxy's statistics is the costly part of the page: once
        let totals = table.totals();
        let window = page::window(cx, &totals);
        let view = page::series_view(&self.series, window);
        let rows = page::proxy_rows(table, &score, &thresholds);
        let mut health = [0u64; 3];
        for r in &rows {
            health[r.health as usize] += 1;
        }
        let records = page::records(cx, &self.rejected_fields);
        let mut charts = Charts::default();
        if let Some(r) = &records {
            charts.accounting = Some(charts::accounting(r)?);
        }
        if let Some(v) = &view {
            charts.requests = Some(charts::counts_over_time(
                v,
                "requests",
                |b: &Bucket| b.requests,
                charts::BLUE,
            )?);
            charts.rates = Some(charts::rates_over_time(v)?);
            charts.errors = Some(charts::counts_over_time(
                v,
                "error events",
                |b: &Bucket| b.errors,
                charts::RED,
            )?);
        }
        if !rows.is_empty() {
            charts.latency = Some(charts::latency_of_worst(
                &rows,
                self.config.latency_chart_proxies,
            )?);
            charts.scatter = Some(charts::success_vs_latency(&rows)?);
        }
        let errors_total = self.errors.total();
        let page = Page {
            title: self.config.title.clone().unwrap_or_else(|| {
                format!(
                    "Campaign report: {}",
                    c.name.clone().unwrap_or_else(|| id.clone())
                )
            }),
            campaign: page::CampaignPart {
                id: id.clone(),
                name: c.name.clone(),
                window: match window {
                    Some((a, b)) => format!("{a} to {b}"),
                    None => "no dated event".into(),
                },
                duration: c.duration_s().map(page::duration_words),
            },
            generator: format!(
                "{} {}",
                exporter_core::GENERATOR_NAME,
                env!("CARGO_PKG_VERSION")
            ),
            generated_at: cx.generated_at.to_string(),
            records,
            outputs: cx
                .outputs
                .iter()
                .flat_map(|r| &r.files)
                .map(|f| page::OutputRow {
                    sink: f.sink().to_string(),
                    path: f.path().to_string(),
                    rows: f.rows(),
                    bytes: f.bytes(),
                    sha256: f.sha256().to_string(),
                })
                .collect(),
            errors: page::ErrorsPart {
                total: errors_total,
                by_kind: page::most_first(self.errors.by_kind.iter().map(|(k, n)| (k, *n))),
                by_severity: self
                    .errors
                    .by_severity
                    .iter()
                    .rev()
                    .map(|(s, n)| (s.as_str().to_string(), *n))
                    .collect(),
                outside_window: match &view {
                    Some(v) => v.outside.errors,
                    None => errors_total,
                },
            },
            requests: page::RequestsPart {
                total: totals.requests,
                ok: totals.ok,
                blocked: totals.blocked,
                success_rate: totals.success_rate(),
                block_rate: totals.block_rate(),
                bucket: view
                    .as_ref()
                    .map_or(String::new(), |v| page::width_words(v.width_s)),
                buckets: view.as_ref().map_or(0, |v| v.buckets.len()),
            },
            proxies: page::ProxiesPart {
                used: rows.len(),
                healthy: health[0],
                degraded: health[1],
                failing: health[2],
                rows,
            },
            series: view.as_ref().map_or(Vec::new(), page::series_rows),
        };
        Ok((page, charts))
    }
}

/// Lays the page out with the template.
fn render(page: &Page, charts: &Charts, worst: usize) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.add_filter("num", |n: u64| thousands(n));
    env.add_filter("pct", |r: Option<f64>| {
        page::percent(r).map_or("–".to_string(), |p| format!("{p:.1}%"))
    });
    env.add_filter("ms", |v: Option<f64>| {
        v.map_or("–".to_string(), |v| format!("{v:.1}"))
    });
    // the name ends in .html: every value is escaped unless marked safe (only the charts)
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| format!("the report's template: {e}"))?;
    let template = env.get_template("report.html").map_err(|e| e.to_string())?;
    template
        .render(minijinja::context! {
            page => minijinja::value::Value::from(minijinja::value::Serde(page)),
            charts => minijinja::value::Value::from(minijinja::value::Serde(charts)),
            worst => worst,
        })
        .map_err(|e| format!("the report's template: {e}"))
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn build(
    d: &mut dyn exporter_core::erased_serde::Deserializer<'_>,
    cx: &SinkContext,
) -> Result<Box<dyn Sink>, BuildError> {
    let config: Config = exporter_core::config(d)?;
    if !(1..=100).contains(&config.latency_chart_proxies) {
        return Err(BuildError::at_key(
            "latency_chart_proxies",
            format!("must be 1 to 100, got {}", config.latency_chart_proxies),
        ));
    }
    Ok(Box::new(HtmlReport {
        config,
        path: cx.path.clone(),
        file: None,
        table: (!cx.manifest_has("proxy-performance")).then(ProxyTable::default),
        series: TimeSeries::default(),
        errors: ErrorCounts::default(),
        rejected_fields: BTreeMap::new(),
    }))
}

exporter_core::inventory::submit! {
    SinkPlugin {
        name: "html-report",
        description: "The campaign at a glance: one offline HTML page with the accounting, errors and requests over time, and every proxy (inline SVG charts, no script).",
        default_path: Some("report.html"),
        example: "type = \"html-report\"\npath = \"report.html\"\n# title = \"Dentists, November\"\nlatency_chart_proxies = 30\n",
        config_schema,
        default_validators: &["exists", "html-report"],
        numbered_parts: false,
        output_schema: None,
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
