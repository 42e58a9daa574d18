//! Findings: what a trace shows that its owner should know without reading the numbers.
//!
//! Memory:
//! - [`leak`]: an idle process tree (or process) whose memory keeps growing, from its idle
//!   samples ([`slope`]: the robust slope it uses);
//! - [`turn_growth`]: memory each turn keeps and never gives back;
//! - [`subagent_peak`]: a sub-agent process whose peak RSS passes a limit.
//!
//! Cost:
//! - [`idle_spend`]: background calls while the user is idle, per idle hour;
//! - [`category_jump`]: an overhead category's share of each turn jumping above the session's
//!   own baseline;
//! - [`cache_ttl`]: prompt-cache writes paid again because the prefix expired between calls.
//!
//! Every threshold is in [`Thresholds`] (documented in docs/findings.md, each a `report` flag).

pub mod cache_ttl;
pub mod category_jump;
pub mod idle_spend;
pub mod leak;
pub mod live;
pub mod slope;
pub mod subagent_peak;
#[cfg(test)]
mod tests;
pub mod turn_growth;

use serde::{Deserialize, Serialize};

use super::attribution::AttributedTrace;
use super::cost::PriceTable;
use super::summary::IMPORT_MODE;
use crate::clock::offset_to_timestamp;
use std::collections::HashMap;

use crate::observation::{MemorySample, ProcessEvent, ProcessRole};
use leak::{Leak, LeakThresholds};

/// One finding of the report's `findings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// `memory_leak`, `turn_growth`, `subagent_peak`, `idle_spend`, `category_jump` or
    /// `cache_ttl_rewrite`.
    pub kind: String,
    /// `warning` or `critical` (each kind says from where).
    pub severity: String,
    #[serde(rename = "where")]
    pub place: Place,
    /// How fast or how much, in `rate_unit`.
    pub rate: f64,
    /// `bytes_per_hour` (leaks), `bytes_per_turn`, `bytes` (a peak), `usd_per_idle_hour` or
    /// `tokens_per_idle_hour` (idle spend; tokens when a call's price is unknown),
    /// `percent_of_turn` (a category's share after a jump), `usd` or `tokens` (TTL rewrites).
    #[serde(default)]
    pub rate_unit: String,
    /// A leak's rate relative to the series' baseline (its 10th percentile), percent per hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_percent_per_hour: Option<f64>,
    /// The dollars the finding is about (spend while idle, cache writes paid again); `None`
    /// when a price is unknown or the finding is not about cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// When it began (RFC 3339), when the trace's start is known.
    pub since: Option<String>,
    /// How sure, 0 to 1: for a statistical verdict the share of judged windows (or turns) that
    /// agree; 1 for a count of what was measured.
    pub confidence: f64,
    pub detail: String,
}

impl Finding {
    /// What it is in words, then its detail: `memory leak: the agent's process tree grew …`.
    pub fn headline(&self) -> String {
        format!("{}: {}", self.kind.replace('_', " "), self.detail)
    }
}

/// `findings` critical first, in their order otherwise: how every output lists them.
pub fn most_severe_first(findings: &[Finding]) -> Vec<&Finding> {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| f.severity != "critical");
    sorted
}

/// Where a finding is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// `tree` (the agent's process tree), `process`, `session` or `trace`.
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The process's role (`main`, `subagent`, `other`), for a process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The category concerned (a jump).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The report's turn number (1-based, as in `turns`) where it began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<u32>,
    /// The session concerned, when calls named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The trace the observations are from.
    pub trace: String,
}

/// When each kind of finding is raised. Defaults: each kind's own `Default`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Thresholds {
    pub leak: LeakThresholds,
    pub turn_growth: turn_growth::TurnGrowthThresholds,
    pub subagent_peak: subagent_peak::PeakThresholds,
    pub idle_spend: idle_spend::IdleSpendThresholds,
    pub category_jump: category_jump::JumpThresholds,
    pub cache_ttl: cache_ttl::TtlThresholds,
}

/// `warning`, or `critical` when `critical`.
fn severity(critical: bool) -> String {
    match critical {
        true => "critical",
        false => "warning",
    }
    .to_string()
}

/// Every finding of one attributed trace, memory first; none for an imported history. `first_turn` is the report's index of
/// the trace's first turn (a report of several traces numbers turns across them).
pub fn of_trace(
    attributed: &AttributedTrace<'_>,
    first_turn: usize,
    prices: &PriceTable,
    thresholds: &Thresholds,
) -> Vec<Finding> {
    let trace = attributed.trace;
    // An imported history has no samples, and the time between its sessions is not time the
    // agent spent running idle: findings judge what `run` and `proxy` observed.
    if trace.header.mode == IMPORT_MODE {
        return Vec::new();
    }
    let context = Context {
        trace: trace.path.display().to_string(),
        origin: trace.header.started_at.parse().ok(),
        first_turn,
    };
    let busy: Vec<(f64, f64)> = attributed
        .calls
        .iter()
        .map(|c| (c.call.t_start, c.call.t_end.unwrap_or(c.call.t_start)))
        .collect();
    let mut findings = memory_findings(
        &context.trace,
        context.origin,
        &trace.samples,
        &busy,
        &thresholds.leak,
    );
    let roles = roles(&trace.process_events);
    for finding in &mut findings {
        if let Some(role) = finding.place.pid.and_then(|pid| roles.get(&pid)) {
            finding.place.role = Some(role.as_str().to_string());
        }
    }
    findings.extend(subagent_peak::find(
        trace,
        &context,
        &thresholds.subagent_peak,
    ));
    findings.extend(of_calls(attributed, &context, prices, thresholds));
    findings
}

/// The findings judged from the calls (and the samples around turns): memory kept per turn,
/// idle spend, category jumps, cache rewrites. The live exporter judges these as `report`
/// does, from the calls it has seen.
pub fn of_calls(
    attributed: &AttributedTrace<'_>,
    context: &Context,
    prices: &PriceTable,
    thresholds: &Thresholds,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(turn_growth::find(
        attributed,
        context,
        &thresholds.turn_growth,
    ));
    findings.extend(idle_spend::find(
        attributed,
        context,
        &thresholds.idle_spend,
    ));
    findings.extend(category_jump::find(
        attributed,
        context,
        &thresholds.category_jump,
    ));
    findings.extend(cache_ttl::find(
        attributed,
        context,
        prices,
        &thresholds.cache_ttl,
    ));
    findings
}

/// What every finder needs to say where and since when.
#[derive(Debug, Clone)]
pub struct Context {
    /// The trace's path, as the findings name it.
    pub trace: String,
    /// The wall-clock instant of the trace's offset 0.
    pub origin: Option<jiff::Timestamp>,
    /// The report's index of the trace's first turn.
    pub first_turn: usize,
}

impl Context {
    /// `t` seconds into the trace, as RFC 3339, when the trace's start is known.
    pub fn at(&self, t: f64) -> Option<String> {
        self.origin.map(|o| offset_to_timestamp(o, t).to_string())
    }

    /// The report's 1-based number of the trace's turn `index`.
    pub fn turn_number(&self, index: usize) -> u32 {
        (self.first_turn + index + 1) as u32
    }

    /// A place in this trace.
    pub fn place(&self, scope: &str) -> Place {
        Place {
            scope: scope.to_string(),
            trace: self.trace.clone(),
            ..Place::default()
        }
    }
}

/// A leak is critical from this rate on: a gigabyte an hour fills a workstation overnight.
const CRITICAL_BYTES_PER_HOUR: f64 = 1024.0 * 1024.0 * 1024.0;

/// Memory findings of one trace's `samples` (offsets from `origin`), idle being when none of
/// `busy` (the calls' start and end) is in flight: the tree's RSS, then each process's.
pub fn memory_findings(
    trace: &str,
    origin: Option<jiff::Timestamp>,
    samples: &[MemorySample],
    busy: &[(f64, f64)],
    limits: &LeakThresholds,
) -> Vec<Finding> {
    let tree: Vec<(f64, f64)> = samples.iter().map(|s| (s.t, s.rss_bytes as f64)).collect();
    let mut findings = Vec::new();
    if let Some(leak) = leak::judge(&tree, busy, limits) {
        findings.push(finding(trace, None, origin, &leak));
    }
    let mut by_pid: std::collections::BTreeMap<u32, Vec<(f64, f64)>> = Default::default();
    for sample in samples {
        for process in &sample.processes {
            by_pid
                .entry(process.pid)
                .or_default()
                .push((sample.t, process.rss_bytes as f64));
        }
    }
    // A tree of one process says the same twice: the tree's finding is enough.
    if by_pid.len() > 1 {
        for (pid, points) in &by_pid {
            if let Some(leak) = leak::judge(points, busy, limits) {
                findings.push(finding(trace, Some(*pid), origin, &leak));
            }
        }
    }
    findings
}

fn finding(trace: &str, pid: Option<u32>, origin: Option<jiff::Timestamp>, leak: &Leak) -> Finding {
    let what = match pid {
        Some(pid) => format!("process {pid}"),
        None => "the agent's process tree".to_string(),
    };
    Finding {
        kind: "memory_leak".into(),
        severity: severity(leak.bytes_per_hour >= CRITICAL_BYTES_PER_HOUR),
        place: Place {
            scope: if pid.is_some() { "process" } else { "tree" }.into(),
            pid,
            trace: trace.to_string(),
            ..Place::default()
        },
        rate: leak.bytes_per_hour,
        rate_unit: "bytes_per_hour".into(),
        rate_percent_per_hour: Some(leak.percent_per_hour),
        cost_usd: None,
        since: origin.map(|o| offset_to_timestamp(o, leak.since_s).to_string()),
        confidence: leak.windows_in_a_row as f64 / leak.windows_judged.max(1) as f64,
        detail: format!(
            "{what} grew {:.0} MiB/h ({:.0} %/h) while idle, {} idle windows in a row from {:.0} s into the trace ({} judged, {:.0} % of the windows after the warm-up)",
            leak.bytes_per_hour / 1024.0 / 1024.0,
            leak.percent_per_hour,
            leak.windows_in_a_row,
            leak.since_s,
            leak.windows_judged,
            leak.coverage * 100.0
        ),
    }
}

/// The role each process of `events` had when it joined the tree.
pub fn roles(events: &[ProcessEvent]) -> HashMap<u32, ProcessRole> {
    events
        .iter()
        .filter_map(|e| match e {
            ProcessEvent::Start { pid, role, .. } => Some((*pid, *role)),
            ProcessEvent::Exit { .. } => None,
        })
        .collect()
}
