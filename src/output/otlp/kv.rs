//! Live server-KV estimate behind `agentprof.kv.bytes`: prompt-cache prefixes still resident.
//!
//! The approximation (the same as the Prometheus exporter's): each cache key — (session, agent,
//! model), as in `attribute::kv` — holds the cached prefix of its latest cache-using call
//! (`cache_read + cache_creation` tokens × the KV profile's bytes per token) from the moment
//! that call ended until its TTL runs out (1 h if the call wrote any 1-hour cache, else 5 min);
//! the next cache-using call of the key replaces it and restarts the TTL. Unlike the report, live
//! figures leave out in-flight prompts (a call is only seen once it has ended) and so never pause
//! residency while a call of the key runs; the report, computed from the trace, does both.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::attribute::kv::{CACHE_TTL_1H, CACHE_TTL_5M};
use crate::observation::{Call, Category};

type Key = (Option<String>, Option<String>, Option<String>);

#[derive(Debug, Clone, Copy)]
struct Resident {
    bytes: u64,
    category: Category,
    until: Instant,
}

/// Resident prefixes by cache key.
#[derive(Debug)]
pub struct ResidentKv {
    bytes_per_token: u64,
    keys: HashMap<Key, Resident>,
}

impl ResidentKv {
    pub fn new(bytes_per_token: u64) -> ResidentKv {
        ResidentKv {
            bytes_per_token,
            keys: HashMap::new(),
        }
    }

    /// Notes a finished call, seen at `now` (which is when it ended, give or take the moment
    /// it took to classify).
    pub fn on_call(&mut self, call: &Call, now: Instant) {
        let Some(usage) = call.usage else {
            return;
        };
        let cached = usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
        if cached == 0 || call.t_end.is_none() {
            return;
        }
        let ttl = if usage.cache_creation_1h_input_tokens > 0 {
            CACHE_TTL_1H
        } else {
            CACHE_TTL_5M
        };
        let key = (
            call.session_id.clone(),
            call.agent_id.clone(),
            call.model.clone(),
        );
        self.keys.insert(
            key,
            Resident {
                bytes: cached.saturating_mul(self.bytes_per_token),
                category: call.category,
                until: now + Duration::from_secs_f64(ttl),
            },
        );
    }

    /// Resident bytes by the category of the call that last used each prefix, at `now`; every
    /// category is present (0 when nothing of it is resident) so a gauge falls back to zero.
    /// Expired prefixes are forgotten.
    pub fn by_category(&mut self, now: Instant) -> [(Category, u64); 8] {
        self.keys.retain(|_, r| r.until > now);
        Category::ALL.map(|category| {
            let bytes = self
                .keys
                .values()
                .filter(|r| r.category == category)
                .fold(0u64, |sum, r| sum.saturating_add(r.bytes));
            (category, bytes)
        })
    }
}
