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

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use serde::{Deserialize, Serialize};

pub use profiles::{Attention, DEFAULT_PROFILE, KvProfile, UnknownProfile};

use crate::observation::{Call, Category, Usage};

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
    /// The same step function split by category (in [`Category::ALL`] order): one point per
    /// change of any category's bytes. Charts stack it; its rows sum to `timeline`'s.
    pub timeline_by_category: Vec<(f64, [u64; 8])>,
}

/// The prompt-cache key of a call as [`server_kv`] sees it: (session, agent, model).
pub type CacheKey<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// What the occupancy model needs of one call: built from a [`Call`] by [`KvCall::of`], or
/// directly by an import that never holds whole calls.
///
/// `K` is the prompt-cache key: any ordered value equal exactly when (session, agent, model)
/// are. An import uses small ids ranked in the strings' order, which keeps every sum in the
/// same order — and so the figures bit for bit the same — as for the calls themselves.
#[derive(Debug, Clone, Copy)]
pub struct KvCall<K> {
    pub id: u64,
    pub start: f64,
    pub end: f64,
    /// Uncached input + cache writes + cache reads.
    pub prompt_tokens: u64,
    /// Cache reads + cache writes: the prefix that stays resident.
    pub cached_tokens: u64,
    /// The call wrote 1-hour cache: its prefix stays [`CACHE_TTL_1H`], else 5 minutes.
    pub one_hour: bool,
    pub category: Category,
    pub key: K,
}

impl<'a> KvCall<CacheKey<'a>> {
    /// A call that contributes: it has usage and a finite `t_start ≤ t_end`.
    pub fn of(c: &'a Call) -> Option<Self> {
        let (usage, end) = (c.usage?, c.t_end?);
        if !c.t_start.is_finite() || !end.is_finite() {
            return None;
        }
        let key = (
            c.session_id.as_deref(),
            c.agent_id.as_deref(),
            c.model.as_deref(),
        );
        Some(KvCall::new(c.id, c.t_start, end, &usage, c.category, key))
    }
}

impl<K> KvCall<K> {
    /// One call's figures from its parts.
    pub fn new(id: u64, start: f64, end: f64, usage: &Usage, category: Category, key: K) -> Self {
        KvCall {
            id,
            start,
            // A clock glitch (end before start) is a zero-length call, not negative bytes.
            end: end.max(start),
            prompt_tokens: usage.prompt_tokens(),
            cached_tokens: usage.cache_read_input_tokens + usage.cache_creation_input_tokens,
            one_hour: usage.cache_creation_1h_input_tokens > 0,
            category,
            key,
        }
    }

    fn ttl(&self) -> f64 {
        if self.one_hour {
            CACHE_TTL_1H
        } else {
            CACHE_TTL_5M
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    InFlight,
    Resident,
}

/// `tokens` (of KV) held over `[start, end)`, charged to `category`. Kept in tokens, not bytes:
/// a report may hold millions of these, and bytes are one multiplication away.
struct Segment {
    start: f64,
    end: f64,
    tokens: u64,
    category: Category,
    kind: Kind,
}

/// KV occupancy of one trace's calls (times on the trace's own clock; do not mix traces).
/// `trace_end` (seconds since trace start) cuts residency; pass `f64::INFINITY` not to cut.
pub fn server_kv(calls: &[&Call], profile: &KvProfile, trace_end: f64) -> KvFigures {
    let held = calls.iter().filter_map(|c| KvCall::of(c)).collect();
    server_kv_of(held, profile, trace_end, true)
}

/// [`server_kv`] over calls already reduced to what the model needs; `timeline: false` leaves
/// [`KvFigures::timeline`] and [`KvFigures::timeline_by_category`] empty (the terminal report
/// does not show them, and they cost memory per call).
pub fn server_kv_of<K: Ord + Copy>(
    mut held: Vec<KvCall<K>>,
    profile: &KvProfile,
    trace_end: f64,
    timeline: bool,
) -> KvFigures {
    // A NaN end would silently drop all residency; treat it as "no cut" instead.
    let trace_end = if trace_end.is_nan() {
        f64::INFINITY
    } else {
        trace_end
    };
    let bpt = profile.bytes_per_token();
    canonical_order(&mut held);

    let mut segments: Vec<Segment> = held
        .iter()
        .map(|h| Segment {
            start: h.start,
            end: h.end,
            tokens: h.prompt_tokens,
            category: h.category,
            kind: Kind::InFlight,
        })
        .collect();
    residency(&held, trace_end, &mut segments);
    drop(held);
    segments.retain(|s| s.tokens > 0 && s.end > s.start);

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
        timeline_by_category: Vec::new(),
    };
    for s in &segments {
        let bytes = u128::from(s.tokens) * u128::from(bpt);
        let product = bytes as f64 * (s.end - s.start);
        match s.kind {
            Kind::InFlight => figures.in_flight_byte_seconds += product,
            Kind::Resident => figures.resident_byte_seconds += product,
        }
        *figures
            .by_category_byte_seconds
            .entry(s.category)
            .or_default() += product;
    }
    figures.byte_seconds = figures.in_flight_byte_seconds + figures.resident_byte_seconds;
    sweep(&mut segments, bpt, timeline, &mut figures);
    figures
}

/// Sorts calls into a canonical order, so the result never depends on the input order.
fn canonical_order<K: Ord>(held: &mut [KvCall<K>]) {
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
}

/// Appends the residency segments of every cache key.
fn residency<K: Ord + Copy>(held: &[KvCall<K>], trace_end: f64, out: &mut Vec<Segment>) {
    let mut by_key: BTreeMap<K, Vec<&KvCall<K>>> = BTreeMap::new();
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
            let end = (start + u.ttl()).min(replaced_at).min(trace_end);
            if end <= start {
                continue;
            }
            let tokens = u.cached_tokens;
            // States are disjoint and in time order, so pauses that end before this state
            // starts can be skipped for good.
            while pauses.get(first_pause).is_some_and(|p| p.1 <= start) {
                first_pause += 1;
            }
            let mut cursor = start;
            for &(p_start, p_end) in pauses[first_pause..].iter().take_while(|p| p.0 < end) {
                if p_start > cursor {
                    out.push(resident(cursor, p_start, tokens, u.category));
                }
                cursor = cursor.max(p_end);
            }
            if cursor < end {
                out.push(resident(cursor, end, tokens, u.category));
            }
        }
    }
}

fn resident(start: f64, end: f64, tokens: u64, category: Category) -> Segment {
    Segment {
        start,
        end,
        tokens,
        category,
        kind: Kind::Resident,
    }
}

/// Peak (and timelines) by one sweep: segments in start order, those in progress in a heap by
/// end. All starts and ends at one instant are applied together, so a call ending exactly
/// when another starts is no overlap and no spike. Memory: the heap of what overlaps.
fn sweep(segments: &mut [Segment], bpt: u64, timeline: bool, figures: &mut KvFigures) {
    segments.sort_unstable_by(|a, b| a.start.total_cmp(&b.start));
    let mut ending: BinaryHeap<Reverse<(Instant, u64, usize)>> = BinaryHeap::new();
    let mut level: u128 = 0;
    // Tokens held per category (index into `Category::ALL`), for the split timeline.
    let mut levels = [0u128; 8];
    let mut peak: u128 = 0;
    let mut next = 0;
    loop {
        let t = match (segments.get(next), ending.peek()) {
            (Some(s), Some(Reverse((e, _, _)))) => s.start.min(e.0),
            (Some(s), None) => s.start,
            (None, Some(Reverse((e, _, _)))) => e.0,
            (None, None) => break,
        };
        let (mut added, mut removed) = (0u128, 0u128);
        while ending.peek().is_some_and(|Reverse((end, _, _))| end.0 == t) {
            if let Some(Reverse((_, tokens, category))) = ending.pop() {
                removed += u128::from(tokens);
                levels[category] = levels[category].saturating_sub(u128::from(tokens));
            }
        }
        while let Some(s) = segments.get(next).filter(|s| s.start == t) {
            added += u128::from(s.tokens);
            let category = s.category as usize;
            levels[category] += u128::from(s.tokens);
            ending.push(Reverse((Instant(s.end), s.tokens, category)));
            next += 1;
        }
        // Every segment has positive length, so what ends at `t` started before `t` and is
        // already in `level`: the subtraction cannot underflow.
        level = (level + added).saturating_sub(removed);
        let bytes = level * u128::from(bpt);
        peak = peak.max(bytes);
        if !timeline {
            continue;
        }
        let clamp = |b: u128| u64::try_from(b).unwrap_or(u64::MAX);
        let bytes = clamp(bytes);
        if figures
            .timeline
            .last()
            .map_or(bytes != 0, |&(_, b)| b != bytes)
        {
            figures.timeline.push((t, bytes));
        }
        let split = levels.map(|tokens| clamp(tokens * u128::from(bpt)));
        if figures
            .timeline_by_category
            .last()
            .map_or(split != [0; 8], |(_, b)| *b != split)
        {
            figures.timeline_by_category.push((t, split));
        }
    }
    figures.peak_bytes = u64::try_from(peak).unwrap_or(u64::MAX);
}

/// A time ordered by `total_cmp`, for the heap.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Instant(f64);

impl Eq for Instant {}

impl PartialOrd for Instant {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Instant {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
