//! Gemini CLI's background work, measured: chat compression (its compress and verify calls) in
//! a resumed session, and its codebase investigator sub-agent. Each is checked against Gemini
//! CLI's own per-role counts and against the mock's record of every call.

use std::collections::BTreeMap;

use agentprof::demo::mock_upstream::MockConfig;
use agentprof::observation::Category;

use super::{
    GeminiUser, NEWEST, OLDEST, RoleTokens, as_role_tokens, assert_import_matches_the_proxy,
    report, script, stats_roles,
};
use crate::support::Mock;

/// A mock that answers the main loop's first call of a prompt containing `marker` with a
/// `list_directory` tool call (so the prompt has a second main call, before which Gemini CLI
/// checks whether to compress), and everything else with text.
fn list_once(marker: &str) -> Mock {
    Mock::start_with(MockConfig {
        script: Some(script(serde_json::json!({"rules": [
            {"when": {"has_tool": "list_directory", "last_user_text_contains": marker},
             "respond": {"tool_use": {"name": "list_directory", "input": {"dir_path": "."}}}}
        ]}))),
        ..MockConfig::default()
    })
}

#[test]
fn gemini_compression_is_compaction_on_the_oldest_pinned_gemini_cli() {
    compression_is_compaction(OLDEST);
}

#[test]
fn gemini_compression_is_compaction_on_the_newest_pinned_gemini_cli() {
    compression_is_compaction(NEWEST);
}

/// Compression runs when the last prompt's size passes `model.compressionThreshold` of the
/// model's window: 0.001 of 1,048,576 tokens here, which every prompt passes. It needs an
/// earlier user message to keep (a fresh headless run sends one), so the second prompt of a
/// resumed session compresses before its second main call.
fn compression_is_compaction(pin: &str) {
    let mock = list_once("second task");
    let user = GeminiUser::new(
        pin,
        serde_json::json!({"model": {"compressionThreshold": 0.001}}),
    );
    let first = user.run(&mock, "first.jsonl", &[], &["-p", "first task"]);
    let second = user.run(
        &mock,
        "second.jsonl",
        &[],
        &["--resume", "latest", "-p", "second task"],
    );
    let mut compressions = 0;
    for ran in [&first, &second] {
        let roles = stats_roles(&ran.answer);
        let report = report(&ran.trace_path, &[]);
        let compressor = roles.get("utility_compressor").cloned().unwrap_or_default();
        compressions += compressor.requests;
        // Compaction is exactly the compressor's calls, by their prompt (the rules, live) and
        // by the role Gemini CLI gives them.
        assert_eq!(
            as_role_tokens(&report["categories"]["compaction"]),
            compressor,
            "{roles:?}"
        );
        let by_rule: Vec<_> = ran
            .trace
            .calls
            .iter()
            .filter(|c| c.is_model_call() && c.category == Category::Compaction)
            .collect();
        assert_eq!(by_rule.len() as u64, compressor.requests, "{by_rule:#?}");
        assert!(
            by_rule
                .iter()
                .all(|c| c.classified_by.starts_with("rule:gemini-compression")),
            "{by_rule:#?}"
        );
        let joined: BTreeMap<String, RoleTokens> = report["agent_roles"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(role, bucket)| (role.clone(), as_role_tokens(bucket)))
            .collect();
        assert_eq!(joined, roles);
    }
    assert!(
        compressions >= 2,
        "Gemini CLI {} never compressed (compress + verify)",
        user.version
    );
    // Every call's tokens, exactly as sent.
    let calls: Vec<_> = [&first, &second]
        .iter()
        .flat_map(|r| r.trace.calls.iter().filter(|c| c.is_model_call()))
        .collect();
    let served: Vec<_> = mock
        .records()
        .into_iter()
        .filter(|r| r.response_id.is_some())
        .collect();
    assert_eq!(calls.len(), served.len());
    for record in &served {
        let call = calls
            .iter()
            .find(|c| c.response_id == record.response_id)
            .unwrap();
        assert_eq!(call.usage, record.usage);
    }
    // The chat files Gemini CLI wrote hold its main calls, resumed session and all.
    assert_import_matches_the_proxy(&user, &[&first, &second]);
}

#[test]
fn gemini_codebase_investigator_is_a_subagent_on_the_newest_pinned_gemini_cli() {
    let mock = Mock::start_with(MockConfig {
        script: Some(script(serde_json::json!({"rules": [
            {"when": {"has_tool": "invoke_agent", "last_user_text_contains": "investigate"},
             "respond": {"tool_use": {"name": "invoke_agent", "input": {
                 "agent_name": "codebase_investigator",
                 "prompt": "Find where the answer is computed."}}}},
            {"when": {"has_tool": "complete_task"},
             "respond": {"tool_use": {"name": "complete_task", "input": {"report": {
                 "SummaryOfFindings": "It is computed in main.rs.",
                 "ExplorationTrace": ["listed the directory"],
                 "RelevantLocations": [{"FilePath": "main.rs", "Reasoning": "the answer", "KeySymbols": []}]
             }}}}}
        ]}))),
        ..MockConfig::default()
    });
    let user = GeminiUser::new(NEWEST, serde_json::json!({}));
    let ran = user.run(
        &mock,
        "trace.jsonl",
        &[],
        &["-p", "investigate the code base"],
    );
    let roles = stats_roles(&ran.answer);
    let subagent = roles
        .get("subagent")
        .cloned()
        .unwrap_or_else(|| panic!("no sub-agent ran: {roles:?}"));
    let report = report(&ran.trace_path, &[]);
    assert_eq!(as_role_tokens(&report["categories"]["subagent"]), subagent);
    // The rules alone know it too: by the investigator's prompt.
    let by_rule: Vec<_> = ran
        .trace
        .calls
        .iter()
        .filter(|c| c.is_model_call() && c.category == Category::Subagent)
        .collect();
    assert_eq!(by_rule.len() as u64, subagent.requests);
    assert!(
        by_rule
            .iter()
            .all(|c| c.classified_by == "rule:gemini-subagent" && c.stream),
        "{by_rule:#?}"
    );
    for record in mock.records().iter().filter(|r| r.response_id.is_some()) {
        let call = ran
            .trace
            .calls
            .iter()
            .find(|c| c.response_id == record.response_id)
            .unwrap();
        assert_eq!(call.usage, record.usage);
    }
    // The sub-agent's own chat file holds its calls: the import counts them as `subagent`.
    assert_import_matches_the_proxy(&user, &[&ran]);
}
