//! `agentprof import gemini` as users run it: on a generated Gemini CLI history (exact against
//! its ground truth per category, model and session, through every trap), through its trace
//! and `report`, with `--since`, on damaged and missing input, and on chat files the real
//! Gemini CLI 0.61.0 wrote (a copy of their shape, kept here).

use std::path::Path;

use agentprof::demo::gemini_chats::GeminiTruth;
use serde_json::Value;

use crate::support::{
    agentprof, assert_report_matches_tally, assert_since_leaves_out_the_calls_before,
    assert_trace_reports_the_same, generate_history, import_json, stderr, tokens_of,
};
use crate::trace_schema::{validate_file, validator};

/// `agentprof gen-gemini-chats` into `dir`; returns the ground truth it wrote.
fn generate(dir: &Path, size_mb: &str, seed: u64) -> GeminiTruth {
    generate_history("gen-gemini-chats", dir, size_mb, seed, &[])
}

fn said(report: &Value, key: &str, needle: &str) -> bool {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s.as_str().unwrap().contains(needle))
}

#[test]
fn gemini_import_is_exact_per_category_model_and_session_and_its_trace_reports_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("gemini-home");
    let truth = generate(&home, "1", 5);
    // Every trap is in the history.
    assert!(truth.repeats > 0 && truth.copies > 0 && truth.without_tokens > 0);
    assert!(truth.dropped_from_conversation > 0);
    assert!(truth.tally.categories["subagent"].requests > 0);
    assert!(truth.reasoning_tokens > 0 && truth.tool_use_tokens > 0);
    let trace = dir.path().join("out/gemini.jsonl");
    let (report, output) = import_json("gemini", &home, &["--trace", trace.to_str().unwrap()]);

    assert_report_matches_tally(&report, &truth.tally);
    assert_eq!(
        report["totals"]["reasoning_output_tokens"],
        truth.reasoning_tokens
    );
    assert_eq!(
        report["totals"]["tool_use_input_tokens"],
        truth.tool_use_tokens
    );
    let import = &report["import"];
    assert_eq!(import["agent"], "gemini");
    assert_eq!(import["calls"], truth.tally.totals.requests);
    assert_eq!(import["duplicates"]["repeated_lines"], truth.repeats);
    assert_eq!(import["duplicates"]["copies"], truth.copies);
    let damaged: std::collections::BTreeMap<String, u64> =
        serde_json::from_value(import["damaged"].clone()).unwrap();
    assert_eq!(damaged, truth.damaged);
    // What the files do not record is said plainly.
    assert!(said(
        &report,
        "assumptions",
        "imported from Gemini CLI chat files"
    ));
    assert!(said(&report, "assumptions", "no utility call is recorded"));
    assert!(said(&report, "assumptions", "undercounts by exactly those"));
    assert!(said(
        &report,
        "assumptions",
        &format!(
            "{} counted calls are no longer in the conversation",
            truth.dropped_from_conversation
        )
    ));
    assert!(!said(&report, "assumptions", "Claude Code"));
    assert!(stderr(&output).contains("wrote"), "{}", stderr(&output));

    // The trace is a valid v1 trace, and `report` on it gives the same figures.
    let lines = validate_file(&validator(), &trace);
    assert_eq!(lines as u64, truth.tally.totals.requests + 2);
    let again = assert_trace_reports_the_same(&trace, &report);
    assert!(said(&again, "assumptions", "no utility call is recorded"));

    // --since leaves out the calls before the date, and says how many.
    assert_since_leaves_out_the_calls_before("gemini", &home, &truth.tally);
}

#[test]
fn gemini_import_names_damage_by_file_and_line_and_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("gemini-home");
    let truth = generate(&home, "0.1", 9);
    // The home's .gemini/tmp is read too, and GEMINI_CLI_HOME without a DIR.
    let (report, _) = import_json("gemini", &home.join(".gemini/tmp"), &[]);
    assert_eq!(report["totals"]["requests"], truth.tally.totals.requests);
    let output = agentprof()
        .args(["import", "gemini"])
        .env("GEMINI_CLI_HOME", &home)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains(&format!("Imported {} calls", truth.tally.totals.requests)),
        "{table}"
    );

    // The generator's line that is not JSON and its total that does not add up: both named
    // by file and line; the first skipped, the second used.
    let (report, _) = import_json("gemini", &home, &[]);
    for (place, fate) in truth.damaged_at.iter().zip(["skipped", "used as written"]) {
        assert!(
            said(&report, "warnings", &format!("{fate}: {place}:")),
            "{place} in {}",
            report["warnings"]
        );
    }

    // A malformed line added to a file: counted, named, nothing else lost.
    let file = std::fs::read_dir(home.join(".gemini/tmp/proj-a/chats"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .max()
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "\u{1}garbage that is no JSON");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let (after, _) = import_json("gemini", &home, &[]);
    assert_eq!(after["totals"], report["totals"]);
    assert_eq!(
        after["import"]["damaged"]["not_json"],
        truth.damaged["not_json"] + 1
    );
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        said(&after, "warnings", &format!("{name}:3: not a JSON object")),
        "{}",
        after["warnings"]
    );

    // A missing directory: an input error naming it and GEMINI_CLI_HOME.
    let output = agentprof()
        .args(["import", "gemini", "/nonexistent/gemini-home"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("/nonexistent/gemini-home") && err.contains("GEMINI_CLI_HOME"),
        "{err}"
    );
    assert!(output.stdout.is_empty());
}

/// Two sessions as Gemini CLI 0.61.0 wrote them against a mock API (`say hi`, and `list
/// files` with one tool round), contents shortened.
const REAL_0_61_0: [(&str, &str); 2] = [
    (
        "session-2026-12-07T02-28-0857fb17.jsonl",
        r#"{"sessionId":"0857fb17-808f-49db-9933-43e8fb30b9af","projectHash":"981e49cbfb91e03360ba17b229a229426d95449e27aaa6a649c6ffeade5defb4","startTime":"2026-12-07T02:28:41.928Z","lastUpdated":"2026-12-07T02:28:41.928Z","kind":"main"}
{"$set":{"messages":[{"id":"d04923d38bb0f6017037e74183378ef4","timestamp":"2026-12-07T02:28:41.928Z","type":"user","content":[{"text":"<session_context>\nThis is the Gemini CLI."}]}]}}
{"id":"9ecc9b0f-35bd-4ce8-a0cc-b864a00e6758","timestamp":"2026-12-07T02:28:42.001Z","type":"user","content":[{"text":"say hi"}]}
{"$set":{"lastUpdated":"2026-12-07T02:28:42.001Z"}}
{"id":"a301f78e-8168-447b-841b-0747d42b1922","timestamp":"2026-12-07T02:28:42.107Z","type":"gemini","content":"Hello from mock.","thoughts":[],"tokens":{"input":1200,"output":7,"cached":200,"thoughts":3,"tool":0,"total":1210},"model":"gemini-3.8-flash"}
{"$set":{"lastUpdated":"2026-12-07T02:28:42.107Z"}}
"#,
    ),
    (
        "session-2026-12-07T02-28-b8a05c0b.jsonl",
        r#"{"sessionId":"b8a05c0b-56e9-4398-a75b-af8a3f356b26","projectHash":"981e49cbfb91e03360ba17b229a229426d95449e27aaa6a649c6ffeade5defb4","startTime":"2026-12-07T02:28:56.989Z","lastUpdated":"2026-12-07T02:28:56.989Z","kind":"main"}
{"$set":{"messages":[{"id":"d04923d38bb0f6017037e74183378ef4","timestamp":"2026-12-07T02:28:56.989Z","type":"user","content":[{"text":"<session_context>\nThis is the Gemini CLI."}]}]}}
{"id":"d681ed99-5afd-40f6-811c-844311c9c81a","timestamp":"2026-12-07T02:28:57.030Z","type":"user","content":[{"text":"list files"}]}
{"$set":{"lastUpdated":"2026-12-07T02:28:57.030Z"}}
{"id":"a3a3f256-484f-4209-b719-dfb44d0dfaf9","timestamp":"2026-12-07T02:28:57.132Z","type":"gemini","content":"","thoughts":[],"tokens":{"input":1200,"output":7,"cached":200,"thoughts":3,"tool":0,"total":1210},"model":"gemini-3.8-flash"}
{"$set":{"lastUpdated":"2026-12-07T02:28:57.132Z"}}
{"id":"a3a3f256-484f-4209-b719-dfb44d0dfaf9","timestamp":"2026-12-07T02:28:57.132Z","type":"gemini","content":"","thoughts":[],"tokens":{"input":1200,"output":7,"cached":200,"thoughts":3,"tool":0,"total":1210},"model":"gemini-3.8-flash","toolCalls":[{"id":"list_directory__list_directory_1796610537042_0","name":"list_directory","args":{"dir_path":"."},"result":[{"functionResponse":{"id":"list_directory__list_directory_1796610537042_0","name":"list_directory","response":{"output":"Directory listing"}}}],"status":"success","timestamp":"2026-12-07T02:28:57.180Z","displayName":"ReadFolder","description":"","renderOutputAsMarkdown":true}]}
{"id":"d7ec39aa-6664-4597-b0df-699bd7237a96","timestamp":"2026-12-07T02:28:57.181Z","type":"user","content":[{"functionResponse":{"id":"list_directory__list_directory_1796610537042_0","name":"list_directory","response":{"output":"Directory listing"}}}]}
{"$set":{"lastUpdated":"2026-12-07T02:28:57.182Z"}}
{"id":"fcd4b2f1-415f-444e-9003-9c1092fda8d3","timestamp":"2026-12-07T02:28:57.197Z","type":"gemini","content":"Hello from mock.","thoughts":[],"tokens":{"input":1200,"output":7,"cached":200,"thoughts":3,"tool":0,"total":1210},"model":"gemini-3.8-flash"}
{"$set":{"lastUpdated":"2026-12-07T02:28:57.197Z"}}
"#,
    ),
];

#[test]
fn chat_files_of_the_real_gemini_cli_0_61_0_import_to_their_calls() {
    let dir = tempfile::tempdir().unwrap();
    let chats = dir.path().join(".gemini/tmp/proj/chats");
    std::fs::create_dir_all(&chats).unwrap();
    for (name, text) in REAL_0_61_0 {
        std::fs::write(chats.join(name), text).unwrap();
    }
    let (report, _) = import_json("gemini", dir.path(), &[]);
    // Three model calls (the tool round's message written twice is one), two prompts; the
    // API's usage {prompt 1200, cached 200, candidates 7, thoughts 3} in agentprof's terms.
    assert_eq!(tokens_of(&report["totals"]), [3, 3000, 30, 0, 600]);
    assert_eq!(report["totals"]["reasoning_output_tokens"], 9);
    assert_eq!(report["categories"]["user_turn"]["requests"], 3);
    assert_eq!(report["turns"].as_array().unwrap().len(), 2);
    assert_eq!(report["sessions"].as_object().unwrap().len(), 2);
    assert_eq!(
        report["sessions"]["b8a05c0b-56e9-4398-a75b-af8a3f356b26"]["requests"],
        2
    );
    assert_eq!(report["models"]["gemini-3.8-flash"]["requests"], 3);
    assert_eq!(report["import"]["duplicates"]["repeated_lines"], 1);
    assert!(report["import"]["damaged"].as_object().unwrap().is_empty());
}
