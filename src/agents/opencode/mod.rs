//! opencode (npm `opencode-ai`).
//!
//! opencode talks to the Anthropic and OpenAI APIs through the AI SDK, whose base URLs a
//! `provider.<id>.options.baseURL` in its config overrides (the environment's
//! `ANTHROPIC_BASE_URL` does not win over a user's config). Its config is merged from several
//! files, and `OPENCODE_CONFIG_CONTENT` (JSON) is deep-merged over the user's and the project's
//! files: agentprof sets it — merged with the user's own `OPENCODE_CONFIG_CONTENT`, if any — to
//! point both providers at the proxy. No file is written (and with `OPENCODE_CONFIG_CONTENT` set,
//! opencode itself does not create a default config file either).
//!
//! Its calls name their session in `x-session-id` (1.18; `x-session-affinity` in 1.14) and a
//! sub-agent's (task tool) its parent's in `x-parent-session-id`.

mod config;
pub mod history;

use serde_json::{Value, json};

use super::{Agent, CallIds, Endpoints, header_text, program_name};

pub struct Opencode;

/// The variable opencode merges over its config files.
const CONFIG_CONTENT: &str = "OPENCODE_CONFIG_CONTENT";

impl Agent for Opencode {
    fn name(&self) -> &'static str {
        "opencode"
    }

    fn rule_prefix(&self) -> Option<&'static str> {
        Some("opencode-")
    }

    fn install_hint(&self) -> Option<&'static str> {
        Some("npm install -g opencode-ai")
    }

    fn is_program(&self, program: &str) -> bool {
        program_name(program) == "opencode"
    }

    fn env(&self, endpoints: &Endpoints) -> Vec<(String, String)> {
        let users = std::env::var(CONFIG_CONTENT).ok();
        vec![(
            CONFIG_CONTENT.to_string(),
            config_content(endpoints, users.as_deref()).to_string(),
        )]
    }

    fn notes(&self, endpoints: &Endpoints, _args: &[String]) -> Vec<String> {
        let env: std::collections::HashMap<String, String> = std::env::vars().collect();
        let cwd = std::env::current_dir().unwrap_or_default();
        config::users_base_urls(&env, &cwd)
            .into_iter()
            .map(|(provider, url, file)| {
                let flag = if provider == "openai" {
                    "--openai-upstream"
                } else {
                    "--anthropic-upstream"
                };
                format!(
                    "opencode sends its {provider} calls to {url} ({}); for this run agentprof \
                     points them at itself ({}) and on to its own {provider} upstream: to keep \
                     using {url}, run agentprof with {flag} {url}",
                    file.display(),
                    proxy_url(endpoints, &provider)
                )
            })
            .collect()
    }

    /// `x-session-id` (1.18) or `x-session-affinity` (1.14) on every call; a sub-agent's calls
    /// carry its own session there and its parent's in `x-parent-session-id`: the parent is the
    /// session, the sub-agent's own session its agent id.
    fn call_ids(&self, headers: &http::HeaderMap) -> Option<CallIds> {
        let own = header_text(headers, "x-session-id")
            .or_else(|| header_text(headers, "x-session-affinity"))?;
        Some(match header_text(headers, "x-parent-session-id") {
            Some(parent) => CallIds {
                session_id: Some(parent),
                agent_id: Some(own),
                parent_agent_id: None,
            },
            None => CallIds {
                session_id: Some(own),
                ..CallIds::default()
            },
        })
    }
}

/// The proxy URL opencode's `provider` is pointed at.
fn proxy_url(endpoints: &Endpoints, provider: &str) -> String {
    match provider {
        // The AI SDK appends `/messages` to the Anthropic base URL, so it must end in `/v1`.
        "anthropic" => format!("{}/v1", endpoints.anthropic_base_url),
        _ => endpoints.openai_base_url.clone(),
    }
}

/// The config to merge over opencode's: both providers' base URLs at the proxy, over the user's
/// own `OPENCODE_CONFIG_CONTENT` (kept when it is a JSON object; replaced, as opencode itself
/// would reject it, when not).
fn config_content(endpoints: &Endpoints, users: Option<&str>) -> Value {
    let mut config = users
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    for provider in ["anthropic", "openai"] {
        let options = config
            .as_object_mut()
            .map(|c| c.entry("provider").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
            .map(|p| p.entry(provider).or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
            .map(|p| p.entry("options").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut);
        if let Some(options) = options {
            options.insert(
                "baseURL".to_string(),
                Value::String(proxy_url(endpoints, provider)),
            );
        }
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints() -> Endpoints {
        Endpoints {
            anthropic_base_url: "http://127.0.0.1:4000".into(),
            openai_base_url: "http://127.0.0.1:4000/openai/v1".into(),
            gemini_base_url: "http://127.0.0.1:4000/gemini".into(),
            telemetry: None,
        }
    }

    #[test]
    fn both_providers_point_at_the_proxy_over_the_users_own_config_content() {
        let fresh = config_content(&endpoints(), None);
        assert_eq!(
            fresh["provider"]["anthropic"]["options"]["baseURL"],
            "http://127.0.0.1:4000/v1"
        );
        assert_eq!(
            fresh["provider"]["openai"]["options"]["baseURL"],
            "http://127.0.0.1:4000/openai/v1"
        );
        let users = r#"{"model":"anthropic/claude-opus-4-5","provider":{"anthropic":{"options":{"baseURL":"https://gw.example/v1","headers":{"x-team":"a"}}}}}"#;
        let merged = config_content(&endpoints(), Some(users));
        assert_eq!(merged["model"], "anthropic/claude-opus-4-5");
        assert_eq!(
            merged["provider"]["anthropic"]["options"]["headers"]["x-team"],
            "a"
        );
        assert_eq!(
            merged["provider"]["anthropic"]["options"]["baseURL"],
            "http://127.0.0.1:4000/v1"
        );
        // Not an object (opencode would refuse it): replaced.
        let replaced = config_content(&endpoints(), Some("[1]"));
        assert!(replaced["provider"].is_object());
    }

    #[test]
    fn sessions_and_sub_agents_come_from_its_headers() {
        let mut h = http::HeaderMap::new();
        assert_eq!(Opencode.call_ids(&h), None);
        h.insert("x-session-affinity", "ses_old".parse().unwrap());
        assert_eq!(
            Opencode.call_ids(&h).unwrap().session_id.as_deref(),
            Some("ses_old")
        );
        h.insert("x-session-id", "ses_child".parse().unwrap());
        h.insert("x-parent-session-id", "ses_parent".parse().unwrap());
        let ids = Opencode.call_ids(&h).unwrap();
        assert_eq!(ids.session_id.as_deref(), Some("ses_parent"));
        assert_eq!(ids.agent_id.as_deref(), Some("ses_child"));
    }

    #[test]
    fn opencode_is_recognised_by_its_program_name() {
        assert!(Opencode.is_program("/usr/local/bin/opencode"));
        assert!(!Opencode.is_program("opencode-ai"));
    }
}
