//! The per-trace attribution pass: every call gets its final category, turn and cost.
//!
//! Only model calls are attributed; requests that are not (connectivity probes, model lists,
//! token counting, auth) are set apart in [`AttributedTrace::other_requests`].
//!
//! Category: the agent's own telemetry (`query_source`) where it was joined, else the rule
//! verdict recorded live. Turn: see [`super::turns`]. Cost: the price table; `None`
//! when the model has no price.

use super::cost::PriceTable;
use super::kv::{CacheKey, KvCall};
use super::telemetry_join::{self, Join, category_of_event};
use super::turns::{self, Turns};
use crate::observation::{Call, Category, TelemetryEvent};
use crate::output::trace::ReadTrace;

/// One call with everything attribution decided about it.
#[derive(Debug, Clone)]
pub struct AttributedCall<'a> {
    pub call: &'a Call,
    pub category: Category,
    /// `rule:<name>`, `telemetry:<query_source>`, `transcript:<how>` (imports) or `no-rule`.
    pub decided_by: String,
    pub telemetry: Option<&'a TelemetryEvent>,
    /// Index into the trace's turns.
    pub turn: Option<usize>,
    /// USD; `None` when the price is unknown. Calls without usage cost exactly 0.
    pub cost_usd: Option<f64>,
}

impl AttributedCall<'_> {
    /// The sub-agent type, from the agent's telemetry (`agent:builtin:general-purpose` →
    /// `general-purpose`) or an imported transcript; the wire alone does not say.
    pub fn subagent_type(&self) -> String {
        subagent_type_of(
            self.telemetry.and_then(|t| t.query_source.as_deref()),
            &self.decided_by,
        )
    }

    /// The session the call belongs to: the one its headers named, else the one its joined
    /// telemetry names (Gemini CLI sends none on the wire).
    pub fn session_id(&self) -> Option<&str> {
        self.call
            .session_id
            .as_deref()
            .or_else(|| self.telemetry.and_then(|t| t.session_id.as_deref()))
    }

    /// This call as it should be counted: the attributed category applied.
    pub fn with_category(&self) -> Call {
        let mut call = self.call.clone();
        call.category = self.category;
        call
    }
}

/// The sub-agent type a query source names (`agent:custom:reviewer` → `reviewer`), else the
/// one an import recorded in the classification (`transcript:agent:…`, or
/// `transcript:isSidechain:<type>` from the sub-agent's meta file).
pub fn subagent_type_of(query_source: Option<&str>, decided_by: &str) -> String {
    let transcript = decided_by.strip_prefix("transcript:");
    let named = query_source
        .or(transcript)
        .and_then(|s| s.strip_prefix("agent:"))
        .map(|s| s.rsplit(':').next().unwrap_or(s))
        .or_else(|| transcript.and_then(|t| t.strip_prefix("isSidechain:")))
        .filter(|s| !s.is_empty());
    named.map_or_else(|| "(type not reported)".into(), str::to_string)
}

/// Whether a rule's category says more than a telemetry `subagent` does: a sub-agent run for
/// one of the agent's own background jobs.
fn refines_subagent(rule_category: Category) -> bool {
    matches!(
        rule_category,
        Category::MemoryExtraction | Category::Dream | Category::Compaction
    )
}

/// A trace after attribution.
#[derive(Debug)]
pub struct AttributedTrace<'a> {
    pub trace: &'a ReadTrace,
    /// By start time.
    pub calls: Vec<AttributedCall<'a>>,
    pub turns: Turns,
    pub join: JoinStats,
    /// Requests that are not model calls (probes, model lists, token counting, auth), by start
    /// time: in no category, no turn and no total; reports count them apart.
    pub other_requests: Vec<&'a Call>,
}

impl<'a> AttributedTrace<'a> {
    /// The calls that held server KV, each under its attributed category (without cloning
    /// every call to apply it).
    pub fn kv_calls(&self) -> Vec<KvCall<CacheKey<'a>>> {
        self.calls
            .iter()
            .filter_map(|a| {
                KvCall::of(a.call).map(|mut k| {
                    k.category = a.category;
                    k
                })
            })
            .collect()
    }

    /// Each turn's span of time: from its first call's start to the next turn's first call's
    /// start (the trace's end for the last turn), so what a turn left behind is in its span.
    pub fn turn_spans(&self) -> Vec<(f64, f64)> {
        let starts = &self.turns.starts;
        starts
            .iter()
            .enumerate()
            .map(|(k, &start)| {
                let next = starts
                    .get(k + 1)
                    .map(|&next| self.calls[next].call.t_start)
                    .unwrap_or_else(|| self.trace.duration_s());
                (self.calls[start].call.t_start, next)
            })
            .collect()
    }
}

/// How the telemetry join went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JoinStats {
    pub api_request_events: u64,
    pub joined_by_request_id: u64,
    pub joined_by_fallback: u64,
    pub unmatched_events: u64,
}

/// Attributes one trace.
pub fn attribute<'a>(trace: &'a ReadTrace, prices: &PriceTable) -> AttributedTrace<'a> {
    let by_start = |a: &&Call, b: &&Call| a.t_start.total_cmp(&b.t_start).then(a.id.cmp(&b.id));
    let (mut calls, mut other_requests): (Vec<&Call>, Vec<&Call>) =
        trace.calls.iter().partition(|c| c.is_model_call());
    calls.sort_by(by_start);
    other_requests.sort_by(by_start);
    let Join {
        by_call,
        by_request_id,
        by_fallback,
        unmatched_events,
    } = telemetry_join::join(
        &calls,
        &trace.telemetry,
        trace.header.started_at.parse::<jiff::Timestamp>().ok(),
    );

    let mut attributed: Vec<AttributedCall<'a>> = calls
        .iter()
        .zip(&by_call)
        .map(|(call, telemetry)| {
            let (category, decided_by) = match telemetry.and_then(|t| category_of_event(t)) {
                // Gemini CLI runs its auto-memory extraction as a sub-agent: its role says
                // `subagent`, its prompt (the rule) says what for.
                Some((Category::Subagent, _)) if refines_subagent(call.category) => {
                    (call.category, call.classified_by.clone())
                }
                Some((category, source)) => (category, format!("telemetry:{source}")),
                None => (call.category, call.classified_by.clone()),
            };
            let cost_usd = match &call.usage {
                Some(usage) => prices.cost(call.model.as_deref(), usage),
                None => Some(0.0),
            };
            AttributedCall {
                call,
                category,
                decided_by,
                telemetry: *telemetry,
                turn: None,
                cost_usd,
            }
        })
        .collect();

    let categories: Vec<Category> = attributed.iter().map(|a| a.category).collect();
    let turns = turns::assign(&calls, &categories, &by_call);
    for (call, turn) in attributed.iter_mut().zip(&turns.of_call) {
        call.turn = *turn;
    }
    let api_request_events = trace
        .telemetry
        .iter()
        .filter(|e| crate::capture::telemetry::is_call_event(&e.event))
        .count() as u64;
    AttributedTrace {
        trace,
        calls: attributed,
        turns,
        join: JoinStats {
            api_request_events,
            joined_by_request_id: by_request_id,
            joined_by_fallback: by_fallback,
            unmatched_events,
        },
        other_requests,
    }
}
