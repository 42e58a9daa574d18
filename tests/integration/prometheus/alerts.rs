//! The shipped alerting rules (`dashboards/alerts.yml`): valid for promtool, passing their own
//! unit tests (`dashboards/alerts.test.yml`), loaded by the shipped Prometheus config, and
//! `AgentprofMemoryLeak` fired by a real Prometheus scraping a real `agentprof run` of the
//! synthetic agent leaking 600 MiB a minute while idle (and `AgentprofFinding` for its idle
//! spend: it re-reads its cache every idle second) — and neither by the same run without a
//! leak or idle calls, scraped by the same Prometheus at the same time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::harness::{Killed, Prometheus, free_port, get, promtool, repo_file};
use crate::support::{LEAK_IN_SECONDS, Mock, agentprof};

/// `promtool ARGS` in the repository root: must succeed; its output, for the record.
fn promtool_ok(args: &[&str]) -> String {
    let output = Command::new(promtool())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

#[test]
fn prometheus_alerting_rules_pass_promtool_check_and_their_unit_tests() {
    let rules = promtool_ok(&["check", "rules", "dashboards/alerts.yml"]);
    assert!(rules.contains("SUCCESS: 6 rules found"), "{rules}");
    // The shipped config loads them (a relative path, next to it).
    let config = promtool_ok(&["check", "config", "dashboards/prometheus.yml"]);
    assert!(config.contains("SUCCESS: 1 rule files found"), "{config}");
    let tests = promtool_ok(&["test", "rules", "dashboards/alerts.test.yml"]);
    assert!(tests.contains("SUCCESS"), "{tests}");
    // Every alert has a unit test that expects it to fire.
    let shipped = repo_file("dashboards/alerts.yml");
    let unit_tests = repo_file("dashboards/alerts.test.yml");
    for line in shipped.lines() {
        if let Some(name) = line.trim().strip_prefix("- alert: ") {
            assert!(
                unit_tests.contains(&format!(
                    "alertname: {name}\n        exp_alerts:\n          - "
                )),
                "{name} has no unit test in which it fires"
            );
        }
    }
}

/// `alerts` with every `for:` duration set to 1 s. Only durations change: the expressions,
/// labels and annotations are the shipped ones. (A minute of `for:` would be a minute of test.)
fn with_short_for(alerts: &str) -> String {
    let mut changed = 0;
    let text: Vec<String> = alerts
        .lines()
        .map(|line| match line.split_once("for: ") {
            Some((indent, _)) if indent.trim().is_empty() => {
                changed += 1;
                format!("{indent}for: 1s")
            }
            _ => line.to_string(),
        })
        .collect();
    assert!(changed >= 1, "no `for:` in alerts.yml");
    text.join("\n") + "\n"
}

/// The synthetic agent stays this long after its one turn: long enough for the finding (about
/// 7 s of idle time), an evaluation (every 5 s), a scrape and a rule evaluation (every 1 s).
const LINGER_MS: &str = "25000";

/// Idle spend judged after 5 idle seconds, a turn's calls being those within 0.5 s of it.
const IDLE: [&str; 4] = ["--idle-min", "5", "--idle-grace", "0.5"];

/// `agentprof run --prometheus metrics` of the synthetic agent retaining `mib_per_min` while
/// idle, and making an away summary every second when `idle_calls`, its trace and log in `dir`.
fn start_run(
    mock: &Mock,
    dir: &Path,
    metrics: SocketAddr,
    mib_per_min: &str,
    idle_calls: bool,
) -> Killed {
    let exe = env!("CARGO_BIN_EXE_agentprof");
    Killed(
        agentprof()
            .arg("run")
            .arg("--trace")
            .arg(dir.join("trace.jsonl"))
            .args(["--anthropic-upstream", &mock.url()])
            .args(["--sample-interval", "50ms"])
            .args(["--prometheus", &metrics.to_string()])
            .args(LEAK_IN_SECONDS)
            .args(IDLE)
            .arg("--")
            .args([exe, "synthetic-agent", "--turns", "1", "--think-ms", "0"])
            .args(["--idle-leak-mib-per-min", mib_per_min])
            .args(["--linger-ms", LINGER_MS])
            .args(
                idle_calls
                    .then_some(["--idle-call-every-ms", "1000"])
                    .into_iter()
                    .flatten(),
            )
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("agentprof.err")).unwrap())
            .spawn()
            .unwrap(),
    )
}

fn finished(run: &mut Killed, dir: &Path) -> bool {
    match run.0.try_wait().unwrap() {
        None => false,
        Some(status) => {
            assert!(
                status.success(),
                "agentprof run failed ({status}): {}",
                std::fs::read_to_string(dir.join("agentprof.err")).unwrap_or_default()
            );
            true
        }
    }
}

fn dir_in(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir(&dir).unwrap();
    dir
}

#[test]
fn prometheus_fires_memory_leak_and_idle_spend_alerts_for_a_faulty_run_and_not_for_a_quiet_one() {
    let started = Instant::now();
    let mock = Mock::start();
    let root = tempfile::tempdir().unwrap();
    let (leaky_dir, quiet_dir) = (dir_in(root.path(), "leaky"), dir_in(root.path(), "quiet"));
    let leaky = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let quiet = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let prometheus = Prometheus::start_with(
        &dir_in(root.path(), "prometheus"),
        &[leaky, quiet],
        &with_short_for(&repo_file("dashboards/alerts.yml")),
    );
    // The shipped config loaded the rules.
    let (status, rules) = get(prometheus.addr, "/api/v1/rules").unwrap();
    assert_eq!(status, 200, "{rules}");
    let rules: Value = serde_json::from_str(&rules).unwrap();
    let groups = rules["data"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{rules}");
    assert_eq!(groups[0]["name"], "agentprof");
    assert_eq!(groups[0]["rules"].as_array().unwrap().len(), 6);

    let mut leaking = start_run(&mock, &leaky_dir, leaky, "600", true);
    let mut quiet_run = start_run(&mock, &quiet_dir, quiet, "0", false);
    let alert = |instance: SocketAddr, state: &str| {
        format!(
            "ALERTS{{alertname=\"AgentprofMemoryLeak\",instance=\"{instance}\",alertstate=\"{state}\"}}"
        )
    };

    // Firing while the leaking run is still going (once it ends, its series go stale).
    let deadline = Instant::now() + Duration::from_secs(45);
    let firing = loop {
        let firing = prometheus.query(&alert(leaky, "firing"));
        if !firing.is_empty() {
            break firing;
        }
        assert!(
            !finished(&mut leaking, &leaky_dir) && Instant::now() < deadline,
            "AgentprofMemoryLeak did not fire while the leaking run lasted; its findings: {:?}, \
             idle growth: {:?}",
            prometheus.query(&format!("agentprof_findings{{instance=\"{leaky}\"}}")),
            prometheus.query(&format!(
                "agentprof_idle_memory_growth_bytes_per_hour{{instance=\"{leaky}\"}}"
            )),
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let fired_after = started.elapsed();
    // The tree (the agent's process too, perhaps: one alert per scope), critical: 600 MiB a
    // minute is 35 GiB an hour.
    let tree = firing
        .iter()
        .map(|(labels, _)| labels)
        .find(|labels| labels["scope"] == "tree")
        .unwrap_or_else(|| panic!("no alert for the tree: {firing:?}"));
    assert_eq!(tree["severity"], "critical", "{tree}");
    assert_eq!(tree["job"], "agentprof");
    let rate = prometheus
        .scalar(&format!(
            "agentprof_memory_leak_bytes_per_hour{{instance=\"{leaky}\",scope=\"tree\"}}"
        ))
        .unwrap();
    let mib_per_min = rate / 60.0 / f64::from(1 << 20);
    assert!(
        (300.0..1200.0).contains(&mib_per_min),
        "{mib_per_min} MiB/min"
    );
    // The annotations were rendered with that rate, through Prometheus' own API.
    let (_, alerts) = get(prometheus.addr, "/api/v1/alerts").unwrap();
    let alerts: Value = serde_json::from_str(&alerts).unwrap();
    let summaries: Vec<&str> = alerts["data"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["labels"]["alertname"] == "AgentprofMemoryLeak")
        .filter_map(|a| a["annotations"]["summary"].as_str())
        .collect();
    assert!(
        summaries
            .iter()
            .any(|s| s.contains("(tree) grows while idle") && s.contains("GiB/h")),
        "{summaries:?}"
    );

    // The leaking run also re-reads its cache every idle second: idle spend, a finding of
    // another kind, fires AgentprofFinding with its kind.
    let spend = format!(
        "ALERTS{{alertname=\"AgentprofFinding\",instance=\"{leaky}\",kind=\"idle_spend\",alertstate=\"firing\"}}"
    );
    while prometheus.query(&spend).is_empty() {
        assert!(
            !finished(&mut leaking, &leaky_dir) && Instant::now() < deadline,
            "AgentprofFinding did not fire for idle spend; findings: {:?}",
            prometheus.query(&format!("agentprof_findings{{instance=\"{leaky}\"}}")),
        );
        std::thread::sleep(Duration::from_millis(250));
    }

    // Both runs to their end; the quiet one never had a finding nor an alert, pending or
    // firing, in all that time (it was scraped: its idle growth is known and small).
    let deadline = Instant::now() + Duration::from_secs(45);
    while !(finished(&mut leaking, &leaky_dir) & finished(&mut quiet_run, &quiet_dir)) {
        assert!(Instant::now() < deadline, "the runs did not end");
        std::thread::sleep(Duration::from_millis(100));
    }
    let window = format!("{}s", started.elapsed().as_secs() + 5);
    for state in ["pending", "firing"] {
        let ever = format!("count_over_time({}[{window}])", alert(quiet, state));
        assert_eq!(prometheus.query(&ever), vec![], "{ever}");
    }
    let findings = format!("max_over_time(agentprof_findings{{instance=\"{quiet}\"}}[{window}])");
    let quiet_findings = prometheus.query(&findings);
    assert_eq!(
        quiet_findings.len(),
        4,
        "every memory leak series: {quiet_findings:?}"
    );
    assert!(
        quiet_findings.iter().all(|(_, v)| *v == 0.0),
        "{quiet_findings:?}"
    );
    let idle = prometheus
        .scalar(&format!(
            "max_over_time(agentprof_idle_memory_growth_bytes_per_hour{{instance=\"{quiet}\"}}[{window}])"
        ))
        .expect("the quiet run's idle growth was scraped");
    assert!(idle < 100.0 * f64::from(1 << 20), "{idle} B/h");

    // The report of each trace, with the same thresholds, agrees with the alert.
    for (dir, leaks) in [(&leaky_dir, true), (&quiet_dir, false)] {
        let output = agentprof()
            .args(["report", "--json"])
            .arg(dir.join("trace.jsonl"))
            .args(LEAK_IN_SECONDS)
            .args(IDLE)
            .output()
            .unwrap();
        assert!(output.status.success());
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        let findings = report["findings"].as_array().unwrap();
        let tree = findings
            .iter()
            .find(|f| f["kind"] == "memory_leak" && f["where"]["scope"] == "tree");
        match leaks {
            true => {
                assert_eq!(tree.map(|f| &f["severity"]), Some(&Value::from("critical")));
                assert!(
                    findings.iter().any(|f| f["kind"] == "idle_spend"),
                    "{findings:#?}"
                );
            }
            false => assert!(findings.is_empty(), "{findings:#?}"),
        }
    }
    // run's own summary judged with the same flags.
    let summary = std::fs::read_to_string(leaky_dir.join("agentprof.err")).unwrap();
    assert!(summary.contains("memory leak"), "{summary}");
    eprintln!(
        "AgentprofMemoryLeak fired {:.1} s after the start; test took {:.1} s",
        fired_after.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
