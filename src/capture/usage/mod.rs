//! Usage extraction: response bytes in, a [`ResponseSummary`] (token usage, ids, stop reason,
//! errors, whether the stream was cut off) out.
//!
//! This module owns the dispatch on [`ApiKind`] and the pieces the wire formats share; each
//! submodule owns one format ([`anthropic`] for Messages, [`openai_chat`] for Chat Completions,
//! [`openai_responses`] for Responses, [`gemini`] for Gemini's generateContent). [`strip`] hides a proxy-added `include_usage` from an
//! OpenAI client while still capturing the usage.
//!
//! Parsing is best-effort by design: a response agentprof cannot read is still relayed, so
//! nothing here fails — malformed or unexpected JSON just leaves fields unset. Streams are parsed
//! selectively: only the few events that can carry usage, ids or errors are JSON-decoded; the
//! bulk of a stream (text deltas) is recognised by its event name or a cheap byte search and
//! skipped.

pub mod anthropic;
pub mod gemini;
pub mod openai_chat;
pub mod openai_responses;
pub mod strip;

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::capture::sse::{SseDecoder, SseEvent};
use crate::observation::{ApiKind, Usage};

/// What agentprof learned from one response body, streaming or not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseSummary {
    /// Final token usage in agentprof's convention; `None` when the response reported none.
    pub usage: Option<Usage>,
    /// The model that answered, as the response names it.
    pub model: Option<String>,
    /// The response's own id (`msg_…`, `chatcmpl-…`, `resp_…`).
    pub response_id: Option<String>,
    /// Why generation stopped (`end_turn`, `tool_use`, `stop`, `length`, `completed`, …).
    pub stop_reason: Option<String>,
    /// An error the response carried despite its status, as `"<type>: <message>"` (e.g.
    /// `"overloaded_error: Overloaded"`).
    pub stream_error: Option<String>,
    /// The response reported a usage agentprof could not read (why, for the trace); `usage`
    /// is then `None`. Only formats whose usage can be malformed on its own set it.
    pub unreadable_usage: Option<String>,
    /// The stream ended inside an event, or without its terminal event (`message_stop`,
    /// `[DONE]`, `response.completed`/`.incomplete`/`.failed`, or an error event, which ends a
    /// stream on purpose). For a non-streaming body: the JSON ended before it was complete.
    pub torn: bool,
    /// SSE events decoded (0 for a non-streaming body).
    pub events: u64,
}

impl ResponseSummary {
    /// The response ran to its normal end: not torn and no error reported in-band.
    pub fn is_complete(&self) -> bool {
        !self.torn && self.stream_error.is_none()
    }
}

/// Consumes a streaming (SSE) response body chunk by chunk and summarises it at the end.
///
/// Feed every byte the upstream sent, in order, in any chunking; the result does not depend on
/// how the bytes were split.
#[derive(Debug)]
pub struct StreamUsageParser {
    decoder: SseDecoder,
    format: Format,
    events: u64,
}

/// The per-format stream state.
#[derive(Debug)]
enum Format {
    Messages(anthropic::StreamState),
    Chat(openai_chat::StreamState),
    Responses(openai_responses::StreamState),
    Gemini(gemini::StreamState),
    /// No usage expected; events are still counted and tearing detected.
    Other,
}

impl StreamUsageParser {
    /// A parser for a stream of the given API's shape.
    pub fn new(api: ApiKind) -> Self {
        let format = match api {
            ApiKind::Messages => Format::Messages(anthropic::StreamState::default()),
            ApiKind::ChatCompletions => Format::Chat(openai_chat::StreamState::default()),
            ApiKind::Responses => Format::Responses(openai_responses::StreamState::default()),
            ApiKind::GenerateContent => Format::Gemini(gemini::StreamState::default()),
            ApiKind::Other => Format::Other,
        };
        Self {
            decoder: SseDecoder::new(),
            format,
            events: 0,
        }
    }

    /// Consumes the next bytes of the stream.
    pub fn feed(&mut self, chunk: &[u8]) {
        let Self {
            decoder,
            format,
            events,
        } = self;
        decoder.feed(chunk, |ev| {
            *events += 1;
            match format {
                Format::Messages(s) => s.on_event(ev),
                Format::Chat(s) => s.on_event(ev),
                Format::Responses(s) => s.on_event(ev),
                Format::Gemini(s) => s.on_event(ev),
                Format::Other => {}
            }
        });
    }

    /// Consumes one event that came whole, without SSE framing, its name in its JSON `type`
    /// (a WebSocket message of the Responses API carries exactly an SSE event's data).
    pub fn feed_event(&mut self, data: &[u8]) {
        self.events += 1;
        let ev = SseEvent {
            event: "message",
            data,
        };
        match &mut self.format {
            Format::Messages(s) => s.on_event(ev),
            Format::Chat(s) => s.on_event(ev),
            Format::Responses(s) => s.on_event(ev),
            Format::Gemini(s) => s.on_event(ev),
            Format::Other => {}
        }
    }

    /// SSE events decoded so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Ends the stream (call it also when the stream broke off: the summary then says `torn` and
    /// holds whatever usage had been seen).
    pub fn finish(mut self) -> ResponseSummary {
        let partial = self.decoder.finish(|_| {});
        let mut summary = match self.format {
            Format::Messages(s) => s.finish(),
            Format::Chat(s) => s.finish(),
            Format::Responses(s) => s.finish(),
            Format::Gemini(s) => s.finish(),
            Format::Other => ResponseSummary::default(),
        };
        summary.torn |= partial;
        summary.events = self.events;
        summary
    }
}

/// Summarises a complete non-streaming (JSON) response body.
pub fn parse_json_body(api: ApiKind, body: &[u8]) -> ResponseSummary {
    match api {
        ApiKind::Messages => anthropic::parse_body(body),
        ApiKind::ChatCompletions => openai_chat::parse_body(body),
        ApiKind::Responses => openai_responses::parse_body(body),
        ApiKind::GenerateContent => gemini::parse_body(body),
        ApiKind::Other => ResponseSummary::default(),
    }
}

/// Decodes a whole JSON body; `Err(true)` means it ended early (torn), `Err(false)` that it is
/// not the JSON expected (an HTML error page, a different shape).
fn decode_body<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, bool> {
    serde_json::from_slice(body).map_err(|e| e.is_eof())
}

/// A borrowed string where possible (owned only when the JSON had escapes).
type Text<'a> = Cow<'a, str>;

/// Turns a parsed string into a summary field, treating `""` as absent (Azure sends empty ids
/// in its first chunk).
fn text_field(t: &Option<Text<'_>>) -> Option<String> {
    t.as_deref().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// An error object as both providers shape it: `{"type", "code", "message"}`, any of which may
/// be missing or null.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApiErrorJson<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Text<'a>>,
    code: LooseStr,
    #[serde(borrow)]
    message: Option<Text<'a>>,
}

impl ApiErrorJson<'_> {
    /// `"<type or code>: <message>"`, degrading gracefully when parts are missing.
    fn describe(&self) -> String {
        let kind = self.kind.as_deref().or(self.code.0.as_deref());
        describe_error(kind, self.message.as_deref())
    }
}

/// Formats an error kind and message the way `ResponseSummary::stream_error` documents.
fn describe_error(kind: Option<&str>, message: Option<&str>) -> String {
    let kind = kind.filter(|k| !k.is_empty());
    let message = message.filter(|m| !m.is_empty());
    match (kind, message) {
        (Some(k), Some(m)) => format!("{k}: {m}"),
        (Some(k), None) => k.to_owned(),
        (None, Some(m)) => m.to_owned(),
        (None, None) => "unknown error".to_owned(),
    }
}

/// A string-ish JSON value: strings kept, numbers turned into strings, anything else dropped.
/// Error codes are strings from OpenAI but integers from some compatible servers; either must
/// not make the whole error object unreadable.
#[derive(Debug, Default)]
struct LooseStr(Option<String>);

impl<'de> Deserialize<'de> for LooseStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LooseStr;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LooseStr, E> {
                Ok(LooseStr(Some(v.to_owned())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LooseStr, E> {
                Ok(LooseStr(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LooseStr, E> {
                Ok(LooseStr(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LooseStr, E> {
                Ok(LooseStr(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<LooseStr, E> {
                Ok(LooseStr(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LooseStr, E> {
                Ok(LooseStr(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<LooseStr, A::Error> {
                while a.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(LooseStr(None))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<LooseStr, A::Error> {
                while a.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
                Ok(LooseStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// OpenAI's prompt-cache convention turned into agentprof's: `prompt` includes both the cached
/// tokens read and the tokens written to the cache, and agentprof's `input_tokens` is the part
/// that was neither. Reads are clamped to `prompt` and writes to what is left, so the total
/// prompt is always the one OpenAI reported and nothing is counted twice. OpenAI gives writes
/// no TTL split: they count as default-TTL (`5m`) writes. Reasoning tokens are part of the
/// output and kept apart as its share (clamped to it).
fn openai_usage(
    prompt: u64,
    output: u64,
    cache: &CacheDetailsJson,
    output_details: Option<&OutputDetailsJson>,
) -> Usage {
    let read = cache.cached_tokens.unwrap_or(0).min(prompt);
    let write = cache.cache_write_tokens.unwrap_or(0).min(prompt - read);
    let reasoning = output_details
        .and_then(|d| d.reasoning_tokens)
        .unwrap_or(0)
        .min(output);
    Usage {
        input_tokens: prompt - read - write,
        output_tokens: output,
        cache_creation_input_tokens: write,
        cache_read_input_tokens: read,
        cache_creation_5m_input_tokens: write,
        cache_creation_1h_input_tokens: 0,
        reasoning_output_tokens: reasoning,
        tool_use_input_tokens: 0,
    }
}

/// The output-token details both OpenAI APIs use (`completion_tokens_details`,
/// `output_tokens_details`): how many of the output tokens were reasoning.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutputDetailsJson {
    reasoning_tokens: Option<u64>,
}

/// The prompt-token details both OpenAI APIs use (`prompt_tokens_details` in Chat Completions,
/// `input_tokens_details` in Responses): cache reads, and since late 2026 cache writes.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CacheDetailsJson {
    cached_tokens: Option<u64>,
    cache_write_tokens: Option<u64>,
}

/// The value of a top-level `"type"` member when it is the object's first member, which is how
/// both providers write their stream events: lets an event without an `event:` line be
/// classified without parsing it. `None` when the data does not start that way.
fn sniff_type(data: &[u8]) -> Option<&str> {
    let rest = skip_ws(data).strip_prefix(b"{")?;
    let rest = skip_ws(rest).strip_prefix(b"\"type\"")?;
    let rest = skip_ws(rest).strip_prefix(b":")?;
    let rest = skip_ws(rest).strip_prefix(b"\"")?;
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    if rest[end] != b'"' {
        return None;
    }
    std::str::from_utf8(&rest[..end]).ok()
}

/// The event's type: its `event:` name, or when a server sent none (so the decoder reports the
/// default `message`), the JSON's `"type"` member.
fn event_type<'a>(ev: &SseEvent<'a>) -> Cow<'a, str> {
    if ev.event != "message" {
        return Cow::Borrowed(ev.event);
    }
    if let Some(t) = sniff_type(ev.data) {
        return Cow::Borrowed(t);
    }
    #[derive(Deserialize)]
    struct TypeOnly<'a> {
        #[serde(rename = "type", borrow, default)]
        kind: Option<Text<'a>>,
    }
    match serde_json::from_slice::<TypeOnly<'a>>(ev.data) {
        Ok(TypeOnly {
            kind: Some(Cow::Borrowed(t)),
        }) => Cow::Borrowed(t),
        Ok(TypeOnly {
            kind: Some(Cow::Owned(t)),
        }) => Cow::Owned(t),
        _ => Cow::Borrowed("message"),
    }
}

/// `data` without leading JSON whitespace.
fn skip_ws(data: &[u8]) -> &[u8] {
    let n = data
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(data.len());
    &data[n..]
}

/// `data` without leading and trailing JSON whitespace.
fn trim_ws(data: &[u8]) -> &[u8] {
    let data = skip_ws(data);
    let n = data
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .map_or(0, |i| i + 1);
    &data[..n]
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers shared by the format tests.

    use super::*;

    /// Parses `stream` whole, split in two at every byte, in 1-byte chunks and in pseudo-random
    /// chunkings, asserting all agree; returns the whole-stream summary.
    pub(crate) fn parse_all_splits(api: ApiKind, stream: &[u8]) -> ResponseSummary {
        let run = |chunks: &[&[u8]]| {
            let mut p = StreamUsageParser::new(api);
            for c in chunks {
                p.feed(c);
            }
            p.finish()
        };
        let whole = run(&[stream]);
        for cut in 0..=stream.len() {
            assert_eq!(
                run(&[&stream[..cut], &stream[cut..]]),
                whole,
                "split at {cut}"
            );
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(run(&bytes), whole, "1-byte chunks");
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..30 {
            let mut chunks = Vec::new();
            let mut pos = 0;
            while pos < stream.len() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let end = (pos + (seed % 40) as usize).min(stream.len());
                chunks.push(&stream[pos..end]);
                pos = end;
            }
            assert_eq!(run(&chunks), whole, "random chunking");
        }
        whole
    }

    /// The stream with every `\n` turned into `\r\n`.
    pub(crate) fn to_crlf(stream: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(stream.len() * 2);
        for &b in stream {
            if b == b'\n' {
                out.push(b'\r');
            }
            out.push(b);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_type_reads_leading_type_member() {
        assert_eq!(sniff_type(br#"{"type":"ping"}"#), Some("ping"));
        assert_eq!(
            sniff_type(b" { \"type\" : \"message_start\", \"x\":1}"),
            Some("message_start")
        );
        assert_eq!(sniff_type(br#"{"id":"x","type":"ping"}"#), None);
        assert_eq!(sniff_type(br#"{"type":"a\"b"}"#), None);
        assert_eq!(sniff_type(b"[DONE]"), None);
    }

    #[test]
    fn event_type_falls_back_to_json_type() {
        let ev = SseEvent {
            event: "message",
            data: br#"{"index":0,"type":"content_block_stop"}"#,
        };
        assert_eq!(event_type(&ev), "content_block_stop");
        let ev = SseEvent {
            event: "message_stop",
            data: br#"{"type":"other"}"#,
        };
        assert_eq!(event_type(&ev), "message_stop");
        let ev = SseEvent {
            event: "message",
            data: b"not json",
        };
        assert_eq!(event_type(&ev), "message");
    }

    #[test]
    fn describe_error_degrades() {
        assert_eq!(describe_error(Some("a"), Some("b")), "a: b");
        assert_eq!(describe_error(None, Some("b")), "b");
        assert_eq!(describe_error(Some("a"), Some("")), "a");
        assert_eq!(describe_error(None, None), "unknown error");
    }

    #[test]
    fn openai_usage_subtracts_and_clamps_cache_reads_and_writes() {
        let cache = |read, write| CacheDetailsJson {
            cached_tokens: read,
            cache_write_tokens: write,
        };
        let u = openai_usage(100, 7, &cache(Some(60), None), None);
        assert_eq!((u.input_tokens, u.cache_read_input_tokens), (40, 60));
        assert_eq!(u.prompt_tokens(), 100);
        let u = openai_usage(10, 0, &cache(Some(60), None), None);
        assert_eq!((u.input_tokens, u.cache_read_input_tokens), (0, 10));
        // Writes are part of the prompt too: split three ways, never counted twice.
        let u = openai_usage(100, 7, &cache(Some(60), Some(30)), None);
        assert_eq!(
            (
                u.input_tokens,
                u.cache_read_input_tokens,
                u.cache_creation_input_tokens,
                u.cache_creation_5m_input_tokens,
                u.cache_creation_1h_input_tokens
            ),
            (10, 60, 30, 30, 0)
        );
        assert_eq!(u.prompt_tokens(), 100);
        let u = openai_usage(100, 0, &cache(None, Some(100)), None);
        assert_eq!((u.input_tokens, u.cache_creation_input_tokens), (0, 100));
        // Reasoning is a share of the output, clamped to it.
        let thinking = |n| OutputDetailsJson {
            reasoning_tokens: Some(n),
        };
        let u = openai_usage(100, 7, &cache(None, None), Some(&thinking(5)));
        assert_eq!((u.output_tokens, u.reasoning_output_tokens), (7, 5));
        assert_eq!(u.total_tokens(), 107);
        let u = openai_usage(100, 7, &cache(None, None), Some(&thinking(50)));
        assert_eq!(u.reasoning_output_tokens, 7);
        // Inconsistent counts are clamped to the reported prompt, reads first.
        let u = openai_usage(100, 0, &cache(Some(70), Some(50)), None);
        assert_eq!(
            (
                u.input_tokens,
                u.cache_read_input_tokens,
                u.cache_creation_input_tokens
            ),
            (0, 70, 30)
        );
        assert_eq!(u.prompt_tokens(), 100);
    }

    #[test]
    fn other_api_counts_events_and_tearing() {
        let mut p = StreamUsageParser::new(ApiKind::Other);
        p.feed(b"data: 1\n\ndata: 2\n\n");
        let s = p.finish();
        assert_eq!(s.events, 2);
        assert!(!s.torn && s.usage.is_none());
        let mut p = StreamUsageParser::new(ApiKind::Other);
        p.feed(b"data: 1\n\ndata: 2");
        assert!(p.finish().torn);
        assert_eq!(
            parse_json_body(ApiKind::Other, b"{}"),
            ResponseSummary::default()
        );
    }
}
