//! `agentprof import <agent> DIR --by project` on a generated history of each agent with
//! calls in several projects: one row per project, keyed as the agent records it (Codex's
//! `session_meta.cwd`, Gemini CLI's project root — or a legacy directory's sha256 name —,
//! opencode's `session.directory`), equal to the ground truth's `by_project` to the token.

use agentprof::demo::import_truth::CallTally;
use serde_json::Value;

use crate::support::{generate_history, import_json, tokens_of, truth_tokens};

/// The part of a generator's truth every agent's has.
#[derive(serde::Deserialize)]
struct Truth {
    #[serde(flatten)]
    tally: CallTally,
}

/// Generates with `generator`, imports `agent --by project`, and checks every row against
/// the truth; returns the report.
fn rows_equal_the_truth(generator: &str, agent: &str, row_agent: &str, seed: u64) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("history");
    let truth: Truth = generate_history(generator, &home, "0.5", seed, &[]);
    let by_project = &truth.tally.by_project;
    assert!(by_project.len() >= 3, "{agent}: {:?}", by_project.keys());
    let (report, _) = import_json(agent, &home, &["--by", "project"]);
    assert_eq!(report["rows_by"]["by"], "project", "{agent}");
    let rows = report["rows"].as_array().unwrap();
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    let truth_keys: Vec<&str> = by_project.keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, truth_keys, "{agent}: one row per project, no other");
    for row in rows {
        let key = row["key"].as_str().unwrap();
        assert_eq!(row["agent"], row_agent, "{agent} {key}");
        assert_eq!(
            tokens_of(&row["totals"]),
            truth_tokens(&by_project[key].tokens),
            "{agent} {key}"
        );
    }
    report
}

#[test]
fn codex_rows_by_project_are_the_session_meta_cwds() {
    let report = rows_equal_the_truth("gen-codex-rollouts", "codex", "codex", 5);
    // Full paths as recorded, a space kept.
    let keys = row_keys(&report);
    assert!(keys.iter().all(|k| k.starts_with('/')), "{keys:?}");
    assert!(
        keys.contains(&"/home/dev/side project".to_string()),
        "{keys:?}"
    );
}

#[test]
fn gemini_rows_by_project_are_project_roots_or_legacy_directory_names() {
    let report = rows_equal_the_truth("gen-gemini-chats", "gemini", "gemini-cli", 5);
    let keys = row_keys(&report);
    // Slug directories under their root (projects.json, .project_root), the migrated hash
    // directory's copies under that same root, and an older version's hash directory that
    // nothing maps under its name — which the report says.
    assert!(keys.contains(&"/work/proj-a".to_string()), "{keys:?}");
    assert!(
        keys.contains(&"/home/dev/clients/app".to_string()),
        "{keys:?}"
    );
    let unmapped: Vec<&String> = keys.iter().filter(|k| !k.starts_with('/')).collect();
    assert_eq!(unmapped.len(), 1, "{keys:?}");
    assert_eq!(unmapped[0].len(), 64, "{keys:?}");
    let said = report["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s.as_str().unwrap().contains("1 of 4 project directories"));
    assert!(said, "{}", report["assumptions"]);
}

#[test]
fn opencode_rows_by_project_are_the_sessions_directories() {
    let report = rows_equal_the_truth("gen-opencode-history", "opencode", "opencode", 5);
    let keys = row_keys(&report);
    // Outside a repository too (the `global` project, whose worktree is `/`).
    assert!(keys.contains(&"/home/dev/notes".to_string()), "{keys:?}");
    assert!(!keys.contains(&"/".to_string()), "{keys:?}");
}

fn row_keys(report: &Value) -> Vec<String> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect()
}
