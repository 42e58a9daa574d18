//! Bad input: a clear message naming what is wrong, exit code 2.

use crate::support::{agentprof, stderr};

fn expect_usage_error(args: &[&str], needle: &str) {
    let output = agentprof().args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{args:?}: {}",
        stderr(&output)
    );
    let message = stderr(&output);
    assert!(
        message.contains(needle),
        "{args:?}: expected {needle:?} in {message:?}"
    );
}

#[test]
fn wrong_flag() {
    expect_usage_error(&["run", "--no-such-flag", "--", "true"], "--no-such-flag");
}

#[test]
fn missing_command() {
    expect_usage_error(&["run"], "COMMAND");
}

#[test]
fn command_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    expect_usage_error(
        &[
            "run",
            "--trace",
            trace.to_str().unwrap(),
            "--",
            "/nonexistent/agent",
        ],
        "/nonexistent/agent",
    );
}

#[test]
fn non_loopback_listen_needs_allow_remote() {
    expect_usage_error(
        &["run", "--listen", "0.0.0.0:0", "--", "true"],
        "--allow-remote",
    );
}

#[test]
fn bad_upstream_url() {
    expect_usage_error(
        &["run", "--anthropic-upstream", "ftp://x", "--", "true"],
        "--anthropic-upstream",
    );
}

#[test]
fn bad_sample_interval() {
    expect_usage_error(
        &["run", "--sample-interval", "fast", "--", "true"],
        "--sample-interval",
    );
}

#[test]
fn unreadable_trace() {
    expect_usage_error(
        &["report", "/nonexistent/trace.jsonl"],
        "/nonexistent/trace.jsonl",
    );
}

#[test]
fn not_a_trace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.jsonl");
    std::fs::write(&path, "{\"hello\": 1}\n").unwrap();
    expect_usage_error(&["report", path.to_str().unwrap()], "notes.jsonl:1");
}
