//! The report model: every figure of `agentprof report`, computed from traces alone.
//!
//! Its serde shape is the spec's `agentprof.report/v1` JSON, so the JSON output is this struct
//! serialised and the terminal table reads the same numbers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::attribution::{AttributedTrace, JoinStats, attribute};
use super::cost::PriceTable;
use super::findings::{self, Finding, Thresholds};
use super::kv::{KvFigures, KvProfile, server_kv_of};
use super::memory::{self, MemoryReport};
use super::memory_attribution::MemoryAttribution;
use super::memory_growth;
use super::other_requests::OtherRequests;
use super::rows::{Row, RowFact, RowsBuilder, RowsBy, RowsSpec};
use super::usage_totals::{Buckets, UsageTotals};
use crate::capture::transcripts::ImportReport;
use crate::clock::offset_to_timestamp;
use crate::observation::Category;
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
    /// Calls by the agent's own name for what each was for, where its telemetry was joined:
    /// Gemini CLI's `role` (`main`, `utility_router`, `utility_compressor`, …), Claude Code's
    /// `query_source`. Absent when no telemetry named any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub agent_roles: BTreeMap<String, UsageTotals>,
    pub overhead_ratio: OverheadRatio,
    pub turns: Vec<TurnReport>,
    pub memory: MemoryReport,
    pub kv: KvReport,
    /// What the trace shows its owner should know: memory leaks, spend while idle, jumps,
    /// cache rewrites ([`findings`](super::findings)).
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Requests that are not model calls (probes, model lists, token counting, auth): in no
    /// category, turn or total.
    #[serde(default)]
    pub other_requests: OtherRequests,
    /// How calls got their category: the agent's telemetry, a rule, or nothing.
    pub classification: Classification,
    /// Which price table the costs come from.
    pub prices: PricesLabel,
    /// What the figures assume (prices, KV profile) — labelled, never hidden.
    pub assumptions: Vec<String>,
    /// Problems met while reading the input (torn lines, unknown prices …).
    pub warnings: Vec<String>,
    /// What `import` read: files, versions, duplicates and damage (absent for other sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportReport>,
    /// An import of every agent (`import` with no agent name): what each agent's import read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<ImportReport>,
    /// What `rows` are keyed by, in which time zone, over which days.
    pub rows_by: RowsBy,
    /// The calls grouped by `rows_by` (and agent); they sum to `totals`.
    pub rows: Vec<Row>,
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
    pub by_category: Buckets,
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
    /// While calls were in flight, and while cached prefixes stayed resident for their TTL.
    pub in_flight_byte_seconds: f64,
    pub resident_byte_seconds: f64,
    /// The assumption, spelled out (architecture and formula).
    pub assumption: String,
}

/// How many calls each method labelled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// `telemetry`, `rule`, `transcript`, `unclassified`.
    pub by_method: BTreeMap<String, u64>,
    /// Each telemetry query_source or rule name, with its count.
    pub by_decider: BTreeMap<String, u64>,
    pub telemetry_events: u64,
    pub joined_by_request_id: u64,
    pub joined_by_fallback: u64,
    pub unmatched_telemetry_events: u64,
}

/// The price table used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricesLabel {
    pub as_of: String,
    pub source: String,
}

/// What a report is computed with.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions<'a> {
    pub prices: &'a PriceTable,
    pub kv_profile: &'a KvProfile,
    /// How `rows` are grouped (`--by`, `--breakdown`, `--timezone`).
    pub rows: &'a RowsSpec,
    /// When a finding is raised (`--leak-*` and the other finding flags).
    pub findings: Thresholds,
}

/// Builds the report from one or more traces.
pub fn summarize(traces: &[ReadTrace], options: &ReportOptions<'_>) -> Summary {
    let mut summary = empty(source(traces), options);
    let mut unpriced: BTreeMap<String, u64> = BTreeMap::new();
    let mut turn_growths = Vec::new();
    let mut memory = MemoryAttribution::default();
    let mut rows = RowsBuilder::new(options.rows);
    for trace in traces {
        let attributed = attribute(trace, options.prices);
        add_calls(&mut summary, &attributed, &mut unpriced);
        for request in &attributed.other_requests {
            summary.other_requests.add(request);
        }
        let first_turn = summary.turns.len();
        add_turns(&mut summary, &attributed, &mut turn_growths);
        add_rows(&mut rows, &attributed, first_turn);
        add_classification(&mut summary.classification, &attributed);
        add_kv(&mut summary.kv, &attributed, options.kv_profile);
        memory.add(trace, &attributed);
        summary.findings.extend(findings::of_trace(
            &attributed,
            first_turn,
            options.prices,
            &options.findings,
        ));
        note_read_problems(&mut summary, trace);
    }

    summary.memory = memory.finish(traces, &turn_growths);
    // Every imported agent's limits, once each (an import of every agent has several).
    let mut limits: Vec<&str> = Vec::new();
    for trace in traces.iter().filter(|t| t.header.mode == IMPORT_MODE) {
        for limit in import_limits(&trace.header.command) {
            if !limits.contains(limit) {
                limits.push(limit);
            }
        }
    }
    let imported = (!limits.is_empty()).then_some(limits.as_slice());
    summary.rows = rows.finish(|t| summary.turns.get(t).map(|turn| turn.started_at.clone()));
    finish(&mut summary, unpriced, imported);
    summary
}

/// Adds a trace's calls to the rows, each at its own wall-clock time (the HTML page's days are
/// summed by this too, so they are `--by day`'s rows exactly).
pub(crate) fn add_rows(
    rows: &mut RowsBuilder,
    attributed: &AttributedTrace<'_>,
    first_turn: usize,
) {
    let header = &attributed.trace.header;
    let origin_ms = header
        .started_at
        .parse::<jiff::Timestamp>()
        .map_or(0, |t| t.as_millisecond());
    let trace_agent = agent_of_trace(&header.mode, &header.command);
    for a in &attributed.calls {
        let call = a.call;
        let agent = trace_agent
            .or_else(|| crate::agents::name_of_rule(&call.classified_by))
            .unwrap_or("unknown");
        let fact = RowFact {
            t_ms: origin_ms + (call.t_start * 1000.0).round() as i64,
            agent,
            project: call.project.as_deref().or(header.cwd.as_deref()),
            session: a.session_id(),
            model: call.model.as_deref(),
            category: a.category,
            turn: a.turn.map(|t| first_turn + t),
        };
        rows.add(&fact, call, a.cost_usd);
    }
}

/// The one agent every call of a trace is from, when the trace says: an import's agent, or the
/// known agent `run` ran. A trace of a script or the demo may hold several: their calls are
/// told apart by the rule that classified each.
fn agent_of_trace<'a>(mode: &str, command: &'a [String]) -> Option<&'a str> {
    if mode == IMPORT_MODE {
        return command
            .get(2)
            .map(|name| crate::agents::name_of_import(name));
    }
    if mode == "run" {
        return command
            .first()
            .and_then(|program| crate::agents::name_of_program(program));
    }
    None
}

/// The `mode` of a trace written by `import`.
pub const IMPORT_MODE: &str = "import";

/// A report with no calls yet: every category present and empty.
pub(crate) fn empty(source: Source, options: &ReportOptions<'_>) -> Summary {
    Summary {
        schema: REPORT_SCHEMA.to_string(),
        source,
        totals: UsageTotals::default(),
        categories: Category::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), UsageTotals::default()))
            .collect(),
        models: BTreeMap::new(),
        sessions: BTreeMap::new(),
        subagent_types: BTreeMap::new(),
        agent_roles: BTreeMap::new(),
        overhead_ratio: OverheadRatio {
            tokens: None,
            cost: None,
        },
        turns: Vec::new(),
        memory: memory::summarize(&[]),
        findings: Vec::new(),
        kv: KvReport {
            profile: options.kv_profile.name.to_string(),
            bytes_per_token: options.kv_profile.bytes_per_token(),
            peak_bytes: 0,
            byte_seconds: 0.0,
            by_category_byte_seconds: BTreeMap::new(),
            in_flight_byte_seconds: 0.0,
            resident_byte_seconds: 0.0,
            assumption: options.kv_profile.describe(),
        },
        other_requests: OtherRequests::default(),
        classification: Classification::default(),
        prices: PricesLabel {
            as_of: options.prices.as_of().to_string(),
            source: options.prices.source().to_string(),
        },
        assumptions: Vec::new(),
        warnings: Vec::new(),
        import: None,
        imports: Vec::new(),
        rows_by: options.rows.describe(),
        rows: Vec::new(),
    }
}

/// What every report ends with: the overhead ratio, unpriced models, the assumptions made —
/// and, for imported history, what a transcript cannot show.
pub(crate) fn finish(
    summary: &mut Summary,
    unpriced: BTreeMap<String, u64>,
    imported: Option<&[&str]>,
) {
    summary.overhead_ratio = overhead_ratio(summary);
    for (model, calls) in unpriced {
        summary
            .warnings
            .push(super::cost::unpriced_warning(&model, Some(calls)));
    }
    summary.assumptions.push(super::cost::prices_assumption(
        &summary.prices.as_of,
        &summary.prices.source,
    ));
    summary.assumptions.push(format!(
        "server KV: {} — an assumption: the served model's architecture is not public",
        summary.kv.assumption
    ));
    if let Some(limits) = imported {
        summary
            .assumptions
            .extend(limits.iter().map(|s| s.to_string()));
    }
}

/// What an import from Claude Code's transcripts cannot see or count right.
pub const IMPORT_LIMITS: [&str; 3] = [
    "imported from Claude Code transcripts: jobs that run without a transcript (memory extraction, some utility calls) never reach them and are invisible here; only a live `agentprof run` sees them",
    "transcript token counts written before Claude Code 2.1.97 held stream placeholders and under-state input",
    "imported calls have no memory samples (memory figures are null) and their times are when the transcript was written",
];

/// What an import from Codex's rollouts cannot see or count right.
pub const CODEX_IMPORT_LIMITS: [&str; 3] = [
    "imported from Codex rollouts: calls of threads that keep no rollout (the memories pipeline, extraction and consolidation both; ephemeral and prewarm requests) never reach them and are invisible here; only a live `agentprof run` sees them",
    "a rollout records a call's usage when it completed, not when it was sent: imported calls have no duration, and reasoning tokens are inside output_tokens (shown apart as reasoning_output_tokens)",
    "imported calls have no memory samples (memory figures are null) and their times are when the rollout was written",
];

/// What an import from Gemini CLI's chat files cannot see or count right.
pub const GEMINI_IMPORT_LIMITS: [&str; 3] = [
    "imported from Gemini CLI chat files: they record only the model turns of the conversation and its sub-agents; no utility call is recorded (model router, chat compression and its verify call, loop detection, tool-output and session summaries, next-speaker check, web search and fetch, edit fixer, auto-memory extraction), nor retries and failed calls: the import undercounts by exactly those; only a live `agentprof run` sees them",
    "a chat file records a call's usage when its response was complete, not when it was sent, nor its latency, request id or served model version: imported calls have no duration and no request id, their model is the one Gemini CLI asked for; thoughts are inside output_tokens (shown apart as reasoning_output_tokens) and the tool-use prompt inside input_tokens (shown apart as tool_use_input_tokens)",
    "imported calls have no memory samples (memory figures are null) and their times are when the chat file was written",
];

/// What an import from opencode's database cannot see or count right.
pub const OPENCODE_IMPORT_LIMITS: [&str; 3] = [
    "imported from opencode's database: title calls are not stored (a small model titles each session; only the title is kept), nor retries and calls that failed before their usage came: the import undercounts by exactly those; only a live `agentprof run` sees them",
    "opencode records a call's usage when its response was complete, not when it was sent, nor its latency, request id or cache-write TTL: imported calls have no duration and no request id, cache writes are counted as 5-minute ones, their model is opencode's model id (a variant such as gpt-5.6-terra-pro, not the wire model); reasoning is inside output_tokens (shown apart as reasoning_output_tokens)",
    "imported calls have no memory samples (memory figures are null) and their times are when opencode recorded them",
];

/// The limits an import trace's command names (`agentprof import codex …`, gemini, or
/// claude-code).
fn import_limits(command: &[String]) -> &'static [&'static str] {
    match command.get(2).map(String::as_str) {
        Some("codex") => &CODEX_IMPORT_LIMITS,
        Some("gemini") => &GEMINI_IMPORT_LIMITS,
        Some("opencode") => &OPENCODE_IMPORT_LIMITS,
        _ => &IMPORT_LIMITS,
    }
}

fn add_calls(
    summary: &mut Summary,
    attributed: &AttributedTrace<'_>,
    unpriced: &mut BTreeMap<String, u64>,
) {
    for a in &attributed.calls {
        let call = a.call;
        if a.cost_usd.is_none() {
            *unpriced
                .entry(call.model.clone().unwrap_or_else(|| "(none)".into()))
                .or_default() += 1;
        }
        summary.totals.add_call(call, a.cost_usd);
        summary
            .categories
            .entry(a.category.as_str().to_string())
            .or_default()
            .add_call(call, a.cost_usd);
        let model = call.model.clone().unwrap_or_else(|| "(none)".to_string());
        summary
            .models
            .entry(model)
            .or_default()
            .add_call(call, a.cost_usd);
        let session = a.session_id().unwrap_or("(none)").to_string();
        summary
            .sessions
            .entry(session)
            .or_default()
            .add_call(call, a.cost_usd);
        if let Some(role) = a.telemetry.and_then(|t| t.query_source.as_deref()) {
            summary
                .agent_roles
                .entry(role.to_string())
                .or_default()
                .add_call(call, a.cost_usd);
        }
        if a.category == Category::Subagent {
            summary
                .subagent_types
                .entry(a.subagent_type())
                .or_default()
                .add_call(call, a.cost_usd);
        }
    }
}

fn add_turns(summary: &mut Summary, attributed: &AttributedTrace<'_>, growths: &mut Vec<i64>) {
    let trace = attributed.trace;
    let origin = trace.header.started_at.parse::<jiff::Timestamp>().ok();
    let first_index = summary.turns.len();
    let spans = attributed.turn_spans();
    for (k, (&start, &(t_start, t_next))) in attributed.turns.starts.iter().zip(&spans).enumerate()
    {
        let first = attributed.calls[start].call;
        let rss_growth_bytes = memory_growth::growth(&trace.samples, t_start, t_next);
        if let Some(growth) = rss_growth_bytes {
            growths.push(growth);
        }
        summary.turns.push(TurnReport {
            index: (first_index + k + 1) as u32,
            session: first.session_id.clone(),
            started_at: origin
                .map(|o| offset_to_timestamp(o, t_start).to_string())
                .unwrap_or_default(),
            user: UsageTotals::default(),
            overhead: UsageTotals::default(),
            by_category: Buckets::default(),
            rss_growth_bytes,
        });
    }
    for a in &attributed.calls {
        let Some(turn) = a.turn else { continue };
        let report = &mut summary.turns[first_index + turn];
        if a.category.is_overhead() {
            report.overhead.add_call(a.call, a.cost_usd);
        } else {
            report.user.add_call(a.call, a.cost_usd);
        }
        report
            .by_category
            .entry_static(a.category.as_str())
            .add_call(a.call, a.cost_usd);
    }
}

/// How a call's category was decided, from its `decided_by`.
pub(crate) fn classification_method(decided_by: &str) -> &'static str {
    match decided_by.split(':').next() {
        Some("telemetry") => "telemetry",
        Some("rule") => "rule",
        Some("transcript") => "transcript",
        _ => "unclassified",
    }
}

fn add_classification(classification: &mut Classification, attributed: &AttributedTrace<'_>) {
    for a in &attributed.calls {
        let method = classification_method(&a.decided_by);
        *classification.by_method.entry(method.into()).or_default() += 1;
        *classification
            .by_decider
            .entry(a.decided_by.clone())
            .or_default() += 1;
    }
    let JoinStats {
        api_request_events,
        joined_by_request_id,
        joined_by_fallback,
        unmatched_events,
    } = attributed.join;
    classification.telemetry_events += api_request_events;
    classification.joined_by_request_id += joined_by_request_id;
    classification.joined_by_fallback += joined_by_fallback;
    classification.unmatched_telemetry_events += unmatched_events;
}

fn add_kv(kv: &mut KvReport, attributed: &AttributedTrace<'_>, profile: &KvProfile) {
    let held = attributed.kv_calls();
    merge_kv(
        kv,
        server_kv_of(held, profile, attributed.trace.duration_s(), false),
    );
}

/// Adds one trace's KV figures to the report's.
pub(crate) fn merge_kv(kv: &mut KvReport, figures: KvFigures) {
    kv.peak_bytes = kv.peak_bytes.max(figures.peak_bytes);
    kv.byte_seconds += figures.byte_seconds;
    kv.in_flight_byte_seconds += figures.in_flight_byte_seconds;
    kv.resident_byte_seconds += figures.resident_byte_seconds;
    for (category, value) in figures.by_category_byte_seconds {
        *kv.by_category_byte_seconds
            .entry(category.as_str().to_string())
            .or_default() += value;
    }
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

pub(crate) fn overhead_ratio(summary: &Summary) -> OverheadRatio {
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
