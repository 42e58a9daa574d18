//! Attribution against ground truth: the synthetic agent labels every call with what it really
//! is (a header only the mock reads); agentprof must reach the same category from the wire.

use std::collections::BTreeMap;

use agentprof::observation::{Category, Usage};

use crate::support::{Mock, agentprof, run_under_agentprof, stderr, trace};

fn synthetic_agent(seed: u32, turns: u32) -> Vec<String> {
    vec![
        env!("CARGO_BIN_EXE_agentprof").to_string(),
        "synthetic-agent".into(),
        "--turns".into(),
        turns.to_string(),
        "--seed".into(),
        seed.to_string(),
        "--think-ms".into(),
        "20".into(),
    ]
}

#[test]
fn every_call_gets_its_true_category_and_tokens_match_per_category() {
    for seed in [1, 2, 3] {
        let mock = Mock::start();
        let dir = tempfile::tempdir().unwrap();
        let command = synthetic_agent(seed, 6);
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let output = run_under_agentprof(&mock, dir.path(), &args);
        assert!(output.status.success(), "seed {seed}: {}", stderr(&output));

        let records = mock.records();
        let trace = trace(dir.path());
        assert_eq!(trace.calls.len(), records.len(), "seed {seed}");
        let mut truth_tokens: BTreeMap<String, Usage> = BTreeMap::new();
        for record in &records {
            let truth = record
                .truth_category
                .clone()
                .expect("synthetic agent labels every call");
            let call = trace
                .calls
                .iter()
                .find(|c| c.upstream_request_id.as_deref() == Some(&record.request_id))
                .unwrap();
            assert_eq!(
                call.category.as_str(),
                truth,
                "seed {seed}: call {} decided by {}",
                call.id,
                call.classified_by
            );
            truth_tokens
                .entry(truth)
                .or_default()
                .add(&record.usage.unwrap());
        }
        // Seven categories exercised, nothing unknown.
        assert_eq!(
            truth_tokens.len(),
            7,
            "seed {seed}: {:?}",
            truth_tokens.keys()
        );

        // The report's per-category figures equal the truth, to the token.
        let report = agentprof()
            .args(["report", "--json"])
            .arg(dir.path().join("trace.jsonl"))
            .output()
            .unwrap();
        assert!(report.status.success(), "{}", stderr(&report));
        let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
        crate::support::assert_categories_equal(&report, &truth_tokens);
        assert_eq!(report["categories"]["unknown"]["requests"], 0);
        assert_eq!(
            report["turns"].as_array().unwrap().len(),
            6,
            "seed {seed}: one turn per prompt"
        );
        assert!(report["overhead_ratio"]["tokens"].as_f64().unwrap() > 0.0);
        assert!(
            report["totals"]["cost_usd"].as_f64().unwrap() > 0.0,
            "known models are priced"
        );
        assert!(report["kv"]["byte_seconds"].as_f64().unwrap() > 0.0);
        // Timing-dependent figures: only that they were computed (values are checked in unit tests).
        assert!(
            report["memory"]["growth_per_turn_bytes"].is_f64(),
            "seed {seed}"
        );
        assert!(
            report["memory"]["peak_rss_bytes"].as_u64().unwrap() > 20 << 20,
            "the agent's retained memory was sampled"
        );
    }
}

#[test]
fn report_json_has_every_field_of_the_spec() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/demo-6-turns.jsonl");
    let output = agentprof()
        .args(["report", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["schema"], "agentprof.report/v1");
    for key in [
        "source",
        "totals",
        "categories",
        "models",
        "sessions",
        "subagent_types",
        "overhead_ratio",
        "turns",
        "memory",
        "kv",
    ] {
        assert!(report.get(key).is_some(), "missing {key}");
    }
    for key in ["traces", "started_at", "ended_at", "duration_s"] {
        assert!(report["source"].get(key).is_some(), "missing source.{key}");
    }
    let usage_keys = [
        "requests",
        "errors",
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "cost_usd",
    ];
    for category in Category::ALL {
        for key in usage_keys {
            assert!(
                report["categories"][category.as_str()].get(key).is_some(),
                "{category}.{key}"
            );
        }
    }
    let turn = &report["turns"][0];
    for key in [
        "index",
        "session",
        "started_at",
        "user",
        "overhead",
        "by_category",
        "rss_growth_bytes",
    ] {
        assert!(turn.get(key).is_some(), "missing turns[].{key}");
    }
    for key in [
        "samples",
        "peak_rss_bytes",
        "p50_rss_bytes",
        "p95_rss_bytes",
        "p99_rss_bytes",
        "peak_pss_bytes",
        "growth_per_turn_bytes",
        "idle_growth_bytes_per_hour",
        "by_category_growth_bytes",
    ] {
        assert!(report["memory"].get(key).is_some(), "missing memory.{key}");
    }
    assert_eq!(report["kv"]["profile"], "llama-3.1-405b");
    assert_eq!(report["kv"]["bytes_per_token"], 516096);
    for key in ["peak_bytes", "byte_seconds", "by_category_byte_seconds"] {
        assert!(report["kv"].get(key).is_some(), "missing kv.{key}");
    }
    // Another profile recomputes from the same trace: byte-seconds scale with bytes per token.
    let output = agentprof()
        .args(["report", "--json", "--kv-profile", "llama-3.1-8b"])
        .arg(&path)
        .output()
        .unwrap();
    let small: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(small["kv"]["bytes_per_token"], 131072);
    let ratio = report["kv"]["byte_seconds"].as_f64().unwrap()
        / small["kv"]["byte_seconds"].as_f64().unwrap();
    assert!((ratio - 516096.0 / 131072.0).abs() < 1e-9, "{ratio}");
}

#[test]
fn unknown_model_costs_null_not_zero() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let script = "curl -s -o /dev/null --data '{\"model\":\"mystery-model-9\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}' \"$ANTHROPIC_BASE_URL/v1/messages\"";
    let output = run_under_agentprof(&mock, dir.path(), &["sh", "-c", script]);
    assert!(output.status.success());
    let report = agentprof()
        .args(["report", "--json"])
        .arg(dir.path().join("trace.jsonl"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert!(report["totals"]["cost_usd"].is_null());
    assert!(report["categories"]["user_turn"]["cost_usd"].is_null());
    assert_eq!(
        report["categories"]["subagent"]["cost_usd"], 0.0,
        "an empty bucket costs exactly 0"
    );
    assert!(report["warnings"].to_string().contains("mystery-model-9"));
}

#[test]
fn bad_rules_file_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("my-rules.toml");
    std::fs::write(&rules, "[[rule]]\nname = \"x\"\ncategory = \"overheads\"\n").unwrap();
    let output = agentprof()
        .args(["run", "--rules"])
        .arg(&rules)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("my-rules.toml:3:") && message.contains("unknown category"),
        "{message}"
    );
}

#[test]
fn bad_prices_and_profile_are_usage_errors() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/demo-6-turns.jsonl");
    let output = agentprof()
        .args(["report", "--kv-profile", "gpt-17"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("llama-3.1-405b"),
        "lists valid profiles"
    );
    let dir = tempfile::tempdir().unwrap();
    let prices = dir.path().join("prices.toml");
    std::fs::write(
        &prices,
        "[[model]]\nid = \"x\"\nprovider = \"anthropic\"\ninput = -1.0\noutput = 1.0\n",
    )
    .unwrap();
    let output = agentprof()
        .args(["report", "--prices"])
        .arg(&prices)
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("prices.toml:"),
        "{}",
        stderr(&output)
    );
}

/// A connectivity probe, a model listing and a refused path beside one model call: the report
/// counts the three apart — in no category, turn or total — in its JSON, its table, its HTML
/// page and `run`'s summary, with the refused one as an error of its own.
#[test]
fn requests_that_are_not_model_calls_are_counted_apart_everywhere() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let script = "curl -s -o /dev/null -I \"$ANTHROPIC_BASE_URL/api/hello\" \
        && curl -s -o /dev/null -H 'anthropic-version: 2023-06-01' \"$ANTHROPIC_BASE_URL/v1/models?limit=5\" \
        && curl -s -o /dev/null \"$ANTHROPIC_BASE_URL/api/nowhere\" \
        && curl -s -o /dev/null --data '{\"model\":\"claude-opus-5-5\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}' \"$ANTHROPIC_BASE_URL/v1/messages\"";
    let output = run_under_agentprof(&mock, dir.path(), &["sh", "-c", script]);
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = stderr(&output);
    assert!(
        summary.contains("agentprof: 1 model calls (0 errors)")
            && summary.contains("agentprof: other requests (not model calls): 3 (errors 1)"),
        "{summary}"
    );
    assert_eq!(mock.records().len(), 4, "the mock answered all four");

    let trace_path = dir.path().join("trace.jsonl");
    let json = agentprof()
        .args(["report", "--json"])
        .arg(&trace_path)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["totals"]["requests"], 1);
    assert_eq!(report["totals"]["errors"], 0);
    assert_eq!(report["categories"]["utility"]["requests"], 0);
    assert_eq!(report["categories"]["user_turn"]["requests"], 1);
    assert!(
        report["models"].get("(none)").is_none(),
        "{}",
        report["models"]
    );
    let other = &report["other_requests"];
    assert_eq!(
        other,
        &serde_json::json!({
            "requests": 3, "errors": 1,
            "by_path": {"HEAD /api/hello": 1, "GET /v1/models": 1, "GET /api/nowhere": 1},
            "errors_by_path": {"GET /api/nowhere": 1}
        })
    );
    assert_eq!(report["turns"].as_array().unwrap().len(), 1);
    assert_eq!(report["turns"][0]["user"]["requests"], 1);

    let line = "Other requests (not model calls, in no category): 3 (errors 1):";
    let table = agentprof().arg("report").arg(&trace_path).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains(line), "{table}");
    assert!(table.contains("GET /api/nowhere 1 (1 error)"), "{table}");
    let html_dir = dir.path().join("html");
    let html = agentprof()
        .arg("report")
        .arg(&trace_path)
        .arg("--html")
        .arg(&html_dir)
        .output()
        .unwrap();
    assert!(html.status.success(), "{}", stderr(&html));
    let page = std::fs::read_to_string(html_dir.join("index.html")).unwrap();
    assert!(page.contains(line), "the HTML page has the line");
}
