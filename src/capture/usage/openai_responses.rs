//! OpenAI Responses API (`POST /v1/responses`): usage, ids, status and errors, from a stream or a
//! JSON body.
//!
//! A stream is a run of named events (`response.created`, `response.output_text.delta`, …) ending
//! in one terminal event that carries the whole response object, usage included:
//! `response.completed`, `response.incomplete` (stopped early, e.g. `max_output_tokens`) or
//! `response.failed`; a stream can also end in an `error` event. Only `response.created` /
//! `response.in_progress` (for id and model) and the terminal events are JSON-decoded.
//!
//! The stop reason is the response's `incomplete_details.reason` when it has one, otherwise its
//! `status` (`completed`, `failed`, …): the Responses API has no finish reason of its own.

use serde::Deserialize;

use super::{
    ApiErrorJson, CacheDetailsJson, LooseStr, OutputDetailsJson, ResponseSummary, Text,
    decode_body, describe_error, event_type, openai_usage, text_field,
};
use crate::capture::sse::SseEvent;
use crate::observation::Usage;

/// A response object (the non-streaming body, or `response` inside an event).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResponseJson<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    model: Option<Text<'a>>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(borrow)]
    incomplete_details: Option<IncompleteJson<'a>>,
    usage: Option<ResponsesUsageJson>,
    #[serde(borrow)]
    error: Option<ApiErrorJson<'a>>,
}

/// `incomplete_details`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IncompleteJson<'a> {
    #[serde(borrow)]
    reason: Option<Text<'a>>,
}

/// Responses API `usage`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResponsesUsageJson {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    // `null` happens (some compatible servers): an Option, so it does not fail the usage.
    input_tokens_details: Option<CacheDetailsJson>,
    output_tokens_details: Option<OutputDetailsJson>,
}

impl ResponsesUsageJson {
    fn to_usage(&self) -> Usage {
        openai_usage(
            self.input_tokens.unwrap_or(0),
            self.output_tokens.unwrap_or(0),
            self.input_tokens_details
                .as_ref()
                .unwrap_or(&CacheDetailsJson::default()),
            self.output_tokens_details.as_ref(),
        )
    }
}

/// A stream event's data: `response.*` events wrap a response object; `error` events carry
/// `code`/`message` at the top level (older shape) or in an `error` object.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EventJson<'a> {
    #[serde(borrow)]
    response: Option<ResponseJson<'a>>,
    code: LooseStr,
    #[serde(borrow)]
    message: Option<Text<'a>>,
    #[serde(borrow)]
    error: Option<ApiErrorJson<'a>>,
}

/// Streaming state for one Responses API response.
#[derive(Debug, Default)]
pub(super) struct StreamState {
    summary: ResponseSummary,
    /// A terminal event was seen: the stream ended on purpose.
    terminal: bool,
}

impl StreamState {
    /// Handles one SSE event.
    pub(super) fn on_event(&mut self, ev: SseEvent<'_>) {
        let kind = event_type(&ev);
        let terminal = match &*kind {
            "response.completed" | "response.incomplete" | "response.failed" | "error" => true,
            "response.created" | "response.in_progress" => false,
            _ => return,
        };
        if !terminal && self.summary.response_id.is_some() && self.summary.model.is_some() {
            return;
        }
        self.terminal |= terminal;
        let Ok(parsed) = serde_json::from_slice::<EventJson<'_>>(ev.data) else {
            if kind == "error" {
                let raw = String::from_utf8_lossy(ev.data);
                self.summary
                    .stream_error
                    .get_or_insert_with(|| format!("error: {raw}"));
            }
            return;
        };
        if let Some(r) = &parsed.response {
            apply_response(&mut self.summary, r);
        }
        if kind == "error" {
            let described = match &parsed.error {
                Some(e) => e.describe(),
                None => describe_error(parsed.code.0.as_deref(), parsed.message.as_deref()),
            };
            self.summary.stream_error.get_or_insert(described);
        }
    }

    /// The summary (without event count or decoder-level tearing, which the caller adds).
    pub(super) fn finish(self) -> ResponseSummary {
        ResponseSummary {
            torn: !self.terminal,
            ..self.summary
        }
    }
}

/// Folds a response object into the summary: later objects refine earlier ones.
fn apply_response(s: &mut ResponseSummary, r: &ResponseJson<'_>) {
    if let Some(id) = text_field(&r.id) {
        s.response_id = Some(id);
    }
    if let Some(model) = text_field(&r.model) {
        s.model = Some(model);
    }
    if let Some(u) = &r.usage {
        s.usage = Some(u.to_usage());
    }
    let reason = r
        .incomplete_details
        .as_ref()
        .and_then(|d| text_field(&d.reason))
        .or_else(|| text_field(&r.status));
    // `in_progress` is not a reason to stop; only a final status is.
    if let Some(reason) = reason.filter(|r| r != "in_progress" && r != "queued") {
        s.stop_reason = Some(reason);
    }
    if let Some(e) = &r.error {
        s.stream_error.get_or_insert_with(|| e.describe());
    }
}

/// Summarises a non-streaming Responses body (a response object, or an `{"error":…}` object).
pub(super) fn parse_body(body: &[u8]) -> ResponseSummary {
    match decode_body::<ResponseJson<'_>>(body) {
        Ok(r) => {
            let mut s = ResponseSummary::default();
            apply_response(&mut s, &r);
            s
        }
        Err(torn) => ResponseSummary {
            torn,
            ..ResponseSummary::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_json_body;
    use super::super::test_support::{parse_all_splits, to_crlf};
    use super::*;
    use crate::observation::ApiKind;

    const STREAM: &str = "event: response.created\n\
data: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654\",\"object\":\"response\",\"created_at\":1741290958,\"status\":\"in_progress\",\"error\":null,\"incomplete_details\":null,\"instructions\":\"You are a helpful assistant.\",\"max_output_tokens\":null,\"model\":\"gpt-4.1-2025-04-14\",\"output\":[],\"parallel_tool_calls\":true,\"previous_response_id\":null,\"reasoning\":{\"effort\":null,\"summary\":null},\"store\":true,\"temperature\":1.0,\"text\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":\"auto\",\"tools\":[],\"top_p\":1.0,\"truncation\":\"disabled\",\"usage\":null,\"user\":null,\"metadata\":{}}}\n\
\n\
event: response.in_progress\n\
data: {\"type\":\"response.in_progress\",\"sequence_number\":1,\"response\":{\"id\":\"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654\",\"object\":\"response\",\"status\":\"in_progress\",\"model\":\"gpt-4.1-2025-04-14\",\"output\":[],\"usage\":null}}\n\
\n\
event: response.output_item.added\n\
data: {\"type\":\"response.output_item.added\",\"sequence_number\":2,\"output_index\":0,\"item\":{\"id\":\"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654\",\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}}\n\
\n\
event: response.content_part.added\n\
data: {\"type\":\"response.content_part.added\",\"sequence_number\":3,\"item_id\":\"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\",\"annotations\":[]}}\n\
\n\
event: response.output_text.delta\n\
data: {\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"item_id\":\"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi\",\"logprobs\":[]}\n\
\n\
event: response.output_text.done\n\
data: {\"type\":\"response.output_text.done\",\"sequence_number\":5,\"item_id\":\"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654\",\"output_index\":0,\"content_index\":0,\"text\":\"Hi\",\"logprobs\":[]}\n\
\n\
event: response.completed\n\
data: {\"type\":\"response.completed\",\"sequence_number\":6,\"response\":{\"id\":\"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654\",\"object\":\"response\",\"created_at\":1741290958,\"status\":\"completed\",\"error\":null,\"incomplete_details\":null,\"model\":\"gpt-4.1-2025-04-14\",\"output\":[{\"id\":\"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hi\",\"annotations\":[]}]}],\"usage\":{\"input_tokens\":1337,\"input_tokens_details\":{\"cached_tokens\":1280},\"output_tokens\":2,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":1339},\"user\":null,\"metadata\":{}}}\n\
\n";

    #[test]
    fn stream_any_chunking() {
        let s = parse_all_splits(ApiKind::Responses, STREAM.as_bytes());
        assert_eq!(
            s.usage,
            Some(Usage {
                input_tokens: 57,
                output_tokens: 2,
                cache_read_input_tokens: 1280,
                ..Usage::default()
            })
        );
        assert_eq!(
            s.response_id.as_deref(),
            Some("resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654")
        );
        assert_eq!(s.model.as_deref(), Some("gpt-4.1-2025-04-14"));
        assert_eq!(s.stop_reason.as_deref(), Some("completed"));
        assert!(s.is_complete());
        assert_eq!(s.events, 7);
        let crlf = to_crlf(STREAM.as_bytes());
        assert_eq!(parse_all_splits(ApiKind::Responses, &crlf), s);
    }

    #[test]
    fn torn_before_completed() {
        let cut = STREAM.find("event: response.completed").unwrap();
        let s = parse_all_splits(ApiKind::Responses, &STREAM.as_bytes()[..cut]);
        assert!(s.torn);
        assert_eq!(s.usage, None);
        assert_eq!(s.model.as_deref(), Some("gpt-4.1-2025-04-14"));
        assert_eq!(s.stop_reason, None);
    }

    #[test]
    fn incomplete_failed_and_error_events() {
        let incomplete = "event: response.incomplete\n\
data: {\"type\":\"response.incomplete\",\"response\":{\"id\":\"resp_1\",\"model\":\"o4-mini\",\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":\"max_output_tokens\"},\"usage\":{\"input_tokens\":50,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":16}}}\n\n";
        let s = parse_all_splits(ApiKind::Responses, incomplete.as_bytes());
        assert_eq!(s.stop_reason.as_deref(), Some("max_output_tokens"));
        assert_eq!(
            s.usage.map(|u| (u.input_tokens, u.output_tokens)),
            Some((50, 16))
        );
        assert!(s.is_complete());

        let failed = "event: response.failed\n\
data: {\"type\":\"response.failed\",\"response\":{\"id\":\"resp_2\",\"model\":\"gpt-4.1\",\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"The model failed to generate a response.\"},\"usage\":null}}\n\n";
        let s = parse_all_splits(ApiKind::Responses, failed.as_bytes());
        assert_eq!(
            s.stream_error.as_deref(),
            Some("server_error: The model failed to generate a response.")
        );
        assert!(!s.torn);

        let error = "event: error\n\
data: {\"type\":\"error\",\"code\":\"ERR_SOMETHING\",\"message\":\"Something went wrong\",\"param\":null,\"sequence_number\":1}\n\n";
        let s = parse_all_splits(ApiKind::Responses, error.as_bytes());
        assert_eq!(
            s.stream_error.as_deref(),
            Some("ERR_SOMETHING: Something went wrong")
        );
        assert!(!s.torn);
    }

    #[test]
    fn non_streaming_body() {
        let body = br#"{"id":"resp_abc","object":"response","created_at":1741476542,"status":"completed","error":null,"incomplete_details":null,"model":"gpt-4.1-2025-04-14","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello","annotations":[]}]}],"usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":10},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":123}}"#;
        let s = parse_json_body(ApiKind::Responses, body);
        assert_eq!(
            s.usage,
            Some(Usage {
                input_tokens: 26,
                output_tokens: 87,
                cache_read_input_tokens: 10,
                ..Usage::default()
            })
        );
        assert_eq!(s.response_id.as_deref(), Some("resp_abc"));
        assert_eq!(s.stop_reason.as_deref(), Some("completed"));
        // Cache writes (2026-11 onwards), in any chunking; and details that are `null`.
        let stream = "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_w\",\"model\":\"gpt-6-sol\",\"status\":\"completed\",\"usage\":{\"input_tokens\":90000,\"input_tokens_details\":{\"cached_tokens\":60000,\"cache_write_tokens\":25000},\"output_tokens\":700,\"output_tokens_details\":{\"reasoning_tokens\":300},\"total_tokens\":90700}}}\n\n";
        let s = parse_all_splits(ApiKind::Responses, stream.as_bytes());
        assert_eq!(
            s.usage,
            Some(Usage {
                input_tokens: 5000,
                output_tokens: 700,
                cache_read_input_tokens: 60000,
                cache_creation_input_tokens: 25000,
                cache_creation_5m_input_tokens: 25000,
                cache_creation_1h_input_tokens: 0,
                // Reasoning: a share of the 700 output tokens, billed with them.
                reasoning_output_tokens: 300,
                tool_use_input_tokens: 0,
            })
        );
        let null_details = parse_json_body(
            ApiKind::Responses,
            br#"{"id":"r","usage":{"input_tokens":12,"input_tokens_details":null,"output_tokens":3}}"#,
        );
        assert_eq!(null_details.usage.map(|u| u.input_tokens), Some(12));
        let err = parse_json_body(
            ApiKind::Responses,
            br#"{"error":{"message":"Invalid model","type":"invalid_request_error","param":"model","code":"model_not_found"}}"#,
        );
        assert_eq!(
            err.stream_error.as_deref(),
            Some("invalid_request_error: Invalid model")
        );
    }
}
