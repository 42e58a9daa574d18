//! The two kinds of agent a developer runs, as loops over time: interactive agents (working
//! hours, user prompts at random instants, new sessions during the day) and daemons (always
//! on, woken on a schedule). Both share the background work that follows a turn: memory
//! extraction, and the dream when its gate opens.

use super::Acc;
use super::periodic;
use super::plan::{Fork, Plan};
use super::random::{Streams, sorted_uniform, stochastic_round, uniform};
use super::session::{Session, TurnDraw};
use crate::observation::Category;
use rand_distr::{Distribution, StandardNormal};

/// Auto-dream's gate for one agent: at most once per `min_hours`, after `min_sessions` new
/// sessions, and only in a session that has had `min_session_turns` turns.
pub(super) struct DreamGate {
    pub(super) last: f64,
    pub(super) sessions_since: u32,
}

impl DreamGate {
    fn new() -> DreamGate {
        DreamGate {
            last: f64::NEG_INFINITY,
            sessions_since: 0,
        }
    }

    fn session_started(&mut self) {
        self.sessions_since += 1;
    }
}

/// Extraction and dream after a turn that ended at `t`; returns when they are done.
pub(super) fn after_turn(
    plan: &Plan,
    session: &mut Session,
    gate: &mut DreamGate,
    acc: &mut Acc,
    streams: &mut Streams,
    t: f64,
) -> f64 {
    // Drawn whether or not extraction is on (so switching it off changes nothing else), and
    // only when the share leaves something to chance.
    let p = plan.extraction_probability;
    let roll = if p > 0.0 && p < 1.0 {
        uniform(&mut streams.background)
    } else {
        0.5
    };
    let mut t = t;
    if let Some(fork) = plan.extraction
        && roll < p
    {
        t = session.fork(plan, acc, streams, (t, Category::MemoryExtraction), fork);
        acc.events.extractions += 1;
    }
    if let Some(d) = plan.dream
        && session.turns >= d.min_session_turns
        && t - gate.last >= d.min_s
        && gate.sessions_since >= d.min_sessions
    {
        let scanned = f64::from(gate.sessions_since) * d.per_session;
        let fork = Fork {
            instruction: d.instruction + scanned.round() as u64,
            output: d.output,
        };
        gate.last = t;
        gate.sessions_since = 0;
        t = session.fork(plan, acc, streams, (t, Category::Dream), fork);
        acc.events.dreams += 1;
    }
    t
}

/// An interactive agent over the whole run.
pub fn interactive(plan: &Plan, acc: &mut Acc, streams: &mut Streams) {
    let end = plan.duration_s;
    let days = (end / 86_400.0).ceil() as u32;
    let persistent = plan.sessions_per_day == 0;
    let parts = plan.sessions_per_day.max(1);
    let mut session: Option<Session> = None;
    let mut gate = DreamGate::new();
    let mut arrivals = std::mem::take(&mut acc.arrivals);
    for day in 0..days {
        let midnight = f64::from(day) * 86_400.0;
        let jitter = if plan.start_jitter_s > 0.0 {
            let z: f64 = StandardNormal.sample(&mut streams.work);
            z * plan.start_jitter_s
        } else {
            0.0
        };
        let window_start = (midnight + plan.start_s + jitter).max(midnight);
        let window_end = (window_start + plan.active_s).min(end);
        if window_end <= window_start {
            continue;
        }
        let rate = plan.turns_per_s * plan.rate.draw(&mut streams.work);
        let part = (window_end - window_start) / f64::from(parts);
        for p in 0..parts {
            let part_start = window_start + f64::from(p) * part;
            if !persistent || session.is_none() {
                if let Some(old) = session.take() {
                    old.end(plan, part_start, acc);
                }
                session = Some(Session::start(plan, part_start, acc, streams));
                gate.session_started();
            }
            let Some(s) = session.as_mut() else { continue };
            let n = stochastic_round(rate * part, &mut streams.work) as usize;
            sorted_uniform(
                n,
                part_start,
                part_start + part,
                &mut streams.work,
                &mut arrivals,
            );
            for &arrival in &arrivals {
                let mut t = arrival.max(s.last_end);
                if t >= end {
                    break;
                }
                if let Some((idle, fork)) = plan.away
                    && s.turns > 0
                    && t - s.last_end >= idle
                {
                    t = s.fork(plan, acc, streams, (t, Category::AwaySummary), fork);
                    acc.events.away_summaries += 1;
                }
                let draw = TurnDraw::draw(plan, &plan.turn, streams);
                let done = s.turn(plan, &draw, acc, streams, t);
                after_turn(plan, s, &mut gate, acc, streams, done);
            }
        }
        if !persistent
            && plan.close_at_end_of_day
            && let Some(old) = session.take()
        {
            old.end(plan, window_end, acc);
        }
    }
    if let Some(s) = session {
        s.end(plan, end, acc);
    }
    acc.arrivals = arrivals;
}

/// A daemon over the whole run: a session from the start, a turn at every wake-up. Its
/// wake-ups share one draw a day, and runs of identical ones are summed (see `periodic`).
pub fn daemon(plan: &Plan, acc: &mut Acc, streams: &mut Streams) {
    let end = plan.duration_s;
    let phase = if plan.wake_aligned {
        0.0
    } else {
        uniform(&mut streams.work) * plan.wake_s
    };
    let mut gate = DreamGate::new();
    let mut session = Session::start(plan, 0.0, acc, streams);
    gate.session_started();
    let mut next_restart = plan.restart_s;
    let mut draw_day = u64::MAX;
    let mut draw = TurnDraw::draw(plan, &plan.wake, streams);
    let mut k: u64 = 0;
    loop {
        let scheduled = phase + k as f64 * plan.wake_s;
        if scheduled >= end {
            break;
        }
        let t = if plan.wake_jitter_s > 0.0 {
            scheduled + uniform(&mut streams.work) * plan.wake_jitter_s
        } else {
            scheduled
        };
        if t >= next_restart {
            let at = (t / plan.restart_s).floor() * plan.restart_s;
            session.end(plan, at, acc);
            session = Session::start(plan, at, acc, streams);
            gate.session_started();
            next_restart = at + plan.restart_s;
        }
        let day = (t / 86_400.0) as u64;
        if day != draw_day {
            if draw_day != u64::MAX {
                draw = TurnDraw::draw(plan, &plan.wake, streams);
            }
            draw_day = day;
        }
        if periodic::batchable(plan, &draw) {
            let horizon = end.min(next_restart).min((day + 1) as f64 * 86_400.0);
            let available = periodic::wakes_before(phase, k, plan.wake_s, horizon);
            if available >= 4 {
                let state = (&mut session, &mut gate);
                k += periodic::batch(
                    plan,
                    state.0,
                    state.1,
                    acc,
                    streams,
                    &draw,
                    (phase, k),
                    available,
                );
                continue;
            }
        }
        acc.events.wakes += 1;
        let done = session.turn(plan, &draw, acc, streams, t);
        after_turn(plan, &mut session, &mut gate, acc, streams, done);
        k += 1;
    }
    session.end(plan, end, acc);
}
