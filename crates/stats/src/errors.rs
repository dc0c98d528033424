//! Error events counted by severity and kind.

use std::collections::BTreeMap;

use exporter_core::{ErrorEvent, Severity};

/// Error events by severity and by kind, as the reports show them; two counts of two halves
/// [`merge`](ErrorCounts::merge) into the count of the whole.
///
/// ```
/// use exporter_core::{ErrorEvent, Severity};
/// use exporter_stats::ErrorCounts;
/// let mut counts = ErrorCounts::default();
/// counts.add(&ErrorEvent::new("Timeout", "no answer in 30 s"));
/// counts.add(&ErrorEvent::new("Timeout", "no answer in 30 s"));
/// assert_eq!(counts.total(), 2);
/// assert_eq!(counts.by_kind["Timeout"], 2);
/// assert_eq!(counts.by_severity[&Severity::Error], 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorCounts {
    /// Events by severity.
    pub by_severity: BTreeMap<Severity, u64>,
    /// Events by kind.
    pub by_kind: BTreeMap<String, u64>,
}

impl ErrorCounts {
    /// Counts one event.
    pub fn add(&mut self, e: &ErrorEvent) {
        *self.by_severity.entry(e.severity).or_default() += 1;
        // the kinds of a stream are few: look up before allocating a key
        match self.by_kind.get_mut(e.kind.as_str()) {
            Some(n) => *n += 1,
            None => {
                self.by_kind.insert(e.kind.clone(), 1);
            }
        }
    }

    /// Adds another count into this one.
    pub fn merge(&mut self, other: &ErrorCounts) {
        for (s, n) in &other.by_severity {
            *self.by_severity.entry(*s).or_default() += n;
        }
        for (k, n) in &other.by_kind {
            *self.by_kind.entry(k.clone()).or_default() += n;
        }
    }

    /// Events counted.
    pub fn total(&self) -> u64 {
        self.by_severity.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_halves_merge_into_the_whole() {
        let events: Vec<ErrorEvent> = (0..50)
            .map(|i| {
                let mut e = ErrorEvent::new(["Timeout", "HTTPError", "ParseError"][i % 3], "m");
                e.severity = [Severity::Warning, Severity::Error][i % 2];
                e
            })
            .collect();
        let mut whole = ErrorCounts::default();
        let (mut a, mut b) = (ErrorCounts::default(), ErrorCounts::default());
        for (i, e) in events.iter().enumerate() {
            whole.add(e);
            if i < 20 { &mut a } else { &mut b }.add(e);
        }
        a.merge(&b);
        assert_eq!(a, whole);
        assert_eq!(whole.total(), 50);
        assert_eq!(whole.by_kind["Timeout"], 17);
    }
}
