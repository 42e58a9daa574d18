//! Codex CLI (npm `@openai/codex`).
//!
//! Codex no longer reads `OPENAI_BASE_URL` (openai/codex#16720). Its built-in `openai` provider
//! takes its base URL from the `openai_base_url` setting, which a `-c` override sets for this
//! run only: agentprof puts `-c openai_base_url="<proxy>/openai/v1"` before the user's
//! arguments (`codex -c … exec …` applies it to every subcommand). The user's `config.toml`,
//! provider and login are left as they are.

pub mod history;
mod otel;
mod provider;

use super::{Agent, CallIds, Endpoints, header_text, program_name};
use crate::attribute::turns::TURN_ID_HEADER;

pub struct Codex;

impl Agent for Codex {
    fn name(&self) -> &'static str {
        "codex"
    }

    fn rule_prefix(&self) -> Option<&'static str> {
        Some("codex-")
    }

    fn install_hint(&self) -> Option<&'static str> {
        Some("npm install -g @openai/codex")
    }

    fn is_program(&self, program: &str) -> bool {
        program_name(program) == "codex"
    }

    fn args(&self, endpoints: &Endpoints, args: &[String]) -> Vec<String> {
        let mut out = vec![
            "-c".to_string(),
            format!(
                "openai_base_url={}",
                toml_string(&endpoints.openai_base_url)
            ),
        ];
        if let Some(receiver) = &endpoints.telemetry
            && users_exporter(&users_config()).is_none()
        {
            out.extend(otel::exporter_override(receiver));
        }
        out.extend_from_slice(args);
        out
    }

    fn notes(&self, endpoints: &Endpoints, args: &[String]) -> Vec<String> {
        let config = users_config();
        let mut notes = Vec::new();
        if let Some(provider) =
            provider::other_provider(config.as_ref().map(|c| c.1.as_str()), args)
            && !provider::base_url_given(&provider, args)
        {
            notes.push(format!(
                "Codex is set to use the model provider {provider:?}, not the built-in \
                 \"openai\" that agentprof points at the proxy: its calls go straight to that \
                 provider and are not measured. To measure them, give the proxy a fixed port and \
                 that provider's URL, and point the provider at the proxy for the run: \
                 agentprof run --listen 127.0.0.1:4000 --openai-upstream <its base_url without \
                 /v1> -- codex -c 'model_providers.{provider}.base_url=\"http://127.0.0.1:4000/openai/v1\"' …"
            ));
        }
        if let (Some(_), Some(exporter)) = (&endpoints.telemetry, users_exporter(&config)) {
            notes.push(format!(
                "Codex exports its telemetry ({exporter}, {}); left as it is, so its events are \
                 not joined to the calls this run",
                config
                    .as_ref()
                    .map_or_else(String::new, |c| c.0.display().to_string())
            ));
        }
        notes
    }

    /// `x-codex-turn-metadata` is a JSON object whose `request_kind` (`turn`, `prewarm`,
    /// `compaction`, `memory`), `thread_source` and `subagent_kind` lie past the 256 bytes
    /// rules see: they become `x-agentprof-codex-request-kind`, `…-thread-source` and
    /// `…-subagent-kind`. Its `turn_id` names the turn: `x-agentprof-turn-id`, which turns are
    /// counted by.
    fn derived_headers(&self, headers: &http::HeaderMap) -> Vec<(String, String)> {
        let Some(metadata) = headers
            .get("x-codex-turn-metadata")
            .and_then(|v| serde_json::from_slice::<serde_json::Value>(v.as_bytes()).ok())
        else {
            return Vec::new();
        };
        [
            ("request_kind", "x-agentprof-codex-request-kind"),
            ("thread_source", "x-agentprof-codex-thread-source"),
            ("subagent_kind", "x-agentprof-codex-subagent-kind"),
            ("turn_id", TURN_ID_HEADER),
        ]
        .into_iter()
        .filter_map(|(field, header)| {
            let value = metadata.get(field)?.as_str()?;
            Some((header.to_string(), value.chars().take(64).collect()))
        })
        .chain(side_thread(&metadata))
        .collect()
    }

    /// `session-id` and `thread-id` on every call (0.171.0; older versions spell them
    /// `session_id`, `thread_id`, `conversation_id`). A spawned agent works in a thread of its
    /// own and names its parent's in `x-codex-parent-thread-id`.
    fn call_ids(&self, headers: &http::HeaderMap) -> Option<CallIds> {
        let first = |names: &[&str]| names.iter().find_map(|n| header_text(headers, n));
        let session_id = first(&["session-id", "session_id", "conversation_id"]);
        let thread_id = first(&["thread-id", "thread_id"]);
        let parent = header_text(headers, "x-codex-parent-thread-id");
        if session_id.is_none() && thread_id.is_none() {
            return None;
        }
        let (agent_id, parent_agent_id) = match parent {
            Some(parent) => (thread_id, Some(parent)),
            None => (None, None),
        };
        Some(CallIds {
            session_id: session_id.or_else(|| agent_id.clone()),
            agent_id,
            parent_agent_id,
        })
    }
}

/// A thread Codex runs for itself: `thread_source` set to anything but `user` (a task title, a
/// feature newer than these rules) — `x-agentprof-codex-side-thread`, which rules cannot
/// express as "not user" on the thread source itself.
fn side_thread(metadata: &serde_json::Value) -> Option<(String, String)> {
    let source = metadata.get("thread_source")?.as_str()?;
    (source != "user").then(|| {
        (
            "x-agentprof-codex-side-thread".to_string(),
            source.chars().take(64).collect(),
        )
    })
}

/// The user's Codex `config.toml` (read only, never written) and its text, if there is one.
fn users_config() -> Option<(std::path::PathBuf, String)> {
    let path = otel::config_path()?;
    let text = std::fs::read_to_string(&path).ok()?;
    Some((path, text))
}

/// The log exporter the user set in that file.
fn users_exporter(config: &Option<(std::path::PathBuf, String)>) -> Option<String> {
    otel::users_log_exporter(&config.as_ref()?.1)
}

/// `value` as a TOML basic string (Codex parses `-c` values as TOML).
fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codex_gets_its_base_url_as_a_config_override_before_the_users_arguments() {
        let endpoints = Endpoints {
            anthropic_base_url: "http://127.0.0.1:4000".into(),
            openai_base_url: "http://127.0.0.1:4000/openai/v1".into(),
            gemini_base_url: "http://127.0.0.1:4000/gemini".into(),
            telemetry: None,
        };
        let user = vec!["exec".to_string(), "fix the test".to_string()];
        let launch = super::super::launch("/opt/bin/codex", &user, &endpoints);
        assert_eq!(launch.agent, Some("codex"));
        assert_eq!(
            launch.args,
            [
                "-c",
                "openai_base_url=\"http://127.0.0.1:4000/openai/v1\"",
                "exec",
                "fix the test"
            ]
        );
        assert!(!Codex.is_program("codex-wrapper.sh"));
    }

    #[test]
    fn codex_calls_carry_their_session_and_spawned_agents_their_thread() {
        let mut headers = http::HeaderMap::new();
        headers.insert("session-id", "01a24dc6".parse().unwrap());
        headers.insert("thread-id", "01a24dc6".parse().unwrap());
        headers.insert("originator", "codex_exec".parse().unwrap());
        assert_eq!(
            super::super::call_ids(&headers),
            CallIds {
                session_id: Some("01a24dc6".into()),
                agent_id: None,
                parent_agent_id: None,
            }
        );
        headers.insert("thread-id", "02b35ed7".parse().unwrap());
        headers.insert("x-codex-parent-thread-id", "01a24dc6".parse().unwrap());
        assert_eq!(
            super::super::call_ids(&headers),
            CallIds {
                session_id: Some("01a24dc6".into()),
                agent_id: Some("02b35ed7".into()),
                parent_agent_id: Some("01a24dc6".into()),
            }
        );
        let mut old = http::HeaderMap::new();
        old.insert("conversation_id", "c1".parse().unwrap());
        assert_eq!(
            super::super::call_ids(&old).session_id.as_deref(),
            Some("c1")
        );
    }

    #[test]
    fn turn_metadata_fields_past_the_rules_horizon_become_derived_headers() {
        let mut headers = http::HeaderMap::new();
        let metadata = format!(
            r#"{{"installation_id":"{0}","session_id":"{0}","thread_id":"{0}","turn_id":"{0}","window_id":"{0}:0","request_kind":"compaction","thread_source":"user"}}"#,
            "01a24dc6-ba21-76c3-8f93-a1ee8b6ef5cd"
        );
        assert!(metadata.find("request_kind").unwrap() > 256);
        headers.insert("x-codex-turn-metadata", metadata.parse().unwrap());
        assert_eq!(
            super::super::derived_headers(&headers),
            [
                (
                    "x-agentprof-codex-request-kind".to_string(),
                    "compaction".to_string()
                ),
                (
                    "x-agentprof-codex-thread-source".to_string(),
                    "user".to_string()
                ),
                (
                    TURN_ID_HEADER.to_string(),
                    "01a24dc6-ba21-76c3-8f93-a1ee8b6ef5cd".to_string()
                ),
            ]
        );
        headers.insert("x-codex-turn-metadata", "not json".parse().unwrap());
        assert!(super::super::derived_headers(&headers).is_empty());
    }

    #[test]
    fn a_thread_codex_runs_for_itself_is_marked_as_a_side_thread() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "x-codex-turn-metadata",
            r#"{"request_kind":"turn","thread_source":"thread_title"}"#
                .parse()
                .unwrap(),
        );
        let derived = super::super::derived_headers(&headers);
        assert!(derived.contains(&(
            "x-agentprof-codex-side-thread".to_string(),
            "thread_title".to_string()
        )));
        headers.insert(
            "x-codex-turn-metadata",
            r#"{"request_kind":"turn","thread_source":"user"}"#.parse().unwrap(),
        );
        let derived = super::super::derived_headers(&headers);
        assert!(
            derived
                .iter()
                .all(|(name, _)| name != "x-agentprof-codex-side-thread")
        );
    }

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_string("x\ny"), r#""x\u000Ay""#);
    }
}
