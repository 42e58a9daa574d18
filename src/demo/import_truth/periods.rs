//! The ground truth by period, for `--by day|week|month` with `--timezone`: every call placed
//! at its local date in a few time zones — UTC; New York and Berlin, whose daylight saving
//! time starts within the generated span on different days; Kolkata, half an hour off the
//! hour — at the very time the import gives it ([`Placement`](super::Placement)).
//!
//! Zones come from the system's time zone database (`/usr/share/zoneinfo`, read by jiff): a
//! zone it lacks is an error, never UTC in disguise.

use std::collections::BTreeMap;

use anyhow::Context as _;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::Tokens;
use crate::observation::{Category, Usage};

/// The zones `ground-truth.json` has days and months in.
pub const ZONES: [&str; 4] = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata"];

/// Calls and tokens of one period (or project), and the same by category (all eight).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    #[serde(flatten)]
    pub tokens: Tokens,
    pub by_category: BTreeMap<String, Tokens>,
}

impl Default for Bucket {
    fn default() -> Self {
        Bucket {
            tokens: Tokens::default(),
            by_category: Category::ALL
                .iter()
                .map(|c| (c.as_str().to_string(), Tokens::default()))
                .collect(),
        }
    }
}

impl Bucket {
    /// One call of `category`.
    pub fn add(&mut self, usage: &Usage, category: Category) {
        self.tokens.add(usage);
        self.by_category
            .entry(category.as_str().to_string())
            .or_default()
            .add(usage);
    }
}

/// Buckets by key (a date, a month, a project), in key order.
pub type Buckets = BTreeMap<String, Bucket>;

/// One call where an import puts it in time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timed {
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    pub category: Category,
    pub usage: Usage,
}

/// What calls are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// The local date, `YYYY-MM-DD`.
    Day,
    /// The local month, `YYYY-MM`.
    Month,
}

impl Period {
    fn key(self, date: jiff::civil::Date) -> String {
        match self {
            Period::Day => date.to_string(),
            Period::Month => format!("{:04}-{:02}", date.year(), date.month()),
        }
    }
}

/// `calls` grouped by their local date or month in `zone`.
pub fn group(calls: &[Timed], zone: &TimeZone, period: Period) -> anyhow::Result<Buckets> {
    let mut buckets = Buckets::new();
    for call in calls {
        let date = local_date(call.at_ms, zone)?;
        buckets
            .entry(period.key(date))
            .or_default()
            .add(&call.usage, call.category);
    }
    Ok(buckets)
}

/// The date at `ms` (milliseconds since the epoch) on a clock in `zone`.
pub fn local_date(ms: i64, zone: &TimeZone) -> anyhow::Result<jiff::civil::Date> {
    let at = jiff::Timestamp::from_millisecond(ms)
        .with_context(|| format!("{ms} ms since the epoch is no time jiff can hold"))?;
    Ok(zone.to_datetime(at).date())
}

/// A zone by its IANA name, from the system's time zone database (UTC needs none).
pub fn zone(name: &str) -> anyhow::Result<TimeZone> {
    if name == "UTC" {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(name).with_context(|| {
        format!("time zone {name} is not in the system's time zone database (/usr/share/zoneinfo; Debian package tzdata)")
    })
}

/// `calls` by day and by month in every zone of [`ZONES`]: (by day, by month), each zone →
/// key → bucket.
pub fn by_zone(
    calls: &[Timed],
) -> anyhow::Result<(BTreeMap<String, Buckets>, BTreeMap<String, Buckets>)> {
    let mut days = BTreeMap::new();
    let mut months = BTreeMap::new();
    for name in ZONES {
        let tz = zone(name)?;
        days.insert(name.to_string(), group(calls, &tz, Period::Day)?);
        months.insert(name.to_string(), group(calls, &tz, Period::Month)?);
    }
    Ok((days, months))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Milliseconds since the epoch of an RFC 3339 time.
    fn ms(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn date(at: &str, zone_name: &str) -> String {
        local_date(ms(at), &zone(zone_name).unwrap())
            .unwrap()
            .to_string()
    }

    #[test]
    fn new_york_days_follow_its_clock_across_the_start_of_daylight_saving_time() {
        // Before 2026-03-08T07:00Z New York is at -05:00, after it at -04:00.
        assert_eq!(
            date("2026-03-08T04:30:00Z", "America/New_York"),
            "2026-03-07"
        );
        assert_eq!(
            date("2026-03-08T06:30:00Z", "America/New_York"),
            "2026-03-08"
        );
        assert_eq!(
            date("2026-03-08T04:59:59Z", "America/New_York"),
            "2026-03-07"
        );
        assert_eq!(
            date("2026-03-08T05:00:00Z", "America/New_York"),
            "2026-03-08"
        );
        // The next midnight comes an hour earlier in UTC: 04:00Z, not 05:00Z.
        assert_eq!(
            date("2026-03-09T03:59:59Z", "America/New_York"),
            "2026-03-08"
        );
        assert_eq!(
            date("2026-03-09T04:30:00Z", "America/New_York"),
            "2026-03-09"
        );
        assert_eq!(date("2026-03-09T04:30:00Z", "UTC"), "2026-03-09");
        assert_eq!(date("2026-03-09T03:30:00Z", "UTC"), "2026-03-09");
    }

    #[test]
    fn berlin_midnight_moves_from_23_to_22_utc_on_march_29() {
        assert_eq!(date("2026-03-28T22:30:00Z", "Europe/Berlin"), "2026-03-28");
        assert_eq!(date("2026-03-28T23:00:00Z", "Europe/Berlin"), "2026-03-29");
        assert_eq!(date("2026-03-29T22:30:00Z", "Europe/Berlin"), "2026-03-30");
        assert_eq!(date("2026-03-29T21:59:59Z", "Europe/Berlin"), "2026-03-29");
    }

    #[test]
    fn kolkata_is_half_an_hour_off_the_hour() {
        // +05:30: midnight is 18:30Z.
        assert_eq!(date("2026-03-10T18:29:59Z", "Asia/Kolkata"), "2026-03-10");
        assert_eq!(date("2026-03-10T18:30:00Z", "Asia/Kolkata"), "2026-03-11");
    }

    #[test]
    fn a_zone_the_database_lacks_is_an_error_naming_it() {
        let err = zone("Not/AZone").unwrap_err().to_string();
        assert!(err.contains("Not/AZone"), "{err}");
    }

    #[test]
    fn calls_are_grouped_by_local_day_and_month_with_every_category() {
        let usage = Usage {
            input_tokens: 10,
            output_tokens: 2,
            cache_read_input_tokens: 100,
            ..Usage::default()
        };
        let calls = [
            Timed {
                at_ms: ms("2026-03-31T23:30:00Z"),
                category: Category::UserTurn,
                usage,
            },
            Timed {
                at_ms: ms("2026-04-01T03:30:00Z"),
                category: Category::Compaction,
                usage,
            },
        ];
        let ny = zone("America/New_York").unwrap();
        let days = group(&calls, &ny, Period::Day).unwrap();
        assert_eq!(days.keys().collect::<Vec<_>>(), ["2026-03-31"]);
        let day = &days["2026-03-31"];
        assert_eq!(day.tokens.requests, 2);
        assert_eq!(day.tokens.cache_read_input_tokens, 200);
        assert_eq!(day.by_category.len(), 8);
        assert_eq!(day.by_category["compaction"].requests, 1);
        assert_eq!(day.by_category["dream"].requests, 0);
        let months = group(&calls, &TimeZone::UTC, Period::Month).unwrap();
        assert_eq!(months.keys().collect::<Vec<_>>(), ["2026-03", "2026-04"]);
        let (by_day, by_month) = by_zone(&calls).unwrap();
        assert_eq!(by_day.len(), ZONES.len());
        assert_eq!(by_day["UTC"].len(), 2);
        assert_eq!(by_day["Asia/Kolkata"].len(), 1);
        assert_eq!(by_month["America/New_York"].len(), 1);
    }

    #[test]
    fn a_bucket_serializes_flat_with_its_categories() {
        let mut bucket = Bucket::default();
        bucket.add(
            &Usage {
                output_tokens: 3,
                ..Usage::default()
            },
            Category::Subagent,
        );
        let json = serde_json::to_value(&bucket).unwrap();
        assert_eq!(json["requests"], 1);
        assert_eq!(json["output_tokens"], 3);
        assert_eq!(json["by_category"]["subagent"]["output_tokens"], 3);
        let back: Bucket = serde_json::from_value(json).unwrap();
        assert_eq!(back, bucket);
    }
}
