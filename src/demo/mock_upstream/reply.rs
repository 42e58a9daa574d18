//! What a handler decided to answer, before faults shape how it is delivered; plus the answer
//! itself (scripted or generated) and the ids every response carries.

use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;

use super::script::{RequestView, Respond, Script};
use super::tokens::{generate_text, output_tokens, tokens_for_bytes};
use crate::observation::Usage;

/// One SSE event and the usage a client knows once it has read it.
#[derive(Debug, Clone)]
pub(crate) struct SseChunk {
    pub(crate) bytes: Bytes,
    pub(crate) usage: Option<Usage>,
}

#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// A JSON body, and the usage it reports.
    Json(Value, Option<Usage>),
    /// An SSE stream.
    Sse(Vec<SseChunk>),
    /// A JSON body sent in pieces (Gemini's streamed JSON array), each with the usage a client
    /// knows once it has read it.
    Chunked(Vec<SseChunk>),
}

#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) payload: Payload,
    pub(crate) response_id: Option<String>,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            payload: Payload::Json(body, None),
            response_id: None,
        }
    }
}

/// `obj` with `extra`'s members added (both JSON objects).
pub(crate) fn with(mut obj: Value, extra: Value) -> Value {
    if let (Some(o), Value::Object(more)) = (obj.as_object_mut(), extra) {
        o.extend(more);
    }
    obj
}

/// Formats one SSE event (`event:` line only when named).
pub(crate) fn sse(name: Option<&str>, data: &Value) -> Bytes {
    let mut s = String::new();
    if let Some(name) = name {
        s.push_str("event: ");
        s.push_str(name);
        s.push('\n');
    }
    s.push_str("data: ");
    s.push_str(&super::wire::to_wire(data));
    s.push_str("\n\n");
    Bytes::from(s)
}

/// Ids derived from the request's arrival number and prompt hash: unique per response and
/// reproducible for the same request sequence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ids {
    pub(crate) seq: u64,
    pub(crate) hash: u64,
}

impl Ids {
    fn tag(&self) -> String {
        format!("{}_{:08x}", self.seq, self.hash & 0xffff_ffff)
    }
    pub(crate) fn request(&self) -> String {
        format!("req_mock_{}", self.tag())
    }
    pub(crate) fn message(&self) -> String {
        format!("msg_mock_{}", self.tag())
    }
    pub(crate) fn tool(&self) -> String {
        format!("toolu_mock_{}", self.tag())
    }
    pub(crate) fn chat(&self) -> String {
        format!("chatcmpl-mock{}", self.tag())
    }
    pub(crate) fn call(&self) -> String {
        format!("call_mock_{}", self.tag())
    }
    pub(crate) fn response(&self) -> String {
        format!("resp_mock_{}", self.tag())
    }
    /// Gemini's `responseId` (the real ones are opaque base64-like strings).
    pub(crate) fn gemini_response(&self) -> String {
        format!("gmresp_mock_{}", self.tag())
    }
    /// OpenAI `created` timestamps: a fixed epoch plus the arrival number, never the wall clock.
    pub(crate) fn created(&self) -> u64 {
        1_767_225_600 + self.seq
    }
}

/// The model's answer before a provider shapes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    Text(String),
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Generated {
    pub(crate) answer: Answer,
    pub(crate) output_tokens: u64,
    /// The answer was cut at `max_tokens`.
    pub(crate) truncated: bool,
    /// A scripted wait before answering.
    pub(crate) delay: Option<std::time::Duration>,
}

/// Scripted answer if a rule matches, else deterministic generated text.
pub(crate) fn generate(
    script: Option<&Script>,
    view: &RequestView<'_>,
    ids: Ids,
    max_tokens: Option<u64>,
) -> Generated {
    let rule = script.and_then(|s| s.answer(view));
    let delay = rule
        .and_then(|r| r.delay_ms)
        .map(std::time::Duration::from_millis);
    match rule.map(|r| &r.respond) {
        Some(Respond::Text(text)) => Generated {
            output_tokens: tokens_for_bytes(text.len()).max(1),
            answer: Answer::Text(text.clone()),
            truncated: false,
            delay,
        },
        Some(Respond::ToolUse { name, input }) => Generated {
            output_tokens: tokens_for_bytes(name.len() + input.to_string().len()).max(1),
            answer: Answer::ToolUse {
                id: ids.tool(),
                name: name.clone(),
                input: input.clone(),
            },
            truncated: false,
            delay,
        },
        None => {
            let n = output_tokens(ids.hash, max_tokens);
            Generated {
                answer: Answer::Text(generate_text(ids.hash, n)),
                output_tokens: n,
                truncated: max_tokens.is_some_and(|m| n >= m),
                delay: None,
            }
        }
    }
}

/// What a provider handler may touch while answering: built under the mock's state lock.
pub(crate) struct Env<'a> {
    pub(crate) seq: u64,
    pub(crate) now: std::time::Duration,
    pub(crate) cache: &'a mut super::cache::PromptCache,
    pub(crate) script: Option<&'a Script>,
    pub(crate) headers: &'a http::HeaderMap,
    /// Set by the handler: a scripted wait before the answer goes out.
    pub(crate) delay: Option<std::time::Duration>,
}
