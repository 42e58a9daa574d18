//! `--shape all` and `--shape both`: one process of this same binary per agent shape (all three,
//! or Claude Code's and Codex's), side by side, so one `agentprof run` (and the demo) measures
//! several agents in one trace — each with its own session, as real agents would be. Side by
//! side keeps the demo as quick as with one agent; each shape's usage depends only on its own
//! requests, so it stays deterministic.

use std::process::Stdio;

use tokio::process::Child;

use super::error::AgentError;
use super::{Shape, SyntheticAgentArgs};

/// The single-agent shapes a combined shape runs.
fn members(shape: Shape) -> &'static [Shape] {
    match shape {
        Shape::Both => &[Shape::ClaudeCode, Shape::Codex],
        Shape::All => &[Shape::ClaudeCode, Shape::Codex, Shape::GeminiCli],
        Shape::ClaudeCode => &[Shape::ClaudeCode],
        Shape::Codex => &[Shape::Codex],
        Shape::GeminiCli => &[Shape::GeminiCli],
    }
}

/// Starts every member shape, then waits for all of them; fails if any does (the others are
/// still waited for, so none is left running).
pub(crate) async fn run(args: &SyntheticAgentArgs) -> Result<(), AgentError> {
    let mut children = Vec::new();
    for shape in members(args.shape) {
        children.push((shape.name(), start(args, *shape)?));
    }
    let mut result = Ok(());
    for (name, mut child) in children {
        let status = child
            .wait()
            .await
            .map_err(|e| AgentError::Subagent(format!("the {name} agent was lost: {e}")));
        let outcome = status.and_then(|status| {
            if status.success() {
                Ok(())
            } else {
                Err(AgentError::Subagent(format!(
                    "the {name} agent exited with {status}"
                )))
            }
        });
        result = result.and(outcome);
    }
    result
}

fn start(args: &SyntheticAgentArgs, shape: Shape) -> Result<Child, AgentError> {
    let name = shape.name();
    let exe = std::env::current_exe()
        .map_err(|e| AgentError::Subagent(format!("cannot find own executable: {e}")))?;
    tokio::process::Command::new(exe)
        .arg("synthetic-agent")
        .args(["--shape", name])
        .args(["--turns", &args.turns.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .args(["--think-ms", &args.think_ms.to_string()])
        .args(["--model", &args.model, "--small-model", &args.small_model])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| AgentError::Subagent(format!("cannot start the {name} agent: {e}")))
}
