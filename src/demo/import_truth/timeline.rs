//! When a generated history's sessions start (all four generators). The first few start at
//! fixed times within the hour between two candidate midnights — a zone's own and the one a
//! report would use at the zone's other offset, or at a rounded one: New York's last night at
//! -05:00 and first at -04:00 (clocks change on 2026-03-08), Berlin's last at +01:00 and first
//! at +02:00 (2026-03-29), Kolkata's on either side of 18:30Z (+05:30) — so that even a small
//! history's calls land on another day if grouped at the wrong offset, or by UTC date. The rest
//! spread over the month from 2026-03-08 by how much of the history is written, each within
//! minutes of a local midnight of one zone after the other.

use crate::demo::det::Rng;

const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

/// 2026-03-08T00:00:00Z: the first session starts shortly before New York's midnight (still
/// at -05:00), and the day goes on across its change to -04:00 at 07:00Z.
pub const START_MS: i64 = 1_772_928_000_000;

/// Thirty-one days, to 2026-04-08.
pub const SPAN_MS: i64 = 31 * DAY;

/// The first sessions' starts: days after [`START_MS`] and minutes after 00:00 UTC. Not in
/// time order: the most telling come first, for histories of a few sessions. Sessions may
/// overlap (several terminals at once).
const FIRST: [(i64, i64); 8] = [
    // 2026-03-08 04:20Z: 23:20 in New York on 03-07 at -05:00 (00:20 on 03-08 at -04:00).
    (0, 4 * 60 + 20),
    // 2026-03-29 22:20Z: 00:20 in Berlin on 03-30 at +02:00 (23:20 on 03-29 at +01:00).
    (21, 22 * 60 + 20),
    // 2026-03-09 04:20Z: 00:20 in New York on 03-09 at -04:00 (23:20 on 03-08 at -05:00).
    (1, 4 * 60 + 20),
    // 2026-03-28 22:20Z: 23:20 in Berlin on 03-28 at +01:00 (00:20 on 03-29 at +02:00).
    (20, 22 * 60 + 20),
    // 2026-03-14 18:10Z: 23:40 in Kolkata (00:10 at +06:00).
    (6, 18 * 60 + 10),
    // 2026-03-17 18:40Z: 00:10 in Kolkata on 03-18 (23:40 on 03-17 at +05:00).
    (9, 18 * 60 + 40),
    // 2026-03-08 06:40Z: 01:40 in New York, whose clocks jump from 02:00 to 03:00 at 07:00Z.
    (0, 6 * 60 + 40),
    // 2026-03-21 23:50Z: 23:50 in UTC.
    (13, 23 * 60 + 50),
];

/// Minutes after 00:00 UTC that sessions start shortly before, one zone after the other (each
/// [`LEAD_MINUTES`] before it): New York 04:30 (its midnight is 04:00Z at -04:00, 05:00Z at
/// -05:00: a session starts after the one and before the other), Berlin 22:30 (22:00Z at
/// +02:00, 23:00Z at +01:00), Kolkata 18:45 (midnight at 18:30Z, +05:30) and UTC 24:15: within
/// an hour of a local midnight, mostly on both sides of it.
const NEAR_MIDNIGHT: [i64; 4] = [4 * 60 + 30, 22 * 60 + 30, 18 * 60 + 45, 24 * 60 + 15];

/// How many minutes before such a time a session starts, at least and at most.
const LEAD_MINUTES: (u64, u64) = (5, 30);

/// Session start times of a history of a given size.
#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    size_bytes: u64,
    /// Sessions so far: which zone's midnight the next one is near.
    sessions: usize,
}

impl Timeline {
    pub fn new(size_bytes: u64) -> Timeline {
        Timeline {
            size_bytes,
            sessions: 0,
        }
    }

    /// When the next session starts, `written` bytes into the history and not before `after`
    /// (milliseconds since the epoch): one of the [`FIRST`] times; then at its place in the
    /// span, moved on (by less than a day) to the next time shortly before the next zone's
    /// midnight; or at `after` when sessions are so dense that the history is behind its place
    /// (they then follow each other as they come).
    pub(crate) fn next(&mut self, written: u64, after: i64, rng: &mut Rng) -> i64 {
        let index = self.sessions;
        self.sessions += 1;
        if let Some((days, minutes)) = FIRST.get(index) {
            return START_MS + days * DAY + minutes * MINUTE;
        }
        let minutes = NEAR_MIDNIGHT[index % NEAR_MIDNIGHT.len()];
        let size = i128::from(self.size_bytes.max(1));
        let share = i128::from(written.min(self.size_bytes)) * i128::from(SPAN_MS) / size;
        let target = START_MS + i64::try_from(share).unwrap_or(SPAN_MS);
        if after > target {
            return after;
        }
        let lead = rng.range(LEAD_MINUTES.0, LEAD_MINUTES.1) as i64 * MINUTE;
        let today = target.div_euclid(DAY) * DAY + minutes * MINUTE - lead;
        if today >= target { today } else { today + DAY }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::import_truth::periods::zone;

    fn ms(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn the_first_sessions_start_within_minutes_of_a_local_midnight_or_a_change_of_clocks() {
        assert_eq!(START_MS, ms("2026-03-08T00:00:00Z"));
        let mut timeline = Timeline::new(1 << 20);
        let mut rng = Rng::new(1);
        let local = |at: i64, name: &str| {
            let at = jiff::Timestamp::from_millisecond(at).unwrap();
            zone(name).unwrap().to_datetime(at).to_string()
        };
        for (zone_name, expected) in [
            ("America/New_York", "2026-03-07T23:20:00"),
            ("Europe/Berlin", "2026-03-30T00:20:00"),
            ("America/New_York", "2026-03-09T00:20:00"),
            ("Europe/Berlin", "2026-03-28T23:20:00"),
            ("Asia/Kolkata", "2026-03-14T23:40:00"),
            ("Asia/Kolkata", "2026-03-18T00:10:00"),
            ("America/New_York", "2026-03-08T01:40:00"),
            ("UTC", "2026-03-21T23:50:00"),
        ] {
            let start = timeline.next(0, START_MS, &mut rng);
            assert_eq!(local(start, zone_name), expected);
        }
        // New York's clocks jumped from 02:00 to 03:00 in the seventh one's first half hour.
        assert_eq!(
            local(ms("2026-03-08T07:00:00Z"), "America/New_York"),
            "2026-03-08T03:00:00"
        );
    }

    #[test]
    fn later_sessions_spread_over_the_span_each_within_an_hour_of_a_local_midnight() {
        let mut timeline = Timeline::new(1_000);
        let mut rng = Rng::new(3);
        for _ in FIRST {
            timeline.next(0, START_MS, &mut rng);
        }
        let zones: Vec<_> = ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "UTC"]
            .iter()
            .map(|z| zone(z).unwrap())
            .collect();
        let mut last = START_MS;
        for written in (0..=1_000).step_by(25) {
            let start = timeline.next(written, START_MS, &mut rng);
            assert!(start >= last - DAY && start < START_MS + SPAN_MS + DAY);
            last = start;
            let near = zones.iter().any(|tz| {
                let date = |minutes: i64| {
                    let at = jiff::Timestamp::from_millisecond(start + minutes * MINUTE).unwrap();
                    tz.to_datetime(at).date()
                };
                date(-60) != date(60)
            });
            assert!(near, "{start} is not within an hour of a local midnight");
        }
        assert!(last > ms("2026-04-06T00:00:00Z"), "the span is covered");
    }

    #[test]
    fn a_dense_history_goes_on_where_the_last_session_ended() {
        let mut timeline = Timeline::new(1_000);
        timeline.sessions = FIRST.len();
        let late = START_MS + 40 * DAY;
        assert_eq!(timeline.next(10, late, &mut Rng::new(1)), late);
    }

    #[test]
    fn the_same_seed_gives_the_same_starts() {
        let starts = |seed| {
            let mut timeline = Timeline::new(5_000);
            let mut rng = Rng::new(seed);
            (0..5_000)
                .step_by(500)
                .map(|w| timeline.next(w, START_MS, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(starts(9), starts(9));
    }
}
