//! Test helpers: a ground truth's days and months against where an import put each call.

use super::CallTally;
use super::periods::{Timed, by_zone};
use crate::observation::Call;

/// The calls of a history import (offsets in seconds from `origin_ms`) at their times.
pub fn timed_calls(calls: &[Call], origin_ms: i64) -> Vec<Timed> {
    calls
        .iter()
        .map(|call| Timed {
            at_ms: origin_ms + (call.t_start * 1000.0).round() as i64,
            category: call.category,
            usage: call.usage.unwrap_or_default(),
        })
        .collect()
}

/// The truth's `by_day` and `by_month` are the import's calls placed in each zone.
pub fn assert_periods_are_the_imports(tally: &CallTally, calls: &[Timed]) {
    let (days, months) = by_zone(calls).unwrap();
    for (zone, buckets) in &days {
        assert_eq!(
            buckets.keys().collect::<Vec<_>>(),
            tally.by_day[zone].keys().collect::<Vec<_>>(),
            "days in {zone}"
        );
        for (day, bucket) in buckets {
            let truth = &tally.by_day[zone][day];
            assert_eq!(bucket.tokens, truth.tokens, "{day} in {zone}");
            assert_eq!(bucket.by_category, truth.by_category, "{day} in {zone}");
        }
    }
    assert!(months == tally.by_month, "months differ");
    assert!(days == tally.by_day, "days differ");
}
