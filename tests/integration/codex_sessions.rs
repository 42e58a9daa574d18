//! The real Codex CLI's own background work under `agentprof run`, against the mock upstream:
//! a session that compacts its context, and a start-up that runs the memories pipeline. Each
//! call's tokens must equal what the mock served, and each must land in the category of the
//! work Codex did — known from the protocol (the mock marks the compaction it answered), not
//! from agentprof's own rules.

use std::collections::BTreeMap;
use std::path::Path;

use agentprof::demo::mock_upstream::{MockConfig, MockRecord, Script};
use agentprof::observation::{Call, Category, Usage};
use agentprof::output::trace::ReadTrace;

use crate::codex::{NEWEST, OLDEST};
use crate::codex_user::CodexUser;
use crate::support::{Mock, python, stderr};

/// The mock's record of a call: by request id over HTTP, by response id over a WebSocket
/// (whose messages carry no request id).
pub(crate) fn record_of<'a>(call: &Call, records: &'a [MockRecord]) -> &'a MockRecord {
    records
        .iter()
        .find(|r| match &call.upstream_request_id {
            Some(id) => &r.request_id == id,
            None => r.response_id.is_some() && r.response_id == call.response_id,
        })
        .unwrap_or_else(|| panic!("no mock record for {call:?}"))
}

/// Every model call of `trace` has the mock's record and its exact usage; returns, per
/// category, the calls and the mock's tokens for them. Prewarms (Codex warming its WebSocket:
/// no answer asked, zero tokens) are checked and left out.
pub(crate) fn exact_by_category(
    trace: &ReadTrace,
    records: &[MockRecord],
) -> BTreeMap<Category, (u64, Usage)> {
    let mut by_category: BTreeMap<Category, (u64, Usage)> = BTreeMap::new();
    for call in trace.calls.iter().filter(|c| c.is_model_call()) {
        let record = record_of(call, records);
        assert_eq!(call.usage, record.usage, "{}", record.request_id);
        assert!(call.error.is_none(), "{:?}", call.error);
        if call.classified_by == "rule:codex-prewarm" {
            assert_eq!(call.usage, Some(Usage::default()), "{call:?}");
            continue;
        }
        let entry = by_category.entry(call.category).or_default();
        entry.0 += 1;
        entry.1.add(record.usage.as_ref().unwrap());
    }
    by_category
}

/// `agentprof import codex` of the user's `CODEX_HOME`: every call the rollouts record must be
/// a call the proxy saw in `traces` (same response id, same usage, to the token). Returns the
/// proxied calls the rollouts do not record.
fn import_matches_proxy<'a>(user: &CodexUser, traces: &[&'a ReadTrace]) -> Vec<&'a Call> {
    let out = user.file("import.jsonl");
    let _ = std::fs::remove_file(&out);
    let output = crate::support::agentprof()
        .args(["import", "codex"])
        .arg(user.home())
        .arg("--trace")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let imported = agentprof::output::trace::read_trace(&out).unwrap();
    let proxied: Vec<&Call> = traces
        .iter()
        .flat_map(|t| t.calls.iter().filter(|c| c.is_model_call()))
        .collect();
    for call in &imported.calls {
        let seen = proxied
            .iter()
            .find(|p| p.response_id.is_some() && p.response_id == call.response_id)
            .unwrap_or_else(|| panic!("imported call not proxied: {call:?}"));
        assert_eq!(seen.usage, call.usage, "{:?}", call.response_id);
    }
    proxied
        .into_iter()
        .filter(|p| {
            !imported
                .calls
                .iter()
                .any(|c| c.response_id == p.response_id)
        })
        .collect()
}

fn calls_in(trace: &ReadTrace, category: Category) -> Vec<&Call> {
    trace
        .calls
        .iter()
        .filter(|c| c.is_model_call() && c.category == category)
        .collect()
}

#[test]
fn a_compacted_codex_session_shows_its_compaction_exactly_on_the_oldest_pinned_codex() {
    a_compacted_codex_session_shows_its_compaction_exactly(OLDEST);
}

#[test]
fn a_compacted_codex_session_shows_its_compaction_exactly_on_the_newest_pinned_codex() {
    a_compacted_codex_session_shows_its_compaction_exactly(NEWEST);
}

fn a_compacted_codex_session_shows_its_compaction_exactly(pin: &str) {
    let mock = Mock::start();
    let user = CodexUser::new(pin);
    // A low auto-compaction limit makes the resumed session compact its history before the
    // next turn (Codex 0.171 does it remotely: a `compaction_trigger` item on /responses).
    let limit = "model_auto_compact_token_limit=2000";
    let first = user.exec(&mock, "first.jsonl", &["-c", limit, "write about proxies"]);
    let resumed = user.exec(
        &mock,
        "resumed.jsonl",
        &["-c", limit, "resume", "--last", "now shorter"],
    );
    let records = mock.records();

    let first_by = exact_by_category(&first, &records);
    assert_eq!(first_by.len(), 1, "{first_by:?}");
    assert_eq!(first_by[&Category::UserTurn].0, 1);
    let by = exact_by_category(&resumed, &records);
    assert_eq!(by.len(), 2, "{by:?}");
    assert_eq!(by[&Category::Compaction].0, 1);
    assert_eq!(by[&Category::UserTurn].0, 1);

    // The call agentprof calls compaction is the one the mock answered with a compaction item.
    let compaction = calls_in(&resumed, Category::Compaction)[0];
    let record = record_of(compaction, &records);
    assert!(record.compaction, "{record:?}");
    assert_eq!(records.iter().filter(|r| r.compaction).count(), 1);
    assert_eq!(
        compaction.classified_by, "rule:codex-compaction-request-kind",
        "{compaction:?}"
    );
    // Codex names its turns: the compaction before the turn starts none, the turn starts one.
    assert!(!compaction.starts_turn);
    assert!(calls_in(&resumed, Category::UserTurn)[0].starts_turn);

    // The rollouts Codex wrote import to the same calls, to the token — the compaction too
    // (only Codex's per-response records carry it) — and only prewarms, no inference, are
    // not in them.
    let unrecorded = import_matches_proxy(&user, &[&first, &resumed]);
    assert!(
        unrecorded
            .iter()
            .all(|c| c.classified_by == "rule:codex-prewarm"),
        "{unrecorded:?}"
    );
}

/// Ages the first session so that Codex's memories start-up takes it for an old, idle one:
/// the thread's times in Codex's state database go back three hours, and its source becomes
/// an interactive one (start-up extraction skips `codex exec` threads). Waiting hours is not
/// an option in a test; this is the state an interactive session from this morning leaves.
fn age_sessions(home: &Path) {
    let script = r#"
import glob, sys, sqlite3
[db] = glob.glob(sys.argv[1] + "/state_*.sqlite")
c = sqlite3.connect(db)
hours = 3 * 3600
c.execute("update threads set source = 'cli', created_at = created_at - ?, updated_at = updated_at - ?,"
          " created_at_ms = created_at_ms - ? * 1000, updated_at_ms = updated_at_ms - ? * 1000",
          (hours, hours, hours, hours))
c.commit()
print(c.execute("select count(*) from threads").fetchone()[0])
"#;
    let output = std::process::Command::new(python())
        .args(["-c", script])
        .arg(home)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "1");
}

#[test]
fn codex_memories_show_as_extraction_and_dream_on_the_oldest_pinned_codex() {
    codex_memories_show_as_extraction_and_dream(OLDEST);
}

#[test]
fn codex_memories_show_as_extraction_and_dream_on_the_newest_pinned_codex() {
    codex_memories_show_as_extraction_and_dream(NEWEST);
}

fn codex_memories_show_as_extraction_and_dream(pin: &str) {
    // Phase 1 must answer with the memory Codex asked for (JSON), or there is nothing for
    // phase 2 to consolidate; its request carries the old rollout. `codex exec` exits after its
    // turn without waiting for background work: the user's turn is answered slowly, so that
    // both phases run while it lasts, as they do beside an interactive session.
    let script = Script::from_json(
        r#"{"rules": [
            {"when": {"last_user_text_contains": "rollout"},
             "respond": {"text": "{\"rollout_summary\":\"The user asked for an essay on proxies.\",\"rollout_slug\":\"proxy-essay\",\"raw_memory\":\"The user writes about proxies.\"}"}},
            {"when": {"last_user_text_contains": "hello again"},
             "respond": {"text": "Hello."}, "delay_ms": 4000}]}"#,
    )
    .unwrap();
    let mock = Mock::start_with(MockConfig {
        script: Some(script),
        ..MockConfig::default()
    });
    let user = CodexUser::new(pin);
    let first = user.exec(&mock, "first.jsonl", &["write about proxies"]);
    age_sessions(&user.home());
    let memories = [
        "-c",
        "features.memories=true",
        "-c",
        "memories.min_rollout_idle_hours=1",
    ];
    let before = mock.records().len();
    let trace = user.exec(
        &mock,
        "memories.jsonl",
        &[&memories[..], &["hello again"]].concat(),
    );
    let records = mock.records();
    let by = exact_by_category(&trace, &records);
    // Phase 1: one extraction for the one old rollout; phase 2: the consolidation agent,
    // one call or more; and the user's own turn.
    assert_eq!(by[&Category::MemoryExtraction].0, 1, "{by:?}");
    assert!(by.get(&Category::Dream).is_some_and(|d| d.0 >= 1), "{by:?}");
    assert_eq!(by[&Category::UserTurn].0, 1, "{by:?}");
    assert_eq!(by.len(), 3, "{by:?}");
    for call in calls_in(&trace, Category::MemoryExtraction) {
        assert_eq!(call.classified_by, "rule:codex-memory-extraction");
    }
    for call in calls_in(&trace, Category::Dream) {
        assert_eq!(call.classified_by, "rule:codex-memory-consolidation");
    }
    // Every call the mock served during the run is in the trace, and none twice.
    let served = records[before..]
        .iter()
        .filter(|r| r.path.ends_with("/responses") && r.usage.is_some())
        .count();
    let traced = trace.calls.iter().filter(|c| c.is_model_call()).count();
    assert_eq!(traced, served);

    // The rollouts import to the same calls, to the token; but Codex writes no rollout for
    // its memory phases: only the proxy sees what memories cost.
    let unrecorded = import_matches_proxy(&user, &[&first, &trace]);
    let mut missing: Vec<Category> = unrecorded
        .iter()
        .filter(|c| c.classified_by != "rule:codex-prewarm")
        .map(|c| c.category)
        .collect();
    missing.dedup();
    assert_eq!(
        missing,
        [Category::MemoryExtraction, Category::Dream],
        "{unrecorded:?}"
    );
    assert_eq!(
        unrecorded.len()
            - by[&Category::MemoryExtraction].0 as usize
            - by[&Category::Dream].0 as usize,
        unrecorded
            .iter()
            .filter(|c| c.classified_by == "rule:codex-prewarm")
            .count()
    );
}

/// An `auth.json` as `codex login` leaves it for a ChatGPT account (tokens are unsigned JWTs
/// with the claims Codex reads; it refreshes only stale ones, so none leaves the machine).
fn log_in_with_chatgpt(home: &Path) -> String {
    let script = r#"
import base64, json, sys, time
def b64(d): return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
now = int(time.time())
claims = {"email": "user@example.com", "exp": now + 30 * 86400, "iat": now,
          "https://api.openai.com/auth": {"chatgpt_account_id": "acc-test-1",
              "chatgpt_plan_type": "plus", "chatgpt_user_id": "user-1", "user_id": "user-1"}}
jwt = b64({"alg": "none", "typ": "JWT"}) + "." + b64(claims) + ".c2lnbmF0dXJlLXRlc3Q"
auth = {"auth_mode": "chatgpt", "OPENAI_API_KEY": None,
        "tokens": {"id_token": jwt, "access_token": jwt, "refresh_token": "rt-SECRET-test",
                   "account_id": "acc-test-1"},
        "last_refresh": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
open(sys.argv[1] + "/auth.json", "w").write(json.dumps(auth))
print(jwt)
"#;
    let output = std::process::Command::new(python())
        .args(["-c", script])
        .arg(home)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Codex logged in with ChatGPT, over its WebSocket or (where that is refused) over HTTP with
/// zstd-compressed bodies: every call reaches the ChatGPT upstream, none the API's.
fn chatgpt_login(mock: &Mock, pin: &str) -> (ReadTrace, String) {
    let user = CodexUser::new(pin);
    let token = log_in_with_chatgpt(&user.home());
    let run_args = [
        // Nothing listens there: a call routed to the API would fail.
        "--openai-upstream".to_string(),
        "http://127.0.0.1:9".to_string(),
        "--chatgpt-upstream".to_string(),
        format!("{}/v1", mock.url()),
        "--capture-bodies".to_string(),
    ];
    let ran = user.run(
        &run_args,
        None,
        "chatgpt.jsonl",
        &["exec", "--skip-git-repo-check", "say hi"],
    );
    let (trace, text) = (ran.trace, ran.trace_text);
    assert!(!text.contains(&token) && !text.contains("rt-SECRET-test"));
    let records = mock.records();
    let by = exact_by_category(&trace, &records);
    assert_eq!(by.len(), 1, "{by:?}");
    assert_eq!(by[&Category::UserTurn].0, 1, "{by:?}");
    for call in trace.calls.iter() {
        // Only a refused upgrade may fail (the HTTP variant's mock refuses WebSocket).
        assert!(!call.is_error() || call.status == Some(426), "{call:?}");
        // ChatGPT paths have no /v1 (`/responses`, `/models`).
        assert!(!call.path.starts_with("/v1/"), "{call:?}");
    }
    assert_eq!(
        trace.header.upstreams.chatgpt.as_deref(),
        Some(format!("{}/v1", mock.url()).as_str())
    );
    (trace, text)
}

#[test]
fn chatgpt_login_reaches_the_chatgpt_backend_over_websocket_on_the_oldest_pinned_codex() {
    chatgpt_login_reaches_the_chatgpt_backend_over_websocket(OLDEST);
}

#[test]
fn chatgpt_login_reaches_the_chatgpt_backend_over_websocket_on_the_newest_pinned_codex() {
    chatgpt_login_reaches_the_chatgpt_backend_over_websocket(NEWEST);
}

fn chatgpt_login_reaches_the_chatgpt_backend_over_websocket(pin: &str) {
    let mock = Mock::start();
    let (trace, _) = chatgpt_login(&mock, pin);
    let calls: Vec<_> = trace.calls.iter().filter(|c| c.is_model_call()).collect();
    assert!(calls.iter().all(|c| c.via_websocket.is_some()), "{calls:?}");
}

#[test]
fn chatgpt_login_over_http_has_its_zstd_bodies_read_on_the_oldest_pinned_codex() {
    chatgpt_login_over_http_has_its_zstd_bodies_read(OLDEST);
}

#[test]
fn chatgpt_login_over_http_has_its_zstd_bodies_read_on_the_newest_pinned_codex() {
    chatgpt_login_over_http_has_its_zstd_bodies_read(NEWEST);
}

fn chatgpt_login_over_http_has_its_zstd_bodies_read(pin: &str) {
    let mock = Mock::start_with(MockConfig {
        refuse_websocket: true,
        ..MockConfig::default()
    });
    let (trace, _) = chatgpt_login(&mock, pin);
    let call = trace.calls.iter().find(|c| c.is_model_call()).unwrap();
    assert!(call.via_websocket.is_none(), "{call:?}");
    assert_eq!(call.path, "/responses");
    // Codex compressed the body; what agentprof read (and stored, with --capture-bodies) is
    // the JSON inside, much larger than what went over the wire.
    let request = &call.bodies.as_ref().unwrap().request;
    assert!(request.starts_with('{') && request.contains("\"client_metadata\""));
    assert!(
        request.len() as u64 > 2 * call.request_bytes,
        "{}",
        call.request_bytes
    );
}
