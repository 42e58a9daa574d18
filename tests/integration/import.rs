//! `agentprof import claude-code` as users run it: on generated histories (exact against their
//! ground truth, and against ccusage — the reference peer, npm `ccusage` pinned in tests/ccusage
//! and installed by scripts/test — run on the same files), on real Claude Code transcripts, and
//! on bad input.

use std::path::{Path, PathBuf};
use std::process::Output;

use agentprof::demo::transcript_corpus::{GroundTruth, Tokens};
use serde_json::Value;

use crate::support::{
    agentprof, assert_report_matches_tally, assert_trace_reports_the_same, generate_history, stderr,
};
use crate::trace_schema::{validate_file, validator};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .join("transcripts")
}

/// `agentprof gen-transcripts` into `dir`; returns the ground truth it wrote.
fn generate(dir: &Path, size_mb: &str, seed: u64, extra: &[&str]) -> GroundTruth {
    generate_history("gen-transcripts", dir, size_mb, seed, extra)
}

/// `agentprof import claude-code DIR --json …`: the JSON and the run.
fn import_json(dir: &Path, extra: &[&str]) -> (Value, Output) {
    crate::support::import_json("claude-code", dir, extra)
}

/// ccusage's totals on `dir`: input, output, cache writes, cache reads.
fn ccusage_totals(dir: &Path) -> [u64; 4] {
    let totals = crate::support::ccusage_totals("claude", "CLAUDE_CONFIG_DIR", dir);
    [
        "inputTokens",
        "outputTokens",
        "cacheCreationTokens",
        "cacheReadTokens",
    ]
    .map(|k| {
        totals[k]
            .as_u64()
            .unwrap_or_else(|| panic!("ccusage {k}: {totals}"))
    })
}

fn tokens_of(usage: &Value) -> [u64; 4] {
    [
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ]
    .map(|k| usage[k].as_u64().unwrap())
}

fn truth_tokens(t: &Tokens) -> [u64; 4] {
    [
        t.input_tokens,
        t.output_tokens,
        t.cache_creation_input_tokens,
        t.cache_read_input_tokens,
    ]
}

#[test]
fn import_json_is_exact_and_its_trace_reports_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let truth = generate(&history, "4", 21, &[]);
    let trace = dir.path().join("out/import.jsonl");
    let (report, output) = import_json(&history, &["--trace", trace.to_str().unwrap()]);

    assert_eq!(report["schema"], "agentprof.report/v1");
    assert_report_matches_tally(&report, &truth.tally);
    assert_eq!(report["memory"]["samples"], 0);
    assert!(report["memory"]["peak_rss_bytes"].is_null());
    let import = &report["import"];
    assert_eq!(
        serde_json::from_value::<std::collections::BTreeMap<String, u64>>(
            import["claude_code_versions"].clone()
        )
        .unwrap(),
        truth.versions
    );
    assert_eq!(import["calls_before_2_1_97"], truth.calls_before_2_1_97);
    let said = |needle: &str, key: &str| {
        report[key]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().contains(needle))
    };
    assert!(said("Claude Code versions seen: 1.0.98", "assumptions"));
    assert!(said("invisible here", "assumptions"));
    assert!(said("before Claude Code 2.1.97", "assumptions"));
    assert!(said("torn last lines skipped", "warnings"));
    assert!(stderr(&output).contains("wrote"), "{}", stderr(&output));

    // The trace is a valid v1 trace, and `report` on it gives the same figures.
    let lines = validate_file(&validator(), &trace);
    assert_eq!(lines as u64, truth.tally.totals.requests + 2);
    assert_trace_reports_the_same(&trace, &report);
}

#[test]
fn totals_equal_ccusage_on_the_same_history() {
    // Without replays: ccusage, the ground truth and agentprof agree to the token.
    let plain = tempfile::tempdir().unwrap();
    let truth = generate(plain.path(), "3", 8, &["--no-replays"]);
    assert_eq!(truth.replays.requests, 0);
    let (ours, _) = import_json(plain.path(), &[]);
    assert_eq!(
        tokens_of(&ours["totals"]),
        truth_tokens(&truth.tally.totals)
    );
    assert_eq!(
        ccusage_totals(plain.path()),
        truth_tokens(&truth.tally.totals)
    );

    // With replays: ccusage 20.0.24 deduplicates message ids within a session, so replays into
    // sub-agent files are counted once by both; a forked session's replayed messages are
    // counted again by ccusage. The difference is exactly those, and the truth wins.
    let replayed = tempfile::tempdir().unwrap();
    let truth = generate(replayed.path(), "3", 8, &[]);
    assert!(truth.cross_session_replays.requests > 0);
    assert!(truth.replays.requests > truth.cross_session_replays.requests);
    let (ours, _) = import_json(replayed.path(), &[]);
    assert_eq!(
        tokens_of(&ours["totals"]),
        truth_tokens(&truth.tally.totals)
    );
    let theirs = ccusage_totals(replayed.path());
    let expected: Vec<u64> = truth_tokens(&truth.tally.totals)
        .iter()
        .zip(truth_tokens(&truth.cross_session_replays))
        .map(|(t, r)| t + r)
        .collect();
    assert_eq!(theirs.to_vec(), expected);
}

#[test]
fn real_claude_code_transcripts_agree_with_ccusage_and_have_categories() {
    let dir = fixture("claude_code_2.1.197");
    let (report, _) = import_json(&dir, &[]);
    assert_eq!(ccusage_totals(&dir), tokens_of(&report["totals"]));
    assert_eq!(report["categories"]["user_turn"]["requests"], 2);
    assert_eq!(report["categories"]["subagent"]["requests"], 1);
    assert_eq!(report["subagent_types"]["general-purpose"]["requests"], 1);

    // Without a DIR, $CLAUDE_CONFIG_DIR is read; the table names versions and classification.
    let output = agentprof()
        .args(["import", "claude-code"])
        .env("CLAUDE_CONFIG_DIR", &dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("Claude Code versions seen: 2.1.197 (3 calls)"),
        "{table}"
    );
    assert!(table.contains("by isSidechain"), "{table}");
    assert!(table.contains("general-purpose 1 calls"), "{table}");
}

#[test]
fn a_missing_directory_is_an_input_error_naming_it() {
    let output = agentprof()
        .args(["import", "claude-code", "/nonexistent/claude-dir"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("/nonexistent/claude-dir"),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());
    let output = agentprof()
        .args(["import", "claude-code", "--since", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("YYYY-MM-DD"),
        "{}",
        stderr(&output)
    );
}
