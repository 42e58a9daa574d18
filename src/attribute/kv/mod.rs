//! Server KV-cache bytes: what the traced calls made an inference server hold, and for how long.
//!
//! This module owns the occupancy model; `profiles` owns bytes per token. Two things occupy KV
//! memory:
//! - **In flight**: a call holds its whole prompt (uncached input + cache writes + cache reads)
//!   from `t_start` to `t_end`.
//! - **Prompt-cache residency**: after a call that read or wrote the prompt cache, its cached
//!   prefix (`cache_read + cache_creation` tokens) stays resident from `t_end` for the cache TTL
//!   (1 h if the call wrote any 1-hour cache, else 5 min). The next cache-using call of the same
//!   cache key replaces the resident size and restarts the TTL, because every hit refreshes it.
//!
//! The cache key is (session, agent, model): sub-agents carry their own `agent_id` and so their
//! own prefix, and a prompt cache is per model, so a Haiku side call in a Sonnet session
//! neither replaces nor pauses the Sonnet prefix. Calls without a session share one anonymous
//! session. While a cache-using call of a key is in flight, that key's residency pauses: the
//! prefix is then part of the in-flight prompt and counted there, once.
//!
//! Residency is cut at `trace_end`: the trace observed nothing after it, and a report covers
//! the traced window, so an idle tail of up to an hour is not charged. In-flight time is never
//! cut (a call recorded with its `t_end` happened).
//!
//! Everything is computed by one event sweep over segment edges: deterministic whatever the
//! input order, O(n log n), with u128 byte levels so sums of products cannot overflow.

pub mod live;
mod profiles;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use profiles::{Attention, DEFAULT_PROFILE, KvProfile, UnknownProfile};

use crate::observation::{Call, Category};

/// Default prompt-cache TTL, in seconds.
pub const CACHE_TTL_5M: f64 = 300.0;
/// TTL of a prefix written with the 1-hour cache, in seconds.
pub const CACHE_TTL_1H: f64 = 3600.0;

/// Server KV figures of one trace under one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KvFigures {
    /// Profile name (`llama-3.1-405b`).
    pub profile: String,
    /// The profile's `describe()` line: print it wherever the figures are shown.
    pub assumption: String,
    pub bytes_per_token: u64,
    /// Highest total (in flight + resident) at any instant.
    pub peak_bytes: u64,
    /// `in_flight_byte_seconds + resident_byte_seconds`.
    pub byte_seconds: f64,
    /// In-flight byte-seconds by the call's category; residency by the category of the call
    /// that last used the prefix. Sums to `byte_seconds`.
    pub by_category_byte_seconds: BTreeMap<Category, f64>,
    pub in_flight_byte_seconds: f64,
    pub resident_byte_seconds: f64,
    /// Step function of total bytes: `(t, bytes)` holds from `t` until the next point. One
    /// point per change; empty when nothing was ever held.
    pub timeline: Vec<(f64, u64)>,
}

/// A call that contributes: it has usage and a finite `t_start ≤ t_end`.
struct Held<'a> {
    id: u64,
    start: f64,
    end: f64,
    prompt_tokens: u64,
    cached_tokens: u64,
    ttl: f64,
    category: Category,
    key: (Option<&'a str>, Option<&'a str>, Option<&'a str>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    InFlight,
    Resident,
}

/// `bytes` held over `[start, end)`, charged to `category`.
struct Segment {
    start: f64,
    end: f64,
    bytes: u128,
    category: Category,
    kind: Kind,
}

/// KV occupancy of one trace's calls (times on the trace's own clock; do not mix traces).
/// `trace_end` (seconds since trace start) cuts residency; pass `f64::INFINITY` not to cut.
pub fn server_kv(calls: &[&Call], profile: &KvProfile, trace_end: f64) -> KvFigures {
    // A NaN end would silently drop all residency; treat it as "no cut" instead.
    let trace_end = if trace_end.is_nan() {
        f64::INFINITY
    } else {
        trace_end
    };
    let bpt = profile.bytes_per_token();
    let held = held_calls(calls);

    let mut segments: Vec<Segment> = held
        .iter()
        .map(|h| Segment {
            start: h.start,
            end: h.end,
            bytes: u128::from(h.prompt_tokens) * u128::from(bpt),
            category: h.category,
            kind: Kind::InFlight,
        })
        .collect();
    residency(&held, bpt, trace_end, &mut segments);
    segments.retain(|s| s.bytes > 0 && s.end > s.start);

    let mut figures = KvFigures {
        profile: profile.name.to_string(),
        assumption: profile.describe(),
        bytes_per_token: bpt,
        peak_bytes: 0,
        byte_seconds: 0.0,
        by_category_byte_seconds: BTreeMap::new(),
        in_flight_byte_seconds: 0.0,
        resident_byte_seconds: 0.0,
        timeline: Vec::new(),
    };
    let mut edges: Vec<(f64, u128, u128)> = Vec::with_capacity(segments.len() * 2);
    for s in &segments {
        let product = s.bytes as f64 * (s.end - s.start);
        match s.kind {
            Kind::InFlight => figures.in_flight_byte_seconds += product,
            Kind::Resident => figures.resident_byte_seconds += product,
        }
        *figures
            .by_category_byte_seconds
            .entry(s.category)
            .or_default() += product;
        edges.push((s.start, s.bytes, 0));
        edges.push((s.end, 0, s.bytes));
    }
    figures.byte_seconds = figures.in_flight_byte_seconds + figures.resident_byte_seconds;
    sweep(&mut edges, &mut figures);
    figures
}

/// Contributing calls in a canonical order, so the result never depends on the input order.
fn held_calls<'a>(calls: &[&'a Call]) -> Vec<Held<'a>> {
    let mut held: Vec<Held<'a>> = calls
        .iter()
        .filter_map(|c| {
            let (usage, end) = (c.usage?, c.t_end?);
            if !c.t_start.is_finite() || !end.is_finite() {
                return None;
            }
            Some(Held {
                id: c.id,
                start: c.t_start,
                // A clock glitch (end before start) is a zero-length call, not negative bytes.
                end: end.max(c.t_start),
                prompt_tokens: usage.prompt_tokens(),
                cached_tokens: usage.cache_read_input_tokens + usage.cache_creation_input_tokens,
                ttl: if usage.cache_creation_1h_input_tokens > 0 {
                    CACHE_TTL_1H
                } else {
                    CACHE_TTL_5M
                },
                category: c.category,
                key: (
                    c.session_id.as_deref(),
                    c.agent_id.as_deref(),
                    c.model.as_deref(),
                ),
            })
        })
        .collect();
    held.sort_by(|a, b| {
        a.start
            .total_cmp(&b.start)
            .then(a.end.total_cmp(&b.end))
            .then(a.id.cmp(&b.id))
            .then(a.key.cmp(&b.key))
            .then(a.category.cmp(&b.category))
            .then(a.prompt_tokens.cmp(&b.prompt_tokens))
            .then(a.cached_tokens.cmp(&b.cached_tokens))
    });
    held
}

/// Appends the residency segments of every cache key.
fn residency(held: &[Held<'_>], bpt: u64, trace_end: f64, out: &mut Vec<Segment>) {
    let mut by_key: BTreeMap<_, Vec<&Held<'_>>> = BTreeMap::new();
    for h in held.iter().filter(|h| h.cached_tokens > 0) {
        by_key.entry(h.key).or_default().push(h);
    }
    for mut users in by_key.into_values() {
        // Residency starts when a call ends, so "later" means later t_end; the sort is stable,
        // so ties keep the canonical order and the last of them wins.
        users.sort_by(|a, b| a.end.total_cmp(&b.end));
        let pauses =
            crate::attribute::intervals::merged(users.iter().map(|u| (u.start, u.end)).collect());
        let mut first_pause = 0;
        for (i, u) in users.iter().enumerate() {
            let start = u.end;
            let replaced_at = users.get(i + 1).map_or(f64::INFINITY, |next| next.end);
            let end = (start + u.ttl).min(replaced_at).min(trace_end);
            if end <= start {
                continue;
            }
            let bytes = u128::from(u.cached_tokens) * u128::from(bpt);
            // States are disjoint and in time order, so pauses that end before this state
            // starts can be skipped for good.
            while pauses.get(first_pause).is_some_and(|p| p.1 <= start) {
                first_pause += 1;
            }
            let mut cursor = start;
            for &(p_start, p_end) in pauses[first_pause..].iter().take_while(|p| p.0 < end) {
                if p_start > cursor {
                    out.push(resident(cursor, p_start, bytes, u.category));
                }
                cursor = cursor.max(p_end);
            }
            if cursor < end {
                out.push(resident(cursor, end, bytes, u.category));
            }
        }
    }
}

fn resident(start: f64, end: f64, bytes: u128, category: Category) -> Segment {
    Segment {
        start,
        end,
        bytes,
        category,
        kind: Kind::Resident,
    }
}

/// Peak and timeline from `(t, added, removed)` edges. All edges at one instant are applied
/// together, so a call ending exactly when another starts is no overlap and no spike.
fn sweep(edges: &mut [(f64, u128, u128)], figures: &mut KvFigures) {
    edges.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut level: u128 = 0;
    let mut peak: u128 = 0;
    let mut i = 0;
    while let Some(&(t, ..)) = edges.get(i) {
        let (mut added, mut removed) = (0u128, 0u128);
        while let Some(&(_, a, r)) = edges.get(i).filter(|e| e.0 == t) {
            added += a;
            removed += r;
            i += 1;
        }
        // Every segment has positive length, so what ends at `t` started before `t` and is
        // already in `level`: the subtraction cannot underflow.
        level = (level + added).saturating_sub(removed);
        peak = peak.max(level);
        let bytes = u64::try_from(level).unwrap_or(u64::MAX);
        if figures
            .timeline
            .last()
            .map_or(bytes != 0, |&(_, b)| b != bytes)
        {
            figures.timeline.push((t, bytes));
        }
    }
    figures.peak_bytes = u64::try_from(peak).unwrap_or(u64::MAX);
}
