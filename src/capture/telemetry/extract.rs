//! From one decoded OTLP log record to a [`TelemetryEvent`], whichever wire format it came in.
//!
//! Both decoders (`otlp_json`, `otlp_proto`) produce a
//! [`LogRecordView`]: the record's times, its event name, its body and only the attributes this
//! module reads (so a long `prompt` attribute is never copied).
//!
//! Claude Code 2.1 sends each event with the body `claude_code.<name>` and the attribute
//! `event.name = "<name>"` (no prefix); the OTLP `eventName` field may carry either form in other
//! versions. All three are accepted, and the event is always named with its `claude_code.` prefix.
//! Values are read leniently: numbers may come as `intValue`, `doubleValue` or strings.

use crate::observation::TelemetryEvent;

/// Event names, as stored in [`TelemetryEvent::event`].
pub const API_REQUEST: &str = "claude_code.api_request";
/// See [`API_REQUEST`].
pub const USER_PROMPT: &str = "claude_code.user_prompt";
/// Codex's event for a finished model call: `codex.sse_event` with `event.kind =
/// response.completed` (also over its WebSocket), carrying the call's token counts.
pub const CODEX_RESPONSE_COMPLETED: &str = "codex.sse_event";
/// Codex's event for a prompt the user typed.
pub const CODEX_USER_PROMPT: &str = "codex.user_prompt";

/// Gemini CLI's event for a finished model call, with its token counts and role.
pub use crate::agents::gemini_telemetry::API_RESPONSE as GEMINI_API_RESPONSE;
/// Gemini CLI's event for a prompt the user typed.
pub use crate::agents::gemini_telemetry::USER_PROMPT as GEMINI_USER_PROMPT;

/// Whether an event stands for one model call (and is joined to one).
pub fn is_call_event(name: &str) -> bool {
    name == API_REQUEST || name == CODEX_RESPONSE_COMPLETED || name == GEMINI_API_RESPONSE
}

/// An attribute or body value, reduced to what extraction can use.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Double(f64),
    Bool(bool),
    /// Arrays, key-value lists, bytes: present but never read.
    Other,
}

/// One log record, as both decoders hand it over.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LogRecordView {
    pub time_unix_nano: u64,
    pub observed_time_unix_nano: u64,
    /// The OTLP `eventName` field (empty when absent).
    pub event_name: String,
    pub body: Option<Value>,
    /// Only the attributes [`is_wanted`] accepts.
    pub attributes: Vec<(String, Value)>,
}

/// Attribute keys that are read; all others are skipped while decoding.
const WANTED: &[&str] = &[
    "event.name",
    "event.timestamp",
    "request_id",
    "session.id",
    "session_id",
    "prompt.id",
    "prompt_id",
    "query_source",
    "agent_id",
    "agent.id",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "cost_usd",
    "duration_ms",
    // Codex (see `codex_event`).
    "conversation.id",
    "event.kind",
    "input_token_count",
    "output_token_count",
    "cached_token_count",
    "cache_write_token_count",
    // Gemini CLI (see `agents::gemini_telemetry`).
    "role",
    "cached_content_token_count",
    "thoughts_token_count",
    "tool_token_count",
];

/// Whether an attribute with this key is kept in a [`LogRecordView`].
pub(crate) fn is_wanted(key: &str) -> bool {
    WANTED.contains(&key)
}

/// Which of the two events this record is, if either.
pub(crate) fn event_kind(record: &LogRecordView) -> Option<&'static str> {
    let attribute = record.attribute("event.name").and_then(as_str);
    let body = record.body.as_ref().and_then(as_str);
    [Some(record.event_name.as_str()), attribute, body]
        .into_iter()
        .flatten()
        .find_map(known_event)
}

fn known_event(name: &str) -> Option<&'static str> {
    match name.trim() {
        API_REQUEST | "api_request" => Some(API_REQUEST),
        USER_PROMPT | "user_prompt" => Some(USER_PROMPT),
        _ => None,
    }
}

/// The event for a record that is an `api_request` or `user_prompt` (Claude Code), or Codex's
/// or Gemini CLI's finished call or typed prompt; `None` for any other.
pub(crate) fn to_event(record: &LogRecordView, t: f64) -> Option<TelemetryEvent> {
    let Some(event) = event_kind(record) else {
        return codex_event(record, t)
            .or_else(|| crate::agents::gemini_telemetry::to_event(record, t));
    };
    let string = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| record.attribute(k).and_then(as_string))
    };
    let count = |key: &str| record.attribute(key).and_then(as_u64);
    let number = |key: &str| record.attribute(key).and_then(as_f64);
    Some(TelemetryEvent {
        t,
        event: event.to_owned(),
        timestamp: timestamp(record),
        request_id: string(&["request_id"]),
        session_id: string(&["session.id", "session_id"]),
        prompt_id: string(&["prompt.id", "prompt_id"]),
        query_source: string(&["query_source"]),
        agent_id: string(&["agent_id", "agent.id"]),
        model: string(&["model"]),
        input_tokens: count("input_tokens"),
        output_tokens: count("output_tokens"),
        cache_read_tokens: count("cache_read_tokens"),
        cache_creation_tokens: count("cache_creation_tokens"),
        cost_usd: number("cost_usd"),
        duration_ms: number("duration_ms"),
    })
}

/// Codex's events (0.171): every record names itself in `event.name` and its thread in
/// `conversation.id`. Its token counts follow the Responses API — `input_token_count` counts
/// every prompt token, cached (`cached_token_count`) and cache-written
/// (`cache_write_token_count`) ones included — and are turned into agentprof's convention
/// (uncached input apart), so a call's event agrees with its usage. Without a cache-write
/// count (older versions) the uncached input is unknown and stays unset: such an event is
/// kept but joins no call.
fn codex_event(record: &LogRecordView, t: f64) -> Option<TelemetryEvent> {
    let name = record
        .attribute("event.name")
        .and_then(as_str)
        .unwrap_or(record.event_name.as_str());
    let count = |key: &str| record.attribute(key).and_then(as_u64);
    let event = match name {
        CODEX_RESPONSE_COMPLETED
            if record.attribute("event.kind").and_then(as_str) == Some("response.completed") =>
        {
            CODEX_RESPONSE_COMPLETED
        }
        CODEX_USER_PROMPT => CODEX_USER_PROMPT,
        _ => return None,
    };
    let cached = count("cached_token_count");
    let written = count("cache_write_token_count");
    let uncached = match (count("input_token_count"), cached, written) {
        (Some(input), Some(cached), Some(written)) => input.checked_sub(cached + written),
        _ => None,
    };
    let call = event == CODEX_RESPONSE_COMPLETED;
    Some(TelemetryEvent {
        t,
        event: event.to_owned(),
        timestamp: timestamp(record),
        request_id: None,
        session_id: record.attribute("conversation.id").and_then(as_string),
        prompt_id: None,
        query_source: None,
        agent_id: None,
        model: record.attribute("model").and_then(as_string),
        input_tokens: uncached.filter(|_| call),
        output_tokens: count("output_token_count").filter(|_| call),
        cache_read_tokens: cached.filter(|_| call),
        cache_creation_tokens: written.filter(|_| call),
        cost_usd: None,
        duration_ms: None,
    })
}

impl LogRecordView {
    pub(crate) fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

/// The record's time as RFC 3339: `timeUnixNano`, else `observedTimeUnixNano`, else the
/// `event.timestamp` attribute Claude Code adds (normalized when it parses).
pub(crate) fn timestamp(record: &LogRecordView) -> Option<String> {
    let nanos = [record.time_unix_nano, record.observed_time_unix_nano]
        .into_iter()
        .find(|&n| n > 0);
    if let Some(nanos) = nanos {
        return jiff::Timestamp::from_nanosecond(i128::from(nanos))
            .ok()
            .map(|ts| ts.to_string());
    }
    let text = record.attribute("event.timestamp").and_then(as_str)?;
    Some(
        text.parse::<jiff::Timestamp>()
            .map_or_else(|_| text.to_owned(), |ts| ts.to_string()),
    )
}

pub(crate) fn as_str(value: &Value) -> Option<&str> {
    match value {
        Value::Str(s) => Some(s.as_str()),
        _ => None,
    }
}

/// A non-empty string; numbers are written out (an id sent as a number is still an id).
pub(crate) fn as_string(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::Double(d) if d.is_finite() => Some(d.to_string()),
        _ => None,
    }
}

/// A non-negative count: integers, integral-ish doubles (rounded), or strings of either.
pub(crate) fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::Double(d) => double_to_u64(*d),
        Value::Str(s) => {
            let s = s.trim();
            s.parse::<u64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(double_to_u64))
        }
        Value::Bool(_) | Value::Other => None,
    }
}

fn double_to_u64(d: f64) -> Option<u64> {
    // `as` saturates; the range check keeps out values that would saturate.
    (d.is_finite() && (0.0..18_446_744_073_709_551_616.0).contains(&d)).then(|| d.round() as u64)
}

/// A finite number: integers, doubles, or strings of either.
pub(crate) fn as_f64(value: &Value) -> Option<f64> {
    let d = match value {
        Value::Int(i) => *i as f64,
        Value::Double(d) => *d,
        Value::Str(s) => s.trim().parse::<f64>().ok()?,
        Value::Bool(_) | Value::Other => return None,
    };
    d.is_finite().then_some(d)
}
