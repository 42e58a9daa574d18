//! A scenario prepared for the inner loop: durations in seconds, token sizes as numbers ready
//! to scale, switched-off features as `None`, the price rules of each model slot looked up
//! once, and the time grids of KV and RAM.

use super::random::{Factor, RateFactor};
use super::tally::{SLOTS, SlotRules};
use crate::attribute::cost::PriceTable;
use crate::simulate::scenario::{CacheTtl, CompactionCheck, Scenario, TurnShape};

/// KV buckets per run: fine enough to see a day's shape, coarse enough to stay cheap.
pub const KV_BUCKETS: usize = 2_048;
/// RAM samples per workstation when `ram.sample_seconds` is 0.
pub const RAM_CELLS: usize = 1_024;

#[derive(Debug, Clone)]
pub struct Shape {
    pub prompt: f64,
    pub tool_calls: f64,
    pub tool_result: f64,
    pub output: f64,
    pub size: Factor,
    pub subagents: f64,
    pub utility_calls: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct Fork {
    pub instruction: u64,
    pub output: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct DreamPlan {
    pub min_s: f64,
    pub min_sessions: u32,
    pub min_session_turns: u32,
    pub instruction: u64,
    pub per_session: f64,
    pub output: u64,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    pub trials: u32,
    pub developers: u32,
    pub sessions: u32,
    pub agents: u32,
    pub daemon: bool,
    pub duration_s: f64,
    pub ttl_s: f64,
    pub hit_rate: f64,
    pub rules: SlotRules,
    pub system: u64,
    pub overhead: u64,
    pub compact_at: u64,
    pub compact_check: CompactionCheck,
    pub compaction: Fork,
    // Interactive agents.
    pub start_s: f64,
    pub start_jitter_s: f64,
    pub active_s: f64,
    pub sessions_per_day: u32,
    pub close_at_end_of_day: bool,
    pub turns_per_s: f64,
    pub rate: RateFactor,
    pub turn: Shape,
    // Daemons.
    pub wake_s: f64,
    pub wake_aligned: bool,
    pub wake_jitter_s: f64,
    pub restart_s: f64,
    pub wake: Shape,
    // Background work.
    pub extraction: Option<Fork>,
    /// Share of turns followed by an extraction (kept when extraction is off, so that the
    /// random draws are the same either way).
    pub extraction_probability: f64,
    pub dream: Option<DreamPlan>,
    pub away: Option<(f64, Fork)>,
    pub utility: Fork,
    // Sub-agents.
    pub sub_system: u64,
    pub sub_task: f64,
    pub sub_calls: f64,
    pub sub_tool_result: f64,
    pub sub_output: f64,
    pub sub_report: f64,
    pub sub_rss: Option<f64>,
    // Timing.
    pub call_s: f64,
    pub per_output_token_s: f64,
    pub tool_s: f64,
    // RAM.
    pub ram_base: f64,
    pub ram_per_turn: f64,
    pub ram_per_token: f64,
    pub ram_growth: Factor,
    pub ram_idle_per_hour: f64,
    pub leak_probability: f64,
    pub leak_per_hour: f64,
    pub leak: Factor,
    pub ram_cap: f64,
    /// Sum identical daemon wake-ups in closed form (off only to test that it changes nothing).
    pub batch_wakes: bool,
    // Grids.
    pub kv_bucket_s: f64,
    pub kv_buckets: usize,
    pub ram_cell_s: f64,
    pub ram_cells: usize,
}

fn tokens(x: f64) -> u64 {
    (x.max(0.0) + 0.5) as u64
}

fn shape(t: &TurnShape, prompt: f64, tool_calls: f64, subagents: f64, utility: f64) -> Shape {
    Shape {
        prompt,
        tool_calls,
        tool_result: t.tool_result_tokens,
        output: t.output_tokens,
        size: Factor::new(t.size_cv),
        subagents,
        utility_calls: utility,
    }
}

impl Plan {
    /// Prepares a validated scenario.
    pub fn new(s: &Scenario, prices: &PriceTable) -> Plan {
        let mut rules = SlotRules {
            long_context_above: [u64::MAX; SLOTS],
            writes_are_input: [false; SLOTS],
            ttl_1h: s.model.cache_ttl == CacheTtl::OneHour,
        };
        for (slot, model) in [&s.model.main, &s.model.small, s.subagent_model()]
            .into_iter()
            .enumerate()
        {
            if let Some(price) = prices.lookup(model) {
                // The split the tally keeps is where the lowest price tier starts.
                rules.long_context_above[slot] = price.base_limit().unwrap_or(u64::MAX);
                // A model without a cache-write price bills writes as input (LiteLLM's rule),
                // so they are counted as input.
                rules.writes_are_input[slot] = !price.prices_cache_writes();
            }
        }
        let duration_s = s.duration_s();
        let ram_cell_s = if s.ram.sample_seconds > 0.0 {
            s.ram.sample_seconds
        } else {
            duration_s / RAM_CELLS as f64
        };
        let kv_bucket_s = duration_s / KV_BUCKETS as f64;
        let t = &s.turn;
        Plan {
            seed: s.seed,
            trials: s.resolved_trials(),
            developers: s.developers(),
            sessions: s.sessions,
            agents: s.agents,
            daemon: s.daemon,
            duration_s,
            ttl_s: s.model.cache_ttl.seconds(),
            hit_rate: s.model.cache_hit_rate,
            rules,
            system: tokens(s.model.system_tokens),
            overhead: tokens(s.model.message_overhead_tokens),
            compact_at: s.compact_at_tokens(),
            compact_check: s.compaction.check,
            compaction: Fork {
                instruction: tokens(s.compaction.instruction_tokens),
                output: tokens(s.compaction.summary_tokens),
            },
            start_s: s.interactive.start_hour * 3600.0,
            start_jitter_s: s.interactive.start_jitter_hours * 3600.0,
            active_s: s.interactive.active_hours * 3600.0,
            sessions_per_day: s.interactive.sessions_per_day,
            close_at_end_of_day: s.interactive.close_at_end_of_day,
            turns_per_s: s.interactive.turns_per_hour / 3600.0,
            rate: RateFactor::new(s.interactive.turns_per_hour_cv),
            turn: shape(
                t,
                t.prompt_tokens,
                t.tool_calls,
                t.subagents,
                t.utility_calls,
            ),
            wake_s: s.wake.minutes * 60.0,
            wake_aligned: s.wake.aligned,
            wake_jitter_s: s.wake.jitter_seconds,
            restart_s: if s.wake.restart_hours > 0.0 {
                s.wake.restart_hours * 3600.0
            } else {
                f64::INFINITY
            },
            wake: shape(
                t,
                s.wake.prompt_tokens,
                s.wake.tool_calls,
                s.wake.subagents,
                s.wake.utility_calls,
            ),
            extraction: s.extraction.enabled.then(|| Fork {
                instruction: tokens(s.extraction.instruction_tokens),
                output: tokens(s.extraction.output_tokens),
            }),
            extraction_probability: s.extraction.probability,
            dream: s.dream.enabled.then(|| DreamPlan {
                min_s: s.dream.min_hours * 3600.0,
                min_sessions: s.dream.min_sessions,
                min_session_turns: s.dream.min_session_turns,
                instruction: tokens(s.dream.instruction_tokens),
                per_session: s.dream.tokens_per_session,
                output: tokens(s.dream.output_tokens),
            }),
            away: s.away_summary.enabled.then(|| {
                (
                    s.away_summary.idle_minutes * 60.0,
                    Fork {
                        instruction: tokens(s.away_summary.instruction_tokens),
                        output: tokens(s.away_summary.output_tokens),
                    },
                )
            }),
            utility: Fork {
                instruction: tokens(s.utility.input_tokens),
                output: tokens(s.utility.output_tokens),
            },
            sub_system: tokens(s.subagents.system_tokens),
            sub_task: s.subagents.task_tokens,
            sub_calls: s.subagents.calls,
            sub_tool_result: s.subagents.tool_result_tokens,
            sub_output: s.subagents.output_tokens,
            sub_report: s.subagents.report_tokens,
            sub_rss: s
                .subagents
                .separate_process
                .then_some(s.subagents.rss_bytes as f64),
            call_s: s.timing.call_seconds,
            per_output_token_s: if s.timing.output_tokens_per_second > 0.0 {
                1.0 / s.timing.output_tokens_per_second
            } else {
                0.0
            },
            tool_s: s.timing.tool_seconds,
            ram_base: s.ram.base_bytes as f64,
            ram_per_turn: s.ram.growth_per_turn_bytes,
            ram_per_token: s.ram.bytes_per_context_token,
            ram_growth: Factor::new(s.ram.growth_cv),
            ram_idle_per_hour: s.ram.idle_growth_bytes_per_hour,
            leak_probability: s.ram.leak_probability,
            leak_per_hour: s.ram.leak_bytes_per_hour,
            leak: Factor::new(s.ram.leak_cv),
            ram_cap: s.ram.process_cap_bytes as f64,
            batch_wakes: true,
            kv_bucket_s,
            kv_buckets: KV_BUCKETS,
            ram_cell_s,
            ram_cells: (duration_s / ram_cell_s).ceil().max(1.0) as usize,
        }
    }

    /// How long a call producing `output` tokens takes.
    pub fn call_duration(&self, output: u64) -> f64 {
        self.call_s + output as f64 * self.per_output_token_s
    }

    /// Agent sessions of developer `index` (the last one may have fewer).
    pub fn agents_of(&self, index: u32) -> u32 {
        let agents = self.agents.max(1);
        self.sessions
            .saturating_sub(index.saturating_mul(agents))
            .min(agents)
    }

    /// Whether the day of agent `agent` of a developer is a daemon's.
    pub fn is_daemon(&self, agent: u32) -> bool {
        self.daemon && agent == 0
    }
}
