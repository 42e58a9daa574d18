//! What agentprof knows about each agent, one room per agent.
//!
//! A room says how to point its agent at agentprof: the environment it reads (given to every
//! wrapped command, since an agent is often started by a script or a shell alias) and the
//! arguments it needs when it is the program run (settings no environment variable reaches).
//! The user's own configuration files are never written. Adding an agent is a room here and
//! one line in [`AGENTS`].
//!
//! The rest of what the design gives each room (its built-in rules, telemetry mapping and
//! history reader) still lives in `attribute::rules`, `attribute::telemetry_join` and
//! `capture::transcripts`; it moves here agent by agent.

mod claude_code;
mod codex;
mod gemini_cli;
mod generic;
mod jsonc;
mod opencode;

/// Codex's rollout history reader (`agentprof import codex`).
pub use codex::history as codex_history;
/// Gemini CLI's chat history reader (`agentprof import gemini`).
pub use gemini_cli::history as gemini_history;
/// Gemini CLI's telemetry: its call event and what its roles mean.
pub use gemini_cli::telemetry as gemini_telemetry;
/// opencode's history reader (`agentprof import opencode`).
pub use opencode::history as opencode_history;

use std::path::Path;

use crate::capture::proxy::header_text;
use crate::capture::telemetry::ForwardTarget;

/// Where a session listens for the agent.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// `http://127.0.0.1:PORT`
    pub anthropic_base_url: String,
    /// `http://127.0.0.1:PORT/openai/v1`
    pub openai_base_url: String,
    /// `http://127.0.0.1:PORT/gemini`
    pub gemini_base_url: String,
    /// The OTLP/HTTP receiver's base URL, when it runs.
    pub telemetry: Option<String>,
}

/// How the wrapped command is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// The agent recognised by its program, if any.
    pub agent: Option<&'static str>,
    /// How to install that agent, for when its program is not found.
    pub install_hint: Option<&'static str>,
    /// What the user should know about how the agent was pointed at agentprof.
    pub notes: Vec<String>,
}

/// The ids a call's headers carry: whose session it is, and which agent of it made the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallIds {
    pub session_id: Option<String>,
    /// A sub-agent's own id (absent on the main agent's calls).
    pub agent_id: Option<String>,
    /// The agent that started this sub-agent, when the agent says.
    pub parent_agent_id: Option<String>,
}

/// One agent's knowledge of how it is pointed at agentprof and how its calls are marked.
pub trait Agent: Sync {
    /// The agent's name in messages and traces (`claude-code`, `codex`).
    fn name(&self) -> &'static str;

    /// Environment pointing this agent at agentprof.
    fn env(&self, endpoints: &Endpoints) -> Vec<(String, String)> {
        let _ = endpoints;
        Vec::new()
    }

    /// Whether `program` (as given on the command line) is this agent.
    fn is_program(&self, program: &str) -> bool;

    /// The prefix of this agent's built-in rule names (`cc-` in `rule:cc-main-loop`): a live
    /// call a rule of this agent classified is this agent's call.
    fn rule_prefix(&self) -> Option<&'static str> {
        None
    }

    /// The arguments to run this agent with, given the user's.
    fn args(&self, endpoints: &Endpoints, args: &[String]) -> Vec<String> {
        let _ = endpoints;
        args.to_vec()
    }

    /// The ids of a call this agent made, if its headers are this agent's.
    fn call_ids(&self, headers: &http::HeaderMap) -> Option<CallIds> {
        let _ = headers;
        None
    }

    /// How a user installs this agent (said when its program is not found).
    fn install_hint(&self) -> Option<&'static str> {
        None
    }

    /// What the user should know before the run (something agentprof could not, or chose
    /// not to, change), given the user's arguments.
    fn notes(&self, endpoints: &Endpoints, args: &[String]) -> Vec<String> {
        let _ = (endpoints, args);
        Vec::new()
    }

    /// Facts for classification rules that a header holds too deep for them (rules see
    /// header values cut at 256 bytes), as derived `x-agentprof-*` headers.
    fn derived_headers(&self, headers: &http::HeaderMap) -> Vec<(String, String)> {
        let _ = headers;
        Vec::new()
    }

    /// Where the user had pointed this agent's telemetry before agentprof redirected it (read
    /// from their environment and the agent's settings), so the receiver passes it on there.
    fn users_telemetry(&self) -> Option<ForwardTarget> {
        None
    }
}

/// Every agent agentprof knows.
static AGENTS: &[&dyn Agent] = &[
    &generic::Generic,
    &claude_code::ClaudeCode,
    &codex::Codex,
    &gemini_cli::GeminiCli,
    &opencode::Opencode,
];

/// Where the user's own telemetry went, so the receiver passes it on. For a known agent run
/// as `program`, that agent's own target only: the user's Gemini CLI collector must not get a
/// Claude Code session's events. For any other command (a script, a shell; `proxy` runs none)
/// every agent's environment may be the one used, so each signal goes to the first agent's
/// target that has one.
pub fn users_telemetry(program: Option<&str>) -> Option<ForwardTarget> {
    if let Some(agent) = program.and_then(|p| AGENTS.iter().find(|a| a.is_program(p))) {
        return agent.users_telemetry();
    }
    AGENTS
        .iter()
        .filter_map(|a| a.users_telemetry())
        .reduce(ForwardTarget::or)
}

/// How to start `program args…` so that whichever agent it is reaches agentprof.
pub fn launch(program: &str, args: &[String], endpoints: &Endpoints) -> Launch {
    let env = AGENTS.iter().flat_map(|a| a.env(endpoints)).collect();
    let agent = AGENTS.iter().find(|a| a.is_program(program));
    Launch {
        program: program.to_string(),
        args: agent.map_or_else(|| args.to_vec(), |a| a.args(endpoints, args)),
        env,
        agent: agent.map(|a| a.name()),
        install_hint: agent.and_then(|a| a.install_hint()),
        notes: agent.map(|a| a.notes(endpoints, args)).unwrap_or_default(),
    }
}

/// The ids in a call's headers, read by the first agent that recognises them.
pub fn call_ids(headers: &http::HeaderMap) -> CallIds {
    AGENTS
        .iter()
        .find_map(|a| a.call_ids(headers))
        .unwrap_or_default()
}

/// Every agent's derived headers for a call (see [`Agent::derived_headers`]).
pub fn derived_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    AGENTS
        .iter()
        .flat_map(|a| a.derived_headers(headers))
        .collect()
}

/// The agent `program` (as a trace's command names it) is, if a known one.
pub fn name_of_program(program: &str) -> Option<&'static str> {
    AGENTS
        .iter()
        .find(|a| a.is_program(program))
        .map(|a| a.name())
}

/// The agent whose built-in rule classified a live call (`classified_by` `rule:cc-…`).
pub fn name_of_rule(classified_by: &str) -> Option<&'static str> {
    let rule = classified_by.strip_prefix("rule:")?;
    AGENTS
        .iter()
        .find(|a| a.rule_prefix().is_some_and(|p| rule.starts_with(p)))
        .map(|a| a.name())
}

/// The agent of an `agentprof import <name>` (`gemini` is Gemini CLI).
pub fn name_of_import(name: &str) -> &str {
    match name {
        "gemini" => "gemini-cli",
        other => other,
    }
}

/// The file name of `program`: `codex` for `/usr/local/bin/codex` or `./codex`.
fn program_name(program: &str) -> &str {
    Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(program)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints() -> Endpoints {
        Endpoints {
            anthropic_base_url: "http://127.0.0.1:4000".into(),
            openai_base_url: "http://127.0.0.1:4000/openai/v1".into(),
            gemini_base_url: "http://127.0.0.1:4000/gemini".into(),
            telemetry: Some("http://127.0.0.1:4001".into()),
        }
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn any_command_gets_every_agents_environment_and_its_own_arguments() {
        let launch = launch("sh", &args(&["-c", "claude -p hi"]), &endpoints());
        assert_eq!(launch.args, args(&["-c", "claude -p hi"]));
        assert_eq!(launch.agent, None);
        let env: std::collections::HashMap<_, _> = launch.env.iter().cloned().collect();
        assert_eq!(env["ANTHROPIC_BASE_URL"], "http://127.0.0.1:4000");
        assert_eq!(env["OPENAI_BASE_URL"], "http://127.0.0.1:4000/openai/v1");
        assert_eq!(env["CLAUDE_CODE_ENABLE_TELEMETRY"], "1");
        assert_eq!(env["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://127.0.0.1:4001");
        let names: Vec<&str> = launch.env.iter().map(|(k, _)| k.as_str()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            names.len(),
            "no variable set twice: {names:?}"
        );
    }

    #[test]
    fn no_telemetry_receiver_no_telemetry_environment() {
        let endpoints = Endpoints {
            telemetry: None,
            ..endpoints()
        };
        let launch = launch("claude", &[], &endpoints);
        assert_eq!(launch.agent, Some("claude-code"));
        assert!(
            launch.env.iter().all(|(k, _)| !k.starts_with("OTEL_")),
            "{:?}",
            launch.env
        );
        assert!(
            launch
                .env
                .iter()
                .all(|(k, _)| k != "CLAUDE_CODE_ENABLE_TELEMETRY")
        );
    }

    #[test]
    fn a_known_agent_forwards_only_its_own_telemetry() {
        // Codex's own exporter is left in place rather than forwarded: nothing to forward for
        // it, whatever Claude Code's or Gemini CLI's settings say.
        assert!(users_telemetry(Some("/usr/bin/codex")).is_none());
    }

    #[test]
    fn program_names_are_matched_by_file_name() {
        assert_eq!(program_name("/usr/local/bin/codex"), "codex");
        assert_eq!(program_name("./node_modules/.bin/claude"), "claude");
        assert_eq!(program_name("codex"), "codex");
    }
}
