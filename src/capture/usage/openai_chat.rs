//! OpenAI Chat Completions (`POST /v1/chat/completions`): usage, ids, finish reason and in-band
//! errors, from a stream or a JSON body.
//!
//! A stream is a run of `data: {chunk}` events closed by `data: [DONE]`. Usage arrives only when
//! the request set `stream_options.include_usage`, in one extra chunk just before `[DONE]` whose
//! `choices` is empty. Chunks carry no event names, so a byte search decides which to decode:
//! a chunk is parsed only if it has a `"usage"` object, a non-null `"finish_reason"`, an
//! `"error"` object, or while the id and model are still unknown (Azure's first chunk has them
//! empty, so "the first chunk" is not enough). A false positive only costs a parse.

use std::sync::LazyLock;

use memchr::memmem::Finder;
use serde::Deserialize;

use super::{
    ApiErrorJson, CacheDetailsJson, OutputDetailsJson, ResponseSummary, Text, decode_body,
    openai_usage, skip_ws, text_field, trim_ws,
};
use crate::capture::sse::SseEvent;
use crate::observation::Usage;

/// How many parsed chunks may go by without an id/model before agentprof stops parsing every
/// chunk to find them (a server that never sends them must not make every chunk slow).
const ID_SEARCH_CHUNKS: u32 = 8;

/// One chunk, or a whole non-streaming body (the fields agentprof reads are the same).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChunkJson<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    model: Option<Text<'a>>,
    #[serde(borrow)]
    choices: Option<Vec<ChoiceJson<'a>>>,
    usage: Option<ChatUsageJson>,
    #[serde(borrow)]
    error: Option<ApiErrorJson<'a>>,
}

/// A choice; only its finish reason matters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChoiceJson<'a> {
    #[serde(borrow)]
    finish_reason: Option<Text<'a>>,
}

/// Chat Completions `usage`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChatUsageJson {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    // `null` happens (some compatible servers): an Option, so it does not fail the usage.
    prompt_tokens_details: Option<CacheDetailsJson>,
    completion_tokens_details: Option<OutputDetailsJson>,
}

impl ChatUsageJson {
    fn to_usage(&self) -> Usage {
        openai_usage(
            self.prompt_tokens.unwrap_or(0),
            self.completion_tokens.unwrap_or(0),
            self.prompt_tokens_details
                .as_ref()
                .unwrap_or(&CacheDetailsJson::default()),
            self.completion_tokens_details.as_ref(),
        )
    }
}

/// Streaming state for one Chat Completions response.
#[derive(Debug, Default)]
pub(super) struct StreamState {
    usage: Option<Usage>,
    model: Option<String>,
    response_id: Option<String>,
    stop_reason: Option<String>,
    stream_error: Option<String>,
    /// `[DONE]` or an error chunk was seen: the stream ended on purpose.
    terminal: bool,
    /// Chunks parsed so far (bounds the id/model search).
    parsed: u32,
}

/// Searchers for the member names that make a chunk worth parsing, built once per process
/// (a `Finder` is a few hundred bytes of tables: too big to build per stream or store per parser).
static FINDERS: LazyLock<KeyFinders> = LazyLock::new(KeyFinders::new);

/// Prebuilt searchers for the member names that make a chunk worth parsing.
#[derive(Debug)]
struct KeyFinders {
    usage: Finder<'static>,
    finish_reason: Finder<'static>,
    error: Finder<'static>,
}

impl KeyFinders {
    fn new() -> Self {
        Self {
            usage: Finder::new(b"\"usage\""),
            finish_reason: Finder::new(b"\"finish_reason\""),
            error: Finder::new(b"\"error\""),
        }
    }
}

/// Whether `data` has a member named by `key` (a quoted name) whose value starts with `first`.
/// Tolerates whitespace around the colon; used only as a prefilter before real parsing.
fn has_member(data: &[u8], key: &Finder<'_>, first: u8) -> bool {
    key.find_iter(data).any(|at| {
        let rest = skip_ws(&data[at + key.needle().len()..]);
        match rest.strip_prefix(b":") {
            Some(value) => skip_ws(value).first() == Some(&first),
            None => false,
        }
    })
}

impl StreamState {
    /// Handles one SSE event (one chunk).
    pub(super) fn on_event(&mut self, ev: SseEvent<'_>) {
        let data = trim_ws(ev.data);
        if data == b"[DONE]" {
            self.terminal = true;
            return;
        }
        let want_ids =
            (self.response_id.is_none() || self.model.is_none()) && self.parsed < ID_SEARCH_CHUNKS;
        let f = &*FINDERS;
        if !(want_ids
            || has_member(data, &f.usage, b'{')
            || has_member(data, &f.finish_reason, b'"')
            || has_member(data, &f.error, b'{'))
        {
            return;
        }
        self.parsed += 1;
        let Ok(chunk) = serde_json::from_slice::<ChunkJson<'_>>(data) else {
            return;
        };
        if self.response_id.is_none() {
            self.response_id = text_field(&chunk.id);
        }
        if self.model.is_none() {
            self.model = text_field(&chunk.model);
        }
        if let Some(u) = &chunk.usage {
            // Servers that repeat usage send running totals: the last one is the answer.
            self.usage = Some(u.to_usage());
        }
        if let Some(reason) = first_finish_reason(&chunk) {
            self.stop_reason = Some(reason);
        }
        if let Some(e) = &chunk.error {
            self.terminal = true;
            self.stream_error.get_or_insert_with(|| e.describe());
        }
    }

    /// The summary (without event count or decoder-level tearing, which the caller adds).
    pub(super) fn finish(self) -> ResponseSummary {
        ResponseSummary {
            usage: self.usage,
            model: self.model,
            response_id: self.response_id,
            stop_reason: self.stop_reason,
            stream_error: self.stream_error,
            unreadable_usage: None,
            torn: !self.terminal,
            events: 0,
        }
    }
}

/// The first non-null finish reason among the chunk's choices.
fn first_finish_reason(chunk: &ChunkJson<'_>) -> Option<String> {
    chunk
        .choices
        .as_deref()?
        .iter()
        .find_map(|c| text_field(&c.finish_reason))
}

/// Summarises a non-streaming Chat Completions body (a completion, or an `{"error":…}` object).
pub(super) fn parse_body(body: &[u8]) -> ResponseSummary {
    let c = match decode_body::<ChunkJson<'_>>(body) {
        Ok(c) => c,
        Err(torn) => {
            return ResponseSummary {
                torn,
                ..ResponseSummary::default()
            };
        }
    };
    ResponseSummary {
        usage: c.usage.as_ref().map(ChatUsageJson::to_usage),
        model: text_field(&c.model),
        response_id: text_field(&c.id),
        stop_reason: first_finish_reason(&c),
        stream_error: c.error.as_ref().map(ApiErrorJson::describe),
        unreadable_usage: None,
        torn: false,
        events: 0,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::test_support::{parse_all_splits, to_crlf};
    use super::super::{StreamUsageParser, parse_json_body};
    use super::*;
    use crate::observation::ApiKind;

    /// A real-shaped stream with `include_usage` set: every chunk has `"usage":null`, the usage
    /// chunk has empty `choices`, then `[DONE]`.
    pub(crate) const STREAM_WITH_USAGE: &str = "data: {\"id\":\"chatcmpl-BxQ9aZ\",\"object\":\"chat.completion.chunk\",\"created\":1753300000,\"model\":\"gpt-4.1-2025-04-14\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b3f1157249\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\
\n\
data: {\"id\":\"chatcmpl-BxQ9aZ\",\"object\":\"chat.completion.chunk\",\"created\":1753300000,\"model\":\"gpt-4.1-2025-04-14\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b3f1157249\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The \\\"usage\\\":null field\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\
\n\
data: {\"id\":\"chatcmpl-BxQ9aZ\",\"object\":\"chat.completion.chunk\",\"created\":1753300000,\"model\":\"gpt-4.1-2025-04-14\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b3f1157249\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\
\n\
data: {\"id\":\"chatcmpl-BxQ9aZ\",\"object\":\"chat.completion.chunk\",\"created\":1753300000,\"model\":\"gpt-4.1-2025-04-14\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b3f1157249\",\"choices\":[],\"usage\":{\"prompt_tokens\":2006,\"completion_tokens\":300,\"total_tokens\":2306,\"prompt_tokens_details\":{\"cached_tokens\":1920,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\
\n\
data: [DONE]\n\
\n";

    /// The same response as a client that did not ask for usage receives it.
    pub(crate) const STREAM_WITHOUT_USAGE: &str = "data: {\"id\":\"chatcmpl-BxQ9aZ\",\"object\":\"chat.completion.chunk\",\"created\":1753300000,\"model\":\"gpt-4.1-2025-04-14\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b3f1157249\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}\n\
\n\
data: {\"id\":\"chatcmpl-BxQ9aZ\",\"object\":\"chat.completion.chunk\",\"created\":1753300000,\"model\":\"gpt-4.1-2025-04-14\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b3f1157249\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The \\\"usage\\\":null field\"},\"logprobs\":null,\"finish_reason\":null}]}\n\
\n\
data: {\"id\":\"chatcmpl-BxQ9aZ\",\"object\":\"chat.completion.chunk\",\"created\":1753300000,\"model\":\"gpt-4.1-2025-04-14\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b3f1157249\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\
\n\
data: [DONE]\n\
\n";

    #[test]
    fn stream_with_usage_any_chunking() {
        let s = parse_all_splits(ApiKind::ChatCompletions, STREAM_WITH_USAGE.as_bytes());
        assert_eq!(
            s.usage,
            Some(Usage {
                input_tokens: 86,
                output_tokens: 300,
                cache_read_input_tokens: 1920,
                ..Usage::default()
            })
        );
        assert_eq!(s.usage.map(|u| u.prompt_tokens()), Some(2006));
        assert_eq!(s.model.as_deref(), Some("gpt-4.1-2025-04-14"));
        assert_eq!(s.response_id.as_deref(), Some("chatcmpl-BxQ9aZ"));
        assert_eq!(s.stop_reason.as_deref(), Some("stop"));
        assert!(s.is_complete());
        assert_eq!(s.events, 5);
    }

    #[test]
    fn stream_without_usage() {
        let s = parse_all_splits(ApiKind::ChatCompletions, STREAM_WITHOUT_USAGE.as_bytes());
        assert_eq!(s.usage, None);
        assert_eq!(s.stop_reason.as_deref(), Some("stop"));
        assert!(s.is_complete());
    }

    #[test]
    fn crlf_and_spaced_json() {
        let crlf = to_crlf(STREAM_WITH_USAGE.as_bytes());
        assert_eq!(
            parse_all_splits(ApiKind::ChatCompletions, &crlf),
            parse_all_splits(ApiKind::ChatCompletions, STREAM_WITH_USAGE.as_bytes())
        );
        // A compatible server that pretty-prints with spaces around colons.
        let spaced = "data: {\"id\": \"c1\", \"model\": \"local\", \"choices\": [{\"delta\": {\"content\": \"x\"}, \"finish_reason\": null}]}\n\n\
data: {\"id\": \"c1\", \"model\": \"local\", \"choices\": [{\"delta\": {}, \"finish_reason\" : \"length\"}]}\n\n\
data: {\"id\": \"c1\", \"model\": \"local\", \"choices\": [], \"usage\" : {\"prompt_tokens\": 9, \"completion_tokens\": 4}}\n\n\
data: [DONE]\n\n";
        let s = parse_all_splits(ApiKind::ChatCompletions, spaced.as_bytes());
        assert_eq!(
            s.usage.map(|u| (u.input_tokens, u.output_tokens)),
            Some((9, 4))
        );
        assert_eq!(s.stop_reason.as_deref(), Some("length"));
    }

    #[test]
    fn azure_first_chunk_without_ids() {
        let stream = "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{}}]}\n\n\
data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null,\"index\":0}],\"created\":1,\"id\":\"chatcmpl-az\",\"model\":\"gpt-4o-2024-11-20\",\"object\":\"chat.completion.chunk\"}\n\n\
data: [DONE]\n\n";
        let s = parse_all_splits(ApiKind::ChatCompletions, stream.as_bytes());
        assert_eq!(s.response_id.as_deref(), Some("chatcmpl-az"));
        assert_eq!(s.model.as_deref(), Some("gpt-4o-2024-11-20"));
    }

    #[test]
    fn error_chunk_and_torn_stream() {
        let stream = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n\
data: {\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n";
        let s = parse_all_splits(ApiKind::ChatCompletions, stream.as_bytes());
        assert_eq!(
            s.stream_error.as_deref(),
            Some("server_error: The server had an error while processing your request.")
        );
        assert!(!s.torn);

        let cut = STREAM_WITH_USAGE.find("data: [DONE]").unwrap();
        let s = parse_all_splits(
            ApiKind::ChatCompletions,
            &STREAM_WITH_USAGE.as_bytes()[..cut],
        );
        assert!(s.torn, "no [DONE]");
        assert!(s.usage.is_some());
        let cut = STREAM_WITH_USAGE.find("\"completion_tokens\"").unwrap();
        let s = parse_all_splits(
            ApiKind::ChatCompletions,
            &STREAM_WITH_USAGE.as_bytes()[..cut],
        );
        assert!(s.torn && s.usage.is_none());
    }

    #[test]
    fn integer_error_code_from_compatible_server() {
        let mut p = StreamUsageParser::new(ApiKind::ChatCompletions);
        p.feed(b"data: {\"error\":{\"code\":429,\"message\":\"slow down\"}}\n\n");
        assert_eq!(p.finish().stream_error.as_deref(), Some("429: slow down"));
    }

    #[test]
    fn non_streaming_body() {
        let body = br#"{
  "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
  "object": "chat.completion",
  "created": 1741570283,
  "model": "gpt-4o-2024-08-06",
  "choices": [
    {
      "index": 0,
      "message": {"role": "assistant", "content": "The image shows a wooden boardwalk.", "refusal": null, "annotations": []},
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": {
    "prompt_tokens": 1117,
    "completion_tokens": 46,
    "total_tokens": 1163,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_fc9f1d7035"
}"#;
        let s = parse_json_body(ApiKind::ChatCompletions, body);
        assert_eq!(
            s.usage,
            Some(Usage {
                input_tokens: 93,
                output_tokens: 46,
                cache_read_input_tokens: 1024,
                ..Usage::default()
            })
        );
        assert_eq!(s.model.as_deref(), Some("gpt-4o-2024-08-06"));
        assert_eq!(
            s.response_id.as_deref(),
            Some("chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG")
        );
        assert_eq!(s.stop_reason.as_deref(), Some("stop"));
        assert!(s.is_complete());
    }

    #[test]
    fn cache_writes_are_split_from_uncached_input() {
        let body = br#"{"id":"chatcmpl-w","model":"gpt-6-sol","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":4000,"completion_tokens":9,"total_tokens":4009,"prompt_tokens_details":{"cached_tokens":1024,"cache_write_tokens":2900,"audio_tokens":0}}}"#;
        let s = parse_json_body(ApiKind::ChatCompletions, body);
        assert_eq!(
            s.usage,
            Some(Usage {
                input_tokens: 76,
                output_tokens: 9,
                cache_read_input_tokens: 1024,
                cache_creation_input_tokens: 2900,
                cache_creation_5m_input_tokens: 2900,
                cache_creation_1h_input_tokens: 0,
                reasoning_output_tokens: 0,
                tool_use_input_tokens: 0,
            })
        );
        assert_eq!(s.usage.map(|u| u.prompt_tokens()), Some(4000));
        let null_details = parse_json_body(
            ApiKind::ChatCompletions,
            br#"{"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":null}}"#,
        );
        assert_eq!(null_details.usage.map(|u| u.input_tokens), Some(5));
    }

    #[test]
    fn non_streaming_error_body() {
        let body = br#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
        let s = parse_json_body(ApiKind::ChatCompletions, body);
        assert_eq!(
            s.stream_error.as_deref(),
            Some("invalid_request_error: Incorrect API key provided")
        );
    }

    #[test]
    fn has_member_prefilter() {
        let f = KeyFinders::new();
        assert!(has_member(br#"{"usage":{"a":1}}"#, &f.usage, b'{'));
        assert!(has_member(br#"{"usage" : {"a":1}}"#, &f.usage, b'{'));
        assert!(!has_member(br#"{"usage":null}"#, &f.usage, b'{'));
        assert!(!has_member(br#"{"c":"\"usage\":{"}"#, &f.usage, b'{'));
        assert!(has_member(br#"{"x":"usage","usage":{}}"#, &f.usage, b'{'));
    }
}
