//! The real Codex CLI used interactively, in a real terminal (tmux), under `agentprof run`:
//! two prompts typed, then `/exit`. Codex's terminal UI does more than `codex exec` — it
//! names each new task in a thread of its own — and that must show as overhead, not as a
//! second turn. Every call's tokens equal the mock's record.

use std::time::Duration;

use agentprof::observation::Category;

use crate::codex::{NEWEST, OLDEST, codex_bin_at};
use crate::codex_sessions::exact_by_category;
use crate::support::{Mock, report_json, trace};
use crate::tmux::Tmux;

const KEY: &str = "sk-test-SECRETKEY-codex-interactive";
const PROMPTS: [&str; 2] = ["say hello in one line", "and now goodbye"];
const START: Duration = Duration::from_secs(60);
const ANSWER: Duration = Duration::from_secs(60);

#[test]
fn interactive_codex_shows_its_turns_and_its_task_title_on_the_oldest_pinned_codex() {
    interactive_codex(OLDEST);
}

#[test]
fn interactive_codex_shows_its_turns_and_its_task_title_on_the_newest_pinned_codex() {
    interactive_codex(NEWEST);
}

fn interactive_codex(pin: &str) {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let codex = codex_bin_at(dir.path(), pin);
    let work = dir.path().join("work");
    let home = dir.path().join("codex-home");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    // A user who has used Codex here before: logged in with an API key (as `codex login
    // --with-api-key` leaves auth.json) and trusting this folder, so no first-run screens.
    let auth = serde_json::json!({"auth_mode": "apikey", "OPENAI_API_KEY": KEY});
    std::fs::write(home.join("auth.json"), auth.to_string()).unwrap();
    let config = format!(
        "[tui]\nscreen_reader_detection_done = true\n\n[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        work.display()
    );
    std::fs::write(home.join("config.toml"), config).unwrap();

    let trace_path = dir.path().join("trace.jsonl");
    let env = [
        ("HOME", std::env::var("HOME").unwrap()),
        ("PATH", std::env::var("PATH").unwrap()),
        ("TERM", "xterm-256color".to_string()),
        ("CODEX_HOME", home.display().to_string()),
    ];
    let command: Vec<String> = vec![
        env!("CARGO_BIN_EXE_agentprof").into(),
        "run".into(),
        "--trace".into(),
        trace_path.display().to_string(),
        "--openai-upstream".into(),
        mock.url(),
        "--".into(),
        codex.display().to_string(),
    ];
    let tmux = Tmux::start(dir.path(), &work, &env, &command);
    tmux.wait("Codex's prompt", START, |t| {
        t.pane().contains("Ask Codex to do anything")
    });
    for (i, prompt) in PROMPTS.iter().enumerate() {
        let answered = |t: &Tmux| t.pane().matches("Worked for").count() > i;
        tmux.type_text(prompt);
        // Codex takes keys that arrive together for a paste, and an Enter in a paste for a
        // new line: a person's pause before Enter.
        std::thread::sleep(Duration::from_millis(600));
        tmux.enter();
        tmux.wait(&format!("the answer to {prompt:?}"), ANSWER, answered);
    }
    tmux.type_text("/exit");
    // The slash-command menu opens first; Enter then runs the command.
    std::thread::sleep(Duration::from_millis(1000));
    tmux.enter();
    tmux.wait("agentprof to exit", ANSWER, |t| t.exit_code().is_some());
    assert_eq!(tmux.exit_code(), Some(0), "screen:\n{}", tmux.pane());

    let records = mock.records();
    let trace = trace(dir.path());
    let by = exact_by_category(&trace, &records);
    // One main-loop call per prompt (the mock calls no tools), each starting its turn; the
    // task title Codex generates is utility, not a turn.
    assert_eq!(by[&Category::UserTurn].0, PROMPTS.len() as u64, "{by:?}");
    assert!(
        by.get(&Category::Utility).is_some_and(|u| u.0 >= 1),
        "{by:?}"
    );
    assert_eq!(by.len(), 2, "{by:?}");
    let titles: Vec<_> = trace
        .calls
        .iter()
        .filter(|c| c.classified_by == "rule:codex-thread-title")
        .collect();
    assert!(!titles.is_empty(), "no task-title call");
    assert!(titles.iter().all(|c| c.usage.unwrap().total_tokens() > 0));
    let starts = trace.calls.iter().filter(|c| c.starts_turn).count();
    assert_eq!(starts, PROMPTS.len());
    let report = report_json(dir.path());
    assert_eq!(
        report["turns"].as_array().unwrap().len(),
        PROMPTS.len(),
        "{}",
        report["turns"]
    );
    let text = std::fs::read_to_string(&trace_path).unwrap();
    assert!(!text.contains(KEY));
}
