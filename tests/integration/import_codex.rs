//! `agentprof import codex` as users run it: on a generated Codex history (exact against its
//! ground truth, per category and per session, through every trap), through its trace and
//! `report`, on damaged and missing input, and on rollouts the real Codex CLI wrote while
//! `agentprof run` recorded the same calls at the proxy.

use std::path::{Path, PathBuf};
use std::process::Output;

use agentprof::demo::codex_rollouts::CodexTruth;
use serde_json::Value;

use crate::codex::{NEWEST, OLDEST};
use crate::codex_user::CodexUser;
use crate::support::{
    Mock, agentprof, assert_report_matches_tally, assert_since_leaves_out_the_calls_before,
    assert_trace_reports_the_same, generate_history, stderr,
};
use crate::trace_schema::{validate_file, validator};

/// `agentprof gen-codex-rollouts` into `dir`; returns the ground truth it wrote.
fn generate(dir: &Path, size_mb: &str, seed: u64) -> CodexTruth {
    generate_history("gen-codex-rollouts", dir, size_mb, seed, &[])
}

/// `agentprof import codex DIR --json …`: the JSON and the run.
fn import_json(dir: &Path, extra: &[&str]) -> (Value, Output) {
    crate::support::import_json("codex", dir, extra)
}

#[test]
fn codex_import_is_exact_per_category_and_session_and_its_trace_reports_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("codex-home");
    let truth = generate(&history, "3", 5);
    // Every trap is in the history.
    assert!(truth.repeats > 0 && truth.rewrites > 0 && truth.replayed > 0);
    assert!(truth.null_infos > 0);
    // Compactions only Codex's per-response records carry (0.164 and later), beside
    // sessions of a Codex that wrote token counts only.
    assert!(truth.remote_compactions > 0);
    assert!(truth.naive.total_tokens() > truth.tally.totals.total_tokens());
    for category in ["subagent", "compaction", "dream", "utility"] {
        assert!(truth.tally.categories[category].requests > 0, "{category}");
    }
    let trace = dir.path().join("out/codex.jsonl");
    let (report, output) = import_json(&history, &["--trace", trace.to_str().unwrap()]);

    assert_report_matches_tally(&report, &truth.tally);
    let import = &report["import"];
    assert_eq!(import["agent"], "codex");
    assert_eq!(import["calls"], truth.tally.totals.requests);
    let damaged: std::collections::BTreeMap<String, u64> =
        serde_json::from_value(import["damaged"].clone()).unwrap();
    assert_eq!(damaged, truth.damaged);
    assert_eq!(
        import["duplicates"]["repeated_lines"].as_u64().unwrap()
            + import["duplicates"]["replays"].as_u64().unwrap(),
        truth.repeats + truth.replayed
    );
    let said = |needle: &str, key: &str| {
        report[key]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().contains(needle))
    };
    assert!(said("Codex versions seen: 0.148.0", "assumptions"));
    assert!(said(
        &format!("{} of them remote compactions", truth.remote_compactions),
        "assumptions"
    ));
    assert!(said("0.171.0", "assumptions"));
    assert!(said("imported from Codex rollouts", "assumptions"));
    assert!(!said("Claude Code", "assumptions"));
    // The damaged middle line is named by file and line; the torn tail too.
    let examples: Vec<&str> = import["damage_examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        examples
            .iter()
            .any(|e| e.contains(".jsonl:") && e.contains("not a JSON object")
                || e.contains(".jsonl:") && e.contains("EOF")),
        "{examples:?}"
    );
    assert!(said("torn last lines skipped", "warnings"), "{report}");
    assert!(said("unreadable files skipped", "warnings"), "{report}");
    assert!(stderr(&output).contains("wrote"), "{}", stderr(&output));

    // The trace is a valid v1 trace, and `report` on it gives the same figures.
    let lines = validate_file(&validator(), &trace);
    assert_eq!(lines as u64, truth.tally.totals.requests + 2);
    let again = assert_trace_reports_the_same(&trace, &report);
    assert!(
        again["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().contains("imported from Codex rollouts"))
    );

    // --since leaves out the calls before the date, and says how many.
    assert_since_leaves_out_the_calls_before("codex", &history, &truth.tally);
}

#[test]
fn codex_import_table_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("codex-home");
    let truth = generate(&history, "0.3", 9);
    // CODEX_HOME is read without a DIR; the table leads with categories.
    let output = agentprof()
        .args(["import", "codex"])
        .env("CODEX_HOME", &history)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("user_turn"), "{table}");
    assert!(
        table.contains(&format!("Imported {} calls", truth.tally.totals.requests)),
        "{table}"
    );

    // A missing directory: an input error naming it and what was looked for.
    let output = agentprof()
        .args(["import", "codex", "/nonexistent/codex-home"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("/nonexistent/codex-home") && err.contains("sessions"),
        "{err}"
    );
    assert!(output.stdout.is_empty());

    // Damage in the middle of a rollout: named, and nothing else lost.
    let rollout = find_rollout(&history.join("sessions"));
    let text = std::fs::read_to_string(&rollout).unwrap();
    let (before, _) = import_json(&history, &[]);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(3, "\u{1}garbage that is no JSON");
    std::fs::write(&rollout, lines.join("\n") + "\n").unwrap();
    let (after, _) = import_json(&history, &[]);
    assert_eq!(after["totals"], before["totals"]);
    let name = rollout.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        after["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains(&format!("{name}:4: not a JSON object"))),
        "{}",
        after["warnings"]
    );
}

fn find_rollout(dir: &Path) -> PathBuf {
    let mut stack = vec![dir.to_path_buf()];
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "jsonl") && path.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    found.into_iter().next().unwrap()
}

#[test]
fn real_codex_rollouts_import_to_what_the_proxy_recorded_on_the_oldest_pinned_codex() {
    real_codex_rollouts_import_to_what_the_proxy_recorded(OLDEST);
}

#[test]
fn real_codex_rollouts_import_to_what_the_proxy_recorded_on_the_newest_pinned_codex() {
    real_codex_rollouts_import_to_what_the_proxy_recorded(NEWEST);
}

fn real_codex_rollouts_import_to_what_the_proxy_recorded(pin: &str) {
    let mock = Mock::start();
    let user = CodexUser::new(pin);
    let first = user.exec(&mock, "first.jsonl", &["say hi"]);
    let second = user.exec(&mock, "second.jsonl", &["resume", "--last", "and again"]);
    let home = user.home();

    // What the proxy recorded: every model call with its usage and response id, in order —
    // but the prewarms over its WebSocket (no answer asked, zero tokens), which are not
    // inferences and which rollouts do not record.
    let mut recorded = Vec::new();
    let mut response_ids = Vec::new();
    for trace in [&first, &second] {
        let prewarms = trace
            .calls
            .iter()
            .filter(|c| c.classified_by == "rule:codex-prewarm")
            .inspect(|c| assert_eq!(c.usage, Some(Default::default()), "{c:?}"))
            .count();
        assert!(prewarms <= 1, "one prewarm a run at most");
        for call in trace
            .calls
            .iter()
            .filter(|c| c.is_model_call() && c.classified_by != "rule:codex-prewarm")
        {
            recorded.extend(call.usage);
            response_ids.push(call.response_id.clone());
        }
    }
    assert!(recorded.len() >= 2, "{recorded:?}");

    let (report, _) = import_json(&home, &[]);
    let (_, output) = import_json(
        &home,
        &["--trace", user.file("import.jsonl").to_str().unwrap()],
    );
    assert!(output.status.success());
    let imported = agentprof::output::trace::read_trace(&user.file("import.jsonl")).unwrap();
    let usages: Vec<_> = imported.calls.iter().filter_map(|c| c.usage).collect();
    assert_eq!(usages, recorded, "per call, in order");
    // Codex (0.164 and later; not 0.148) names each response in a token_usage_record: the
    // same ids the proxy saw.
    let ids: Vec<_> = imported
        .calls
        .iter()
        .map(|c| c.response_id.clone())
        .collect();
    assert_eq!(ids, response_ids);
    // Every call is in the project Codex ran in: its session_meta's cwd.
    let work = std::fs::canonicalize(user.work()).unwrap();
    let work = work.to_str().unwrap();
    for call in &imported.calls {
        assert_eq!(
            call.project.as_deref(),
            Some(work),
            "{}",
            rollout_outline(&home)
        );
    }
    let total = |key: &str| -> u64 {
        recorded
            .iter()
            .map(|u| match key {
                "input_tokens" => u.input_tokens,
                "output_tokens" => u.output_tokens,
                "cache_creation_input_tokens" => u.cache_creation_input_tokens,
                _ => u.cache_read_input_tokens,
            })
            .sum()
    };
    for key in [
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ] {
        assert_eq!(report["totals"][key].as_u64().unwrap(), total(key), "{key}");
    }
    assert_eq!(report["totals"]["requests"], recorded.len() as u64);
    // One session (resumed, not a new one), two prompts, all of the user's turn.
    assert_eq!(
        report["sessions"].as_object().unwrap().len(),
        1,
        "{}",
        report["sessions"]
    );
    assert_eq!(
        report["turns"].as_array().unwrap().len(),
        2,
        "{}",
        rollout_outline(&home)
    );
    assert_eq!(
        report["categories"]["user_turn"]["requests"],
        recorded.len() as u64
    );
}

/// Each rollout line's item and payload type (and a little more), for failure messages.
fn rollout_outline(home: &Path) -> String {
    let mut out = String::new();
    for path in crate::support::files_below(&home.join("sessions")) {
        out.push_str(&format!("{}\n", path.display()));
        for line in std::fs::read_to_string(&path).unwrap_or_default().lines() {
            let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            let mut text = line.to_string();
            if v["type"] != "token_usage_record" {
                text.truncate(300);
            }
            out.push_str(&format!(
                "  {} {}: {}\n",
                v["type"], v["payload"]["type"], text
            ));
        }
    }
    out
}
