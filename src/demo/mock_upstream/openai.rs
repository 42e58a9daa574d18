//! OpenAI wire formats: `POST /v1/chat/completions` (JSON and SSE), `models`, errors, and the
//! prompt accounting shared with the Responses API (`responses`). Chat streams carry
//! `"usage": null` on every chunk and a final `choices: []` usage chunk only when
//! `stream_options.include_usage` is true, like the real API.

use http::StatusCode;
use serde_json::{Value, json};

use super::cache::OpenAiCache;
use super::reply::{Answer, Env, Generated, Ids, Payload, Reply, SseChunk, generate, sse, with};
use super::script::{RequestView, last_user_text};
use super::tokens::{prompt_hash, prompt_tokens, segments, split_even, split_text};
use crate::observation::Usage;

pub(crate) const WORDS_PER_DELTA: usize = 8;
pub(crate) const JSON_DELTAS: usize = 3;

/// `{"error":{...}}` as OpenAI shapes errors.
pub(crate) fn error_body(kind: &str, code: Option<&str>, message: &str) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

pub(crate) fn bad_request(message: &str) -> Reply {
    Reply::json(
        StatusCode::BAD_REQUEST,
        error_body("invalid_request_error", None, message),
    )
}

/// `GET /v1/models` for OpenAI clients.
pub(crate) fn models() -> Reply {
    let data: Vec<Value> = ["gpt-4.1", "gpt-4.1-mini", "gpt-5-mini"]
        .iter()
        .map(|id| {
            json!({"id": id, "object": "model", "created": 1_767_225_600u64, "owned_by": "openai"})
        })
        .collect();
    Reply::json(StatusCode::OK, json!({"object": "list", "data": data}))
}

/// Prompt accounting shared by both endpoints. OpenAI caches automatically: no markers needed.
pub(crate) struct Accounted {
    pub(crate) usage: Usage,
    pub(crate) prompt: u64,
    pub(crate) cache: OpenAiCache,
    pub(crate) generated: Generated,
    pub(crate) ids: Ids,
}

pub(crate) fn account(
    env: &mut Env<'_>,
    model: &str,
    prefix: &[Option<&Value>],
    items: &[Value],
    tools: Vec<String>,
    max: Option<u64>,
    reasons: bool,
) -> Accounted {
    let segs = segments(model, prefix, items);
    let cache = env.cache.openai(&segs, env.now);
    let prompt = prompt_tokens(&segs);
    let ids = Ids {
        seq: env.seq,
        hash: prompt_hash(&segs),
    };
    let view = RequestView {
        last_user_text: last_user_text(items),
        tool_names: tools,
        headers: env.headers,
    };
    let generated = generate(env.script, &view, ids, max);
    env.delay = generated.delay;
    let usage = Usage {
        input_tokens: prompt - cache.read - cache.write,
        output_tokens: generated.output_tokens,
        cache_read_input_tokens: cache.read,
        cache_creation_input_tokens: cache.write,
        cache_creation_5m_input_tokens: cache.write,
        cache_creation_1h_input_tokens: 0,
        // A model asked to reason spends a quarter of its output on it (the mock's choice).
        reasoning_output_tokens: if reasons {
            generated.output_tokens / 4
        } else {
            0
        },
        tool_use_input_tokens: 0,
    };
    Accounted {
        usage,
        prompt,
        cache,
        generated,
        ids,
    }
}

/// Whether a request asks the model to reason: an effort (`reasoning_effort` in Chat
/// Completions, `reasoning.effort` in Responses) other than none or minimal.
pub(crate) fn asks_reasoning(effort: Option<&Value>) -> bool {
    matches!(
        effort.and_then(Value::as_str),
        Some("low" | "medium" | "high" | "xhigh")
    )
}

pub(crate) fn names(tools: Option<&Value>, path: &[&str]) -> Vec<String> {
    let Some(tools) = tools.and_then(Value::as_array) else {
        return Vec::new();
    };
    tools
        .iter()
        .filter_map(|t| {
            path.iter()
                .try_fold(t, |v, k| v.get(*k))
                .and_then(Value::as_str)
        })
        .map(str::to_string)
        .collect()
}

pub(crate) fn max_of(req: &Value, keys: &[&str]) -> Option<u64> {
    keys.iter()
        .find_map(|k| req.get(*k).and_then(Value::as_u64))
}

/// `POST /v1/chat/completions`.
pub(crate) fn chat_completions(req: &Value, stream: bool, env: &mut Env<'_>) -> Reply {
    let Some(messages) = req.get("messages").and_then(Value::as_array) else {
        return bad_request("Missing required parameter: 'messages'.");
    };
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("gpt-mock");
    let tools = names(req.get("tools"), &["function", "name"]);
    let max = max_of(req, &["max_completion_tokens", "max_tokens"]);
    let reasons = asks_reasoning(req.get("reasoning_effort"));
    let a = account(
        env,
        model,
        &[req.get("tools")],
        messages,
        tools,
        max,
        reasons,
    );
    let usage_json = json!({
        "prompt_tokens": a.prompt, "completion_tokens": a.usage.output_tokens,
        "total_tokens": a.prompt + a.usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": a.cache.read,
            "cache_write_tokens": a.cache.write, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": a.usage.reasoning_output_tokens, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    });
    let finish = match a.generated.answer {
        Answer::ToolUse { .. } => "tool_calls",
        Answer::Text(_) if a.generated.truncated => "length",
        Answer::Text(_) => "stop",
    };
    let base = json!({"id": a.ids.chat(), "created": a.ids.created(), "model": model,
                      "service_tier": "default", "system_fingerprint": null});
    if !stream {
        let message = match &a.generated.answer {
            Answer::Text(t) => {
                json!({"role": "assistant", "content": t, "refusal": null, "annotations": []})
            }
            Answer::ToolUse { name, input, .. } => {
                let call = json!({"id": a.ids.call(), "type": "function",
                                  "function": {"name": name, "arguments": input.to_string()}});
                json!({"role": "assistant", "content": null, "refusal": null,
                       "annotations": [], "tool_calls": [call]})
            }
        };
        let choice =
            json!({"index": 0, "message": message, "logprobs": null, "finish_reason": finish});
        let body = with(
            base,
            json!({"object": "chat.completion", "usage": usage_json, "choices": [choice]}),
        );
        return Reply {
            status: StatusCode::OK,
            payload: Payload::Json(body, Some(a.usage)),
            response_id: Some(a.ids.chat()),
        };
    }
    let include_usage = req
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);
    let chunk = |delta: Value, finish: Option<&str>| {
        let choice = json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish});
        let mut c = with(
            base.clone(),
            json!({"object": "chat.completion.chunk", "choices": [choice]}),
        );
        if include_usage && let Some(obj) = c.as_object_mut() {
            obj.insert("usage".into(), Value::Null);
        }
        SseChunk {
            bytes: sse(None, &c),
            usage: None,
        }
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        None,
    )];
    match &a.generated.answer {
        Answer::Text(t) => events.extend(
            split_text(t, WORDS_PER_DELTA)
                .into_iter()
                .map(|p| chunk(json!({"content": p}), None)),
        ),
        Answer::ToolUse { name, input, .. } => {
            let call = json!({"index": 0, "id": a.ids.call(), "type": "function",
                              "function": {"name": name, "arguments": ""}});
            events.push(chunk(json!({"tool_calls": [call]}), None));
            events.extend(
                split_even(&input.to_string(), JSON_DELTAS)
                    .into_iter()
                    .map(|p| {
                        chunk(
                            json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}),
                            None,
                        )
                    }),
            );
        }
    }
    events.push(chunk(json!({}), Some(finish)));
    if include_usage {
        let last = with(
            base.clone(),
            json!({"object": "chat.completion.chunk", "choices": [], "usage": usage_json}),
        );
        events.push(SseChunk {
            bytes: sse(None, &last),
            usage: Some(a.usage),
        });
    }
    let known = include_usage.then_some(a.usage);
    events.push(SseChunk {
        bytes: bytes::Bytes::from_static(b"data: [DONE]\n\n"),
        usage: known,
    });
    Reply {
        status: StatusCode::OK,
        payload: Payload::Sse(events),
        response_id: Some(a.ids.chat()),
    }
}
