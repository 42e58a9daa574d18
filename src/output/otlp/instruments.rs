//! The metric instruments, exactly as the product spec names them, and what each call or memory
//! tick records on them.
//!
//! | instrument | kind | unit | attributes |
//! |---|---|---|---|
//! | `gen_ai.client.token.usage` | histogram | `{token}` | operation, provider, request model, `gen_ai.token.type` (`input` = all prompt tokens, `output`), category |
//! | `gen_ai.client.operation.duration` | histogram | `s` | operation, provider, request model, category, `error.type` on failures |
//! | `agentprof.tokens` | counter | `{token}` | `agentprof.token.type` (`input` uncached, `output`, `cache_creation`, `cache_read`), category, provider, request model |
//! | `agentprof.cost` | counter | `USD` | category, provider, request model (known prices only) |
//! | `agentprof.process.memory.rss` | gauge | `By` | `agentprof.process.role` (`total`, `main`, `subagent`, `other`) |
//! | `agentprof.process.memory.pss` | gauge | `By` | same, on ticks where PSS was read |
//! | `agentprof.kv.bytes` | gauge | `By` | category (see `kv`) |
//!
//! Histogram buckets are the ones the GenAI conventions recommend.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter, ObservableGauge};

use super::attributes::{self as attr, with};
use crate::attribute::cost::PriceTable;
use crate::attribute::kv::live::ResidentKv;
use crate::observation::{Call, MemorySample, ProcessRole};

const TOKEN_BUCKETS: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];
const DURATION_BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// Every instrument, registered on one meter.
pub struct Instruments {
    token_usage: Histogram<u64>,
    duration: Histogram<f64>,
    tokens: Counter<u64>,
    cost: Counter<f64>,
    rss: Gauge<u64>,
    pss: Gauge<u64>,
    kv: Arc<Mutex<ResidentKv>>,
    prices: PriceTable,
    // Kept so the callback's registration lives as long as the exporter.
    _kv_gauge: ObservableGauge<u64>,
}

impl Instruments {
    /// `kv_armed` gates the KV gauge, the one instrument that reports without being fed: until
    /// it is set, every collection is empty and nothing at all is exported.
    pub fn new(
        meter: &Meter,
        bytes_per_token: u64,
        kv_armed: Arc<AtomicBool>,
        prices: PriceTable,
    ) -> Instruments {
        let kv = Arc::new(Mutex::new(ResidentKv::new(bytes_per_token)));
        let observed = Arc::clone(&kv);
        let kv_gauge = meter
            .u64_observable_gauge("agentprof.kv.bytes")
            .with_unit("By")
            .with_description(
                "Server KV bytes of prompt-cache prefixes still within their TTL, under the \
                 run's KV profile (an estimate: Claude's architecture is not public)",
            )
            .with_callback(move |observer| {
                if !kv_armed.load(Ordering::Relaxed) {
                    return;
                }
                let by_category = lock(&observed).by_category(Instant::now());
                for (category, bytes) in by_category {
                    observer.observe(bytes, &[KeyValue::new(attr::CATEGORY, category.as_str())]);
                }
            })
            .build();
        Instruments {
            token_usage: meter
                .u64_histogram("gen_ai.client.token.usage")
                .with_unit("{token}")
                .with_description("Number of input and output tokens used")
                .with_boundaries(TOKEN_BUCKETS.to_vec())
                .build(),
            duration: meter
                .f64_histogram("gen_ai.client.operation.duration")
                .with_unit("s")
                .with_description("GenAI operation duration")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            tokens: meter
                .u64_counter("agentprof.tokens")
                .with_unit("{token}")
                .with_description(
                    "Tokens by type: uncached input, output, cache writes, cache reads",
                )
                .build(),
            cost: meter
                .f64_counter("agentprof.cost")
                .with_unit("USD")
                .with_description("Cost at the bundled list prices (calls of known models only)")
                .build(),
            rss: meter
                .u64_gauge("agentprof.process.memory.rss")
                .with_unit("By")
                .with_description("Resident set size of the agent's processes, summed by role")
                .build(),
            pss: meter
                .u64_gauge("agentprof.process.memory.pss")
                .with_unit("By")
                .with_description("Proportional set size of the agent's processes, summed by role")
                .build(),
            kv,
            prices,
            _kv_gauge: kv_gauge,
        }
    }

    /// Records one finished call. Other requests (probes, model lists, token counting) are
    /// not GenAI operations and belong to no category: their span is all they get.
    pub fn record_call(&self, call: &Call) {
        if !call.is_model_call() {
            return;
        }
        let base = attr::metric_base(call);
        if let Some(end) = call.t_end {
            let mut attributes = base.clone();
            if let Some(error) = attr::error_type(call) {
                attributes.push(KeyValue::new(attr::ERROR_TYPE, error));
            }
            self.duration
                .record((end - call.t_start).max(0.0), &attributes);
        }
        let Some(usage) = call.usage else {
            return;
        };
        for (kind, n) in [
            ("input", usage.prompt_tokens()),
            ("output", usage.output_tokens),
        ] {
            self.token_usage
                .record(n, &with(&base, KeyValue::new(attr::TOKEN_TYPE, kind)));
        }
        // agentprof's own counters carry no operation name.
        let own: Vec<KeyValue> = base
            .into_iter()
            .filter(|kv| kv.key.as_str() != attr::OPERATION)
            .collect();
        let by_type = [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_creation", usage.cache_creation_input_tokens),
            ("cache_read", usage.cache_read_input_tokens),
        ];
        for (kind, n) in by_type.into_iter().filter(|(_, n)| *n > 0) {
            self.tokens.add(
                n,
                &with(&own, KeyValue::new(attr::AGENTPROF_TOKEN_TYPE, kind)),
            );
        }
        if let Some(usd) = self.prices.cost(call.model.as_deref(), &usage) {
            self.cost.add(usd, &own);
        }
        lock(&self.kv).on_call(call, Instant::now());
    }

    /// Records one sampler tick: RSS always, PSS when this tick read it.
    pub fn record_memory(&self, sample: &MemorySample) {
        let total = [("total", sample.rss_bytes, sample.pss_bytes)];
        let roles = ProcessRole::ALL.map(|role| {
            let memory = sample.role(role);
            (role.as_str(), memory.rss_bytes, memory.pss_bytes)
        });
        for (role, rss, pss) in total.into_iter().chain(roles) {
            let attributes = [KeyValue::new(attr::ROLE, role)];
            self.rss.record(rss, &attributes);
            if let Some(pss) = pss {
                self.pss.record(pss, &attributes);
            }
        }
    }
}

/// The KV state stays usable after a panic elsewhere: it holds plain numbers.
fn lock(kv: &Mutex<ResidentKv>) -> std::sync::MutexGuard<'_, ResidentKv> {
    kv.lock().unwrap_or_else(PoisonError::into_inner)
}
