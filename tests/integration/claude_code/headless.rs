//! `claude -p "…"` that delegates to a sub-agent, on both pinned versions, with Claude Code's
//! default model (no `--model`: what a user runs).

use std::path::Path;
use std::process::Command;

use agentprof::demo::mock_upstream::{MockConfig, Script};

use super::truth::{check_report, check_rules, truth};
use super::versions::{ClaudeCode, NEWEST, OLDEST, claude_code};
use super::{KEY, claude_env, claude_home, script_path};
use crate::support::{Mock, all_outputs, report_json, stderr, trace};

const PROMPT: &str = "Delegate this to a sub-agent: where is the configuration defined?";

fn headless_with_a_subagent(cc: &ClaudeCode) {
    let label = format!("Claude Code {} ({})", cc.version, cc.pin);
    let mock = Mock::start_with(MockConfig {
        script: Some(Script::load(&script_path("script.json")).unwrap()),
        ..MockConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let home = claude_home(&[]);
    let work = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentprof"));
    command
        .arg("run")
        .arg("--trace")
        .arg(dir.path().join("trace.jsonl"))
        .args(["--anthropic-upstream", &mock.url()])
        .args(["--sample-interval", "100ms", "--"])
        .arg(&cc.bin)
        .args(["-p", PROMPT, "--allowedTools", "Agent"])
        .current_dir(work.path());
    claude_env(&mut command, home.path());
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{label} under agentprof failed: {}\nstdout: {}",
        stderr(&output),
        String::from_utf8_lossy(&output.stdout)
    );

    let records = mock.records();
    assert!(
        records.iter().any(|r| r.agent_id.is_some()),
        "{label}: the script made Claude Code use its sub-agent: {records:#?}"
    );
    let trace = trace(dir.path());
    let truth = truth(&records, &trace);
    let report = report_json(dir.path());
    check_rules(&trace, &truth, &label);
    assert_eq!(
        report["turns"].as_array().unwrap().len(),
        1,
        "{label}: one prompt typed, one turn: {}",
        report["turns"]
    );
    assert!(
        report["subagent_types"].get("general-purpose").is_some(),
        "{label}: {}",
        report["subagent_types"]
    );
    check_report(&report, &truth, &label);
    assert!(
        trace.samples.iter().any(|s| s.rss_bytes > 50 << 20),
        "{label}: Claude Code's RSS was sampled"
    );
    assert_no_key(dir.path(), &output);
}

fn assert_no_key(dir: &Path, output: &std::process::Output) {
    let everything = all_outputs(dir, output);
    assert!(
        !everything.contains(&KEY[12..]),
        "API key leaked into an output"
    );
}

#[test]
fn headless_with_a_subagent_on_the_oldest_pinned_claude_code() {
    headless_with_a_subagent(&claude_code(OLDEST));
}

#[test]
fn headless_with_a_subagent_on_the_newest_pinned_claude_code() {
    headless_with_a_subagent(&claude_code(NEWEST));
}
