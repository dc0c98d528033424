//! The run's notion of "now": honours `SOURCE_DATE_EPOCH` so that runs are byte-reproducible.

use crate::event::Timestamp;

/// `SOURCE_DATE_EPOCH` read as the reproducible-builds specification says: unset is `None`;
/// set, it must be a non-negative integer count of seconds since the Unix epoch, and anything
/// else (`abc`, `1.5`, `-1`, empty) is an error, not silently the current time.
///
/// ```
/// use exporter_core::parse_source_date_epoch;
/// assert_eq!(parse_source_date_epoch("1764144000").unwrap().to_string(), "2025-11-26T08:00:00Z");
/// for bad in ["abc", "1.5", "-1", "", " 1", "99999999999999999999"] {
///     assert!(parse_source_date_epoch(bad).is_err(), "{bad:?}");
/// }
/// ```
pub fn parse_source_date_epoch(text: &str) -> Result<Timestamp, String> {
    let fail = || {
        format!(
            "SOURCE_DATE_EPOCH must be a non-negative whole number of seconds since 1970-01-01, got {text:?}"
        )
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail());
    }
    text.parse::<i64>()
        .ok()
        .and_then(Timestamp::from_unix_seconds)
        .ok_or_else(fail)
}

/// [`parse_source_date_epoch`] of the environment: `Ok(None)` when it is not set.
///
/// ```
/// // the doc tests run without SOURCE_DATE_EPOCH, or with a valid one
/// assert!(exporter_core::source_date_epoch().is_ok());
/// ```
pub fn source_date_epoch() -> Result<Option<Timestamp>, String> {
    match std::env::var_os("SOURCE_DATE_EPOCH") {
        None => Ok(None),
        Some(v) => parse_source_date_epoch(&v.to_string_lossy()).map(Some),
    }
}

/// The time to print as `generated_at` and to expand `{date}` with: `SOURCE_DATE_EPOCH`
/// when set and valid, else the current time.
///
/// ```
/// let t = exporter_core::run_timestamp_from(Some("1764144000"));
/// assert_eq!(t.to_string(), "2025-11-26T08:00:00Z");
/// assert!(exporter_core::run_timestamp_from(None).unix_seconds() > 0);
/// ```
pub fn run_timestamp_from(source_date_epoch: Option<&str>) -> Timestamp {
    source_date_epoch
        .and_then(|s| parse_source_date_epoch(s).ok())
        .unwrap_or_else(Timestamp::now)
}

/// [`run_timestamp_from`] the environment's `SOURCE_DATE_EPOCH` (the CLI refuses an invalid
/// one before it gets here).
///
/// ```
/// let _ = exporter_core::run_timestamp();
/// ```
pub fn run_timestamp() -> Timestamp {
    source_date_epoch()
        .ok()
        .flatten()
        .unwrap_or_else(Timestamp::now)
}

/// "Now" for timestamps the run makes up itself (a bad line, a rejected record): the wall
/// clock, or `SOURCE_DATE_EPOCH` when set, so reproducible runs stay byte-identical.
///
/// ```
/// assert!(exporter_core::now().unix_seconds() > 0);
/// ```
pub fn now() -> Timestamp {
    static FIXED: std::sync::OnceLock<Option<Timestamp>> = std::sync::OnceLock::new();
    FIXED
        .get_or_init(|| source_date_epoch().ok().flatten())
        .unwrap_or_else(Timestamp::now)
}
