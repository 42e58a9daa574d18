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
fn an_agent_that_is_not_installed_is_named_with_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    for (program, install) in [
        ("/nonexistent/codex", "npm install -g @openai/codex"),
        (
            "/nonexistent/claude",
            "npm install -g @anthropic-ai/claude-code",
        ),
    ] {
        let _ = std::fs::remove_file(&trace);
        expect_usage_error(
            &[
                "run",
                "--trace",
                trace.to_str().unwrap(),
                "--",
                program,
                "exec",
            ],
            &format!(
                "cannot start \"{program}\": No such file or directory (os error 2); is it installed? ({install})"
            ),
        );
    }
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

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let trace =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/demo-6-turns.jsonl");
    for args in [vec!["report", "--json"], vec!["report", "--by", "turn"]] {
        // `agentprof report … | head -c 1`: the reader goes away after one byte. The same trace
        // 150 times makes the output far larger than a pipe's buffer, so the writer does hit
        // the closed pipe.
        let mut child = agentprof()
            .args(&args)
            .args(std::iter::repeat_n(&trace, 150))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            !stderr(&output).contains("Broken pipe"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}
