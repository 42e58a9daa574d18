//! The real Codex CLI (npm `@openai/codex`, the oldest version agentprof claims and the newest
//! on npm, both pinned in tests/agents) under `agentprof run`,
//! against the mock upstream, as a user starts it: `agentprof run -- codex exec …` with an API
//! key and nothing configured. agentprof must point it at the proxy by itself (Codex ignores
//! `OPENAI_BASE_URL`), leave its config alone, pass its WebSocket through (Codex's built-in
//! `openai` provider speaks the Responses API over WebSocket, permessage-deflate offered and
//! agreed by the mock), and count exactly what upstream reported, call by call.

use std::path::{Path, PathBuf};

use crate::support::{Mock, stderr, trace};

const KEY: &str = "sk-test-SECRETKEY-codex-0123456789";

/// The pinned Codex versions (npm aliases in tests/agents/package.json, changed with
/// `scripts/pin-agent codex oldest|newest`): the oldest agentprof claims and the newest on npm.
pub(crate) const OLDEST: &str = "codex-oldest";
pub(crate) const NEWEST: &str = "codex-newest";

/// The installed package of the pinned Codex `pin`, checked to be `@openai/codex`; returns its
/// directory and version.
pub(crate) fn codex_package(pin: &str) -> (PathBuf, String) {
    let (dir, package) = crate::agents::pinned_package(pin, "@openai/codex");
    (dir, crate::agents::version(&package))
}

/// `codex` on a PATH of its own: a link named as users call it, to the pinned package `pin`
/// (`OLDEST` or `NEWEST`).
pub(crate) fn codex_bin_at(dir: &Path, pin: &str) -> PathBuf {
    let (package, _) = codex_package(pin);
    crate::agents::link_as(dir, &package.join("bin/codex.js"), "codex")
}

/// The README names both pinned Codex versions, and each prints the version its package says.
#[test]
fn readme_names_the_pinned_codex_versions() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    for pin in [OLDEST, NEWEST] {
        let (_, version) = codex_package(pin);
        assert!(
            readme.contains(&format!("**{version}**")),
            "README.md does not name Codex {version} (the {pin} pin)"
        );
        let dir = tempfile::tempdir().unwrap();
        let output = std::process::Command::new(codex_bin_at(dir.path(), pin))
            .arg("--version")
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout);
        assert_eq!(printed.trim(), format!("codex-cli {version}"), "{pin}");
    }
}

#[test]
fn codex_exec_reaches_the_proxy_and_its_tokens_are_exact_on_the_oldest_pinned_codex() {
    codex_exec_reaches_the_proxy_and_its_tokens_are_exact(OLDEST);
}

#[test]
fn codex_exec_reaches_the_proxy_and_its_tokens_are_exact_on_the_newest_pinned_codex() {
    codex_exec_reaches_the_proxy_and_its_tokens_are_exact(NEWEST);
}

fn codex_exec_reaches_the_proxy_and_its_tokens_are_exact(pin: &str) {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let codex = codex_bin_at(dir.path(), pin);
    let home = dir.path().join("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    let config = home.join("config.toml");
    std::fs::write(&config, "# the user's own config, never rewritten\n").unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    // Bounded: a Codex that cannot reach the proxy retries for minutes.
    let output = std::process::Command::new("timeout")
        .arg("180")
        .arg(env!("CARGO_BIN_EXE_agentprof"))
        .current_dir(&work)
        .env("CODEX_HOME", &home)
        .env("OPENAI_API_KEY", KEY)
        .env_remove("OPENAI_BASE_URL")
        .args(["run", "--trace"])
        .arg(dir.path().join("trace.jsonl"))
        .args(["--openai-upstream", &mock.url(), "--"])
        .arg(&codex)
        .args(["exec", "--skip-git-repo-check", "say hi"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    let err = stderr(&output);
    assert!(output.status.success(), "codex exec failed:\n{out}\n{err}");
    // A WebSocket that worked is no error: neither the upgrade (101) nor the calls over it.
    assert!(err.contains(" model calls (0 errors)"), "{err}");
    assert!(
        err.contains("other requests (not model calls): 1 (errors 0)"),
        "{err}"
    );

    // The model calls the mock served — every one over the WebSocket (the mock records those
    // with the upgrade's method, GET) — and what the trace says of them.
    let served: Vec<_> = mock
        .records()
        .into_iter()
        .filter(|r| r.path.ends_with("/responses") && r.response_id.is_some())
        .collect();
    assert!(
        !served.is_empty(),
        "no Responses call reached the mock:\n{err}"
    );
    assert!(
        served.iter().all(|r| r.method == "GET"),
        "Codex fell back to HTTP: {served:?}\n{err}"
    );
    let trace = trace(dir.path());
    let calls: Vec<_> = trace.calls.iter().filter(|c| c.is_model_call()).collect();
    assert_eq!(calls.len(), served.len(), "one record per model call");
    // The connection: an other request answered 101, which every call names.
    let upgrades: Vec<_> = trace
        .calls
        .iter()
        .filter(|c| !c.is_model_call() && c.method == "GET" && c.path.ends_with("/responses"))
        .collect();
    assert!(!upgrades.is_empty(), "Codex opens a WebSocket");
    assert!(
        upgrades
            .iter()
            .all(|c| c.status == Some(101) && c.error.is_none()),
        "{upgrades:?}"
    );
    for record in &served {
        let call = calls
            .iter()
            .find(|c| c.response_id == record.response_id)
            .unwrap_or_else(|| panic!("no trace record for {:?}", record.response_id));
        assert_eq!(call.usage, record.usage, "{:?}", record.response_id);
        assert!(call.error.is_none(), "{:?}", call.error);
        // The call's frames, as the mock sent them (compressed: Codex offers
        // permessage-deflate and the mock agrees), all read and all passed on.
        assert_eq!(call.response_bytes, record.body_bytes, "{call:?}");
        assert_eq!(call.client_bytes, Some(record.body_bytes), "{call:?}");
        assert_eq!(call.api, agentprof::observation::ApiKind::Responses);
        assert_eq!(call.path, "/v1/responses");
        let via = call
            .via_websocket
            .expect("a call over the WebSocket says so");
        assert!(upgrades.iter().any(|u| u.id == via), "{call:?}");
        // A one-prompt `exec` is one turn of the main loop, known by Codex's originator; the
        // connection's first message is Codex's prewarm (`generate: false`, request_kind
        // `prewarm` in its client_metadata), which the mock answers with zero usage.
        if call.classified_by == "rule:codex-prewarm" {
            assert_eq!(call.category, agentprof::observation::Category::Utility);
            assert_eq!(record.usage, Some(agentprof::observation::Usage::default()));
        } else {
            assert_eq!(call.classified_by, "rule:codex-main-loop", "{call:?}");
            assert_eq!(call.category, agentprof::observation::Category::UserTurn);
        }
    }
    let main_loop = calls
        .iter()
        .filter(|c| c.classified_by == "rule:codex-main-loop")
        .count();
    assert!(main_loop >= 1, "{calls:?}");
    assert!(
        calls.len() - main_loop <= 1,
        "at most the one prewarm besides the turn: {calls:?}"
    );
    // One session, named by the session id Codex puts in each message's client_metadata;
    // no sub-agent.
    let sessions: std::collections::BTreeSet<_> =
        calls.iter().map(|c| c.session_id.clone()).collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert!(sessions.iter().all(Option::is_some), "{sessions:?}");
    assert!(calls.iter().all(|c| c.agent_id.is_none()));
    // Codex's own count of the tokens it used (`tokens used` then the number) equals the
    // trace's, to the token.
    let total: u64 = calls
        .iter()
        .filter_map(|c| c.usage.as_ref())
        .map(|u| {
            u.input_tokens
                + u.cache_creation_input_tokens
                + u.cache_read_input_tokens
                + u.output_tokens
        })
        .sum();
    let said = err
        .lines()
        .chain(out.lines())
        .skip_while(|l| l.trim() != "tokens used")
        .nth(1)
        .unwrap_or_else(|| panic!("Codex printed no token count:\n{out}\n{err}"))
        .trim()
        .replace(',', "");
    assert_eq!(
        said.parse::<u64>().unwrap(),
        total,
        "Codex's count against the trace's"
    );
    assert!(
        !err.contains("failed to connect to Responses WebSocket"),
        "Codex did not keep its WebSocket:\n{err}"
    );

    // The user's config is as it was, and the key is in no output.
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "# the user's own config, never rewritten\n"
    );
    let trace_text = std::fs::read_to_string(dir.path().join("trace.jsonl")).unwrap();
    assert!(!trace_text.contains(KEY) && !err.contains(KEY) && !out.contains(KEY));
}
