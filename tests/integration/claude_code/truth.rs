//! The ground truth a Claude Code run is checked against, and the checks.
//!
//! Tokens come from the mock upstream's record of what it sent. What each call was comes from
//! Claude Code itself: its own telemetry logs one `claude_code.api_request` per call with the
//! upstream's request id and its internal `query_source` (`sdk`, `repl_main_thread`,
//! `agent:builtin:…`, `compact`, `generate_session_title`, …). Requests that are not model calls
//! (the `HEAD /api/hello` probe) are in the mock's record too.

use std::collections::BTreeMap;

use agentprof::attribute::telemetry_join::{API_REQUEST, category_of_query_source};
use agentprof::demo::mock_upstream::MockRecord;
use agentprof::observation::{Category, Usage};
use agentprof::output::trace::ReadTrace;
use serde_json::Value;

/// What the report must say.
#[derive(Debug, Default)]
pub struct Truth {
    /// Calls and tokens per category.
    pub categories: BTreeMap<Category, (u64, Usage)>,
    /// Requests that are not model calls, per `METHOD /path`.
    pub other: BTreeMap<String, u64>,
    /// Category per upstream request id.
    pub category_of: BTreeMap<String, Category>,
}

/// The paths of model calls.
fn is_model_call(record: &MockRecord) -> bool {
    let path = record.path.split('?').next().unwrap_or_default();
    record.method == "POST" && path == "/v1/messages"
}

/// Builds the truth from the mock's record and the agent's own telemetry in the trace.
pub fn truth(records: &[MockRecord], trace: &ReadTrace) -> Truth {
    let source_of: BTreeMap<&str, &str> = trace
        .telemetry
        .iter()
        .filter(|e| e.event == API_REQUEST)
        .filter_map(|e| Some((e.request_id.as_deref()?, e.query_source.as_deref()?)))
        .collect();
    let mut truth = Truth::default();
    for record in records {
        if !is_model_call(record) {
            let path = record.path.split('?').next().unwrap_or_default();
            *truth
                .other
                .entry(format!("{} {path}", record.method))
                .or_default() += 1;
            continue;
        }
        let source = source_of
            .get(record.request_id.as_str())
            .unwrap_or_else(|| {
                panic!(
                    "Claude Code logged no api_request for {} ({record:?}); telemetry: {:#?}",
                    record.request_id, trace.telemetry
                )
            });
        let category = category_of_query_source(source)
            .unwrap_or_else(|| panic!("unknown query_source {source:?} of {record:?}"));
        let entry = truth.categories.entry(category).or_default();
        entry.0 += 1;
        entry.1.add(&record.usage.unwrap_or_default());
        truth
            .category_of
            .insert(record.request_id.clone(), category);
    }
    truth
}

/// Per category, calls and tokens in the report equal the truth exactly; other requests are
/// counted apart; every call has a price.
pub fn check_report(report: &Value, truth: &Truth, label: &str) {
    for category in Category::ALL {
        let bucket = &report["categories"][category.as_str()];
        let (calls, usage) = truth.categories.get(&category).copied().unwrap_or_default();
        let got = (
            bucket["requests"].as_u64(),
            bucket["input_tokens"].as_u64(),
            bucket["output_tokens"].as_u64(),
            bucket["cache_creation_input_tokens"].as_u64(),
            bucket["cache_read_input_tokens"].as_u64(),
        );
        let want = (
            Some(calls),
            Some(usage.input_tokens),
            Some(usage.output_tokens),
            Some(usage.cache_creation_input_tokens),
            Some(usage.cache_read_input_tokens),
        );
        assert_eq!(
            got, want,
            "{label}: {category} (calls, input, output, cache write, cache read)"
        );
    }
    let other: BTreeMap<String, u64> = report["other_requests"]["by_path"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(other, truth.other, "{label}: other requests");
    assert_eq!(
        report["other_requests"]["errors"], 0,
        "{label}: the probe is answered"
    );
    assert_eq!(report["totals"]["errors"], 0, "{label}: a clean session");
    assert!(
        report["totals"]["cost_usd"]
            .as_f64()
            .is_some_and(|c| c > 0.0),
        "{label}: every call has a price: totals {} warnings {}",
        report["totals"],
        report["warnings"]
    );
    for (model, bucket) in report["models"].as_object().unwrap() {
        assert!(
            bucket["cost_usd"].is_number(),
            "{label}: model {model} has no price"
        );
    }
}

/// The rules alone (the category recorded live, before telemetry) already got every call right.
pub fn check_rules(trace: &ReadTrace, truth: &Truth, label: &str) {
    for call in trace.calls.iter().filter(|c| c.is_model_call()) {
        let id = call.upstream_request_id.as_deref().unwrap();
        assert_eq!(
            Some(&call.category),
            truth.category_of.get(id),
            "{label}: call {} ({}) classified live by {}",
            call.id,
            id,
            call.classified_by
        );
    }
}
