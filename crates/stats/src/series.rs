//! Counts over time: requests, successes, blocks and errors per time bucket, mergeable, and
//! regrouped at report time into buckets of a readable width.

use std::collections::BTreeMap;

use exporter_core::{Request, Timestamp};

/// Buckets kept before the base width grows (1 s, then 1 min, then 1 h, then 1 day): about
/// 40 bytes each, so a series stays under a few MiB whatever the campaign's length.
pub const MAX_BUCKETS: usize = 100_000;

/// The widths a kept series may have, each a multiple of the one before, so two series of
/// different widths merge at the coarser one.
const BASES: [i64; 4] = [1, 60, 3_600, 86_400];

/// The widths a report may show, in seconds: each a multiple of every base below it, and
/// no more than 2.5 times the one before, so a width with 50 to 200 buckets exists for any
/// window of at least 50 base buckets.
const WIDTHS: [i64; 22] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200,
    86_400, 172_800, 432_000, 864_000, 1_728_000,
];

/// The counts of one time bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Requests.
    pub requests: u64,
    /// Successful requests.
    pub ok: u64,
    /// Blocked requests.
    pub blocked: u64,
    /// Error events.
    pub errors: u64,
}

impl Bucket {
    fn add(&mut self, other: &Bucket) {
        self.requests += other.requests;
        self.ok += other.ok;
        self.blocked += other.blocked;
        self.errors += other.errors;
    }

    /// Successes over requests, `None` without requests.
    pub fn success_rate(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.ok as f64 / self.requests as f64)
    }

    /// Blocked over requests, `None` without requests.
    pub fn block_rate(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.blocked as f64 / self.requests as f64)
    }
}

/// Requests and errors counted per time bucket. Two series built from two halves of a
/// stream [`merge`](TimeSeries::merge) into the series of the whole, at the coarser width of
/// the two.
///
/// ```
/// use exporter_core::{Request, Timestamp};
/// use exporter_stats::TimeSeries;
/// let at = |s: &str| Timestamp::parse(s).unwrap();
/// let mut series = TimeSeries::default();
/// series.add_request(&Request { status: Some(200), ..Request::new(at("2026-11-26T08:00:00Z"), "p") });
/// series.add_request(&Request { status: Some(429), ..Request::new(at("2026-11-26T08:59:59Z"), "p") });
/// series.add_error(at("2026-11-26T08:30:00Z"));
/// let window = (at("2026-11-26T08:00:00Z"), at("2026-11-26T09:00:00Z"));
/// let view = series.view(window.0, window.1);
/// assert_eq!(view.width_s, 30); // the narrowest width giving at most 200 buckets
/// assert_eq!(view.buckets.len(), 120);
/// assert_eq!(view.buckets[0].requests, 1);
/// assert_eq!(view.buckets[119].blocked, 1);
/// assert_eq!(view.buckets[60].errors, 1);
/// ```
#[derive(Clone, Debug)]
pub struct TimeSeries {
    base: i64,
    buckets: BTreeMap<i64, Bucket>,
    // the bucket last counted into, kept out of the map: a stream comes roughly in time
    // order, so most events land where the one before did and skip the map's lookup
    hot: Option<(i64, Bucket)>,
}

impl Default for TimeSeries {
    fn default() -> Self {
        TimeSeries {
            base: BASES[0],
            buckets: BTreeMap::new(),
            hot: None,
        }
    }
}

/// A series regrouped for a window: `buckets[i]` covers `start + i × width_s` seconds
/// from the window's start (aligned down to the width), and counts outside the window are
/// summed apart.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesView {
    /// The first bucket's start.
    pub start: Timestamp,
    /// Width of a bucket in seconds.
    pub width_s: i64,
    /// The buckets, in time order.
    pub buckets: Vec<Bucket>,
    /// What fell before or after the window (e.g. errors the export itself raised).
    pub outside: Bucket,
}

impl TimeSeries {
    /// Counts a request in its bucket.
    pub fn add_request(&mut self, r: &Request) {
        let b = self.bucket(r.ts);
        b.requests += 1;
        b.ok += u64::from(r.is_ok());
        b.blocked += u64::from(r.is_blocked());
    }

    /// Counts an error event in its bucket.
    pub fn add_error(&mut self, ts: Timestamp) {
        self.bucket(ts).errors += 1;
    }

    /// Adds another series into this one.
    pub fn merge(&mut self, other: &TimeSeries) {
        self.coarsen_to(self.base.max(other.base));
        for (key, b) in other.all() {
            let start = key * other.base;
            self.buckets
                .entry(start.div_euclid(self.base))
                .or_default()
                .add(&b);
        }
        self.keep_bounded();
    }

    /// Width of the kept buckets in seconds (grows as the series spreads).
    pub fn base_width_s(&self) -> i64 {
        self.base
    }

    /// All counts together.
    pub fn total(&self) -> Bucket {
        let mut t = Bucket::default();
        for (_, b) in self.all() {
            t.add(&b);
        }
        t
    }

    /// Every kept bucket, the hot one included (it may share a key with a bucket of the map).
    fn all(&self) -> impl Iterator<Item = (i64, Bucket)> + '_ {
        self.buckets.iter().map(|(k, b)| (*k, *b)).chain(self.hot)
    }

    /// The series regrouped into 50 to 200 buckets of a readable width (1 s, 2 s, 5 s, ...,
    /// 1 min, 2 min, 5 min, ..., 1 h, ..., 20 days) over `[from, to)`, or as close as the kept
    /// width allows. An empty or reversed window gives one bucket.
    pub fn view(&self, from: Timestamp, to: Timestamp) -> SeriesView {
        let (from_s, to_s) = (
            from.unix_seconds(),
            to.unix_seconds().max(from.unix_seconds()),
        );
        let span = (to_s - from_s).max(1);
        let width = WIDTHS
            .iter()
            .copied()
            .filter(|w| w % self.base == 0)
            .find(|w| ceil_div(span, *w) <= 200)
            .unwrap_or_else(|| {
                // past 20-day buckets: whole multiples of a day
                86_400 * ceil_div(span, 200 * 86_400)
            });
        let start = from_s.div_euclid(width) * width;
        let n = ceil_div(to_s - start, width).max(1) as usize;
        let mut buckets = vec![Bucket::default(); n];
        let mut outside = Bucket::default();
        for (key, b) in self.all() {
            let at = key * self.base;
            if at < from_s || at >= to_s.max(from_s + 1) {
                outside.add(&b);
            } else {
                buckets[((at - start) / width) as usize].add(&b);
            }
        }
        SeriesView {
            start: Timestamp::from_unix_seconds(start).unwrap_or(from),
            width_s: width,
            buckets,
            outside,
        }
    }

    fn bucket(&mut self, ts: Timestamp) -> &mut Bucket {
        let key = ts.unix_seconds().div_euclid(self.base);
        if self.hot.is_none_or(|(k, _)| k != key) {
            self.flush();
            self.hot = Some((key, Bucket::default()));
        }
        &mut self.hot.as_mut().expect("just set").1
    }

    /// Moves the hot bucket into the map, coarsening first when the map is full.
    fn flush(&mut self) {
        let Some((key, b)) = self.hot.take() else {
            return;
        };
        let at = key * self.base;
        if !self.buckets.contains_key(&key) && self.buckets.len() >= MAX_BUCKETS {
            self.keep_bounded_with_one_more();
        }
        self.buckets
            .entry(at.div_euclid(self.base))
            .or_default()
            .add(&b);
    }

    fn keep_bounded_with_one_more(&mut self) {
        let next = BASES
            .iter()
            .copied()
            .find(|b| *b > self.base)
            .unwrap_or(self.base * 7);
        self.coarsen_to(next);
    }

    fn keep_bounded(&mut self) {
        while self.buckets.len() > MAX_BUCKETS {
            self.keep_bounded_with_one_more();
        }
    }

    fn coarsen_to(&mut self, base: i64) {
        if base == self.base {
            return;
        }
        if let Some((key, b)) = self.hot.take() {
            self.buckets.entry(key).or_default().add(&b);
        }
        let old = std::mem::take(&mut self.buckets);
        for (key, b) in old {
            self.buckets
                .entry((key * self.base).div_euclid(base))
                .or_default()
                .add(&b);
        }
        self.base = base;
    }
}

/// `a / b` rounded up, for `a >= 0`, `b > 0` (`i64::div_ceil` is not stable yet).
fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        // a day boundary, so buckets of any width start at 0
        Timestamp::from_unix_seconds(1_789_948_800 + s).unwrap()
    }

    fn request(s: i64, status: u16) -> Request {
        Request {
            status: Some(status),
            ..Request::new(at(s), "p")
        }
    }

    #[test]
    fn the_width_gives_50_to_200_buckets() {
        let mut series = TimeSeries::default();
        series.add_request(&request(0, 200));
        for span in [
            50,
            99,
            200,
            201,
            599,
            3_600,
            86_400,
            7 * 86_400,
            40 * 86_400,
        ] {
            let view = series.view(at(0), at(span));
            let n = view.buckets.len();
            assert!(
                (50..=201).contains(&n),
                "{span} s: {n} buckets of {}",
                view.width_s
            );
            assert!(WIDTHS.contains(&view.width_s), "{}", view.width_s);
        }
    }

    #[test]
    fn each_request_lands_in_its_bucket_by_an_independent_count() {
        let mut series = TimeSeries::default();
        let times: Vec<i64> = (0..5_000).map(|i| (i * 7919) % 86_400).collect();
        for (i, t) in times.iter().enumerate() {
            series.add_request(&request(*t, if i % 3 == 0 { 429 } else { 200 }));
        }
        let view = series.view(at(0), at(86_400));
        assert_eq!(view.width_s, 600);
        for (i, b) in view.buckets.iter().enumerate() {
            let lo = i as i64 * 600;
            let expect: Vec<usize> = (0..times.len())
                .filter(|j| (lo..lo + 600).contains(&times[*j]))
                .collect();
            assert_eq!(b.requests, expect.len() as u64, "bucket {i}");
            assert_eq!(
                b.blocked,
                expect.iter().filter(|j| *j % 3 == 0).count() as u64
            );
            assert_eq!(b.ok, b.requests - b.blocked);
        }
        assert_eq!(view.outside, Bucket::default());
    }

    #[test]
    fn two_halves_merge_into_the_whole_even_at_different_widths() {
        let mut whole = TimeSeries::default();
        let (mut a, mut b) = (TimeSeries::default(), TimeSeries::default());
        for i in 0..3_000 {
            let r = request(i * 37, if i % 5 == 0 { 500 } else { 200 });
            whole.add_request(&r);
            if i % 2 == 0 { &mut a } else { &mut b }.add_request(&r);
        }
        whole.add_error(at(10));
        b.add_error(at(10));
        b.coarsen_to(60);
        a.merge(&b);
        assert_eq!(a.base_width_s(), 60);
        assert_eq!(a.total(), whole.total());
        let window = (at(0), at(3_000 * 37));
        let (got, want) = (a.view(window.0, window.1), whole.view(window.0, window.1));
        assert_eq!(got, want, "a view of 60 s or wider is the same from either");
    }

    #[test]
    fn a_long_sparse_series_coarsens_and_stays_bounded() {
        let mut series = TimeSeries::default();
        for i in 0..(MAX_BUCKETS as i64 + 10) {
            series.add_request(&request(i * 2, 200));
        }
        series.flush();
        assert_eq!(series.base_width_s(), 60);
        assert!(series.buckets.len() <= MAX_BUCKETS);
        assert_eq!(series.total().requests, MAX_BUCKETS as u64 + 10);
    }

    #[test]
    fn counts_outside_the_window_are_kept_apart() {
        let mut series = TimeSeries::default();
        series.add_request(&request(100, 200));
        series.add_error(at(100));
        series.add_error(at(10 * 86_400)); // raised by the export, days later
        let view = series.view(at(0), at(3_600));
        assert_eq!(view.buckets.iter().map(|b| b.errors).sum::<u64>(), 1);
        assert_eq!(view.outside.errors, 1);
    }
}
