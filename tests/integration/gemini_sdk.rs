//! The official `google-genai` Python SDK as a client of the mock upstream's Gemini API, direct
//! and through `agentprof run`: the SDK must parse every answer (SSE framing, JSON mode,
//! countTokens), and its `usage_metadata` must equal, field by field, what the mock recorded it
//! sent — and, through the proxy, what the trace says.

use std::collections::HashMap;
use std::process::Command;

use agentprof::demo::mock_upstream::MockRecord;
use agentprof::observation::Usage;
use serde_json::Value;

use crate::support::{Mock, python, python_script, run_under_agentprof, stderr, trace};

/// The SDK's `usage_metadata` in agentprof's convention: `input = prompt − cached + toolUse`,
/// `output = candidates + thoughts`.
fn convention(u: &Value) -> Usage {
    let n = |k: &str| u[k].as_u64().unwrap();
    Usage {
        input_tokens: n("prompt_token_count") - n("cached_content_token_count")
            + n("tool_use_prompt_token_count"),
        output_tokens: n("candidates_token_count") + n("thoughts_token_count"),
        cache_read_input_tokens: n("cached_content_token_count"),
        reasoning_output_tokens: n("thoughts_token_count"),
        tool_use_input_tokens: n("tool_use_prompt_token_count"),
        ..Usage::default()
    }
}

fn by_kind<'a>(seen: &'a [Value], kind: &str) -> &'a Value {
    seen.iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {seen:?}"))
}

#[test]
fn google_genai_sdk_parses_the_mock_and_its_usage_matches_the_records() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("seen.json");
    let output = Command::new(python())
        .arg(python_script("gemini_client.py"))
        .arg(mock.url())
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "client failed: {}",
        stderr(&output)
    );
    let seen: Vec<Value> = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let records = mock.records();
    let by_request: HashMap<&str, &MockRecord> =
        records.iter().map(|r| (r.request_id.as_str(), r)).collect();
    let record_of = |s: &Value| -> &MockRecord {
        by_request[s["request_id"].as_str().unwrap_or_else(|| panic!("{s}"))]
    };

    for kind in ["generate", "stream", "json", "search"] {
        let s = by_kind(&seen, kind);
        let rec = record_of(s);
        assert_eq!(rec.provider, "gemini", "{kind}");
        assert_eq!(rec.status, Some(200), "{kind}");
        assert_eq!(
            s["response_id"],
            rec.response_id.as_deref().unwrap(),
            "{kind}"
        );
        let usage = &s["usage"];
        assert_eq!(rec.usage, Some(convention(usage)), "{kind}: {usage}");
        let u = rec.usage.unwrap();
        assert_eq!(
            u.input_tokens + u.cache_read_input_tokens + u.output_tokens,
            usage["total_token_count"].as_u64().unwrap(),
            "{kind}"
        );
        assert_eq!(u.cache_creation_input_tokens, 0, "{kind}");
        // The key went in a header; nothing of it is recorded.
        assert!(!serde_json::to_string(rec).unwrap().contains("SECRETKEY"));
    }

    // Non-streaming with thinking: a thought part, thoughts counted as reasoning output.
    let generate = by_kind(&seen, "generate");
    let rec = record_of(generate);
    assert_eq!(generate["model_version"], "gemini-3.8-flash");
    assert_eq!(rec.model.as_deref(), Some("gemini-3.8-flash"));
    assert!(!rec.stream);
    assert_eq!(generate["finish_reason"], "STOP");
    assert_eq!(generate["thought_parts"], 1);
    assert!(generate["text_bytes"].as_u64().unwrap() > 0);
    assert!(rec.usage.unwrap().reasoning_output_tokens > 0);

    // Streaming: the SDK saw several chunks, each a snapshot; the last is the record, the sum
    // is not. The system prompt of the first call is read back from the implicit cache.
    let stream = by_kind(&seen, "stream");
    let rec = record_of(stream);
    assert!(rec.stream);
    assert!(
        rec.path.contains(":streamGenerateContent?alt=sse"),
        "{}",
        rec.path
    );
    assert!(stream["chunks"].as_u64().unwrap() >= 3);
    assert_eq!(stream["finish_reason"], "STOP");
    let snapshots: Vec<Usage> = stream["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(convention)
        .collect();
    assert_eq!(snapshots.last().copied(), rec.usage);
    let mut sum = Usage::default();
    snapshots.iter().for_each(|s| sum.add(s));
    assert_ne!(Some(sum), rec.usage);
    assert!(rec.usage.unwrap().cache_read_input_tokens >= 1024);

    // JSON mode with Gemini CLI's router schema: valid JSON the SDK parsed, an enum value.
    let json = by_kind(&seen, "json");
    assert_eq!(json["parsed"]["model_choice"], "flash");
    assert!(json["parsed"]["reasoning"].is_string());
    assert_eq!(
        record_of(json).model.as_deref(),
        Some("gemini-3.5-flash-lite")
    );

    // A built-in tool: tool-use prompt tokens, inside input and shown apart.
    let search = record_of(by_kind(&seen, "search"));
    assert_eq!(search.tools, 1);
    assert_eq!(search.usage.unwrap().tool_use_input_tokens, 128);

    // countTokens: a count for the client, no usage in the record.
    let count = by_kind(&seen, "count_tokens");
    assert!(count["total_tokens"].as_u64().unwrap() > 0);
    let counted = records
        .iter()
        .find(|r| r.path.contains(":countTokens"))
        .unwrap();
    assert_eq!(counted.provider, "gemini");
    assert_eq!(counted.usage, None);
    assert_eq!(counted.status, Some(200));
    assert_eq!(records.len(), 5, "one record per call, no retries");
}

/// A user's script under `agentprof run`: the SDK finds the proxy by itself (it reads the
/// `GOOGLE_GEMINI_BASE_URL` agentprof sets), gets every byte the mock sent, and the trace has each
/// call with the usage the SDK read; countTokens is an other request.
#[test]
fn google_genai_sdk_under_agentprof_run_is_measured_exactly() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("seen.json");
    let script = python_script("gemini_client.py");
    let python = python();
    let output = run_under_agentprof(
        &mock,
        dir.path(),
        &[
            python.to_str().unwrap(),
            &script,
            "env",
            out.to_str().unwrap(),
        ],
    );
    let said = stderr(&output);
    assert!(output.status.success(), "{said}");
    // The web search's tool-use prompt, inside input and said apart.
    assert!(said.contains("of which 128 tool-use prompt"), "{said}");
    let seen: Vec<Value> = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let trace = trace(dir.path());
    let records = mock.records();
    for kind in ["generate", "stream", "json", "search"] {
        let s = by_kind(&seen, kind);
        let call = trace
            .calls
            .iter()
            .find(|c| c.response_id.as_deref() == s["response_id"].as_str())
            .unwrap_or_else(|| panic!("{kind} not in the trace"));
        let record = records
            .iter()
            .find(|r| r.response_id == call.response_id)
            .unwrap();
        assert_eq!(call.usage, Some(convention(&s["usage"])), "{kind}");
        assert_eq!(call.usage, record.usage, "{kind}");
        assert_eq!(call.api, agentprof::observation::ApiKind::GenerateContent);
        assert_eq!(call.model, record.model, "{kind}");
        assert_eq!(call.stream, kind == "stream", "{kind}");
        assert_eq!(call.client_bytes, Some(call.response_bytes), "{kind}");
        assert!(call.error.is_none(), "{kind}: {:?}", call.error);
    }
    let counted: Vec<_> = trace
        .calls
        .iter()
        .filter(|c| c.path.contains(":countTokens"))
        .collect();
    assert_eq!(counted.len(), 1);
    assert!(!counted[0].is_model_call() && counted[0].usage.is_none());
    assert_eq!(trace.calls.len(), 5);
    let text = std::fs::read_to_string(dir.path().join("trace.jsonl")).unwrap();
    assert!(!text.contains("SECRETKEY"));
}
