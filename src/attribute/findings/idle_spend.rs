//! Spend while the user is idle: calls the agent made on its own — away summaries, keeping a
//! prompt cache warm, a daemon's wake-ups — with no turn of the user's in flight.
//!
//! The user is *active* from a grace period before each of their turn's calls (`user_turn`,
//! and the `subagent` calls those spawn) to the same grace after its end: the title an agent
//! asks for as the prompt is sent, and the memory extraction it forks right after each
//! answer, belong to the turn, not to idle time. Every other
//! moment of the trace is *idle*, and a call of another category starting then is idle spend.
//! The rate is per idle hour, so an overnight session and a lunch break compare. A user
//! reported an idle session billing $107 in cache reads (claude-code#83095).

use super::{Context, Finding, severity};
use crate::attribute::attribution::AttributedTrace;
use crate::attribute::intervals;
use crate::observation::Category;

/// When idle spend is a finding. Defaults: [`IdleSpendThresholds::default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleSpendThresholds {
    /// Seconds before a user-turn call starts and after it ends that still count as the
    /// turn's.
    pub grace_s: f64,
    /// Idle seconds needed before judging (a few idle minutes say nothing per hour).
    pub min_idle_s: f64,
    /// Spend per idle hour, in USD, from which it is a finding…
    pub min_usd_per_idle_hour: f64,
    /// …or, when an idle call's price is unknown, tokens per idle hour.
    pub min_tokens_per_idle_hour: f64,
}

impl Default for IdleSpendThresholds {
    fn default() -> Self {
        IdleSpendThresholds {
            grace_s: 60.0,
            min_idle_s: 600.0,
            min_usd_per_idle_hour: 0.5,
            min_tokens_per_idle_hour: 1_000_000.0,
        }
    }
}

/// `seconds` as minutes, or as seconds when under two minutes.
fn duration(seconds: f64) -> String {
    match seconds < 120.0 {
        true => format!("{seconds:.0} s"),
        false => format!("{:.0} min", seconds / 60.0),
    }
}

/// Critical from this spend per idle hour: $100 over a weekend.
const CRITICAL_USD_PER_IDLE_HOUR: f64 = 2.0;

/// The finding on one trace's idle spend, if it passes `limits`.
pub fn find(
    attributed: &AttributedTrace<'_>,
    context: &Context,
    limits: &IdleSpendThresholds,
) -> Option<Finding> {
    let calls = &attributed.calls;
    let is_users = |c: Category| matches!(c, Category::UserTurn | Category::Subagent);
    let active = intervals::merged(
        calls
            .iter()
            .filter(|a| is_users(a.category))
            .map(|a| {
                let end = a.call.t_end.unwrap_or(a.call.t_start);
                (a.call.t_start - limits.grace_s, end + limits.grace_s)
            })
            .collect(),
    );
    let span = attributed.trace.duration_s();
    let within = |t: f64| t.clamp(0.0, span);
    let active_s: f64 = active.iter().map(|(s, e)| within(*e) - within(*s)).sum();
    let idle_s = (span - active_s).max(0.0);
    if idle_s < limits.min_idle_s {
        return None;
    }
    let in_active = |t: f64| {
        let k = active.partition_point(|w| w.0 <= t);
        k > 0 && t < active[k - 1].1
    };
    let idle: Vec<_> = calls
        .iter()
        .filter(|a| !is_users(a.category) && !in_active(a.call.t_start))
        .collect();
    let first = idle.first()?;
    let tokens: u64 = idle
        .iter()
        .filter_map(|a| a.call.usage.map(|u| u.total_tokens()))
        .sum();
    let usd: Option<f64> = idle.iter().map(|a| a.cost_usd).sum();
    let hours = idle_s / 3600.0;
    let (rate, unit, passes) = match usd {
        Some(usd) => (
            usd / hours,
            "usd_per_idle_hour",
            usd / hours >= limits.min_usd_per_idle_hour,
        ),
        None => (
            tokens as f64 / hours,
            "tokens_per_idle_hour",
            tokens as f64 / hours >= limits.min_tokens_per_idle_hour,
        ),
    };
    if !passes {
        return None;
    }
    let mut by_category: std::collections::BTreeMap<&str, usize> = Default::default();
    for a in &idle {
        *by_category.entry(a.category.as_str()).or_default() += 1;
    }
    let categories: Vec<String> = by_category
        .iter()
        .map(|(category, n)| format!("{category} {n}"))
        .collect();
    let spent = match usd {
        Some(usd) => format!("${usd:.2} and {tokens} tokens, ${rate:.2} per idle hour"),
        None => format!(
            "{tokens} tokens ({:.0} per idle hour; a price is unknown, so no dollars)",
            rate
        ),
    };
    Some(Finding {
        kind: "idle_spend".into(),
        severity: severity(usd.is_some_and(|_| rate >= CRITICAL_USD_PER_IDLE_HOUR)),
        place: context.place("trace"),
        rate,
        rate_unit: unit.into(),
        rate_percent_per_hour: None,
        cost_usd: usd,
        since: context.at(first.call.t_start),
        confidence: 1.0,
        detail: format!(
            "{} calls while the user was idle ({}): {spent}, over {} idle (idle: no user-turn or sub-agent call in flight, nor within {:.0} s of one)",
            idle.len(),
            categories.join(", "),
            duration(idle_s),
            limits.grace_s
        ),
    })
}
