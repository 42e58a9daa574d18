//! The synthetic agent's Codex shape: Codex CLI 0.171 (`codex exec`, memories on) on the wire —
//! the Responses API over HTTP/SSE with Codex's identity headers and metadata (`wire`), input
//! items (`history`), Codex's tools (`tools`) and prompts (`prompts`). Its work (`session`):
//! memories at startup, user turns with the shared tool loop, a spawned agent (`spawned`) and
//! remote compaction. Every call carries `x-agentprof-truth-category`, as in the other shape.

mod history;
mod prompts;
mod session;
mod spawned;
mod tools;
mod wire;

use super::error::AgentError;
use super::{Log, SyntheticAgentArgs};

const DEFAULT_API_KEY: &str = "sk-synthetic-demo-key";

/// Runs one Codex-shaped session against `OPENAI_BASE_URL` (which `agentprof run` sets; the
/// real Codex reads its base URL from config instead, which `run` passes with `-c`).
pub(crate) async fn run(args: &SyntheticAgentArgs, log: Log) -> Result<(), AgentError> {
    let base_url = std::env::var("OPENAI_BASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .ok_or(AgentError::MissingBaseUrl("OPENAI_BASE_URL"))?;
    let api_key = std::env::var("OPENAI_API_KEY")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_API_KEY.to_string());
    let installation_id = super::device_id(args.seed);
    let client = wire::CodexClient::new(&base_url, api_key, session::new_id(), installation_id)?;
    session::CodexSession::new(args, client, log).run().await
}
