//! The Gemini CLI-shaped synthetic agent under `agentprof run`, against ground truth: every call
//! carries its true category in a header only the mock reads, and agentprof must reach the same
//! category from Gemini CLI's own markers (system instructions, the last user text, the method),
//! with per-category tokens equal to what the mock sent. Then `demo --agent gemini-cli`.

use std::collections::BTreeMap;

use agentprof::observation::Usage;

use crate::support::{Mock, agentprof, report_json, run_under_agentprof, stderr, trace};

fn gemini_agent(seed: u32) -> Vec<String> {
    [
        env!("CARGO_BIN_EXE_agentprof"),
        "synthetic-agent",
        "--shape",
        "gemini-cli",
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

/// The path's model, method and query: `gemini-3.8-flash:streamGenerateContent?alt=sse`.
fn model_method(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

#[test]
fn gemini_shaped_calls_get_their_true_category_and_tokens_match_per_category() {
    for seed in [1, 2, 7] {
        let mock = Mock::start();
        let dir = tempfile::tempdir().unwrap();
        let command = gemini_agent(seed);
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let output = run_under_agentprof(&mock, dir.path(), &args);
        assert!(output.status.success(), "seed {seed}: {}", stderr(&output));

        let records = mock.records();
        let trace = trace(dir.path());
        assert_eq!(trace.calls.len(), records.len(), "seed {seed}");
        let mut truth_tokens: BTreeMap<String, Usage> = BTreeMap::new();
        for record in &records {
            let truth = record.truth_category.clone().expect("labelled");
            // Gemini CLI's wire: the main loop and the investigator stream, the rest does not.
            assert_eq!(record.provider, "gemini", "seed {seed}");
            let expected = match truth.as_str() {
                "user_turn" => "gemini-3.8-flash:streamGenerateContent?alt=sse",
                "subagent" => "gemini-3-flash-preview:streamGenerateContent?alt=sse",
                "compaction" => "gemini-3-flash-preview:generateContent",
                _ => "gemini-3.5-flash-lite:generateContent",
            };
            assert_eq!(model_method(&record.path), expected, "seed {seed}");
            assert_eq!(record.stream, expected.ends_with("alt=sse"), "seed {seed}");
            // The Gemini API's responses carry no request id the proxy keeps: matched by response id.
            let call = trace
                .calls
                .iter()
                .find(|c| c.response_id.is_some() && c.response_id == record.response_id)
                .unwrap();
            assert_eq!(
                call.category.as_str(),
                truth,
                "seed {seed}: call {} decided by {}",
                call.id,
                call.classified_by
            );
            assert!(
                call.classified_by.starts_with("rule:gemini-"),
                "{}",
                call.classified_by
            );
            truth_tokens
                .entry(truth)
                .or_default()
                .add(&record.usage.unwrap());
        }
        // No memory extraction, dream or away summary in Gemini CLI by default: four categories.
        let seen: Vec<&str> = truth_tokens.keys().map(String::as_str).collect();
        assert_eq!(
            seen,
            ["compaction", "subagent", "user_turn", "utility"],
            "seed {seed}"
        );
        // A session summary, then a router call per prompt; compression comes in pairs.
        let count = |c: &str| {
            records
                .iter()
                .filter(|r| r.truth_category.as_deref() == Some(c))
                .count()
        };
        assert_eq!(count("utility"), 1 + 6, "seed {seed}");
        assert_eq!(count("compaction") % 2, 0, "seed {seed}");

        let report = report_json(dir.path());
        crate::support::assert_categories_equal(&report, &truth_tokens);
    }
}

#[test]
fn same_seed_gives_the_gemini_agent_identical_calls() {
    assert_eq!(
        crate::support::synthetic_agent_calls(&gemini_agent(3)),
        crate::support::synthetic_agent_calls(&gemini_agent(3))
    );
}

#[test]
fn gemini_agent_needs_its_base_url() {
    let output = agentprof()
        .args(["synthetic-agent", "--shape", "gemini-cli", "--turns", "1"])
        .env_remove("GOOGLE_GEMINI_BASE_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("GOOGLE_GEMINI_BASE_URL is not set"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn demo_runs_the_gemini_agent_alone() {
    let dir = tempfile::tempdir().unwrap();
    let output = agentprof()
        .args(["demo", "--agent", "gemini-cli", "--turns", "6", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("By agent"), "one agent: {stdout}");
    let report = report_json(dir.path());
    for category in ["user_turn", "utility", "compaction", "subagent"] {
        assert!(
            report["categories"][category]["requests"].as_u64().unwrap() > 0,
            "{category}: {stdout}"
        );
    }
    assert_eq!(report["categories"]["unknown"]["requests"], 0);
}
