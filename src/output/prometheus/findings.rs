//! Live findings as gauges: what `agentprof report` would list as findings if the run ended
//! now, so a Prometheus alert on them agrees with the report.
//!
//! The judging is `attribute::findings::live` ([`LiveJudge`]): the report's own functions on
//! what the sink recorded, at most every few seconds. The scrape that finds an evaluation due
//! runs it on tokio's blocking pool (see `server`); this module logs each new finding once and
//! encodes the last result.
//!
//! The gauges are generic over [`Finding`]: any kind the report learns is exported by kind,
//! severity and scope without a change here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Instant;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;

use super::labels::{FindingLabels, ScopeLabel};
use crate::attribute::cost::PriceTable;
#[cfg(test)]
use crate::attribute::findings::live::Retention;
use crate::attribute::findings::live::{LiveJudge, lock};
use crate::attribute::findings::{Finding, Thresholds};
use crate::observation::{Call, MemorySample};

pub const FINDINGS: &str = "agentprof_findings";
const FINDINGS_HELP: &str = "Findings agentprof report would list for the run so far (the \
same functions and --leak-* thresholds), by kind (memory_leak, ...), severity (warning, \
critical) and scope (tree: the whole process tree; process: one process of it). Re-evaluated \
at most every few seconds; 0 once a kind was seen but is no longer found";
pub const LEAK_RATE: &str = "agentprof_memory_leak_bytes_per_hour";
const LEAK_RATE_HELP: &str = "Idle memory growth of the worst current memory_leak finding per \
scope (tree, process), in bytes per hour; 0 when there is none";
pub const IDLE_GROWTH: &str = "agentprof_idle_memory_growth_bytes_per_hour";
const IDLE_GROWTH_HELP: &str = "How fast the process tree's RSS grows while no model call is \
in flight (the report's idle growth: a least-squares slope within idle stretches), in bytes \
per hour; absent until two idle samples are known";
pub const EVALUATION: &str = "agentprof_findings_evaluation_seconds";
const EVALUATION_HELP: &str = "How long the last evaluation of the findings took";
pub const KEPT: &str = "agentprof_findings_samples";
const KEPT_HELP: &str = "Memory samples kept for the findings (older ones are thinned beyond a \
cap, so a day-long run stays bounded)";

/// The kind whose rate is exported as [`LEAK_RATE`].
const MEMORY_LEAK: &str = "memory_leak";
/// Scopes and severities a memory leak can have: exported at 0 from the start, so a dashboard
/// shows "none" rather than "no data", and a query is never empty by accident.
const LEAK_SCOPES: [&str; 2] = ["tree", "process"];
const LEAK_SEVERITIES: [&str; 2] = ["warning", "critical"];

/// (kind, severity, scope) of a finding: the labels of [`FINDINGS`].
type Key = (String, String, String);

/// The gauge values of some findings: each (kind, severity, scope) counted, every key in
/// `known` exported (at 0 if absent now), and the worst memory leak rate per scope (0 if none).
fn gauges(findings: &[Finding], known: &BTreeSet<Key>) -> Gauges {
    let mut counts: BTreeMap<Key, i64> = known.iter().map(|k| (k.clone(), 0)).collect();
    let mut leak_rates: BTreeMap<String, f64> =
        LEAK_SCOPES.iter().map(|s| (s.to_string(), 0.0)).collect();
    for finding in findings {
        let key = (
            finding.kind.clone(),
            finding.severity.clone(),
            finding.place.scope.clone(),
        );
        *counts.entry(key).or_default() += 1;
        if finding.kind == MEMORY_LEAK {
            let worst = leak_rates.entry(finding.place.scope.clone()).or_default();
            *worst = worst.max(finding.rate);
        }
    }
    Gauges { counts, leak_rates }
}

#[derive(Debug, Clone, PartialEq)]
struct Gauges {
    counts: BTreeMap<Key, i64>,
    leak_rates: BTreeMap<String, f64>,
}

/// The last evaluation's result, as exported.
#[derive(Debug)]
struct Current {
    gauges: Gauges,
    idle_growth: Option<f64>,
    /// Every (kind, severity, scope) found so far, and the memory leak ones from the start.
    known: BTreeSet<Key>,
    /// Findings already logged, by (kind, scope, pid, category): each is logged once, when
    /// it appears.
    logged: BTreeSet<(String, String, Option<u32>, Option<String>)>,
    evaluation_seconds: f64,
    samples: usize,
}

/// Live findings over one run as gauges: the judge ([`LiveJudge`]) evaluates, this logs each
/// new finding once and keeps what a scrape encodes.
#[derive(Debug)]
pub struct LiveFindings {
    pub(crate) judge: LiveJudge,
    /// Held only to read or replace the result.
    current: Mutex<Current>,
}

impl LiveFindings {
    /// Judging with `thresholds` (run's finding flags) and pricing with `prices`, as `report`
    /// would.
    pub fn new(thresholds: Thresholds, prices: PriceTable) -> LiveFindings {
        Self::of(LiveJudge::new(thresholds, prices))
    }

    #[cfg(test)]
    fn with_retention(
        thresholds: Thresholds,
        prices: PriceTable,
        retention: Retention,
    ) -> LiveFindings {
        Self::of(LiveJudge::with_retention(thresholds, prices, retention))
    }

    fn of(judge: LiveJudge) -> LiveFindings {
        let known: BTreeSet<Key> = LEAK_SEVERITIES
            .iter()
            .flat_map(|severity| {
                LEAK_SCOPES.iter().map(move |scope| {
                    (
                        MEMORY_LEAK.to_string(),
                        severity.to_string(),
                        scope.to_string(),
                    )
                })
            })
            .collect();
        LiveFindings {
            judge,
            current: Mutex::new(Current {
                gauges: gauges(&[], &known),
                idle_growth: None,
                known,
                logged: BTreeSet::new(),
                evaluation_seconds: 0.0,
                samples: 0,
            }),
        }
    }

    /// Where trace offset 0 is on the wall clock (for a finding's `since`).
    pub fn on_start(&self, origin: jiff::Timestamp) {
        self.judge.on_start(origin);
    }

    pub fn on_call_start(&self, call: &Call) {
        self.judge.on_call_start(call);
    }

    pub fn on_call(&self, call: &Call) {
        self.judge.on_call(call);
    }

    pub fn on_memory(&self, sample: &MemorySample) {
        self.judge.on_memory(sample);
    }

    /// Whether [`LiveFindings::refresh`] would evaluate at `now` (cheap: for the server to
    /// decide whether to go to the blocking pool at all).
    pub fn due(&self, now: Instant) -> bool {
        self.judge.due(now)
    }

    /// Evaluates the findings if an evaluation is due at `now` and the record changed since
    /// the last one; returns whether it did. Blocks for the evaluation: call it off the async
    /// runtime's workers. A refresh while another runs returns at once.
    pub fn refresh(&self, now: Instant) -> bool {
        let Some(judged) = self.judge.refresh(now) else {
            return false;
        };
        let mut current = lock(&self.current);
        for finding in &judged.findings {
            let key = (
                finding.kind.clone(),
                finding.place.scope.clone(),
                finding.place.pid,
                finding.place.category.clone(),
            );
            if current.logged.insert(key) {
                tracing::warn!(
                    "finding ({}): {}: {}",
                    finding.severity,
                    finding.kind,
                    finding.detail
                );
            }
        }
        let gauges = gauges(&judged.findings, &current.known);
        current.known.extend(gauges.counts.keys().cloned());
        current.gauges = gauges;
        current.idle_growth = judged.idle_growth;
        current.evaluation_seconds = judged.took.as_secs_f64();
        current.samples = judged.samples;
        true
    }
}

impl Collector for LiveFindings {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let current = lock(&self.current);
        let int_gauge = ConstGauge::new(0i64);
        let float_gauge = ConstGauge::new(0.0f64);

        let mut metric =
            encoder.encode_descriptor(FINDINGS, FINDINGS_HELP, None, int_gauge.metric_type())?;
        for ((kind, severity, scope), count) in &current.gauges.counts {
            // Owned: the label derive takes no borrowed fields; a few short strings a scrape.
            let labels = FindingLabels {
                kind: kind.clone(),
                severity: severity.clone(),
                scope: scope.clone(),
            };
            ConstGauge::new(*count).encode(metric.encode_family(&labels)?)?;
        }

        let mut metric = encoder.encode_descriptor(
            LEAK_RATE,
            LEAK_RATE_HELP,
            None,
            float_gauge.metric_type(),
        )?;
        for (scope, rate) in &current.gauges.leak_rates {
            ConstGauge::new(*rate).encode(metric.encode_family(&ScopeLabel {
                scope: scope.clone(),
            })?)?;
        }

        if let Some(slope) = current.idle_growth {
            let metric = encoder.encode_descriptor(
                IDLE_GROWTH,
                IDLE_GROWTH_HELP,
                None,
                float_gauge.metric_type(),
            )?;
            ConstGauge::new(slope).encode(metric)?;
        }

        let metric = encoder.encode_descriptor(
            EVALUATION,
            EVALUATION_HELP,
            None,
            float_gauge.metric_type(),
        )?;
        ConstGauge::new(current.evaluation_seconds).encode(metric)?;
        let metric = encoder.encode_descriptor(KEPT, KEPT_HELP, None, int_gauge.metric_type())?;
        ConstGauge::new(i64::try_from(current.samples).unwrap_or(i64::MAX)).encode(metric)?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "findings_tests.rs"]
mod tests;
