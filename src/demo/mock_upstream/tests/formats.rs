//! Anthropic formats, token counting, prompt caching and scripted answers.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn count_tokens_and_models() {
    let mock = start(MockConfig::default()).await;
    let body = request(json!([user("hello")]), false);
    let got = send(
        &mock,
        "POST",
        "/v1/messages/count_tokens?beta=true",
        &ANTHROPIC,
        Some(&body),
    )
    .await
    .unwrap();
    // prefix = system + tools JSON, then one segment per message, each ceil(bytes / 4).
    let prefix = tokens::canonical_bytes(&body["system"]).len()
        + tokens::canonical_bytes(&body["tools"]).len();
    let msg = tokens::canonical_bytes(&body["messages"][0]).len();
    let expected = (prefix as u64).div_ceil(4) + (msg as u64).div_ceil(4);
    assert_eq!(got.json(), json!({"input_tokens": expected}));
    let models = send(&mock, "GET", "/v1/models", &ANTHROPIC, None)
        .await
        .unwrap()
        .json();
    assert_eq!(models["data"][0]["type"], "model");
    assert_eq!(models["has_more"], false);
    let oa = send(
        &mock,
        "GET",
        "/v1/models",
        &[("authorization", "Bearer x")],
        None,
    )
    .await
    .unwrap()
    .json();
    assert_eq!(oa["object"], "list");
    assert_eq!(oa["data"][0]["object"], "model");
}

#[tokio::test]
async fn the_probe_and_unknown_paths_are_answered_and_recorded() {
    let mock = start(MockConfig::default()).await;
    let hello = send(&mock, "HEAD", "/api/hello", &[], None).await.unwrap();
    assert_eq!((hello.status, hello.body.len()), (200, 0));
    let lost = send(&mock, "GET", "/v1/nowhere?x=1", &ANTHROPIC, None)
        .await
        .unwrap();
    assert_eq!(lost.status, 404);
    assert_eq!(lost.json()["error"]["type"], "not_found_error");
    let records = mock.records();
    let seen: Vec<(&str, &str, Option<u16>)> = records
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.status))
        .collect();
    assert_eq!(
        seen,
        [
            ("HEAD", "/api/hello", Some(200)),
            ("GET", "/v1/nowhere?x=1", Some(404))
        ]
    );
    assert!(
        records
            .iter()
            .all(|r| r.usage.is_none() && r.model.is_none())
    );
}

#[tokio::test]
async fn anthropic_stream_has_real_event_order_and_matches_json_usage() {
    let mock = start(MockConfig::default()).await;
    let body = request(json!([user("hello")]), true);
    let got = send(
        &mock,
        "POST",
        "/v1/messages?beta=true",
        &ANTHROPIC,
        Some(&body),
    )
    .await
    .unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(got.headers["content-type"], "text/event-stream");
    assert!(
        got.headers["request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_mock_")
    );
    let names = got.names();
    let deltas = names.iter().filter(|n| *n == "content_block_delta").count();
    assert!(deltas >= 3, "{names:?}");
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(std::iter::repeat_n("content_block_delta", deltas));
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);
    let events = got.events();
    let first: Value = serde_json::from_str(&events[0].data).unwrap();
    assert!(
        events[0]
            .data
            .starts_with(r#"{"type":"message_start","message":{"id":"msg_mock_1_"#),
        "{}",
        events[0].data
    );
    assert_eq!(first["message"]["usage"]["output_tokens"], 1);
    assert!(
        first["message"]["usage"]["cache_creation"]["ephemeral_5m_input_tokens"]
            .as_u64()
            .unwrap()
            > 1000
    );
    let text: String = events
        .iter()
        .filter(|e| e.event.as_deref() == Some("content_block_delta"))
        .map(|e| {
            serde_json::from_str::<Value>(&e.data).unwrap()["delta"]["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let delta: Value = serde_json::from_str(&events[events.len() - 2].data).unwrap();
    let out = delta["usage"]["output_tokens"].as_u64().unwrap();
    assert_eq!(text.len() as u64, 4 * out);
    assert_eq!(
        delta["usage"]["input_tokens"],
        first["message"]["usage"]["input_tokens"]
    );
    let rec = usage_of(&mock, 1);
    assert_eq!(rec.output_tokens, out);
    assert_eq!(
        rec.cache_creation_input_tokens,
        rec.cache_creation_5m_input_tokens
    );

    // The same request against a fresh mock, non-streaming, reports the same usage.
    let fresh = start(MockConfig::default()).await;
    let got = send(
        &fresh,
        "POST",
        "/v1/messages",
        &ANTHROPIC,
        Some(&request(json!([user("hello")]), false)),
    )
    .await
    .unwrap();
    let msg = got.json();
    assert_eq!(msg["type"], "message");
    assert_eq!(msg["stop_reason"], "end_turn");
    assert_eq!(msg["usage"]["output_tokens"].as_u64(), Some(out));
    assert_eq!(usage_of(&fresh, 1), rec);
    assert_ne!(mock.records()[0].response_id, None);
}

#[tokio::test]
async fn cache_reads_grow_and_expire_with_injected_clock() {
    let clock = ManualClock::new();
    let mock = start(MockConfig {
        clock: clock.clock(),
        ..Default::default()
    })
    .await;
    let a = json!({"role": "assistant", "content": [{"type": "text", "text": "A".repeat(400)}]});
    let first = request(json!([user("one")]), false);
    let second = request(json!([user("one"), a, user("two")]), false);
    for body in [&first, &second] {
        send(&mock, "POST", "/v1/messages", &ANTHROPIC, Some(body))
            .await
            .unwrap();
    }
    let (u1, u2) = (usage_of(&mock, 1), usage_of(&mock, 2));
    assert_eq!(u1.cache_read_input_tokens, 0);
    assert!(u1.cache_creation_input_tokens > 1000);
    assert_eq!(u2.cache_read_input_tokens, u1.cache_creation_input_tokens);
    assert!(u2.cache_creation_input_tokens > 100); // "one" and the assistant message
    assert!(u2.prompt_tokens() > u1.prompt_tokens());
    clock.advance(Duration::from_secs(301));
    send(&mock, "POST", "/v1/messages", &ANTHROPIC, Some(&second))
        .await
        .unwrap();
    let u3 = usage_of(&mock, 3);
    assert_eq!(u3.cache_read_input_tokens, 0, "5-minute entries expired");
    assert_eq!(u3.prompt_tokens(), u2.prompt_tokens());
    // Without any cache_control marker nothing is cached.
    let mut plain = second.clone();
    plain["system"] = json!("plain system");
    send(&mock, "POST", "/v1/messages", &ANTHROPIC, Some(&plain))
        .await
        .unwrap();
    let u4 = usage_of(&mock, 4);
    assert_eq!(
        (u4.cache_read_input_tokens, u4.cache_creation_input_tokens),
        (0, 0)
    );
}

#[tokio::test]
async fn script_rules_answer_with_tool_use() {
    let script = Script::from_json(
        r#"{"rules":[
        {"when":{"has_tool":"Read","last_user_text_contains":"delegate"},
         "respond":{"tool_use":{"name":"Read","input":{"file_path":"/tmp/x.rs"}}}},
        {"when":{"header":"x-say"},"respond":{"text":"scripted hello"}}]}"#,
    )
    .unwrap();
    let mock = start(MockConfig {
        script: Some(script),
        ..Default::default()
    })
    .await;
    let got = send(
        &mock,
        "POST",
        "/v1/messages",
        &ANTHROPIC,
        Some(&request(json!([user("please delegate")]), true)),
    )
    .await
    .unwrap();
    let events = got.events();
    let block: Value = serde_json::from_str(&events[1].data).unwrap();
    assert_eq!(block["content_block"]["type"], "tool_use");
    assert_eq!(block["content_block"]["name"], "Read");
    let partial: String = events
        .iter()
        .filter(|e| e.event.as_deref() == Some("content_block_delta"))
        .map(|e| {
            serde_json::from_str::<Value>(&e.data).unwrap()["delta"]["partial_json"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&partial).unwrap(),
        json!({"file_path": "/tmp/x.rs"})
    );
    assert!(
        got.body
            .windows(20)
            .any(|w| w == br#""stop_reason":"tool_"#)
    );
    let mut h = ANTHROPIC.to_vec();
    h.push(("x-say", "1"));
    let json = send(
        &mock,
        "POST",
        "/v1/messages",
        &h,
        Some(&request(json!([user("hi")]), false)),
    )
    .await
    .unwrap()
    .json();
    assert_eq!(json["content"][0]["text"], "scripted hello");
    let json = send(
        &mock,
        "POST",
        "/v1/messages",
        &ANTHROPIC,
        Some(&request(json!([user("hi")]), false)),
    )
    .await
    .unwrap()
    .json();
    assert_ne!(json["content"][0]["text"], "scripted hello");
}
