//! OpenAI chat completions and responses formats, include_usage and automatic caching.

use serde_json::{Value, json};

use super::*;

pub(super) fn chat(stream: bool, include_usage: Option<bool>) -> Value {
    let mut v = json!({"model": "gpt-4.1-mini", "stream": stream,
        "messages": [{"role": "system", "content": "S".repeat(6000)}, {"role": "user", "content": "hi"}]});
    if let Some(on) = include_usage {
        v["stream_options"] = json!({"include_usage": on});
    }
    v
}

#[tokio::test]
async fn chat_include_usage_on_and_off() {
    let mock = start(MockConfig::default()).await;
    let off = send(
        &mock,
        "POST",
        "/v1/chat/completions",
        &[],
        Some(&chat(true, None)),
    )
    .await
    .unwrap();
    assert!(off.headers.contains_key("x-request-id"));
    let off_data: Vec<String> = off.events().into_iter().map(|e| e.data).collect();
    assert_eq!(off_data.last().map(String::as_str), Some("[DONE]"));
    assert!(off_data.iter().all(|d| !d.contains("\"usage\"")));
    assert_eq!(mock.records()[0].usage, None, "no usage was sent");

    let on = send(
        &mock,
        "POST",
        "/v1/chat/completions",
        &[],
        Some(&chat(true, Some(true))),
    )
    .await
    .unwrap();
    let data: Vec<String> = on.events().into_iter().map(|e| e.data).collect();
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let (last, rest) = chunks.split_last().unwrap();
    assert!(
        rest.iter()
            .all(|c| c["usage"].is_null() && c.as_object().unwrap().contains_key("usage"))
    );
    assert!(
        rest.iter().all(|c| c["object"] == "chat.completion.chunk"
            && c["choices"].as_array().unwrap().len() == 1)
    );
    assert_eq!(last["choices"], json!([]));
    let u = &last["usage"];
    // The first call stored every prefix; the second reads the 6 000-byte system prompt back.
    let cached = u["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap();
    assert!(cached >= 1024 && cached % 128 == 0, "{u}");
    let rec = usage_of(&mock, 2);
    assert_eq!(
        rec.input_tokens,
        u["prompt_tokens"].as_u64().unwrap() - cached
    );
    assert_eq!(rec.cache_read_input_tokens, cached);
    assert_eq!(
        u["total_tokens"].as_u64(),
        Some(u["prompt_tokens"].as_u64().unwrap() + rec.output_tokens)
    );

    let plain = send(
        &mock,
        "POST",
        "/v1/chat/completions",
        &[],
        Some(&chat(false, None)),
    )
    .await
    .unwrap()
    .json();
    assert_eq!(plain["object"], "chat.completion");
    assert_eq!(plain["choices"][0]["finish_reason"], "stop");
    assert!(plain["id"].as_str().unwrap().starts_with("chatcmpl-mock"));
}

#[tokio::test]
async fn responses_stream_and_json() {
    let mock = start(MockConfig::default()).await;
    let body =
        json!({"model": "gpt-4.1", "input": "hello", "instructions": "be brief", "stream": true});
    let got = send(&mock, "POST", "/v1/responses", &[], Some(&body))
        .await
        .unwrap();
    let names = got.names();
    assert_eq!(names.first().map(String::as_str), Some("response.created"));
    assert_eq!(names.last().map(String::as_str), Some("response.completed"));
    let done: Value = serde_json::from_str(&got.events().last().unwrap().data).unwrap();
    assert_eq!(done["response"]["status"], "completed");
    let out = done["response"]["usage"]["output_tokens"].as_u64().unwrap();
    assert_eq!(usage_of(&mock, 1).output_tokens, out);
    let mut plain = body.clone();
    plain["stream"] = json!(false);
    let json = send(&mock, "POST", "/v1/responses", &[], Some(&plain))
        .await
        .unwrap()
        .json();
    assert!(json["id"].as_str().unwrap().starts_with("resp_mock"));
    assert_eq!(json["output"][0]["content"][0]["type"], "output_text");
}
