//! The live server-KV estimate behind the exporters' KV gauges: prompt-cache prefixes still
//! resident now.
//!
//! The approximation: each cache key — (session, agent,
//! model), as in `attribute::kv` — holds the cached prefix of its latest cache-using call
//! (`cache_read + cache_creation` tokens × the KV profile's bytes per token) from the moment
//! that call ended until its TTL runs out (1 h if the call wrote any 1-hour cache, else 5 min);
//! the next cache-using call of the key replaces it and restarts the TTL. Unlike the report, live
//! figures leave out in-flight prompts (a call is only seen once it has ended) and so never pause
//! residency while a call of the key runs; the report, computed from the trace, does both.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{CACHE_TTL_1H, CACHE_TTL_5M};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::kv::KvProfile;
    use crate::observation::{ApiKind, Provider, Usage};

    fn call(session: &str, model: &str, category: Category, usage: Usage) -> Call {
        Call {
            id: 1,
            t_start: 0.0,
            t_first_byte: None,
            t_end: Some(1.0),
            provider: Provider::Anthropic,
            api: ApiKind::Messages,
            method: "POST".into(),
            path: "/v1/messages".into(),
            model: Some(model.into()),
            stream: true,
            status: Some(200),
            usage: Some(usage),
            upstream_request_id: None,
            response_id: None,
            session_id: Some(session.into()),
            agent_id: None,
            parent_agent_id: None,
            request_bytes: 0,
            response_bytes: 0,
            client_bytes: None,
            category,
            classified_by: String::new(),
            starts_turn: false,
            error: None,
            bodies: None,
            via_websocket: None,
            project: None,
        }
    }

    fn cached(read: u64, write_5m: u64, write_1h: u64) -> Usage {
        Usage {
            input_tokens: 7,
            output_tokens: 9,
            cache_read_input_tokens: read,
            cache_creation_input_tokens: write_5m + write_1h,
            cache_creation_5m_input_tokens: write_5m,
            cache_creation_1h_input_tokens: write_1h,
            reasoning_output_tokens: 0,
            tool_use_input_tokens: 0,
        }
    }

    fn index(category: Category) -> usize {
        Category::ALL.iter().position(|c| *c == category).unwrap()
    }

    fn bytes_at(kv: &mut ResidentKv, now: Instant) -> [u64; 8] {
        kv.by_category(now).map(|(_, bytes)| bytes)
    }

    #[test]
    fn latest_call_of_a_key_replaces_its_prefix_and_keys_add_up() {
        let profile = KvProfile::from_name("llama-3.1-8b").unwrap();
        let bpt = profile.bytes_per_token();
        let mut kv = ResidentKv::new(profile.bytes_per_token());
        let t0 = Instant::now();
        kv.on_call(&call("s1", "m", Category::UserTurn, cached(0, 100, 0)), t0);
        kv.on_call(
            &call("s1", "m", Category::Compaction, cached(100, 20, 0)),
            t0,
        );
        // Another model of the same session has its own prefix.
        kv.on_call(&call("s1", "h", Category::Utility, cached(50, 0, 0)), t0);
        // No cache use: the key's prefix stays as it was.
        kv.on_call(&call("s1", "m", Category::UserTurn, cached(0, 0, 0)), t0);
        let bytes = bytes_at(&mut kv, t0);
        assert_eq!(bytes[index(Category::Compaction)], 120 * bpt);
        assert_eq!(bytes[index(Category::Utility)], 50 * bpt);
        assert_eq!(bytes[index(Category::UserTurn)], 0);
        assert_eq!(bytes.iter().sum::<u64>(), 170 * bpt);
    }

    #[test]
    fn prefixes_expire_after_their_ttl() {
        let profile = KvProfile::from_name("llama-3.1-8b").unwrap();
        let mut kv = ResidentKv::new(profile.bytes_per_token());
        let t0 = Instant::now();
        kv.on_call(&call("a", "m", Category::UserTurn, cached(10, 0, 0)), t0);
        kv.on_call(&call("b", "m", Category::Subagent, cached(0, 0, 10)), t0);
        let after_5m = t0 + Duration::from_secs(301);
        let bytes = bytes_at(&mut kv, after_5m);
        assert_eq!(
            bytes[index(Category::UserTurn)],
            0,
            "5-minute prefix expired"
        );
        assert!(
            bytes[index(Category::Subagent)] > 0,
            "1-hour prefix still held"
        );
        assert_eq!(bytes_at(&mut kv, t0 + Duration::from_secs(3601)), [0; 8]);
    }
}
