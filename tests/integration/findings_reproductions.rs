//! The leaks users report, reproduced by the synthetic agent under a real `agentprof run`
//! (the sampler reading its real RSS every 50 ms, calls through the proxy to the mock), each
//! flagged within a stated time — and the same runs without the fault flag nothing.
//!
//! Time is compressed: a window of a second stands for the default minute. A trace compressed
//! c times with every threshold scaled by c (times / c, rates × c) gets the verdict the real
//! trace would get with the defaults.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{LEAK_IN_SECONDS, Mock, report_json_with, run_under_agentprof, stderr};

/// `agentprof run` of the synthetic agent with `args`; the trace's path.
fn run_synthetic(dir: &Path, args: &[&str]) -> PathBuf {
    let mock = Mock::start();
    let exe = env!("CARGO_BIN_EXE_agentprof");
    let mut command = vec![exe, "synthetic-agent", "--think-ms", "0"];
    command.extend_from_slice(args);
    let output = run_under_agentprof(&mock, dir, &command);
    assert!(output.status.success(), "{}", stderr(&output));
    dir.join("trace.jsonl")
}

/// One turn, then `linger_ms` idle retaining `mib_per_min`.
fn idle_leak(dir: &Path, mib_per_min: &str, linger_ms: &str) -> PathBuf {
    run_synthetic(
        dir,
        &[
            "--turns",
            "1",
            "--idle-leak-mib-per-min",
            mib_per_min,
            "--linger-ms",
            linger_ms,
        ],
    )
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().unwrap()
}

fn of_kind<'a>(report: &'a Value, kind: &str, scope: &str) -> Option<&'a Value> {
    findings(report)
        .iter()
        .find(|f| f["kind"] == kind && f["where"]["scope"] == scope)
}

/// Seconds from the trace's start to a finding's `since`.
fn since_s(report: &Value, finding: &Value) -> f64 {
    let at = |v: &Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let since = at(&finding["since"]);
    let started = at(&report["source"]["started_at"]);
    since.duration_since(started).as_secs_f64()
}

const MIB: f64 = 1024.0 * 1024.0;

#[test]
fn a_gigabyte_a_minute_while_idle_is_flagged_within_six_seconds_of_windows() {
    // claude-code#31414: an idle session growing ≈ 1 GB a minute, at that very rate.
    let dir = tempfile::tempdir().unwrap();
    let report = report_json_with(&idle_leak(dir.path(), "1024", "9000"), &LEAK_IN_SECONDS);
    let tree = of_kind(&report, "memory_leak", "tree")
        .unwrap_or_else(|| panic!("no tree leak: {:#?}", findings(&report)));
    assert_eq!(tree["severity"], "critical");
    // Within a factor of two of the rate retained (allocator and page-cache slack aside).
    let mib_per_min = tree["rate"].as_f64().unwrap() / 60.0 / MIB;
    assert!((512.0..2048.0).contains(&mib_per_min), "{mib_per_min}");
    // Flagged from the first window after the warm-up (and the turn): judged over the next 5 s.
    assert!(since_s(&report, tree) <= 3.0, "{tree:#}");
    // A tree of one process: the tree's finding says it, once.
    assert_eq!(findings(&report).len(), 1, "{:#?}", findings(&report));

    // The same idle time retaining nothing: no finding (the run's idle growth is a few MiB/h).
    let dir = tempfile::tempdir().unwrap();
    let quiet = report_json_with(&idle_leak(dir.path(), "0", "9000"), &LEAK_IN_SECONDS);
    assert_eq!(
        quiet["findings"],
        serde_json::json!([]),
        "{:#}",
        quiet["memory"]
    );
}

#[test]
fn fifteen_gigabytes_over_eighteen_idle_hours_compressed_sixty_times_is_flagged() {
    // claude-code#18859: 15 GB over 18 idle hours is 14.2 MiB a minute. Compressed 60 times,
    // 853 MiB a minute judged with every default scaled by 60: windows of 1 s after 2 s, and
    // 100 MiB/h and 10 %/h become 6 000 MiB/h and 600 %/h.
    let per_minute: f64 = 15.0 * 1024.0 / (18.0 * 60.0);
    let compressed = (per_minute * 60.0).round().to_string();
    let dir = tempfile::tempdir().unwrap();
    let trace = idle_leak(dir.path(), &compressed, "9000");
    let scaled = [
        "--leak-warmup",
        "2",
        "--leak-window",
        "1",
        "--leak-windows",
        "5",
        "--leak-min-rate",
        "6000",
        "--leak-min-percent",
        "600",
    ];
    let report = report_json_with(&trace, &scaled);
    let tree = of_kind(&report, "memory_leak", "tree")
        .unwrap_or_else(|| panic!("no tree leak: {:#?}", findings(&report)));
    // Uncompressed, the rate found is the reported one within a factor of two: 853 MiB/h.
    let real_mib_per_hour = tree["rate"].as_f64().unwrap() / 60.0 / MIB;
    assert!(
        (per_minute * 30.0..per_minute * 120.0).contains(&real_mib_per_hour),
        "{real_mib_per_hour} MiB/h"
    );
    // Flagged 7 windows into the trace: 7 minutes with the real defaults.
    assert!(since_s(&report, tree) <= 4.0, "{tree:#}");
}

#[test]
fn a_ballooning_sub_agent_process_is_flagged_and_a_normal_one_is_not() {
    // Two turns: the second spawns a sub-agent process, retaining 300 MiB more as it works.
    let dir = tempfile::tempdir().unwrap();
    let trace = run_synthetic(
        dir.path(),
        &["--turns", "2", "--subagent-balloon-mib", "300"],
    );
    let limit = ["--subagent-peak-limit", "200"];
    let report = report_json_with(&trace, &limit);
    let peak = of_kind(&report, "subagent_peak", "process")
        .unwrap_or_else(|| panic!("no sub-agent peak: {:#?}", findings(&report)));
    assert_eq!(peak["where"]["role"], "subagent");
    let peak_mib = peak["rate"].as_f64().unwrap() / MIB;
    assert!((300.0..600.0).contains(&peak_mib), "{peak_mib} MiB");
    assert_eq!(peak["rate_unit"], "bytes");
    // The default limit (2 GiB) is far above it.
    assert_eq!(
        report_json_with(&trace, &[])["findings"],
        serde_json::json!([])
    );

    let dir = tempfile::tempdir().unwrap();
    let normal = run_synthetic(dir.path(), &["--turns", "2"]);
    let report = report_json_with(&normal, &limit);
    assert_eq!(
        report["findings"],
        serde_json::json!([]),
        "{:#}",
        report["memory"]
    );
    // It did run a sub-agent: its calls are there (a process living a few milliseconds may
    // fall between two samples, so its memory may not be).
    assert!(
        report["categories"]["subagent"]["requests"]
            .as_u64()
            .unwrap()
            > 0
    );
}

/// One turn, then 9 idle seconds retaining nothing.
const IDLE: [&str; 6] = [
    "--turns",
    "1",
    "--idle-leak-mib-per-min",
    "0",
    "--linger-ms",
    "9000",
];

#[test]
fn an_idle_session_re_reading_its_cache_is_idle_spend_in_dollars() {
    // claude-code#83095: an idle session billing cache reads. After one turn, an away summary
    // re-reads the whole prefix every second for 9 s.
    let dir = tempfile::tempdir().unwrap();
    let trace = run_synthetic(
        dir.path(),
        &[&IDLE[..], &["--idle-call-every-ms", "1000"]].concat(),
    );
    // Judged after 5 idle seconds, the turn's calls being those within 0.5 s of a user turn.
    let flags = ["--idle-min", "5", "--idle-grace", "0.5"];
    let report = report_json_with(&trace, &flags);
    let idle = of_kind(&report, "idle_spend", "trace")
        .unwrap_or_else(|| panic!("no idle spend: {:#?}", findings(&report)));
    // Every away summary was idle, and nothing else was: the finding's dollars are theirs.
    let away = &report["categories"]["away_summary"];
    assert_eq!(away["requests"], 8, "{away:#}");
    let usd = idle["cost_usd"].as_f64().unwrap();
    assert!(
        (usd - away["cost_usd"].as_f64().unwrap()).abs() < 1e-9,
        "{idle:#}"
    );
    assert!(
        idle["detail"]
            .as_str()
            .unwrap()
            .starts_with("8 calls while the user was idle (away_summary 8)"),
        "{idle:#}"
    );
    assert_eq!(idle["rate_unit"], "usd_per_idle_hour");
    // Per idle hour, the trace being under 10 s.
    assert!(
        idle["rate"].as_f64().unwrap() > usd * 3600.0 / 10.0,
        "{idle:#}"
    );

    // The same idle time without calls: nothing spent, no finding.
    let dir = tempfile::tempdir().unwrap();
    let quiet = run_synthetic(dir.path(), &IDLE);
    assert_eq!(
        report_json_with(&quiet, &flags)["findings"],
        serde_json::json!([])
    );
}
