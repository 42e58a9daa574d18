//! `agentprof_kv_bytes{category}`: server KV-cache bytes the run's prompt caches hold now.
//!
//! The report's KV model (`attribute::kv`) counts two things: prompts in flight and cached
//! prefixes resident for their TTL. A live sink only sees calls once they have finished, so
//! the in-flight part is not observable here; this gauge is the residency part alone, computed
//! at scrape time by the same rules: each call that read or wrote the prompt cache leaves its
//! cached prefix (`cache_read + cache_creation` tokens × the profile's bytes per token)
//! resident under its (session, agent, model) key for the cache TTL — one hour if it wrote any
//! 1-hour cache, else five minutes — and the next cache-using call of the same key replaces it
//! and restarts the TTL. A prefix is charged to the category of the call that last used it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;

use super::labels::CategoryOnly;
use crate::attribute::kv::{CACHE_TTL_1H, CACHE_TTL_5M, KvProfile};
use crate::observation::{Call, Category};

pub const NAME: &str = "agentprof_kv_bytes";
pub const HELP: &str = "Server KV-cache bytes held now by the run's prompt caches, under the \
assumed architecture of --kv-profile (see agentprof_kv_bytes_per_token). Approximation: each \
call's cached prefix (cache_read + cache_creation tokens x bytes per token) stays resident per \
(session, agent, model) for its cache TTL (5 min, or 1 h if it wrote 1-hour cache) from when \
the call ended, replaced by the next call of that key; labelled by the category of the call \
that last used it. Prompts in flight are not included.";

/// (session, agent, model): one prompt-cache prefix.
type Key = (Option<String>, Option<String>, Option<String>);

#[derive(Debug, Clone, Copy)]
struct Resident {
    bytes: u64,
    category: Category,
    until: Instant,
}

/// The resident prefixes, keyed like the report's KV model.
#[derive(Debug)]
pub struct KvResidency {
    bytes_per_token: u64,
    held: Mutex<HashMap<Key, Resident>>,
}

impl KvResidency {
    pub fn new(profile: &KvProfile) -> KvResidency {
        KvResidency {
            bytes_per_token: profile.bytes_per_token(),
            held: Mutex::new(HashMap::new()),
        }
    }

    /// Records a finished call that ended at `now`.
    pub fn on_call(&self, call: &Call, now: Instant) {
        let Some(usage) = call.usage else {
            return;
        };
        let cached = usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
        // A call that neither read nor wrote the cache leaves the key's prefix as it was.
        if cached == 0 {
            return;
        }
        let ttl = if usage.cache_creation_1h_input_tokens > 0 {
            CACHE_TTL_1H
        } else {
            CACHE_TTL_5M
        };
        let resident = Resident {
            bytes: cached.saturating_mul(self.bytes_per_token),
            category: call.category,
            until: now + Duration::from_secs_f64(ttl),
        };
        let key = (
            call.session_id.clone(),
            call.agent_id.clone(),
            call.model.clone(),
        );
        self.lock().insert(key, resident);
    }

    /// Bytes resident at `now`, per category in [`Category::ALL`] order. Forgets expired prefixes.
    pub fn bytes_at(&self, now: Instant) -> [u64; 8] {
        let mut held = self.lock();
        held.retain(|_, r| r.until > now);
        let mut bytes = [0u64; 8];
        for resident in held.values() {
            if let Some(i) = Category::ALL.iter().position(|c| *c == resident.category) {
                bytes[i] = bytes[i].saturating_add(resident.bytes);
            }
        }
        bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Resident>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Collector for KvResidency {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let bytes = self.bytes_at(Instant::now());
        let gauge = ConstGauge::new(0i64);
        let mut metric = encoder.encode_descriptor(NAME, HELP, None, gauge.metric_type())?;
        // Every category is always exported (at 0 when nothing is resident), so a stacked panel
        // keeps its series and a query for one category never comes back empty.
        for (category, bytes) in Category::ALL.iter().zip(bytes) {
            let labels = CategoryOnly {
                category: category.as_str(),
            };
            let value = i64::try_from(bytes).unwrap_or(i64::MAX);
            ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
            category,
            classified_by: String::new(),
            starts_turn: false,
            error: None,
            bodies: None,
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
        }
    }

    fn index(category: Category) -> usize {
        Category::ALL.iter().position(|c| *c == category).unwrap()
    }

    #[test]
    fn latest_call_of_a_key_replaces_its_prefix_and_keys_add_up() {
        let profile = KvProfile::from_name("llama-3.1-8b").unwrap();
        let bpt = profile.bytes_per_token();
        let kv = KvResidency::new(profile);
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
        let bytes = kv.bytes_at(t0);
        assert_eq!(bytes[index(Category::Compaction)], 120 * bpt);
        assert_eq!(bytes[index(Category::Utility)], 50 * bpt);
        assert_eq!(bytes[index(Category::UserTurn)], 0);
        assert_eq!(bytes.iter().sum::<u64>(), 170 * bpt);
    }

    #[test]
    fn prefixes_expire_after_their_ttl() {
        let profile = KvProfile::from_name("llama-3.1-8b").unwrap();
        let kv = KvResidency::new(profile);
        let t0 = Instant::now();
        kv.on_call(&call("a", "m", Category::UserTurn, cached(10, 0, 0)), t0);
        kv.on_call(&call("b", "m", Category::Subagent, cached(0, 0, 10)), t0);
        let after_5m = t0 + Duration::from_secs(301);
        let bytes = kv.bytes_at(after_5m);
        assert_eq!(
            bytes[index(Category::UserTurn)],
            0,
            "5-minute prefix expired"
        );
        assert!(
            bytes[index(Category::Subagent)] > 0,
            "1-hour prefix still held"
        );
        assert_eq!(kv.bytes_at(t0 + Duration::from_secs(3601)), [0; 8]);
    }
}
