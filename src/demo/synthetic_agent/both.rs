//! `--shape both`: one Claude Code-shaped and one Codex-shaped process of this same binary, side
//! by side, so one `agentprof run` (and the demo) measures both agents in one trace — each with
//! its own session, as two real agents would be. Side by side keeps the demo as quick as with
//! one agent; each shape's usage depends only on its own requests, so it stays deterministic.

use std::process::Stdio;

use super::error::AgentError;
use super::{Shape, SyntheticAgentArgs};

/// Runs both shapes to completion; fails if either does.
pub(crate) async fn run(args: &SyntheticAgentArgs) -> Result<(), AgentError> {
    let (a, b) = tokio::join!(
        child(args, Shape::ClaudeCode, "claude-code"),
        child(args, Shape::Codex, "codex")
    );
    a.and(b)
}

async fn child(args: &SyntheticAgentArgs, shape: Shape, name: &str) -> Result<(), AgentError> {
    debug_assert!(shape != Shape::Both);
    let exe = std::env::current_exe()
        .map_err(|e| AgentError::Subagent(format!("cannot find own executable: {e}")))?;
    let status = tokio::process::Command::new(exe)
        .arg("synthetic-agent")
        .args(["--shape", name])
        .args(["--turns", &args.turns.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .args(["--think-ms", &args.think_ms.to_string()])
        .args(["--model", &args.model, "--small-model", &args.small_model])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|e| AgentError::Subagent(format!("cannot start the {name} agent: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(AgentError::Subagent(format!(
            "the {name} agent exited with {status}"
        )))
    }
}
