//! The report's rows: calls grouped by what the user asked (`--by day|week|month|project|
//! session|model|category|turn|agent`), each row with tokens by type, cost, every category's
//! part of it, and the overhead share — how much of that day's (or project's, or model's) bill
//! was the agent managing itself rather than answering the user.
//!
//! Rows are per key and agent: with several agents in one report (`import` with no agent
//! name), each day has a row per agent. Every call lands in exactly one row, so the rows sum
//! to the report's totals.

use std::collections::{BTreeMap, HashMap};

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::period::{Period, PeriodKeyer, TimeWindow, zone_label};
use super::usage_totals::UsageTotals;
use crate::observation::{Call, Category};

/// What rows are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowBy {
    Category,
    Model,
    Session,
    Turn,
    Day,
    Week,
    Month,
    Project,
    Agent,
}

impl RowBy {
    pub fn as_str(self) -> &'static str {
        match self {
            RowBy::Category => "category",
            RowBy::Model => "model",
            RowBy::Session => "session",
            RowBy::Turn => "turn",
            RowBy::Day => "day",
            RowBy::Week => "week",
            RowBy::Month => "month",
            RowBy::Project => "project",
            RowBy::Agent => "agent",
        }
    }

    fn period(self) -> Option<Period> {
        match self {
            RowBy::Day => Some(Period::Day),
            RowBy::Week => Some(Period::Week),
            RowBy::Month => Some(Period::Month),
            _ => None,
        }
    }
}

/// What the columns inside each row break it down by (`--breakdown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    Category,
    Model,
}

impl Columns {
    pub fn as_str(self) -> &'static str {
        match self {
            Columns::Category => "category",
            Columns::Model => "model",
        }
    }
}

/// How to build rows: the grouping, the columns, the time zone days are read in and the window.
#[derive(Debug, Clone)]
pub struct RowsSpec {
    pub by: RowBy,
    pub columns: Columns,
    pub zone: TimeZone,
    pub window: TimeWindow,
}

impl RowsSpec {
    /// By category, days in the system's time zone, every call: what a report is without flags.
    pub fn by_category() -> RowsSpec {
        RowsSpec {
            by: RowBy::Category,
            columns: Columns::Category,
            zone: TimeZone::system(),
            window: TimeWindow::all(),
        }
    }

    /// What the report's `rows_by` says about these rows.
    pub fn describe(&self) -> RowsBy {
        RowsBy {
            by: self.by.as_str().to_string(),
            timezone: zone_label(&self.zone),
            since: self.window.since.map(|d| d.to_string()),
            until: self.window.until.map(|d| d.to_string()),
            breakdown: self.columns.as_str().to_string(),
        }
    }
}

/// The report's `rows_by`: what the rows are keyed by and how days were read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowsBy {
    pub by: String,
    /// The IANA time zone days, weeks, months and `--since`/`--until` were read in.
    pub timezone: String,
    pub since: Option<String>,
    pub until: Option<String>,
    /// `category` or `model`: the terminal's columns inside each row.
    pub breakdown: String,
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The day (`2026-03-08`), week (its Monday), month (`2026-03`), project, session, model,
    /// category, turn number or agent.
    pub key: String,
    /// The agent whose calls these are (`claude-code`, `codex`, `gemini-cli`, `opencode`, or
    /// the program a live trace ran).
    pub agent: String,
    /// Turn rows: when the turn started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    pub totals: UsageTotals,
    /// Every category, present even when empty.
    pub by_category: BTreeMap<String, UsageTotals>,
    /// Every model of the row (with `--breakdown model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_model: Option<BTreeMap<String, UsageTotals>>,
    /// Tokens of every category but `user_turn` ÷ all the row's tokens; `null` with no tokens.
    pub overhead_share: Option<f64>,
    /// The same for cost; `null` when a price is unknown or the row cost nothing.
    pub overhead_cost_share: Option<f64>,
}

/// One call as rows see it.
#[derive(Debug, Clone, Copy)]
pub struct RowFact<'a> {
    /// Milliseconds since the epoch: when the call was made.
    pub t_ms: i64,
    pub agent: &'a str,
    pub project: Option<&'a str>,
    pub session: Option<&'a str>,
    pub model: Option<&'a str>,
    pub category: Category,
    /// 0-based index of the report's turn the call belongs to.
    pub turn: Option<usize>,
}

/// How rows sort: categories in their fixed order, turns by number, the rest by text (dates
/// in ISO form sort by time).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum SortKey {
    Category(usize),
    Turn(usize),
    Text(Box<str>),
}

/// A row being summed.
#[derive(Debug)]
struct Acc {
    key: SortKey,
    agent: Box<str>,
    totals: UsageTotals,
    by_category: [UsageTotals; Category::ALL.len()],
    by_model: BTreeMap<String, UsageTotals>,
}

/// Sums calls into rows.
#[derive(Debug)]
pub struct RowsBuilder {
    by: RowBy,
    columns: Columns,
    keyer: Option<PeriodKeyer>,
    index: HashMap<(SortKey, Box<str>), usize>,
    rows: Vec<Acc>,
    /// The row of the previous call: consecutive calls mostly share one.
    last: Option<usize>,
}

impl RowsBuilder {
    pub fn new(spec: &RowsSpec) -> RowsBuilder {
        RowsBuilder {
            by: spec.by,
            columns: spec.columns,
            keyer: spec
                .by
                .period()
                .map(|p| PeriodKeyer::new(p, spec.zone.clone())),
            index: HashMap::new(),
            rows: Vec::new(),
            last: None,
        }
    }

    /// Adds one call (its usage and status read from `call`) with its cost.
    pub fn add(&mut self, fact: &RowFact<'_>, call: &Call, cost: Option<f64>) {
        let row = self.row_of(fact);
        let acc = &mut self.rows[row];
        acc.totals.add_call(call, cost);
        if let Some(i) = Category::ALL.iter().position(|c| *c == fact.category) {
            acc.by_category[i].add_call(call, cost);
        }
        if self.columns == Columns::Model {
            let model = fact.model.unwrap_or(NONE);
            match acc.by_model.get_mut(model) {
                Some(bucket) => bucket.add_call(call, cost),
                None => {
                    let mut bucket = UsageTotals::default();
                    bucket.add_call(call, cost);
                    acc.by_model.insert(model.to_string(), bucket);
                }
            }
        }
    }

    fn row_of(&mut self, fact: &RowFact<'_>) -> usize {
        let text: &str;
        let key = match self.by {
            RowBy::Category => KeyRef::Category(
                Category::ALL
                    .iter()
                    .position(|c| *c == fact.category)
                    .unwrap_or(0),
            ),
            RowBy::Turn => KeyRef::Turn(fact.turn.unwrap_or(usize::MAX)),
            RowBy::Day | RowBy::Week | RowBy::Month => {
                text = match &mut self.keyer {
                    Some(keyer) => keyer.key(fact.t_ms),
                    None => NONE,
                };
                KeyRef::Text(text)
            }
            RowBy::Model => KeyRef::Text(fact.model.unwrap_or(NONE)),
            RowBy::Session => KeyRef::Text(fact.session.unwrap_or(NONE)),
            RowBy::Project => KeyRef::Text(fact.project.unwrap_or(NONE)),
            RowBy::Agent => KeyRef::Text(fact.agent),
        };
        if let Some(last) = self.last
            && key.is(&self.rows[last].key)
            && *self.rows[last].agent == *fact.agent
        {
            return last;
        }
        let owned = (key.owned(), Box::<str>::from(fact.agent));
        let next = self.rows.len();
        let row = *self.index.entry(owned.clone()).or_insert(next);
        if row == next {
            self.rows.push(Acc {
                key: owned.0,
                agent: owned.1,
                totals: UsageTotals::default(),
                by_category: Default::default(),
                by_model: BTreeMap::new(),
            });
        }
        self.last = Some(row);
        row
    }

    /// The rows, sorted by key then agent; turn rows get their turn's start from `turn_start`.
    pub fn finish(self, turn_start: impl Fn(usize) -> Option<String>) -> Vec<Row> {
        let columns = self.columns;
        let mut rows = self.rows;
        rows.sort_by(|a, b| (&a.key, &a.agent).cmp(&(&b.key, &b.agent)));
        rows.into_iter()
            .map(|acc| {
                let (key, started_at) = match &acc.key {
                    SortKey::Category(i) => (Category::ALL[*i].as_str().to_string(), None),
                    SortKey::Turn(usize::MAX) => (NONE.to_string(), None),
                    SortKey::Turn(t) => ((t + 1).to_string(), turn_start(*t)),
                    SortKey::Text(text) => (text.to_string(), None),
                };
                let (overhead_share, overhead_cost_share) =
                    overhead_shares(&acc.totals, &acc.by_category[0]);
                Row {
                    key,
                    agent: acc.agent.to_string(),
                    started_at,
                    overhead_share,
                    overhead_cost_share,
                    by_category: Category::ALL
                        .iter()
                        .zip(acc.by_category)
                        .map(|(c, totals)| (c.as_str().to_string(), totals))
                        .collect(),
                    by_model: (columns == Columns::Model).then_some(acc.by_model),
                    totals: acc.totals,
                }
            })
            .collect()
    }
}

/// The key of rows without one (no model, session, project, or a call before the first turn).
const NONE: &str = "(none)";

/// The overhead shares of a bucket `total` whose `user_turn` part is `user`: of its tokens, and
/// of its cost (`None` when a price is unknown or it cost nothing) — [`Row::overhead_share`] and
/// [`Row::overhead_cost_share`], for whoever sums rows further (the HTML page's days).
pub fn overhead_shares(total: &UsageTotals, user: &UsageTotals) -> (Option<f64>, Option<f64>) {
    let tokens = share(total.total_tokens() as f64, user.total_tokens() as f64);
    let cost = match (total.cost_usd, user.cost_usd) {
        (Some(total), Some(user)) => share(total, user),
        _ => None,
    };
    (tokens, cost)
}

/// `(total − user) ÷ total`, `None` when the total is 0.
fn share(total: f64, user: f64) -> Option<f64> {
    (total > 0.0).then(|| ((total - user) / total).clamp(0.0, 1.0))
}

/// A row key without allocating: compared to the previous row's before a map lookup.
enum KeyRef<'a> {
    Category(usize),
    Turn(usize),
    Text(&'a str),
}

impl KeyRef<'_> {
    fn is(&self, key: &SortKey) -> bool {
        match (self, key) {
            (KeyRef::Category(a), SortKey::Category(b)) | (KeyRef::Turn(a), SortKey::Turn(b)) => {
                a == b
            }
            (KeyRef::Text(a), SortKey::Text(b)) => *a == &**b,
            _ => false,
        }
    }

    fn owned(&self) -> SortKey {
        match self {
            KeyRef::Category(i) => SortKey::Category(*i),
            KeyRef::Turn(t) => SortKey::Turn(*t),
            KeyRef::Text(text) => SortKey::Text((*text).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Usage;

    fn call(input: u64, output: u64) -> Call {
        let mut call = Call::blank();
        call.usage = Some(Usage {
            input_tokens: input,
            output_tokens: output,
            ..Usage::default()
        });
        call
    }

    fn fact(t: &str, agent: &'static str, category: Category) -> RowFact<'static> {
        RowFact {
            t_ms: t.parse::<jiff::Timestamp>().unwrap().as_millisecond(),
            agent,
            project: Some("app"),
            session: None,
            model: Some("m"),
            category,
            turn: None,
        }
    }

    fn spec(by: RowBy, zone: &str) -> RowsSpec {
        RowsSpec {
            by,
            columns: Columns::Model,
            zone: TimeZone::get(zone).unwrap(),
            window: TimeWindow::all(),
        }
    }

    #[test]
    fn days_by_agent_sum_to_the_calls_with_their_overhead_share() {
        let mut rows = RowsBuilder::new(&spec(RowBy::Day, "America/New_York"));
        // 23:30 on the 7th in New York, then the 8th, twice, by two agents.
        rows.add(
            &fact("2026-03-08T04:30:00Z", "codex", Category::UserTurn),
            &call(100, 0),
            Some(1.0),
        );
        rows.add(
            &fact("2026-03-08T12:00:00Z", "claude-code", Category::UserTurn),
            &call(30, 0),
            Some(0.3),
        );
        rows.add(
            &fact(
                "2026-03-08T13:00:00Z",
                "claude-code",
                Category::MemoryExtraction,
            ),
            &call(60, 10),
            None,
        );
        rows.add(
            &fact("2026-03-08T14:00:00Z", "codex", Category::UserTurn),
            &call(5, 5),
            Some(0.1),
        );
        let rows = rows.finish(|_| None);
        let keys: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.key.as_str(), r.agent.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("2026-03-07", "codex"),
                ("2026-03-08", "claude-code"),
                ("2026-03-08", "codex")
            ]
        );
        let claude = &rows[1];
        assert_eq!(claude.totals.requests, 2);
        assert_eq!(claude.totals.total_tokens(), 100);
        assert_eq!(claude.overhead_share, Some(0.7));
        // One price unknown: the row's cost and its cost share are unknown, never 0.
        assert_eq!(claude.totals.cost_usd, None);
        assert_eq!(claude.overhead_cost_share, None);
        assert_eq!(claude.by_category.len(), Category::ALL.len());
        assert_eq!(claude.by_category["memory_extraction"].output_tokens, 10);
        assert_eq!(claude.by_model.as_ref().unwrap()["m"].requests, 2);
        assert_eq!(rows[2].overhead_share, Some(0.0));
        assert_eq!(rows[2].overhead_cost_share, Some(0.0));
    }

    #[test]
    fn turns_sort_by_number_and_calls_before_any_turn_come_last() {
        let mut rows = RowsBuilder::new(&spec(RowBy::Turn, "UTC"));
        for turn in [Some(9), None, Some(1), Some(9)] {
            let mut f = fact("2026-03-08T04:30:00Z", "a", Category::UserTurn);
            f.turn = turn;
            rows.add(&f, &call(1, 1), Some(0.0));
        }
        let rows = rows.finish(|t| Some(format!("start of {t}")));
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["2", "10", "(none)"]);
        assert_eq!(rows[1].totals.requests, 2);
        assert_eq!(rows[1].started_at.as_deref(), Some("start of 9"));
        assert_eq!(rows[2].started_at, None);
    }
}
