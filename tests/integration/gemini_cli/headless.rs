//! `agentprof run -- gemini -p …`: reaching the proxy with nothing but an API key and the auth
//! type Gemini CLI saves for it; every call's tokens exactly what the mock sent; its roles (from
//! its own telemetry) and categories (from the rules alone) equal to its own per-role stats.

use std::collections::BTreeMap;
use std::path::PathBuf;

use agentprof::observation::{Category, Provider};

use super::{
    GeminiUser, KEY, NEWEST, OLDEST, RoleTokens, as_role_tokens, category_of_role, gemini_package,
    report, stats_roles,
};
use crate::support::Mock;

/// The README names both pinned Gemini CLI versions, and each runs under the Node installed.
#[test]
fn readme_names_the_pinned_gemini_cli_versions() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    for pin in [OLDEST, NEWEST] {
        let (_, version) = gemini_package(pin);
        assert!(
            readme.contains(&format!("**{version}**")),
            "README.md does not name Gemini CLI {version} (the {pin} pin)"
        );
        let dir = tempfile::tempdir().unwrap();
        let output = std::process::Command::new(super::gemini_bin_at(dir.path(), pin))
            .arg("--version")
            .env("GEMINI_CLI_HOME", dir.path())
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            version,
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn gemini_headless_is_exact_per_call_role_and_category_on_the_oldest_pinned_gemini_cli() {
    headless_is_exact(OLDEST);
}

#[test]
fn gemini_headless_is_exact_per_call_role_and_category_on_the_newest_pinned_gemini_cli() {
    headless_is_exact(NEWEST);
}

/// Per category, Gemini CLI's own per-role counts, each role under its category.
fn by_category(roles: &BTreeMap<String, RoleTokens>) -> BTreeMap<&'static str, RoleTokens> {
    let mut out: BTreeMap<&'static str, RoleTokens> = BTreeMap::new();
    for (role, t) in roles {
        out.entry(category_of_role(role)).or_default().add(t);
    }
    out
}

fn headless_is_exact(pin: &str) {
    let mock = Mock::start();
    let user = GeminiUser::new(pin, serde_json::json!({}));
    let ran = user.run(&mock, "trace.jsonl", &[], &["-p", "say hi"]);
    assert!(
        ran.answer["response"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{}",
        ran.answer
    );

    // Every call the mock answered is in the trace with the usage the mock sent.
    let served: Vec<_> = mock
        .records()
        .into_iter()
        .filter(|r| r.provider == "gemini" && r.response_id.is_some())
        .collect();
    let calls: Vec<_> = ran
        .trace
        .calls
        .iter()
        .filter(|c| c.is_model_call())
        .collect();
    assert_eq!(calls.len(), served.len(), "{:#?}", ran.trace.calls);
    for record in &served {
        let call = calls
            .iter()
            .find(|c| c.response_id == record.response_id)
            .unwrap_or_else(|| panic!("no trace record for {record:?}"));
        assert_eq!(call.usage, record.usage, "{record:?}");
        assert_eq!(call.provider, Provider::Gemini);
        assert_eq!(call.model, record.model, "the model from the path");
        assert!(call.error.is_none(), "{call:?}");
    }

    // The router (model `auto`, the default) runs once before the main loop.
    let roles = stats_roles(&ran.answer);
    assert_eq!(
        roles.get("utility_router").map(|r| r.requests),
        Some(1),
        "Gemini CLI {} routed: {roles:?}",
        user.version
    );
    assert!(roles.contains_key("main"), "{roles:?}");
    let router: Vec<_> = calls
        .iter()
        .filter(|c| c.classified_by == "rule:gemini-router")
        .collect();
    assert_eq!(router.len(), 1, "{calls:#?}");
    assert!(
        router
            .iter()
            .all(|c| !c.stream && c.category == Category::Utility)
    );

    // Its telemetry, joined: each role agentprof reports equals Gemini CLI's own count.
    let report = report(&ran.trace_path, &[]);
    crate::support::assert_no_findings(&report);
    let joined: BTreeMap<String, RoleTokens> = report["agent_roles"]
        .as_object()
        .unwrap_or_else(|| panic!("no agent_roles: {report:#}"))
        .iter()
        .map(|(role, bucket)| (role.clone(), as_role_tokens(bucket)))
        .collect();
    assert_eq!(joined, roles, "agentprof's roles vs Gemini CLI's stats");
    assert_eq!(
        report["classification"]["unmatched_telemetry_events"], 0,
        "{:#}",
        report["classification"]
    );

    // The rules alone (the category each call got live, before any telemetry) put every role's
    // tokens in its category.
    let mut live: BTreeMap<&'static str, RoleTokens> = BTreeMap::new();
    for call in &calls {
        let usage = call.usage.unwrap();
        let c = live.entry(call.category.as_str()).or_default();
        c.requests += 1;
        c.input += usage.input_tokens - usage.tool_use_input_tokens;
        c.cached += usage.cache_read_input_tokens;
        c.candidates += usage.output_tokens - usage.reasoning_output_tokens;
        c.thoughts += usage.reasoning_output_tokens;
        c.tool += usage.tool_use_input_tokens;
        c.total += usage.total_tokens();
    }
    assert_eq!(live, by_category(&roles), "rules vs Gemini CLI's roles");
    // And the report's categories, telemetry applied, say the same.
    for (category, expected) in by_category(&roles) {
        assert_eq!(
            as_role_tokens(&report["categories"][category]),
            expected,
            "{category}"
        );
    }

    // The session Gemini CLI names in its telemetry is the session of every call.
    let session = ran.answer["session_id"].as_str().unwrap();
    assert_eq!(
        report["sessions"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec![session],
        "{:#}",
        report["sessions"]
    );

    // The key is in no output.
    let trace_text = std::fs::read_to_string(&ran.trace_path).unwrap();
    assert!(!trace_text.contains(KEY) && !ran.stderr.contains(KEY));
}

/// With no auth type saved, Gemini CLI 0.44 and later refuse the `gateway` type the base URL
/// selects, headless: `run` says before the run what to add and where, and passes the agent's
/// exit code on; nothing reaches the upstream and nothing is made up.
#[test]
fn gemini_without_a_saved_auth_type_is_told_what_to_add() {
    let mock = Mock::start();
    let user = GeminiUser::new(NEWEST, serde_json::json!({}));
    user.write_settings(&serde_json::json!({"privacy": {"usageStatisticsEnabled": false}}));
    let output = user.command_output(&mock, "trace.jsonl", &[], &["-p", "say hi"]);
    let stderr = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(41), "{stderr}");
    let settings = user.home().join(".gemini/settings.json");
    assert!(
        stderr.contains("Gemini CLI has no auth type saved")
            && stderr.contains(&format!("to {}", settings.display()))
            && stderr.contains(r#""selectedType":"gemini-api-key""#),
        "{stderr}"
    );
    assert!(mock.records().is_empty());
    // The user's settings are theirs: not rewritten.
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        serde_json::to_string_pretty(
            &serde_json::json!({"privacy": {"usageStatisticsEnabled": false}})
        )
        .unwrap()
    );
}

/// An OTLP/HTTP collector of the user's own: every request's path and body, as received.
fn collector() -> (String, std::sync::mpsc::Receiver<(String, Vec<u8>)>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (path, body) = crate::client::read_request(&stream);
            let mut stream = stream;
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
            );
            if tx.send((path, body)).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

/// A user who sends Gemini CLI's telemetry to their own collector over OTLP/HTTP keeps it: the
/// receiver passes every request on, prompts included (agentprof only turns them off when no
/// one else reads them), and still joins the roles.
#[test]
fn gemini_users_own_http_telemetry_is_forwarded_and_its_roles_joined() {
    let mock = Mock::start();
    let (collector, received) = collector();
    let user = GeminiUser::new(
        NEWEST,
        serde_json::json!({"telemetry": {
            "enabled": true, "otlpProtocol": "http", "otlpEndpoint": collector}}),
    );
    let ran = user.run(&mock, "trace.jsonl", &[], &["-p", "say hi"]);
    assert!(!ran.stderr.contains("left as it is"), "{}", ran.stderr);
    let report = report(&ran.trace_path, &[]);
    assert_eq!(
        report["agent_roles"].as_object().map(|r| r.len()),
        Some(2),
        "main and the router: {:#}",
        report["agent_roles"]
    );
    let logs: Vec<String> = received
        .try_iter()
        .filter(|(path, _)| path == "/v1/logs")
        .map(|(_, body)| String::from_utf8_lossy(&body).into_owned())
        .collect();
    assert!(
        logs.iter().any(|l| l.contains("gemini_cli.api_response")),
        "the collector got no api_response: {logs:?}"
    );
    assert!(
        logs.iter().any(|l| l.contains("say hi")),
        "the user's prompts stay logged for their collector"
    );
}

/// Telemetry agentprof cannot forward (gRPC, Gemini CLI's default protocol) is left alone and
/// the user told; the run is still measured, by the rules.
#[test]
fn gemini_grpc_telemetry_is_left_alone_and_said() {
    let mock = Mock::start();
    let user = GeminiUser::new(
        NEWEST,
        // Nothing listens there: Gemini CLI's exporter fails quietly, as it would without us.
        serde_json::json!({"telemetry": {"enabled": true, "otlpEndpoint": "http://127.0.0.1:9"}}),
    );
    let ran = user.run(&mock, "trace.jsonl", &[], &["-p", "say hi"]);
    assert!(
        ran.stderr.contains(
            "Gemini CLI's telemetry is on and it goes to http://127.0.0.1:9 over OTLP/gRPC"
        ),
        "{}",
        ran.stderr
    );
    assert!(ran.trace.telemetry.is_empty(), "{:?}", ran.trace.telemetry);
    let calls: Vec<_> = ran
        .trace
        .calls
        .iter()
        .filter(|c| c.is_model_call())
        .collect();
    assert!(calls.len() >= 2);
    assert!(
        calls
            .iter()
            .all(|c| c.classified_by.starts_with("rule:gemini-"))
    );
}
