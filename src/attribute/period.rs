//! Calendar periods of a call's time in the user's time zone: which day, ISO week and month it
//! belongs to, and the `--since`/`--until` window, both read in that zone.
//!
//! People read spend by their own calendar: a call at 02:30 UTC on 2026-03-08 was made on the
//! evening of 2026-03-07 in New York. Days are not 24 hours (a DST change makes one of 23 and
//! one of 25), so a period's bounds come from the time zone's rules, never from arithmetic on
//! milliseconds.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// The calendar periods rows can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// `2026-03-08`.
    Day,
    /// The Monday that starts the ISO week: `2026-03-02`.
    Week,
    /// `2026-03`.
    Month,
}

impl Period {
    /// The first day of the period holding `date`.
    fn start_of(self, date: Date) -> Date {
        match self {
            Period::Day => date,
            Period::Week => {
                let back = i64::from(date.weekday().to_monday_zero_offset());
                date.checked_sub(back.days()).unwrap_or(date)
            }
            Period::Month => date.first_of_month(),
        }
    }

    /// The first day of the next period.
    fn next(self, start: Date) -> Option<Date> {
        match self {
            Period::Day => start.tomorrow().ok(),
            Period::Week => start.checked_add(7.days()).ok(),
            Period::Month => start.last_of_month().tomorrow().ok(),
        }
    }

    /// The key of the period starting on `start`.
    fn key(self, start: Date) -> String {
        match self {
            Period::Day | Period::Week => start.to_string(),
            Period::Month => format!("{:04}-{:02}", start.year(), start.month()),
        }
    }
}

/// Finds the period of one call after another. Calls come mostly in time order, so the last
/// period's bounds are kept and most calls need no time-zone lookup at all.
#[derive(Debug)]
pub struct PeriodKeyer {
    period: Period,
    zone: TimeZone,
    /// `[start, end)` in milliseconds of the last period found, and its key.
    last: Option<(i64, i64, String)>,
}

impl PeriodKeyer {
    pub fn new(period: Period, zone: TimeZone) -> Self {
        PeriodKeyer {
            period,
            zone,
            last: None,
        }
    }

    /// The key of the period that holds the instant `ms` (milliseconds since the epoch).
    pub fn key(&mut self, ms: i64) -> &str {
        let hit = matches!(&self.last, Some((start, end, _)) if (*start..*end).contains(&ms));
        if !hit {
            self.last = Some(self.find(ms));
        }
        self.last.as_ref().map_or("", |(_, _, key)| key.as_str())
    }

    fn find(&self, ms: i64) -> (i64, i64, String) {
        let date = local_date(ms, &self.zone);
        let start = self.period.start_of(date);
        let start_ms = start_of_day_ms(start, &self.zone).unwrap_or(ms);
        let end_ms = self
            .period
            .next(start)
            .and_then(|next| start_of_day_ms(next, &self.zone))
            .unwrap_or(i64::MAX);
        // A time outside the range jiff can represent still gets a key, just not a cached one.
        if !(start_ms..end_ms).contains(&ms) {
            return (ms, ms.saturating_add(1), self.period.key(start));
        }
        (start_ms, end_ms, self.period.key(start))
    }
}

/// The calendar date of the instant `ms` in `zone`.
pub fn local_date(ms: i64, zone: &TimeZone) -> Date {
    let instant = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
    zone.to_datetime(instant).date()
}

/// The first millisecond of `date` in `zone` (midnight, or the first instant after a gap).
fn start_of_day_ms(date: Date, zone: &TimeZone) -> Option<i64> {
    let zoned = date.to_zoned(zone.clone()).ok()?;
    let start = zoned.start_of_day().ok()?;
    Some(start.timestamp().as_millisecond())
}

/// `--since` and `--until`: whole local days, both inclusive, in the report's time zone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeWindow {
    pub since: Option<Date>,
    pub until: Option<Date>,
    /// The first millisecond inside the window.
    since_ms: Option<i64>,
    /// The first millisecond after the window.
    end_ms: Option<i64>,
}

impl TimeWindow {
    /// The window from `since` through `until` in `zone`; an error when it is empty.
    pub fn new(
        since: Option<Date>,
        until: Option<Date>,
        zone: &TimeZone,
    ) -> Result<TimeWindow, String> {
        if let (Some(since), Some(until)) = (since, until)
            && until < since
        {
            return Err(format!(
                "--until {until} is before --since {since}: no day is in between"
            ));
        }
        let since_ms = since
            .map(|d| start_of_day_ms(d, zone).ok_or_else(|| format!("--since {d}: out of range")))
            .transpose()?;
        let end_ms = until
            .map(|d| {
                d.tomorrow()
                    .ok()
                    .and_then(|next| start_of_day_ms(next, zone))
                    .ok_or_else(|| format!("--until {d}: out of range"))
            })
            .transpose()?;
        Ok(TimeWindow {
            since,
            until,
            since_ms,
            end_ms,
        })
    }

    /// No bounds: every call.
    pub fn all() -> TimeWindow {
        TimeWindow::default()
    }

    /// Whether the instant `ms` is inside.
    pub fn contains(&self, ms: i64) -> bool {
        self.since_ms.is_none_or(|s| ms >= s) && self.end_ms.is_none_or(|e| ms < e)
    }

    /// Whether the instant `ms` is before the window (as opposed to after it).
    pub fn is_before(&self, ms: i64) -> bool {
        self.since_ms.is_some_and(|s| ms < s)
    }

    pub fn is_bounded(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }
}

/// The time zone of `--timezone NAME`, or the system's.
pub fn zone_named(name: Option<&str>) -> Result<TimeZone, String> {
    match name {
        Some(name) => TimeZone::get(name).map_err(|e| {
            format!("--timezone {name}: not a time zone this system knows ({e}); use an IANA name such as Europe/Berlin or UTC")
        }),
        None => Ok(TimeZone::system()),
    }
}

/// How a time zone is named in reports: its IANA name, else its offset now.
pub fn zone_label(zone: &TimeZone) -> String {
    match zone.iana_name() {
        Some(name) => name.to_string(),
        None => {
            let offset = zone.to_offset(Timestamp::now());
            format!("UTC{offset}")
        }
    }
}

/// Monday of `date`'s ISO week (for tests and callers that hold a date already).
pub fn week_start(date: Date) -> Date {
    Period::Week.start_of(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    #[test]
    fn days_follow_the_zone_across_midnight_and_dst() {
        let mut ny = PeriodKeyer::new(Period::Day, zone("America/New_York"));
        // 04:30Z on the 8th is 23:30 EST on the 7th; 06:30Z is 01:30 EST on the 8th.
        assert_eq!(ny.key(ms("2026-03-08T04:30:00Z")), "2026-03-07");
        assert_eq!(ny.key(ms("2026-03-08T06:30:00Z")), "2026-03-08");
        // The 8th has 23 hours: 03:59Z on the 9th is 23:59 EDT on the 8th.
        assert_eq!(ny.key(ms("2026-03-09T03:59:00Z")), "2026-03-08");
        assert_eq!(ny.key(ms("2026-03-09T04:00:00Z")), "2026-03-09");
        // Back in time: the cached period does not stick.
        assert_eq!(ny.key(ms("2026-03-01T12:00:00Z")), "2026-03-01");
        let mut kolkata = PeriodKeyer::new(Period::Day, zone("Asia/Kolkata"));
        assert_eq!(kolkata.key(ms("2026-03-07T18:29:59Z")), "2026-03-07");
        assert_eq!(kolkata.key(ms("2026-03-07T18:30:00Z")), "2026-03-08");
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let utc = TimeZone::UTC;
        let mut week = PeriodKeyer::new(Period::Week, utc.clone());
        // 2026-03-08 is a Sunday: its ISO week began on Monday the 2nd.
        assert_eq!(week.key(ms("2026-03-08T23:00:00Z")), "2026-03-02");
        assert_eq!(week.key(ms("2026-03-09T00:00:00Z")), "2026-03-09");
        let mut month = PeriodKeyer::new(Period::Month, zone("Europe/Berlin"));
        // 23:30Z on March 31 is already April 1 in Berlin (CEST, +02:00).
        assert_eq!(month.key(ms("2026-03-31T21:59:00Z")), "2026-03");
        assert_eq!(month.key(ms("2026-03-31T22:00:00Z")), "2026-04");
        assert_eq!(week_start(date(2026, 1, 1)), date(2025, 12, 29));
    }

    #[test]
    fn the_window_is_whole_local_days_both_inclusive() {
        let ny = zone("America/New_York");
        let window = TimeWindow::new(Some(date(2026, 3, 8)), Some(date(2026, 3, 8)), &ny).unwrap();
        assert!(!window.contains(ms("2026-03-08T04:59:59Z")));
        assert!(window.is_before(ms("2026-03-08T04:59:59Z")));
        assert!(window.contains(ms("2026-03-08T05:00:00Z")));
        // 23 hours later the day is over (DST began at 2:00 local).
        assert!(window.contains(ms("2026-03-09T03:59:59Z")));
        assert!(!window.contains(ms("2026-03-09T04:00:00Z")));
        assert!(!window.is_before(ms("2026-03-09T04:00:00Z")));
        assert!(TimeWindow::new(Some(date(2026, 3, 9)), Some(date(2026, 3, 8)), &ny).is_err());
        assert!(TimeWindow::all().contains(i64::MIN));
    }

    #[test]
    fn unknown_zones_are_errors_naming_the_flag() {
        let err = zone_named(Some("Not/AZone")).unwrap_err();
        assert!(err.starts_with("--timezone Not/AZone"), "{err}");
        assert_eq!(zone_label(&zone("Asia/Kolkata")), "Asia/Kolkata");
    }
}
