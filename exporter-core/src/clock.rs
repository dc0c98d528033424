//! The run's notion of "now": honours `SOURCE_DATE_EPOCH` so that runs are byte-reproducible.

use crate::event::Timestamp;

/// The time to print as `generated_at` and to expand `{date}` with: `SOURCE_DATE_EPOCH`
/// (whole seconds since the Unix epoch) when set and valid, else the current time.
///
/// ```
/// let t = exporter_core::clock::run_timestamp_from(Some("1764144000"));
/// assert_eq!(t.to_string(), "2025-11-26T08:00:00Z");
/// assert!(exporter_core::clock::run_timestamp_from(None).unix_seconds() > 0);
/// ```
pub fn run_timestamp_from(source_date_epoch: Option<&str>) -> Timestamp {
    source_date_epoch
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(Timestamp::from_unix_seconds)
        .unwrap_or_else(Timestamp::now)
}

/// [`run_timestamp_from`] the environment's `SOURCE_DATE_EPOCH`.
///
/// ```
/// let _ = exporter_core::clock::run_timestamp();
/// ```
pub fn run_timestamp() -> Timestamp {
    run_timestamp_from(std::env::var("SOURCE_DATE_EPOCH").ok().as_deref())
}

/// "Now" for timestamps the run makes up itself (a bad line, a rejected record): the wall
/// clock, or `SOURCE_DATE_EPOCH` when set, so reproducible runs stay byte-identical.
///
/// ```
/// assert!(exporter_core::clock::now().unix_seconds() > 0);
/// ```
pub fn now() -> Timestamp {
    static FIXED: std::sync::OnceLock<Option<Timestamp>> = std::sync::OnceLock::new();
    FIXED
        .get_or_init(|| {
            std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .and_then(Timestamp::from_unix_seconds)
        })
        .unwrap_or_else(Timestamp::now)
}
