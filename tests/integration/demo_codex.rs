//! The Codex-shaped synthetic agent under `agentprof run`, against ground truth: every call
//! carries its true category in a header only the mock reads, and agentprof must reach the same
//! category from Codex's own markers (headers, turn metadata, compaction trigger, prompts), with
//! per-category tokens equal to what the mock sent. Then `demo`'s default run shows all three
//! agents, and `--agent both` Claude Code's and Codex's.

use std::collections::BTreeMap;

use agentprof::observation::Usage;

use crate::support::{Mock, agentprof, report_json, run_under_agentprof, stderr, trace};

fn codex_agent(seed: u32) -> Vec<String> {
    [
        env!("CARGO_BIN_EXE_agentprof"),
        "synthetic-agent",
        "--shape",
        "codex",
        "--turns",
        "6",
        "--think-ms",
        "0",
        "--seed",
        &seed.to_string(),
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn codex_shaped_calls_get_their_true_category_and_tokens_match_per_category() {
    for seed in [1, 2, 7] {
        let mock = Mock::start();
        let dir = tempfile::tempdir().unwrap();
        let command = codex_agent(seed);
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let output = run_under_agentprof(&mock, dir.path(), &args);
        assert!(output.status.success(), "seed {seed}: {}", stderr(&output));

        let records = mock.records();
        let trace = trace(dir.path());
        assert_eq!(trace.calls.len(), records.len(), "seed {seed}");
        let mut truth_tokens: BTreeMap<String, Usage> = BTreeMap::new();
        let mut sessions = std::collections::HashSet::new();
        for record in &records {
            let truth = record.truth_category.clone().expect("labelled");
            // Codex's wire: the Responses API, streamed; compaction asked by the protocol.
            assert_eq!(
                (
                    record.provider.as_str(),
                    record.path.as_str(),
                    record.stream
                ),
                ("openai", "/v1/responses", true)
            );
            assert_eq!(record.compaction, truth == "compaction", "seed {seed}");
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
            assert!(
                call.classified_by.starts_with("rule:codex-"),
                "{}",
                call.classified_by
            );
            sessions.insert(call.session_id.clone());
            truth_tokens
                .entry(truth)
                .or_default()
                .add(&record.usage.unwrap());
        }
        assert_eq!(sessions.len(), 1, "one session, side threads included");
        assert!(sessions.iter().all(Option::is_some));
        // Codex has no title or away-summary calls: five categories.
        let seen: Vec<&str> = truth_tokens.keys().map(String::as_str).collect();
        assert_eq!(
            seen,
            [
                "compaction",
                "dream",
                "memory_extraction",
                "subagent",
                "user_turn"
            ],
            "seed {seed}"
        );

        let report = report_json(dir.path());
        crate::support::assert_categories_equal(&report, &truth_tokens);
        assert_eq!(
            report["turns"].as_array().unwrap().len(),
            6,
            "seed {seed}: one turn per turn_id"
        );
    }
}

#[test]
fn same_seed_gives_the_codex_agent_identical_calls() {
    assert_eq!(
        crate::support::synthetic_agent_calls(&codex_agent(3)),
        crate::support::synthetic_agent_calls(&codex_agent(3))
    );
}

/// `demo` with `extra` arguments and 3 turns: its stdout, and the report of its trace.
fn demo(extra: &[&str]) -> (String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let output = agentprof()
        .args(["demo", "--turns", "3", "--out"])
        .arg(dir.path())
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    (stdout, report_json(dir.path()))
}

/// The "By agent" row of `agent`.
fn row(stdout: &str, agent: &str) -> String {
    stdout
        .lines()
        .find(|l| l.contains(&format!(" {agent} ")))
        .unwrap_or_else(|| panic!("no {agent} row: {stdout}"))
        .to_string()
}

#[test]
fn demo_runs_all_three_agents_and_tells_them_apart() {
    let (stdout, report) = demo(&[]);
    assert!(stdout.contains("By agent"), "{stdout}");
    assert!(row(&stdout, "claude-code").contains("memory_extraction 3"));
    assert!(row(&stdout, "codex").contains("memory_extraction 2, dream 2"));
    let gemini = row(&stdout, "gemini-cli");
    for category in ["subagent 4", "compaction 2", "utility 4"] {
        assert!(gemini.contains(category), "{gemini}");
    }
    assert_eq!(report["categories"]["unknown"]["requests"], 0);
    // Claude Code and Codex name their sessions on the wire; Gemini CLI only in its telemetry,
    // which the synthetic agent does not send.
    let sessions: Vec<&String> = report["sessions"].as_object().unwrap().keys().collect();
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    assert!(sessions.iter().any(|s| *s == "(none)"), "{sessions:?}");
}

#[test]
fn demo_runs_both_agents_and_tells_them_apart() {
    let (stdout, report) = demo(&["--agent", "both"]);
    assert!(stdout.contains("By agent"), "{stdout}");
    assert!(row(&stdout, "claude-code").contains("memory_extraction 3"));
    assert!(row(&stdout, "codex").contains("memory_extraction 2, dream 2"));
    assert!(!stdout.contains(" gemini-cli "), "{stdout}");
    assert_eq!(report["categories"]["unknown"]["requests"], 0);
    assert_eq!(report["sessions"].as_object().unwrap().len(), 2);
}
