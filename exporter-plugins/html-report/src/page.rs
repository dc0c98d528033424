//! What the page shows, computed from the run's statistics: plain data, tested on its own,
//! that the template lays out and the charts draw.

use std::collections::BTreeMap;

use exporter_core::serde_json::Value;
use exporter_core::{FinishContext, Timestamp};
use exporter_proxy_performance::{ProxyTable, ScoreWeights};
use exporter_stats::{Health, HealthThresholds, RequestStats, SeriesView, TimeSeries, round};
use serde::Serialize;

/// Rejections counted per (sink, field) from the error events the record sinks raise.
pub type RejectedFields = BTreeMap<(String, String), u64>;

/// Everything the page shows.
#[derive(Serialize)]
pub struct Page {
    pub title: String,
    pub campaign: CampaignPart,
    pub generator: String,
    pub generated_at: String,
    pub records: Option<RecordsPart>,
    pub outputs: Vec<OutputRow>,
    pub errors: ErrorsPart,
    pub requests: RequestsPart,
    pub proxies: ProxiesPart,
    /// The numbers behind the time charts, one row per bucket.
    pub series: Vec<SeriesRow>,
}

/// One time bucket's counts, as the page's data table lists them.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SeriesRow {
    /// The bucket's start (RFC 3339).
    pub start: String,
    pub requests: u64,
    pub ok: u64,
    pub blocked: u64,
    pub errors: u64,
}

/// The rows of the data table for a series view.
pub fn series_rows(view: &SeriesView) -> Vec<SeriesRow> {
    view.buckets
        .iter()
        .enumerate()
        .map(|(i, b)| SeriesRow {
            start: Timestamp::from_unix_seconds(
                view.start.unix_seconds() + i as i64 * view.width_s,
            )
            .map_or(String::new(), |t| t.to_string()),
            requests: b.requests,
            ok: b.ok,
            blocked: b.blocked,
            errors: b.errors,
        })
        .collect()
}

#[derive(Serialize)]
pub struct CampaignPart {
    pub id: String,
    pub name: Option<String>,
    pub window: String,
    pub duration: Option<String>,
}

#[derive(Serialize)]
pub struct RecordsPart {
    pub sink: String,
    pub received: u64,
    pub written: u64,
    pub rejected: u64,
    pub duplicates: u64,
    /// Rejections by rule, most first.
    pub by_rule: Vec<(String, u64)>,
    /// The fields most often rejected (up to 10), most first.
    pub top_fields: Vec<(String, u64)>,
}

#[derive(Serialize)]
pub struct OutputRow {
    pub sink: String,
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Serialize)]
pub struct ErrorsPart {
    pub total: u64,
    pub by_kind: Vec<(String, u64)>,
    pub by_severity: Vec<(String, u64)>,
    /// Errors dated outside the campaign's window (those the export raised, mostly).
    pub outside_window: u64,
}

#[derive(Serialize)]
pub struct RequestsPart {
    pub total: u64,
    pub ok: u64,
    pub blocked: u64,
    pub success_rate: Option<f64>,
    pub block_rate: Option<f64>,
    /// The time buckets' width, readable (`5 min`).
    pub bucket: String,
    pub buckets: usize,
}

#[derive(Serialize)]
pub struct ProxiesPart {
    pub used: usize,
    pub healthy: u64,
    pub degraded: u64,
    pub failing: u64,
    /// Every proxy, by score descending then address.
    pub rows: Vec<ProxyRow>,
}

/// One proxy's line of the table.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ProxyRow {
    pub rank: usize,
    pub proxy: String,
    pub requests: u64,
    pub success_rate: Option<f64>,
    pub block_rate: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub score: f64,
    pub health: Health,
}

/// The window the time series are drawn over: the campaign's own when it gives both ends,
/// otherwise from the first request to just past the last.
pub fn window(cx: &FinishContext<'_>, totals: &RequestStats) -> Option<(Timestamp, Timestamp)> {
    let c = cx.campaign;
    let given = |t: &Option<String>| t.as_deref().and_then(|s| Timestamp::parse(s).ok());
    if let (Some(a), Some(b)) = (given(&c.started_at), given(&c.finished_at))
        && b.unix_seconds() > a.unix_seconds()
    {
        return Some((a, b));
    }
    let (first, last) = (totals.first?, totals.last?);
    Some((
        first,
        Timestamp::from_unix_seconds(last.unix_seconds() + 1)?,
    ))
}

/// The proxy table's rows: scored and classified as the `proxy-performance` report does.
pub fn proxy_rows(
    table: &ProxyTable,
    weights: &ScoreWeights,
    thresholds: &HealthThresholds,
) -> Vec<ProxyRow> {
    table
        .entries(weights, thresholds)
        .into_iter()
        .enumerate()
        .map(|(i, (health, v))| {
            let f = |v: &Value| v.as_f64();
            ProxyRow {
                rank: i + 1,
                proxy: v["proxy"].as_str().unwrap_or_default().to_string(),
                requests: v["requests"].as_u64().unwrap_or(0),
                success_rate: f(&v["success_rate"]),
                block_rate: f(&v["block_rate"]),
                p50: f(&v["latency_ms"]["p50"]),
                p95: f(&v["latency_ms"]["p95"]),
                p99: f(&v["latency_ms"]["p99"]),
                score: f(&v["score"]).unwrap_or(0.0),
                health,
            }
        })
        .collect()
}

/// Counts by key, most first then by key.
pub fn most_first<K: ToString>(counts: impl IntoIterator<Item = (K, u64)>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// The record accounting of the first sink that took records, with the fields its
/// rejections named.
pub fn records(cx: &FinishContext<'_>, fields: &RejectedFields) -> Option<RecordsPart> {
    let sink = cx.outputs.iter().find(|r| r.records.is_some())?;
    let t = sink.records.as_ref()?;
    let mut top = most_first(
        fields
            .iter()
            .filter(|((s, _), _)| *s == sink.name)
            .map(|((_, f), n)| (f, *n)),
    );
    top.truncate(10);
    Some(RecordsPart {
        sink: sink.name.clone(),
        received: t.received,
        written: t.written,
        rejected: t.rejected,
        duplicates: t.duplicates,
        by_rule: most_first(t.rejected_by_rule.iter().map(|(k, n)| (k, *n))),
        top_fields: top,
    })
}

/// A bucket width in words: `30 s`, `5 min`, `2 h`, `1 d`.
pub fn width_words(s: i64) -> String {
    match s {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// A duration in words: `1 h 0 min`, `2 d 3 h`.
pub fn duration_words(s: i64) -> String {
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    match (d, h) {
        (0, 0) => format!("{m} min {} s", s % 60),
        (0, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

/// The series over the window; `None` when nothing is dated.
pub fn series_view(
    series: &TimeSeries,
    window: Option<(Timestamp, Timestamp)>,
) -> Option<SeriesView> {
    window.map(|(from, to)| series.view(from, to))
}

/// A rate as a percentage with one decimal, for the template.
pub fn percent(rate: Option<f64>) -> Option<f64> {
    rate.map(|r| round(100.0 * r, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_widths_and_durations() {
        assert_eq!(width_words(30), "30 s");
        assert_eq!(width_words(300), "5 min");
        assert_eq!(width_words(7_200), "2 h");
        assert_eq!(width_words(86_400), "1 d");
        assert_eq!(duration_words(3_600), "1 h 0 min");
        assert_eq!(duration_words(59), "0 min 59 s");
        assert_eq!(duration_words(2 * 86_400 + 3 * 3_600 + 7), "2 d 3 h");
    }

    #[test]
    fn counts_come_most_first_then_by_name() {
        let v = most_first([("b", 2), ("a", 2), ("c", 5)]);
        assert_eq!(
            v,
            [("c".into(), 5), ("a".into(), 2), ("b".into(), 2)] as [(String, u64); 3]
        );
    }
}
