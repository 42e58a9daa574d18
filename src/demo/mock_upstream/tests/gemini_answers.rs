//! What the mock's Gemini model answers: JSON built from a request's schema (Gemini CLI's
//! router) and, scripted, a call of a declared function.

use serde_json::{Value, json};

use super::gemini::{
    GENERATE, KEY, STREAM, convention, gemini_events, main_request, record, user_text,
};
use super::*;

/// Gemini CLI 0.61.0's router schemas, as its bundle declares them.
fn classifier_schema() -> Value {
    json!({"type": "OBJECT", "properties": {
        "reasoning": {"type": "STRING", "description": "why"},
        "model_choice": {"type": "STRING", "enum": ["flash", "pro"]}},
        "required": ["reasoning", "model_choice"]})
}

fn numerical_schema() -> Value {
    json!({"type": "OBJECT", "properties": {
        "complexity_reasoning": {"type": "STRING", "description": "Brief explanation for the score."},
        "complexity_score": {"type": "INTEGER", "description": "Complexity score from 1-100."}},
        "required": ["complexity_reasoning", "complexity_score"]})
}

#[tokio::test]
async fn json_mode_answers_with_json_built_from_the_schema() {
    let mock = start(MockConfig::default()).await;
    let ask = |schema_key: &str, schema: Value| {
        json!({"contents": [user_text("route this")],
               "systemInstruction": {"parts": [{"text": "You are a specialized Task Routing AI."}]},
               "generationConfig": {"responseMimeType": "application/json", schema_key: schema,
                                    "maxOutputTokens": 1024, "thinkingConfig": {"thinkingBudget": 512}}})
    };
    let text_of = |v: &Value| -> Value {
        serde_json::from_str(
            v["candidates"][0]["content"]["parts"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()["text"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
    };
    let router = send(
        &mock,
        "POST",
        GENERATE,
        &KEY,
        Some(&ask("responseJsonSchema", classifier_schema())),
    )
    .await
    .unwrap()
    .json();
    let choice = text_of(&router);
    assert_eq!(choice["model_choice"], "flash");
    assert!(choice["reasoning"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(router["candidates"][0]["finishReason"], "STOP");

    let numerical = send(
        &mock,
        "POST",
        GENERATE,
        &KEY,
        Some(&ask("responseSchema", numerical_schema())),
    )
    .await
    .unwrap()
    .json();
    let score = text_of(&numerical);
    let n = score["complexity_score"].as_i64().unwrap();
    assert!((1..=100).contains(&n), "{score}");
    assert!(score["complexity_reasoning"].is_string());

    let nested = json!({"type": "object", "$defs": {"Item": {"type": "object",
            "properties": {"ok": {"type": "boolean"}, "n": {"type": "number", "minimum": 5, "maximum": 7}}}},
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
                       "kind": {"type": ["string", "null"], "minLength": 20},
                       "level": {"type": "integer", "minimum": 3, "maximum": 4}}});
    let got = send(
        &mock,
        "POST",
        GENERATE,
        &KEY,
        Some(&ask("responseJsonSchema", nested)),
    )
    .await
    .unwrap()
    .json();
    let v = text_of(&got);
    assert_eq!(v["items"], json!([{"ok": false, "n": 5.0}]));
    assert!(v["kind"].as_str().unwrap().len() >= 20);
    assert_eq!(v["level"], 3);
    // Output tokens follow the JSON text.
    let rec = record(&mock, 3);
    assert!(rec.usage.unwrap().output_tokens > 0);
}

#[tokio::test]
async fn a_script_makes_the_model_call_a_declared_function() {
    let script = Script::from_json(
        r#"{"rules":[{"when":{"last_user_text_contains":"list"},
            "respond":{"tool_use":{"name":"list_directory","input":{"dir_path":"."}}}}]}"#,
    )
    .unwrap();
    let mock = start(MockConfig {
        script: Some(script),
        ..MockConfig::default()
    })
    .await;
    let ask = main_request(json!([user_text("please list the files")]));
    let got = send(&mock, "POST", STREAM, &KEY, Some(&ask)).await.unwrap();
    let events = gemini_events(&got);
    let last = events.last().unwrap();
    let parts = &last["candidates"][0]["content"]["parts"];
    assert_eq!(
        parts[0]["functionCall"],
        json!({"name": "list_directory", "args": {"dir_path": "."}})
    );
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        record(&mock, 1).usage,
        Some(convention(&last["usageMetadata"]))
    );

    // Without the function declared (a router call), the rule does not apply: JSON, not a call.
    let router = json!({"contents": [user_text("please list the files")],
        "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": classifier_schema()}});
    let got = send(&mock, "POST", GENERATE, &KEY, Some(&router))
        .await
        .unwrap()
        .json();
    let text = got["candidates"][0]["content"]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap()["model_choice"],
        "flash"
    );

    // The function's result comes back: no user text, so the model answers in text.
    let follow = main_request(json!([
        user_text("please list the files"),
        {"role": "model", "parts": [{"functionCall": {"name": "list_directory", "args": {"dir_path": "."}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "list_directory", "response": {"output": "a.txt"}}}]}
    ]));
    let got = send(&mock, "POST", STREAM, &KEY, Some(&follow))
        .await
        .unwrap();
    let events = gemini_events(&got);
    assert!(events.iter().all(|e| {
        e["candidates"][0]["content"]["parts"][0]
            .get("functionCall")
            .is_none()
    }));
    assert_eq!(
        events.last().unwrap()["candidates"][0]["finishReason"],
        "STOP"
    );
}
