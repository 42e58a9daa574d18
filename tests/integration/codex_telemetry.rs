//! The real Codex CLI's own OpenTelemetry under `agentprof run`: pointed at agentprof's
//! receiver by a `-c otel.exporter=…` override (Codex reads no `OTEL_*` variables), its
//! per-call events joined to the proxied calls; and left alone when the user exports it
//! somewhere already.

use crate::codex::{NEWEST, OLDEST};
use crate::codex_user::{CodexUser, Ran};
use crate::support::{Mock, report_json};

/// `agentprof run --trace trace.jsonl -- codex exec "say hi"` as `user`.
fn say_hi(user: &CodexUser, mock: &Mock) -> Ran {
    let upstream = ["--openai-upstream".to_string(), mock.url()];
    user.run(
        &upstream,
        Some(crate::codex_user::KEY),
        "trace.jsonl",
        &["exec", "--skip-git-repo-check", "say hi"],
    )
}

#[test]
fn codex_telemetry_reaches_agentprof_and_joins_every_call_on_the_oldest_pinned_codex() {
    codex_telemetry_reaches_agentprof_and_joins_every_call(OLDEST);
}

#[test]
fn codex_telemetry_reaches_agentprof_and_joins_every_call_on_the_newest_pinned_codex() {
    codex_telemetry_reaches_agentprof_and_joins_every_call(NEWEST);
}

fn codex_telemetry_reaches_agentprof_and_joins_every_call(pin: &str) {
    let mock = Mock::start();
    let user = CodexUser::new(pin);
    let trace = say_hi(&user, &mock).trace;
    let calls: Vec<_> = trace.calls.iter().filter(|c| c.is_model_call()).collect();
    let completed: Vec<_> = trace
        .telemetry
        .iter()
        .filter(|e| e.event == "codex.sse_event")
        .collect();
    assert!(!calls.is_empty());
    // One event per call, with the call's session and exact tokens.
    assert_eq!(completed.len(), calls.len(), "{completed:?}");
    for call in &calls {
        let usage = call.usage.unwrap();
        assert!(
            completed.iter().any(|e| e.session_id == call.session_id
                && e.input_tokens == Some(usage.input_tokens)
                && e.cache_read_tokens == Some(usage.cache_read_input_tokens)
                && e.cache_creation_tokens == Some(usage.cache_creation_input_tokens)
                && e.output_tokens == Some(usage.output_tokens)),
            "no event for {call:?}"
        );
    }
    assert!(
        trace
            .telemetry
            .iter()
            .any(|e| e.event == "codex.user_prompt")
    );
    // The report joins each event to its call.
    let report = report_json(user.dir());
    let classification = &report["classification"];
    assert_eq!(classification["telemetry_events"], calls.len());
    assert_eq!(classification["joined_by_fallback"], calls.len());
    assert_eq!(classification["unmatched_telemetry_events"], 0);
}

#[test]
fn a_users_own_codex_telemetry_exporter_is_left_alone_and_the_user_told() {
    // What agentprof reads of the config is the same on every version: the newest only.
    let mock = Mock::start();
    let user = CodexUser::new(NEWEST);
    let config = "[otel.exporter.otlp-http]\nendpoint = \"http://127.0.0.1:9/v1/logs\"\nprotocol = \"json\"\n";
    std::fs::write(user.home().join("config.toml"), config).unwrap();
    let Ran {
        stderr: err, trace, ..
    } = say_hi(&user, &mock);

    assert!(
        err.contains("Codex exports its telemetry (otlp-http to http://127.0.0.1:9/v1/logs"),
        "{err}"
    );
    assert!(trace.telemetry.is_empty(), "{:?}", trace.telemetry);
    assert!(trace.calls.iter().any(|c| c.is_model_call()));
    assert_eq!(
        std::fs::read_to_string(user.home().join("config.toml")).unwrap(),
        config
    );
}
