//! The Gemini API: routes, SSE framing, running usage snapshots, agentprof's usage convention,
//! implicit caching, thoughts, tool-use tokens, countTokens, the streamed JSON array, faults,
//! and secrets kept out of records. What the model answers (schema-driven JSON, scripted
//! function calls) is in `gemini_answers`.

use serde_json::{Value, json};

use super::*;
use crate::observation::Usage;

pub(super) const STREAM: &str = "/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse";
pub(super) const GENERATE: &str = "/v1beta/models/gemini-3.5-flash-lite:generateContent";
pub(super) const KEY: [(&str, &str); 2] = [
    ("x-goog-api-key", "test-SECRETKEY-gemini"),
    ("content-type", "application/json"),
];

pub(super) fn user_text(text: &str) -> Value {
    json!({"role": "user", "parts": [{"text": text}]})
}

/// A main-loop-shaped request: a long system prompt, one declared function, thinking on.
pub(super) fn main_request(contents: Value) -> Value {
    json!({
        "contents": contents,
        "systemInstruction": {"role": "user", "parts": [{"text": "You are Gemini CLI. ".repeat(300)}]},
        "tools": [{"functionDeclarations": [
            {"name": "list_directory", "description": "lists", "parametersJsonSchema": {"type": "object"}},
            {"name": "read_file", "description": "reads", "parametersJsonSchema": {"type": "object"}}
        ]}],
        "generationConfig": {"temperature": 1, "thinkingConfig": {"includeThoughts": true, "thinkingLevel": "HIGH"}},
    })
}

/// `usageMetadata` in agentprof's convention, computed here independently of the mock.
pub(super) fn convention(m: &Value) -> Usage {
    let n = |k: &str| m[k].as_u64().unwrap_or(0);
    let (prompt, cached, candidates, thoughts, tool) = (
        n("promptTokenCount"),
        n("cachedContentTokenCount"),
        n("candidatesTokenCount"),
        n("thoughtsTokenCount"),
        n("toolUsePromptTokenCount"),
    );
    assert_eq!(
        n("totalTokenCount"),
        prompt + candidates + thoughts + tool,
        "{m}"
    );
    Usage {
        input_tokens: prompt - cached + tool,
        output_tokens: candidates + thoughts,
        cache_read_input_tokens: cached,
        reasoning_output_tokens: thoughts,
        tool_use_input_tokens: tool,
        ..Usage::default()
    }
}

/// The SSE body's events, checking the framing: only `data: <one-line JSON>\r\n\r\n`.
pub(super) fn gemini_events(got: &Got) -> Vec<Value> {
    let body = std::str::from_utf8(&got.body).unwrap();
    assert!(body.ends_with("\r\n\r\n"), "{body:?}");
    body.split_terminator("\r\n\r\n")
        .map(|event| {
            let data = event.strip_prefix("data: ").unwrap_or_else(|| {
                panic!("event is not a lone data line: {event:?}");
            });
            assert!(!data.contains('\n') && !data.contains('\r'), "{data:?}");
            serde_json::from_str(data).unwrap()
        })
        .collect()
}

pub(super) fn record(mock: &MockUpstream, seq: u64) -> MockRecord {
    mock.records().into_iter().find(|r| r.seq == seq).unwrap()
}

#[tokio::test]
async fn sse_stream_is_framed_strictly_and_usage_is_a_running_snapshot() {
    let mock = start(MockConfig::default()).await;
    let got = send(
        &mock,
        "POST",
        STREAM,
        &KEY,
        Some(&main_request(json!([user_text("hi")]))),
    )
    .await
    .unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(got.headers["content-type"], "text/event-stream");
    assert!(got.headers.contains_key("x-goog-request-id"));
    let events = gemini_events(&got);
    assert!(events.len() >= 3, "{events:?}");
    let rec = record(&mock, 1);
    assert_eq!(rec.provider, "gemini");
    assert_eq!(rec.model.as_deref(), Some("gemini-3.8-flash"));
    assert!(rec.stream);
    assert_eq!(rec.tools, 2);
    assert_eq!(rec.session_id, None);
    for e in &events {
        assert_eq!(e["modelVersion"], "gemini-3.8-flash");
        assert_eq!(e["responseId"], rec.response_id.as_deref().unwrap());
        assert_eq!(e["candidates"][0]["index"], 0);
        assert!(e["usageMetadata"]["promptTokenCount"].as_u64().unwrap() > 1000);
    }
    // Thoughts first, then answer text; finishReason only on the last chunk.
    let first = &events[0]["candidates"][0]["content"]["parts"][0];
    assert_eq!(first["thought"], true);
    assert!(first["text"].as_str().unwrap().starts_with("**"));
    let (last, rest) = events.split_last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert!(
        rest.iter()
            .all(|e| e["candidates"][0].get("finishReason").is_none())
    );
    let text: String = events[1..]
        .iter()
        .map(|e| {
            e["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(!text.is_empty());

    // Snapshots grow; the last is the record; adding them up is wrong.
    let snapshots: Vec<Usage> = events
        .iter()
        .map(|e| convention(&e["usageMetadata"]))
        .collect();
    assert!(
        snapshots
            .windows(2)
            .all(|w| w[0].output_tokens <= w[1].output_tokens)
    );
    assert_eq!(snapshots.last().copied(), rec.usage);
    let mut sum = Usage::default();
    snapshots.iter().for_each(|s| sum.add(s));
    assert_ne!(Some(sum), rec.usage);
    let u = rec.usage.unwrap();
    assert!(u.reasoning_output_tokens > 0, "thinking is on");
    assert_eq!(u.cache_creation_input_tokens, 0);
    assert_eq!(
        u.input_tokens + u.cache_read_input_tokens + u.output_tokens,
        last["usageMetadata"]["totalTokenCount"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn repeated_prefix_is_read_from_the_implicit_cache_never_written() {
    let mock = start(MockConfig::default()).await;
    let first = main_request(json!([user_text("hi")]));
    let second = main_request(json!([
        user_text("hi"),
        {"role": "model", "parts": [{"text": "hello"}]},
        user_text("more")
    ]));
    let a = send(&mock, "POST", GENERATE, &KEY, Some(&first))
        .await
        .unwrap()
        .json();
    assert!(a["usageMetadata"].get("cachedContentTokenCount").is_none());
    let b = send(&mock, "POST", GENERATE, &KEY, Some(&second))
        .await
        .unwrap()
        .json();
    let m = &b["usageMetadata"];
    let cached = m["cachedContentTokenCount"].as_u64().unwrap();
    assert!(cached >= 1024 && cached < m["promptTokenCount"].as_u64().unwrap());
    let u = usage_of(&mock, 2);
    assert_eq!(u, convention(m));
    assert_eq!(u.cache_read_input_tokens, cached);
    assert_eq!(u.cache_creation_input_tokens, 0);
    assert_eq!(usage_of(&mock, 1).cache_creation_input_tokens, 0);
    assert_eq!(
        u.input_tokens + u.cache_read_input_tokens + u.output_tokens,
        m["totalTokenCount"].as_u64().unwrap()
    );
    // Non-streaming: one object with everything.
    let cand = &b["candidates"][0];
    assert_eq!(cand["finishReason"], "STOP");
    assert_eq!(cand["index"], 0);
    assert_eq!(cand["content"]["role"], "model");
    assert_eq!(b["modelVersion"], "gemini-3.5-flash-lite");
}

#[tokio::test]
async fn thinking_rules_and_tool_use_tokens() {
    let mock = start(MockConfig::default()).await;
    let with = |gc: Value, tools: Option<Value>| {
        let mut r = json!({"contents": [user_text("q")], "generationConfig": gc});
        if let Some(t) = tools {
            r["tools"] = t;
        }
        r
    };
    let cases = [
        (json!({}), false, false),
        (
            json!({"thinkingConfig": {"thinkingBudget": 0}}),
            false,
            false,
        ),
        (
            json!({"thinkingConfig": {"thinkingBudget": 0, "includeThoughts": true}}),
            false,
            false,
        ),
        (
            json!({"thinkingConfig": {"thinkingBudget": 512}}),
            true,
            false,
        ),
        (
            json!({"thinkingConfig": {"thinkingBudget": -1}}),
            true,
            false,
        ),
        (
            json!({"thinkingConfig": {"thinkingLevel": "LOW"}}),
            true,
            false,
        ),
        (
            json!({"thinkingConfig": {"includeThoughts": true}}),
            true,
            true,
        ),
        // The Python SDK sends thinkingConfig's members in snake_case; the API takes both.
        (
            json!({"thinking_config": {"include_thoughts": true, "thinking_budget": 1024}}),
            true,
            true,
        ),
    ];
    for (i, (gc, thinks, shows)) in cases.into_iter().enumerate() {
        let got = send(&mock, "POST", GENERATE, &KEY, Some(&with(gc.clone(), None)))
            .await
            .unwrap()
            .json();
        let m = &got["usageMetadata"];
        let thoughts = m["thoughtsTokenCount"].as_u64().unwrap_or(0);
        assert_eq!(thoughts > 0, thinks, "{gc}");
        let parts = got["candidates"][0]["content"]["parts"].as_array().unwrap();
        assert_eq!(parts[0]["thought"] == true, shows, "{gc}");
        if let Some(budget) = gc.pointer("/thinkingConfig/thinkingBudget")
            && budget.as_i64().unwrap() > 0
        {
            assert!(thoughts <= budget.as_u64().unwrap());
        }
        let u = usage_of(&mock, i as u64 + 1);
        assert_eq!(u.reasoning_output_tokens, thoughts);
        assert_eq!(
            u.output_tokens,
            m["candidatesTokenCount"].as_u64().unwrap() + thoughts
        );
    }
    // A built-in tool adds tool-use prompt tokens, counted in input and shown apart.
    let search = with(json!({}), Some(json!([{"googleSearch": {}}])));
    let got = send(&mock, "POST", GENERATE, &KEY, Some(&search))
        .await
        .unwrap()
        .json();
    let m = &got["usageMetadata"];
    assert_eq!(m["toolUsePromptTokenCount"], 128);
    let rec = record(&mock, 9);
    assert_eq!(rec.tools, 1);
    let u = rec.usage.unwrap();
    assert_eq!(u.tool_use_input_tokens, 128);
    assert_eq!(
        u.input_tokens,
        m["promptTokenCount"].as_u64().unwrap() + 128
    );
    assert_eq!(u, convention(m));
}

#[tokio::test]
async fn count_tokens_matches_the_prompt_and_records_no_usage() {
    let mock = start(MockConfig::default()).await;
    let body = json!({"contents": [user_text("count me, please")]});
    let count = send(
        &mock,
        "POST",
        "/v1beta/models/gemini-3.8-flash:countTokens",
        &KEY,
        Some(&body),
    )
    .await
    .unwrap()
    .json();
    let generated = send(
        &mock,
        "POST",
        "/v1beta/models/gemini-3.8-flash:generateContent",
        &KEY,
        Some(&body),
    )
    .await
    .unwrap()
    .json();
    assert_eq!(
        count["totalTokens"],
        generated["usageMetadata"]["promptTokenCount"]
    );
    // The wrapped form counts the same request the same way.
    let wrapped = json!({"generateContentRequest": {"model": "models/gemini-3.8-flash", "contents": body["contents"]}});
    let again = send(
        &mock,
        "POST",
        "/v1beta/models/gemini-3.8-flash:countTokens",
        &KEY,
        Some(&wrapped),
    )
    .await
    .unwrap()
    .json();
    assert_eq!(again["totalTokens"], count["totalTokens"]);
    let rec = record(&mock, 1);
    assert_eq!(rec.provider, "gemini");
    assert_eq!(rec.usage, None);
    assert_eq!(rec.response_id, None);
    assert!(!rec.stream);
}

#[tokio::test]
async fn stream_without_alt_sse_is_a_json_array() {
    let mock = start(MockConfig::default()).await;
    let body = main_request(json!([user_text("hi")]));
    let got = send(
        &mock,
        "POST",
        "/v1beta/models/gemini-3.8-flash:streamGenerateContent",
        &KEY,
        Some(&body),
    )
    .await
    .unwrap();
    assert_eq!(got.headers["content-type"], "application/json");
    let text = std::str::from_utf8(&got.body).unwrap();
    assert!(text.starts_with("[{") && text.ends_with("}]"));
    assert!(text.contains("},\r\n{"));
    let items = got.json();
    let items = items.as_array().unwrap();
    assert!(items.len() >= 3);
    let last = items.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    let rec = record(&mock, 1);
    assert!(rec.stream);
    assert_eq!(rec.usage, Some(convention(&last["usageMetadata"])));
}

#[tokio::test]
async fn routes_accept_any_prefix_versions_and_tuned_models() {
    let mock = start(MockConfig::default()).await;
    let body = json!({"contents": [user_text("x")]});
    for (path, model) in [
        (
            "/gateway/gemini/v1beta/models/gemini-2.5-pro:generateContent",
            "gemini-2.5-pro",
        ),
        (
            "/v1/models/gemini-3.8-flash:generateContent",
            "gemini-3.8-flash",
        ),
        (
            "/v1beta/tunedModels/my-model-1.2:generateContent",
            "tunedModels/my-model-1.2",
        ),
        (
            "/v1beta/models/gemini-3.8-flash%3AgenerateContent",
            "gemini-3.8-flash",
        ),
    ] {
        let got = send(&mock, "POST", path, &KEY, Some(&body)).await.unwrap();
        assert_eq!(got.status, 200, "{path}");
        assert_eq!(got.json()["modelVersion"], model, "{path}");
    }
    for path in [
        "/v1beta/models/gemini-3.8-flash:embedContent",
        "/v1beta/other/gemini-3.8-flash:generateContent",
        "/v9/models/gemini-3.8-flash:generateContent",
    ] {
        let got = send(&mock, "POST", path, &KEY, Some(&body)).await.unwrap();
        assert_eq!(got.status, 404, "{path}");
    }
    let bad = send(&mock, "POST", GENERATE, &KEY, Some(&json!({"nothing": []})))
        .await
        .unwrap();
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["status"], "INVALID_ARGUMENT");
}

#[tokio::test]
async fn keys_never_reach_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("records.jsonl");
    let mock = start(MockConfig {
        record_path: Some(file.clone()),
        ..MockConfig::default()
    })
    .await;
    let body = json!({"contents": [user_text("x")]});
    let path = "/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse&key=SECRETKEY-query";
    send(
        &mock,
        "POST",
        path,
        &[("authorization", "Bearer SECRETKEY-bearer")],
        Some(&body),
    )
    .await
    .unwrap();
    send(&mock, "POST", GENERATE, &KEY, Some(&body))
        .await
        .unwrap();
    let rec = record(&mock, 1);
    assert_eq!(
        rec.path,
        "/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse&key=***"
    );
    let all =
        serde_json::to_string(&mock.records()).unwrap() + &std::fs::read_to_string(&file).unwrap();
    assert!(!all.contains("SECRETKEY"), "{all}");
}

#[tokio::test]
async fn faults_in_gemini_shape() {
    let mock = start(MockConfig::default()).await;
    let body = main_request(json!([user_text("hi")]));
    let fault = |f: &'static str| [KEY[0], KEY[1], ("x-mock-fault", f)];

    let got = send(&mock, "POST", STREAM, &fault("status:429"), Some(&body))
        .await
        .unwrap();
    assert_eq!(got.status, 429);
    assert!(got.headers.contains_key("retry-after"));
    assert_eq!(
        got.json(),
        json!({"error": {"code": 429, "message": "Injected quota exhausted", "status": "RESOURCE_EXHAUSTED"}})
    );
    assert_eq!(record(&mock, 1).usage, None);

    // Cut after two events: the record is the second snapshot, the last the client read.
    let got = send(
        &mock,
        "POST",
        STREAM,
        &fault("reset-mid-stream:2"),
        Some(&body),
    )
    .await
    .unwrap();
    assert!(got.broken);
    let events = gemini_events(&got);
    assert_eq!(events.len(), 2);
    assert_eq!(
        record(&mock, 2).usage,
        Some(convention(&events[1]["usageMetadata"]))
    );

    // An error event: one chunk, then Google's error object as a data line.
    let got = send(&mock, "POST", STREAM, &fault("error-event"), Some(&body))
        .await
        .unwrap();
    let events = gemini_events(&got);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["error"]["status"], "UNAVAILABLE");
    assert_eq!(
        record(&mock, 3).usage,
        Some(convention(&events[0]["usageMetadata"]))
    );

    // The JSON array ends with an error element and stays valid JSON.
    let got = send(
        &mock,
        "POST",
        "/v1beta/models/gemini-3.8-flash:streamGenerateContent",
        &fault("error-event"),
        Some(&body),
    )
    .await
    .unwrap();
    let items = got.json();
    assert_eq!(items.as_array().unwrap().len(), 2);
    assert_eq!(items[1]["error"]["code"], 503);

    // Not JSON: a Gemini-shaped 400.
    let bad = send(&mock, "POST", GENERATE, &fault("nonsense"), Some(&body))
        .await
        .unwrap();
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["status"], "INVALID_ARGUMENT");
}
