//! The real Gemini CLI used interactively, in a real terminal (tmux), under `agentprof run`:
//! two prompts typed, then `/quit`. Each prompt is one turn; the router Gemini CLI runs before
//! each (model `auto`) is overhead of that turn, not a turn. Every call's tokens equal the
//! mock's record, and its telemetry joins every call.

use std::time::Duration;

use agentprof::observation::Category;

use super::{GeminiUser, KEY, NEWEST, OLDEST, gemini_bin_at, report};
use crate::support::Mock;
use crate::tmux::Tmux;

const PROMPTS: [&str; 2] = ["say hello in one line", "and now goodbye"];
const START: Duration = Duration::from_secs(60);
const ANSWER: Duration = Duration::from_secs(60);

#[test]
fn interactive_gemini_shows_its_turns_and_its_router_on_the_oldest_pinned_gemini_cli() {
    interactive_gemini(OLDEST);
}

#[test]
fn interactive_gemini_shows_its_turns_and_its_router_on_the_newest_pinned_gemini_cli() {
    interactive_gemini(NEWEST);
}

fn interactive_gemini(pin: &str) {
    let mock = Mock::start();
    let user = GeminiUser::new(pin, serde_json::json!({}));
    // A user who has worked here before: this folder trusted, so no first-run dialog.
    std::fs::write(
        user.home().join(".gemini/trustedFolders.json"),
        serde_json::json!({ user.work().display().to_string(): "TRUST_FOLDER" }).to_string(),
    )
    .unwrap();
    let gemini = gemini_bin_at(&user.file("interactive"), pin);
    let trace_path = user.file("trace.jsonl");
    let env = [
        ("HOME", std::env::var("HOME").unwrap()),
        ("PATH", std::env::var("PATH").unwrap()),
        ("TERM", "xterm-256color".to_string()),
        ("GEMINI_CLI_HOME", user.home().display().to_string()),
        ("GEMINI_API_KEY", KEY.to_string()),
    ];
    let command: Vec<String> = vec![
        env!("CARGO_BIN_EXE_agentprof").into(),
        "run".into(),
        "--trace".into(),
        trace_path.display().to_string(),
        "--gemini-upstream".into(),
        mock.url(),
        "--".into(),
        gemini.display().to_string(),
    ];
    let tmux = Tmux::start(&user.file(""), &user.work(), &env, &command);
    tmux.wait("Gemini CLI's prompt", START, |t| {
        t.pane().contains("Type your message")
    });
    for (i, prompt) in PROMPTS.iter().enumerate() {
        // Each answer is marked ✦ on the screen.
        let answered = |t: &Tmux| t.pane().matches('✦').count() > i;
        tmux.type_text(prompt);
        // A person's pause before Enter (keys that arrive together read as a paste).
        std::thread::sleep(Duration::from_millis(600));
        tmux.enter();
        tmux.wait(&format!("the answer to {prompt:?}"), ANSWER, answered);
    }
    tmux.type_text("/quit");
    std::thread::sleep(Duration::from_millis(1000));
    tmux.enter();
    tmux.wait("agentprof to exit", ANSWER, |t| t.exit_code().is_some());
    assert_eq!(tmux.exit_code(), Some(0), "screen:\n{}", tmux.pane());

    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    let calls: Vec<_> = trace.calls.iter().filter(|c| c.is_model_call()).collect();
    let records = mock.records();
    assert_eq!(
        calls.len(),
        records.iter().filter(|r| r.response_id.is_some()).count()
    );
    for call in &calls {
        let record = records
            .iter()
            .find(|r| r.response_id == call.response_id)
            .unwrap_or_else(|| panic!("not sent by the mock: {call:?}"));
        assert_eq!(call.usage, record.usage);
    }
    // One main-loop call per prompt (the mock calls no tools), each starting its turn; a
    // router call before each, utility.
    let main: Vec<_> = calls
        .iter()
        .filter(|c| c.category == Category::UserTurn)
        .collect();
    assert_eq!(main.len(), PROMPTS.len(), "{calls:#?}");
    assert!(main.iter().all(|c| c.starts_turn));
    let routers = calls
        .iter()
        .filter(|c| c.classified_by == "rule:gemini-router")
        .count();
    assert_eq!(routers, PROMPTS.len(), "{calls:#?}");
    assert!(
        calls
            .iter()
            .all(|c| matches!(c.category, Category::UserTurn | Category::Utility)),
        "{calls:#?}"
    );
    let report = report(&trace_path, &[]);
    crate::support::assert_no_findings(&report);
    assert_eq!(
        report["turns"].as_array().unwrap().len(),
        PROMPTS.len(),
        "{}",
        report["turns"]
    );
    assert_eq!(report["agent_roles"]["main"]["requests"], PROMPTS.len());
    assert_eq!(
        report["classification"]["unmatched_telemetry_events"], 0,
        "{:#}",
        report["classification"]
    );
    let text = std::fs::read_to_string(&trace_path).unwrap();
    assert!(!text.contains(KEY));
}
