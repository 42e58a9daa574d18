//! An overhead category's share of each turn jumping above the session's own baseline: memory
//! extraction that cost a tenth of every turn now costing half, compaction running every turn.
//!
//! Each turn's share of a category is its part of the turn's cost (of its tokens when a price
//! in the trace is unknown). The *baseline* is the median share over the session's turns
//! before a window of recent turns, the *recent* share the median over that window: a median,
//! so one compaction — a legitimate one-off — moves neither. A jump needs the recent share
//! above the baseline by both a number of points and a ratio. Sessions are judged apart: each
//! is its own baseline.

use std::collections::BTreeMap;

use super::{Context, Finding, severity};
use crate::attribute::attribution::AttributedTrace;
use crate::observation::Category;

/// When a share is a jump. Defaults: [`JumpThresholds::default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JumpThresholds {
    /// Turns in the recent window.
    pub window_turns: usize,
    /// Turns before the window that make the baseline, at least.
    pub baseline_turns: usize,
    /// The recent share at least this many percentage points above the baseline…
    pub min_points: f64,
    /// …and at least this many times the baseline.
    pub min_ratio: f64,
}

impl Default for JumpThresholds {
    fn default() -> Self {
        JumpThresholds {
            window_turns: 3,
            baseline_turns: 3,
            min_points: 20.0,
            min_ratio: 2.0,
        }
    }
}

/// One finding per session and category whose share jumped.
pub fn find(
    attributed: &AttributedTrace<'_>,
    context: &Context,
    limits: &JumpThresholds,
) -> Vec<Finding> {
    let by_cost = attributed.calls.iter().all(|a| a.cost_usd.is_some());
    let turns = attributed.turns.starts.len();
    // Per turn: its session, its total, and each category's part.
    let mut weights = vec![(0.0, [0.0; 8]); turns];
    for a in &attributed.calls {
        let Some(turn) = a.turn else { continue };
        let weight = match by_cost {
            true => a.cost_usd.unwrap_or(0.0),
            false => a.call.usage.map_or(0, |u| u.total_tokens()) as f64,
        };
        weights[turn].0 += weight;
        weights[turn].1[category_index(a.category)] += weight;
    }
    let mut sessions: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (k, &start) in attributed.turns.starts.iter().enumerate() {
        let session = attributed.calls[start].call.session_id.as_deref();
        sessions.entry(session).or_default().push(k);
    }
    let what = if by_cost { "cost" } else { "tokens" };
    let mut findings = Vec::new();
    for (session, turns) in sessions {
        for (c, category) in Category::ALL.iter().enumerate() {
            if *category == Category::UserTurn {
                continue;
            }
            let shares: Vec<f64> = turns
                .iter()
                .map(|&k| match weights[k].0 > 0.0 {
                    true => weights[k].1[c] / weights[k].0 * 100.0,
                    false => 0.0,
                })
                .collect();
            let Some(jump) = judge(&shares, limits) else {
                continue;
            };
            let number = |i: usize| context.turn_number(turns[i]);
            let mut place = context.place("session");
            place.category = Some(category.as_str().to_string());
            place.turn = Some(number(jump.from));
            place.session = session.map(str::to_string);
            let since_call = attributed.turns.starts[turns[jump.from]];
            findings.push(Finding {
                kind: "category_jump".into(),
                severity: severity(jump.recent >= 50.0),
                place,
                rate: jump.recent,
                rate_unit: "percent_of_turn".into(),
                rate_percent_per_hour: None,
                cost_usd: None,
                since: context.at(attributed.calls[since_call].call.t_start),
                confidence: jump.agreeing,
                detail: format!(
                    "{} went from {:.0} % of each turn's {what} (median of turns {}–{}) to {:.0} % (median of turns {}–{}), from turn {} on",
                    category.as_str(),
                    jump.baseline,
                    number(0),
                    number(jump.window.0 - 1),
                    jump.recent,
                    number(jump.window.0),
                    number(jump.window.1 - 1),
                    number(jump.from),
                ),
            });
        }
    }
    findings
}

fn category_index(category: Category) -> usize {
    Category::ALL
        .iter()
        .position(|c| *c == category)
        .unwrap_or(Category::ALL.len() - 1)
}

/// A jump in one series of shares.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Jump {
    /// The recent window's turns (indices, end excluded).
    window: (usize, usize),
    /// The first turn of the window above the baseline by the points.
    from: usize,
    baseline: f64,
    recent: f64,
    /// Of the turns from `from` on, the part above the baseline by the points.
    agreeing: f64,
}

/// The first window of `shares` (percent, in turn order) above the turns before it.
fn judge(shares: &[f64], limits: &JumpThresholds) -> Option<Jump> {
    let window = limits.window_turns.max(1);
    let first_start = limits.baseline_turns.max(1);
    // The baseline's shares, kept sorted as the window moves on: a session of thousands of
    // turns is judged in one pass, not by sorting every prefix again.
    let mut baseline_sorted: Vec<f64> = shares.get(..first_start)?.to_vec();
    baseline_sorted.sort_unstable_by(f64::total_cmp);
    for start in first_start..=shares.len().saturating_sub(window) {
        if start > first_start {
            let added = shares[start - 1];
            let at = baseline_sorted.partition_point(|v| v.total_cmp(&added).is_lt());
            baseline_sorted.insert(at, added);
        }
        let end = start + window;
        let baseline = median_of_sorted(&baseline_sorted);
        let mut recent_sorted = shares[start..end].to_vec();
        recent_sorted.sort_unstable_by(f64::total_cmp);
        let recent = median_of_sorted(&recent_sorted);
        let jumped =
            recent - baseline >= limits.min_points && recent >= limits.min_ratio * baseline;
        if !jumped {
            continue;
        }
        let above = |s: &f64| *s - baseline >= limits.min_points;
        let Some(first_above) = shares[start..end].iter().position(above) else {
            continue;
        };
        let from = start + first_above;
        let after = &shares[from..];
        return Some(Jump {
            window: (start, end),
            from,
            baseline,
            recent,
            agreeing: after.iter().filter(|s| above(s)).count() as f64 / after.len() as f64,
        });
    }
    None
}

/// The median of values in ascending order (0 of none).
fn median_of_sorted(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_that_stays_up_is_a_jump_from_its_first_turn() {
        let shares = [8.0, 10.0, 9.0, 11.0, 40.0, 45.0, 42.0, 44.0];
        let jump = judge(&shares, &JumpThresholds::default()).unwrap();
        // The first window above: turns 3–5 (11, 40, 45) over the baseline of turns 0–2.
        assert_eq!(jump.window, (3, 6));
        assert_eq!((jump.baseline, jump.recent), (9.0, 40.0));
        assert_eq!(jump.from, 4);
        assert_eq!(jump.agreeing, 1.0);
    }

    #[test]
    fn a_long_session_is_judged_in_one_pass_with_the_same_answer() {
        // 20 000 turns at 10 %, then a jump to 60 %: found where it starts.
        let mut shares = vec![10.0; 20_000];
        shares.extend([60.0; 5]);
        let jump = judge(&shares, &JumpThresholds::default()).unwrap();
        assert_eq!(
            (jump.from, jump.baseline, jump.recent),
            (20_000, 10.0, 60.0)
        );
        // A median of an even count is the mean of the middle two.
        assert_eq!(median_of_sorted(&[1.0, 2.0, 4.0, 8.0]), 3.0);
    }

    #[test]
    fn one_compaction_or_a_small_rise_is_no_jump() {
        let limits = JumpThresholds::default();
        // One turn at 80 % (a compaction), the rest at their baseline.
        let one_off = [5.0, 6.0, 5.0, 80.0, 6.0, 5.0, 6.0];
        assert_eq!(judge(&one_off, &limits), None);
        // Doubled, but by 8 points only.
        let small = [8.0, 8.0, 8.0, 16.0, 16.0, 16.0];
        assert_eq!(judge(&small, &limits), None);
        // Too few turns for a baseline.
        assert_eq!(judge(&[5.0, 60.0, 60.0, 60.0], &limits), None);
    }
}
