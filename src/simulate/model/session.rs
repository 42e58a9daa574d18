//! One agent session: its conversation, its prompt cache, and what it costs in tokens, server
//! KV and client RAM, turn by turn.
//!
//! Every call re-sends the conversation. With a cache breakpoint on the last message (what
//! Claude Code does) a call reads the cached prefix, writes what the previous call added
//! (its last message, the reply, framing), and sends its own last message uncached. A prefix
//! not used for longer than the TTL is gone: the next call writes it whole. Forks
//! (extraction, dream, away summary, compaction) re-send the main prefix plus an instruction
//! and leave the conversation as it was. Sub-agents have their own conversations; the ones of
//! one turn run in parallel and are identical in size, so one is computed and counted n times.

use super::Acc;
use super::cache::PromptCache;
pub use super::draw::TurnDraw;
use super::kv::KvLane;
use super::plan::{Fork, Plan};
use super::ram::ProcessRam;
use super::random::{Streams, uniform};
use super::tally::{CallTokens, ModelSlot};
use crate::observation::Category;
use crate::simulate::scenario::CompactionCheck;

/// Mean and max prompt of a stretch of calls (one KV segment).
#[derive(Debug, Default, Clone, Copy)]
struct Prompts {
    sum: u64,
    count: u64,
    max: u64,
}

impl Prompts {
    fn push(&mut self, prompt: u64) {
        self.sum += prompt;
        self.count += 1;
        self.max = self.max.max(prompt);
    }

    fn mean(&self) -> u64 {
        self.sum.checked_div(self.count).unwrap_or(0)
    }
}

/// What the last turn and its forks held on the main lane, for summing identical wake-ups.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WakeTrace {
    pub start: f64,
    /// End of the turn's own calls (forks follow).
    pub turn_end: f64,
    pub turn_mean: u64,
    pub turn_max: u64,
    /// Largest `context + message` before a main-loop call (what compaction checks).
    pub max_pre_call: u64,
    /// Largest fork prompt after the turn (0: none).
    pub fork_max: u64,
    pub context_at_start: u64,
    /// Tokens the turn added to the conversation.
    pub added: u64,
}

/// A lane's cached prefix left resident after its last use: `(since, tokens)`.
type Resident = Option<(f64, u64)>;

pub struct Session {
    /// Conversation tokens: the cacheable part of the next main-loop call.
    pub(super) context: u64,
    /// Tokens the next user message starts with (a compaction summary).
    pub(super) carry: u64,
    pub(super) cache: PromptCache,
    /// The sub-agent system prompt, shared by this session's sub-agents.
    sub_cache: PromptCache,
    pub(super) main_lane: KvLane,
    sub_lane: KvLane,
    small_lane: KvLane,
    pub(super) main_resident: Resident,
    sub_resident: Resident,
    pub(super) process: ProcessRam,
    /// This process's growth multiplier.
    pub(super) growth: f64,
    /// Turns this session has had.
    pub turns: u32,
    /// When its last activity ended.
    pub last_end: f64,
    pub(super) trace: WakeTrace,
}

impl Session {
    /// A new session (and process) at `t`.
    pub fn start(plan: &Plan, t: f64, acc: &mut Acc, streams: &mut Streams) -> Session {
        acc.events.sessions += 1;
        acc.events.processes += 1;
        let growth = plan.ram_growth.draw(&mut streams.ram);
        let leak_roll = uniform(&mut streams.ram);
        let leak_factor = plan.leak.draw(&mut streams.ram);
        let slope = plan.ram_idle_per_hour
            + if leak_roll < plan.leak_probability {
                plan.leak_per_hour * leak_factor
            } else {
                0.0
            };
        Session {
            context: plan.system,
            carry: 0,
            cache: PromptCache::COLD,
            sub_cache: PromptCache::COLD,
            main_lane: KvLane::default(),
            sub_lane: KvLane::default(),
            small_lane: KvLane::default(),
            main_resident: None,
            sub_resident: None,
            process: ProcessRam::start(t, plan.ram_base, slope, plan.ram_cap, &acc.ram),
            growth,
            turns: 0,
            last_end: t,
            trace: WakeTrace::default(),
        }
    }

    /// The session ends at `t`: its process exits; its prefixes stay resident for their TTL.
    pub fn end(mut self, plan: &Plan, t: f64, acc: &mut Acc) {
        end_resident(
            &mut self.main_lane,
            &mut self.main_resident,
            f64::INFINITY,
            plan,
            acc,
        );
        end_resident(
            &mut self.sub_lane,
            &mut self.sub_resident,
            f64::INFINITY,
            plan,
            acc,
        );
        self.main_lane.flush(&mut acc.kv);
        self.sub_lane.flush(&mut acc.kv);
        self.small_lane.flush(&mut acc.kv);
        self.process.exit(t.max(self.last_end), &mut acc.ram);
    }

    pub fn context(&self) -> u64 {
        self.context
    }

    /// One main-loop call at `t`: returns its end and its prompt.
    fn main_call(
        &mut self,
        plan: &Plan,
        acc: &mut Acc,
        streams: &mut Streams,
        (t, category): (f64, Category),
        message: u64,
        output: u64,
    ) -> (f64, u64) {
        let end = t + plan.call_duration(output);
        let hit = plan.hit_rate >= 1.0 || uniform(&mut streams.cache) < plan.hit_rate;
        let (read, write) = self.cache.use_prefix(t, end, self.context, plan.ttl_s, hit);
        if read == 0 && self.context > 0 {
            acc.events.cache_misses += 1;
        }
        let tokens = CallTokens {
            input: message,
            write,
            read,
            output,
        };
        acc.tally
            .add(&plan.rules, category, ModelSlot::Main, 1, tokens);
        (end, self.context + message)
    }

    /// A fork of the main prefix at `t` (extraction, dream, away summary): returns its end.
    pub fn fork(
        &mut self,
        plan: &Plan,
        acc: &mut Acc,
        streams: &mut Streams,
        (t, category): (f64, Category),
        fork: Fork,
    ) -> f64 {
        let t = t.max(self.last_end);
        self.process.idle_until(t, &mut acc.ram);
        end_resident(&mut self.main_lane, &mut self.main_resident, t, plan, acc);
        let (end, prompt) = self.main_call(
            plan,
            acc,
            streams,
            (t, category),
            fork.instruction,
            fork.output,
        );
        self.main_lane.segment(&mut acc.kv, t, end, prompt, prompt);
        self.main_resident = Some((end, self.cache.cached()));
        self.process.busy_until(end, &mut acc.ram);
        self.last_end = end;
        self.trace.fork_max = self.trace.fork_max.max(prompt);
        end
    }

    /// Compaction at `t`, with `room` tokens of the pending message still fitting before the
    /// threshold: the summary then starts a new context.
    fn compact(
        &mut self,
        plan: &Plan,
        acc: &mut Acc,
        streams: &mut Streams,
        t: f64,
        room: u64,
    ) -> (f64, u64) {
        let c = plan.compaction;
        // Checked before every call, compaction happens exactly at the threshold: a reply that
        // took the conversation past it moves, with the summary, into the new context.
        let over = if plan.compact_check == CompactionCheck::EveryCall {
            self.context
                .saturating_sub(plan.compact_at.saturating_sub(c.instruction))
        } else {
            0
        };
        self.context -= over;
        let out = self.main_call(
            plan,
            acc,
            streams,
            (t, Category::Compaction),
            room + c.instruction,
            c.output,
        );
        acc.events.compactions += 1;
        self.context = plan.system;
        self.carry = c.output + plan.overhead + over;
        out
    }

    /// One turn (a user prompt or a daemon wake-up) starting at `start`; returns its end.
    pub fn turn(
        &mut self,
        plan: &Plan,
        draw: &TurnDraw,
        acc: &mut Acc,
        streams: &mut Streams,
        start: f64,
    ) -> f64 {
        let start = start.max(self.last_end);
        self.process.idle_until(start, &mut acc.ram);
        end_resident(
            &mut self.main_lane,
            &mut self.main_resident,
            start,
            plan,
            acc,
        );
        if draw.utility > 0 {
            self.utility(plan, acc, start, draw.utility);
        }
        let context_at_start = self.context;
        let mut prompts = Prompts::default();
        let mut max_pre_call = 0;
        let mut t = start;
        let limit = plan.compact_at.saturating_sub(plan.compaction.instruction);
        if plan.compact_check == CompactionCheck::TurnStart && self.context > limit {
            let (end, p) = self.compact(plan, acc, streams, t, 0);
            prompts.push(p);
            t = end;
        }
        let calls = 1 + draw.tools + u64::from(draw.subagents > 0);
        let mut added = 0;
        for j in 0..calls {
            let mut message = match j {
                0 => std::mem::take(&mut self.carry) + draw.prompt,
                1 if draw.subagents > 0 => draw.subagents * draw.sub_report,
                _ => draw.tool,
            };
            max_pre_call = max_pre_call.max(self.context + message);
            if plan.compact_check == CompactionCheck::EveryCall {
                // Bounded: each compaction frees at least the validated headroom.
                for _ in 0..1_000 {
                    let room = limit.saturating_sub(self.context);
                    if message <= room {
                        break;
                    }
                    let (end, p) = self.compact(plan, acc, streams, t, room);
                    prompts.push(p);
                    t = end;
                    message = std::mem::take(&mut self.carry) + (message - room);
                }
            }
            let (end, p) = self.main_call(
                plan,
                acc,
                streams,
                (t, Category::UserTurn),
                message,
                draw.output,
            );
            prompts.push(p);
            let grown = message + draw.output + plan.overhead;
            self.context += grown;
            added += grown;
            t = end;
            if j == 0 && draw.subagents > 0 {
                t = self.subagents(plan, acc, streams, t, draw);
            } else if j + 1 < calls {
                t += plan.tool_s;
            }
        }
        self.main_lane
            .segment(&mut acc.kv, start, t, prompts.mean(), prompts.max);
        self.main_resident = Some((t, self.cache.cached()));
        self.process.busy_until(t, &mut acc.ram);
        self.process.grow(self.turn_growth(plan, added));
        self.turns += 1;
        self.last_end = t;
        self.trace = WakeTrace {
            start,
            turn_end: t,
            turn_mean: prompts.mean(),
            turn_max: prompts.max,
            max_pre_call,
            fork_max: 0,
            context_at_start,
            added,
        };
        acc.events.turns += 1;
        t
    }

    /// RSS this process keeps after a turn that added `added` tokens.
    pub(super) fn turn_growth(&self, plan: &Plan, added: u64) -> f64 {
        self.growth * (plan.ram_per_turn + plan.ram_per_token * added as f64)
    }

    /// `n` utility calls on the small model at `t`, in parallel (no cache: small prompts).
    fn utility(&mut self, plan: &Plan, acc: &mut Acc, t: f64, n: u64) {
        let u = plan.utility;
        let tokens = CallTokens {
            input: u.instruction,
            output: u.output,
            ..CallTokens::default()
        };
        acc.tally
            .add(&plan.rules, Category::Utility, ModelSlot::Small, n, tokens);
        acc.events.utility_calls += n;
        let level = n * u.instruction;
        self.small_lane.segment(
            &mut acc.kv,
            t,
            t + plan.call_duration(u.output),
            level,
            level,
        );
    }

    /// `n` parallel sub-agents starting at `start`; returns when the last one finishes.
    fn subagents(
        &mut self,
        plan: &Plan,
        acc: &mut Acc,
        streams: &mut Streams,
        start: f64,
        draw: &TurnDraw,
    ) -> f64 {
        let n = draw.subagents;
        let (calls, task, tool, output) = (
            draw.sub_calls,
            draw.sub_task,
            draw.sub_tool,
            draw.sub_output,
        );
        let mut context = plan.sub_system;
        let mut own = PromptCache::COLD;
        let mut prompts = Prompts::default();
        let mut t = start;
        for j in 0..calls {
            let message = if j == 0 { task } else { tool };
            let end = t + plan.call_duration(output);
            let hit = plan.hit_rate >= 1.0 || uniform(&mut streams.cache) < plan.hit_rate;
            let cache = if j == 0 {
                &mut self.sub_cache
            } else {
                &mut own
            };
            let (read, write) = cache.use_prefix(t, end, context, plan.ttl_s, hit);
            if j == 0 {
                own = self.sub_cache;
            }
            if read == 0 && context > 0 {
                acc.events.cache_misses += n;
            }
            let tokens = CallTokens {
                input: message,
                write,
                read,
                output,
            };
            acc.tally
                .add(&plan.rules, Category::Subagent, ModelSlot::Sub, n, tokens);
            prompts.push(context + message);
            context += message + output + plan.overhead;
            t = end;
            if j + 1 < calls {
                t += plan.tool_s;
            }
        }
        end_resident(&mut self.sub_lane, &mut self.sub_resident, start, plan, acc);
        self.sub_lane
            .segment(&mut acc.kv, start, t, n * prompts.mean(), n * prompts.max);
        self.sub_resident = Some((t, n * own.cached()));
        if let Some(rss) = plan.sub_rss {
            acc.ram.add_span(start, t, n as f64 * rss);
            acc.events.processes += n;
        }
        acc.events.subagents += n;
        t
    }
}

/// Ends a lane's resident prefix at `until` or when its TTL runs out, whichever is first.
fn end_resident(
    lane: &mut KvLane,
    resident: &mut Resident,
    until: f64,
    plan: &Plan,
    acc: &mut Acc,
) {
    if let Some((since, level)) = resident.take() {
        let to = (since + plan.ttl_s).min(until);
        lane.segment(&mut acc.kv, since, to, level, level);
    }
}
