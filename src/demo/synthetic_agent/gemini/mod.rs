//! The synthetic agent's Gemini CLI shape: interactive Gemini CLI 0.61 with model `auto` on the
//! wire — the Gemini API through Google's SDK with Gemini CLI's `User-Agent` (`wire`), its chat
//! history of contents (`history`), tools (`tools`) and prompts (`prompts`). Its work
//! (`session`): a session summary at startup, a router call before every prompt, chat
//! compression once the history is large, user turns with the shared tool loop, and the codebase
//! investigator (`investigator`) on one turn. Every call carries `x-agentprof-truth-category`,
//! as in the other shapes.

mod history;
mod investigator;
mod prompts;
mod session;
mod tools;
mod wire;

use super::error::AgentError;
use super::{Log, SyntheticAgentArgs};

const DEFAULT_API_KEY: &str = "synthetic-gemini-demo-key";

/// Runs one Gemini CLI-shaped session against `GOOGLE_GEMINI_BASE_URL` (which `agentprof run`
/// sets to `<proxy>/gemini`).
pub(crate) async fn run(args: &SyntheticAgentArgs, log: Log) -> Result<(), AgentError> {
    let base_url = std::env::var("GOOGLE_GEMINI_BASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .ok_or(AgentError::MissingBaseUrl("GOOGLE_GEMINI_BASE_URL"))?;
    let api_key = std::env::var("GEMINI_API_KEY")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_API_KEY.to_string());
    let client = wire::GeminiClient::new(&base_url, api_key)?;
    session::GeminiSession::new(args, client, log).run().await
}
