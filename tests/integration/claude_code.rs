//! The real Claude Code (npm `@anthropic-ai/claude-code`, pinned in tests/claude-code and
//! installed by scripts/test) under `agentprof run`, against the mock upstream scripted to make
//! it delegate to its sub-agent tool.

use std::path::PathBuf;
use std::process::Command;

use agentprof::demo::mock_upstream::{MockConfig, Script};
use agentprof::observation::Usage;

use crate::support::{Mock, all_outputs, stderr, trace};

const KEY: &str = "sk-ant-test-SECRETKEY-claudecode-0123456789";

fn claude() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/claude-code/node_modules/.bin/claude");
    assert!(
        path.exists(),
        "{} not found: run scripts/test, which installs the pinned Claude Code with npm",
        path.display()
    );
    path
}

/// A HOME where Claude Code starts offline: onboarding done, nothing else.
fn claude_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join(".claude.json"),
        serde_json::json!({"hasCompletedOnboarding": true, "numStartups": 1}).to_string(),
    )
    .unwrap();
    home
}

fn usage_of(records: &[&agentprof::demo::mock_upstream::MockRecord]) -> Usage {
    let mut total = Usage::default();
    for r in records {
        total.add(&r.usage.unwrap_or_default());
    }
    total
}

#[test]
fn claude_code_with_a_subagent_is_attributed_exactly() {
    let script_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/claude-code/script.json");
    let script = Script::load(&script_path).unwrap();
    let mock = Mock::start_with(MockConfig {
        script: Some(script),
        ..MockConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let home = claude_home();
    let work = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_agentprof"))
        .arg("run")
        .arg("--trace")
        .arg(dir.path().join("trace.jsonl"))
        .args([
            "--anthropic-upstream",
            &mock.url(),
            "--sample-interval",
            "100ms",
            "--",
        ])
        .arg(claude())
        .args([
            "-p",
            "Delegate this to a sub-agent: where is the configuration defined?",
        ])
        .args(["--allowedTools", "Agent", "--model", "claude-sonnet-4-6"])
        .current_dir(work.path())
        .env("HOME", home.path())
        .env_remove("CLAUDE_CONFIG_DIR")
        .env("ANTHROPIC_API_KEY", KEY)
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_TELEMETRY", "0")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "claude under agentprof failed: {}\nstdout: {}",
        stderr(&output),
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("config/app.toml")
            || !output.stdout.is_empty(),
        "Claude Code answered"
    );

    let records = mock.records();
    let messages: Vec<_> = records
        .iter()
        .filter(|r| r.path.starts_with("/v1/messages"))
        .collect();
    let subagent: Vec<_> = messages
        .iter()
        .copied()
        .filter(|r| r.agent_id.is_some())
        .collect();
    let main: Vec<_> = messages
        .iter()
        .copied()
        .filter(|r| r.agent_id.is_none() && r.tools > 0)
        .collect();
    assert!(
        !subagent.is_empty(),
        "the script made Claude Code use its sub-agent: {records:#?}"
    );
    assert!(main.len() >= 2, "main loop before and after the sub-agent");

    let report = Command::new(env!("CARGO_BIN_EXE_agentprof"))
        .args(["report", "--json"])
        .arg(dir.path().join("trace.jsonl"))
        .output()
        .unwrap();
    assert!(report.status.success(), "{}", stderr(&report));
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();

    for (category, expected) in [("user_turn", &main), ("subagent", &subagent)] {
        let bucket = &report["categories"][category];
        let usage = usage_of(expected);
        assert_eq!(bucket["requests"], expected.len(), "{category}: {bucket}");
        assert_eq!(bucket["input_tokens"], usage.input_tokens, "{category}");
        assert_eq!(bucket["output_tokens"], usage.output_tokens, "{category}");
        assert_eq!(
            bucket["cache_creation_input_tokens"], usage.cache_creation_input_tokens,
            "{category}"
        );
        assert_eq!(
            bucket["cache_read_input_tokens"], usage.cache_read_input_tokens,
            "{category}"
        );
    }
    assert_eq!(report["categories"]["unknown"]["requests"], 0);
    assert_eq!(
        report["turns"].as_array().unwrap().len(),
        1,
        "one prompt, one turn: {}",
        report["turns"]
    );
    let classification = &report["classification"];
    assert!(
        classification["joined_by_request_id"].as_u64().unwrap()
            >= (main.len() + subagent.len()) as u64,
        "Claude Code's own telemetry joined every main-loop and sub-agent call: {classification}"
    );
    assert!(
        report["subagent_types"].get("general-purpose").is_some(),
        "{}",
        report["subagent_types"]
    );

    let trace = trace(dir.path());
    assert!(
        trace.samples.iter().any(|s| s.rss_bytes > 50 << 20),
        "Claude Code's RSS was sampled"
    );
    let everything = all_outputs(dir.path(), &output);
    assert!(
        !everything.contains("SECRETKEY"),
        "API key leaked into an output"
    );
}
