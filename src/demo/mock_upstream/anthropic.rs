//! Anthropic wire formats: `POST /v1/messages` (JSON and SSE), `count_tokens`, `models`, errors.
//! Shapes follow the current public API closely enough for the official SDKs to parse them.

use http::StatusCode;
use serde_json::{Value, json};

use super::reply::{Answer, Env, Generated, Ids, Payload, Reply, SseChunk, generate, sse};
use super::script::{RequestView, last_user_text};
use super::tokens::{
    has_cache_control, prompt_hash, prompt_tokens, segments, split_even, split_text,
};
use crate::observation::Usage;

/// Words per `text_delta`: small enough that every answer streams as several deltas.
const WORDS_PER_DELTA: usize = 8;
const JSON_DELTAS: usize = 3;

/// `{"type":"error","error":{...}}`.
pub(crate) fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

fn bad_request(message: &str) -> Reply {
    Reply::json(
        StatusCode::BAD_REQUEST,
        error_body("invalid_request_error", message),
    )
}

fn messages_of(req: &Value) -> Option<&Vec<Value>> {
    req.get("messages").and_then(Value::as_array)
}

fn model_of(req: &Value) -> &str {
    req.get("model")
        .and_then(Value::as_str)
        .unwrap_or("claude-mock")
}

/// `POST /v1/messages/count_tokens`.
pub(crate) fn count_tokens(req: &Value) -> Reply {
    let Some(messages) = messages_of(req) else {
        return bad_request("messages: Field required");
    };
    let segs = segments(
        model_of(req),
        &[req.get("system"), req.get("tools")],
        messages,
    );
    Reply::json(
        StatusCode::OK,
        json!({"input_tokens": prompt_tokens(&segs)}),
    )
}

/// `GET /v1/models`.
pub(crate) fn models() -> Reply {
    let ids = [
        ("claude-sonnet-4-6", "Claude Sonnet 4.6"),
        ("claude-opus-4-6", "Claude Opus 4.6"),
        ("claude-haiku-4-5", "Claude Haiku 4.5"),
    ];
    let data: Vec<Value> = ids
        .iter()
        .map(|(id, name)| {
            json!({"type": "model", "id": id, "display_name": name,
                   "created_at": "2026-01-01T00:00:00Z"})
        })
        .collect();
    Reply::json(
        StatusCode::OK,
        json!({"data": data, "has_more": false, "first_id": ids[0].0, "last_id": ids[2].0}),
    )
}

/// `POST /v1/messages`.
pub(crate) fn messages(req: &Value, stream: bool, env: &mut Env<'_>) -> Reply {
    let Some(messages) = messages_of(req) else {
        return bad_request("messages: Field required");
    };
    let model = model_of(req);
    let segs = segments(model, &[req.get("system"), req.get("tools")], messages);
    let split = env.cache.anthropic(&segs, has_cache_control(req), env.now);
    let ids = Ids {
        seq: env.seq,
        hash: prompt_hash(&segs),
    };
    let view = RequestView {
        last_user_text: last_user_text(messages),
        tool_names: tool_names(req),
        headers: env.headers,
    };
    let max_tokens = req.get("max_tokens").and_then(Value::as_u64);
    let generated = generate(env.script, &view, ids, max_tokens);
    env.delay = generated.delay;
    let usage = Usage {
        input_tokens: split.input,
        output_tokens: generated.output_tokens,
        cache_creation_input_tokens: split.write_5m + split.write_1h,
        cache_read_input_tokens: split.cache_read,
        cache_creation_5m_input_tokens: split.write_5m,
        cache_creation_1h_input_tokens: split.write_1h,
        reasoning_output_tokens: 0,
        tool_use_input_tokens: 0,
    };
    let payload = if stream {
        Payload::Sse(stream_events(model, ids, &generated, usage))
    } else {
        let body = json!({
            "id": ids.message(), "type": "message", "role": "assistant", "model": model,
            "content": [content_block(&generated.answer)],
            "stop_reason": stop_reason(&generated), "stop_sequence": null,
            "usage": usage_json(&usage),
        });
        Payload::Json(body, Some(usage))
    };
    Reply {
        status: StatusCode::OK,
        payload,
        response_id: Some(ids.message()),
    }
}

fn tool_names(req: &Value) -> Vec<String> {
    req.get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| t.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn stop_reason(g: &Generated) -> &'static str {
    match g.answer {
        Answer::ToolUse { .. } => "tool_use",
        Answer::Text(_) if g.truncated => "max_tokens",
        Answer::Text(_) => "end_turn",
    }
}

fn content_block(answer: &Answer) -> Value {
    match answer {
        Answer::Text(text) => json!({"type": "text", "text": text}),
        Answer::ToolUse { id, name, input } => {
            json!({"type": "tool_use", "id": id, "name": name, "input": input})
        }
    }
}

pub(super) fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": u.cache_creation_5m_input_tokens,
            "ephemeral_1h_input_tokens": u.cache_creation_1h_input_tokens,
        },
        "output_tokens": u.output_tokens,
        "service_tier": "standard",
    })
}

/// The event sequence of a streamed message, in the real API's order.
fn stream_events(model: &str, ids: Ids, g: &Generated, usage: Usage) -> Vec<SseChunk> {
    // Until message_delta arrives a client knows message_start's usage, whose output is 1.
    let start_usage = Usage {
        output_tokens: 1,
        ..usage
    };
    let mut out = Vec::new();
    let mut push = |name: &str, data: Value, known: Usage| {
        out.push(SseChunk {
            bytes: sse(Some(name), &data),
            usage: Some(known),
        });
    };
    push(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": ids.message(), "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": usage_json(&start_usage)}}),
        start_usage,
    );
    let (start_block, deltas): (Value, Vec<Value>) = match &g.answer {
        Answer::Text(text) => (
            json!({"type": "text", "text": ""}),
            split_text(text, WORDS_PER_DELTA)
                .into_iter()
                .map(|t| json!({"type": "text_delta", "text": t}))
                .collect(),
        ),
        Answer::ToolUse { id, name, input } => (
            json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
            std::iter::once(String::new())
                .chain(split_even(&input.to_string(), JSON_DELTAS))
                .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
                .collect(),
        ),
    };
    push(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0, "content_block": start_block}),
        start_usage,
    );
    push("ping", json!({"type": "ping"}), start_usage);
    for delta in deltas {
        push(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": delta}),
            start_usage,
        );
    }
    push(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
        start_usage,
    );
    push(
        "message_delta",
        json!({"type": "message_delta",
               "delta": {"stop_reason": stop_reason(g), "stop_sequence": null},
               "usage": {
                   "input_tokens": usage.input_tokens,
                   "cache_creation_input_tokens": usage.cache_creation_input_tokens,
                   "cache_read_input_tokens": usage.cache_read_input_tokens,
                   "output_tokens": usage.output_tokens}}),
        usage,
    );
    push("message_stop", json!({"type": "message_stop"}), usage);
    out
}
