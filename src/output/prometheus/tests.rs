//! The exposition text without Prometheus: names, labels, HELP/TYPE lines, values; and the
//! HTTP endpoint.

use std::io::{Read, Write};
use std::time::Instant;

use super::*;
use crate::attribute::findings::leak::LeakThresholds;
use crate::observation::{
    ApiKind, CallError, CallErrorKind, Category, Provider, RoleMemory, Usage,
};

fn profile() -> &'static KvProfile {
    KvProfile::from_name("llama-3.1-405b").unwrap()
}

fn call(id: u64, model: Option<&str>, category: Category) -> Call {
    Call {
        id,
        t_start: 1.0,
        t_first_byte: Some(1.5),
        t_end: Some(3.0),
        provider: Provider::Anthropic,
        api: ApiKind::Messages,
        method: "POST".into(),
        path: "/v1/messages".into(),
        model: model.map(str::to_string),
        stream: true,
        status: Some(200),
        usage: Some(Usage {
            input_tokens: 10,
            output_tokens: 20,
            cache_creation_input_tokens: 300,
            cache_read_input_tokens: 4000,
            cache_creation_5m_input_tokens: 300,
            cache_creation_1h_input_tokens: 0,
            reasoning_output_tokens: 0,
            tool_use_input_tokens: 0,
        }),
        upstream_request_id: Some("req_secret_id".into()),
        response_id: Some("msg_1".into()),
        session_id: Some("session-uuid-1".into()),
        agent_id: None,
        parent_agent_id: None,
        request_bytes: 1000,
        response_bytes: 2000,
        client_bytes: None,
        category,
        classified_by: "rule:test".into(),
        starts_turn: category == Category::UserTurn,
        error: None,
        bodies: None,
        via_websocket: None,
        project: None,
    }
}

fn sample(pss: Option<u64>) -> MemorySample {
    let role = |processes, rss, pss: Option<u64>| RoleMemory {
        processes,
        rss_bytes: rss,
        pss_bytes: pss,
    };
    MemorySample {
        t: 1.0,
        rss_bytes: 700,
        pss_bytes: pss,
        main: role(1, 400, pss.map(|_| 300)),
        subagent: role(1, 200, pss.map(|_| 150)),
        other: role(2, 100, pss.map(|_| 50)),
        processes: Vec::new(),
    }
}

/// The sample line of `name` whose labels are exactly `labels` (in export order).
fn value(text: &str, name: &str, labels: &str) -> f64 {
    let prefix = if labels.is_empty() {
        format!("{name} ")
    } else {
        format!("{name}{{{labels}}} ")
    };
    let line = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in\n{text}"));
    line[prefix.len()..].trim().parse().unwrap()
}

fn metrics() -> Metrics {
    Metrics::new(PriceTable::bundled(), profile(), Default::default())
}

#[test]
fn every_family_has_help_and_type_lines_with_the_spec_names() {
    let empty = metrics().encode().unwrap();
    assert!(empty.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    // Before any call: the KV gauge exports every category at 0, and the profile it assumes.
    for category in Category::ALL {
        let labels = format!("category=\"{category}\"");
        assert_eq!(value(&empty, "agentprof_kv_bytes", &labels), 0.0);
    }
    // Labelled families appear with their first series: feed one of everything.
    let metrics = metrics();
    metrics.on_call(
        &call(1, Some("claude-sonnet-4-6"), Category::UserTurn),
        Instant::now(),
    );
    let mut failed = call(2, Some("mystery-model"), Category::Utility);
    failed.status = Some(500);
    metrics.on_call(&failed, Instant::now());
    metrics.on_memory(&sample(Some(1)));
    let text = metrics.encode().unwrap();
    for (name, kind) in [
        ("agentprof_tokens", "counter"),
        ("agentprof_requests", "counter"),
        ("agentprof_request_errors", "counter"),
        ("agentprof_cost_usd", "counter"),
        ("agentprof_unpriced_requests", "counter"),
        ("agentprof_turns", "counter"),
        ("agentprof_request_duration_seconds", "histogram"),
        ("agentprof_time_to_first_token_seconds", "histogram"),
        ("agentprof_request_bytes", "counter"),
        ("agentprof_response_bytes", "counter"),
        ("agentprof_rss_bytes", "gauge"),
        ("agentprof_pss_bytes", "gauge"),
        ("agentprof_processes", "gauge"),
        ("agentprof_memory_samples", "counter"),
        ("agentprof_kv_bytes", "gauge"),
        ("agentprof_kv_bytes_per_token", "gauge"),
        ("agentprof_build", "info"),
        ("agentprof_findings", "gauge"),
        ("agentprof_memory_leak_bytes_per_hour", "gauge"),
        ("agentprof_findings_evaluation_seconds", "gauge"),
        ("agentprof_findings_samples", "gauge"),
    ] {
        assert!(
            text.contains(&format!("\n# TYPE {name} {kind}\n"))
                || text.starts_with(&format!("# TYPE {name} {kind}\n")),
            "TYPE line of {name} in\n{text}"
        );
        let help = format!("# HELP {name} ");
        let line = text
            .lines()
            .find(|l| l.starts_with(&help))
            .unwrap_or_else(|| panic!("HELP line of {name}"));
        assert!(line.len() > help.len() + 10, "{name} has a real HELP text");
        assert!(!line.ends_with(".."), "{line}");
    }
    assert_eq!(
        value(
            &text,
            "agentprof_kv_bytes_per_token",
            "profile=\"llama-3.1-405b\""
        ),
        516_096.0
    );
    assert!(text.contains("agentprof_build_info{version=\""));
}

#[test]
fn a_call_updates_tokens_requests_cost_latency_and_kv() {
    let metrics = metrics();
    let user = call(1, Some("claude-sonnet-4-6"), Category::UserTurn);
    metrics.on_call(&user, Instant::now());
    let text = metrics.encode().unwrap();

    let tokens = |kind: &str| {
        value(
            &text,
            "agentprof_tokens_total",
            &format!(
                "type=\"{kind}\",category=\"user_turn\",model=\"claude-sonnet-4-6\",provider=\"anthropic\""
            ),
        )
    };
    assert_eq!(tokens("input"), 10.0);
    assert_eq!(tokens("output"), 20.0);
    assert_eq!(tokens("cache_creation"), 300.0);
    assert_eq!(tokens("cache_read"), 4000.0);
    assert_eq!(
        value(
            &text,
            "agentprof_requests_total",
            "category=\"user_turn\",model=\"claude-sonnet-4-6\",provider=\"anthropic\",status=\"200\""
        ),
        1.0
    );
    let usage = user.usage.unwrap();
    let expected_cost = PriceTable::bundled()
        .cost(Some("claude-sonnet-4-6"), &usage)
        .unwrap();
    let cost = value(
        &text,
        "agentprof_cost_usd_total",
        "category=\"user_turn\",model=\"claude-sonnet-4-6\"",
    );
    assert!(
        (cost - expected_cost).abs() < 1e-12,
        "{cost} vs {expected_cost}"
    );
    assert_eq!(value(&text, "agentprof_turns_total", ""), 1.0);
    let pair = "category=\"user_turn\",model=\"claude-sonnet-4-6\"";
    assert_eq!(
        value(&text, "agentprof_request_duration_seconds_count", pair),
        1.0
    );
    assert_eq!(
        value(&text, "agentprof_request_duration_seconds_sum", pair),
        2.0
    );
    // 2 s is above the 1 s bound and within the 2 s bound.
    let bucket = |le: &str| {
        value(
            &text,
            "agentprof_request_duration_seconds_bucket",
            &format!("le=\"{le}\",{pair}"),
        )
    };
    assert_eq!(bucket("1.0"), 0.0);
    assert_eq!(bucket("2.0"), 1.0);
    assert_eq!(bucket("600.0"), 1.0);
    assert_eq!(bucket("+Inf"), 1.0);
    assert_eq!(
        value(&text, "agentprof_time_to_first_token_seconds_sum", pair),
        0.5
    );
    assert_eq!(
        value(&text, "agentprof_kv_bytes", "category=\"user_turn\""),
        (4300u64 * 516_096) as f64
    );
    assert_eq!(
        value(
            &text,
            "agentprof_request_bytes_total",
            "provider=\"anthropic\""
        ),
        1000.0
    );
    // Ids never become labels.
    for id in ["session-uuid-1", "req_secret_id", "msg_1"] {
        assert!(!text.contains(id), "{id} exported");
    }
}

#[test]
fn failures_unpriced_models_and_missing_models_get_their_own_labels() {
    let metrics = metrics();
    let mut failed = call(1, Some("claude-sonnet-4-6"), Category::Subagent);
    failed.status = Some(529);
    failed.usage = None;
    failed.error = Some(CallError::new(CallErrorKind::UpstreamStatus, "overloaded"));
    metrics.on_call(&failed, Instant::now());
    let mut refused = call(2, Some("claude-sonnet-4-6"), Category::Subagent);
    refused.status = None;
    refused.usage = None;
    refused.error = Some(CallError::new(CallErrorKind::UpstreamConnect, "refused"));
    metrics.on_call(&refused, Instant::now());
    let unpriced = call(3, Some("my-local-model"), Category::Utility);
    metrics.on_call(&unpriced, Instant::now());
    // A model call whose body named no model (unreadable) …
    let mut unnamed = call(4, None, Category::Unknown);
    unnamed.usage = None;
    metrics.on_call(&unnamed, Instant::now());
    // … and a model listing, which is no model call at all: counted apart, in no category.
    let mut listing = call(5, None, Category::Unknown);
    listing.api = ApiKind::Other;
    listing.usage = None;
    metrics.on_call(&listing, Instant::now());
    let text = metrics.encode().unwrap();

    let requests = |labels: &str| value(&text, "agentprof_requests_total", labels);
    assert_eq!(
        requests(
            "category=\"subagent\",model=\"claude-sonnet-4-6\",provider=\"anthropic\",status=\"529\""
        ),
        1.0
    );
    assert_eq!(
        requests(
            "category=\"subagent\",model=\"claude-sonnet-4-6\",provider=\"anthropic\",status=\"error\""
        ),
        1.0
    );
    assert_eq!(
        requests("category=\"unknown\",model=\"none\",provider=\"anthropic\",status=\"200\""),
        1.0,
        "the listing is not a model call: only the unnamed call is counted here"
    );
    assert_eq!(
        value(
            &text,
            "agentprof_other_requests_total",
            "provider=\"anthropic\",status=\"200\""
        ),
        1.0
    );
    let errors = |kind: &str| {
        value(
            &text,
            "agentprof_request_errors_total",
            &format!(
                "category=\"subagent\",model=\"claude-sonnet-4-6\",provider=\"anthropic\",kind=\"{kind}\""
            ),
        )
    };
    assert_eq!(errors("upstream_status"), 1.0);
    assert_eq!(errors("upstream_connect"), 1.0);
    assert_eq!(
        value(
            &text,
            "agentprof_unpriced_requests_total",
            "model=\"my-local-model\""
        ),
        1.0
    );
    assert!(
        !text.contains("agentprof_cost_usd_total{category=\"utility\""),
        "an unpriced call has no cost series:\n{text}"
    );
    // Failed streams have no time to first token.
    assert!(!text.contains("agentprof_time_to_first_token_seconds_count{category=\"subagent\""));
    assert_eq!(value(&text, "agentprof_turns_total", ""), 0.0);
}

#[test]
fn memory_gauges_keep_the_last_pss_between_pss_ticks() {
    let metrics = metrics();
    metrics.on_memory(&sample(Some(500)));
    let mut later = sample(None);
    later.rss_bytes = 900;
    later.main.rss_bytes = 600;
    metrics.on_memory(&later);
    let text = metrics.encode().unwrap();
    let rss = |role: &str| value(&text, "agentprof_rss_bytes", &format!("role=\"{role}\""));
    let pss = |role: &str| value(&text, "agentprof_pss_bytes", &format!("role=\"{role}\""));
    assert_eq!(rss("total"), 900.0);
    assert_eq!(rss("main"), 600.0);
    assert_eq!(rss("subagent"), 200.0);
    assert_eq!(rss("other"), 100.0);
    assert_eq!(pss("total"), 500.0);
    assert_eq!(pss("main"), 300.0);
    assert_eq!(pss("other"), 50.0);
    assert_eq!(value(&text, "agentprof_processes", "role=\"total\""), 4.0);
    assert_eq!(value(&text, "agentprof_memory_samples_total", ""), 2.0);
}

/// One HTTP/1.1 request over a fresh connection; returns the whole response as text.
fn http(addr: SocketAddr, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn the_endpoint_serves_openmetrics_on_get_metrics_only() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let exporter = runtime
        .block_on(PrometheusExporter::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            PriceTable::bundled(),
            profile(),
        ))
        .unwrap();
    let addr = exporter.addr();
    assert_ne!(addr.port(), 0);
    exporter.on_call(&call(1, Some("claude-haiku-4-5"), Category::Utility));

    // A scrape addressed to another host is refused (DNS rebinding, see crate::guard).
    let rebound = http(
        addr,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(rebound.starts_with("HTTP/1.1 421"), "{rebound}");
    let ok = http(
        addr,
        &format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(
        ok.to_ascii_lowercase()
            .contains(&format!("content-type: {CONTENT_TYPE_OPENMETRICS}")),
        "{ok}"
    );
    assert!(
        ok.contains("agentprof_requests_total{category=\"utility\",model=\"claude-haiku-4-5\"")
    );
    assert!(ok.ends_with("# EOF\n"));

    let missing = http(
        addr,
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    let post = http(
        addr,
        "POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");

    // After shutdown the listener stops accepting.
    exporter.shutdown();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::net::TcpStream::connect(addr).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "still accepting after shutdown"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn a_scrape_evaluates_the_findings_a_leak_shows_and_a_call_in_flight_hides() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let fast = LeakThresholds {
        warmup_s: 1.0,
        window_s: 1.0,
        ..LeakThresholds::default()
    };
    let start = |leak| {
        runtime
            .block_on(PrometheusExporter::start_with_hosts(
                SocketAddr::from(([127, 0, 0, 1], 0)),
                PriceTable::bundled(),
                profile(),
                &[],
                Thresholds {
                    leak,
                    ..Thresholds::default()
                },
            ))
            .unwrap()
    };
    // 20 s at 20 Hz, growing 10 MiB a second (600 MiB a minute) all along.
    let ticks = |exporter: &PrometheusExporter| {
        for i in 0..400u32 {
            let mut tick = sample(None);
            tick.t = f64::from(i) / 20.0;
            tick.rss_bytes = (300 << 20) + (u64::from(i) << 19);
            exporter.on_memory(&tick);
        }
    };
    let scrape = |exporter: &PrometheusExporter| {
        let addr = exporter.addr();
        http(
            addr,
            &format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        )
    };
    let tree = "kind=\"memory_leak\",severity=\"critical\",scope=\"tree\"";

    let leaking = start(fast);
    ticks(&leaking);
    let text = scrape(&leaking);
    assert_eq!(value(&text, "agentprof_findings", tree), 1.0, "{text}");
    let rate = value(
        &text,
        "agentprof_memory_leak_bytes_per_hour",
        "scope=\"tree\"",
    );
    assert!(
        (rate / (600.0 * 60.0 * 1048576.0) - 1.0).abs() < 0.01,
        "{rate}"
    );

    // The same growth with a call in flight from the start (it never ends): busy, not a leak.
    let working = start(fast);
    let mut started = call(1, Some("claude-sonnet-4-6"), Category::UserTurn);
    started.t_start = 0.0;
    working.on_call_start(&started);
    ticks(&working);
    let text = scrape(&working);
    assert_eq!(value(&text, "agentprof_findings", tree), 0.0, "{text}");
    assert_eq!(
        value(
            &text,
            "agentprof_memory_leak_bytes_per_hour",
            "scope=\"tree\""
        ),
        0.0
    );
    // With the default thresholds (2 minutes of warm-up), 20 s is too short to say.
    let default = start(LeakThresholds::default());
    ticks(&default);
    assert_eq!(value(&scrape(&default), "agentprof_findings", tree), 0.0);
    for exporter in [leaking, working, default] {
        exporter.shutdown();
    }
}
