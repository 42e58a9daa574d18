//! The import of small rollouts written here: which project each call is reported under.

use std::path::Path;

use super::{HistoryOptions, import};

const DAY: &str = "sessions/2026/12/07";

fn meta(id: &str, cwd: &str, source: &str, forked_from: Option<&str>) -> String {
    let fork = forked_from.map_or_else(String::new, |p| format!(r#""forked_from_id":"{p}","#));
    format!(
        r#"{{"timestamp":"2026-12-07T00:00:00.000Z","type":"session_meta","payload":{{"id":"{id}",{fork}"timestamp":"2026-12-07T00:00:00.000Z","cwd":"{cwd}","originator":"codex_cli_rs","cli_version":"0.148.0","source":{source},"model_provider":"openai"}}}}"#
    )
}

fn count(second: u32, total: u64, last: u64) -> String {
    let usage = |n: u64| {
        format!(
            r#"{{"input_tokens":{n},"cached_input_tokens":0,"output_tokens":1,"reasoning_output_tokens":0,"total_tokens":{}}}"#,
            n + 1
        )
    };
    format!(
        r#"{{"timestamp":"2026-12-07T00:00:{second:02}.000Z","type":"event_msg","payload":{{"type":"token_count","info":{{"total_token_usage":{},"last_token_usage":{},"model_context_window":272000}},"rate_limits":null}}}}"#,
        usage(total),
        usage(last)
    )
}

fn write(home: &Path, id: &str, lines: &[String]) {
    let dir = home.join(DAY);
    std::fs::create_dir_all(&dir).unwrap();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(
        dir.join(format!("rollout-2026-12-07T00-00-00-{id}.jsonl")),
        text,
    )
    .unwrap();
}

/// `(agent_id or session, input tokens, project)` of every call, in time order.
fn projects(home: &Path) -> Vec<(String, u64, Option<String>)> {
    let history = import(&HistoryOptions {
        dir: Some(home.to_path_buf()),
        threads: 1,
        ..HistoryOptions::default()
    })
    .unwrap();
    history
        .calls
        .iter()
        .map(|c| {
            let who = c.agent_id.clone().or(c.session_id.clone()).unwrap();
            (who, c.usage.unwrap().input_tokens, c.project.clone())
        })
        .collect()
}

#[test]
fn each_thread_s_calls_are_in_its_own_session_meta_cwd() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    // A main thread in /work/app, and a spawned agent of it (its own rollout, its own cwd).
    write(
        home,
        "main",
        &[
            meta("main", "/work/app", r#""exec""#, None),
            count(1, 10, 10),
        ],
    );
    let spawn = r#"{"subagent":{"thread_spawn":{"parent_thread_id":"main","depth":1,"agent_role":"worker"}}}"#;
    write(
        home,
        "spawned",
        &[meta("spawned", "/work/app", spawn, None), count(2, 20, 20)],
    );
    // A user fork made in /work/other: its own session_meta first, then the parent's lines
    // copied (its session_meta naming /work/app among them), then a call of its own.
    write(
        home,
        "fork",
        &[
            meta("fork", "/work/other", r#""cli""#, Some("main")),
            meta("main", "/work/app", r#""exec""#, None),
            count(1, 10, 10),
            count(3, 40, 30),
        ],
    );
    // A rollout with an empty cwd (Codex's default) names no project.
    write(
        home,
        "nowhere",
        &[meta("nowhere", "", r#""exec""#, None), count(4, 50, 50)],
    );
    let app = Some("/work/app".to_string());
    assert_eq!(
        projects(home),
        [
            ("main".into(), 10, app.clone()),
            ("spawned".into(), 20, app),
            ("fork".into(), 30, Some("/work/other".into())),
            ("nowhere".into(), 50, None),
        ]
    );
}
