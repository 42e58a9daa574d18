//! The scenario: every parameter of the simulator, as read from a TOML file or a preset.
//!
//! This module owns the parameter structs, their defaults and their serde shape (which is
//! the TOML format, documented in `docs/simulator.md`, and the `params` object of the
//! simulation JSON). `load` reads scenarios and reports errors with file and line,
//! `overrides` applies `--set` and `--sweep`, `validate` checks ranges.
//!
//! Token sizes are means (f64, so fitted values need no rounding); counts per turn are means
//! too and are drawn per turn by stochastic rounding. Defaults are the `today-200k` preset.

mod defaults;
pub mod load;
pub mod overrides;
#[cfg(test)]
mod tests;
pub mod validate;

use serde::{Deserialize, Serialize};

/// Everything the simulator needs to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Agent sessions in the fleet, running at the same time (a developer's agents count
    /// one each). Developers = sessions ÷ agents, rounded up.
    pub sessions: u32,
    /// Agent sessions one developer runs at once on one workstation (each its own process).
    pub agents: u32,
    /// Simulated days (fractional days allowed).
    pub days: f64,
    /// Monte Carlo repetitions of the whole fleet; 0 = enough that trials × developers ≥ 400.
    pub trials: u32,
    /// Seed of every random draw: the same seed gives the same output, byte for byte.
    pub seed: u64,
    /// The first agent of every developer is an always-on daemon woken by cron/proactive ticks.
    pub daemon: bool,
    /// Model architecture assumed for server KV bytes (the report's `--kv-profile` names).
    pub kv_profile: String,
    pub model: ModelParams,
    pub compaction: Compaction,
    pub interactive: Interactive,
    pub turn: TurnShape,
    pub wake: Wake,
    pub extraction: Extraction,
    pub dream: Dream,
    pub away_summary: AwaySummary,
    pub utility: Utility,
    pub subagents: Subagents,
    pub timing: Timing,
    pub ram: Ram,
}

/// Models, context window and prompt caching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelParams {
    /// Main-loop model (also every fork of the main prefix: extraction, dream, away summary,
    /// compaction), priced from the report's price table.
    pub main: String,
    /// Model of utility calls (titles, topic checks, suggestions).
    pub small: String,
    /// Model of sub-agents; empty = the main model.
    pub subagent: String,
    /// Context window in tokens.
    pub context_window: u64,
    /// System prompt plus tool definitions: the prefix every session starts with.
    pub system_tokens: f64,
    /// Framing the transcript gains per call beyond input and output (tool-use ids, JSON).
    pub message_overhead_tokens: f64,
    /// Prompt-cache TTL: `5m` or `1h`. A prefix not used for longer than this is written again.
    pub cache_ttl: CacheTtl,
    /// Probability that a prefix still within its TTL is actually found (server evictions).
    pub cache_hit_rate: f64,
}

/// Prompt-cache time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheTtl {
    #[serde(rename = "5m")]
    FiveMinutes,
    #[serde(rename = "1h")]
    OneHour,
}

impl CacheTtl {
    pub fn seconds(self) -> f64 {
        match self {
            CacheTtl::FiveMinutes => crate::attribute::kv::CACHE_TTL_5M,
            CacheTtl::OneHour => crate::attribute::kv::CACHE_TTL_1H,
        }
    }
}

/// When the context is compacted and what that costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Compaction {
    /// Compaction fires when a prompt would pass this share of the context window.
    pub threshold: f64,
    /// `every_call`: checked before every main-loop call, and the compaction prompt is exactly
    /// the threshold; `turn_start`: checked only when a turn starts.
    pub check: CompactionCheck,
    /// The summary request appended to the context.
    pub instruction_tokens: f64,
    /// The summary written (output), which then starts the new context.
    pub summary_tokens: f64,
}

/// When compaction is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompactionCheck {
    EveryCall,
    TurnStart,
}

/// When interactive sessions run and how often their user prompts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Interactive {
    /// Start of the working window, hours after midnight.
    pub start_hour: f64,
    /// Standard deviation of the start, hours (drawn per agent and day).
    pub start_jitter_hours: f64,
    /// Length of the working window, hours.
    pub active_hours: f64,
    /// New sessions an agent starts per day (the window is split evenly); 0 = one session
    /// per agent for the whole run, idle outside working hours.
    pub sessions_per_day: u32,
    /// Whether the last session of the day exits at the end of the window (else it stays
    /// open, idle, until the next session replaces it).
    pub close_at_end_of_day: bool,
    /// Mean user prompts per working hour.
    pub turns_per_hour: f64,
    /// Coefficient of variation of that rate, drawn per agent and day.
    pub turns_per_hour_cv: f64,
}

/// The shape of one user turn: a prompt, then tool-loop continuations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TurnShape {
    /// The user's prompt.
    pub prompt_tokens: f64,
    /// Tool-loop continuations per turn (each re-sends the context plus one tool result).
    pub tool_calls: f64,
    pub tool_result_tokens: f64,
    /// Output of each main-loop call.
    pub output_tokens: f64,
    /// Coefficient of variation of a turn's token sizes (one mean-1 lognormal factor a turn).
    pub size_cv: f64,
    /// Sub-agents spawned per turn (they run in parallel; their reports come back together).
    pub subagents: f64,
    /// Utility calls per turn on the small model.
    pub utility_calls: f64,
}

/// Daemon sessions: always on, woken every few minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Wake {
    /// Minutes between wake-ups.
    pub minutes: f64,
    /// All daemons wake at the same instants (cron at :00, :10, …) instead of random phases.
    pub aligned: bool,
    /// Uniform random delay added to each wake-up, seconds.
    pub jitter_seconds: f64,
    /// The daemon process restarts (new session, RAM back to base) this often; 0 = never.
    pub restart_hours: f64,
    /// Prompt of each wake-up (the cron task or proactive tick).
    pub prompt_tokens: f64,
    /// Tool-loop continuations per wake-up (sizes from `[turn]`).
    pub tool_calls: f64,
    pub subagents: f64,
    pub utility_calls: f64,
}

/// Memory extraction: a fork re-sending the main prefix after a turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Extraction {
    pub enabled: bool,
    /// Share of turns followed by an extraction.
    pub probability: f64,
    pub instruction_tokens: f64,
    pub output_tokens: f64,
}

/// Auto-dream: memory consolidation, at most once per `min_hours`, after `min_sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dream {
    pub enabled: bool,
    pub min_hours: f64,
    /// Sessions started by the agent since its last dream.
    pub min_sessions: u32,
    /// Turns the current session must have had before it dreams.
    pub min_session_turns: u32,
    pub instruction_tokens: f64,
    /// Uncached input per session scanned (transcripts and memories it reads).
    pub tokens_per_session: f64,
    pub output_tokens: f64,
}

/// Away summaries: written when the user returns after an idle gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwaySummary {
    pub enabled: bool,
    pub idle_minutes: f64,
    pub instruction_tokens: f64,
    pub output_tokens: f64,
}

/// Utility calls (small model, no cache).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Utility {
    pub input_tokens: f64,
    pub output_tokens: f64,
}

/// Sub-agents: their own contexts, optionally their own processes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Subagents {
    /// The sub-agent system prompt, cached and shared by a session's sub-agents.
    pub system_tokens: f64,
    pub task_tokens: f64,
    /// Calls per sub-agent.
    pub calls: f64,
    pub tool_result_tokens: f64,
    pub output_tokens: f64,
    /// The report each sub-agent returns, added to the parent's context.
    pub report_tokens: f64,
    /// Each sub-agent is an OS process of its own (client RAM).
    pub separate_process: bool,
    /// RSS of one sub-agent process.
    pub rss_bytes: u64,
}

/// How long calls and tools take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timing {
    /// Fixed part of a call's duration, seconds.
    pub call_seconds: f64,
    /// Output speed; 0 = the duration does not depend on output.
    pub output_tokens_per_second: f64,
    /// Tool execution between two calls of a turn, seconds.
    pub tool_seconds: f64,
}

/// Client RAM of agent processes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ram {
    /// RSS of a fresh session process.
    pub base_bytes: u64,
    /// RSS a process keeps after each turn.
    pub growth_per_turn_bytes: f64,
    /// RSS per token added to the transcript.
    pub bytes_per_context_token: f64,
    /// Coefficient of variation of growth between processes.
    pub growth_cv: f64,
    /// Growth of every process while idle.
    pub idle_growth_bytes_per_hour: f64,
    /// Share of processes that leak while idle …
    pub leak_probability: f64,
    /// … at this mean rate …
    pub leak_bytes_per_hour: f64,
    /// … with this coefficient of variation between leaking processes.
    pub leak_cv: f64,
    /// No process grows past this (it would be killed first).
    pub process_cap_bytes: u64,
    /// RAM the workstation needs besides agents: OS, IDE, browser.
    pub allowance_gib: f64,
    /// Sampling period of workstation RAM, seconds; 0 = the run's duration ÷ 1024.
    pub sample_seconds: f64,
}

impl Scenario {
    /// The model id sub-agents use.
    pub fn subagent_model(&self) -> &str {
        if self.model.subagent.is_empty() {
            &self.model.main
        } else {
            &self.model.subagent
        }
    }

    /// Developers (workstations): sessions ÷ agents, rounded up.
    pub fn developers(&self) -> u32 {
        self.sessions.div_ceil(self.agents.max(1))
    }

    /// The run's length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.days * 86_400.0
    }

    /// Monte Carlo repetitions, with 0 resolved.
    pub fn resolved_trials(&self) -> u32 {
        if self.trials > 0 {
            return self.trials;
        }
        400u32.div_ceil(self.developers().max(1)).clamp(1, 400)
    }

    /// Prompt size at which compaction fires.
    pub fn compact_at_tokens(&self) -> u64 {
        (self.model.context_window as f64 * self.compaction.threshold).round() as u64
    }
}
