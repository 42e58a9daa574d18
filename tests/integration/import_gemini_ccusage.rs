//! `agentprof import gemini` and ccusage's Gemini CLI importer (`ccusage gemini daily`, npm
//! `ccusage` pinned in tests/ccusage, installed by scripts/test) on the same generated history:
//! agentprof equals the ground truth, and ccusage equals it adjusted by exactly what ccusage
//! 20.0.24 counts differently (docs/performance.md "Gemini CLI import"):
//! - its outputTokens leave thoughts out (they are only in its totalTokens);
//! - it deduplicates message ids per file, so a legacy `.json` session and the `.jsonl` Gemini
//!   CLI converted it to on resume both count the legacy file's calls, and so do a slug
//!   directory's chat files and their copies left in the sha256-named directory the slug
//!   was migrated from;
//! - a message whose `total` is not input + output + thoughts + tool is read as if its `input`
//!   excluded `cached` (cached counted twice), its thoughts left out of totalTokens.
//!
//! Like agentprof it counts each gemini message id with tokens once however often it is
//! written, keeps calls a rewind or a compression dropped, reads sub-agent files and legacy
//! `.json` sessions, and puts `tool` tokens in its input.

use std::path::Path;

use agentprof::demo::gemini_chats::GeminiTruth;
use serde_json::Value;

use crate::support::{agentprof, import_json, stderr, tokens_of, truth_tokens};

/// `agentprof gen-gemini-chats` into `dir`; returns the ground truth it wrote.
fn generate(dir: &Path, size_mb: &str, seed: u64) -> GeminiTruth {
    let output = agentprof()
        .args(["gen-gemini-chats", "--out"])
        .arg(dir)
        .args(["--size-mb", size_mb, "--seed", &seed.to_string()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&std::fs::read(dir.join("ground-truth.json")).unwrap()).unwrap()
}

/// Tokens of gemini messages in Gemini's terms, summed.
#[derive(Debug, Default, PartialEq)]
struct GeminiTokens {
    calls: u64,
    input: u64,
    cached: u64,
    output: u64,
    thoughts: u64,
    tool: u64,
}

impl GeminiTokens {
    fn add(&mut self, tokens: &Value) {
        let get = |k: &str| {
            tokens[k]
                .as_u64()
                .unwrap_or_else(|| panic!("{k}: {tokens}"))
        };
        self.calls += 1;
        self.input += get("input");
        self.cached += get("cached");
        self.output += get("output");
        self.thoughts += get("thoughts");
        self.tool += get("tool");
    }
}

/// The calls of every legacy `session-*.json` with the `.jsonl` it was converted to beside it,
/// and how many messages those files hold.
fn converted_legacy_calls(home: &Path) -> (GeminiTokens, u64) {
    let mut calls = GeminiTokens::default();
    let mut messages = 0;
    for project in std::fs::read_dir(home.join(".gemini/tmp")).unwrap() {
        let chats = project.unwrap().path().join("chats");
        let Ok(entries) = std::fs::read_dir(&chats) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json")
                || !path.with_extension("jsonl").exists()
            {
                continue;
            }
            let session: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            for message in session["messages"].as_array().unwrap() {
                messages += 1;
                if message["type"] == "gemini" && message["tokens"].is_object() {
                    calls.add(&message["tokens"]);
                }
            }
        }
    }
    (calls, messages)
}

/// The calls of chat files that are also, at the same place, in another project directory
/// (a migration to slugs copies the old directory and leaves it), counted once per extra
/// copy, and how many message ids those copies hold.
fn migrated_calls(home: &Path) -> (GeminiTokens, u64) {
    let tmp = home.join(".gemini/tmp");
    let mut seen: std::collections::HashMap<std::path::PathBuf, u32> = Default::default();
    let mut calls = GeminiTokens::default();
    let mut messages = 0;
    for project in std::fs::read_dir(&tmp).unwrap() {
        let project = project.unwrap().path();
        for path in crate::support::files_below(&project.join("chats")) {
            let place = path.strip_prefix(&project).unwrap().to_path_buf();
            let copies = seen.entry(place).or_default();
            *copies += 1;
            if *copies == 2 {
                let (file_calls, ids) = jsonl_calls(&path);
                messages += ids;
                for tokens in file_calls {
                    calls.add(&tokens);
                }
            }
        }
    }
    (calls, messages)
}

/// A `.jsonl` chat's gemini messages with tokens, each id once at its last record, and how
/// many message ids it holds (its own records and `$set.messages` lists).
fn jsonl_calls(path: &Path) -> (Vec<Value>, u64) {
    let mut ids: Vec<String> = Vec::new();
    let mut tokens: std::collections::HashMap<String, Value> = Default::default();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let Ok(record) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let listed = record["$set"]["messages"].as_array().cloned();
        for message in listed.unwrap_or_else(|| vec![record]) {
            let Some(id) = message["id"].as_str() else {
                continue;
            };
            if !ids.iter().any(|i| i == id) {
                ids.push(id.to_string());
            }
            if message["type"] == "gemini" && message["tokens"].is_object() {
                tokens.insert(id.to_string(), message["tokens"].clone());
            }
        }
    }
    (tokens.into_values().collect(), ids.len() as u64)
}

/// The calls the ground truth names as written with a total that does not add up.
fn mismatched_calls(home: &Path, truth: &GeminiTruth) -> GeminiTokens {
    let mut calls = GeminiTokens::default();
    for at in &truth.damaged_at {
        let (path, line) = at.rsplit_once(':').unwrap();
        let text = std::fs::read_to_string(home.join(path)).unwrap();
        let line = text
            .lines()
            .nth(line.parse::<usize>().unwrap() - 1)
            .unwrap();
        if let Ok(message) = serde_json::from_str::<Value>(line)
            && message["tokens"].is_object()
        {
            calls.add(&message["tokens"]);
        }
    }
    calls
}

#[test]
fn ccusage_equals_the_ground_truth_adjusted_by_what_it_counts_differently() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("gemini-home");
    let truth = generate(&home, "1", 5);
    // The traps ccusage reads as agentprof does are in the history too.
    assert!(truth.repeats > 0 && truth.dropped_from_conversation > 0);
    assert!(truth.without_tokens > 0 && truth.tally.categories["subagent"].requests > 0);
    assert!(truth.reasoning_tokens > 0 && truth.tool_use_tokens > 0);

    let (ours, _) = import_json("gemini", &home, &[]);
    assert_eq!(
        tokens_of(&ours["totals"]),
        truth_tokens(&truth.tally.totals)
    );
    assert_eq!(
        ours["totals"]["reasoning_output_tokens"],
        truth.reasoning_tokens
    );

    let (legacy, legacy_messages) = converted_legacy_calls(&home);
    let (migrated, migrated_messages) = migrated_calls(&home);
    assert_eq!(legacy_messages + migrated_messages, truth.copies);
    assert!(legacy.calls > 0 && migrated.calls > 0);
    // What ccusage counts twice: both.
    let copied = GeminiTokens {
        calls: legacy.calls + migrated.calls,
        input: legacy.input + migrated.input,
        cached: legacy.cached + migrated.cached,
        output: legacy.output + migrated.output,
        thoughts: legacy.thoughts + migrated.thoughts,
        tool: legacy.tool + migrated.tool,
    };
    let mismatched = mismatched_calls(&home, &truth);
    assert_eq!(truth.damaged.get("total_mismatch"), Some(&1));
    assert_eq!(mismatched.calls, 1);

    let t = &truth.tally.totals;
    let input = t.input_tokens + (copied.input - copied.cached + copied.tool) + mismatched.cached;
    let cached = t.cache_read_input_tokens + copied.cached;
    let output = t.output_tokens - truth.reasoning_tokens + copied.output;
    let total =
        input + cached + output + truth.reasoning_tokens + copied.thoughts - mismatched.thoughts;
    let theirs = crate::support::ccusage_totals("gemini", "GEMINI_DATA_DIR", &home);
    let field = |k: &str| {
        theirs[k]
            .as_u64()
            .unwrap_or_else(|| panic!("ccusage {k}: {theirs}"))
    };
    assert_eq!(field("inputTokens"), input, "{theirs}");
    assert_eq!(field("cacheReadTokens"), cached, "{theirs}");
    assert_eq!(field("outputTokens"), output, "{theirs}");
    assert_eq!(field("cacheCreationTokens"), 0, "{theirs}");
    assert_eq!(field("totalTokens"), total, "{theirs}");
    // The largest difference: thoughts, a quarter of the output agentprof reports.
    assert!(truth.reasoning_tokens * 5 > t.output_tokens, "{truth:?}");
}
