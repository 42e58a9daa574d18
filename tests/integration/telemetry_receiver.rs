//! The telemetry receiver over real HTTP: OTLP/JSON and protobuf bodies, gzip, refusals,
//! forwarding to a second loopback server, and a real OpenTelemetry SDK exporter (Python).

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentprof::capture::telemetry::{
    API_REQUEST, ForwardTarget, ReceiverConfig, RunningReceiver, TelemetryReceiver, USER_PROMPT,
};
use agentprof::observation::TelemetryEvent;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value as V};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use prost::Message;

type Events = Arc<Mutex<Vec<TelemetryEvent>>>;

async fn start(forward_to: Option<ForwardTarget>) -> (RunningReceiver, Events) {
    let events = Events::default();
    let sink = events.clone();
    let config = ReceiverConfig {
        forward_to,
        ..ReceiverConfig::default()
    };
    let receiver = TelemetryReceiver::start(config, || 4.25, move |e| sink.lock().unwrap().push(e))
        .await
        .unwrap();
    (receiver, events)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

async fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = Request::post(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client
        .request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

async fn status(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    let answer = post(addr, path, headers, body.to_vec()).await;
    answer.status.as_u16()
}

const JSON: (&str, &str) = ("content-type", "application/json");
const PROTOBUF: (&str, &str) = ("content-type", "application/x-protobuf");
const GZIP: (&str, &str) = ("content-encoding", "gzip");

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A `/v1/logs` body exactly as Claude Code 2.1.197 sent it (`-p`, http/json, one sub-agent):
/// 11 records, of which 1 `user_prompt` and 4 `api_request`.
fn claude_code_json() -> Vec<u8> {
    include_bytes!("../fixtures/claude_code_2.1.197/logs_subagent.json").to_vec()
}

fn kv(key: &str, value: V) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn claude_code_protobuf() -> Vec<u8> {
    let record = LogRecord {
        time_unix_nano: 1_767_225_601_000_000_000,
        body: Some(AnyValue {
            value: Some(V::StringValue("claude_code.api_request".into())),
        }),
        attributes: vec![
            kv("event.name", V::StringValue("api_request".into())),
            kv("session.id", V::StringValue("sess-2".into())),
            kv("request_id", V::StringValue("req_proto".into())),
            kv("input_tokens", V::IntValue(7)),
            kv("cost_usd", V::DoubleValue(0.5)),
        ],
        ..LogRecord::default()
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![record],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
    .encode_to_vec()
}

fn check_json_events(events: &[TelemetryEvent]) {
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
    assert_eq!(
        events[0].prompt_id.as_deref(),
        Some("a719a224-1b64-4603-b3ae-934e134cfca0")
    );
    let api = &events[3];
    assert_eq!(api.t, 4.25);
    assert_eq!(api.timestamp.as_deref(), Some("2026-11-21T05:44:22.154Z"));
    assert_eq!(api.request_id.as_deref(), Some("req_mock_9_7fa919eb"));
    assert_eq!(
        api.session_id.as_deref(),
        Some("c380f4d6-877e-45d1-93da-919c8c7eac3b")
    );
    assert_eq!(
        api.query_source.as_deref(),
        Some("agent:builtin:general-purpose")
    );
    assert_eq!(api.model.as_deref(), Some("claude-opus-4-8"));
    assert_eq!(
        (api.input_tokens, api.output_tokens),
        (Some(1156), Some(263))
    );
    let cache = (api.cache_read_tokens, api.cache_creation_tokens);
    assert_eq!(cache, (Some(0), Some(12279)));
    assert_eq!(
        (api.cost_usd, api.duration_ms),
        (Some(0.08909875), Some(21.0))
    );
}

#[tokio::test]
async fn json_logs_become_events_and_are_answered_with_an_empty_response() {
    let (receiver, events) = start(None).await;
    let answer = post(receiver.addr(), "/v1/logs", &[JSON], claude_code_json()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers["content-type"], "application/json");
    assert_eq!(&answer.body[..], b"{}");
    check_json_events(&events.lock().unwrap());
    let stats = receiver.shutdown(Duration::from_secs(1)).await;
    assert_eq!((stats.requests, stats.log_records), (1, 11));
    assert_eq!((stats.api_requests, stats.user_prompts), (4, 1));
}

#[tokio::test]
async fn protobuf_and_gzip_bodies_are_decoded() {
    let (receiver, events) = start(None).await;
    let addr = receiver.addr();
    let answer = post(addr, "/v1/logs", &[PROTOBUF], claude_code_protobuf()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers["content-type"], "application/x-protobuf");
    assert!(answer.body.is_empty());
    let gz = gzip(&claude_code_protobuf());
    assert_eq!(status(addr, "/v1/logs", &[PROTOBUF, GZIP], &gz).await, 200);
    let gz = gzip(&claude_code_json());
    let json_type = ("Content-Type", "application/json; charset=utf-8");
    assert_eq!(status(addr, "/v1/logs", &[json_type, GZIP], &gz).await, 200);
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 7);
    for event in &events[..2] {
        assert_eq!(event.request_id.as_deref(), Some("req_proto"));
        assert_eq!(event.session_id.as_deref(), Some("sess-2"));
        assert_eq!((event.input_tokens, event.cost_usd), (Some(7), Some(0.5)));
        assert_eq!(event.timestamp.as_deref(), Some("2026-01-01T00:00:01Z"));
    }
    check_json_events(&events[2..]);
    let s = receiver.stats();
    assert_eq!((s.api_requests, s.user_prompts, s.decode_errors), (6, 1, 0));
}

#[tokio::test]
async fn undecodable_bodies_are_answered_400_and_counted() {
    let (receiver, events) = start(None).await;
    let addr = receiver.addr();
    let answer = post(addr, "/v1/logs", &[JSON], b"{\"resourceLogs\": [".to_vec()).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let status: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(status["code"], 3);
    assert!(status["message"].as_str().unwrap().contains("JSON"));
    let answer = post(addr, "/v1/logs", &[PROTOBUF], vec![0xff, 0xff, 0xff]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.headers["content-type"], "application/x-protobuf");
    let answer = post(addr, "/v1/metrics", &[JSON, GZIP], b"not gzip".to_vec()).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(events.lock().unwrap().is_empty());
    let s = receiver.stats();
    assert_eq!((s.decode_errors, s.requests, s.rejected), (3, 3, 0));
}

#[tokio::test]
async fn wrong_paths_types_methods_and_sizes_are_refused() {
    let (receiver, _) = start(None).await;
    let addr = receiver.addr();
    let body = claude_code_json();
    let text = ("content-type", "text/plain");
    assert_eq!(status(addr, "/v1/logs", &[text], &body).await, 415);
    assert_eq!(status(addr, "/v1/logs", &[], &body).await, 415);
    let zstd = ("content-encoding", "zstd");
    assert_eq!(status(addr, "/v1/logs", &[JSON, zstd], &body).await, 415);
    assert_eq!(status(addr, "/v1/profiles", &[JSON], &body).await, 404);
    let huge = vec![b' '; (16 << 20) + 1];
    assert_eq!(status(addr, "/v1/logs", &[JSON], &huge).await, 413);
    // A gzip bomb: small on the wire, over the limit once inflated.
    assert_eq!(
        status(addr, "/v1/logs", &[JSON, GZIP], &gzip(&huge)).await,
        413
    );
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let get = client
        .get(format!("http://{addr}/v1/logs").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    let s = receiver.stats();
    assert_eq!((s.rejected, s.decode_errors, s.requests), (7, 0, 7));
}

#[tokio::test]
async fn metrics_and_traces_are_counted() {
    let (receiver, events) = start(None).await;
    let addr = receiver.addr();
    let metrics = include_bytes!("../fixtures/claude_code_2.1.197/metrics.json");
    assert_eq!(status(addr, "/v1/metrics", &[JSON], metrics).await, 200);
    assert_eq!(status(addr, "/v1/metrics", &[PROTOBUF], b"").await, 200);
    let traces = br#"{"resourceSpans":[]}"#;
    assert_eq!(status(addr, "/v1/traces", &[JSON], traces).await, 200);
    assert!(events.lock().unwrap().is_empty());
    let s = receiver.stats();
    assert_eq!(
        (s.metric_requests, s.trace_requests, s.log_records),
        (2, 1, 0)
    );
}

#[tokio::test]
async fn listening_off_loopback_is_refused() {
    let config = ReceiverConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        forward_to: None,
    };
    let started = TelemetryReceiver::start(config, || 0.0, |_| ()).await;
    assert!(started.is_err());
}

/// A loopback server standing in for the user's collector: records requests, answers after
/// `delay` with `status`.
struct Collector {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>,
}

impl Collector {
    async fn start(delay: Duration, status: StatusCode) -> Collector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>> = Arc::default();
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let record = record.clone();
                let service =
                    hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let record = record.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await?.to_bytes();
                            let path = parts.uri.path().to_owned();
                            record.lock().unwrap().push((path, parts.headers, body));
                            tokio::time::sleep(delay).await;
                            let mut response = Response::new(Full::new(Bytes::new()));
                            *response.status_mut() = status;
                            Ok::<_, hyper::Error>(response)
                        }
                    });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        Collector { addr, seen }
    }

    /// The forward target the user would have had: `OTEL_EXPORTER_OTLP_ENDPOINT` plus headers.
    fn target(&self) -> ForwardTarget {
        let env: HashMap<String, String> = [
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{}", self.addr),
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-api-key=s3cr%3Dt,x-team=agentprof".into(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        ForwardTarget::from_env(&env).unwrap()
    }
}

/// Polls until `done` or `limit` passes.
async fn eventually(limit: Duration, done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

#[tokio::test]
async fn every_accepted_request_is_forwarded_unchanged_with_the_users_headers() {
    let collector = Collector::start(Duration::ZERO, StatusCode::OK).await;
    let (receiver, _) = start(Some(collector.target())).await;
    let addr = receiver.addr();
    let sent = [
        ("/v1/logs", vec![JSON], claude_code_json()),
        (
            "/v1/logs",
            vec![PROTOBUF, GZIP],
            gzip(&claude_code_protobuf()),
        ),
        (
            "/v1/metrics",
            vec![JSON],
            br#"{"resourceMetrics":[]}"#.to_vec(),
        ),
        ("/v1/traces", vec![PROTOBUF], Vec::new()),
        (
            "/v1/logs",
            vec![JSON],
            b"undecodable, still forwarded".to_vec(),
        ),
    ];
    for (path, headers, body) in &sent {
        post(addr, path, headers, body.clone()).await;
    }
    let refused = ("content-type", "text/plain");
    post(addr, "/v1/logs", &[refused], b"not forwarded".to_vec()).await;
    let stats = receiver.shutdown(Duration::from_secs(5)).await;
    assert_eq!((stats.forwarded, stats.forward_errors), (5, 0));
    let seen = collector.seen.lock().unwrap();
    assert_eq!(seen.len(), 5);
    for (path, headers, body) in &sent {
        let hit = seen.iter().find(|(p, _, b)| p == path && b == &body[..]);
        let (_, got, _) = hit.unwrap_or_else(|| panic!("{path} not forwarded byte for byte"));
        for (name, value) in headers {
            assert_eq!(got[*name], *value);
        }
        assert_eq!(
            got.get("content-encoding").is_some(),
            headers.contains(&GZIP)
        );
        assert_eq!(got["x-api-key"], "s3cr=t");
        assert_eq!(got["x-team"], "agentprof");
    }
}

#[tokio::test]
async fn a_dead_or_slow_forward_target_never_delays_or_fails_the_agent() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    let env = HashMap::from([(
        "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(),
        format!("http://{dead_addr}"),
    )]);
    let (receiver, events) = start(ForwardTarget::from_env(&env)).await;
    let started = Instant::now();
    for _ in 0..3 {
        let answer = post(receiver.addr(), "/v1/logs", &[JSON], claude_code_json()).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(events.lock().unwrap().len(), 15);
    let done = eventually(Duration::from_secs(10), || {
        receiver.stats().forward_errors == 3
    })
    .await;
    assert!(done, "{:?}", receiver.stats());

    let slow = Collector::start(Duration::from_secs(3), StatusCode::OK).await;
    let (receiver, _) = start(Some(slow.target())).await;
    let started = Instant::now();
    let answer = post(receiver.addr(), "/v1/logs", &[JSON], claude_code_json()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let stats = receiver.shutdown(Duration::from_secs(10)).await;
    assert_eq!(
        (stats.forwarded, stats.forward_errors),
        (1, 0),
        "shutdown waits for forwards"
    );

    let failing = Collector::start(Duration::ZERO, StatusCode::SERVICE_UNAVAILABLE).await;
    let (receiver, _) = start(Some(failing.target())).await;
    let answer = post(receiver.addr(), "/v1/logs", &[JSON], claude_code_json()).await;
    assert_eq!(answer.status, StatusCode::OK);
    let stats = receiver.shutdown(Duration::from_secs(5)).await;
    assert_eq!((stats.forwarded, stats.forward_errors), (0, 1));
}

/// Runs `tests/python/otlp_emit.py` with the Python OpenTelemetry SDK's OTLP/HTTP protobuf
/// exporter, plain and gzip: `opentelemetry-sdk` and `opentelemetry-exporter-otlp-proto-http`
/// (both installed by `scripts/test`).
#[tokio::test]
async fn a_real_opentelemetry_sdk_exporter_is_understood() {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = crate::support::python();
    for compression in ["none", "gzip"] {
        let (receiver, events) = start(None).await;
        let status = tokio::process::Command::new(&python)
            .arg(manifest.join("tests/python/otlp_emit.py"))
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{}", receiver.addr()),
            )
            .env("OTEL_EXPORTER_OTLP_COMPRESSION", compression)
            .status()
            .await
            .unwrap();
        assert!(status.success());
        let stats = receiver.shutdown(Duration::from_secs(1)).await;
        assert_eq!(
            (stats.requests, stats.decode_errors, stats.log_records),
            (1, 0, 2)
        );
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 2, "{events:?}");
        let api = &events[0];
        assert_eq!(api.event, API_REQUEST);
        assert_eq!(api.request_id.as_deref(), Some("req_python"));
        assert_eq!(api.session_id.as_deref(), Some("sess-python"));
        assert_eq!(api.prompt_id.as_deref(), Some("prompt-python"));
        assert_eq!(api.query_source.as_deref(), Some("repl_main_thread"));
        assert_eq!(api.model.as_deref(), Some("claude-haiku-4-5"));
        assert_eq!((api.input_tokens, api.output_tokens), (Some(123), Some(45)));
        assert_eq!(
            (api.cache_read_tokens, api.cache_creation_tokens),
            (Some(6000), Some(0))
        );
        assert_eq!(
            (api.cost_usd, api.duration_ms),
            (Some(0.00123), Some(987.0))
        );
        assert!(api.timestamp.as_deref().is_some_and(|t| t.ends_with('Z')));
        assert_eq!(events[1].event, USER_PROMPT);
        assert_eq!(events[1].prompt_id.as_deref(), Some("prompt-python"));
    }
}
