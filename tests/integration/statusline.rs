//! `agentprof statusline` fed what Claude Code really gives its status command (captured from
//! the pinned versions, `tests/fixtures/statusline/`): from a transcript without a run, from a
//! live trace under `run` (only what the trace gained since the last refresh is read), and bad
//! input printed as the line itself. The real Claude Code running it in its status bar is in
//! `claude_code::interactive`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use agentprof::output::top::format::usd;

use crate::support::{Mock, agentprof, report_json_of, run_under_agentprof, stderr};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/statusline")
        .join(name)
}

fn input(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

/// `agentprof statusline ARGS` with `stdin`, its own cache in `cache`, no `AGENTPROF_TRACE`.
fn statusline(stdin: &str, cache: &Path, args: &[&str]) -> Output {
    let mut child = agentprof()
        .arg("statusline")
        .args(args)
        .env("AGENTPROF_CACHE_DIR", cache)
        .env_remove("AGENTPROF_TRACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn line(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "{text:?}");
    text.trim_end().to_string()
}

#[test]
fn a_real_claude_code_status_json_without_a_run_reads_the_sessions_transcript() {
    let mut json = input("claude-code-2.1.197-input.json");
    let session = json["session_id"].as_str().unwrap().to_string();
    let claude = tempfile::tempdir().unwrap();
    let project = claude.path().join("projects/-tmp-sl-work");
    std::fs::create_dir_all(&project).unwrap();
    let transcript = project.join(format!("{session}.jsonl"));
    std::fs::copy(fixture("claude-code-2.1.197-transcript.jsonl"), &transcript).unwrap();
    // Another session of the same project: not this one's cost.
    std::fs::copy(
        fixture("claude-code-2.1.197-transcript.jsonl"),
        project.join("00000000-0000-0000-0000-000000000000.jsonl"),
    )
    .unwrap();
    json["transcript_path"] = transcript.display().to_string().into();
    let cache = tempfile::tempdir().unwrap();

    let first = line(&statusline(&json.to_string(), cache.path(), &[]));
    // Claude Code's own figure for the session, in the same JSON: the prices agree.
    let theirs = usd(json["cost"]["total_cost_usd"].as_f64().unwrap());
    assert_eq!(
        first,
        format!("agentprof · session {theirs} · overhead 0% ($0.0000) · from transcript")
    );
    // The second refresh comes from the import's cache of this session, with the same figures.
    let cached: Vec<_> = std::fs::read_dir(cache.path().join("history-v1"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        cached.len() == 1 && cached[0].starts_with("claude-code-session-"),
        "{cached:?}"
    );
    assert_eq!(
        line(&statusline(&json.to_string(), cache.path(), &[])),
        first
    );
}

#[test]
fn under_a_live_run_the_figures_are_the_traces_and_only_what_it_gained_is_read() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_agentprof");
    let output = run_under_agentprof(
        &mock,
        dir.path(),
        &[exe, "synthetic-agent", "--turns", "2", "--think-ms", "0"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let trace = dir.path().join("trace.jsonl");
    let report = report_json_of(&trace);
    let sessions = report["sessions"].as_object().unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let (session, totals) = sessions.iter().next().unwrap();
    let cost = totals["cost_usd"].as_f64().unwrap();
    let user = report["categories"]["user_turn"]["cost_usd"]
        .as_f64()
        .unwrap();
    let expected = format!(
        "agentprof · session {} · overhead {:.0}% ({})",
        usd(cost),
        (cost - user) * 100.0 / cost,
        usd(cost - user)
    );

    let mut json = input("claude-code-2.1.332-input.json");
    json["session_id"] = session.clone().into();
    let cache = tempfile::tempdir().unwrap();

    // Claude Code shows the bar before its first call: the session has cost nothing yet.
    let header_only = dir.path().join("started.jsonl");
    let text = std::fs::read_to_string(&trace).unwrap();
    std::fs::write(&header_only, text.split_inclusive('\n').next().unwrap()).unwrap();
    assert_eq!(
        line(&statusline(
            &json.to_string(),
            cache.path(),
            &["--no-cache", "--trace", header_only.to_str().unwrap()]
        )),
        "agentprof · session $0.0000 · overhead -"
    );

    let args = ["--trace", trace.to_str().unwrap()];
    // The run has ended (its trace has a footer): no RSS, since nothing is running.
    assert_eq!(
        line(&statusline(&json.to_string(), cache.path(), &args)),
        expected
    );

    // The next refresh resumes where the last stopped: what was kept is not read again. A
    // record appended since is added.
    let kept_dir = cache.path().join("statusline-v1");
    let kept_file = std::fs::read_dir(&kept_dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "json"))
        .unwrap();
    let mut kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&kept_file).unwrap()).unwrap();
    assert_eq!(
        kept["offset"].as_u64(),
        Some(std::fs::metadata(&trace).unwrap().len())
    );
    kept["totals"]["by_session"][session]["total"]["cost_usd"] = 100.0.into();
    std::fs::write(&kept_file, kept.to_string()).unwrap();
    let resumed = line(&statusline(&json.to_string(), cache.path(), &args));
    assert!(
        resumed.starts_with("agentprof · session $100.00 ·"),
        "{resumed}"
    );
    // Without the cache everything is read: the trace's figures again.
    let fresh = line(&statusline(
        &json.to_string(),
        cache.path(),
        &["--no-cache", "--trace", trace.to_str().unwrap()],
    ));
    assert_eq!(fresh, expected);
}

#[test]
fn run_names_the_live_trace_in_the_agents_environment() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let output = run_under_agentprof(
        &mock,
        dir.path(),
        &["sh", "-c", "printf '%s' \"$AGENTPROF_TRACE\""],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        dir.path().join("trace.jsonl").display().to_string()
    );
}

#[test]
fn a_problem_is_the_line_itself_and_the_exit_code_stays_0() {
    let cache = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "not json",
            &[],
            "agentprof: stdin is not Claude Code's status JSON",
        ),
        ("", &[], "agentprof: no status JSON on stdin"),
        (
            "{}",
            &[],
            "agentprof: the status JSON names no transcript_path",
        ),
        (
            "{\"session_id\":\"s\"}",
            &["--trace", "/nonexistent/trace.jsonl"],
            "agentprof: cannot read trace /nonexistent/trace.jsonl",
        ),
    ];
    for (stdin, args, expected) in cases {
        let output = statusline(stdin, cache.path(), args);
        let text = line(&output);
        assert!(text.starts_with(expected), "{stdin:?}: {text}");
        assert!(stderr(&output).contains(&expected["agentprof: ".len()..]));
    }
}

#[test]
fn a_refresh_sweeps_caches_nothing_has_written_for_30_days() {
    let cache = tempfile::tempdir().unwrap();
    let written = |name: &str, days_ago: u64| {
        let path = cache.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let at = std::time::SystemTime::now() - std::time::Duration::from_secs(days_ago * 86_400);
        std::fs::File::create(&path)
            .unwrap()
            .set_modified(at)
            .unwrap();
        path
    };
    let stale_kept = written("statusline-v1/0123456789abcdef.json", 31);
    let stale_session = written("history-v1/claude-code-session-0123456789abcdef.bin", 31);
    let recent_kept = written("statusline-v1/fedcba9876543210.json", 29);
    let whole_history = written("history-v1/claude-code-0123456789abcdef.bin", 31);

    // Even a refresh that has nothing to show sweeps.
    let text = line(&statusline("{}", cache.path(), &[]));
    assert!(text.starts_with("agentprof: "), "{text}");
    assert!(!stale_kept.exists() && !stale_session.exists());
    assert!(recent_kept.exists() && whole_history.exists());
    assert!(cache.path().join("statusline-v1/.swept").exists());
}
