//! Simulated prompt caching, and the injectable clock its TTLs run on.
//!
//! Keys are segment prefix hashes (see `tokens`); values are expiry instants on the mock clock.
//!
//! * Anthropic (only when the request carries a `cache_control` marker anywhere): the longest
//!   stored, unexpired prefix that ends before the last message is read (`cache_read`); the
//!   segments after it, up to but excluding the last message, are written (`cache_creation`),
//!   each stored under its own prefix hash; the last message is always uncached input. A
//!   segment's TTL is 1 hour if it or any later segment carries a `"ttl":"1h"` marker (a
//!   breakpoint caches everything before it), else 5 minutes. Reads refresh the TTL.
//! * OpenAI (automatic): every prefix of every prompt is stored for 5 minutes; the cached tokens
//!   are the longest stored prefix, rounded down to a multiple of 128, and 0 below 1024.
//! * Gemini (implicit caching): every prefix of every prompt is stored for 5 minutes; the cached
//!   tokens are the longest stored prefix that ends before the last content, 0 below 1024, in
//!   whole segments (no rounding). Gemini reports no cache writes: storing is free and silent.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::tokens::Segment;

pub(crate) const TTL_5M: Duration = Duration::from_secs(5 * 60);
pub(crate) const TTL_1H: Duration = Duration::from_secs(60 * 60);
const OPENAI_MIN_CACHED: u64 = 1024;
const OPENAI_CACHE_UNIT: u64 = 128;
const GEMINI_MIN_CACHED: u64 = 1024;
/// Above this many entries, expired ones are purged on the next write.
const PURGE_ABOVE: usize = 50_000;

/// Time as the mock's cache sees it: a monotonic clock in production, a hand-driven one in tests.
#[derive(Debug, Clone)]
pub struct Clock(ClockSource);

#[derive(Debug, Clone)]
enum ClockSource {
    Monotonic(Instant),
    Manual(Arc<AtomicU64>),
}

impl Clock {
    /// A clock that follows real monotonic time from now.
    pub fn monotonic() -> Self {
        Clock(ClockSource::Monotonic(Instant::now()))
    }

    /// Time since the clock's origin.
    pub fn now(&self) -> Duration {
        match &self.0 {
            ClockSource::Monotonic(origin) => origin.elapsed(),
            ClockSource::Manual(ms) => Duration::from_millis(ms.load(Ordering::SeqCst)),
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::monotonic()
    }
}

/// A clock that moves only when told to; hand `clock()` to `MockConfig` and keep this to advance it.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn clock(&self) -> Clock {
        Clock(ClockSource::Manual(self.0.clone()))
    }

    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

/// How an Anthropic prompt split between cache and fresh input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AnthropicSplit {
    pub(crate) input: u64,
    pub(crate) cache_read: u64,
    pub(crate) write_5m: u64,
    pub(crate) write_1h: u64,
}

/// Stored prefixes and their expiry.
#[derive(Debug, Default)]
pub(crate) struct PromptCache {
    entries: HashMap<u64, (Duration, Duration)>, // prefix hash -> (expires at, ttl)
}

impl PromptCache {
    fn live(&self, key: u64, now: Duration) -> bool {
        self.entries.get(&key).is_some_and(|(exp, _)| *exp > now)
    }

    fn store(&mut self, key: u64, now: Duration, ttl: Duration) {
        if self.entries.len() > PURGE_ABOVE {
            self.entries.retain(|_, (exp, _)| *exp > now);
        }
        self.entries.insert(key, (now + ttl, ttl));
    }

    fn refresh(&mut self, key: u64, now: Duration) {
        if let Some((exp, ttl)) = self.entries.get_mut(&key) {
            *exp = now + *ttl;
        }
    }

    /// Anthropic accounting; `marked` says whether the request had any `cache_control`.
    pub(crate) fn anthropic(
        &mut self,
        segs: &[Segment],
        marked: bool,
        now: Duration,
    ) -> AnthropicSplit {
        let total: u64 = segs.iter().map(|s| s.tokens).sum();
        if !marked || segs.is_empty() {
            return AnthropicSplit {
                input: total,
                ..Default::default()
            };
        }
        let cacheable = segs.len() - 1;
        let hit = (0..cacheable)
            .rev()
            .find(|&j| self.live(segs[j].prefix_hash, now))
            .map_or(0, |j| j + 1);
        let last_1h = segs.iter().rposition(|s| s.marks_1h);
        let mut split = AnthropicSplit::default();
        for (j, seg) in segs.iter().enumerate() {
            if j < hit {
                split.cache_read += seg.tokens;
                self.refresh(seg.prefix_hash, now);
            } else if j < cacheable {
                let one_hour = last_1h.is_some_and(|l| j <= l);
                if one_hour {
                    split.write_1h += seg.tokens;
                } else {
                    split.write_5m += seg.tokens;
                }
                self.store(seg.prefix_hash, now, if one_hour { TTL_1H } else { TTL_5M });
            } else {
                split.input += seg.tokens;
            }
        }
        split
    }

    /// OpenAI accounting: the cached tokens read, and the tokens written to the cache. Reads are
    /// the longest live prefix, in 128-token units from 1,024 on; what the cacheable part of the
    /// prompt (the same units) holds beyond them is written — OpenAI reports those writes as
    /// `cache_write_tokens` since late 2026.
    pub(crate) fn openai(&mut self, segs: &[Segment], now: Duration) -> OpenAiCache {
        let mut longest = 0;
        let mut running = 0;
        for seg in segs {
            running += seg.tokens;
            if self.live(seg.prefix_hash, now) {
                longest = running;
                self.refresh(seg.prefix_hash, now);
            } else {
                self.store(seg.prefix_hash, now, TTL_5M);
            }
        }
        let cacheable = |tokens: u64| {
            if tokens < OPENAI_MIN_CACHED {
                0
            } else {
                tokens / OPENAI_CACHE_UNIT * OPENAI_CACHE_UNIT
            }
        };
        let read = cacheable(longest);
        OpenAiCache {
            read,
            write: cacheable(running).saturating_sub(read),
        }
    }
}

impl PromptCache {
    /// Gemini implicit caching: the cached tokens read (module docs).
    pub(crate) fn gemini(&mut self, segs: &[Segment], now: Duration) -> u64 {
        let readable = segs.len().saturating_sub(1);
        let mut longest = 0;
        let mut running = 0;
        for (j, seg) in segs.iter().enumerate() {
            running += seg.tokens;
            if j < readable && self.live(seg.prefix_hash, now) {
                longest = running;
                self.refresh(seg.prefix_hash, now);
            } else if !self.live(seg.prefix_hash, now) {
                self.store(seg.prefix_hash, now, TTL_5M);
            }
        }
        if longest < GEMINI_MIN_CACHED {
            0
        } else {
            longest
        }
    }
}

/// One OpenAI request's prompt-cache use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenAiCache {
    pub(crate) read: u64,
    pub(crate) write: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(tokens: &[u64], marks_1h: &[bool]) -> Vec<Segment> {
        let mut h = 17u64;
        tokens
            .iter()
            .zip(marks_1h)
            .map(|(&t, &m)| {
                h = h.wrapping_mul(31).wrapping_add(t);
                Segment {
                    tokens: t,
                    prefix_hash: h,
                    marks_1h: m,
                }
            })
            .collect()
    }

    #[test]
    fn anthropic_reads_longest_prefix_and_writes_up_to_last_message() {
        let clock = ManualClock::new();
        let mut cache = PromptCache::default();
        let first = segs(&[1000, 10, 20], &[false; 3]);
        let s = cache.anthropic(&first, true, clock.clock().now());
        assert_eq!(
            s,
            AnthropicSplit {
                input: 20,
                cache_read: 0,
                write_5m: 1010,
                write_1h: 0
            }
        );
        let second = segs(&[1000, 10, 20, 30, 40], &[false; 5]);
        let s = cache.anthropic(&second, true, clock.clock().now());
        assert_eq!(
            s,
            AnthropicSplit {
                input: 40,
                cache_read: 1010,
                write_5m: 50,
                write_1h: 0
            }
        );
        // Without markers nothing is read or written.
        let s = cache.anthropic(&second, false, clock.clock().now());
        assert_eq!(s.input, 1100);
    }

    #[test]
    fn ttl_expiry_and_one_hour_split() {
        let clock = ManualClock::new();
        let mut cache = PromptCache::default();
        let p = segs(&[1000, 10, 20], &[true, false, false]);
        let s = cache.anthropic(&p, true, clock.clock().now());
        assert_eq!((s.write_1h, s.write_5m), (1000, 10));
        clock.advance(Duration::from_secs(6 * 60));
        // The 5-minute segment expired, the 1-hour prefix did not.
        let s = cache.anthropic(&p, true, clock.clock().now());
        assert_eq!((s.cache_read, s.write_5m, s.write_1h), (1000, 10, 0));
        let s = cache.anthropic(&p, true, clock.clock().now());
        assert_eq!(s.cache_read, 1010);
        clock.advance(Duration::from_secs(2 * 3600));
        assert_eq!(cache.anthropic(&p, true, clock.clock().now()).cache_read, 0);
    }

    #[test]
    fn openai_rounds_to_128_above_1024() {
        let clock = ManualClock::new();
        let mut cache = PromptCache::default();
        let use_of = |read, write| OpenAiCache { read, write };
        let small = segs(&[500, 100], &[false; 2]);
        assert_eq!(cache.openai(&small, clock.clock().now()), use_of(0, 0));
        // 600 < 1024: neither read nor written.
        assert_eq!(cache.openai(&small, clock.clock().now()), use_of(0, 0));
        let big = segs(&[1200, 100, 7], &[false; 3]);
        // 1307 -> 1280 written, then read.
        assert_eq!(cache.openai(&big, clock.clock().now()), use_of(0, 1280));
        assert_eq!(cache.openai(&big, clock.clock().now()), use_of(1280, 0));
        let longer = segs(&[1200, 100, 7, 300], &[false; 4]);
        assert_eq!(
            cache.openai(&longer, clock.clock().now()),
            use_of(1280, 256)
        );
        clock.advance(TTL_5M);
        assert_eq!(cache.openai(&big, clock.clock().now()), use_of(0, 1280));
    }

    #[test]
    fn gemini_reads_the_longest_prefix_before_the_last_content_and_never_writes() {
        let clock = ManualClock::new();
        let mut cache = PromptCache::default();
        let first = segs(&[1200, 100, 7], &[false; 3]);
        assert_eq!(cache.gemini(&first, clock.clock().now()), 0);
        // The same prompt again: everything but the last content.
        assert_eq!(cache.gemini(&first, clock.clock().now()), 1300);
        let longer = segs(&[1200, 100, 7, 300], &[false; 4]);
        assert_eq!(cache.gemini(&longer, clock.clock().now()), 1307);
        let small = segs(&[500, 100, 1], &[false; 3]);
        cache.gemini(&small, clock.clock().now());
        assert_eq!(cache.gemini(&small, clock.clock().now()), 0, "under 1024");
        clock.advance(TTL_5M);
        assert_eq!(cache.gemini(&longer, clock.clock().now()), 0, "expired");
    }
}
