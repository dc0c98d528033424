//! # exporter-stats
//!
//! Request statistics shared by the reports: counts, bytes, status codes, error kinds, time
//! window, and latency percentiles from a mergeable HDR histogram. Two partial states built
//! from two halves of a stream [`merge`](RequestStats::merge) into the state of the whole,
//! so partial results (of hosts, of commits) combine.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde_json::{Map, Value, json};

use exporter_core::{Request, Timestamp};

mod errors;
mod series;
pub use errors::ErrorCounts;
pub use series::{Bucket, MAX_BUCKETS, SeriesView, TimeSeries};

/// Significant figures of the latency histogram: 2 keeps every percentile within 1% (in fact
/// within 1/128) of the exact value, at about 14 KB per histogram for latencies up to 10 s.
pub const LATENCY_SIGFIG: u8 = 2;

/// Latencies are recorded in nanoseconds, so the histogram's relative precision holds down
/// to the smallest latency a stream reports.
const NANOS_PER_MS: f64 = 1e6;

/// Statistics of a set of requests (one proxy's, or all of them).
///
/// ```
/// use exporter_core::{Request, Timestamp};
/// use exporter_stats::RequestStats;
/// let ts = Timestamp::parse("2026-11-26T08:00:00Z").unwrap();
/// let mut s = RequestStats::default();
/// s.add(&Request { status: Some(200), latency_ms: Some(300.0), ..Request::new(ts, "p") });
/// s.add(&Request { status: Some(429), latency_ms: Some(100.0), ..Request::new(ts, "p") });
/// assert_eq!((s.requests, s.ok, s.failed, s.blocked), (2, 1, 1, 1));
/// assert_eq!(s.success_rate(), Some(0.5));
/// ```
#[derive(Clone, Debug)]
pub struct RequestStats {
    /// Requests.
    pub requests: u64,
    /// Successful ones.
    pub ok: u64,
    /// Failed ones (`requests - ok`).
    pub failed: u64,
    /// Blocked ones (403/407/429 or `blocked: true`).
    pub blocked: u64,
    /// Ones whose error kind is `Timeout`.
    pub timeouts: u64,
    /// Sum of `bytes` where given.
    pub bytes: u64,
    /// Requests by HTTP status.
    pub status_codes: BTreeMap<u16, u64>,
    /// Requests by error kind.
    pub errors: BTreeMap<String, u64>,
    /// Earliest request.
    pub first: Option<Timestamp>,
    /// Latest request.
    pub last: Option<Timestamp>,
    // u32 counts: half the memory of u64 (a histogram per proxy is touched at random for
    // every request), and a count saturates only past 4 billion requests in one bucket
    latency: Histogram<u32>,
    latency_sum_ms: f64,
    latency_min_ms: f64,
    latency_max_ms: f64,
}

impl Default for RequestStats {
    fn default() -> Self {
        RequestStats {
            requests: 0,
            ok: 0,
            failed: 0,
            blocked: 0,
            timeouts: 0,
            bytes: 0,
            status_codes: BTreeMap::new(),
            errors: BTreeMap::new(),
            first: None,
            last: None,
            latency: Histogram::new(LATENCY_SIGFIG).expect("valid sigfig"),
            latency_sum_ms: 0.0,
            latency_min_ms: f64::INFINITY,
            latency_max_ms: f64::NEG_INFINITY,
        }
    }
}

/// What [`RequestStats`] saves to carry a followed stream's statistics from one commit to the
/// next: the counts, and the latency histogram as (value, count) pairs, one per bucket used.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedStats {
    requests: u64,
    ok: u64,
    failed: u64,
    blocked: u64,
    timeouts: u64,
    bytes: u64,
    status_codes: BTreeMap<u16, u64>,
    errors: BTreeMap<String, u64>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    latency: Vec<(u64, u64)>,
    latency_sum_ms: f64,
    /// `None` while no latency was recorded (JSON has no infinity).
    latency_min_ms: Option<f64>,
    latency_max_ms: Option<f64>,
}

impl serde::Serialize for RequestStats {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let finite = |x: f64| x.is_finite().then_some(x);
        SavedStats {
            requests: self.requests,
            ok: self.ok,
            failed: self.failed,
            blocked: self.blocked,
            timeouts: self.timeouts,
            bytes: self.bytes,
            status_codes: self.status_codes.clone(),
            errors: self.errors.clone(),
            first: self.first,
            last: self.last,
            latency: self
                .latency
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value().into()))
                .collect(),
            latency_sum_ms: self.latency_sum_ms,
            latency_min_ms: finite(self.latency_min_ms),
            latency_max_ms: finite(self.latency_max_ms),
        }
        .serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for RequestStats {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let saved = SavedStats::deserialize(d)?;
        let mut stats = RequestStats {
            requests: saved.requests,
            ok: saved.ok,
            failed: saved.failed,
            blocked: saved.blocked,
            timeouts: saved.timeouts,
            bytes: saved.bytes,
            status_codes: saved.status_codes,
            errors: saved.errors,
            first: saved.first,
            last: saved.last,
            latency_sum_ms: saved.latency_sum_ms,
            latency_min_ms: saved.latency_min_ms.unwrap_or(f64::INFINITY),
            latency_max_ms: saved.latency_max_ms.unwrap_or(f64::NEG_INFINITY),
            ..RequestStats::default()
        };
        for (value, count) in saved.latency {
            // the bucket's highest value lands in the same bucket again
            let count = count.try_into().unwrap_or(u32::MAX);
            if stats.latency.record_n(value, count).is_err() {
                stats.latency.saturating_record_n(value, count);
            }
        }
        Ok(stats)
    }
}

/// A latency as the reports print it: to the microsecond, and to at least four significant
/// digits below 1 ms, so a printed latency is within 0.05% of the value at any scale.
///
/// ```
/// use exporter_stats::report_latency;
/// assert_eq!(report_latency(312.5), 312.5);
/// assert_eq!(report_latency(1.5314), 1.531);
/// assert_eq!(report_latency(0.012345), 0.01235);
/// assert_eq!(report_latency(0.0), 0.0);
/// ```
pub fn report_latency(ms: f64) -> f64 {
    if ms == 0.0 || !ms.is_finite() {
        return ms;
    }
    let magnitude = ms.abs().log10().floor() as i32;
    if magnitude < -12 {
        return ms; // far below a nanosecond: nothing to round
    }
    round(ms, 3.max(3 - magnitude))
}

/// Rounds to `digits` decimals, so reports carry no float noise.
///
/// ```
/// assert_eq!(exporter_stats::round(0.1 + 0.2, 4), 0.3);
/// ```
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// A map keyed by proxy URL, as the per-proxy reports keep them: hashed with `foldhash`
/// (seeded per process), faster than the standard SipHash on the URL-sized
/// keys every request looks up.
///
/// ```
/// let mut by_proxy = exporter_stats::ByProxy::<u64>::default();
/// *by_proxy.entry("http://10.0.0.7:8080".to_string()).or_default() += 1;
/// assert_eq!(by_proxy["http://10.0.0.7:8080"], 1);
/// ```
pub type ByProxy<V> = std::collections::HashMap<String, V, foldhash::fast::RandomState>;

impl RequestStats {
    /// Counts one request.
    pub fn add(&mut self, r: &Request) {
        self.requests += 1;
        if r.is_ok() {
            self.ok += 1;
        } else {
            self.failed += 1;
        }
        if r.is_blocked() {
            self.blocked += 1;
        }
        if r.error.as_deref() == Some("Timeout") {
            self.timeouts += 1;
        }
        // saturates rather than wraps: a sum past u64::MAX bytes is garbage either way, but
        // never a small number that looks right
        self.bytes = self.bytes.saturating_add(r.bytes.unwrap_or(0));
        if let Some(s) = r.status {
            *self.status_codes.entry(s).or_default() += 1;
        }
        if let Some(e) = &r.error {
            match self.errors.get_mut(e.as_str()) {
                Some(n) => *n += 1,
                None => {
                    self.errors.insert(e.clone(), 1);
                }
            }
        }
        self.first = Some(self.first.map_or(r.ts, |f| f.min(r.ts)));
        self.last = Some(self.last.map_or(r.ts, |l| l.max(r.ts)));
        if let (true, Some(ms)) = (r.has_response(), r.latency_ms) {
            // the reader refuses latencies above Request::MAX_LATENCY_MS; the cast saturates for any
            // value pushed from Rust beyond u64 nanoseconds
            let nanos = (ms * NANOS_PER_MS).round() as u64;
            if self.latency.record(nanos).is_err() {
                self.latency.saturating_record(nanos);
            }
            self.latency_sum_ms += ms;
            self.latency_min_ms = self.latency_min_ms.min(ms);
            self.latency_max_ms = self.latency_max_ms.max(ms);
        }
    }

    /// Adds another state (of other requests) into this one.
    ///
    /// ```
    /// use exporter_core::{Request, Timestamp};
    /// let mut a = exporter_stats::RequestStats::default();
    /// let mut b = exporter_stats::RequestStats::default();
    /// let mut r = Request::new(Timestamp::parse("2026-11-26T08:00:00Z").unwrap(), "http://p:1");
    /// r.status = Some(200);
    /// a.add(&r);
    /// b.add(&r);
    /// a.merge(&b);
    /// assert_eq!(a.requests, 2);
    /// ```
    pub fn merge(&mut self, other: &RequestStats) {
        self.requests += other.requests;
        self.ok += other.ok;
        self.failed += other.failed;
        self.blocked += other.blocked;
        self.timeouts += other.timeouts;
        self.bytes = self.bytes.saturating_add(other.bytes);
        for (k, v) in &other.status_codes {
            *self.status_codes.entry(*k).or_default() += v;
        }
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.latency
            .add(&other.latency)
            .expect("auto-resizing histograms always add");
        self.latency_sum_ms += other.latency_sum_ms;
        self.latency_min_ms = self.latency_min_ms.min(other.latency_min_ms);
        self.latency_max_ms = self.latency_max_ms.max(other.latency_max_ms);
    }

    /// Requests with a latency (that got a response).
    pub fn with_latency(&self) -> u64 {
        self.latency.len()
    }

    /// `ok / requests`.
    pub fn success_rate(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.ok as f64 / self.requests as f64)
    }

    /// `blocked / requests`.
    pub fn block_rate(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.blocked as f64 / self.requests as f64)
    }

    /// The latency at quantile `q` (0..=1), in ms; within 1% of the exact value, and never
    /// outside the exact minimum and maximum (a histogram bucket may reach past them).
    pub fn latency_quantile(&self, q: f64) -> Option<f64> {
        (!self.latency.is_empty()).then(|| {
            (self.latency.value_at_quantile(q) as f64 / NANOS_PER_MS)
                .clamp(self.latency_min_ms, self.latency_max_ms)
        })
    }

    /// `{min, mean, p50, p90, p95, p99, max}` in ms (see [`report_latency`] for the
    /// precision), nulls when no request got a response. min, mean and max are exact;
    /// percentiles come from the histogram, within 1%.
    pub fn latency_summary(&self) -> Value {
        if self.latency.is_empty() {
            return json!({"min": null, "mean": null, "p50": null, "p90": null, "p95": null, "p99": null, "max": null});
        }
        let q = |q: f64| report_latency(self.latency_quantile(q).unwrap_or(0.0));
        json!({
            "min": report_latency(self.latency_min_ms),
            "mean": report_latency(self.latency_sum_ms / self.latency.len() as f64),
            "p50": q(0.50),
            "p90": q(0.90),
            "p95": q(0.95),
            "p99": q(0.99),
            "max": report_latency(self.latency_max_ms),
        })
    }

    /// Status codes as a JSON object with string keys.
    pub fn status_codes_json(&self) -> Value {
        Value::Object(
            self.status_codes
                .iter()
                .map(|(k, v)| (k.to_string(), Value::from(*v)))
                .collect::<Map<_, _>>(),
        )
    }

    /// Error kinds as a JSON object.
    pub fn errors_json(&self) -> Value {
        Value::Object(
            self.errors
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(*v)))
                .collect::<Map<_, _>>(),
        )
    }
}

/// When a proxy counts as healthy, degraded or failing. Success and block rates are over all
/// of its requests. The defaults separate the bench generator's good, degraded and bad proxy
/// profiles (good: success 0.89-0.95, block <= 0.04; degraded: 0.76-0.82; bad: <= 0.46 or
/// block >= 0.17).
///
/// ```
/// use exporter_stats::{Health, HealthThresholds};
/// let t = HealthThresholds::default();
/// assert_eq!(t.classify(0.97, 0.01), Health::Healthy);
/// assert_eq!(t.classify(0.80, 0.04), Health::Degraded);
/// assert_eq!(t.classify(0.90, 0.08), Health::Degraded);
/// assert_eq!(t.classify(0.55, 0.02), Health::Failing);
/// assert_eq!(t.classify(0.95, 0.20), Health::Failing);
/// ```
#[derive(
    Clone, Copy, Debug, PartialEq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields, default)]
pub struct HealthThresholds {
    /// Healthy needs at least this success rate...
    pub healthy_min_success: f64,
    /// ...and at most this block rate.
    pub healthy_max_block: f64,
    /// Failing below this success rate...
    pub failing_below_success: f64,
    /// ...or above this block rate.
    pub failing_above_block: f64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        HealthThresholds {
            healthy_min_success: 0.85,
            healthy_max_block: 0.05,
            failing_below_success: 0.60,
            failing_above_block: 0.15,
        }
    }
}

/// A proxy's health class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Works well.
    Healthy,
    /// Works, worse.
    Degraded,
    /// Mostly fails or is blocked.
    Failing,
}

impl Health {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Degraded => "degraded",
            Health::Failing => "failing",
        }
    }
}

impl HealthThresholds {
    /// The class of a proxy with these rates.
    pub fn classify(&self, success_rate: f64, block_rate: f64) -> Health {
        if success_rate < self.failing_below_success || block_rate > self.failing_above_block {
            Health::Failing
        } else if success_rate >= self.healthy_min_success && block_rate <= self.healthy_max_block {
            Health::Healthy
        } else {
            Health::Degraded
        }
    }

    /// Checks the thresholds are rates and consistent.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("healthy_min_success", self.healthy_min_success),
            ("healthy_max_block", self.healthy_max_block),
            ("failing_below_success", self.failing_below_success),
            ("failing_above_block", self.failing_above_block),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("`{name}` must be between 0 and 1, got {v}"));
            }
        }
        if self.failing_below_success > self.healthy_min_success {
            return Err("`failing_below_success` must not exceed `healthy_min_success`".into());
        }
        if self.failing_above_block < self.healthy_max_block {
            return Err("`failing_above_block` must not be below `healthy_max_block`".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_statistics_report_as_the_originals() {
        let mut stats = RequestStats::default();
        for i in 0..5000 {
            stats.add(&req(i));
        }
        let back: RequestStats =
            serde_json::from_str(&serde_json::to_string(&stats).unwrap()).unwrap();
        assert_eq!(back.latency_summary(), stats.latency_summary());
        assert_eq!(back.status_codes_json(), stats.status_codes_json());
        assert_eq!(back.errors_json(), stats.errors_json());
        assert_eq!(
            (
                back.requests,
                back.ok,
                back.blocked,
                back.bytes,
                back.first,
                back.last
            ),
            (
                stats.requests,
                stats.ok,
                stats.blocked,
                stats.bytes,
                stats.first,
                stats.last
            )
        );
        for q in [0.5, 0.9, 0.99] {
            assert_eq!(back.latency_quantile(q), stats.latency_quantile(q));
        }
        // and one that saw no latency keeps none
        let empty: RequestStats =
            serde_json::from_str(&serde_json::to_string(&RequestStats::default()).unwrap())
                .unwrap();
        assert_eq!(
            empty.latency_summary(),
            RequestStats::default().latency_summary()
        );
    }

    fn req(i: u64) -> Request {
        let ts = Timestamp::from_unix_seconds(1_764_144_000 + i as i64).unwrap();
        Request {
            status: if i.is_multiple_of(10) {
                None
            } else {
                Some(if i.is_multiple_of(7) { 429 } else { 200 })
            },
            latency_ms: if i.is_multiple_of(10) {
                None
            } else {
                Some((i * 37 % 5000) as f64 + 0.5)
            },
            error: if i.is_multiple_of(10) {
                Some("Timeout".into())
            } else {
                None
            },
            bytes: Some(i),
            ..Request::new(ts, "p")
        }
    }

    #[test]
    fn halves_merge_into_the_whole() {
        let mut whole = RequestStats::default();
        let mut a = RequestStats::default();
        let mut b = RequestStats::default();
        for i in 0..10_000 {
            whole.add(&req(i));
            if i % 3 == 0 {
                a.add(&req(i))
            } else {
                b.add(&req(i))
            }
        }
        a.merge(&b);
        assert_eq!(
            (a.requests, a.ok, a.failed, a.blocked, a.timeouts, a.bytes),
            (
                whole.requests,
                whole.ok,
                whole.failed,
                whole.blocked,
                whole.timeouts,
                whole.bytes
            )
        );
        assert_eq!(a.status_codes, whole.status_codes);
        assert_eq!(a.errors, whole.errors);
        assert_eq!((a.first, a.last), (whole.first, whole.last));
        assert_eq!(a.latency_summary(), whole.latency_summary());
    }

    #[test]
    fn every_reported_latency_is_within_one_percent_at_any_scale() {
        for scale in [0.001, 0.0137, 1.0, 1.531, 250.0, 73_000.0] {
            let mut s = RequestStats::default();
            let mut exact: Vec<f64> = Vec::new();
            for i in 0..5_000u64 {
                let ms = scale * (1.0 + ((i * 7919) % 1000) as f64 / 97.0);
                s.add(&Request {
                    status: Some(200),
                    latency_ms: Some(ms),
                    ..req(1)
                });
                exact.push(ms);
            }
            exact.sort_by(f64::total_cmp);
            let summary = s.latency_summary();
            let within = |key: &str, want: f64| {
                let got = summary[key].as_f64().unwrap();
                assert!(
                    (got - want).abs() / want <= 0.01,
                    "scale {scale}: {key} {got} vs {want}"
                );
            };
            within("min", exact[0]);
            within("max", exact[exact.len() - 1]);
            within("mean", exact.iter().sum::<f64>() / exact.len() as f64);
            for (key, q) in [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)] {
                let want = exact[((q * exact.len() as f64).ceil() as usize).max(1) - 1];
                within(key, want);
                let got = summary[key].as_f64().unwrap();
                assert!(
                    got >= summary["min"].as_f64().unwrap()
                        && got <= summary["max"].as_f64().unwrap()
                );
            }
        }
    }

    #[test]
    fn percentiles_stay_within_min_and_max_and_sums_saturate() {
        let mut s = RequestStats::default();
        for (ms, bytes) in [(1e9, u64::MAX), (1e9, 5), (0.5, 1)] {
            s.add(&Request {
                status: Some(200),
                latency_ms: Some(ms),
                bytes: Some(bytes),
                ..req(1)
            });
        }
        assert_eq!(s.bytes, u64::MAX);
        for q in [0.5, 0.99, 1.0] {
            let p = s.latency_quantile(q).unwrap();
            assert!((0.5..=1e9).contains(&p), "{q}: {p}");
        }
        let mut merged = s.clone();
        merged.merge(&s);
        assert_eq!(merged.bytes, u64::MAX);
    }

    #[test]
    fn percentiles_within_one_percent() {
        let mut s = RequestStats::default();
        let mut exact: Vec<f64> = Vec::new();
        for i in 0..20_000u64 {
            let ms = 1.0 + ((i * 7919) % 100_000) as f64 / 10.0;
            s.add(&Request {
                status: Some(200),
                latency_ms: Some(ms),
                ..req(1)
            });
            exact.push(ms);
        }
        exact.sort_by(f64::total_cmp);
        for q in [0.5, 0.9, 0.95, 0.99] {
            let want = exact[((q * exact.len() as f64).ceil() as usize).max(1) - 1];
            let got = s.latency_quantile(q).unwrap();
            assert!((got - want).abs() / want <= 0.01, "q{q}: {got} vs {want}");
        }
    }
}
