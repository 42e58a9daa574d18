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

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;

use super::labels::CategoryOnly;
use crate::attribute::kv::KvProfile;
use crate::attribute::kv::live::ResidentKv;
use crate::observation::{Call, Category};

pub const NAME: &str = "agentprof_kv_bytes";
pub const HELP: &str = "Server KV-cache bytes held now by the run's prompt caches, under the \
assumed architecture of --kv-profile (see agentprof_kv_bytes_per_token). Approximation: each \
call's cached prefix (cache_read + cache_creation tokens x bytes per token) stays resident per \
(session, agent, model) for its cache TTL (5 min, or 1 h if it wrote 1-hour cache) from when \
the call ended, replaced by the next call of that key; labelled by the category of the call \
that last used it. Prompts in flight are not included.";

/// The resident prefixes ([`ResidentKv`]), shared between the sink and scrapes.
#[derive(Debug)]
pub struct KvResidency {
    held: Mutex<ResidentKv>,
}

impl KvResidency {
    pub fn new(profile: &KvProfile) -> KvResidency {
        KvResidency {
            held: Mutex::new(ResidentKv::new(profile.bytes_per_token())),
        }
    }

    /// Records a finished call that ended at `now`.
    pub fn on_call(&self, call: &Call, now: Instant) {
        self.lock().on_call(call, now);
    }

    /// Bytes resident at `now`, per category in [`Category::ALL`] order. Forgets expired prefixes.
    pub fn bytes_at(&self, now: Instant) -> [u64; 8] {
        self.lock().by_category(now).map(|(_, bytes)| bytes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ResidentKv> {
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
