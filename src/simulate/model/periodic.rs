//! Summing a daemon's identical wake-ups in closed form.
//!
//! Within one day a daemon's wake-ups share one draw, come at a fixed interval and differ only
//! by a context that grows by the same number of tokens each time. Every token count of a
//! wake-up is then affine in its index (cache reads and writes are sums of context sizes), so
//! after two real wake-ups A and B, wake-up B+w costs exactly `B + w·(B − A)`. The same holds
//! for its KV levels and RSS growth. A batch simulates a lead-in wake-up (which settles the
//! cache after a restart or compaction) and A and B for real, then adds the rest in closed
//! form, stopping before anything that breaks the pattern: a compaction, a dream, a price-tier
//! change, a restart, the end of the day or of the run. Tokens come out identical to
//! simulating every wake-up (a test checks it); KV and RAM to within float rounding.

use super::Acc;
use super::agents::after_turn;
use super::plan::Plan;
use super::random::Streams;
use super::session::{Session, TurnDraw};
use super::tally::{Events, MainSlot, ModelSlot};
use crate::simulate::scenario::CompactionCheck;

/// Whether wake-ups with this draw can be summed: nothing random may happen inside a day.
pub fn batchable(plan: &Plan, draw: &TurnDraw) -> bool {
    plan.batch_wakes
        && plan.wake_jitter_s == 0.0
        && plan.hit_rate >= 1.0
        && draw.subagents == 0
        && draw.utility == 0
        && (plan.extraction.is_none()
            || plan.extraction_probability <= 0.0
            || plan.extraction_probability >= 1.0)
}

/// Wake-up indices `k.., ` whose time `phase + k·interval` is before `horizon`.
pub fn wakes_before(phase: f64, k: u64, interval: f64, horizon: f64) -> u64 {
    let at = |k: u64| phase + k as f64 * interval;
    let mut n = (((horizon - at(k)) / interval).ceil().max(0.0)) as u64;
    while n > 0 && at(k + n - 1) >= horizon {
        n -= 1;
    }
    while at(k + n) < horizon {
        n += 1;
    }
    n
}

struct Snapshot {
    tally: MainSlot,
    events: Events,
}

fn one_wake(
    plan: &Plan,
    s: &mut Session,
    gate: &mut super::agents::DreamGate,
    acc: &mut Acc,
    streams: &mut Streams,
    draw: &TurnDraw,
    t: f64,
) {
    acc.events.wakes += 1;
    let done = s.turn(plan, draw, acc, streams, t);
    after_turn(plan, s, gate, acc, streams, done);
}

/// Runs `available` (≥ 4) wake-ups from index `k`, as many as exact in closed form; returns
/// how many were done.
#[allow(clippy::too_many_arguments)]
pub(super) fn batch(
    plan: &Plan,
    s: &mut Session,
    gate: &mut super::agents::DreamGate,
    acc: &mut Acc,
    streams: &mut Streams,
    draw: &TurnDraw,
    (phase, k): (f64, u64),
    available: u64,
) -> u64 {
    let interval = plan.wake_s;
    let at = |i: u64| phase + (k + i) as f64 * interval;
    one_wake(plan, s, gate, acc, streams, draw, at(0));
    let before = Snapshot {
        tally: acc.tally.main_slot(),
        events: acc.events,
    };
    one_wake(plan, s, gate, acc, streams, draw, at(1));
    let (trace_a, context_a, cached_a) = (s.trace, s.context, s.cache.cached);
    let mid = Snapshot {
        tally: acc.tally.main_slot(),
        events: acc.events,
    };
    one_wake(plan, s, gate, acc, streams, draw, at(2));
    let trace_b = s.trace;
    let done = 3;

    let events_a = mid.events.minus(&before.events);
    let events_b = acc.events.minus(&mid.events);
    if events_a != events_b || events_b.compactions > 0 || events_b.dreams > 0 {
        return done;
    }
    let tally_a = mid.tally.minus(&before.tally);
    let tally_b = acc.tally.main_slot().minus(&mid.tally);
    let growth = s.context.saturating_sub(context_a);
    let e_b = s.last_end;
    let d_turn = trace_b.turn_end - trace_b.start;
    let d_all = e_b - trace_b.start;
    let m = safe_count(plan, s, gate, &trace_b, growth, e_b, available - done);
    if m == 0 || !tally_b.rises_from(&tally_a) {
        return done;
    }
    let t1 = at(3);
    // Wake-ups may not run past the end of the run (the event path would cut them there).
    let ends_in_time = |w: u64| t1 + (w - 1) as f64 * interval + d_all <= plan.duration_s;
    let last = ((plan.duration_s - d_all - t1) / interval).floor();
    let mut m = if last < 0.0 {
        0
    } else {
        m.min(last as u64 + 1)
    };
    while m > 0 && !ends_in_time(m) {
        m -= 1;
    }
    if m == 0 {
        return done;
    }

    acc.tally.add_main_series(&tally_a, &tally_b, m);
    acc.summed_wakes += m;
    acc.events.add_times(&events_b, m);
    let series = |a: u64, b: u64, w: u64| -> u64 {
        (b as i128 + w as i128 * (b as i128 - a as i128)).max(0) as u64
    };
    let level = Levels {
        turn_mean: (trace_a.turn_mean, trace_b.turn_mean),
        turn_max: (trace_a.turn_max, trace_b.turn_max),
        fork_max: (trace_a.fork_max, trace_b.fork_max),
        cached: (cached_a, s.cache.cached),
    };
    kv(plan, s, acc, &level, (t1, interval), (d_turn, d_all), m);
    s.process.cycles(
        (t1, interval),
        (d_turn, d_all),
        s.turn_growth(plan, trace_b.added),
        m,
        &mut acc.ram,
    );
    let e_m = t1 + (m - 1) as f64 * interval + d_all;
    s.context += m * growth;
    s.cache.cached = series(level.cached.0, level.cached.1, m);
    s.cache.last_use = e_m;
    s.main_resident = Some((e_m, s.cache.cached));
    s.last_end = e_m;
    s.turns += m as u32;
    done + m
}

/// How many wake-ups after B are exactly like it (only further along).
fn safe_count(
    plan: &Plan,
    s: &Session,
    gate: &super::agents::DreamGate,
    b: &super::session::WakeTrace,
    growth: u64,
    e_b: f64,
    rest: u64,
) -> u64 {
    // Wake-up B+w is safe while `base + w·step ≤ bound`.
    let within = |base: u64, step: u64, bound: u64| -> u64 {
        match (bound.checked_sub(base), step) {
            (None, _) => 0,
            (Some(_), 0) => rest,
            (Some(room), step) => (room / step).min(rest),
        }
    };
    let limit = plan.compact_at.saturating_sub(plan.compaction.instruction);
    let mut m = match plan.compact_check {
        CompactionCheck::EveryCall => within(b.max_pre_call, growth, limit),
        CompactionCheck::TurnStart => within(b.context_at_start, growth, limit),
    };
    let threshold = plan.rules.long_context_above[ModelSlot::Main as usize];
    if threshold != u64::MAX {
        m = m.min(within(b.turn_max.max(b.fork_max), growth, threshold));
    }
    if let Some(d) = plan.dream
        && gate.sessions_since >= d.min_sessions
    {
        // The first wake-up after which the gate would open must be simulated for real.
        let by_turns = u64::from(d.min_session_turns.saturating_sub(s.turns)).max(1);
        let by_time = ((gate.last + d.min_s - e_b) / plan.wake_s).ceil().max(1.0);
        let first = by_turns.max(by_time.min(u64::MAX as f64) as u64);
        m = m.min(first - 1);
    }
    m
}

/// A quantity of wake-ups A and B.
struct Levels {
    turn_mean: (u64, u64),
    turn_max: (u64, u64),
    fork_max: (u64, u64),
    cached: (u64, u64),
}

impl Levels {
    fn at(pair: (u64, u64), w: u64) -> i128 {
        pair.1 as i128 + w as i128 * (pair.1 as i128 - pair.0 as i128)
    }

    /// Σ over w in `from..=to` of the quantity.
    fn sum(pair: (u64, u64), from: u64, to: u64) -> i128 {
        let n = (to - from + 1) as i128;
        let ws = (from + to) as i128 * n / 2;
        n * pair.1 as i128 + ws * (pair.1 as i128 - pair.0 as i128)
    }
}

/// The main lane's KV for wake-ups B+1 … B+m (B's resident prefix included; the last
/// wake-up's is left pending, as after any turn).
fn kv(
    plan: &Plan,
    s: &mut Session,
    acc: &mut Acc,
    l: &Levels,
    (t1, interval): (f64, f64),
    (d_turn, d_all): (f64, f64),
    m: u64,
) {
    let Some((e0, _)) = s.main_resident.take() else {
        return;
    };
    let ttl = plan.ttl_s;
    let resident = ttl.min(t1 - e0).max(0.0);
    let micros = |d: f64| (d * 1e6 + 0.5) as i128;
    let integral = Levels::sum(l.turn_mean, 1, m) * micros(d_turn)
        + Levels::sum(l.fork_max, 1, m) * micros(d_all - d_turn)
        + Levels::sum(l.cached, 0, m - 1) * micros(resident);
    acc.kv.integral += integral.max(0) as u128;

    let start = |w: u64| {
        if w == 0 {
            e0
        } else {
            t1 + (w - 1) as f64 * interval
        }
    };
    let activity_end = |w: u64| start(w) + if w == 0 { 0.0 } else { d_all };
    let span_end = |w: u64| {
        if w == m {
            activity_end(w)
        } else {
            (activity_end(w) + ttl).min(t1 + w as f64 * interval)
        }
    };
    let bucket_s = acc.kv.bucket_s();
    let first = (e0 / bucket_s) as usize;
    let last = (ceil_u64(span_end(m) / bucket_s) as usize).saturating_sub(1);
    for bucket in first..=last {
        let (lo, hi) = (bucket as f64 * bucket_s, (bucket + 1) as f64 * bucket_s);
        let w = if hi <= t1 {
            0
        } else {
            ceil_u64((hi - t1) / interval).clamp(1, m)
        };
        if span_end(w) <= lo {
            continue;
        }
        let resident_only = w == 0 || lo >= activity_end(w);
        let level = if resident_only {
            Levels::at(l.cached, w)
        } else {
            Levels::at(l.turn_max, w)
                .max(Levels::at(l.fork_max, w))
                .max(Levels::at(l.cached, w))
        };
        s.main_lane
            .bucket_max(&mut acc.kv, bucket, level.max(0) as u64);
    }
}

/// `x.ceil()` for x ≥ 0 without a libm call (this runs once per KV bucket).
fn ceil_u64(x: f64) -> u64 {
    let truncated = x as u64;
    truncated + u64::from((truncated as f64) < x)
}
