//! From what a trace shows to scenario settings: the workload (sizes, rates, models, cache,
//! timing, RAM) for projections, plus the replay-only settings that put the fitted workload
//! back on the trace's own clock (its duration, its sessions, where its dream fired).
//!
//! Product rules are not workload: the dream's 24-hour gate and the away-summary idle time
//! stay the scenario's for projections; only the replay uses the trace's. Background work the
//! trace never shows keeps the scenario's setting, except memory extraction, which would have
//! run after every turn if it were on.

use std::collections::BTreeMap;
use std::fmt::Display;

use super::observe::{Mean, Observed, observe};
use super::{Calibration, Fit, TraceFigures};
use crate::attribute::cost::PriceTable;
use crate::attribute::kv::KvProfile;
use crate::attribute::memory_growth::rss_at;
use crate::attribute::summary::{ReportOptions, summarize};
use crate::output::trace::ReadTrace;
use crate::simulate::scenario::Scenario;
use crate::simulate::scenario::overrides::Setting;

/// Collects settings and the record of what was fitted.
struct Fitter {
    trace: String,
    settings: Vec<Setting>,
    replay: Vec<Setting>,
    fitted: BTreeMap<String, serde_json::Value>,
}

impl Fitter {
    fn setting(&self, key: &str, value: String) -> Setting {
        Setting {
            key: key.to_string(),
            text: format!("{key}={value} (calibrated from {})", self.trace),
            value,
        }
    }

    fn set(&mut self, key: &str, value: impl Display) {
        let value = value.to_string();
        self.fitted.insert(key.to_string(), json_value(&value));
        let setting = self.setting(key, value);
        self.settings.push(setting);
    }

    fn set_mean(&mut self, key: &str, mean: &Mean) {
        if let Some(v) = mean.get() {
            self.set(key, round3(v));
        }
    }

    fn replay(&mut self, key: &str, value: impl Display) {
        let setting = self.setting(key, value.to_string());
        self.replay.push(setting);
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn json_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_string()))
}

/// Fits `base` to the trace. `Err` says why the trace cannot be fitted.
pub fn fit(trace: &ReadTrace, base: &Scenario, prices: &PriceTable) -> Result<Fit, String> {
    let o = observe(trace, prices);
    if o.turns == 0 {
        return Err("the trace has no user turns to fit a workload to".into());
    }
    let summary = summarize(
        std::slice::from_ref(trace),
        &ReportOptions {
            prices,
            kv_profile: KvProfile::default_profile(),
            rows: &crate::attribute::rows::RowsSpec::by_category(),
            findings: Default::default(),
        },
    );
    let mut f = Fitter {
        trace: trace.path.display().to_string(),
        settings: Vec::new(),
        replay: Vec::new(),
        fitted: BTreeMap::new(),
    };
    let mut notes = Vec::new();
    let turns = o.turns as f64;
    let sessions = o.turns_per_session.len().max(1);
    let window = (o.duration_s - o.first_turn_t).max(1e-3);

    models_and_cache(&mut f, &o, base);
    turn_shape(&mut f, &o, turns);
    background(&mut f, &o, base, turns, window, &mut notes);
    f.set_mean("timing.call_seconds", &o.call_seconds);
    f.set("timing.output_tokens_per_second", 0);
    f.set_mean("timing.tool_seconds", &o.tool_seconds);
    f.set(
        "interactive.turns_per_hour",
        round3(turns / (sessions as f64 * window / 3600.0)),
    );
    ram(&mut f, &o, trace, &summary, sessions, window, &mut notes);

    // The replay: the trace's sessions on one workstation, over its own window.
    f.replay("sessions", sessions);
    f.replay("agents", sessions);
    f.replay("daemon", false);
    f.replay("days", o.duration_s / 86_400.0);
    f.replay("trials", 0);
    f.replay("interactive.start_hour", o.first_turn_t / 3600.0);
    f.replay("interactive.start_jitter_hours", 0);
    f.replay("interactive.active_hours", window / 3600.0);
    f.replay("interactive.sessions_per_day", 1);
    f.replay("interactive.close_at_end_of_day", true);
    f.replay("interactive.turns_per_hour_cv", 0);
    f.replay("ram.leak_probability", 0);
    f.replay("ram.growth_cv", 0);
    f.replay("ram.sample_seconds", 0);

    let totals = &summary.totals;
    Ok(Fit {
        settings: f.settings,
        replay: f.replay,
        calibration: Calibration {
            trace: f.trace,
            fitted: f.fitted,
            notes,
        },
        trace: TraceFigures {
            requests: totals.requests,
            errors: totals.errors,
            input_tokens: totals.input_tokens,
            output_tokens: totals.output_tokens,
            cache_creation_input_tokens: totals.cache_creation_input_tokens,
            cache_read_input_tokens: totals.cache_read_input_tokens,
            cost_usd: totals.cost_usd,
            peak_rss_bytes: summary.memory.peak_rss_bytes,
        },
    })
}

fn models_and_cache(f: &mut Fitter, o: &Observed, base: &Scenario) {
    if let Some(main) = &o.main_model {
        f.set("model.main", main);
    }
    if let Some(small) = &o.small_model {
        f.set("model.small", small);
    }
    if let Some(sub) = &o.sub_model {
        let main = o.main_model.as_deref().unwrap_or(&base.model.main);
        f.set("model.subagent", if sub == main { "" } else { sub });
    }
    f.set_mean("model.system_tokens", &o.system);
    f.set_mean("model.message_overhead_tokens", &o.overhead);
    f.set("model.cache_ttl", if o.ttl_1h { "1h" } else { "5m" });
    if o.warm_calls > 0 {
        f.set(
            "model.cache_hit_rate",
            round3(o.warm_hits as f64 / o.warm_calls as f64),
        );
    }
}

fn turn_shape(f: &mut Fitter, o: &Observed, turns: f64) {
    f.set_mean("turn.prompt_tokens", &o.prompt);
    f.set_mean("turn.tool_calls", &o.tool_calls);
    f.set_mean("turn.tool_result_tokens", &o.tool_result);
    f.set_mean("turn.output_tokens", &o.output);
    let n = o.turn_sizes.len() as f64;
    let cv = if n >= 2.0 {
        let mean = o.turn_sizes.iter().sum::<f64>() / n;
        let var = o.turn_sizes.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        if mean > 0.0 { var.sqrt() / mean } else { 0.0 }
    } else {
        0.0
    };
    f.set("turn.size_cv", round3(cv));
    f.set("turn.subagents", round3(o.subagents as f64 / turns));
    f.set("turn.utility_calls", round3(o.utility.calls as f64 / turns));
    f.set_mean("utility.input_tokens", &o.utility.input);
    f.set_mean("utility.output_tokens", &o.utility.output);
    if o.subagents > 0 {
        f.set_mean("subagents.system_tokens", &o.sub_system);
        f.set_mean("subagents.task_tokens", &o.sub_task);
        f.set_mean("subagents.calls", &o.sub_calls);
        f.set_mean("subagents.tool_result_tokens", &o.sub_tool);
        f.set_mean("subagents.output_tokens", &o.sub_output);
        f.set_mean("subagents.report_tokens", &o.report);
    }
}

fn background(
    f: &mut Fitter,
    o: &Observed,
    base: &Scenario,
    turns: f64,
    window: f64,
    notes: &mut Vec<String>,
) {
    if o.extraction.calls > 0 {
        f.set("extraction.enabled", true);
        f.set(
            "extraction.probability",
            round3((o.extraction.calls as f64 / turns).min(1.0)),
        );
        f.set_mean("extraction.instruction_tokens", &o.extraction.input);
        f.set_mean("extraction.output_tokens", &o.extraction.output);
    } else {
        f.set("extraction.enabled", false);
    }
    if o.dream.calls > 0 {
        f.set_mean("dream.instruction_tokens", &o.dream.input);
        f.set_mean("dream.output_tokens", &o.dream.output);
        f.set("dream.tokens_per_session", 0);
        f.replay("dream.enabled", true);
        f.replay("dream.min_hours", window / 3600.0 / o.dream.calls as f64);
        f.replay("dream.min_sessions", 0);
        f.replay("dream.min_session_turns", o.dream_after_turns.unwrap_or(1));
    } else {
        f.replay("dream.enabled", false);
    }
    if o.away.calls > 0 {
        f.set_mean("away_summary.instruction_tokens", &o.away.input);
        f.set_mean("away_summary.output_tokens", &o.away.output);
        let busy_per_turn = o.busy.iter().map(|(s, e)| e - s).sum::<f64>() / turns;
        let idle = away_threshold(&o.turns_per_session, window, o.away.calls) - busy_per_turn;
        f.replay("away_summary.enabled", true);
        f.replay("away_summary.idle_minutes", idle.max(0.0) / 60.0);
    } else {
        f.replay("away_summary.enabled", false);
    }
    let window_tokens = base.model.context_window as f64;
    if o.compaction.calls > 0 {
        f.set_mean("compaction.summary_tokens", &o.compaction.output);
        f.set_mean("compaction.instruction_tokens", &o.compaction.input);
        let instruction = o.compaction.input.get().unwrap_or(0.0);
        let at = if o.compaction_mid_turn {
            f.set("compaction.check", "every_call");
            o.compaction_prompts.get().unwrap_or(window_tokens)
        } else {
            // Between the largest conversation that did not compact and the smallest that did.
            f.set("compaction.check", "turn_start");
            let compacted = o.compaction_contexts.iter().copied().min().unwrap_or(0) as f64;
            let kept = o
                .turn_start_contexts
                .iter()
                .copied()
                .filter(|&c| (c as f64) < compacted)
                .max()
                .map_or(compacted, |c| c as f64);
            instruction + (kept + compacted) / 2.0
        };
        f.set(
            "compaction.threshold",
            format!("{:.6}", (at / window_tokens).min(1.0)),
        );
    } else if o.max_prompt > base.compact_at_tokens() {
        let share = ((o.max_prompt as f64 * 1.01) / window_tokens).min(1.0);
        f.set("compaction.threshold", format!("{share:.6}"));
        notes.push(format!(
            "the trace's prompts reached {} tokens without compacting: threshold raised to match",
            o.max_prompt
        ));
    }
}

/// The idle gap beyond which a share of gaps gave away summaries: with `n` prompts at
/// uniform instants in `window`, E[gaps > θ] = (n − 1)(1 − θ/window)^n per session.
fn away_threshold(turns_per_session: &[u64], window: f64, observed: u64) -> f64 {
    let expected = |x: f64| -> f64 {
        turns_per_session
            .iter()
            .filter(|&&n| n >= 2)
            .map(|&n| (n - 1) as f64 * x.powi(n as i32))
            .sum()
    };
    let target = observed as f64;
    if expected(1.0) <= target {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if expected(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (1.0 - (lo + hi) / 2.0) * window
}

fn ram(
    f: &mut Fitter,
    o: &Observed,
    trace: &ReadTrace,
    summary: &crate::attribute::Summary,
    sessions: usize,
    window: f64,
    notes: &mut Vec<String>,
) {
    let (Some(peak), Some(base)) = (
        summary.memory.peak_rss_bytes,
        rss_at(&trace.samples, o.first_turn_t),
    ) else {
        notes.push("the trace has no memory samples: RAM parameters are the scenario's".into());
        return;
    };
    let slope = summary
        .memory
        .idle_growth_bytes_per_hour
        .unwrap_or(0.0)
        .max(0.0);
    let idle_s = (window - busy_within(&o.busy, o.first_turn_t, o.duration_s)).max(0.0);
    let growth = ((peak as f64 - base as f64 - slope * idle_s / 3600.0) / o.turns as f64).max(0.0);
    f.set("ram.base_bytes", base / sessions as u64);
    f.set("ram.growth_per_turn_bytes", growth.round());
    f.set("ram.bytes_per_context_token", 0);
    f.set("ram.idle_growth_bytes_per_hour", slope.round());
    let sub_rss = trace
        .samples
        .iter()
        .filter(|s| s.subagent.processes > 0)
        .map(|s| s.subagent.rss_bytes / u64::from(s.subagent.processes))
        .max();
    match sub_rss {
        Some(rss) => {
            f.set("subagents.separate_process", true);
            f.set("subagents.rss_bytes", rss);
        }
        None => f.set("subagents.separate_process", false),
    }
}

/// Time within `[from, to]` covered by at least one interval.
fn busy_within(intervals: &[(f64, f64)], from: f64, to: f64) -> f64 {
    let mut sorted: Vec<(f64, f64)> = intervals
        .iter()
        .map(|&(s, e)| (s.max(from), e.min(to)))
        .filter(|(s, e)| e > s)
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut total, mut cursor) = (0.0, f64::NEG_INFINITY);
    for (s, e) in sorted {
        let s = s.max(cursor);
        if e > s {
            total += e - s;
            cursor = e;
        }
    }
    total
}
