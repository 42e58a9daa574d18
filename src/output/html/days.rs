//! The report's calendar for the per-day charts: every day from the first call's to the last's
//! in the report's time zone — days without calls kept, as gaps — each with its calls summed
//! over agents by category and its overhead shares, plus each agent's totals.
//!
//! It is read from `--by day`'s rows ([`ReportSeries::days`](super::series::ReportSeries)), so a
//! day here is a day of the terminal's `--by day` table, DST days and all: only their keys'
//! dates are stepped through here, never milliseconds.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::attribute::UsageTotals;
use crate::attribute::rows::{Row, overhead_shares};
use crate::observation::Category;

/// One day's calls, every agent's together.
#[derive(Debug, Clone, PartialEq)]
pub struct DayCalls {
    pub totals: UsageTotals,
    /// By category, in [`Category::ALL`] order.
    pub by_category: [UsageTotals; Category::ALL.len()],
    /// As [`Row::overhead_share`]: every category but `user_turn`, of the day's tokens.
    pub overhead_share: Option<f64>,
    /// As [`Row::overhead_cost_share`]: `None` when a price is unknown.
    pub overhead_cost_share: Option<f64>,
}

impl DayCalls {
    fn empty() -> DayCalls {
        DayCalls {
            totals: UsageTotals::default(),
            by_category: Default::default(),
            overhead_share: None,
            overhead_cost_share: None,
        }
    }

    fn add(&mut self, row: &Row) {
        self.totals.merge(&row.totals);
        for (i, category) in Category::ALL.into_iter().enumerate() {
            if let Some(usage) = row.by_category.get(category.as_str()) {
                self.by_category[i].merge(usage);
            }
        }
        (self.overhead_share, self.overhead_cost_share) =
            overhead_shares(&self.totals, &self.by_category[0]);
    }
}

/// One calendar day: its date and its calls, if it had any.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub date: Date,
    pub calls: Option<DayCalls>,
}

/// One agent's calls over the whole calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentDays {
    pub agent: String,
    /// Days on which it made calls.
    pub active_days: usize,
    pub totals: UsageTotals,
    pub overhead_share: Option<f64>,
    pub overhead_cost_share: Option<f64>,
    user: UsageTotals,
}

/// Every day from the first call's to the last's.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    /// The IANA time zone the days are read in.
    pub zone: String,
    pub days: Vec<Day>,
    /// In name order.
    pub agents: Vec<AgentDays>,
    /// Calls of rows whose key is not a date (none are expected): kept so nothing is lost.
    pub undated: UsageTotals,
}

impl Calendar {
    /// The calendar of `--by day` rows (several agents' rows of one day are summed).
    pub fn of(rows: &[Row], zone: &str) -> Calendar {
        let mut dated: BTreeMap<Date, DayCalls> = BTreeMap::new();
        let mut agents: BTreeMap<&str, AgentDays> = BTreeMap::new();
        let mut undated = UsageTotals::default();
        for row in rows {
            let Ok(date) = row.key.parse::<Date>() else {
                undated.merge(&row.totals);
                continue;
            };
            dated.entry(date).or_insert_with(DayCalls::empty).add(row);
            let agent = agents.entry(&row.agent).or_insert_with(|| AgentDays {
                agent: row.agent.clone(),
                active_days: 0,
                totals: UsageTotals::default(),
                overhead_share: None,
                overhead_cost_share: None,
                user: UsageTotals::default(),
            });
            agent.active_days += 1;
            agent.totals.merge(&row.totals);
            if let Some(user) = row.by_category.get(Category::UserTurn.as_str()) {
                agent.user.merge(user);
            }
            (agent.overhead_share, agent.overhead_cost_share) =
                overhead_shares(&agent.totals, &agent.user);
        }
        Calendar {
            zone: zone.to_string(),
            days: every_day(dated),
            agents: agents.into_values().collect(),
            undated,
        }
    }

    /// Days that had calls.
    pub fn active_days(&self) -> usize {
        self.days.iter().filter(|d| d.calls.is_some()).count()
    }

    /// Every day's calls summed (and the undated ones): the report's totals.
    pub fn total(&self) -> UsageTotals {
        let mut total = self.undated.clone();
        for calls in self.days.iter().filter_map(|d| d.calls.as_ref()) {
            total.merge(&calls.totals);
        }
        total
    }
}

/// The days with calls, and every day between them without.
fn every_day(mut dated: BTreeMap<Date, DayCalls>) -> Vec<Day> {
    let (Some(&first), Some(&last)) = (dated.keys().next(), dated.keys().next_back()) else {
        return Vec::new();
    };
    let mut days = Vec::new();
    let mut date = first;
    loop {
        days.push(Day {
            date,
            calls: dated.remove(&date),
        });
        match date.tomorrow() {
            Ok(next) if next <= last => date = next,
            _ => break,
        }
    }
    days
}

/// The time zone named in the report's `rows_by`. A name that is not an IANA one (`UTC+05:30`)
/// is how a report names a system zone without one: that zone, then.
pub fn zone_of(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or_else(|_| TimeZone::system())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jiff::civil::date;

    /// A row of `key` by `agent`: `user` and `other` (memory extraction) tokens and costs.
    pub(crate) fn row(
        key: &str,
        agent: &str,
        user: (u64, Option<f64>),
        other: (u64, Option<f64>),
    ) -> Row {
        let bucket = |(tokens, cost): (u64, Option<f64>)| UsageTotals {
            requests: 1,
            input_tokens: tokens,
            cost_usd: cost,
            ..UsageTotals::default()
        };
        let mut by_category: BTreeMap<String, UsageTotals> = Category::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), UsageTotals::default()))
            .collect();
        by_category.insert("user_turn".into(), bucket(user));
        by_category.insert("memory_extraction".into(), bucket(other));
        let mut totals = bucket(user);
        totals.merge(&bucket(other));
        let (overhead_share, overhead_cost_share) = overhead_shares(&totals, &bucket(user));
        Row {
            key: key.to_string(),
            agent: agent.to_string(),
            started_at: None,
            totals,
            by_category,
            by_model: None,
            overhead_share,
            overhead_cost_share,
        }
    }

    #[test]
    fn every_day_between_the_first_and_the_last_is_there_and_agents_add_up() {
        let rows = [
            row("2026-02-27", "codex", (30, Some(3.0)), (10, Some(1.0))),
            row(
                "2026-03-02",
                "claude-code",
                (10, Some(1.0)),
                (30, Some(3.0)),
            ),
            row("2026-03-02", "codex", (60, Some(6.0)), (0, Some(0.0))),
        ];
        let calendar = Calendar::of(&rows, "UTC");
        let dates: Vec<Date> = calendar.days.iter().map(|d| d.date).collect();
        assert_eq!(
            dates,
            [
                date(2026, 2, 27),
                date(2026, 2, 28),
                date(2026, 3, 1),
                date(2026, 3, 2)
            ]
        );
        assert_eq!(calendar.active_days(), 2);
        assert!(calendar.days[1].calls.is_none() && calendar.days[2].calls.is_none());
        let second = calendar.days[3].calls.as_ref().unwrap();
        assert_eq!(second.totals.total_tokens(), 100);
        assert_eq!(second.totals.cost_usd, Some(10.0));
        // The shares of the sum, not the mean of the agents' shares.
        assert_eq!(second.overhead_share, Some(0.3));
        assert_eq!(second.overhead_cost_share, Some(0.3));
        assert_eq!(calendar.total().cost_usd, Some(14.0));
        let agents: Vec<(&str, usize)> = calendar
            .agents
            .iter()
            .map(|a| (a.agent.as_str(), a.active_days))
            .collect();
        assert_eq!(agents, [("claude-code", 1), ("codex", 2)]);
        assert_eq!(calendar.agents[1].overhead_share, Some(0.1));
    }

    #[test]
    fn an_unpriced_agent_makes_its_day_unpriced_and_no_rows_no_days() {
        let rows = [
            row("2026-03-02", "a", (10, Some(1.0)), (30, None)),
            row("2026-03-02", "b", (60, Some(6.0)), (0, Some(0.0))),
        ];
        let calendar = Calendar::of(&rows, "UTC");
        let day = calendar.days[0].calls.as_ref().unwrap();
        assert_eq!(day.totals.cost_usd, None);
        assert_eq!(day.overhead_cost_share, None);
        assert_eq!(day.by_category[0].cost_usd, Some(7.0));
        assert!(Calendar::of(&[], "UTC").days.is_empty());
    }

    #[test]
    fn days_of_23_and_25_hours_are_one_day_each_as_by_day_reads_them() {
        use crate::attribute::period::TimeWindow;
        use crate::attribute::rows::{Columns, RowBy, RowFact, RowsBuilder, RowsSpec};
        use crate::observation::{Call, Usage};
        let mut rows = RowsBuilder::new(&RowsSpec {
            by: RowBy::Day,
            columns: Columns::Category,
            zone: TimeZone::get("America/New_York").unwrap(),
            window: TimeWindow::all(),
        });
        let mut call = Call::blank();
        call.usage = Some(Usage {
            input_tokens: 10,
            ..Usage::default()
        });
        // 2026-03-08 has 23 hours in New York, 2026-11-01 has 25: a call just after each
        // midnight and one just before the next.
        for t in [
            "2026-03-08T05:30:00Z",
            "2026-03-09T03:30:00Z",
            "2026-03-09T04:30:00Z",
            "2026-11-01T04:30:00Z",
            "2026-11-02T04:30:00Z",
        ] {
            let fact = RowFact {
                t_ms: t.parse::<jiff::Timestamp>().unwrap().as_millisecond(),
                agent: "claude-code",
                project: None,
                session: None,
                model: None,
                category: Category::UserTurn,
                turn: None,
            };
            rows.add(&fact, &call, Some(1.0));
        }
        let calendar = Calendar::of(&rows.finish(|_| None), "America/New_York");
        let active: Vec<(String, u64)> = calendar
            .days
            .iter()
            .filter_map(|d| Some((d.date.to_string(), d.calls.as_ref()?.totals.requests)))
            .collect();
        assert_eq!(
            active,
            [
                ("2026-03-08".to_string(), 2),
                ("2026-03-09".to_string(), 1),
                ("2026-11-01".to_string(), 2)
            ]
        );
        // Every day from March 8 to November 1, counted by date: 239 days.
        assert_eq!(calendar.days.len(), 239);
        assert_eq!(calendar.days[238].date, date(2026, 11, 1));
    }

    #[test]
    fn a_zone_label_without_a_name_is_the_system_zone() {
        assert_eq!(zone_of("Asia/Kolkata").iana_name(), Some("Asia/Kolkata"));
        assert_eq!(zone_of("UTC+05:30"), TimeZone::system());
    }
}
