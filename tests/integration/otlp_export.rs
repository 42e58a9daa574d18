//! agentprof's own OTLP export (`--otlp-endpoint`), received by a collector that decodes with
//! the official OpenTelemetry protobuf definitions (PyPI `opentelemetry-proto`, via
//! tests/python/otlp_sink.py), while the official `anthropic` and `openai` SDKs make real calls
//! through agentprof to the mock upstream. What arrives is checked against the mock's own record
//! of what it sent and against the trace, to the token.

mod harness;
pub mod sink;

use std::collections::{BTreeMap, HashMap};
use std::process::Output;

use agentprof::attribute::cost::PriceTable;
use agentprof::observation::{ApiKind, Usage};
use agentprof::output::trace::ReadTrace;
use serde_json::Value;

use crate::support::{Mock, all_outputs, stderr, trace};
use harness::{BOTH_CLIENTS, expected_kv, expected_turns, run, sdk_clients, total};
use sink::{Sink, metrics, spans};

#[test]
fn metrics_and_spans_reach_a_collector_and_match_the_mock_to_the_token() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(dir.path());
    let env = [
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-agentprof-test=from-env"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=ci,service.name=not-agentprof",
        ),
    ];
    let command = sdk_clients(dir.path(), BOTH_CLIENTS);
    let output = run(&mock, dir.path(), Some(&sink.url()), &env, &command);
    assert!(output.status.success(), "run failed: {}", stderr(&output));

    let records = mock.records();
    let trace = trace(dir.path());
    let requests = sink.requests();
    assert!(!requests.is_empty(), "the collector received nothing");
    for request in &requests {
        assert_eq!(request["content_type"], "application/x-protobuf");
        // OTEL_EXPORTER_OTLP_HEADERS is read (by the SDK) from agentprof's own environment.
        assert_eq!(request["test_header"], "from-env");
    }
    assert_eq!(
        trace.calls.len(),
        records.len(),
        "one trace record per call"
    );
    let usage_of: HashMap<&str, Option<Usage>> = records
        .iter()
        .map(|r| (r.request_id.as_str(), r.usage))
        .collect();
    let providers: Vec<&str> = records.iter().map(|r| r.provider.as_str()).collect();
    assert!(providers.contains(&"anthropic") && providers.contains(&"openai"));

    // One span per call, each carrying exactly the usage the mock sent.
    let spans = spans(&requests);
    assert_eq!(spans.len(), records.len(), "one span per call");
    let started_ns = trace
        .header
        .started_at
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_nanosecond();
    let turns = expected_turns(&trace.calls);
    for call in &trace.calls {
        let request_id = call.upstream_request_id.as_deref().unwrap();
        let span = spans
            .iter()
            .find(|s| s.attributes["agentprof.upstream_request_id"] == request_id)
            .unwrap_or_else(|| panic!("no span for {request_id}"));
        let a = &span.attributes;
        assert_eq!(span.resource["service.name"], "agentprof");
        assert_eq!(span.resource["deployment.environment"], "ci");
        assert_eq!(span.kind, "SPAN_KIND_CLIENT");
        assert_eq!(a["gen_ai.provider.name"], call.provider.as_str());
        assert_eq!(a["agentprof.turn"], turns[&call.id]);
        assert_eq!(
            a.get("agentprof.session"),
            call.session_id.as_deref().map(Value::from).as_ref()
        );
        // Start and end are the trace's offsets on the header's wall clock (µs rounding).
        let at = |t: f64| (started_ns + (t * 1e9).round() as i128) as u64;
        assert!(
            span.start_ns.abs_diff(at(call.t_start)) <= 1_000,
            "{span:?}"
        );
        assert!(
            span.end_ns.abs_diff(at(call.t_end.unwrap())) <= 1_000,
            "{span:?}"
        );
        if call.api == ApiKind::Other {
            // Not a model call: no GenAI operation and no category.
            assert!(!a.contains_key("gen_ai.operation.name"), "{span:?}");
            assert!(!a.contains_key("agentprof.category"), "{span:?}");
            continue;
        }
        assert_eq!(a["agentprof.category"], call.category.as_str());
        let model = call.model.as_deref().unwrap();
        assert_eq!(span.name, format!("chat {model}"));
        assert_eq!(a["gen_ai.operation.name"], "chat");
        assert_eq!(a["gen_ai.request.model"], model);
        match usage_of[request_id] {
            Some(u) => {
                assert_eq!(
                    a["gen_ai.usage.input_tokens"],
                    u.prompt_tokens(),
                    "{span:?}"
                );
                assert_eq!(a["gen_ai.usage.output_tokens"], u.output_tokens);
                assert_eq!(
                    a["gen_ai.usage.cache_read.input_tokens"],
                    u.cache_read_input_tokens
                );
                assert_eq!(
                    a["gen_ai.usage.cache_creation.input_tokens"],
                    u.cache_creation_input_tokens
                );
            }
            None => assert!(!a.contains_key("gen_ai.usage.input_tokens"), "{span:?}"),
        }
        if call.is_error() {
            assert_eq!(span.status_code.as_deref(), Some("STATUS_CODE_ERROR"));
            assert_eq!(a["error.type"], call.status.unwrap().to_string());
        } else {
            assert_eq!(span.status_code, None, "{span:?}");
        }
    }
    assert!(
        trace.calls.iter().any(|c| c.is_error()),
        "the run has a failed call"
    );

    let metrics = metrics(&requests);
    let mut names: Vec<&str> = metrics.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "agentprof.cost",
            "agentprof.kv.bytes",
            "agentprof.process.memory.pss",
            "agentprof.process.memory.rss",
            "agentprof.tokens",
            "gen_ai.client.operation.duration",
            "gen_ai.client.token.usage",
        ]
    );
    for metric in metrics.values() {
        assert_eq!(metric.resource["service.name"], "agentprof");
        assert_eq!(metric.resource["deployment.environment"], "ci");
    }

    // agentprof.tokens: a monotonic sum whose totals per type are the mock's, exactly.
    let mock_total = total(records.iter().filter_map(|r| r.usage));
    let tokens = &metrics["agentprof.tokens"];
    assert_eq!((tokens.kind.as_str(), tokens.monotonic), ("sum", true));
    assert_eq!(tokens.unit, "{token}");
    let sum_of = |kind: &str| -> f64 {
        tokens
            .points
            .iter()
            .filter(|p| p.attr("agentprof.token.type") == Some(kind))
            .map(|p| p.value())
            .sum()
    };
    assert_eq!(sum_of("input"), mock_total.input_tokens as f64);
    assert_eq!(sum_of("output"), mock_total.output_tokens as f64);
    assert_eq!(
        sum_of("cache_creation"),
        mock_total.cache_creation_input_tokens as f64
    );
    assert_eq!(
        sum_of("cache_read"),
        mock_total.cache_read_input_tokens as f64
    );
    assert!(mock_total.cache_read_input_tokens > 0 && mock_total.output_tokens > 0);
    for point in &tokens.points {
        assert!(point.attr("agentprof.category").is_some(), "{point:?}");
        assert!(point.attr("gen_ai.request.model").is_some(), "{point:?}");
    }

    // gen_ai.client.token.usage: the convention's attributes; input = every prompt token.
    let usage = &metrics["gen_ai.client.token.usage"];
    assert_eq!(
        (usage.kind.as_str(), usage.unit.as_str()),
        ("histogram", "{token}")
    );
    let models: Vec<&str> = records.iter().filter_map(|r| r.model.as_deref()).collect();
    let mut histogram_sum = HashMap::<String, f64>::new();
    let mut histogram_count = 0;
    for point in &usage.points {
        assert_eq!(point.attr("gen_ai.operation.name"), Some("chat"));
        assert!(matches!(
            point.attr("gen_ai.provider.name"),
            Some("anthropic" | "openai")
        ));
        assert!(
            models.contains(&point.attr("gen_ai.request.model").unwrap()),
            "{point:?}"
        );
        assert!(point.attr("agentprof.category").is_some());
        let kind = point.attr("gen_ai.token.type").unwrap().to_string();
        *histogram_sum.entry(kind.clone()).or_default() += point.point["sum"].as_f64().unwrap();
        if kind == "input" {
            histogram_count += sink::int(&point.point["count"]);
        }
    }
    assert_eq!(histogram_sum["input"], mock_total.prompt_tokens() as f64);
    assert_eq!(histogram_sum["output"], mock_total.output_tokens as f64);
    let with_usage = trace
        .calls
        .iter()
        .filter(|c| c.usage.is_some() && c.api != ApiKind::Other);
    assert_eq!(histogram_count, with_usage.count() as u64);

    // gen_ai.client.operation.duration: one observation per model call, in seconds.
    let duration = &metrics["gen_ai.client.operation.duration"];
    assert_eq!(
        (duration.kind.as_str(), duration.unit.as_str()),
        ("histogram", "s")
    );
    let observed: u64 = duration
        .points
        .iter()
        .map(|p| sink::int(&p.point["count"]))
        .sum();
    let model_calls = trace
        .calls
        .iter()
        .filter(|c| c.api != ApiKind::Other)
        .count();
    assert_eq!(observed, model_calls as u64);
    assert!(
        duration
            .points
            .iter()
            .any(|p| p.attr("error.type") == Some("529"))
    );

    // agentprof.cost: the bundled prices applied to exactly the mock's usage.
    let prices = PriceTable::bundled();
    let expected_cost: f64 = records
        .iter()
        .filter_map(|r| prices.cost(r.model.as_deref(), r.usage.as_ref()?))
        .sum();
    let cost: f64 = metrics["agentprof.cost"]
        .points
        .iter()
        .map(|p| p.value())
        .sum();
    assert_eq!(metrics["agentprof.cost"].unit, "USD");
    assert!(expected_cost > 0.0);
    assert!(
        (cost - expected_cost).abs() <= expected_cost * 1e-9,
        "{cost} vs {expected_cost}"
    );

    // Memory gauges by role, the whole tree as `total`.
    for name in [
        "agentprof.process.memory.rss",
        "agentprof.process.memory.pss",
    ] {
        let gauge = &metrics[name];
        assert_eq!((gauge.kind.as_str(), gauge.unit.as_str()), ("gauge", "By"));
        let mut roles: Vec<&str> = gauge
            .points
            .iter()
            .filter_map(|p| p.attr("agentprof.process.role"))
            .collect();
        roles.sort_unstable();
        assert_eq!(roles, ["main", "other", "subagent", "total"], "{name}");
        let of = |role: &str| {
            gauge
                .points
                .iter()
                .find(|p| p.attr("agentprof.process.role") == Some(role))
                .unwrap()
                .value()
        };
        assert!(of("total") > 0.0 && of("total") >= of("main"), "{name}");
    }
    let peak_rss = trace.samples.iter().map(|s| s.rss_bytes).max().unwrap();
    let rss_total = metrics["agentprof.process.memory.rss"]
        .points
        .iter()
        .find(|p| p.attr("agentprof.process.role") == Some("total"))
        .unwrap()
        .value();
    assert!(rss_total <= peak_rss as f64);

    // agentprof.kv.bytes: every category present; the resident prefixes of the run.
    let kv = &metrics["agentprof.kv.bytes"];
    assert_eq!((kv.kind.as_str(), kv.unit.as_str()), ("gauge", "By"));
    assert_eq!(kv.points.len(), 8);
    let expected = expected_kv(&trace);
    assert!(expected.values().any(|b| *b > 0.0));
    for point in &kv.points {
        let category = point.attr("agentprof.category").unwrap();
        assert_eq!(
            point.value(),
            expected.get(category).copied().unwrap_or(0.0),
            "{category}"
        );
    }
}

#[test]
fn a_dead_collector_changes_neither_the_exit_code_nor_the_trace_and_is_logged_once() {
    // Exits 7 after its calls, so the exit code agentprof passes on is not a default.
    let shell = r#""$0" "$1" "$2"; exit 7"#;
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
    };
    let secret = [(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "authorization=Bearer otlp-SECRET-token",
    )];
    let runs: Vec<(Output, ReadTrace, tempfile::TempDir)> = [None, Some(refused.as_str())]
        .into_iter()
        .map(|otlp| {
            let mock = Mock::start();
            let dir = tempfile::tempdir().unwrap();
            let output = run(
                &mock,
                dir.path(),
                otlp,
                &secret,
                &sdk_clients(dir.path(), shell),
            );
            let trace = trace(dir.path());
            assert_eq!(trace.calls.len(), mock.records().len());
            (output, trace, dir)
        })
        .collect();
    let (plain, plain_trace, _) = &runs[0];
    let (dead, dead_trace, dead_dir) = &runs[1];
    assert_eq!(plain.status.code(), Some(7), "{}", stderr(plain));
    assert_eq!(dead.status.code(), Some(7), "{}", stderr(dead));
    assert_eq!(dead_trace.footer.as_ref().unwrap().exit_code, Some(7));

    // The same calls, recorded the same way.
    let essence = |t: &ReadTrace| -> Vec<String> {
        t.calls
            .iter()
            .map(|c| {
                format!(
                    "{} {:?} {:?} {:?} {} {}",
                    c.path, c.model, c.status, c.usage, c.category, c.starts_turn
                )
            })
            .collect()
    };
    assert_eq!(essence(dead_trace), essence(plain_trace));
    assert!(!dead_trace.calls.is_empty());

    let log = std::fs::read_to_string(dead_dir.path().join("trace.jsonl.log")).unwrap();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("OTLP"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(warnings[0].contains(&refused), "{log}");
    // Several exports failed (periodic metrics, the final metrics and spans), one warning.
    let failed: u64 = log
        .lines()
        .find_map(|l| {
            l.split("; ")
                .nth(1)?
                .strip_suffix(" export requests failed in all")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no failure count in {log}"));
    assert!(failed >= 2, "{log}");
    // The collector token from the environment is nowhere in agentprof's outputs.
    assert!(!all_outputs(dead_dir.path(), dead).contains("otlp-SECRET-token"));
}

#[test]
fn spans_carry_the_true_category_session_and_turn_of_every_agent_call() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(dir.path());
    let agent: Vec<String> = [
        env!("CARGO_BIN_EXE_agentprof"),
        "synthetic-agent",
        "--turns",
        "4",
        "--seed",
        "1",
        "--think-ms",
        "20",
    ]
    .map(str::to_string)
    .to_vec();
    let output = run(&mock, dir.path(), Some(&sink.url()), &[], &agent);
    assert!(output.status.success(), "run failed: {}", stderr(&output));

    let records = mock.records();
    let trace = trace(dir.path());
    let requests = sink.requests();
    let spans = spans(&requests);
    assert_eq!(spans.len(), records.len(), "one span per call");
    let turns = expected_turns(&trace.calls);
    assert!(
        turns.values().max().copied().unwrap_or(0) >= 2,
        "several turns"
    );
    let mut truth_tokens: BTreeMap<String, f64> = BTreeMap::new();
    for record in &records {
        let truth = record.truth_category.clone().unwrap();
        let call = trace
            .calls
            .iter()
            .find(|c| c.upstream_request_id.as_deref() == Some(&record.request_id))
            .unwrap();
        let span = spans
            .iter()
            .find(|s| s.attributes["agentprof.upstream_request_id"] == record.request_id.as_str())
            .unwrap();
        let a = &span.attributes;
        assert_eq!(a["agentprof.category"], truth.as_str(), "{span:?}");
        assert_eq!(
            a["agentprof.session"],
            record.session_id.as_deref().unwrap()
        );
        assert_eq!(a["agentprof.turn"], turns[&call.id], "{span:?}");
        assert_eq!(
            a.get("agentprof.agent_id").and_then(Value::as_str),
            record.agent_id.as_deref()
        );
        *truth_tokens.entry(truth).or_default() += record.usage.unwrap().total_tokens() as f64;
    }
    assert!(truth_tokens.len() >= 5, "{truth_tokens:?}");

    // agentprof.tokens by category equals the ground truth, to the token.
    let metrics = metrics(&requests);
    let mut by_category: BTreeMap<String, f64> = BTreeMap::new();
    for point in &metrics["agentprof.tokens"].points {
        let category = point.attr("agentprof.category").unwrap().to_string();
        *by_category.entry(category).or_default() += point.value();
    }
    assert_eq!(by_category, truth_tokens);
}
