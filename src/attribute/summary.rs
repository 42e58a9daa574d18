//! The report model: every figure of `agentprof report`, computed from traces alone.
//!
//! Its serde shape is the spec's `agentprof.report/v1` JSON, so the JSON output is this struct
//! serialised and the terminal table reads the same numbers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::memory::{self, MemoryReport};
use super::usage_totals::UsageTotals;
use crate::clock::offset_to_timestamp;
use crate::observation::{Call, Category};
use crate::output::trace::ReadTrace;

/// The `schema` of the report JSON.
pub const REPORT_SCHEMA: &str = "agentprof.report/v1";

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema: String,
    pub source: Source,
    pub totals: UsageTotals,
    /// All eight categories, always present.
    pub categories: BTreeMap<String, UsageTotals>,
    pub models: BTreeMap<String, UsageTotals>,
    pub sessions: BTreeMap<String, UsageTotals>,
    pub subagent_types: BTreeMap<String, UsageTotals>,
    pub overhead_ratio: OverheadRatio,
    pub turns: Vec<TurnReport>,
    pub memory: MemoryReport,
    pub kv: KvReport,
    /// What the figures assume (prices, KV profile) — labelled, never hidden.
    pub assumptions: Vec<String>,
    /// Problems met while reading the input (torn lines, unknown prices …).
    pub warnings: Vec<String>,
}

/// Where the figures come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub traces: Vec<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_s: f64,
    /// Lines skipped while reading (torn last lines and damaged lines).
    pub skipped_lines: u64,
}

/// (totals − user_turn) ÷ user_turn, by tokens and by cost; `null` when undefined.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OverheadRatio {
    pub tokens: Option<f64>,
    pub cost: Option<f64>,
}

/// One user turn and what it caused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnReport {
    pub index: u32,
    pub session: Option<String>,
    pub started_at: String,
    pub user: UsageTotals,
    pub overhead: UsageTotals,
    pub by_category: BTreeMap<String, UsageTotals>,
    pub rss_growth_bytes: Option<i64>,
}

/// Server-side KV cache held for the traced calls, under an assumed model architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KvReport {
    pub profile: String,
    pub bytes_per_token: u64,
    pub peak_bytes: u64,
    pub byte_seconds: f64,
    pub by_category_byte_seconds: BTreeMap<String, f64>,
}

/// Builds the report from one or more traces.
pub fn summarize(traces: &[ReadTrace]) -> Summary {
    let mut summary = Summary {
        schema: REPORT_SCHEMA.to_string(),
        source: source(traces),
        totals: UsageTotals::default(),
        categories: Category::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), UsageTotals::default()))
            .collect(),
        models: BTreeMap::new(),
        sessions: BTreeMap::new(),
        subagent_types: BTreeMap::new(),
        overhead_ratio: OverheadRatio {
            tokens: None,
            cost: None,
        },
        turns: Vec::new(),
        memory: memory::summarize(&[]),
        kv: super::kv::summarize(traces, super::kv::DEFAULT_PROFILE),
        assumptions: Vec::new(),
        warnings: Vec::new(),
    };

    for trace in traces {
        for call in &trace.calls {
            add_call(&mut summary, call);
        }
        note_read_problems(&mut summary, trace);
    }
    let all_samples: Vec<_> = traces
        .iter()
        .flat_map(|t| t.samples.iter().cloned())
        .collect();
    summary.memory = memory::summarize(&all_samples);
    summary.overhead_ratio = overhead_ratio(&summary);
    summary.assumptions.push(format!(
        "server KV: {} bytes/token from the {} architecture profile (an assumption: the served model's architecture is not public)",
        summary.kv.bytes_per_token, summary.kv.profile
    ));
    summary
}

fn add_call(summary: &mut Summary, call: &Call) {
    // Prices arrive with the cost model; until a call's price is known its cost is unknown.
    let cost = None;
    summary.totals.add_call(call, cost);
    summary
        .categories
        .entry(call.category.as_str().to_string())
        .or_default()
        .add_call(call, cost);
    let model = call.model.clone().unwrap_or_else(|| "(none)".to_string());
    summary
        .models
        .entry(model)
        .or_default()
        .add_call(call, cost);
    let session = call
        .session_id
        .clone()
        .unwrap_or_else(|| "(none)".to_string());
    summary
        .sessions
        .entry(session)
        .or_default()
        .add_call(call, cost);
}

fn note_read_problems(summary: &mut Summary, trace: &ReadTrace) {
    let path = trace.path.display();
    if let Some(torn) = &trace.torn_last_line {
        summary.source.skipped_lines += 1;
        summary
            .warnings
            .push(format!("{path}:{}: skipped {}", torn.line, torn.reason));
    }
    for bad in trace.bad_lines.iter().take(5) {
        summary.warnings.push(format!(
            "{path}:{}: skipped unreadable line: {}",
            bad.line, bad.reason
        ));
    }
    if trace.bad_lines.len() > 5 {
        summary.warnings.push(format!(
            "{path}: {} more unreadable lines skipped",
            trace.bad_lines.len() - 5
        ));
    }
    summary.source.skipped_lines += trace.bad_lines.len() as u64;
    if trace.footer.is_none() {
        summary.warnings.push(format!(
            "{path}: no footer: the run that wrote it did not finish cleanly (figures cover what was recorded)"
        ));
    }
}

fn overhead_ratio(summary: &Summary) -> OverheadRatio {
    let user = summary
        .categories
        .get(Category::UserTurn.as_str())
        .cloned()
        .unwrap_or_default();
    let user_tokens = user.total_tokens();
    let tokens = (user_tokens > 0)
        .then(|| (summary.totals.total_tokens() - user_tokens) as f64 / user_tokens as f64);
    let cost = match (summary.totals.cost_usd, user.cost_usd) {
        (Some(total), Some(user)) if user > 0.0 => Some((total - user) / user),
        _ => None,
    };
    OverheadRatio { tokens, cost }
}

fn source(traces: &[ReadTrace]) -> Source {
    let mut started: Option<jiff::Timestamp> = None;
    let mut ended: Option<jiff::Timestamp> = None;
    for trace in traces {
        let Ok(origin) = trace.header.started_at.parse::<jiff::Timestamp>() else {
            continue;
        };
        let end = offset_to_timestamp(origin, trace.duration_s());
        started = Some(started.map_or(origin, |s| s.min(origin)));
        ended = Some(ended.map_or(end, |e| e.max(end)));
    }
    let duration_s = match (started, ended) {
        (Some(s), Some(e)) => e.duration_since(s).as_secs_f64().max(0.0),
        _ => 0.0,
    };
    Source {
        traces: traces
            .iter()
            .map(|t| t.path.display().to_string())
            .collect(),
        started_at: started.map(|t| t.to_string()),
        ended_at: ended.map(|t| t.to_string()),
        duration_s,
        skipped_lines: 0,
    }
}
