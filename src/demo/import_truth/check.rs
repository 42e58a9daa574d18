//! Test helpers: a ground truth's days and months against where an import put each call, and
//! whether the generated timeline tells a local clock from a fixed offset.

use jiff::tz::{Offset, TimeZone};

use super::CallTally;
use super::periods::{Period, Timed, by_zone, group};
use crate::observation::{Call, Category};

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

/// Calls by local day in a zone at a fixed offset of `hours`.
fn days_at(calls: &[Timed], hours: i8) -> super::periods::Buckets {
    let zone = TimeZone::fixed(Offset::constant(hours));
    group(calls, &zone, Period::Day).unwrap()
}

/// Every zone's days differ from what a fixed offset on either side of its own would give
/// (New York's and Berlin's standard and daylight offsets, Kolkata's rounded down and up), and
/// from UTC's: a report that groups by UTC or by one offset cannot pass.
pub fn assert_a_fixed_offset_would_misplace_calls(tally: &CallTally, calls: &[Timed]) {
    for (zone, offsets) in [
        ("America/New_York", [-5, -4]),
        ("Europe/Berlin", [1, 2]),
        ("Asia/Kolkata", [5, 6]),
    ] {
        let days = &tally.by_day[zone];
        for hours in offsets {
            let fixed = days_at(calls, hours);
            assert!(days != &fixed, "{zone}: the same days at a fixed {hours} h");
        }
        assert!(days != &tally.by_day["UTC"], "{zone}: the same days as UTC");
    }
    assert!(
        tally.by_day["UTC"]
            .values()
            .all(|b| b.by_category.len() == Category::ALL.len())
    );
}

/// The truth's `by_project` is the import's calls summed by their `project`, and it has
/// `projects` of them.
pub fn assert_projects_are_the_imports(tally: &CallTally, calls: &[Call], projects: usize) {
    let mut by_project: std::collections::BTreeMap<String, super::Tokens> = Default::default();
    for call in calls {
        let project = call
            .project
            .clone()
            .expect("every imported call names its project");
        by_project
            .entry(project)
            .or_default()
            .add(&call.usage.unwrap_or_default());
    }
    let truth: std::collections::BTreeMap<String, super::Tokens> = tally
        .by_project
        .iter()
        .map(|(project, bucket)| (project.clone(), bucket.tokens))
        .collect();
    assert_eq!(by_project, truth);
    assert_eq!(by_project.len(), projects, "{:?}", by_project.keys());
}
