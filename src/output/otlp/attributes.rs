//! From a call to OpenTelemetry names and attributes, following the GenAI semantic conventions.
//!
//! Token counts follow the convention, not agentprof's own: `gen_ai.usage.input_tokens` and the
//! `input` of `gen_ai.client.token.usage` are *all* prompt tokens (uncached + cache reads +
//! cache writes), while `agentprof.tokens` keeps the four types apart. Only calls to a model
//! API (messages, chat completions, responses) are GenAI operations; other endpoints
//! (`count_tokens`, `models`) get a plain HTTP client span and no GenAI metrics.

use opentelemetry::KeyValue;

use crate::observation::{Call, CallErrorKind, Usage};

pub const OPERATION: &str = "gen_ai.operation.name";
pub const PROVIDER: &str = "gen_ai.provider.name";
pub const REQUEST_MODEL: &str = "gen_ai.request.model";
pub const TOKEN_TYPE: &str = "gen_ai.token.type";
pub const CATEGORY: &str = "agentprof.category";
pub const AGENTPROF_TOKEN_TYPE: &str = "agentprof.token.type";
pub const ROLE: &str = "agentprof.process.role";
pub const ERROR_TYPE: &str = "error.type";

/// The GenAI operation of every model call agentprof proxies.
pub const CHAT: &str = "chat";

/// `chat <model>` (`chat` when the request named no model); `<METHOD> <path>` for side
/// endpoints, as HTTP client spans are named.
pub fn span_name(call: &Call) -> String {
    if !call.is_model_call() {
        return call.endpoint();
    }
    match &call.model {
        Some(model) => format!("{CHAT} {model}"),
        None => CHAT.to_string(),
    }
}

/// What went wrong, as `error.type` wants it: the HTTP status code when upstream answered with
/// an error status, else agentprof's failure kind (`upstream_connect`, `stream_error`, …).
pub fn error_type(call: &Call) -> Option<String> {
    if let Some(error) = &call.error
        && !(error.kind == CallErrorKind::UpstreamStatus && call.status.is_some())
    {
        return serde_json::to_value(error.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
    }
    match call.status {
        Some(101 | 200..=299) => None,
        Some(status) => Some(status.to_string()),
        None => Some("no_response".to_string()),
    }
}

/// Attributes shared by a call's GenAI metrics: operation, provider, model, category.
pub fn metric_base(call: &Call) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new(OPERATION, CHAT),
        KeyValue::new(PROVIDER, call.provider.as_str()),
        KeyValue::new(CATEGORY, call.category.as_str()),
    ];
    if let Some(model) = &call.model {
        attributes.push(KeyValue::new(REQUEST_MODEL, model.clone()));
    }
    attributes
}

/// `base` plus one more attribute.
pub fn with(base: &[KeyValue], extra: KeyValue) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(base.len() + 1);
    attributes.extend_from_slice(base);
    attributes.push(extra);
    attributes
}

/// Every attribute of a call's span. `turn` is the call's turn in its session (0 before the
/// first prompt).
pub fn span_attributes(call: &Call, turn: u64) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(20);
    if call.is_model_call() {
        attributes.extend(metric_base(call));
    } else {
        // Not a model call: it has no category (reports count it under other requests).
        attributes.push(KeyValue::new(PROVIDER, call.provider.as_str()));
    }
    if let Some(usage) = &call.usage {
        attributes.extend(usage_attributes(usage));
    }
    attributes.push(KeyValue::new("agentprof.turn", to_i64(turn)));
    attributes.push(KeyValue::new("agentprof.call_id", to_i64(call.id)));
    attributes.push(KeyValue::new(
        "agentprof.classified_by",
        call.classified_by.clone(),
    ));
    attributes.push(KeyValue::new("http.request.method", call.method.clone()));
    let path = call.path.split('?').next().unwrap_or_default();
    attributes.push(KeyValue::new("url.path", path.to_string()));
    let optional = [
        ("agentprof.session", &call.session_id),
        ("agentprof.agent_id", &call.agent_id),
        ("agentprof.parent_agent_id", &call.parent_agent_id),
        ("gen_ai.response.id", &call.response_id),
        ("agentprof.upstream_request_id", &call.upstream_request_id),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            attributes.push(KeyValue::new(key, value.clone()));
        }
    }
    if let Some(status) = call.status {
        attributes.push(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
    }
    if let Some(error) = error_type(call) {
        attributes.push(KeyValue::new(ERROR_TYPE, error));
    }
    attributes
}

/// The four `gen_ai.usage.*` counts of one call.
fn usage_attributes(usage: &Usage) -> [KeyValue; 4] {
    [
        KeyValue::new("gen_ai.usage.input_tokens", to_i64(usage.prompt_tokens())),
        KeyValue::new("gen_ai.usage.output_tokens", to_i64(usage.output_tokens)),
        KeyValue::new(
            "gen_ai.usage.cache_read.input_tokens",
            to_i64(usage.cache_read_input_tokens),
        ),
        KeyValue::new(
            "gen_ai.usage.cache_creation.input_tokens",
            to_i64(usage.cache_creation_input_tokens),
        ),
    ]
}

/// OpenTelemetry integers are signed; counts beyond i64 cannot happen, and saturate if they do.
pub fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
