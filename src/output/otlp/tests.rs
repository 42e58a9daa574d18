//! Unit tests of the OTLP exporter parts that need no collector: configuration, attributes,
//! turn numbers and the live KV estimate. The whole pipeline is tested end to end against a
//! collector built on the official protos (tests/integration/otlp_export.rs).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use opentelemetry::{KeyValue, Value};

use super::attributes::{error_type, metric_base, span_attributes, span_name};
use super::config::{DEFAULT_EXPORT_INTERVAL, OtlpConfig};
use super::{OtlpError, TurnCounter};
use crate::attribute::kv::live::ResidentKv;
use crate::observation::{ApiKind, Call, CallError, CallErrorKind, Category, Provider, Usage};

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn resolve(flag: Option<&str>, pairs: &[(&str, &str)]) -> Option<OtlpConfig> {
    OtlpConfig::resolve(flag, &env(pairs)).unwrap()
}

fn urls(config: &OtlpConfig) -> (Option<&str>, Option<&str>) {
    (
        config.metrics.as_ref().map(|e| e.url.as_str()),
        config.traces.as_ref().map(|e| e.url.as_str()),
    )
}

fn call(usage: Option<Usage>) -> Call {
    Call {
        id: 7,
        t_start: 1.0,
        t_first_byte: Some(1.5),
        t_end: Some(3.0),
        provider: Provider::Anthropic,
        api: ApiKind::Messages,
        method: "POST".to_string(),
        path: "/v1/messages?beta=true".to_string(),
        model: Some("claude-sonnet-4-6".to_string()),
        stream: true,
        status: Some(200),
        usage,
        upstream_request_id: Some("req_1".to_string()),
        response_id: Some("msg_1".to_string()),
        session_id: Some("s1".to_string()),
        agent_id: None,
        parent_agent_id: None,
        request_bytes: 0,
        response_bytes: 0,
        client_bytes: None,
        category: Category::UserTurn,
        classified_by: "rule:test".to_string(),
        error: None,
        bodies: None,
        via_websocket: None,
        project: None,
        starts_turn: false,
    }
}

fn usage(input: u64, output: u64, write: u64, read: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cache_creation_input_tokens: write,
        cache_read_input_tokens: read,
        cache_creation_5m_input_tokens: write,
        cache_creation_1h_input_tokens: 0,
        reasoning_output_tokens: 0,
        tool_use_input_tokens: 0,
    }
}

fn value<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

#[test]
fn no_flag_and_no_endpoint_variable_means_no_export() {
    assert_eq!(resolve(None, &[]), None);
    // A signal-specific endpoint alone does not turn export on (the spec honours the base).
    assert_eq!(
        resolve(
            None,
            &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/t")]
        ),
        None
    );
}

#[test]
fn the_flag_is_a_base_url_and_signal_paths_are_appended() {
    let config = resolve(Some("http://collector:4318"), &[]).unwrap();
    assert_eq!(
        urls(&config),
        (
            Some("http://collector:4318/v1/metrics"),
            Some("http://collector:4318/v1/traces")
        )
    );
    assert_eq!(config.export_interval, DEFAULT_EXPORT_INTERVAL);
    let config = resolve(Some("https://otel.example/otlp/?k=v"), &[]).unwrap();
    assert_eq!(
        urls(&config).0,
        Some("https://otel.example/otlp/v1/metrics?k=v")
    );
}

#[test]
fn the_flag_wins_over_every_endpoint_variable_and_over_sdk_disabled() {
    let vars = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
        ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://env:4318/m"),
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_SDK_DISABLED", "true"),
    ];
    let config = resolve(Some("http://flag:1"), &vars).unwrap();
    assert_eq!(
        urls(&config),
        (
            Some("http://flag:1/v1/metrics"),
            Some("http://flag:1/v1/traces")
        )
    );
}

#[test]
fn the_environment_follows_the_otel_rules() {
    let config = resolve(
        None,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318/"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://traces:9/custom",
            ),
            ("OTEL_METRIC_EXPORT_INTERVAL", "500"),
        ],
    )
    .unwrap();
    assert_eq!(
        urls(&config),
        (
            Some("http://env:4318/v1/metrics"),
            Some("http://traces:9/custom")
        )
    );
    assert_eq!(config.export_interval, Duration::from_millis(500));

    let base = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318");
    let config = resolve(None, &[base, ("OTEL_METRICS_EXPORTER", "none")]).unwrap();
    assert_eq!(urls(&config), (None, Some("http://env:4318/v1/traces")));
    assert_eq!(
        resolve(
            None,
            &[
                base,
                ("OTEL_METRICS_EXPORTER", "none"),
                ("OTEL_TRACES_EXPORTER", "none")
            ]
        ),
        None
    );
    assert_eq!(resolve(None, &[base, ("OTEL_SDK_DISABLED", "TRUE")]), None);
    // An exporter list naming otlp (as set for Claude Code) keeps the signal.
    let config = resolve(None, &[base, ("OTEL_METRICS_EXPORTER", "otlp,console")]).unwrap();
    assert!(config.metrics.is_some());
}

#[test]
fn an_unreadable_interval_falls_back_to_the_default() {
    for bad in ["0", "-5", "fast", "1.5"] {
        let config = resolve(Some("http://c:1"), &[("OTEL_METRIC_EXPORT_INTERVAL", bad)]).unwrap();
        assert_eq!(config.export_interval, DEFAULT_EXPORT_INTERVAL, "{bad}");
    }
}

#[test]
fn bad_urls_are_errors_that_name_their_source_and_hide_credentials() {
    for (flag, reason) in [
        ("ftp://c:21", "only http:// and https://"),
        ("collector:4318", "no scheme"),
        ("/v1/metrics", "no scheme"),
        ("http://user:secret pw@c:1", "not a URL"),
    ] {
        let err = OtlpConfig::resolve(Some(flag), &env(&[])).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("--otlp-endpoint: "), "{text}");
        assert!(text.contains(reason), "{flag}: {text}");
        assert!(!text.contains("secret"), "{text}");
    }
    let err = OtlpConfig::resolve(
        None,
        &env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:1"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "grpc://c:4317"),
        ]),
    )
    .unwrap_err();
    assert!(matches!(&err, OtlpError::Endpoint { source_name, .. }
        if source_name == "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"));
}

#[test]
fn endpoints_display_without_credentials_and_recognise_the_local_receiver() {
    let config = resolve(Some("http://user:pw@localhost:4318/base?token=t"), &[]).unwrap();
    let metrics = config.metrics.unwrap();
    assert_eq!(metrics.display, "http://localhost:4318/base/v1/metrics");
    let receiver = "127.0.0.1:4318".parse().unwrap();
    assert!(metrics.is_local(receiver));
    for (url, local) in [
        ("http://127.0.0.1:4318", true),
        ("http://[::1]:4318", true),
        ("http://0.0.0.0:4318", true),
        ("http://127.0.0.1:4319", false),
        ("http://collector:4318", false),
        ("http://10.1.2.3:4318", false),
    ] {
        let endpoint = resolve(Some(url), &[]).unwrap().traces.unwrap();
        assert_eq!(endpoint.is_local(receiver), local, "{url}");
    }
    let default_port = resolve(Some("http://localhost"), &[])
        .unwrap()
        .traces
        .unwrap();
    assert!(default_port.is_local("127.0.0.1:80".parse().unwrap()));
}

#[test]
fn spans_are_named_after_the_operation_and_model() {
    let mut c = call(None);
    assert_eq!(span_name(&c), "chat claude-sonnet-4-6");
    c.model = None;
    assert_eq!(span_name(&c), "chat");
    c.api = ApiKind::Other;
    c.method = "GET".to_string();
    c.path = "/v1/models?limit=20".to_string();
    assert_eq!(span_name(&c), "GET /v1/models");
}

#[test]
fn span_input_tokens_follow_the_genai_convention_and_cache_counts_are_exact() {
    let c = call(Some(usage(3, 40, 500, 2000)));
    let attributes = span_attributes(&c, 2);
    let int = |key: &str| match value(&attributes, key) {
        Some(Value::I64(n)) => *n,
        other => panic!("{key}: {other:?}"),
    };
    assert_eq!(int("gen_ai.usage.input_tokens"), 3 + 500 + 2000);
    assert_eq!(int("gen_ai.usage.output_tokens"), 40);
    assert_eq!(int("gen_ai.usage.cache_read.input_tokens"), 2000);
    assert_eq!(int("gen_ai.usage.cache_creation.input_tokens"), 500);
    assert_eq!(int("agentprof.turn"), 2);
    assert_eq!(int("http.response.status_code"), 200);
    let string = |key: &str| value(&attributes, key).map(|v| v.as_str().into_owned());
    assert_eq!(string("gen_ai.operation.name").as_deref(), Some("chat"));
    assert_eq!(string("gen_ai.provider.name").as_deref(), Some("anthropic"));
    assert_eq!(
        string("gen_ai.request.model").as_deref(),
        Some("claude-sonnet-4-6")
    );
    assert_eq!(string("agentprof.category").as_deref(), Some("user_turn"));
    assert_eq!(string("agentprof.session").as_deref(), Some("s1"));
    assert_eq!(string("url.path").as_deref(), Some("/v1/messages"));
    assert_eq!(string("error.type"), None);
    assert_eq!(string("agentprof.agent_id"), None);
}

#[test]
fn side_endpoints_carry_no_genai_operation() {
    let mut c = call(None);
    c.api = ApiKind::Other;
    let attributes = span_attributes(&c, 0);
    assert!(value(&attributes, "gen_ai.operation.name").is_none());
    assert!(value(&attributes, "gen_ai.usage.input_tokens").is_none());
    // Not a model call: no category (reports count it under other requests).
    assert!(value(&attributes, "agentprof.category").is_none());
    assert_eq!(span_name(&c), "POST /v1/messages");
}

#[test]
fn failures_have_an_error_type() {
    let mut c = call(None);
    assert_eq!(error_type(&c), None);
    c.status = Some(529);
    assert_eq!(error_type(&c).as_deref(), Some("529"));
    c.error = Some(CallError::new(CallErrorKind::UpstreamStatus, "overloaded"));
    assert_eq!(error_type(&c).as_deref(), Some("529"));
    c.status = Some(200);
    c.error = Some(CallError::new(
        CallErrorKind::StreamError,
        "overloaded_error",
    ));
    assert_eq!(error_type(&c).as_deref(), Some("stream_error"));
    c.status = None;
    c.error = Some(CallError::new(CallErrorKind::UpstreamConnect, "refused"));
    assert_eq!(error_type(&c).as_deref(), Some("upstream_connect"));
    c.error = None;
    c.status = None;
    assert_eq!(error_type(&c).as_deref(), Some("no_response"));
    let base = metric_base(&call(None));
    assert_eq!(
        value(&base, "gen_ai.request.model").map(|v| v.as_str().into_owned()),
        Some("claude-sonnet-4-6".to_string())
    );
}

#[test]
fn turns_are_counted_per_session_from_starts_turn() {
    let turns = TurnCounter::default();
    let with = |session: Option<&str>, starts: bool| {
        let mut c = call(None);
        c.session_id = session.map(str::to_string);
        c.starts_turn = starts;
        c
    };
    assert_eq!(turns.turn_of(&with(Some("a"), false)), 0);
    assert_eq!(turns.turn_of(&with(Some("a"), true)), 1);
    assert_eq!(turns.turn_of(&with(Some("a"), false)), 1);
    assert_eq!(turns.turn_of(&with(Some("b"), true)), 1);
    assert_eq!(turns.turn_of(&with(Some("a"), true)), 2);
    assert_eq!(turns.turn_of(&with(None, true)), 1);
    assert_eq!(turns.turn_of(&with(Some("b"), false)), 1);
}

fn kv_of(kv: &mut ResidentKv, now: Instant, category: Category) -> u64 {
    kv.by_category(now)
        .into_iter()
        .find(|(c, _)| *c == category)
        .map(|(_, bytes)| bytes)
        .unwrap()
}

#[test]
fn resident_kv_holds_each_keys_latest_prefix_for_its_ttl() {
    const BPT: u64 = 1000;
    let mut kv = ResidentKv::new(BPT);
    let t0 = Instant::now();
    // No cache use: nothing resident.
    kv.on_call(&call(Some(usage(100, 5, 0, 0))), t0);
    assert_eq!(kv.by_category(t0).map(|(_, b)| b), [0; 8]);

    kv.on_call(&call(Some(usage(1, 5, 300, 0))), t0);
    assert_eq!(kv_of(&mut kv, t0, Category::UserTurn), 300 * BPT);
    // The same key again replaces the prefix (it now includes what was written before).
    kv.on_call(
        &call(Some(usage(1, 5, 50, 300))),
        t0 + Duration::from_secs(60),
    );
    let at = t0 + Duration::from_secs(61);
    assert_eq!(kv_of(&mut kv, at, Category::UserTurn), 350 * BPT);
    // Another key (a sub-agent) adds to it, charged to its own category.
    let mut sub = call(Some(usage(1, 5, 0, 200)));
    sub.agent_id = Some("agent-1".to_string());
    sub.category = Category::Subagent;
    kv.on_call(&sub, t0 + Duration::from_secs(60));
    assert_eq!(kv_of(&mut kv, at, Category::Subagent), 200 * BPT);
    assert_eq!(kv_of(&mut kv, at, Category::UserTurn), 350 * BPT);
    // Five minutes after the last use, both are gone.
    let later = t0 + Duration::from_secs(60 + 301);
    assert_eq!(kv.by_category(later).map(|(_, b)| b), [0; 8]);
}

#[test]
fn a_one_hour_cache_write_stays_resident_for_an_hour() {
    let mut kv = ResidentKv::new(10);
    let t0 = Instant::now();
    let mut u = usage(1, 1, 100, 0);
    u.cache_creation_5m_input_tokens = 0;
    u.cache_creation_1h_input_tokens = 100;
    kv.on_call(&call(Some(u)), t0);
    assert_eq!(
        kv_of(&mut kv, t0 + Duration::from_secs(3599), Category::UserTurn),
        1000
    );
    assert_eq!(
        kv_of(&mut kv, t0 + Duration::from_secs(3601), Category::UserTurn),
        0
    );
}

#[test]
fn an_exporter_pointed_at_agentprofs_own_receiver_sends_nothing() {
    use crate::output::live::{LiveSink, SessionStart};
    // A listener standing in for the receiver: anything the exporter sent would connect here.
    let receiver = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    receiver.set_nonblocking(true).unwrap();
    let addr = receiver.local_addr().unwrap();
    let config = resolve(Some(&format!("http://localhost:{}", addr.port())), &[]).unwrap();
    let exporter = super::OtlpExporter::new(
        config,
        crate::attribute::kv::KvProfile::default_profile(),
        crate::attribute::cost::PriceTable::bundled(),
    )
    .unwrap();
    exporter.on_start(&SessionStart {
        started_at: jiff::Timestamp::now(),
        telemetry_receiver: Some(addr),
    });
    exporter.on_call(&call(Some(usage(1, 2, 3, 4))));
    exporter.shutdown();
    // The pipeline was stopped on a thread of its own; give it the time a final export takes.
    std::thread::sleep(Duration::from_millis(300));
    match receiver.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the exporter connected to agentprof's receiver: {other:?}"),
    }
}
