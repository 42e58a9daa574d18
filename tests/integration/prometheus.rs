//! `agentprof run --prometheus` scraped by a real Prometheus (Debian's 2.42, installed by
//! `scripts/test`) while the official `anthropic` SDK drives a Claude-Code-shaped workload
//! against the mock upstream. Prometheus' own query API must then report exactly what the mock
//! says it sent, and every panel query of the shipped dashboards must return data. `alerts`:
//! the shipped alerting rules, checked by promtool and fired by a leaking run.

mod alerts;
mod dashboards;
pub mod harness;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use agentprof::attribute::cost::PriceTable;
use agentprof::demo::mock_upstream::MockRecord;

use crate::support::{Mock, agentprof, python, python_script, trace};
use harness::{Killed, Prometheus, free_port};

/// Bytes per token of the default KV profile (llama-3.1-405b, bf16).
const BYTES_PER_TOKEN: u64 = 516_096;
const LIMIT: Duration = Duration::from_secs(30);

/// What the mock's records say Prometheus must show.
#[derive(Debug, Default)]
struct Expected {
    /// Model calls.
    requests: f64,
    /// Requests that are not model calls (count_tokens).
    other_requests: f64,
    tokens: BTreeMap<String, f64>,
    by_status: BTreeMap<String, f64>,
    errors: f64,
    cost_usd: f64,
    unpriced: f64,
    kv_bytes: f64,
    ttft_observations: f64,
}

fn expected(records: &[MockRecord]) -> Expected {
    let prices = PriceTable::bundled();
    let mut e = Expected::default();
    let mut prefixes = BTreeMap::new();
    let mut records: Vec<&MockRecord> = records.iter().collect();
    records.sort_by_key(|r| r.seq);
    for r in records {
        let path = r.path.split('?').next().unwrap_or_default();
        if !["/v1/messages", "/v1/chat/completions", "/v1/responses"].contains(&path) {
            e.other_requests += 1.0;
            continue;
        }
        e.requests += 1.0;
        let status = r.status.map_or("error".to_string(), |s| s.to_string());
        *e.by_status.entry(status).or_default() += 1.0;
        let ok = matches!(r.status, Some(200..=299));
        if !ok {
            e.errors += 1.0;
        }
        if r.stream && ok {
            e.ttft_observations += 1.0;
        }
        let Some(u) = r.usage else { continue };
        for (kind, n) in [
            ("input", u.input_tokens),
            ("output", u.output_tokens),
            ("cache_creation", u.cache_creation_input_tokens),
            ("cache_read", u.cache_read_input_tokens),
        ] {
            *e.tokens.entry(kind.to_string()).or_default() += n as f64;
        }
        match prices.cost(r.model.as_deref(), &u) {
            Some(usd) => e.cost_usd += usd,
            None => e.unpriced += 1.0,
        }
        // The latest cache-using call of each (session, agent, model) holds its prefix.
        let cached = u.cache_read_input_tokens + u.cache_creation_input_tokens;
        if cached > 0 {
            prefixes.insert((&r.session_id, &r.agent_id, &r.model), cached);
        }
    }
    e.kv_bytes = (prefixes.values().sum::<u64>() * BYTES_PER_TOKEN) as f64;
    e
}

fn touch(path: &Path) {
    std::fs::write(path, "go\n").unwrap();
}

#[test]
fn prometheus_scrapes_exact_counts_and_every_dashboard_panel_has_data() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let control = dir.path().join("control");
    std::fs::create_dir(&control).unwrap();
    let metrics = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let prometheus = Prometheus::start(dir.path(), metrics);

    let py = python();
    let output = dir.path().join("agentprof.out");
    let mut agent = Killed(
        agentprof()
            .arg("run")
            .arg("--trace")
            .arg(dir.path().join("trace.jsonl"))
            .args(["--anthropic-upstream", &mock.url()])
            .args(["--openai-upstream", &mock.url()])
            .args(["--sample-interval", "50ms"])
            .args(["--prometheus", &metrics.to_string()])
            .arg("--")
            .arg(&py)
            .arg(python_script("prometheus_client.py"))
            .arg(&control)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&output).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut wait_for_client = |file: &str| {
        let what = format!("the client wrote {file}");
        prometheus.wait_until(&what, LIMIT, || {
            if let Some(status) = agent.0.try_wait().unwrap() {
                panic!(
                    "agentprof exited early ({status}): {}",
                    std::fs::read_to_string(&output).unwrap_or_default()
                );
            }
            control.join(file).exists()
        });
    };
    // The mock records a call as its response ends, so its count is re-read on every poll.
    let scraped_all_requests = || {
        prometheus.wait_until(
            "Prometheus has scraped every request the mock answered",
            LIMIT,
            || {
                // Model calls and other requests (count_tokens) are counted apart.
                prometheus
                    .scalar("sum(agentprof_requests_total) + sum(agentprof_other_requests_total)")
                    == Some(mock.records().len() as f64)
            },
        );
    };

    // Round 1, scraped; then round 2, so rates over the last minute are not zero.
    wait_for_client("round1.done");
    scraped_all_requests();
    touch(&control.join("go2"));
    wait_for_client("round2.done");
    scraped_all_requests();
    prometheus.wait_until("Prometheus has the final token counts", LIMIT, || {
        prometheus.by("type", "sum by (type) (agentprof_tokens_total)")
            == expected(&mock.records()).tokens
    });
    let records = mock.records();
    let want = expected(&records);
    assert_eq!(
        prometheus.scalar("sum(agentprof_requests_total)"),
        Some(want.requests)
    );
    assert_eq!(
        prometheus.scalar("sum(agentprof_other_requests_total)"),
        Some(want.other_requests)
    );
    assert!(want.other_requests >= 1.0, "the client counted tokens");

    // Exactly the mock's record.
    assert_eq!(prometheus.scalar("up{job=\"agentprof\"}"), Some(1.0));
    // OpenMetrics info and every category of the KV gauge came through the parser.
    assert_eq!(prometheus.scalar("count(agentprof_build_info)"), Some(1.0));
    assert_eq!(prometheus.scalar("count(agentprof_kv_bytes)"), Some(8.0));
    assert_eq!(want.tokens.len(), 4, "all four token types: {want:?}");
    assert!(want.tokens["cache_read"] > 0.0 && want.errors > 0.0 && want.unpriced > 0.0);
    assert_eq!(
        prometheus.by("status", "sum by (status) (agentprof_requests_total)"),
        want.by_status
    );
    assert_eq!(
        prometheus.scalar("sum(agentprof_request_errors_total)"),
        Some(want.errors)
    );
    assert_eq!(
        prometheus.scalar("sum(agentprof_unpriced_requests_total)"),
        Some(want.unpriced)
    );
    let cost = prometheus.scalar("sum(agentprof_cost_usd_total)").unwrap();
    assert!(
        (cost - want.cost_usd).abs() < 1e-9,
        "cost {cost} vs {}",
        want.cost_usd
    );
    assert_eq!(
        prometheus.scalar("sum(agentprof_kv_bytes)"),
        Some(want.kv_bytes)
    );
    assert_eq!(
        prometheus.scalar("sum(agentprof_request_duration_seconds_count)"),
        Some(want.requests)
    );
    assert_eq!(
        prometheus.scalar("sum(agentprof_time_to_first_token_seconds_count)"),
        Some(want.ttft_observations)
    );
    for role in ["main", "total"] {
        for gauge in ["agentprof_rss_bytes", "agentprof_pss_bytes"] {
            let value = prometheus.scalar(&format!("{gauge}{{role=\"{role}\"}}"));
            assert!(
                value.is_some_and(|v| v > 1e6),
                "{gauge}{{role={role}}} = {value:?}"
            );
        }
    }
    assert_eq!(
        prometheus.scalar("agentprof_processes{role=\"main\"}"),
        Some(1.0)
    );
    let by_category = prometheus.by("category", "sum by (category) (agentprof_requests_total)");
    let other_requests = prometheus.scalar("sum(agentprof_other_requests_total)");
    let turns = prometheus.scalar("agentprof_turns_total");

    // Every panel query of every dashboard returns data, with at least one real number.
    let queries = dashboards::panel_queries();
    assert!(!queries.is_empty());
    let mut empty = Vec::new();
    for q in &queries {
        let result = prometheus.query(&q.resolved);
        if !result.iter().any(|(_, v)| v.is_finite()) {
            empty.push(format!(
                "{} / {}: {}\n  → {result:?}",
                q.dashboard, q.panel, q.resolved
            ));
        }
    }
    assert!(
        empty.is_empty(),
        "{} of {} panel queries returned no data:\n{}",
        empty.len(),
        queries.len(),
        empty.join("\n")
    );

    // Let the client go; the trace agrees with what Prometheus saw.
    touch(&control.join("release"));
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = agent.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "agentprof run did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "agentprof run failed: {}",
        std::fs::read_to_string(&output).unwrap_or_default()
    );
    let trace = trace(dir.path());
    assert_eq!(trace.calls.len(), records.len());
    let mut trace_by_category: BTreeMap<String, f64> = BTreeMap::new();
    for call in trace.calls.iter().filter(|c| c.is_model_call()) {
        *trace_by_category
            .entry(call.category.as_str().to_string())
            .or_default() += 1.0;
    }
    assert_eq!(by_category, trace_by_category);
    // count_tokens is not a model call: counted apart, in no category.
    let trace_other = trace.calls.iter().filter(|c| !c.is_model_call()).count() as f64;
    assert!(trace_other >= 1.0, "the client counted tokens once");
    assert_eq!(other_requests, Some(trace_other));
    assert!(
        by_category.len() >= 4,
        "user_turn, subagent, memory_extraction, utility: {by_category:?}"
    );
    let trace_turns = trace.calls.iter().filter(|c| c.starts_turn).count() as f64;
    assert_eq!(turns, Some(trace_turns));
    assert_eq!(trace_turns, 2.0, "one turn per round");
}

#[test]
fn prometheus_on_a_network_address_needs_allow_remote() {
    let output = agentprof()
        .args(["run", "--prometheus", "0.0.0.0:9464", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--prometheus") && stderr.contains("--allow-remote"),
        "{stderr}"
    );
}
