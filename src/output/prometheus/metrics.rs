//! The metric families, their names and HELP texts, and how one call or one memory tick
//! updates them. Nothing here does I/O: [`Metrics::encode`] renders the exposition text.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use super::findings::LiveFindings;
use super::kv::KvResidency;
use super::labels::{
    CategoryModel, ErrorLabels, ModelLabels, ModelOnly, ProfileLabel, ProviderLabel,
    ProviderStatus, RequestLabels, RoleLabel, TokenLabels,
};
use crate::attribute::cost::PriceTable;
use crate::attribute::findings::Thresholds;
use crate::attribute::kv::KvProfile;
use crate::observation::{Call, CallErrorKind, MemorySample, ProcessRole};

/// Bucket bounds (seconds) for call latencies: a model call takes from a fraction of a second
/// (a cache-hit title) to minutes (a long generation with thinking).
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 180.0, 300.0, 600.0,
];

type Histograms = Family<CategoryModel, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Every exported metric, registered in one registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    models: ModelLabels,
    prices: PriceTable,
    kv: Arc<KvResidency>,
    findings: Arc<LiveFindings>,
    tokens: Family<TokenLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    other_requests: Family<ProviderStatus, Counter>,
    cost: Family<CategoryModel, Counter<f64, AtomicU64>>,
    unpriced: Family<ModelOnly, Counter>,
    turns: Counter,
    duration: Histograms,
    ttft: Histograms,
    request_bytes: Family<ProviderLabel, Counter>,
    response_bytes: Family<ProviderLabel, Counter>,
    rss: Family<RoleLabel, Gauge>,
    pss: Family<RoleLabel, Gauge>,
    processes: Family<RoleLabel, Gauge>,
    samples: Counter,
}

impl Metrics {
    /// `findings`: the thresholds the live findings judge with (run's finding flags, as
    /// `report` would).
    pub fn new(
        prices: PriceTable,
        kv_profile: &'static KvProfile,
        findings: Thresholds,
    ) -> Metrics {
        // HELP texts have no final period: prometheus-client adds one.
        let mut registry = Registry::default();
        let tokens = Family::default();
        registry.register(
            "agentprof_tokens",
            "Tokens of finished model calls, in Anthropic's convention: type=input is uncached \
             input, cache_creation cache writes, cache_read cache hits, output generated tokens",
            tokens.clone(),
        );
        let requests = Family::default();
        registry.register(
            "agentprof_requests",
            "Calls through the proxy, failed ones included; status is the HTTP status the \
             client got, or error when it got none. model=none: the call named no model",
            requests.clone(),
        );
        let errors = Family::default();
        registry.register(
            "agentprof_request_errors",
            "Calls that got a non-2xx status or were cut off, by what went wrong",
            errors.clone(),
        );
        let other_requests = Family::default();
        registry.register(
            "agentprof_other_requests",
            "Requests through the proxy that are not model calls (connectivity probes such as \
             HEAD /api/hello, model lists, token counting, auth): in no category, by the HTTP \
             status the client got, or error when it got none",
            other_requests.clone(),
        );
        let cost = Family::default();
        registry.register(
            "agentprof_cost_usd",
            format!(
                "USD cost of calls with a known price ({}, as of {}); unpriced calls are \
                 counted in agentprof_unpriced_requests_total instead",
                prices.source(),
                prices.as_of()
            ),
            cost.clone(),
        );
        let unpriced = Family::default();
        registry.register(
            "agentprof_unpriced_requests",
            "Calls with token usage whose model has no price: their cost is unknown, not 0",
            unpriced.clone(),
        );
        let turns = Counter::default();
        registry.register(
            "agentprof_turns",
            "User turns: main-loop calls that carry a new user prompt",
            turns.clone(),
        );
        let duration: Histograms = Family::new_with_constructor(latency_histogram);
        registry.register(
            "agentprof_request_duration_seconds",
            "Duration of finished calls, from the request reaching the proxy to the end of the \
             response",
            duration.clone(),
        );
        let ttft: Histograms = Family::new_with_constructor(latency_histogram);
        registry.register(
            "agentprof_time_to_first_token_seconds",
            "Time from the request reaching the proxy to the first response byte of successful \
             streaming calls",
            ttft.clone(),
        );
        let request_bytes = Family::default();
        registry.register(
            "agentprof_request_bytes",
            "Request body bytes the agent sent through the proxy",
            request_bytes.clone(),
        );
        let response_bytes = Family::default();
        registry.register(
            "agentprof_response_bytes",
            "Response body bytes the proxy passed back to the agent",
            response_bytes.clone(),
        );
        let rss = Family::default();
        registry.register(
            "agentprof_rss_bytes",
            "Resident set size of the agent's process tree at the last sample, by role \
             (main: the agent; subagent: descendants running the same executable; other: \
             every other descendant; total: the whole tree). Sums double-count shared pages",
            rss.clone(),
        );
        let pss = Family::default();
        registry.register(
            "agentprof_pss_bytes",
            "Proportional set size of the agent's process tree by role, at the last sample \
             that read PSS (shared pages split between the processes sharing them)",
            pss.clone(),
        );
        let processes = Family::default();
        registry.register(
            "agentprof_processes",
            "Processes in the agent's tree at the last sample, by role",
            processes.clone(),
        );
        let samples = Counter::default();
        registry.register(
            "agentprof_memory_samples",
            "Memory-sampler ticks over the agent's process tree",
            samples.clone(),
        );
        let bytes_per_token: Family<ProfileLabel, Gauge> = Family::default();
        bytes_per_token
            .get_or_create(&ProfileLabel {
                profile: kv_profile.name,
            })
            .set(i64::try_from(kv_profile.bytes_per_token()).unwrap_or(i64::MAX));
        registry.register(
            "agentprof_kv_bytes_per_token",
            format!(
                "Server KV-cache bytes per token assumed for agentprof_kv_bytes: {}",
                kv_profile.describe()
            ),
            bytes_per_token,
        );
        registry.register(
            "agentprof_build",
            "The agentprof version serving these metrics",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        let kv = Arc::new(KvResidency::new(kv_profile));
        registry.register_collector(Box::new(kv.clone()));
        let findings = Arc::new(LiveFindings::new(findings, prices.clone()));
        registry.register_collector(Box::new(findings.clone()));
        Metrics {
            registry,
            models: ModelLabels::default(),
            prices,
            kv,
            findings,
            tokens,
            requests,
            errors,
            other_requests,
            cost,
            unpriced,
            turns,
            duration,
            ttft,
            request_bytes,
            response_bytes,
            rss,
            pss,
            processes,
            samples,
        }
    }

    /// The live findings (fed here, evaluated by [`LiveFindings::refresh`]).
    pub fn findings(&self) -> &LiveFindings {
        &self.findings
    }

    /// Counts one finished, classified call that ended at `now`.
    pub fn on_call(&self, call: &Call, now: Instant) {
        self.findings.on_call(call);
        let provider = call.provider.as_str();
        let status: Arc<str> = match call.status {
            Some(code) => Arc::from(code.to_string()),
            None => Arc::from("error"),
        };
        let by_provider = ProviderLabel { provider };
        self.request_bytes
            .get_or_create(&by_provider)
            .inc_by(call.request_bytes);
        self.response_bytes
            .get_or_create(&by_provider)
            .inc_by(call.response_bytes);
        if !call.is_model_call() {
            self.other_requests
                .get_or_create(&ProviderStatus { provider, status })
                .inc();
            return;
        }
        let category = call.category.as_str();
        let model = self.models.label(call.model.as_deref());
        self.requests
            .get_or_create(&RequestLabels {
                category,
                model: model.clone(),
                provider,
                status,
            })
            .inc();
        if call.is_error() {
            let kind = call
                .error
                .as_ref()
                .map_or("upstream_status", |e| CallErrorKind::as_str(e.kind));
            self.errors
                .get_or_create(&ErrorLabels {
                    category,
                    model: model.clone(),
                    provider,
                    kind,
                })
                .inc();
        }
        if call.starts_turn {
            self.turns.inc();
        }
        let pair = CategoryModel {
            category,
            model: model.clone(),
        };
        if let Some(end) = call.t_end {
            self.duration
                .get_or_create(&pair)
                .observe((end - call.t_start).max(0.0));
        }
        if call.stream
            && !call.is_error()
            && let Some(first) = call.t_first_byte
        {
            self.ttft
                .get_or_create(&pair)
                .observe((first - call.t_start).max(0.0));
        }

        let Some(usage) = call.usage else {
            return;
        };
        // All four types, zeros included, so every model has the series a ratio needs.
        for (kind, count) in [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_creation", usage.cache_creation_input_tokens),
            ("cache_read", usage.cache_read_input_tokens),
        ] {
            self.tokens
                .get_or_create(&TokenLabels {
                    r#type: kind,
                    category,
                    model: model.clone(),
                    provider,
                })
                .inc_by(count);
        }
        match self.prices.cost(call.model.as_deref(), &usage) {
            Some(usd) => {
                self.cost.get_or_create(&pair).inc_by(usd);
            }
            None => {
                self.unpriced.get_or_create(&ModelOnly { model }).inc();
            }
        }
        self.kv.on_call(call, now);
    }

    /// Sets the memory gauges from one sampler tick.
    pub fn on_memory(&self, sample: &MemorySample) {
        self.findings.on_memory(sample);
        self.samples.inc();
        let mut count = 0;
        for role in ProcessRole::ALL {
            let memory = sample.role(role);
            let label = RoleLabel {
                role: role.as_str(),
            };
            self.rss.get_or_create(&label).set(gauge(memory.rss_bytes));
            self.processes
                .get_or_create(&label)
                .set(i64::from(memory.processes));
            count += i64::from(memory.processes);
            // PSS is read every few ticks only; keep the last reading in between.
            if sample.pss_bytes.is_some() {
                self.pss
                    .get_or_create(&label)
                    .set(gauge(memory.pss_bytes.unwrap_or(0)));
            }
        }
        let total = RoleLabel { role: "total" };
        self.rss.get_or_create(&total).set(gauge(sample.rss_bytes));
        self.processes.get_or_create(&total).set(count);
        if let Some(pss) = sample.pss_bytes {
            self.pss.get_or_create(&total).set(gauge(pss));
        }
    }

    /// The OpenMetrics text exposition of everything, KV residency computed as of now.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::with_capacity(16 * 1024);
        encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

fn gauge(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}
