//! Gemini API (`POST …/models/{model}:generateContent` and `:streamGenerateContent`): usage,
//! ids, finish reason and in-band errors, from a stream or a JSON body.
//!
//! A stream (`?alt=sse`) is a run of `data: {GenerateContentResponse}` events with no event
//! names and no terminal sentinel: it ends when the body does, its last chunk carrying a
//! `finishReason`. Without `alt=sse` the same chunks come as one JSON array. Every chunk may
//! carry `usageMetadata`, a **running snapshot** of the whole call (prompt from the first chunk
//! on, candidates growing): the last one is the call's usage, and adding them up would count
//! the prompt once per chunk. So the stream keeps only the bytes of the latest chunk that has a
//! usage (found by a byte search) and reads it once at the end.
//!
//! Usage in agentprof's convention: `promptTokenCount` includes the cached tokens, so
//! `input_tokens = prompt − cached + toolUsePrompt` (tool-use prompt tokens are counted apart
//! from the prompt by the API and billed as input; kept apart as `tool_use_input_tokens`),
//! `cache_read_input_tokens = cachedContentTokenCount`, `output_tokens = candidates +
//! thoughts` (thinking is billed as output; kept apart as `reasoning_output_tokens`). Gemini's
//! implicit caching bills no writes. `input + cache reads + output` is then the API's
//! `totalTokenCount`.
//!
//! A `usageMetadata` agentprof cannot read (a count that is not a number) leaves the usage
//! unset and says so in [`ResponseSummary::unreadable_usage`]: the call is recorded, never
//! dropped, and the bytes reached the agent untouched either way.

use memchr::memmem::Finder;
use serde::Deserialize;
use std::sync::LazyLock;

use super::{ResponseSummary, Text, decode_body, describe_error, text_field, trim_ws};
use crate::capture::sse::SseEvent;
use crate::observation::Usage;

/// One response chunk, or a whole non-streaming body.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ChunkJson<'a> {
    #[serde(borrow)]
    response_id: Option<Text<'a>>,
    #[serde(borrow)]
    model_version: Option<Text<'a>>,
    #[serde(borrow)]
    candidates: Option<Vec<CandidateJson<'a>>>,
    usage_metadata: Option<serde::de::IgnoredAny>,
    #[serde(borrow)]
    error: Option<GoogleErrorJson<'a>>,
    #[serde(borrow)]
    prompt_feedback: Option<PromptFeedbackJson<'a>>,
}

/// A chunk's usage, read on its own so a malformed one spoils nothing else.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageOnly<'a> {
    #[serde(borrow)]
    usage_metadata: Option<&'a serde_json::value::RawValue>,
}

/// `usageMetadata`. Counts the API leaves out are 0 (it omits zero counts).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct UsageJson {
    prompt_token_count: Option<u64>,
    cached_content_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
    tool_use_prompt_token_count: Option<u64>,
}

impl UsageJson {
    fn to_usage(&self) -> Usage {
        let prompt = self.prompt_token_count.unwrap_or(0);
        let cached = self.cached_content_token_count.unwrap_or(0).min(prompt);
        let tool_use = self.tool_use_prompt_token_count.unwrap_or(0);
        let thoughts = self.thoughts_token_count.unwrap_or(0);
        // Saturating: counts near u64::MAX are nonsense, but must not panic.
        Usage {
            input_tokens: (prompt - cached).saturating_add(tool_use),
            output_tokens: self
                .candidates_token_count
                .unwrap_or(0)
                .saturating_add(thoughts),
            cache_read_input_tokens: cached,
            reasoning_output_tokens: thoughts,
            tool_use_input_tokens: tool_use,
            ..Usage::default()
        }
    }
}

/// A candidate; only its finish reason matters.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CandidateJson<'a> {
    #[serde(borrow)]
    finish_reason: Option<Text<'a>>,
}

/// `promptFeedback`: a prompt blocked before any candidate was made.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PromptFeedbackJson<'a> {
    #[serde(borrow)]
    block_reason: Option<Text<'a>>,
}

/// Google's error object (`google.rpc.Status`): `{"code": 429, "message": "…", "status":
/// "RESOURCE_EXHAUSTED"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GoogleErrorJson<'a> {
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(borrow)]
    message: Option<Text<'a>>,
}

impl GoogleErrorJson<'_> {
    fn describe(&self) -> String {
        describe_error(self.status.as_deref(), self.message.as_deref())
    }
}

impl ChunkJson<'_> {
    /// The first candidate's finish reason, or why the prompt was blocked.
    fn stop_reason(&self) -> Option<String> {
        self.candidates
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find_map(|c| text_field(&c.finish_reason))
            .or_else(|| {
                self.prompt_feedback
                    .as_ref()
                    .and_then(|p| text_field(&p.block_reason))
            })
    }
}

/// Reads a chunk's usage: `Ok(None)` when it has none, `Err` when it has one agentprof cannot
/// read.
fn read_usage(chunk: &[u8]) -> Result<Option<Usage>, String> {
    let unreadable = |e: &dyn std::fmt::Display| format!("usageMetadata not readable: {e}");
    let raw = match serde_json::from_slice::<UsageOnly<'_>>(chunk) {
        Ok(UsageOnly {
            usage_metadata: Some(raw),
        }) => raw.get(),
        Ok(UsageOnly {
            usage_metadata: None,
        }) => return Ok(None),
        Err(e) => return Err(unreadable(&e)),
    };
    // Only an object: serde would otherwise read an array as the fields in order.
    if !raw.starts_with('{') {
        return Err(unreadable(&"not an object"));
    }
    serde_json::from_str::<UsageJson>(raw)
        .map(|u| Some(u.to_usage()))
        .map_err(|e| unreadable(&e))
}

/// Searchers for the member names that make a chunk worth a look.
static FINDERS: LazyLock<KeyFinders> = LazyLock::new(KeyFinders::new);

#[derive(Debug)]
struct KeyFinders {
    usage: Finder<'static>,
    finish_reason: Finder<'static>,
    error: Finder<'static>,
    block_reason: Finder<'static>,
}

impl KeyFinders {
    fn new() -> Self {
        Self {
            usage: Finder::new(b"\"usageMetadata\""),
            finish_reason: Finder::new(b"\"finishReason\""),
            error: Finder::new(b"\"error\""),
            block_reason: Finder::new(b"\"blockReason\""),
        }
    }
}

/// Streaming state for one Gemini response.
#[derive(Debug, Default)]
pub(super) struct StreamState {
    /// The latest chunk that mentions `usageMetadata`, read at the end, and the one before it:
    /// the mention may be a key inside a function call's arguments, with the chunk carrying no
    /// usage of its own, and then the one before holds the call's usage.
    last_usage_chunk: Vec<u8>,
    previous_usage_chunk: Vec<u8>,
    model: Option<String>,
    response_id: Option<String>,
    stop_reason: Option<String>,
    stream_error: Option<String>,
    /// A chunk with a finish reason, a block reason or an error was seen: the stream ended on
    /// purpose.
    terminal: bool,
    /// The first chunk was read (ids come from it, as Gemini CLI takes them).
    first_read: bool,
}

impl StreamState {
    /// Handles one SSE event (one chunk).
    pub(super) fn on_event(&mut self, ev: SseEvent<'_>) {
        self.on_chunk(trim_ws(ev.data));
    }

    fn on_chunk(&mut self, data: &[u8]) {
        let f = &*FINDERS;
        if f.usage.find(data).is_some() {
            std::mem::swap(&mut self.last_usage_chunk, &mut self.previous_usage_chunk);
            self.last_usage_chunk.clear();
            self.last_usage_chunk.extend_from_slice(data);
        }
        let ends = f.finish_reason.find(data).is_some()
            || f.block_reason.find(data).is_some()
            || f.error.find(data).is_some();
        if self.first_read && !ends {
            return;
        }
        let Ok(chunk) = serde_json::from_slice::<ChunkJson<'_>>(data) else {
            return;
        };
        if !self.first_read {
            self.first_read = true;
            self.response_id = text_field(&chunk.response_id);
            self.model = text_field(&chunk.model_version);
        }
        if let Some(reason) = chunk.stop_reason() {
            self.stop_reason = Some(reason);
            self.terminal = true;
        }
        if let Some(e) = &chunk.error {
            self.terminal = true;
            self.stream_error.get_or_insert_with(|| e.describe());
        }
    }

    /// The summary (without event count or decoder-level tearing, which the caller adds).
    pub(super) fn finish(self) -> ResponseSummary {
        let read = |chunk: &[u8]| match read_usage(chunk) {
            _ if chunk.is_empty() => (None, None),
            Ok(usage) => (usage, None),
            Err(e) => (None, Some(e)),
        };
        let (usage, unreadable_usage) = match read(&self.last_usage_chunk) {
            (None, None) => read(&self.previous_usage_chunk),
            read => read,
        };
        ResponseSummary {
            usage,
            model: self.model,
            response_id: self.response_id,
            stop_reason: self.stop_reason,
            stream_error: self.stream_error,
            unreadable_usage,
            torn: !self.terminal,
            events: 0,
        }
    }
}

/// Summarises a non-streaming body: one response object, an array of them (a stream asked for
/// without `alt=sse`), or an `{"error":…}` object.
pub(super) fn parse_body(body: &[u8]) -> ResponseSummary {
    let body = trim_ws(body);
    if body.first() == Some(&b'[') {
        return parse_array(body);
    }
    let chunk = match decode_body::<ChunkJson<'_>>(body) {
        Ok(c) => c,
        Err(torn) => {
            return ResponseSummary {
                torn,
                ..ResponseSummary::default()
            };
        }
    };
    let (usage, unreadable_usage) = match chunk.usage_metadata {
        None => (None, None),
        Some(_) => match read_usage(body) {
            Ok(usage) => (usage, None),
            Err(e) => (None, Some(e)),
        },
    };
    ResponseSummary {
        usage,
        model: text_field(&chunk.model_version),
        response_id: text_field(&chunk.response_id),
        stop_reason: chunk.stop_reason(),
        stream_error: chunk.error.as_ref().map(GoogleErrorJson::describe),
        unreadable_usage,
        torn: false,
        events: 0,
    }
}

/// A JSON array of chunks, read element by element as a stream would be.
fn parse_array(body: &[u8]) -> ResponseSummary {
    let elements = match decode_body::<Vec<&serde_json::value::RawValue>>(body) {
        Ok(e) => e,
        Err(torn) => {
            return ResponseSummary {
                torn,
                ..ResponseSummary::default()
            };
        }
    };
    let mut state = StreamState::default();
    for element in &elements {
        state.on_chunk(element.get().as_bytes());
    }
    let mut summary = state.finish();
    summary.events = elements.len() as u64;
    summary
}

#[cfg(test)]
mod tests {
    use super::super::test_support::parse_all_splits;
    use super::super::{StreamUsageParser, parse_json_body};
    use super::*;
    use crate::observation::ApiKind;

    /// Three chunks as the API sends them: usage a running snapshot on each, the last with the
    /// finish reason and the final counts.
    const STREAM: &str = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hel\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 1200,\"candidatesTokenCount\": 1,\"totalTokenCount\": 1201,\"cachedContentTokenCount\": 200},\"modelVersion\": \"gemini-3-flash-preview\",\"responseId\": \"r-1\"}\r\n\r\n\
data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"lo th\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 1200,\"candidatesTokenCount\": 4,\"totalTokenCount\": 1204,\"cachedContentTokenCount\": 200},\"modelVersion\": \"gemini-3-flash-preview\",\"responseId\": \"r-1\"}\r\n\r\n\
data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"ere\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 1200,\"candidatesTokenCount\": 7,\"totalTokenCount\": 1215,\"cachedContentTokenCount\": 200,\"thoughtsTokenCount\": 3,\"toolUsePromptTokenCount\": 5},\"modelVersion\": \"gemini-3-flash-preview\",\"responseId\": \"r-1\"}\r\n\r\n";

    fn final_usage() -> Usage {
        Usage {
            input_tokens: 1000 + 5,
            output_tokens: 7 + 3,
            cache_read_input_tokens: 200,
            reasoning_output_tokens: 3,
            tool_use_input_tokens: 5,
            ..Usage::default()
        }
    }

    #[test]
    fn a_stream_is_its_last_snapshot_in_any_chunking() {
        let s = parse_all_splits(ApiKind::GenerateContent, STREAM.as_bytes());
        assert_eq!(s.usage, Some(final_usage()));
        assert_eq!(s.usage.map(|u| u.total_tokens()), Some(1215));
        assert_eq!(s.model.as_deref(), Some("gemini-3-flash-preview"));
        assert_eq!(s.response_id.as_deref(), Some("r-1"));
        assert_eq!(s.stop_reason.as_deref(), Some("STOP"));
        assert!(s.is_complete());
        assert_eq!(s.events, 3);
    }

    #[test]
    fn a_stream_cut_before_its_finish_is_torn_with_the_usage_read_so_far() {
        let cut = STREAM
            .find("data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"ere")
            .unwrap();
        let s = parse_all_splits(ApiKind::GenerateContent, &STREAM.as_bytes()[..cut]);
        assert!(s.torn);
        assert_eq!(s.usage.map(|u| u.output_tokens), Some(4));
        assert_eq!(s.usage.map(|u| u.cache_read_input_tokens), Some(200));
    }

    #[test]
    fn an_error_chunk_ends_the_stream_with_its_status() {
        let stream = "data: {\"error\": {\"code\": 503, \"message\": \"The model is overloaded.\", \"status\": \"UNAVAILABLE\"}}\r\n\r\n";
        let s = parse_all_splits(ApiKind::GenerateContent, stream.as_bytes());
        assert_eq!(
            s.stream_error.as_deref(),
            Some("UNAVAILABLE: The model is overloaded.")
        );
        assert!(!s.torn);
    }

    #[test]
    fn a_malformed_usage_is_unread_not_a_crash() {
        let stream = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"hi\"}]},\"finishReason\": \"STOP\"}],\"usageMetadata\": {\"promptTokenCount\": \"many\"},\"responseId\": \"r-2\"}\r\n\r\n";
        let s = parse_all_splits(ApiKind::GenerateContent, stream.as_bytes());
        assert_eq!(s.usage, None);
        assert!(
            s.unreadable_usage
                .as_deref()
                .is_some_and(|e| e.starts_with("usageMetadata not readable")),
            "{s:?}"
        );
        assert_eq!(s.response_id.as_deref(), Some("r-2"));
        assert!(!s.torn);
        let body = parse_json_body(
            ApiKind::GenerateContent,
            br#"{"candidates":[{"finishReason":"STOP"}],"usageMetadata":[1,2]}"#,
        );
        assert_eq!(body.usage, None);
        assert!(body.unreadable_usage.is_some());
    }

    #[test]
    fn a_usage_key_inside_function_arguments_does_not_hide_the_usage() {
        let stream = format!(
            "{}data: {{\"candidates\": [{{\"content\": {{\"parts\": [{{\"functionCall\": {{\"name\": \"f\", \"args\": {{\"usageMetadata\": 1}}}}}}]}}}}]}}\r\n\r\n",
            STREAM
        );
        let s = parse_all_splits(ApiKind::GenerateContent, stream.as_bytes());
        assert_eq!(s.usage, Some(final_usage()));
    }

    #[test]
    fn absurd_counts_saturate_instead_of_panicking() {
        let body = format!(
            r#"{{"candidates":[{{"finishReason":"STOP"}}],"usageMetadata":{{"promptTokenCount":{max},"toolUsePromptTokenCount":1,"candidatesTokenCount":{max},"thoughtsTokenCount":1}}}}"#,
            max = u64::MAX
        );
        let s = parse_json_body(ApiKind::GenerateContent, body.as_bytes());
        let u = s.usage.unwrap();
        assert_eq!((u.input_tokens, u.output_tokens), (u64::MAX, u64::MAX));
        assert_eq!(u.total_tokens(), u64::MAX);
    }

    #[test]
    fn json_bodies_objects_and_arrays() {
        let body = br#"{"candidates":[{"content":{"parts":[{"text":"{\"a\":1}"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":80,"candidatesTokenCount":6,"totalTokenCount":86},"modelVersion":"gemini-3.1-flash-lite","responseId":"r-3"}"#;
        let s = parse_json_body(ApiKind::GenerateContent, body);
        assert_eq!(
            s.usage,
            Some(Usage {
                input_tokens: 80,
                output_tokens: 6,
                ..Usage::default()
            })
        );
        assert_eq!(s.model.as_deref(), Some("gemini-3.1-flash-lite"));
        assert!(s.is_complete());

        // The same stream, asked for without alt=sse: one JSON array.
        let chunks: Vec<&str> = STREAM
            .split("\r\n\r\n")
            .filter(|c| !c.is_empty())
            .map(|c| c.trim_start_matches("data: "))
            .collect();
        let array = format!("[{}]", chunks.join(",\r\n"));
        let s = parse_json_body(ApiKind::GenerateContent, array.as_bytes());
        assert_eq!(s.usage, Some(final_usage()));
        assert_eq!(s.response_id.as_deref(), Some("r-1"));
        assert_eq!(s.events, 3);
        assert!(s.is_complete());
        let torn = parse_json_body(
            ApiKind::GenerateContent,
            &array.as_bytes()[..array.len() / 2],
        );
        assert!(torn.torn);

        let error = parse_json_body(
            ApiKind::GenerateContent,
            br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
        );
        assert_eq!(
            error.stream_error.as_deref(),
            Some("RESOURCE_EXHAUSTED: Quota exceeded")
        );
    }

    #[test]
    fn a_blocked_prompt_ends_with_its_reason() {
        let s = parse_json_body(
            ApiKind::GenerateContent,
            br#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9}}"#,
        );
        assert_eq!(s.stop_reason.as_deref(), Some("SAFETY"));
        assert_eq!(s.usage.map(|u| u.input_tokens), Some(9));
    }

    #[test]
    fn streams_without_finish_or_usage_are_torn_and_unread() {
        let mut p = StreamUsageParser::new(ApiKind::GenerateContent);
        p.feed(b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}}]}\r\n\r\n");
        let s = p.finish();
        assert!(s.torn);
        assert_eq!(s.usage, None);
        assert_eq!(s.unreadable_usage, None);
    }
}
