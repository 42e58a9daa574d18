//! Interactive Claude Code in a real terminal (tmux) under `agentprof run`: three prompts,
//! `/compact`, one more prompt, `/exit` — typed the way a user types them, on both pinned
//! versions, with the default model.
//!
//! Seen on the wire (both versions): a title call beside the first prompt, one main-loop call
//! per prompt, one compaction call for `/compact`, nothing for `/exit`. The checks are the
//! matrix's: per category exact against the upstream's record, the rules alone agreeing with
//! Claude Code's own telemetry, one turn per typed prompt, a price for every call.

use std::time::{Duration, Instant};

use agentprof::demo::mock_upstream::{MockConfig, MockRecord, Script};
use agentprof::observation::Category;
use agentprof::output::top::format::usd;

use super::KEY;
use super::truth::{check_report, check_rules, truth};
use super::versions::{ClaudeCode, NEWEST, OLDEST, claude_code};
use super::{claude_home, script_path};
use crate::support::{Mock, report_json, trace};
use crate::tmux::Tmux;

/// What the user types, in order; `/exit` ends the session.
const PROMPTS: [&str; 4] = [
    "What is two plus two?",
    "And three plus three?",
    "Now four plus four?",
    "What was my first question?",
];
const COMPACT_AFTER: usize = 3;

/// Generous bounds: every step takes 1–4 s here, the first start up to 4 s.
const START: Duration = Duration::from_secs(60);
const ANSWER: Duration = Duration::from_secs(120);
/// The screen, the trace and the upstream's record stay unchanged this long: the answer is in.
const SETTLE: Duration = Duration::from_millis(1500);

/// Screens that wait for a key: the test must never sit in front of one until it times out.
const DIALOGS: [(&str, &str); 7] = [
    ("Do you trust the files in this folder", "folder trust"),
    ("Detected a custom API key", "API key approval"),
    ("Select login method", "login (onboarding not done)"),
    ("Choose the text style", "onboarding"),
    ("We're changing auto mode", "auto-mode billing notice"),
    ("Do you want to proceed?", "tool permission"),
    ("Enter to continue", "an unknown notice"),
];

/// The text in Claude Code's input box (between the last two horizontal rules, after `❯`), or
/// `None` when no box is shown.
fn input_box(pane: &str) -> Option<String> {
    let lines: Vec<&str> = pane.trim_end().lines().collect();
    let rules: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim();
            l.starts_with("────") && l.chars().all(|c| c == '─')
        })
        .map(|(i, _)| i)
        .collect();
    let [.., top, bottom] = rules[..] else {
        return None;
    };
    let body = &lines[top + 1..bottom];
    let first = body.first()?.trim_start();
    if !first.starts_with('❯') && !first.starts_with('>') {
        return None;
    }
    let text: Vec<&str> = body.iter().map(|l| l.trim()).collect();
    Some(
        text.join(" ")
            .trim_start_matches(['❯', '>'])
            .trim()
            .to_string(),
    )
}

/// Something is running: the spinner line's "esc to interrupt".
fn busy(pane: &str) -> bool {
    pane.to_lowercase().contains("to interrupt")
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect()
}

fn check_dialogs(pane: &str) {
    for (marker, what) in DIALOGS {
        assert!(
            !pane.contains(marker),
            "Claude Code shows a dialog ({what}):\n{pane}"
        );
    }
}

/// Model calls the trace has recorded so far (complete lines only).
fn traced_model_calls(path: &std::path::Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n') && l.contains("\"type\":\"call\""))
        .filter(|l| !l.contains("\"api\":\"other\""))
        .count()
}

fn upstream_model_calls(records: &[MockRecord]) -> usize {
    records.iter().filter(|r| r.method == "POST").count()
}

struct Session<'a> {
    tmux: Tmux,
    mock: &'a Mock,
    trace: std::path::PathBuf,
    /// What was typed last and may still sit in the box (whitespace removed).
    pending: Option<String>,
}

impl Session<'_> {
    /// The box is shown, nothing runs, and it no longer holds what was typed last (it may show
    /// a placeholder or a suggestion).
    fn idle(&self, pane: &str) -> bool {
        check_dialogs(pane);
        let Some(text) = input_box(pane) else {
            return false;
        };
        !busy(pane)
            && self
                .pending
                .as_ref()
                .is_none_or(|typed| !squash(&text).contains(typed.as_str()))
    }

    /// Waits until idle, every upstream call is in the trace, and nothing changed for SETTLE.
    fn settle(&self, what: &str, limit: Duration) {
        let mut last: Option<(String, usize, usize)> = None;
        let mut since = Instant::now();
        self.tmux.wait(what, limit, |tmux| {
            let pane = tmux.pane();
            let upstream = upstream_model_calls(&self.mock.records());
            let traced = traced_model_calls(&self.trace);
            if !self.idle(&pane) || upstream != traced {
                last = None;
                return false;
            }
            let now = (pane, upstream, traced);
            if last.as_ref() != Some(&now) {
                last = Some(now);
                since = Instant::now();
                return false;
            }
            since.elapsed() >= SETTLE
        });
    }

    /// Types `text`, checks the box shows it, presses Enter until it is submitted.
    fn submit(&mut self, text: &str) {
        self.settle(&format!("an idle input box before typing {text:?}"), ANSWER);
        self.tmux.type_text(text);
        let typed = squash(text);
        self.tmux
            .wait(&format!("{text:?} in the input box"), ANSWER, |t| {
                input_box(&t.pane()).is_some_and(|b| squash(&b).contains(&typed))
            });
        // A slash command's menu settles before Enter picks the highlighted entry.
        std::thread::sleep(Duration::from_millis(300));
        self.pending = Some(typed.clone());
        for _ in 0..3 {
            self.tmux.enter();
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                let pane = self.tmux.pane();
                if self.tmux.exit_code().is_some()
                    || !input_box(&pane).is_some_and(|b| squash(&b).contains(&typed))
                {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("{text:?} was not submitted:\n{}", self.tmux.pane());
    }

    /// Types a prompt or a command that calls the model, and waits for its answer.
    fn ask(&mut self, text: &str) {
        let before = traced_model_calls(&self.trace);
        self.submit(text);
        self.tmux
            .wait(&format!("a model call for {text:?}"), ANSWER, |_| {
                traced_model_calls(&self.trace) > before
            });
        self.settle(&format!("the answer to {text:?}"), ANSWER);
    }
}

/// The status bar shows `agentprof statusline`'s line, fed by Claude Code and reading the live
/// trace through `AGENTPROF_TRACE`: this session's cost as the report of the trace so far says,
/// its overhead share, and the tree's RSS.
fn check_status_line(session: &Session<'_>, label: &str) {
    let mut expected = String::new();
    let mut polls = 0;
    session.tmux.wait(
        "agentprof's status line with the trace's figures",
        ANSWER,
        |tmux| {
            // The report is recomputed every second: a late background call may still move it.
            if polls % 10 == 0 {
                let report = crate::support::report_json_of(&session.trace);
                let sessions = report["sessions"].as_object().unwrap();
                assert_eq!(sessions.len(), 1, "{label}: {sessions:?}");
                let cost = sessions.values().next().unwrap()["cost_usd"]
                    .as_f64()
                    .unwrap();
                let user = report["categories"]["user_turn"]["cost_usd"]
                    .as_f64()
                    .unwrap();
                expected = format!(
                    "agentprof · session {} · overhead {:.0}% ({}) · RSS ",
                    usd(cost),
                    (cost - user) * 100.0 / cost,
                    usd(cost - user)
                );
            }
            polls += 1;
            let pane = tmux.pane();
            pane.lines().any(|l| {
                l.contains(&expected) && l.trim_end().ends_with("MiB") && !l.contains("agentprof: ")
            })
        },
    );
}

fn interactive_session(cc: &ClaudeCode) {
    let label = format!("Claude Code {} ({}), interactive", cc.version, cc.pin);
    let mock = Mock::start_with(MockConfig {
        script: Some(Script::load(&script_path("interactive.json")).unwrap()),
        ..MockConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // Claude Code keys its trust and project settings by the canonical path.
    let work_path = work.path().canonicalize().unwrap();
    let home = claude_home(&[&work_path]);
    // agentprof's own line in Claude Code's status bar, as the README tells users to set it.
    std::fs::create_dir_all(home.path().join(".claude")).unwrap();
    std::fs::write(
        home.path().join(".claude/settings.json"),
        serde_json::json!({"statusLine": {
            "type": "command",
            "command": format!("{} statusline", env!("CARGO_BIN_EXE_agentprof")),
            "refreshInterval": 1,
        }})
        .to_string(),
    )
    .unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let env = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_string()),
        ("HOME", home.path().display().to_string()),
        ("TERM", "xterm-256color".to_string()),
        ("LANG", "C.UTF-8".to_string()),
        ("ANTHROPIC_API_KEY", KEY.to_string()),
        ("DISABLE_AUTOUPDATER", "1".to_string()),
    ];
    let command = [
        env!("CARGO_BIN_EXE_agentprof").to_string(),
        "run".into(),
        "--trace".into(),
        trace_path.display().to_string(),
        "--anthropic-upstream".into(),
        mock.url(),
        "--".into(),
        cc.bin.display().to_string(),
    ];
    let mut session = Session {
        tmux: Tmux::start(dir.path(), &work_path, &env, &command),
        mock: &mock,
        trace: trace_path,
        pending: None,
    };
    session.settle("Claude Code's input box (started)", START);
    for (i, prompt) in PROMPTS.iter().enumerate() {
        if i == COMPACT_AFTER {
            session.ask("/compact");
        }
        session.ask(prompt);
    }
    check_status_line(&session, &label);
    session.submit("/exit");
    session
        .tmux
        .wait("agentprof to exit", ANSWER, |t| t.exit_code().is_some());
    assert_eq!(
        session.tmux.exit_code(),
        Some(0),
        "{label}: agentprof run exits with Claude Code's code; screen:\n{}",
        session.tmux.pane()
    );

    let records = mock.records();
    let trace = trace(dir.path());
    let truth = truth(&records, &trace);
    check_rules(&trace, &truth, &label);
    let report = report_json(dir.path());
    let turns = report["turns"].as_array().unwrap();
    assert_eq!(
        turns.len(),
        PROMPTS.len(),
        "{label}: one turn per typed prompt (not /compact, not /exit): {turns:#?}"
    );
    let calls_of = |category: Category| truth.categories.get(&category).map_or(0, |c| c.0);
    assert_eq!(calls_of(Category::Compaction), 1, "{label}: /compact");
    assert!(calls_of(Category::Utility) >= 1, "{label}: the title call");
    assert_eq!(
        calls_of(Category::UserTurn),
        PROMPTS.len() as u64,
        "{label}: one main-loop call per prompt"
    );
    // Every call is charged to a turn: the turns add up to the whole session.
    let charged: u64 = turns
        .iter()
        .map(|t| {
            t["user"]["requests"].as_u64().unwrap() + t["overhead"]["requests"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(
        charged,
        report["totals"]["requests"].as_u64().unwrap(),
        "{label}"
    );
    check_report(&report, &truth, &label);

    // Claude Code prices its own calls too, and keeps the session's total in ~/.claude.json:
    // the dollars from LiteLLM's prices must be the same figure.
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join(".claude.json")).unwrap())
            .unwrap();
    let theirs = config["projects"][work_path.display().to_string()]["lastCost"]
        .as_f64()
        .unwrap_or_else(|| panic!("{label}: no lastCost in ~/.claude.json: {config}"));
    let ours = report["totals"]["cost_usd"].as_f64().unwrap();
    assert!(
        (ours - theirs).abs() <= 1e-9 * theirs,
        "{label}: agentprof says ${ours}, Claude Code itself ${theirs}"
    );
}

#[test]
fn interactive_prompts_compact_and_exit_on_the_oldest_pinned_claude_code() {
    interactive_session(&claude_code(OLDEST));
}

#[test]
fn interactive_prompts_compact_and_exit_on_the_newest_pinned_claude_code() {
    interactive_session(&claude_code(NEWEST));
}
