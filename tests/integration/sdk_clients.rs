//! The official Python SDKs as clients, under `agentprof run`, against the mock upstream.
//!
//! Each test checks three records of the same calls against each other: what the mock says it
//! sent, what the SDK says it received, and what agentprof wrote in the trace.

use std::collections::HashMap;

use agentprof::observation::{ApiKind, CallErrorKind, Usage};
use serde_json::Value;

use crate::support::{
    Mock, all_outputs, python, python_script, report_json, run_under_agentprof, stderr, trace,
};

fn seen(dir: &std::path::Path) -> Vec<Value> {
    serde_json::from_slice(&std::fs::read(dir.join("seen.json")).unwrap()).unwrap()
}

fn by_kind<'a>(seen: &'a [Value], kind: &str) -> &'a Value {
    seen.iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {seen:?}"))
}

fn sum(usages: impl Iterator<Item = Usage>) -> Usage {
    let mut total = Usage::default();
    for u in usages {
        total.add(&u);
    }
    total
}

#[test]
fn anthropic_sdk_sees_upstream_bytes_and_trace_matches_mock_to_the_token() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("seen.json");
    let py = python();
    let script = python_script("anthropic_client.py");
    let output = run_under_agentprof(
        &mock,
        dir.path(),
        &[py.to_str().unwrap(), &script, out.to_str().unwrap()],
    );
    assert!(
        output.status.success(),
        "client failed: {}",
        stderr(&output)
    );

    let seen = seen(dir.path());
    let records = mock.records();
    let trace = trace(dir.path());
    let record_by_request: HashMap<_, _> =
        records.iter().map(|r| (r.request_id.clone(), r)).collect();

    // The SDK's parsed view equals what the mock sent.
    let stream = by_kind(&seen, "stream");
    let sent = record_by_request[stream["request_id"].as_str().unwrap()];
    assert_eq!(stream["id"], sent.response_id.as_deref().unwrap());
    let sent_usage = sent.usage.unwrap();
    assert_eq!(stream["usage"]["input_tokens"], sent_usage.input_tokens);
    assert_eq!(stream["usage"]["output_tokens"], sent_usage.output_tokens);
    assert_eq!(
        stream["usage"]["cache_creation_input_tokens"],
        sent_usage.cache_creation_input_tokens
    );
    assert_eq!(
        stream["usage"]["cache_read_input_tokens"],
        sent_usage.cache_read_input_tokens
    );

    // The raw stream is byte-identical to what the mock sent.
    let raw = by_kind(&seen, "stream_raw");
    let sent = record_by_request[raw["request_id"].as_str().unwrap()];
    assert_eq!(raw["body_bytes"], sent.body_bytes);
    assert_eq!(raw["body_fnv1a64"], sent.body_fnv1a64.as_str());

    // Every call the mock answered is in the trace with exactly its usage.
    assert_eq!(
        trace.calls.len(),
        records.len(),
        "one trace record per call"
    );
    for record in &records {
        let call = trace
            .calls
            .iter()
            .find(|c| c.upstream_request_id.as_deref() == Some(&record.request_id))
            .unwrap_or_else(|| panic!("call {} missing from trace", record.request_id));
        assert_eq!(call.usage, record.usage, "usage of {}", record.request_id);
        assert_eq!(call.status, record.status);
    }
    let trace_total = sum(trace.calls.iter().filter_map(|c| c.usage));
    let mock_total = sum(records.iter().filter_map(|r| r.usage));
    assert_eq!(trace_total, mock_total);
    assert!(trace_total.output_tokens > 0 && trace_total.cache_read_input_tokens > 0);

    // Pass-through endpoints and error statuses.
    assert!(
        by_kind(&seen, "count_tokens")["input_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(by_kind(&seen, "models")["count"].as_u64().unwrap() > 0);
    assert!(
        trace
            .calls
            .iter()
            .any(|c| c.api == ApiKind::Other && c.path.starts_with("/v1/messages/count_tokens"))
    );
    assert!(
        trace
            .calls
            .iter()
            .any(|c| c.api == ApiKind::Other && c.path.starts_with("/v1/models"))
    );
    // They are not model calls: the report counts them apart, in no category or total.
    let report = report_json(dir.path());
    let model_calls = trace.calls.iter().filter(|c| c.is_model_call()).count();
    let other = &report["other_requests"];
    assert_eq!(report["totals"]["requests"], model_calls);
    assert_eq!(other["requests"], trace.calls.len() - model_calls);
    assert_eq!(
        other["by_path"]["POST /v1/messages/count_tokens"], 1,
        "{other}"
    );
    assert!(
        other["by_path"]["GET /v1/models"].as_u64().unwrap() >= 1,
        "{other}"
    );
    let categorised: u64 = report["categories"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(categorised, model_calls as u64);
    let overloaded = by_kind(&seen, "status_529");
    assert_eq!(overloaded["status"], 529);
    assert_eq!(overloaded["error_type"], "overloaded_error");
    let failed = trace.calls.iter().find(|c| c.status == Some(529)).unwrap();
    assert_eq!(
        failed.error.as_ref().unwrap().kind,
        CallErrorKind::UpstreamStatus
    );

    // The key the client used is nowhere in agentprof's outputs.
    let everything = all_outputs(dir.path(), &output);
    assert!(
        !everything.contains("SECRETKEY"),
        "API key leaked into an output"
    );
    assert!(
        everything.contains("\"type\":\"call\""),
        "the grep saw the trace"
    );
}

#[test]
fn openai_sdk_without_include_usage_sees_no_usage_but_trace_has_it() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("seen.json");
    let py = python();
    let script = python_script("openai_client.py");
    let output = run_under_agentprof(
        &mock,
        dir.path(),
        &[py.to_str().unwrap(), &script, out.to_str().unwrap()],
    );
    assert!(
        output.status.success(),
        "client failed: {}",
        stderr(&output)
    );

    let seen = seen(dir.path());
    let records = mock.records();
    let trace = trace(dir.path());
    let record_by_request: HashMap<_, _> =
        records.iter().map(|r| (r.request_id.clone(), r)).collect();
    let call_by_request: HashMap<_, _> = trace
        .calls
        .iter()
        .map(|c| (c.upstream_request_id.clone().unwrap(), c))
        .collect();

    // Asked for usage: the client gets the mock's usage chunk.
    let with_usage = by_kind(&seen, "stream_usage");
    let sent = record_by_request[with_usage["request_id"].as_str().unwrap()];
    let sent_usage = sent.usage.unwrap();
    assert_eq!(
        with_usage["usage"]["prompt_tokens"],
        sent_usage.prompt_tokens()
    );
    assert_eq!(
        with_usage["usage"]["cached_tokens"],
        sent_usage.cache_read_input_tokens
    );
    assert_eq!(
        with_usage["usage"]["cache_write_tokens"],
        sent_usage.cache_creation_input_tokens
    );
    assert!(
        sent_usage.cache_creation_input_tokens > 0,
        "the first call wrote its long system prompt to the cache: {sent_usage:?}"
    );

    // The Responses API: the SDK's usage, the mock's record and the trace agree, cache writes
    // (first call) and reads (second) split out of the prompt without double counting.
    for kind in ["responses_first", "responses_again"] {
        let got = by_kind(&seen, kind);
        let request_id = got["request_id"].as_str().unwrap();
        let sent = record_by_request[request_id].usage.unwrap();
        assert_eq!(call_by_request[request_id].usage, Some(sent), "{kind}");
        assert_eq!(call_by_request[request_id].api, ApiKind::Responses);
        assert_eq!(got["input_tokens"], sent.prompt_tokens(), "{kind}");
        assert_eq!(got["cached_tokens"], sent.cache_read_input_tokens, "{kind}");
        assert_eq!(
            got["cache_write_tokens"], sent.cache_creation_input_tokens,
            "{kind}"
        );
        assert_eq!(got["output_tokens"], sent.output_tokens, "{kind}");
    }
    let first = record_by_request[by_kind(&seen, "responses_first")["request_id"]
        .as_str()
        .unwrap()]
    .usage
    .unwrap();
    let again = record_by_request[by_kind(&seen, "responses_again")["request_id"]
        .as_str()
        .unwrap()]
    .usage
    .unwrap();
    assert!(first.cache_creation_input_tokens > 0 && first.cache_read_input_tokens == 0);
    assert!(again.cache_read_input_tokens > 0 && again.cache_creation_input_tokens == 0);
    assert_eq!(
        with_usage["usage"]["completion_tokens"],
        sent_usage.output_tokens
    );
    let raw = by_kind(&seen, "stream_usage_raw");
    let sent = record_by_request[raw["request_id"].as_str().unwrap()];
    assert_eq!(
        raw["body_fnv1a64"],
        sent.body_fnv1a64.as_str(),
        "client asked for usage: bytes untouched"
    );

    // Did not ask: no usage chunk, no usage member, yet the trace has the exact usage.
    for kind in ["stream_no_usage", "stream_no_usage_raw"] {
        let s = by_kind(&seen, kind);
        let request_id = s["request_id"].as_str().unwrap();
        let sent = record_by_request[request_id];
        assert!(sent.usage.is_some(), "agentprof asked upstream for usage");
        assert_eq!(call_by_request[request_id].usage, sent.usage);
    }
    let parsed = by_kind(&seen, "stream_no_usage");
    assert_eq!(parsed["chunks_with_usage"], 0);
    assert_eq!(parsed["empty_choice_chunks"], 0);
    assert!(parsed["chunks"].as_u64().unwrap() > 1);
    assert_eq!(
        by_kind(&seen, "stream_no_usage_raw")["mentions_usage"],
        false
    );

    // Totals to the token.
    assert_eq!(trace.calls.len(), records.len());
    let trace_total = sum(trace.calls.iter().filter_map(|c| c.usage));
    let mock_total = sum(records.iter().filter_map(|r| r.usage));
    assert_eq!(trace_total, mock_total);
    let nonstream = by_kind(&seen, "nonstream");
    let call = call_by_request[nonstream["request_id"].as_str().unwrap()];
    assert_eq!(call.api, ApiKind::ChatCompletions);
    assert!(!call.stream);
    assert_eq!(
        call.usage.unwrap().output_tokens,
        nonstream["usage"]["completion_tokens"].as_u64().unwrap()
    );

    let everything = all_outputs(dir.path(), &output);
    assert!(
        !everything.contains("SECRETKEY"),
        "API key leaked into an output"
    );
}
