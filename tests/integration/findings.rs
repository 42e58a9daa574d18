//! `report` flags a process tree whose memory grows while the agent is idle: the committed
//! demo trace with ten idle minutes appended, growing a gigabyte a minute (the rate of Claude
//! Code issue #31414), is a `memory_leak` finding, of the tree and of its process, in the JSON and the table; the demo trace
//! itself, and the same tail without growth, are none.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::support::{agentprof, report_json_of, report_json_with, stderr};

const DEMO: &str = "sample-traces/demo-6-turns.jsonl";

/// The demo trace with `seconds` of idle samples, one a second, appended after its last
/// record (footer moved to the end), RSS growing `per_minute` bytes a minute.
fn with_idle_tail(dir: &Path, seconds: u32, per_minute: u64) -> std::path::PathBuf {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO)).unwrap();
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut footer = lines.pop().unwrap();
    assert_eq!(footer["type"], "footer");
    let start = footer["t"].as_f64().unwrap();
    let pid = 4242;
    for i in 0..=seconds {
        let rss = 300 * 1024 * 1024 + u64::from(i) * per_minute / 60;
        lines.push(serde_json::json!({
            "type": "memory", "t": start + f64::from(i), "rss_bytes": rss,
            "main": {"processes": 1, "rss_bytes": rss},
            "subagent": {"processes": 0, "rss_bytes": 0},
            "other": {"processes": 0, "rss_bytes": 0},
            "processes": [{"pid": pid, "rss_bytes": rss}],
        }));
    }
    footer["t"] = (start + f64::from(seconds)).into();
    footer["samples"] = (footer["samples"].as_u64().unwrap() + u64::from(seconds) + 1).into();
    lines.push(footer);
    let path = dir.join("trace.jsonl");
    let mut file = std::fs::File::create(&path).unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
    path
}

#[test]
fn an_idle_tree_growing_a_gigabyte_a_minute_is_a_critical_memory_leak() {
    let dir = tempfile::tempdir().unwrap();
    let trace = with_idle_tail(dir.path(), 600, 1 << 30);
    let report = report_json_of(&trace);
    let findings = report["findings"].as_array().unwrap();
    // The tree, and the one process that grows in it (the demo's own processes have ended).
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert_eq!(findings[1]["where"]["scope"], "process");
    assert_eq!(findings[1]["where"]["pid"], 4242);
    let leak = &findings[0];
    assert_eq!(leak["kind"], "memory_leak");
    assert_eq!(leak["severity"], "critical");
    assert_eq!(leak["where"]["scope"], "tree");
    // 1 GiB a minute is 60 GiB an hour, to the percent.
    let rate = leak["rate"].as_f64().unwrap() / f64::from(60 << 20) / 1024.0;
    assert!((rate - 1.0).abs() < 0.01, "{leak}");
    // Judged from the end of the warm-up (two minutes into the trace).
    let since: jiff::Timestamp = leak["since"].as_str().unwrap().parse().unwrap();
    let started: jiff::Timestamp = report["source"]["started_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(since.duration_since(started).as_secs(), 120);

    let table = agentprof().arg("report").arg(&trace).output().unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("finding (critical): memory leak: the agent's process tree grew 61440 MiB/h"),
        "{text}"
    );
}

#[test]
fn the_demo_trace_and_a_flat_idle_tail_are_no_finding() {
    let demo = report_json_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO));
    assert_eq!(demo["findings"], serde_json::json!([]));
    let dir = tempfile::tempdir().unwrap();
    let flat = report_json_of(&with_idle_tail(dir.path(), 600, 0));
    assert_eq!(flat["findings"], serde_json::json!([]));
    // Slower than the absolute threshold (100 MiB/h): 1 MiB a minute is 60 MiB/h.
    let slow = report_json_of(&with_idle_tail(dir.path(), 600, 1 << 20));
    assert_eq!(slow["findings"], serde_json::json!([]));
}

#[test]
fn the_thresholds_are_flags_and_bad_values_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    // 1 MiB a minute (60 MiB/h) for ten minutes: below the default 100 MiB/h…
    let slow = with_idle_tail(dir.path(), 600, 1 << 20);
    assert_eq!(
        report_json_with(&slow, &[])["findings"],
        serde_json::json!([])
    );
    // …a leak at 50 MiB/h and 5 %/h, judged in 30 s windows after 30 s.
    let flagged = report_json_with(
        &slow,
        &[
            "--leak-min-rate",
            "50",
            "--leak-min-percent",
            "5",
            "--leak-warmup",
            "30",
            "--leak-window",
            "30",
        ],
    );
    let findings = flagged["findings"].as_array().unwrap();
    assert_eq!(findings[0]["severity"], "warning", "{findings:#?}");
    let rate = findings[0]["rate"].as_f64().unwrap() / f64::from(1 << 20);
    assert!((rate - 60.0).abs() < 0.5, "{rate}");
    // Ten minutes of a gigabyte a minute hold 8 windows of a minute after the warm-up: asking
    // for 9 in a row finds nothing.
    let fast = with_idle_tail(dir.path(), 600, 1 << 30);
    assert_eq!(
        report_json_with(&fast, &["--leak-windows", "9"])["findings"],
        serde_json::json!([])
    );
    for (flag, value) in [
        ("--leak-window", "0"),
        ("--leak-coverage", "1.5"),
        ("--leak-windows", "0"),
        ("--leak-min-rate", "-1"),
        ("--leak-warmup", "NaN"),
        ("--idle-min", "0"),
        ("--idle-min-spend", "-0.5"),
        ("--jump-window", "0"),
        ("--subagent-peak-limit", "0"),
        ("--turn-growth-min", "inf"),
    ] {
        let output = agentprof()
            .args(["report"])
            .arg(&fast)
            .arg(format!("{flag}={value}"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        let stderr = stderr(&output);
        assert!(stderr.contains(&format!("{flag} ")), "{flag}: {stderr}");
    }
}

/// `report TRACE --html DIR`: the page written.
fn html_page(trace: &Path, dir: &Path) -> String {
    let output = agentprof()
        .arg("report")
        .arg(trace)
        .arg("--html")
        .arg(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::read_to_string(dir.join("index.html")).unwrap()
}

#[test]
fn the_html_page_lists_the_findings_and_marks_the_leak_on_the_memory_chart() {
    let dir = tempfile::tempdir().unwrap();
    let trace = with_idle_tail(dir.path(), 600, 1 << 30);
    let html = html_page(&trace, &dir.path().join("html"));
    let findings = html.split("id=\"findings\"").nth(1).unwrap();
    assert!(
        findings.contains("critical · memory leak: the agent&#39;s process tree grew 61440 MiB/h"),
        "{}",
        &findings[..findings.len().min(2000)]
    );
    // The memory chart: a red line where the leak began, labelled with its rate.
    let memory = html.split("id=\"chart-memory\"").nth(1).unwrap();
    let memory = memory.split("</figure>").next().unwrap();
    assert!(memory.contains("leak: tree +61440 MiB/h"), "no leak label");
    assert!(memory.contains("#C00000"), "no leak line");
    assert!(memory.contains("memory leak from"), "no legend entry");

    // The demo's page says there is nothing to find, and draws no red line.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let html = html_page(&root.join(DEMO), &dir.path().join("demo"));
    assert!(html.contains("No findings: no memory leak while idle"));
    assert!(!html.contains("#C00000"));

    // An imported history is not judged, and the page says so rather than "no findings".
    let import = root.join("sample-traces/import-claude-code-2.1.197.jsonl");
    let html = html_page(&import, &dir.path().join("import"));
    assert!(
        html.contains("Not judged: findings are about what"),
        "no word on findings"
    );
    assert!(!html.contains("No findings:"));
}
