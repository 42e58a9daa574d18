//! Unit tests of the telemetry receiver's decoding, extraction and forwarding configuration.
//! Whole-server tests over HTTP are in `tests/telemetry_receiver.rs`.

use std::collections::HashMap;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use prost::Message;
use serde_json::json;

use super::extract::{LogRecordView, Value, as_f64, as_u64, to_event};
use super::forward::{ForwardTarget, Signal, parse_headers};
use super::{API_REQUEST, USER_PROMPT, otlp_json, otlp_proto};

fn view(attributes: &[(&str, Value)]) -> LogRecordView {
    LogRecordView {
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        ..LogRecordView::default()
    }
}

fn s(text: &str) -> Value {
    Value::Str(text.to_owned())
}

/// A log record shaped like Claude Code 2.1's `api_request` in OTLP/JSON.
fn cc_api_request_json() -> serde_json::Value {
    json!({
        "timeUnixNano": "1767225600123456789",
        "observedTimeUnixNano": "1767225600123456789",
        "severityNumber": 0,
        "body": { "stringValue": "claude_code.api_request" },
        "attributes": [
            { "key": "user.id", "value": { "stringValue": "u1" } },
            { "key": "session.id", "value": { "stringValue": "sess-1" } },
            { "key": "event.name", "value": { "stringValue": "api_request" } },
            { "key": "event.timestamp", "value": { "stringValue": "2026-01-01T00:00:00.123Z" } },
            { "key": "event.sequence", "value": { "intValue": 3 } },
            { "key": "prompt.id", "value": { "stringValue": "p-1" } },
            { "key": "model", "value": { "stringValue": "claude-sonnet-4-5" } },
            { "key": "input_tokens", "value": { "intValue": "12" } },
            { "key": "output_tokens", "value": { "intValue": 34 } },
            { "key": "cache_read_tokens", "value": { "doubleValue": 56.0 } },
            { "key": "cache_creation_tokens", "value": { "stringValue": "78" } },
            { "key": "cost_usd", "value": { "doubleValue": 0.0123 } },
            { "key": "duration_ms", "value": { "stringValue": "1500" } },
            { "key": "request_id", "value": { "stringValue": "req_011abc" } },
            { "key": "query_source", "value": { "stringValue": "repl_main_thread" } },
            { "key": "traceId", "value": { "arrayValue": { "values": [] } } }
        ],
        "traceId": "",
        "spanId": "not hex"
    })
}

fn logs_body(records: Vec<serde_json::Value>) -> Vec<u8> {
    json!({
        "resourceLogs": [{
            "resource": { "attributes": [
                { "key": "service.name", "value": { "stringValue": "claude-code" } }
            ] },
            "scopeLogs": [{
                "scope": { "name": "com.anthropic.claude_code.events", "version": "2.1.197" },
                "logRecords": records
            }]
        }]
    })
    .to_string()
    .into_bytes()
}

#[test]
fn json_api_request_becomes_an_event() {
    let records = otlp_json::decode_logs(&logs_body(vec![cc_api_request_json()])).unwrap();
    assert_eq!(records.len(), 1);
    let event = to_event(&records[0], 1.5).unwrap();
    assert_eq!(event.t, 1.5);
    assert_eq!(event.event, API_REQUEST);
    assert_eq!(
        event.timestamp.as_deref(),
        Some("2026-01-01T00:00:00.123456789Z")
    );
    assert_eq!(event.request_id.as_deref(), Some("req_011abc"));
    assert_eq!(event.session_id.as_deref(), Some("sess-1"));
    assert_eq!(event.prompt_id.as_deref(), Some("p-1"));
    assert_eq!(event.query_source.as_deref(), Some("repl_main_thread"));
    assert_eq!(event.model.as_deref(), Some("claude-sonnet-4-5"));
    assert_eq!(event.agent_id, None);
    assert_eq!(event.input_tokens, Some(12));
    assert_eq!(event.output_tokens, Some(34));
    assert_eq!(event.cache_read_tokens, Some(56));
    assert_eq!(event.cache_creation_tokens, Some(78));
    assert_eq!(event.cost_usd, Some(0.0123));
    assert_eq!(event.duration_ms, Some(1500.0));
}

/// A Codex 0.171 `codex.sse_event` for a finished call, as it exports it (counts as strings).
fn codex_completed_json(input: &str, cached: &str, written: Option<&str>) -> serde_json::Value {
    let mut attributes = vec![
        json!({"key": "event.name", "value": {"stringValue": "codex.sse_event"}}),
        json!({"key": "event.kind", "value": {"stringValue": "response.completed"}}),
        json!({"key": "input_token_count", "value": {"stringValue": input}}),
        json!({"key": "output_token_count", "value": {"stringValue": "58"}}),
        json!({"key": "cached_token_count", "value": {"stringValue": cached}}),
        json!({"key": "reasoning_token_count", "value": {"stringValue": "0"}}),
        json!({"key": "conversation.id", "value": {"stringValue": "01a24dff-b3b3"}}),
        json!({"key": "originator", "value": {"stringValue": "codex_exec"}}),
        json!({"key": "model", "value": {"stringValue": "gpt-6.2-sol"}}),
    ];
    if let Some(written) = written {
        attributes
            .push(json!({"key": "cache_write_token_count", "value": {"stringValue": written}}));
    }
    json!({"timeUnixNano": "1796604933252000000", "attributes": attributes})
}

#[test]
fn codex_events_become_call_and_prompt_events_in_agentprofs_token_convention() {
    let prompt = json!({"attributes": [
        {"key": "event.name", "value": {"stringValue": "codex.user_prompt"}},
        {"key": "prompt", "value": {"stringValue": "[REDACTED]"}},
        {"key": "conversation.id", "value": {"stringValue": "01a24dff-b3b3"}}]});
    let other_kind = json!({"attributes": [
        {"key": "event.name", "value": {"stringValue": "codex.sse_event"}},
        {"key": "event.kind", "value": {"stringValue": "response.created"}}]});
    let startup = json!({"attributes": [
        {"key": "event.name", "value": {"stringValue": "codex.startup_phase"}}]});
    let records = otlp_json::decode_logs(&logs_body(vec![
        codex_completed_json("18300", "100", Some("18176")),
        prompt,
        other_kind,
        startup,
        codex_completed_json("500", "400", None),
    ]))
    .unwrap();
    let events: Vec<_> = records.iter().filter_map(|r| to_event(r, 2.0)).collect();
    assert_eq!(events.len(), 3, "{events:?}");
    let call = &events[0];
    assert_eq!(call.event, super::CODEX_RESPONSE_COMPLETED);
    assert!(super::is_call_event(&call.event));
    assert_eq!(call.session_id.as_deref(), Some("01a24dff-b3b3"));
    assert_eq!(call.model.as_deref(), Some("gpt-6.2-sol"));
    // 18300 prompt tokens = 24 uncached + 100 read + 18176 written.
    assert_eq!(call.input_tokens, Some(24));
    assert_eq!(call.cache_read_tokens, Some(100));
    assert_eq!(call.cache_creation_tokens, Some(18176));
    assert_eq!(call.output_tokens, Some(58));
    assert_eq!(events[1].event, super::CODEX_USER_PROMPT);
    assert!(!super::is_call_event(&events[1].event));
    assert_eq!(events[1].input_tokens, None);
    // Without a cache-write count the uncached input is unknown: kept, never guessed.
    assert_eq!(events[2].input_tokens, None);
    assert_eq!(events[2].cache_read_tokens, Some(400));
}

#[test]
fn event_name_is_found_in_body_attribute_or_event_name_field() {
    let by_attribute = view(&[("event.name", s("user_prompt"))]);
    assert_eq!(to_event(&by_attribute, 0.0).unwrap().event, USER_PROMPT);
    let by_full_attribute = view(&[("event.name", s("claude_code.api_request"))]);
    assert_eq!(
        to_event(&by_full_attribute, 0.0).unwrap().event,
        API_REQUEST
    );
    let by_body = LogRecordView {
        body: Some(s("claude_code.user_prompt")),
        ..view(&[])
    };
    assert_eq!(to_event(&by_body, 0.0).unwrap().event, USER_PROMPT);
    let by_field = LogRecordView {
        event_name: "claude_code.api_request".into(),
        ..view(&[])
    };
    assert_eq!(to_event(&by_field, 0.0).unwrap().event, API_REQUEST);
    let other = LogRecordView {
        body: Some(s("claude_code.tool_result")),
        ..view(&[("event.name", s("tool_result"))])
    };
    assert!(to_event(&other, 0.0).is_none());
    assert!(to_event(&view(&[]), 0.0).is_none());
}

#[test]
fn numbers_are_read_leniently() {
    assert_eq!(as_u64(&Value::Int(7)), Some(7));
    assert_eq!(as_u64(&Value::Int(-1)), None);
    assert_eq!(as_u64(&s(" 123 ")), Some(123));
    assert_eq!(as_u64(&s("12.0")), Some(12));
    assert_eq!(as_u64(&s("abc")), None);
    assert_eq!(as_u64(&Value::Double(f64::NAN)), None);
    assert_eq!(as_u64(&Value::Double(1e30)), None);
    assert_eq!(as_f64(&s("0.5")), Some(0.5));
    assert_eq!(as_f64(&Value::Int(3)), Some(3.0));
    assert_eq!(as_f64(&s("Infinity")), None);
    assert_eq!(as_f64(&Value::Bool(true)), None);
}

#[test]
fn timestamp_falls_back_to_observed_time_then_event_timestamp() {
    let observed = LogRecordView {
        observed_time_unix_nano: 1_767_225_600_000_000_000,
        ..view(&[("event.name", s("api_request"))])
    };
    let event = to_event(&observed, 0.0).unwrap();
    assert_eq!(event.timestamp.as_deref(), Some("2026-01-01T00:00:00Z"));
    let attribute = view(&[
        ("event.name", s("api_request")),
        ("event.timestamp", s("2026-01-01T00:00:00.5Z")),
    ]);
    let event = to_event(&attribute, 0.0).unwrap();
    assert_eq!(event.timestamp.as_deref(), Some("2026-01-01T00:00:00.5Z"));
    let none = view(&[("event.name", s("api_request"))]);
    assert_eq!(to_event(&none, 0.0).unwrap().timestamp, None);
}

#[test]
fn json_accepts_numbers_snake_case_and_scalars() {
    let body = json!({
        "resource_logs": [{ "scope_logs": [{ "log_records": [{
            "time_unix_nano": 1767225600000000000u64,
            "event_name": "claude_code.user_prompt",
            "attributes": [
                { "key": "prompt.id", "value": { "string_value": "p-9" } },
                { "key": "session.id", "value": "bare-string" },
                { "key": "input_tokens", "value": { "doubleValue": "NaN" } },
                { "key": "no_value" }
            ]
        }] }] }]
    });
    let records = otlp_json::decode_logs(body.to_string().as_bytes()).unwrap();
    let event = to_event(&records[0], 0.0).unwrap();
    assert_eq!(event.event, USER_PROMPT);
    assert_eq!(event.prompt_id.as_deref(), Some("p-9"));
    assert_eq!(event.session_id.as_deref(), Some("bare-string"));
    assert_eq!(event.input_tokens, None);
    assert_eq!(event.timestamp.as_deref(), Some("2026-01-01T00:00:00Z"));
}

#[test]
fn json_refuses_bad_bodies_but_not_empty_batches() {
    assert!(otlp_json::decode_logs(b"not json").is_err());
    assert!(otlp_json::decode_logs(b"[]").is_err());
    assert!(otlp_json::decode_logs(br#"{"resourceLogs": {}}"#).is_err());
    assert!(otlp_json::decode_logs(br#"{"resourceLogs": [1]}"#).is_err());
    assert!(otlp_json::decode_logs(br#"{"resourceLogs": [{"scopeLogs": "x"}]}"#).is_err());
    assert_eq!(otlp_json::decode_logs(b"{}").unwrap().len(), 0);
    assert_eq!(
        otlp_json::decode_logs(br#"{"resourceLogs": null}"#)
            .unwrap()
            .len(),
        0
    );
    assert!(otlp_json::check_metrics(br#"{"resourceMetrics": []}"#).is_ok());
    assert!(otlp_json::check_metrics(br#"{"resourceMetrics": 5}"#).is_err());
    assert!(otlp_json::check_traces(br#"{"resourceSpans": [{}]}"#).is_ok());
    assert!(otlp_json::check_traces(b"").is_err());
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

#[test]
fn protobuf_records_decode_to_the_same_events() {
    use any_value::Value as V;
    let record = LogRecord {
        time_unix_nano: 1_767_225_600_000_000_000,
        body: Some(AnyValue {
            value: Some(V::StringValue("claude_code.api_request".into())),
        }),
        attributes: vec![
            kv("event.name", V::StringValue("api_request".into())),
            kv("request_id", V::StringValue("req_1".into())),
            kv("input_tokens", V::IntValue(10)),
            kv("cost_usd", V::DoubleValue(0.25)),
            kv(
                "prompt",
                V::StringValue("a long prompt that is never copied".into()),
            ),
        ],
        ..LogRecord::default()
    };
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![record, LogRecord::default()],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    };
    let records = otlp_proto::decode_logs(&request.encode_to_vec()).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0].attributes.len(),
        4,
        "unwanted attributes are skipped"
    );
    let event = to_event(&records[0], 2.0).unwrap();
    assert_eq!(event.request_id.as_deref(), Some("req_1"));
    assert_eq!(event.input_tokens, Some(10));
    assert_eq!(event.cost_usd, Some(0.25));
    assert!(to_event(&records[1], 2.0).is_none());
    assert!(otlp_proto::decode_logs(b"\xff\xff\xff").is_err());
    assert!(otlp_proto::check_metrics(b"").is_ok());
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn endpoint(target: &ForwardTarget, signal: Signal) -> Option<String> {
    target.endpoint(signal).map(ToString::to_string)
}

#[test]
fn forward_target_from_base_and_per_signal_endpoints() {
    assert!(ForwardTarget::from_env(&env(&[])).is_none());
    let target = ForwardTarget::from_env(&env(&[
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://collector:4318/prefix/",
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "https://traces.example/custom",
        ),
    ]))
    .unwrap();
    let logs = endpoint(&target, Signal::Logs);
    assert_eq!(
        logs.as_deref(),
        Some("http://collector:4318/prefix/v1/logs")
    );
    let metrics = endpoint(&target, Signal::Metrics);
    assert_eq!(
        metrics.as_deref(),
        Some("http://collector:4318/prefix/v1/metrics")
    );
    let traces = endpoint(&target, Signal::Traces);
    assert_eq!(traces.as_deref(), Some("https://traces.example/custom"));
}

#[test]
fn forward_target_skips_grpc_disabled_and_non_otlp_signals() {
    let grpc = env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf"),
        ("OTEL_METRICS_EXPORTER", "console,prometheus"),
    ]);
    let target = ForwardTarget::from_env(&grpc).unwrap();
    assert!(target.endpoint(Signal::Logs).is_some());
    assert!(target.endpoint(Signal::Metrics).is_none());
    assert!(target.endpoint(Signal::Traces).is_none());
    let disabled = env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
        ("OTEL_SDK_DISABLED", "true"),
    ]);
    assert!(ForwardTarget::from_env(&disabled).is_none());
    let not_http = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "unix:///tmp/sock")]);
    assert!(ForwardTarget::from_env(&not_http).is_none());
}

#[test]
fn forward_headers_are_decoded_merged_and_never_shown() {
    let target = ForwardTarget::from_env(&env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "Authorization=Basic%20c2VjcmV0OnNlY3JldA==, x-team = a%2Cb ,broken,x-over=base",
        ),
        ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x-over=logs"),
    ]))
    .unwrap();
    assert_eq!(
        target.header_names(Signal::Logs),
        ["authorization", "x-team", "x-over"]
    );
    assert_eq!(
        target.header_names(Signal::Metrics),
        ["authorization", "x-team", "x-over"]
    );
    let parsed = parse_headers(Some("Authorization=Basic%20c2VjcmV0==, x-team = a%2Cb ,=x"));
    let values: Vec<_> = parsed
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
        .collect();
    assert_eq!(
        values,
        [("authorization", "Basic c2VjcmV0=="), ("x-team", "a,b")]
    );
    let shown = format!("{target:?}");
    assert!(shown.contains("authorization"), "{shown}");
    assert!(!shown.contains("c2VjcmV0"), "{shown}");
    assert!(!shown.contains("Basic"), "{shown}");
}

#[test]
fn forward_loops_back_to_the_receiver_are_removed() {
    let mut target = ForwardTarget::from_env(&env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4999"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://127.0.0.1:5000/v1/traces",
        ),
    ]))
    .unwrap();
    target.remove_loops("127.0.0.1:4999".parse().unwrap());
    assert!(target.endpoint(Signal::Logs).is_none());
    assert!(target.endpoint(Signal::Traces).is_some());
    target.remove(Signal::Traces);
    assert!(target.is_empty());
}

/// Bodies captured from Claude Code 2.1.197 run against the mock upstream (`-p`, http/json with
/// a sub-agent; http/protobuf with gzip and a Bash tool call).
const CC_JSON: &[u8] =
    include_bytes!("../../../tests/fixtures/claude_code_2.1.197/logs_subagent.json");
const CC_PROTOBUF_GZ: &[u8] =
    include_bytes!("../../../tests/fixtures/claude_code_2.1.197/logs_tool.pb.gz");
const CC_METRICS: &[u8] =
    include_bytes!("../../../tests/fixtures/claude_code_2.1.197/metrics.json");

fn events(records: &[LogRecordView]) -> Vec<crate::observation::TelemetryEvent> {
    records.iter().filter_map(|r| to_event(r, 0.0)).collect()
}

#[test]
fn real_claude_code_json_logs() {
    let records = otlp_json::decode_logs(CC_JSON).unwrap();
    assert_eq!(records.len(), 11);
    let events = events(&records);
    let names: Vec<_> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names,
        [
            USER_PROMPT,
            API_REQUEST,
            API_REQUEST,
            API_REQUEST,
            API_REQUEST
        ]
    );
    let sources: Vec<_> = events[1..]
        .iter()
        .map(|e| e.query_source.as_deref().unwrap())
        .collect();
    assert_eq!(
        sources,
        [
            "generate_session_title",
            "sdk",
            "agent:builtin:general-purpose",
            "sdk"
        ]
    );
    let subagent = &events[3];
    assert_eq!(subagent.request_id.as_deref(), Some("req_mock_9_7fa919eb"));
    assert_eq!(
        subagent.agent_id, None,
        "Claude Code 2.1 logs carry agent.name, not agent_id"
    );
    assert_eq!(
        subagent.session_id.as_deref(),
        Some("c380f4d6-877e-45d1-93da-919c8c7eac3b")
    );
    assert_eq!(
        subagent.prompt_id.as_deref(),
        Some("a719a224-1b64-4603-b3ae-934e134cfca0")
    );
    assert_eq!(
        (subagent.input_tokens, subagent.output_tokens),
        (Some(1156), Some(263))
    );
    assert_eq!(subagent.cache_creation_tokens, Some(12279));
    assert_eq!(
        (subagent.cost_usd, subagent.duration_ms),
        (Some(0.08909875), Some(21.0))
    );
    assert!(events.iter().all(|e| {
        e.timestamp
            .as_deref()
            .is_some_and(|t| t.starts_with("2026-11-21T05:44:2"))
    }));
    assert!(otlp_json::check_metrics(CC_METRICS).is_ok());
}

#[test]
fn real_claude_code_protobuf_gzip_logs() {
    use std::io::Read;
    let mut body = Vec::new();
    flate2::read::GzDecoder::new(CC_PROTOBUF_GZ)
        .read_to_end(&mut body)
        .unwrap();
    let records = otlp_proto::decode_logs(&body).unwrap();
    assert_eq!(records.len(), 5);
    let events = events(&records);
    let names: Vec<_> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, [API_REQUEST, USER_PROMPT, API_REQUEST]);
    let title = &events[0];
    assert_eq!(title.request_id.as_deref(), Some("req_mock_11_096a41c6"));
    assert_eq!(
        title.query_source.as_deref(),
        Some("generate_session_title")
    );
    assert_eq!(title.timestamp.as_deref(), Some("2026-11-21T05:44:31.918Z"));
    assert_eq!(
        (title.input_tokens, title.cost_usd, title.duration_ms),
        (Some(421), Some(0.022005), Some(29.0))
    );
    assert_eq!(
        events[2].request_id.as_deref(),
        Some("req_mock_12_f23bb20d")
    );
}
