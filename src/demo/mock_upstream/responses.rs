//! OpenAI Responses API: `POST /v1/responses`, JSON and SSE (`response.created` …
//! `response.completed`, every event with `type` and `sequence_number`). Usage is only sent in
//! the final `response.completed` event.
//!
//! Compaction, both ways Codex asks for it: a request whose last input item is
//! `{"type":"compaction_trigger"}` (remote compaction v2, Codex 0.171) is answered with exactly
//! one `compaction` output item, and `POST /v1/responses/compact` (v1) with a
//! `response.compaction` object holding one. The item's `encrypted_content` is the generated
//! text: opaque to the client, which only stores and replays it.

use http::StatusCode;
use serde_json::{Value, json};

use super::openai::{
    Accounted, JSON_DELTAS, WORDS_PER_DELTA, account, asks_reasoning, bad_request, max_of, names,
};
use super::reply::{Answer, Env, Payload, Reply, SseChunk, sse, with};
use super::tokens::{split_even, split_text};

fn status(done: bool) -> &'static str {
    if done { "completed" } else { "in_progress" }
}

/// A Responses request's input items and model, accounted for (prompt cache, generated
/// answer, usage); `Err` is the 400 a request without input gets.
fn account_request(req: &Value, env: &mut Env<'_>) -> Result<(Vec<Value>, Accounted), Box<Reply>> {
    let items: Vec<Value> = match req.get("input") {
        Some(Value::String(s)) => vec![json!({"role": "user", "content": s})],
        Some(Value::Array(items)) => items.clone(),
        _ => {
            return Err(Box::new(bad_request(
                "Missing required parameter: 'input'.",
            )));
        }
    };
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("gpt-mock");
    let tools = names(req.get("tools"), &["name"]);
    let max = max_of(req, &["max_output_tokens"]);
    let prefix = [req.get("instructions"), req.get("tools")];
    let reasons = asks_reasoning(req.get("reasoning").and_then(|r| r.get("effort")));
    let a = account(env, model, &prefix, &items, tools, max, reasons);
    Ok((items, a))
}

/// `POST /v1/responses`.
pub(crate) fn responses(req: &Value, stream: bool, env: &mut Env<'_>) -> Reply {
    let (items, a) = match account_request(req, env) {
        Ok(accounted) => accounted,
        Err(reply) => return *reply,
    };
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("gpt-mock");
    let max = max_of(req, &["max_output_tokens"]);
    let id = a.ids.response();
    let item_id = a.ids.message();
    let compaction = is_compaction_trigger(items.last());

    let item = |done: bool| match &a.generated.answer {
        _ if compaction => compaction_item(&item_id, &a.generated.answer),
        Answer::Text(t) => {
            let content = if done {
                json!([{"type": "output_text", "text": t, "annotations": [], "logprobs": []}])
            } else {
                json!([])
            };
            json!({"id": item_id, "type": "message", "role": "assistant",
                   "status": status(done), "content": content})
        }
        Answer::ToolUse { name, input, .. } => {
            let arguments = if done {
                input.to_string()
            } else {
                String::new()
            };
            json!({"id": item_id, "type": "function_call", "status": status(done),
                   "call_id": a.ids.call(), "name": name, "arguments": arguments})
        }
    };
    let usage = usage_json(&a);
    let object = |done: bool| {
        json!({
            "id": id, "object": "response", "created_at": a.ids.created(),
            "status": status(done), "background": false, "error": null,
            "incomplete_details": null,
            "instructions": req.get("instructions").cloned().unwrap_or(Value::Null),
            "max_output_tokens": max, "model": model,
            "output": if done { json!([item(true)]) } else { json!([]) },
            "parallel_tool_calls": true, "previous_response_id": null,
            "reasoning": {"effort": null, "summary": null}, "store": true, "temperature": 1.0,
            "text": {"format": {"type": "text"}}, "tool_choice": "auto",
            "tools": req.get("tools").cloned().unwrap_or(json!([])), "top_p": 1.0,
            "truncation": "disabled",
            "usage": if done { usage.clone() } else { Value::Null },
            "user": null, "metadata": {},
        })
    };
    if !stream {
        return Reply {
            status: StatusCode::OK,
            payload: Payload::Json(object(true), Some(a.usage)),
            response_id: Some(id),
        };
    }

    let at = json!({"item_id": item_id, "output_index": 0});
    let at_part = with(at.clone(), json!({"content_index": 0}));
    let mut events: Vec<(&str, Value)> = vec![
        ("response.created", json!({"response": object(false)})),
        ("response.in_progress", json!({"response": object(false)})),
        (
            "response.output_item.added",
            json!({"output_index": 0, "item": item(false)}),
        ),
    ];
    match &a.generated.answer {
        // A compaction item arrives whole, in `output_item.done`.
        _ if compaction => {}
        Answer::Text(t) => {
            let part = |text: &str| json!({"type": "output_text", "text": text, "annotations": []});
            let e = with(at_part.clone(), json!({"part": part("")}));
            events.push(("response.content_part.added", e));
            for p in split_text(t, WORDS_PER_DELTA) {
                let e = with(at_part.clone(), json!({"delta": p, "logprobs": []}));
                events.push(("response.output_text.delta", e));
            }
            let e = with(at_part.clone(), json!({"text": t, "logprobs": []}));
            events.push(("response.output_text.done", e));
            let e = with(at_part.clone(), json!({"part": part(t)}));
            events.push(("response.content_part.done", e));
        }
        Answer::ToolUse { input, .. } => {
            for p in split_even(&input.to_string(), JSON_DELTAS) {
                let e = with(at.clone(), json!({"delta": p}));
                events.push(("response.function_call_arguments.delta", e));
            }
            let e = with(at.clone(), json!({"arguments": input.to_string()}));
            events.push(("response.function_call_arguments.done", e));
        }
    }
    events.push((
        "response.output_item.done",
        json!({"output_index": 0, "item": item(true)}),
    ));
    events.push(("response.completed", json!({"response": object(true)})));
    let last = events.len() - 1;
    let chunks = events
        .into_iter()
        .enumerate()
        .map(|(i, (name, data))| {
            let data = with(json!({"type": name, "sequence_number": i}), data);
            SseChunk {
                bytes: sse(Some(name), &data),
                usage: (i == last).then_some(a.usage),
            }
        })
        .collect();
    Reply {
        status: StatusCode::OK,
        payload: Payload::Sse(chunks),
        response_id: Some(id),
    }
}

/// `POST /v1/responses/compact` (remote compaction v1): the history in, one opaque
/// `compaction` item out, billed like any response.
pub(crate) fn compact(req: &Value, env: &mut Env<'_>) -> Reply {
    let a = match account_request(req, env) {
        Ok((_, accounted)) => accounted,
        Err(reply) => return *reply,
    };
    let id = a.ids.response();
    let body = json!({
        "id": id, "object": "response.compaction", "created_at": a.ids.created(),
        "output": [compaction_item(&a.ids.message(), &a.generated.answer)],
        "usage": usage_json(&a),
    });
    Reply {
        status: StatusCode::OK,
        payload: Payload::Json(body, Some(a.usage)),
        response_id: Some(id),
    }
}

/// The Responses API's usage object: `input_tokens` counts every prompt token, cached and
/// cache-written ones included.
fn usage_json(a: &Accounted) -> Value {
    json!({
        "input_tokens": a.prompt,
        "input_tokens_details": {"cached_tokens": a.cache.read, "cache_write_tokens": a.cache.write},
        "output_tokens": a.usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": a.usage.reasoning_output_tokens},
        "total_tokens": a.prompt + a.usage.output_tokens,
    })
}

/// Whether a `/responses` request asks for remote compaction v2.
pub(crate) fn asks_compaction(req: &Value) -> bool {
    is_compaction_trigger(
        req.get("input")
            .and_then(Value::as_array)
            .and_then(|i| i.last()),
    )
}

/// Whether an input item is the trigger of remote compaction v2 (the request's last item).
fn is_compaction_trigger(last: Option<&Value>) -> bool {
    last.and_then(|item| item.get("type"))
        .and_then(Value::as_str)
        == Some("compaction_trigger")
}

/// The opaque summary item compaction answers with; the generated text stands in for the
/// encrypted summary.
fn compaction_item(item_id: &str, answer: &Answer) -> Value {
    let text = match answer {
        Answer::Text(t) => t.clone(),
        Answer::ToolUse { input, .. } => input.to_string(),
    };
    json!({"id": item_id, "type": "compaction", "encrypted_content": text})
}
