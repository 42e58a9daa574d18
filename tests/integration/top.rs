//! `agentprof top` in a real terminal (tmux) beside a live `run`: the screen shows the
//! categories, their costs and the process tree's RSS growing; keys switch views; a resize
//! redraws at the new size; `q` quits and gives the terminal back. The figures on screen at the
//! end are the report's.

use std::path::Path;
use std::time::Duration;

use agentprof::output::top::format::usd;

use crate::support::{Mock, agentprof, report_json_of, stderr};
use crate::tmux::Tmux;

const LIMIT: Duration = Duration::from_secs(60);

fn terminal_env() -> Vec<(&'static str, String)> {
    vec![
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_string()),
        ("TERM", "xterm-256color".to_string()),
        ("LANG", "C.UTF-8".to_string()),
        (
            "AGENTPROF_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join("agentprof-cache")
                .display()
                .to_string(),
        ),
    ]
}

/// The tree's RSS in MiB on the overview (`│tree  1 proc  123.4 MiB …`).
fn tree_rss_mib(pane: &str) -> Option<f64> {
    let line = pane
        .lines()
        .find(|l| l.trim_start_matches('│').starts_with("tree "))?;
    let mut words = line.split_whitespace().skip_while(|w| *w != "proc");
    words.next()?;
    let number: f64 = words.next()?.parse().ok()?;
    match words.next()? {
        "MiB" => Some(number),
        "GiB" => Some(number * 1024.0),
        "KiB" => Some(number / 1024.0),
        _ => None,
    }
}

#[test]
fn top_beside_a_live_run_shows_spend_and_growing_memory_and_quits_cleanly() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.jsonl");
    let exe = env!("CARGO_BIN_EXE_agentprof").to_string();
    // Three turns, then 25 s idle keeping 10 MiB more every second: RSS must grow on screen.
    let session_state = tempfile::tempdir().unwrap();
    let mut run = vec![
        exe.clone(),
        "run".into(),
        "--trace".into(),
        trace.display().to_string(),
        "--anthropic-upstream".into(),
        mock.url(),
        "--sample-interval".into(),
        "100ms".into(),
        "--".into(),
        exe.clone(),
        "synthetic-agent".into(),
    ];
    run.extend(
        [
            "--turns",
            "3",
            "--think-ms",
            "200",
            "--idle-leak-mib-per-min",
            "600",
            "--linger-ms",
            "25000",
        ]
        .map(String::from),
    );
    let session = Tmux::start(session_state.path(), dir.path(), &terminal_env(), &run);
    session.wait("the trace", LIMIT, |_| trace.exists());

    let top_state = tempfile::tempdir().unwrap();
    let top = Tmux::start(
        top_state.path(),
        dir.path(),
        &terminal_env(),
        &[
            exe.clone(),
            "top".into(),
            "--interval".into(),
            "200ms".into(),
            trace.display().to_string(),
        ],
    );
    top.wait("categories with costs", LIMIT, |t| {
        let pane = t.pane();
        [
            "user_turn",
            "memory_extraction",
            "overhead",
            "This turn",
            "[live ",
        ]
        .iter()
        .all(|s| pane.contains(s))
            && pane
                .lines()
                .any(|l| l.contains("│user_turn") && l.contains('$'))
    });
    top.wait("a memory sample", LIMIT, |t| {
        tree_rss_mib(&t.pane()).is_some()
    });
    let first = tree_rss_mib(&top.pane()).unwrap();
    top.wait("the tree's RSS to grow by 40 MiB", LIMIT, |t| {
        tree_rss_mib(&t.pane()).is_some_and(|now| now >= first + 40.0)
    });

    // Colour on a terminal: categories in their chart colours (24-bit SGR).
    assert!(top.pane_with_escapes().contains("\u{1b}[38;2;"));

    // Views by key.
    top.key("2");
    top.wait("the calls view", LIMIT, |t| {
        t.pane().contains("Last calls, newest first")
    });
    top.key("3");
    top.wait("the memory view", LIMIT, |t| {
        t.pane().contains("sparklines: RSS")
    });
    top.key("4");
    top.wait("the findings view", LIMIT, |t| {
        t.pane().contains("Findings (")
    });
    top.key("Tab");
    top.wait("Tab back to the overview", LIMIT, |t| {
        t.pane().contains("This turn")
    });

    // A smaller terminal: redrawn to fit, nothing wider than it.
    top.resize(90, 30);
    top.wait("a redraw at 90×30", LIMIT, |t| {
        let pane = t.pane();
        pane.contains("Spend: $")
            && pane.lines().count() <= 30
            && pane.lines().all(|l| l.chars().count() <= 90)
            && pane.lines().any(|l| l.chars().count() == 90)
    });
    top.resize(200, 50);
    top.wait("a redraw at 200×50", LIMIT, |t| {
        t.pane().lines().any(|l| l.chars().count() > 150)
    });

    // The session ends; top says so and its figures are the report's.
    session.wait("the run to end", Duration::from_secs(120), |t| {
        t.exit_code().is_some()
    });
    assert_eq!(session.exit_code(), Some(0), "{}", session.pane());
    top.wait("the ended session", LIMIT, |t| {
        t.pane().contains("[ended after")
    });
    let report = report_json_of(&trace);
    let total = usd(report["totals"]["cost_usd"].as_f64().unwrap());
    let requests = report["totals"]["requests"].as_u64().unwrap();
    let pane = top.pane();
    assert!(
        pane.contains(&format!("Spend: {total} ·")),
        "the report says {total}:\n{pane}"
    );
    let total_row = pane
        .lines()
        .find(|l| l.trim_start_matches('│').starts_with("total "))
        .unwrap();
    assert_eq!(
        total_row.split_whitespace().nth(1),
        Some(requests.to_string().as_str()),
        "{total_row}"
    );

    top.key("q");
    top.wait("top to quit", LIMIT, |t| t.exit_code().is_some());
    assert_eq!(top.exit_code(), Some(0));
    assert!(
        !top.pane().contains("Spend:"),
        "the terminal's own screen is back:\n{}",
        top.pane()
    );
}

#[test]
fn no_color_draws_without_colours() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/demo-6-turns.jsonl");
    let mut env = terminal_env();
    env.push(("NO_COLOR", "1".into()));
    let top = Tmux::start(
        dir.path(),
        dir.path(),
        &env,
        &[
            env!("CARGO_BIN_EXE_agentprof").into(),
            "top".into(),
            sample.display().to_string(),
        ],
    );
    top.wait("the overview", LIMIT, |t| {
        t.pane().contains("memory_extraction")
    });
    let screen = top.pane_with_escapes();
    for colour in ["\u{1b}[38;", "\u{1b}[48;", "\u{1b}[31m", "\u{1b}[36m"] {
        assert!(
            !screen.contains(colour),
            "{colour:?} with NO_COLOR:\n{screen:?}"
        );
    }
    top.key("q");
    top.wait("top to quit", LIMIT, |t| t.exit_code().is_some());
}

#[test]
fn once_prints_a_frame_and_bad_input_is_a_clear_usage_error() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/demo-6-turns.jsonl");
    let output = agentprof()
        .args(["top", "--once"])
        .arg(&sample)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let report = report_json_of(&sample);
    let total = usd(report["totals"]["cost_usd"].as_f64().unwrap());
    assert!(text.contains(&format!("Spend: {total} ·")), "{text}");
    assert!(!text.contains('\u{1b}'), "--once to a pipe is plain text");

    // Not a terminal, no --once.
    let output = agentprof().arg("top").arg(&sample).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("stdout is not one (--once"),
        "{}",
        stderr(&output)
    );

    // No trace to watch.
    let empty = tempfile::tempdir().unwrap();
    let output = agentprof()
        .args(["top", "--once", "--dir"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no trace in"),
        "{}",
        stderr(&output)
    );

    // Not a trace.
    let bogus = empty.path().join("notes.jsonl");
    std::fs::write(&bogus, "{\"hello\":1}\n").unwrap();
    let output = agentprof()
        .args(["top", "--once"])
        .arg(&bogus)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("notes.jsonl:1: not an agentprof trace header"));

    // --latest picks the newest trace in --dir.
    std::fs::copy(&sample, empty.path().join("z-run.jsonl")).unwrap();
    let output = agentprof()
        .args(["top", "--once", "--latest", "--dir"])
        .arg(empty.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(text.contains("z-run.jsonl"), "{text}");
}
