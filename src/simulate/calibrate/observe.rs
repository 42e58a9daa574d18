//! What a trace shows about the workload, measured call by call after attribution: the
//! main loop's prefix, messages and replies, the tool loop of each turn, the background
//! forks, sub-agents, utility calls, cache behaviour and timing.
//!
//! The main loop of a session is read as one conversation: a call's cacheable part (cache
//! read + cache write) is the conversation before its last message, so consecutive calls
//! show what each call added and the framing around it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::attribute::attribution::{AttributedCall, attribute};
use crate::attribute::cost::PriceTable;
use crate::attribute::kv::{CACHE_TTL_1H, CACHE_TTL_5M};
use crate::observation::{Category, Usage};
use crate::output::trace::ReadTrace;

/// A running mean.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mean {
    sum: f64,
    n: u64,
}

impl Mean {
    pub fn push(&mut self, x: f64) {
        self.sum += x;
        self.n += 1;
    }

    pub fn get(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
}

/// Calls of one kind: how many, mean uncached input, mean output.
#[derive(Debug, Clone, Copy, Default)]
pub struct Kind {
    pub calls: u64,
    pub input: Mean,
    pub output: Mean,
}

impl Kind {
    fn push(&mut self, u: &Usage) {
        self.calls += 1;
        self.input.push(u.input_tokens as f64);
        self.output.push(u.output_tokens as f64);
    }
}

/// Everything measured.
#[derive(Debug, Default)]
pub struct Observed {
    pub duration_s: f64,
    pub first_turn_t: f64,
    pub turns: u64,
    /// Turns per session (sessions in order of first appearance).
    pub turns_per_session: Vec<u64>,
    pub main_model: Option<String>,
    pub small_model: Option<String>,
    pub sub_model: Option<String>,
    pub system: Mean,
    pub overhead: Mean,
    pub prompt: Mean,
    pub tool_result: Mean,
    pub output: Mean,
    pub report: Mean,
    pub tool_calls: Mean,
    /// Per turn: mean (input + output) of its tool-loop calls.
    pub turn_sizes: Vec<f64>,
    pub subagents: u64,
    pub sub_calls: Mean,
    pub sub_system: Mean,
    pub sub_task: Mean,
    pub sub_tool: Mean,
    pub sub_output: Mean,
    pub utility: Kind,
    pub extraction: Kind,
    pub dream: Kind,
    /// Turns the dreaming session had had before its first dream.
    pub dream_after_turns: Option<u64>,
    pub away: Kind,
    pub compaction: Kind,
    /// The conversation (cacheable part) each compaction summarised.
    pub compaction_contexts: Vec<u64>,
    pub compaction_prompts: Mean,
    pub compaction_mid_turn: bool,
    /// The conversation at turn starts not preceded by a compaction.
    pub turn_start_contexts: Vec<u64>,
    pub max_prompt: u64,
    pub warm_calls: u64,
    pub warm_hits: u64,
    pub ttl_1h: bool,
    pub call_seconds: Mean,
    pub tool_seconds: Mean,
    pub busy: Vec<(f64, f64)>,
}

/// The previous main-loop call of a session.
struct PrevMain {
    cached: u64,
    input: u64,
    output: u64,
    category: Category,
    t_end: f64,
}

#[derive(Default)]
struct TurnObs {
    /// Main-loop calls: (input, output, t_start, t_end).
    calls: Vec<(u64, u64, f64, f64)>,
    after_compaction: bool,
    first_sub_start: Option<f64>,
    agents: BTreeSet<String>,
}

#[derive(Default)]
struct AgentObs {
    calls: u64,
}

fn most_common<'a>(models: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for m in models {
        *counts.entry(m).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(m, _)| m.to_string())
}

/// Measures a trace.
pub fn observe(trace: &ReadTrace, prices: &PriceTable) -> Observed {
    let attributed = attribute(trace, prices);
    let calls = &attributed.calls;
    let mut o = Observed {
        duration_s: trace.duration_s(),
        turns: attributed.turns.starts.len() as u64,
        ..Observed::default()
    };
    let is_main = |a: &AttributedCall<'_>| a.call.agent_id.is_none();
    o.main_model = most_common(
        calls
            .iter()
            .filter(|a| a.category == Category::UserTurn && is_main(a))
            .filter_map(|a| a.call.model.as_deref()),
    );
    o.small_model = most_common(
        calls
            .iter()
            .filter(|a| a.category == Category::Utility)
            .filter_map(|a| a.call.model.as_deref()),
    );
    o.sub_model = most_common(
        calls
            .iter()
            .filter(|a| a.category == Category::Subagent)
            .filter_map(|a| a.call.model.as_deref()),
    );
    o.first_turn_t = attributed
        .turns
        .starts
        .iter()
        .map(|&i| calls[i].call.t_start)
        .fold(f64::INFINITY, f64::min);
    let mut sessions: Vec<Option<&str>> = Vec::new();
    let mut session_turns: HashMap<Option<&str>, u64> = HashMap::new();
    for &i in &attributed.turns.starts {
        let s = calls[i].call.session_id.as_deref();
        if !sessions.contains(&s) {
            sessions.push(s);
        }
        *session_turns.entry(s).or_default() += 1;
    }
    o.turns_per_session = sessions
        .iter()
        .map(|s| session_turns.get(s).copied().unwrap_or(0))
        .collect();

    let main_model = o.main_model.clone();
    let mut prev: HashMap<Option<&str>, PrevMain> = HashMap::new();
    let mut started: HashMap<Option<&str>, u64> = HashMap::new();
    let mut turns: BTreeMap<usize, TurnObs> = BTreeMap::new();
    let mut agents: BTreeMap<&str, AgentObs> = BTreeMap::new();
    for a in calls {
        let c = a.call;
        let Some(u) = c.usage else { continue };
        let end = c.t_end.unwrap_or(c.t_start);
        o.busy.push((c.t_start, end));
        o.call_seconds.push(end - c.t_start);
        o.max_prompt = o.max_prompt.max(u.prompt_tokens());
        o.ttl_1h |= u.cache_creation_1h_input_tokens > 0;
        let cached = u.cache_read_input_tokens + u.cache_creation_input_tokens;
        if a.category == Category::Utility {
            o.utility.push(&u);
            continue;
        }
        if let Some(agent) = c.agent_id.as_deref() {
            let obs = agents.entry(agent).or_default();
            if obs.calls == 0 {
                o.sub_system.push(cached as f64);
                o.sub_task.push(u.input_tokens as f64);
            } else {
                o.sub_tool.push(u.input_tokens as f64);
            }
            obs.calls += 1;
            o.sub_output.push(u.output_tokens as f64);
            if let Some(turn) = a.turn {
                let t = turns.entry(turn).or_default();
                t.agents.insert(agent.to_string());
                t.first_sub_start.get_or_insert(c.t_start);
            }
            continue;
        }
        if c.model != main_model {
            continue;
        }
        let session = c.session_id.as_deref();
        let ttl = if o.ttl_1h { CACHE_TTL_1H } else { CACHE_TTL_5M };
        match prev.get(&session) {
            None => o.system.push(cached as f64),
            Some(p) => {
                if c.t_start - p.t_end <= ttl {
                    o.warm_calls += 1;
                    o.warm_hits += u64::from(u.cache_read_input_tokens > 0);
                }
                let grown = p.cached + p.input + p.output;
                if p.category == Category::UserTurn && cached >= grown {
                    o.overhead.push((cached - grown) as f64);
                }
            }
        }
        let after_compaction = prev
            .get(&session)
            .is_some_and(|p| p.category == Category::Compaction);
        match a.category {
            Category::UserTurn => {
                o.output.push(u.output_tokens as f64);
                if let Some(turn) = a.turn {
                    let t = turns.entry(turn).or_default();
                    if t.calls.is_empty() {
                        t.after_compaction = after_compaction;
                        *started.entry(session).or_default() += 1;
                        if !after_compaction {
                            o.turn_start_contexts.push(cached);
                        }
                    } else if after_compaction {
                        o.compaction_mid_turn = true;
                    }
                    t.calls
                        .push((u.input_tokens, u.output_tokens, c.t_start, end));
                }
            }
            Category::MemoryExtraction => o.extraction.push(&u),
            Category::AwaySummary => o.away.push(&u),
            Category::Dream => {
                o.dream.push(&u);
                if o.dream_after_turns.is_none() {
                    o.dream_after_turns = Some(started.get(&session).copied().unwrap_or(0));
                }
            }
            Category::Compaction => {
                o.compaction.push(&u);
                o.compaction_contexts.push(cached);
                o.compaction_prompts.push(u.prompt_tokens() as f64);
            }
            _ => {}
        }
        prev.insert(
            session,
            PrevMain {
                cached,
                input: u.input_tokens,
                output: u.output_tokens,
                category: a.category,
                t_end: end,
            },
        );
    }
    for obs in agents.values() {
        o.sub_calls.push(obs.calls as f64);
    }
    for t in turns.values() {
        turn_shape(&mut o, t);
    }
    o
}

/// A turn's tool loop: continuations, tool results, the sub-agent report, tool time.
fn turn_shape(o: &mut Observed, t: &TurnObs) {
    let Some(&(first_input, ..)) = t.calls.first() else {
        return;
    };
    let n_sub = t.agents.len() as u64;
    o.subagents += n_sub;
    if !t.after_compaction {
        o.prompt.push(first_input as f64);
    }
    let continuations = t.calls.len() as u64 - 1;
    o.tool_calls
        .push(continuations.saturating_sub(u64::from(n_sub > 0)) as f64);
    let mut report_seen = false;
    let mut size = Mean::default();
    for (j, &(input, output, start, _)) in t.calls.iter().enumerate().skip(1) {
        let after_subs = t.first_sub_start.is_some_and(|s| start >= s);
        if n_sub > 0 && after_subs && !report_seen {
            report_seen = true;
            o.report.push(input as f64 / n_sub as f64);
        } else {
            o.tool_result.push(input as f64);
            size.push((input + output) as f64);
        }
        let (_, _, _, prev_end) = t.calls[j - 1];
        let spanned_subs = t
            .first_sub_start
            .is_some_and(|s| s >= prev_end && s < start);
        if !spanned_subs {
            o.tool_seconds.push((start - prev_end).max(0.0));
        }
    }
    if let Some(size) = size.get() {
        o.turn_sizes.push(size);
    }
}
