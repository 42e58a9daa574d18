//! `agentprof simulate` as users run it: presets, JSON, overrides, sweeps, errors, and
//! calibration against a demo trace the binary itself records.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::{agentprof, stderr};

const CATEGORIES: [&str; 8] = [
    "user_turn",
    "subagent",
    "memory_extraction",
    "dream",
    "away_summary",
    "compaction",
    "utility",
    "unknown",
];

/// Small enough to run in a debug build in well under a second.
const SMALL: [&str; 4] = ["--set", "sessions=4", "--set", "days=1"];

fn simulate(args: &[&str]) -> Output {
    agentprof().arg("simulate").args(args).output().unwrap()
}

fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let output = simulate(&all);
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    assert!(
        output.stderr.is_empty(),
        "nothing but JSON, and nothing on stderr when it is not a terminal: {}",
        stderr(&output)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

fn expect_usage_error(args: &[&str], needles: &[&str]) {
    let output = simulate(args);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{args:?}: {}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty(), "{args:?}: nothing on stdout");
    let message = stderr(&output);
    for needle in needles {
        assert!(
            message.contains(needle),
            "{args:?}: {needle:?} not in {message:?}"
        );
    }
}

fn assert_run_shape(run: &Value) {
    for key in ["name", "params", "per_user_day", "server_kv", "client_ram"] {
        assert!(run.get(key).is_some(), "run has no {key}");
    }
    let day = &run["per_user_day"];
    for category in CATEGORIES {
        assert!(day["tokens"][category].is_u64(), "tokens.{category}");
        assert!(day["cost_usd"][category].is_f64(), "cost_usd.{category}");
    }
    let kv = &run["server_kv"];
    assert!(kv["profile"].is_string());
    assert!(kv["peak_bytes"].as_u64().unwrap() >= kv["mean_bytes"].as_u64().unwrap());
    assert!(kv["gib_hours"].as_f64().unwrap() > 0.0);
    let ram = &run["client_ram"];
    let q: Vec<u64> = ["p50_bytes", "p95_bytes", "p99_bytes", "max_bytes"]
        .iter()
        .map(|k| ram[k].as_u64().unwrap())
        .collect();
    assert!(q[0] > 0 && q.windows(2).all(|w| w[0] <= w[1]), "{q:?}");
    let gib = run["recommended_workstation_ram_gib"].as_u64().unwrap();
    assert!([8, 16, 24, 32, 48, 64, 96, 128, 192, 256].contains(&gib) || gib.is_multiple_of(128));
}

#[test]
fn every_preset_gives_the_spec_json() {
    for preset in [
        "today-200k",
        "1m-context",
        "swarm",
        "daemon",
        "seed-workstation",
    ] {
        let mut args = vec!["--preset", preset];
        args.extend(SMALL);
        let doc = json(&args);
        assert_eq!(doc["schema"], "agentprof.simulation/v1");
        let runs = doc["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0]["name"], preset);
        assert_run_shape(&runs[0]);
        assert!(
            doc.get("validation").is_none(),
            "no validation without --calibrate"
        );
    }
}

#[test]
fn the_default_is_today_and_the_table_says_what_it_assumes() {
    let output = simulate(&SMALL);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "today-200k",
        "Per developer-day",
        "memory_extraction",
        "Server KV cache",
        "llama-3.1-405b",
        "Recommended workstation RAM",
        "assumption: prices",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

#[test]
fn the_same_seed_prints_the_same_bytes_on_any_number_of_threads() {
    let run = |seed: &str, threads: &str| {
        let mut args = vec![
            "simulate",
            "--preset",
            "seed-workstation",
            "--json",
            "--set",
            seed,
        ];
        args.extend(["--set", "sessions=12", "--set", "days=2"]);
        let output = agentprof()
            .args(&args)
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        output.stdout
    };
    let first = run("seed=11", "2");
    assert_eq!(first, run("seed=11", "2"));
    assert_eq!(
        first,
        run("seed=11", "1"),
        "one thread or two, the same bytes"
    );
    assert_eq!(first, run("seed=11", "3"));
    assert_ne!(first, run("seed=12", "2"));
}

#[test]
fn set_overrides_reach_the_params() {
    let mut args = vec![
        "--set",
        "context_window=1000000",
        "--set",
        "agents=2",
        "--set",
        "extraction=false",
        "--set",
        "dream=false",
        "--set",
        "daemon=true",
        "--set",
        "kv_profile=deepseek-v3",
        "--set",
        "seed=3",
    ];
    args.extend(SMALL);
    let doc = json(&args);
    let run = &doc["runs"][0];
    let p = &run["params"];
    assert_eq!(p["model"]["context_window"], 1_000_000);
    assert_eq!(p["agents"], 2);
    assert_eq!(p["extraction"]["enabled"], false);
    assert_eq!(p["dream"]["enabled"], false);
    assert_eq!(p["daemon"], true);
    assert_eq!(p["seed"], 3);
    assert_eq!(p["sessions"], 4);
    assert_eq!(run["developers"], 2);
    assert_eq!(run["server_kv"]["profile"], "deepseek-v3");
    assert_eq!(run["server_kv"]["bytes_per_token"], 70_272);
    assert_eq!(run["per_user_day"]["tokens"]["memory_extraction"], 0);
}

#[test]
fn a_sweep_runs_every_point_and_compares_them() {
    let mut args = vec![
        "--sweep",
        "context_window=200000,1000000",
        "--sweep",
        "extraction=true,false",
    ];
    args.extend(SMALL);
    let doc = json(&args);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    assert_eq!(runs[3]["sweep"]["model.context_window"], "1000000");
    assert_eq!(runs[3]["sweep"]["extraction.enabled"], "false");
    assert_eq!(runs[3]["params"]["model"]["context_window"], 1_000_000);
    let with = runs[0]["per_user_day"]["tokens"]["memory_extraction"].as_u64();
    let without = runs[1]["per_user_day"]["tokens"]["memory_extraction"].as_u64();
    assert!(with.unwrap() > 0 && without == Some(0));

    let output = simulate(&[
        "--sweep",
        "cache_ttl=5m,1h",
        "--set",
        "sessions=2",
        "--set",
        "days=1",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Sweep comparison") && text.contains("model.cache_ttl"),
        "{text}"
    );
}

#[test]
fn bad_input_is_a_usage_error_naming_what_is_wrong() {
    expect_usage_error(
        &["--preset", "tomorrow"],
        &["tomorrow", "today-200k", "swarm"],
    );
    expect_usage_error(&["--set", "sesions=3"], &["--set sesions=3", "unknown key"]);
    expect_usage_error(
        &["--set", "extraction=maybe"],
        &["extraction.enabled", "true or false"],
    );
    expect_usage_error(&["--set", "days=-1"], &["days"]);
    expect_usage_error(
        &["--set", "kv_profile=gpt-9"],
        &["kv_profile", "llama-3.1-405b"],
    );
    expect_usage_error(&["--sweep", "days"], &["--sweep days", "KEY=V1,V2"]);
    expect_usage_error(&["--html", "/dev/null"], &["/dev/null", "not a directory"]);
    expect_usage_error(
        &["--scenario", "/nonexistent/s.toml"],
        &["/nonexistent/s.toml"],
    );
    expect_usage_error(
        &["--calibrate", "/nonexistent/t.jsonl"],
        &["/nonexistent/t.jsonl"],
    );
    expect_usage_error(
        &["--preset", "swarm", "--scenario", "x.toml"],
        &["--scenario", "--preset"],
    );
}

#[test]
fn a_scenario_file_is_read_and_its_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("team.toml");
    std::fs::write(
        &good,
        "description = \"our team\"\nsessions = 3\ndays = 1\n[turn]\ntool_calls = 4.0\n",
    )
    .unwrap();
    let doc = json(&["--scenario", good.to_str().unwrap()]);
    assert_eq!(doc["runs"][0]["name"], "team");
    assert_eq!(doc["runs"][0]["params"]["turn"]["tool_calls"], 4.0);

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "sessions = 3\n[turn]\ntool_calls = \"many\"\n").unwrap();
    expect_usage_error(&["--scenario", bad.to_str().unwrap()], &["bad.toml:3:"]);
    std::fs::write(&bad, "sessions = 3\n[turns]\ntool_calls = 2.0\n").unwrap();
    expect_usage_error(
        &["--scenario", bad.to_str().unwrap()],
        &["bad.toml:2:", "turns"],
    );
    std::fs::write(&bad, "sessions = 3\n\n[model]\ncache_hit_rate = 3.0\n").unwrap();
    expect_usage_error(
        &["--scenario", bad.to_str().unwrap()],
        &["bad.toml:4:", "cache_hit_rate"],
    );
}

fn calibrate(trace: &Path) -> Value {
    json(&[
        "--calibrate",
        trace.to_str().unwrap(),
        "--set",
        "sessions=1",
        "--set",
        "days=0.01",
        "--set",
        "interactive.start_hour=0",
    ])
}

fn assert_within_5_percent(doc: &Value) {
    let v = &doc["validation"];
    for key in [
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "peak_rss_bytes",
    ] {
        let trace = v["trace"][key].as_f64().unwrap();
        let simulated = v["simulated"][key].as_f64().unwrap();
        let error = (simulated - trace).abs() / trace;
        assert!(
            error <= 0.05,
            "{key}: trace {trace}, simulated {simulated} ({:.2} %)",
            error * 100.0
        );
    }
    assert!(v["max_relative_error"].as_f64().unwrap() <= 0.05, "{v}");
    assert!(v["trace"]["requests"].as_u64().unwrap() > 0);
    assert!(
        doc["calibration"]["fitted"]["model.system_tokens"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}

#[test]
fn calibrating_on_a_fresh_demo_trace_reproduces_it_within_5_percent() {
    let dir = tempfile::tempdir().unwrap();
    // The simulator models one Claude Code-like agent: calibrate it on that agent alone.
    let demo = agentprof()
        .args(["demo", "--agent", "claude-code", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(demo.status.success(), "demo failed: {}", stderr(&demo));
    assert_within_5_percent(&calibrate(&dir.path().join("trace.jsonl")));
}

#[test]
fn calibrating_on_the_committed_demo_trace_reproduces_it_within_5_percent() {
    let trace = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/demo-6-turns.jsonl");
    let doc = calibrate(&trace);
    assert_within_5_percent(&doc);
    assert_eq!(doc["validation"]["trace"]["requests"], 42);
}
