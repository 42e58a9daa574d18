//! Anthropic Messages API (`POST /v1/messages`): usage, ids, stop reason and in-band errors, from
//! a stream or a JSON body.
//!
//! A stream reports usage twice: `message_start` carries the prompt side (input, cache writes and
//! reads) and `message_delta` carries *cumulative* totals — newer API versions repeat the input
//! fields there too. So a delta's fields are assigned over the current values, never added: adding
//! would double-count every repeated field. Only `message_start`, `message_delta` and `error`
//! events are JSON-decoded; `content_block_delta` (the bulk of every stream) is recognised by its
//! name and skipped.

use serde::Deserialize;

use super::{ApiErrorJson, ResponseSummary, Text, decode_body, event_type, text_field};
use crate::capture::sse::SseEvent;
use crate::observation::Usage;

/// A `usage` object as Anthropic sends it. Every field is optional so that "absent" (keep the
/// previous value) can be told from a value.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UsageJson {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation: Option<CacheCreationJson>,
}

/// `usage.cache_creation`: the cache write split by TTL.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CacheCreationJson {
    ephemeral_5m_input_tokens: Option<u64>,
    ephemeral_1h_input_tokens: Option<u64>,
}

/// A message object: the non-streaming body, `message_start.message`, and (through `error`) an
/// error body or `error` event.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MessageJson<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    model: Option<Text<'a>>,
    #[serde(borrow)]
    stop_reason: Option<Text<'a>>,
    usage: Option<UsageJson>,
    #[serde(borrow)]
    error: Option<ApiErrorJson<'a>>,
}

/// `message_start`'s data.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MessageStartJson<'a> {
    #[serde(borrow)]
    message: Option<MessageJson<'a>>,
}

/// `message_delta`'s data.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MessageDeltaJson<'a> {
    #[serde(borrow)]
    delta: Option<DeltaJson<'a>>,
    usage: Option<UsageJson>,
}

/// `message_delta.delta`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeltaJson<'a> {
    #[serde(borrow)]
    stop_reason: Option<Text<'a>>,
}

/// Usage as reported so far, each field `None` until some event carried it.
#[derive(Debug, Default, Clone, Copy)]
struct RawUsage {
    seen: bool,
    input: Option<u64>,
    output: Option<u64>,
    cache_creation: Option<u64>,
    cache_read: Option<u64>,
    creation_5m: Option<u64>,
    creation_1h: Option<u64>,
}

impl RawUsage {
    /// Assigns every field `u` carries; fields it lacks keep their value (cumulative semantics).
    fn assign(&mut self, u: &UsageJson) {
        fn set(slot: &mut Option<u64>, v: Option<u64>) {
            if v.is_some() {
                *slot = v;
            }
        }
        self.seen = true;
        set(&mut self.input, u.input_tokens);
        set(&mut self.output, u.output_tokens);
        set(&mut self.cache_creation, u.cache_creation_input_tokens);
        set(&mut self.cache_read, u.cache_read_input_tokens);
        if let Some(split) = &u.cache_creation {
            set(&mut self.creation_5m, split.ephemeral_5m_input_tokens);
            set(&mut self.creation_1h, split.ephemeral_1h_input_tokens);
        }
    }

    /// The usage in agentprof's form, with the TTL split made consistent with the total.
    fn to_usage(self) -> Option<Usage> {
        if !self.seen {
            return None;
        }
        let (total, m5, h1) = cache_split(self.cache_creation, self.creation_5m, self.creation_1h);
        Some(Usage {
            input_tokens: self.input.unwrap_or(0),
            output_tokens: self.output.unwrap_or(0),
            cache_creation_input_tokens: total,
            cache_read_input_tokens: self.cache_read.unwrap_or(0),
            cache_creation_5m_input_tokens: m5,
            cache_creation_1h_input_tokens: h1,
            reasoning_output_tokens: 0,
            tool_use_input_tokens: 0,
        })
    }
}

/// Reconciles the cache-write total with its TTL split so that `5m + 1h == total` always holds.
///
/// A total of 0 (or none) next to a non-zero split means the total was not filled in: the split
/// wins. A split that disagrees with a non-zero total trusts the total and the 1-hour figure
/// (capped at the total), counting the remainder as 5-minute writes, the API's default TTL —
/// which is also where the whole write goes when there is no split at all.
pub fn cache_split(total: Option<u64>, m5: Option<u64>, h1: Option<u64>) -> (u64, u64, u64) {
    let split_sum = m5.unwrap_or(0).saturating_add(h1.unwrap_or(0));
    let total = match total {
        Some(t) if t > 0 => t,
        _ => split_sum,
    };
    let h1 = h1.unwrap_or(0).min(total);
    (total, total - h1, h1)
}

/// Streaming state for one Messages response.
#[derive(Debug, Default)]
pub(super) struct StreamState {
    usage: RawUsage,
    model: Option<String>,
    response_id: Option<String>,
    stop_reason: Option<String>,
    stream_error: Option<String>,
    /// `message_stop` or an `error` event was seen: the stream ended on purpose.
    terminal: bool,
}

impl StreamState {
    /// Handles one SSE event.
    pub(super) fn on_event(&mut self, ev: SseEvent<'_>) {
        match &*event_type(&ev) {
            "message_start" => {
                let Ok(start) = serde_json::from_slice::<MessageStartJson<'_>>(ev.data) else {
                    return;
                };
                if let Some(m) = start.message {
                    if let Some(u) = &m.usage {
                        self.usage.assign(u);
                    }
                    self.response_id = text_field(&m.id).or(self.response_id.take());
                    self.model = text_field(&m.model).or(self.model.take());
                    self.stop_reason = text_field(&m.stop_reason).or(self.stop_reason.take());
                }
            }
            "message_delta" => {
                let Ok(delta) = serde_json::from_slice::<MessageDeltaJson<'_>>(ev.data) else {
                    return;
                };
                if let Some(u) = &delta.usage {
                    self.usage.assign(u);
                }
                if let Some(d) = &delta.delta {
                    self.stop_reason = text_field(&d.stop_reason).or(self.stop_reason.take());
                }
            }
            "message_stop" => self.terminal = true,
            "error" => {
                self.terminal = true;
                let parsed = serde_json::from_slice::<MessageJson<'_>>(ev.data);
                let described = match &parsed {
                    Ok(MessageJson { error: Some(e), .. }) => e.describe(),
                    // An error event we cannot read is still an error.
                    _ => format!("error: {}", String::from_utf8_lossy(ev.data)),
                };
                // The first error is the cause; later ones are consequences.
                self.stream_error.get_or_insert(described);
            }
            // ping, content_block_*, and event types added after this was written.
            _ => {}
        }
    }

    /// The summary (without event count or decoder-level tearing, which the caller adds).
    pub(super) fn finish(self) -> ResponseSummary {
        ResponseSummary {
            usage: self.usage.to_usage(),
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

/// Summarises a non-streaming Messages body (a message, or an `{"type":"error",…}` object).
pub(super) fn parse_body(body: &[u8]) -> ResponseSummary {
    let m = match decode_body::<MessageJson<'_>>(body) {
        Ok(m) => m,
        Err(torn) => {
            return ResponseSummary {
                torn,
                ..ResponseSummary::default()
            };
        }
    };
    let mut usage = RawUsage::default();
    if let Some(u) = &m.usage {
        usage.assign(u);
    }
    let stream_error = match (&m.error, m.kind.as_deref()) {
        (Some(e), _) => Some(e.describe()),
        (None, Some("error")) => Some("unknown error".to_owned()),
        _ => None,
    };
    ResponseSummary {
        usage: usage.to_usage(),
        model: text_field(&m.model),
        response_id: text_field(&m.id),
        stop_reason: text_field(&m.stop_reason),
        stream_error,
        unreadable_usage: None,
        torn: false,
        events: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{parse_all_splits, to_crlf};
    use super::super::{StreamUsageParser, parse_json_body};
    use super::*;
    use crate::observation::ApiKind;

    /// A real-shaped Claude stream: cache write split by TTL, a tool-use turn, pings, and a
    /// final `message_delta` that repeats the input fields (cumulative usage).
    const STREAM: &str = "event: message_start\n\
data: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-5-20250929\",\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"cache_creation_input_tokens\":4820,\"cache_read_input_tokens\":13596,\"cache_creation\":{\"ephemeral_5m_input_tokens\":4000,\"ephemeral_1h_input_tokens\":820},\"output_tokens\":1,\"service_tier\":\"standard\"}}}\n\
\n\
event: content_block_start\n\
data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\
\n\
event: ping\n\
data: {\"type\": \"ping\"}\n\
\n\
event: content_block_delta\n\
data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"I'll check the \\\"usage\\\" field.\"}}\n\
\n\
event: content_block_stop\n\
data: {\"type\":\"content_block_stop\",\"index\":0}\n\
\n\
event: content_block_start\n\
data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"Read\",\"input\":{}}}\n\
\n\
event: content_block_delta\n\
data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"file_path\\\": \\\"/src/main.rs\\\"}\"}}\n\
\n\
event: content_block_stop\n\
data: {\"type\":\"content_block_stop\",\"index\":1}\n\
\n\
event: message_delta\n\
data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":3,\"cache_creation_input_tokens\":4820,\"cache_read_input_tokens\":13596,\"output_tokens\":96}}\n\
\n\
event: message_stop\n\
data: {\"type\":\"message_stop\"}\n\
\n";

    fn expected_usage() -> Usage {
        Usage {
            input_tokens: 3,
            output_tokens: 96,
            cache_creation_input_tokens: 4820,
            cache_read_input_tokens: 13596,
            cache_creation_5m_input_tokens: 4000,
            cache_creation_1h_input_tokens: 820,
            reasoning_output_tokens: 0,
            tool_use_input_tokens: 0,
        }
    }

    #[test]
    fn full_stream_any_chunking() {
        let s = parse_all_splits(ApiKind::Messages, STREAM.as_bytes());
        assert_eq!(s.usage, Some(expected_usage()));
        assert_eq!(s.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
        assert_eq!(
            s.response_id.as_deref(),
            Some("msg_01XFDUDYJgAACzvnptvVoYEL")
        );
        assert_eq!(s.stop_reason.as_deref(), Some("tool_use"));
        assert_eq!(s.stream_error, None);
        assert!(!s.torn);
        assert!(s.is_complete());
        assert_eq!(s.events, 10);
    }

    #[test]
    fn crlf_stream_same_result() {
        let crlf = to_crlf(STREAM.as_bytes());
        let s = parse_all_splits(ApiKind::Messages, &crlf);
        assert_eq!(s, parse_all_splits(ApiKind::Messages, STREAM.as_bytes()));
    }

    #[test]
    fn cumulative_deltas_assign_not_add() {
        let stream = "event: message_start\n\
data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":10,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":500,\"output_tokens\":1}}}\n\n\
event: message_delta\n\
data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null},\"usage\":{\"output_tokens\":20}}\n\n\
event: message_delta\n\
data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":500,\"output_tokens\":57}}\n\n\
event: message_stop\n\
data: {\"type\":\"message_stop\"}\n\n";
        let s = parse_all_splits(ApiKind::Messages, stream.as_bytes());
        assert_eq!(
            s.usage,
            Some(Usage {
                input_tokens: 10,
                output_tokens: 57,
                cache_read_input_tokens: 500,
                ..Usage::default()
            })
        );
        assert_eq!(s.stop_reason.as_deref(), Some("end_turn"));
    }

    #[test]
    fn overloaded_error_mid_stream() {
        let stream = "event: message_start\n\
data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"model\":\"claude-opus-4-1\",\"usage\":{\"input_tokens\":1200,\"output_tokens\":1}}}\n\n\
event: content_block_start\n\
data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: content_block_delta\n\
data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n\
event: error\n\
data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        let s = parse_all_splits(ApiKind::Messages, stream.as_bytes());
        assert_eq!(
            s.stream_error.as_deref(),
            Some("overloaded_error: Overloaded")
        );
        assert!(!s.torn, "an error event ends the stream on purpose");
        assert!(!s.is_complete());
        assert_eq!(s.usage.map(|u| u.input_tokens), Some(1200));
        assert_eq!(s.stop_reason, None);
    }

    #[test]
    fn torn_streams() {
        // Cut inside the last message_delta's data line.
        let cut = STREAM.find("\"output_tokens\":96").unwrap();
        let s = parse_all_splits(ApiKind::Messages, &STREAM.as_bytes()[..cut]);
        assert!(s.torn);
        assert_eq!(
            s.usage.map(|u| u.output_tokens),
            Some(1),
            "only message_start seen"
        );
        // Complete events but no message_stop.
        let cut = STREAM.find("event: message_stop").unwrap();
        let s = parse_all_splits(ApiKind::Messages, &STREAM.as_bytes()[..cut]);
        assert!(s.torn);
        assert_eq!(s.usage, Some(expected_usage()));
        // Nothing at all.
        let s = StreamUsageParser::new(ApiKind::Messages).finish();
        assert!(s.torn && s.usage.is_none() && s.events == 0);
    }

    #[test]
    fn missing_usage_unknown_events_and_garbage_never_fail() {
        let stream = "event: message_start\n\
data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_3\",\"model\":\"m\"}}\n\n\
event: brand_new_event\n\
data: {\"type\":\"brand_new_event\",\"usage\":{\"input_tokens\":999}}\n\n\
event: message_delta\n\
data: {this is not json\n\n\
event: message_stop\n\
data: {\"type\":\"message_stop\"}\n\n";
        let s = parse_all_splits(ApiKind::Messages, stream.as_bytes());
        assert_eq!(s.usage, None);
        assert_eq!(s.response_id.as_deref(), Some("msg_3"));
        assert!(s.is_complete());
        assert_eq!(s.events, 4);
    }

    #[test]
    fn events_without_event_lines_use_json_type() {
        let stream = "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_4\",\"model\":\"m\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n\
data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n\
data: {\"delta\":{\"stop_reason\":\"max_tokens\"},\"type\":\"message_delta\",\"usage\":{\"output_tokens\":8}}\n\n\
data: {\"type\":\"message_stop\"}\n\n";
        let s = parse_all_splits(ApiKind::Messages, stream.as_bytes());
        assert_eq!(
            s.usage.map(|u| (u.input_tokens, u.output_tokens)),
            Some((5, 8))
        );
        assert_eq!(s.stop_reason.as_deref(), Some("max_tokens"));
        assert!(s.is_complete());
    }

    #[test]
    fn cache_split_rules() {
        // No split: everything is 5-minute.
        assert_eq!(cache_split(Some(100), None, None), (100, 100, 0));
        // Missing or zero total: the split's sum.
        assert_eq!(cache_split(None, Some(30), Some(70)), (100, 30, 70));
        assert_eq!(cache_split(Some(0), Some(30), Some(70)), (100, 30, 70));
        // Disagreeing split: total kept, remainder to 5m, 1h capped.
        assert_eq!(cache_split(Some(100), Some(10), Some(20)), (100, 80, 20));
        assert_eq!(cache_split(Some(100), Some(0), Some(500)), (100, 0, 100));
        assert_eq!(cache_split(None, None, None), (0, 0, 0));
    }

    #[test]
    fn non_streaming_body() {
        let body = br#"{"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":2095,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":1024},"output_tokens":503}}"#;
        let s = parse_json_body(ApiKind::Messages, body);
        assert_eq!(
            s.usage,
            Some(Usage {
                input_tokens: 2095,
                output_tokens: 503,
                cache_creation_input_tokens: 1024,
                cache_read_input_tokens: 0,
                cache_creation_5m_input_tokens: 0,
                cache_creation_1h_input_tokens: 1024,
                reasoning_output_tokens: 0,
                tool_use_input_tokens: 0,
            })
        );
        assert_eq!(s.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
        assert_eq!(
            s.response_id.as_deref(),
            Some("msg_013Zva2CMHLNnXjNJJKqJ2EF")
        );
        assert_eq!(s.stop_reason.as_deref(), Some("end_turn"));
        assert!(s.is_complete());
    }

    #[test]
    fn non_streaming_error_and_broken_bodies() {
        let body = br#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your rate limit"}}"#;
        let s = parse_json_body(ApiKind::Messages, body);
        assert_eq!(
            s.stream_error.as_deref(),
            Some("rate_limit_error: Number of request tokens has exceeded your rate limit")
        );
        assert_eq!(s.usage, None);
        let s = parse_json_body(ApiKind::Messages, br#"{"id":"msg_1","usage":{"input_"#);
        assert!(s.torn);
        let s = parse_json_body(ApiKind::Messages, b"<html>502 Bad Gateway</html>");
        assert_eq!(s, ResponseSummary::default());
    }
}
