//! A sub-agent from the real Codex CLI: `codex exec review --uncommitted` runs its review in a
//! thread of its own, a child of the `exec` thread, over the same WebSocket. agentprof must
//! charge the review's calls to `subagent` with the child thread as `agent_id` and the `exec`
//! thread (the session id Codex prints) as `parent_agent_id`, each with the mock's exact usage.
//!
//! A review rather than a spawned agent: `codex exec` 0.171.0 answers a `spawn_agent` function
//! call from the model with "unsupported call: spawn_agent" (with `features.multi_agent` or
//! `multi_agent_v2` on, too), while it runs `exec_command` — its multi-agent tools are not
//! there in `exec`.

use std::path::Path;
use std::process::Command;

use agentprof::observation::{Category, Usage};
use agentprof::output::trace::read_trace;

use crate::codex::{NEWEST, OLDEST, codex_bin_at};
use crate::support::{Mock, stderr};

/// A git repository with one commit and one uncommitted file: something to review.
fn repository_with_a_change(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args(["-c", "user.email=test@example.com", "-c", "user.name=test"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "init"]);
    std::fs::write(dir.join("main.rs"), "fn main() {}\n").unwrap();
}

fn codex_review_is_a_subagent_of_its_exec_thread(pin: &str) {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let codex = codex_bin_at(dir.path(), pin);
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let repo = dir.path().join("repo");
    repository_with_a_change(&repo);
    let trace_path = dir.path().join("trace.jsonl");
    // Bounded: a Codex that cannot reach the proxy retries for minutes.
    let output = Command::new("timeout")
        .arg("180")
        .arg(env!("CARGO_BIN_EXE_agentprof"))
        .current_dir(&repo)
        .env("CODEX_HOME", &home)
        .env("OPENAI_API_KEY", "sk-test-codex-review-0123456789")
        .env_remove("OPENAI_BASE_URL")
        .args(["run", "--trace"])
        .arg(&trace_path)
        .args(["--openai-upstream", &mock.url(), "--"])
        .arg(&codex)
        .args(["exec", "review", "--uncommitted"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    let err = stderr(&output);
    assert!(output.status.success(), "codex exec review:\n{out}\n{err}");
    // The exec thread: the session id Codex prints in its banner.
    let parent = err
        .lines()
        .chain(out.lines())
        .find_map(|l| l.strip_prefix("session id: "))
        .unwrap_or_else(|| panic!("Codex printed no session id:\n{out}\n{err}"))
        .trim()
        .to_string();

    let trace = read_trace(&trace_path).unwrap();
    let records = mock.records();
    let calls: Vec<_> = trace.calls.iter().filter(|c| c.is_model_call()).collect();
    let mut review_calls = 0;
    let mut children = std::collections::BTreeSet::new();
    for call in &calls {
        // Over the WebSocket a call is known by its response id.
        let record = records
            .iter()
            .find(|r| r.response_id.is_some() && r.response_id == call.response_id)
            .unwrap_or_else(|| panic!("no mock record for {call:?}"));
        assert_eq!(call.usage, record.usage, "{call:?}");
        assert!(call.error.is_none(), "{call:?}");
        assert_eq!(
            call.session_id.as_deref(),
            Some(parent.as_str()),
            "{call:?}"
        );
        if call.classified_by == "rule:codex-prewarm" {
            // Each thread warms the connection first: no answer asked, zero tokens.
            assert_eq!(call.usage, Some(Usage::default()), "{call:?}");
            continue;
        }
        review_calls += 1;
        assert_eq!(call.category, Category::Subagent, "{call:?}");
        assert_eq!(call.classified_by, "rule:codex-review", "{call:?}");
        assert_eq!(
            call.parent_agent_id.as_deref(),
            Some(parent.as_str()),
            "{call:?}"
        );
        let child = call
            .agent_id
            .clone()
            .expect("a review call names its thread");
        assert_ne!(child, parent);
        children.insert(child);
    }
    assert!(review_calls >= 1, "no review call: {calls:?}\n{err}");
    assert_eq!(children.len(), 1, "one review thread: {children:?}");
    // The trace holds every call the mock answered, and nothing is the user's own turn:
    // `exec review` types no prompt.
    let served = records.iter().filter(|r| r.response_id.is_some()).count();
    assert_eq!(calls.len(), served);
    assert!(calls.iter().all(|c| c.category != Category::UserTurn));
}

#[test]
fn codex_review_is_a_subagent_of_its_exec_thread_on_the_oldest_pinned_codex() {
    codex_review_is_a_subagent_of_its_exec_thread(OLDEST);
}

#[test]
fn codex_review_is_a_subagent_of_its_exec_thread_on_the_newest_pinned_codex() {
    codex_review_is_a_subagent_of_its_exec_thread(NEWEST);
}
