//! `agentprof import opencode` as users run it: on a generated history (exact against its
//! ground truth per category, model, session and turn), with `--since`, on damaged and
//! missing input, while another connection writes the database, and on databases and legacy
//! files the real opencode wrote (copies kept in tests/fixtures/).

use std::path::Path;

use agentprof::demo::opencode_history::OpencodeTruth;
use serde_json::Value;

use crate::support::{
    agentprof, assert_report_matches_tally, assert_since_leaves_out_the_calls_before,
    generate_history, import_json, stderr,
};

fn generate(dir: &Path, seed: u64) -> OpencodeTruth {
    generate_history("gen-opencode-history", dir, "0.2", seed, &[])
}

fn said(report: &Value, key: &str, needle: &str) -> bool {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s.as_str().unwrap().contains(needle))
}

#[test]
fn opencode_import_is_exact_per_category_model_session_and_turn() {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path(), 5);
    assert!(truth.tally.categories["subagent"].requests > 0);
    assert!(truth.tally.categories["compaction"].requests > 0);
    assert!(truth.without_tokens > 0 && truth.legacy_sessions > 0 && truth.copies == 1);
    assert!(truth.tally.models.contains_key("gpt-5.6-terra-pro"));
    assert!(truth.tally.models.contains_key("claude-sonnet-4-6"));
    let (report, _) = import_json("opencode", dir.path(), &[]);
    assert_report_matches_tally(&report, &truth.tally);
    assert_eq!(
        report["totals"]["reasoning_output_tokens"],
        truth.reasoning_tokens
    );
    let import = &report["import"];
    assert_eq!(import["agent"], "opencode");
    assert_eq!(import["calls"], truth.tally.totals.requests);
    assert_eq!(import["duplicates"]["copies"], truth.copies);
    // The row that is not JSON is named by its row and skipped.
    let damaged: std::collections::BTreeMap<String, u64> =
        serde_json::from_value(import["damaged"].clone()).unwrap();
    assert_eq!(damaged, truth.damaged);
    let examples = import["damage_examples"].to_string();
    assert!(examples.contains(&truth.damaged_at[0]), "{examples}");
    assert!(said(&report, "warnings", &truth.damaged_at[0]));
    // What opencode does not store is said plainly.
    assert!(said(&report, "assumptions", "title calls are not stored"));
    assert!(said(
        &report,
        "assumptions",
        &format!(
            "{} assistant messages without token counts",
            truth.without_tokens
        )
    ));
    assert!(!said(&report, "assumptions", "Claude Code"));

    assert_since_leaves_out_the_calls_before("opencode", dir.path(), &truth.tally);
}

#[test]
fn opencode_import_reads_while_another_connection_writes() {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path(), 7);
    let db = dir.path().join("opencode.db");
    let mut writer = rusqlite::Connection::open(&db).unwrap();
    let session: String = writer
        .query_row(
            "SELECT id FROM session WHERE parent_id IS NULL LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let insert = |c: &rusqlite::Connection, id: &str| {
        let data = r#"{"role":"assistant","agent":"build","providerID":"anthropic","modelID":"claude-sonnet-4-6","tokens":{"input":5,"output":7,"reasoning":0,"cache":{"read":0,"write":0}},"time":{"created":1796083300000,"completed":1796083300001}}"#;
        c.execute(
            "INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?1, ?2, 1796083300000, 1796083300000, ?3)",
            rusqlite::params![id, session, data],
        )
        .unwrap();
    };
    // A committed row (still in the WAL: no checkpoint), then a write transaction held open.
    insert(&writer, "msg_committed");
    let pending = writer.transaction().unwrap();
    insert(&pending, "msg_uncommitted");
    let (report, _) = import_json("opencode", dir.path(), &[]);
    assert_eq!(
        report["totals"]["requests"],
        truth.tally.totals.requests + 1,
        "the committed row is read, the uncommitted one is not"
    );
    pending.rollback().unwrap();
    // The import left the database as it was: still writable, nothing added.
    insert(&writer, "msg_after");
}

#[test]
fn opencode_import_of_what_opencode_1_18_33_and_1_1_65_wrote() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    // Each: the calls the mock upstream recorded (issue 18's research).
    for (dir, calls, subagent, input, output, writes, reads) in [
        ("opencode_1.18.33", 4, 1, 491, 677, 21117, 7562),
        ("opencode_1.1.65", 3, 1, 170, 263, 18306, 11205),
    ] {
        let (report, _) = import_json("opencode", &fixtures.join(dir), &[]);
        let totals = &report["totals"];
        assert_eq!(totals["requests"], calls, "{dir}");
        assert_eq!(
            report["categories"]["subagent"]["requests"], subagent,
            "{dir}"
        );
        assert_eq!(totals["input_tokens"], input, "{dir}");
        assert_eq!(totals["output_tokens"], output, "{dir}");
        assert_eq!(totals["cache_creation_input_tokens"], writes, "{dir}");
        assert_eq!(totals["cache_read_input_tokens"], reads, "{dir}");
    }
}

#[test]
fn opencode_import_names_a_missing_or_broken_database() {
    let dir = tempfile::tempdir().unwrap();
    let output = agentprof()
        .args(["import", "opencode"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains(&dir.path().display().to_string()));
    let bad = dir.path().join("opencode.db");
    std::fs::write(
        &bad,
        b"this is not a database, just text long enough to be read",
    )
    .unwrap();
    let output = agentprof()
        .args(["import", "opencode"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains("cannot read opencode's database"), "{text}");
    assert!(text.contains(&bad.display().to_string()), "{text}");
}
