//! `agentprof statusline` (placeholder while it is built).
use crate::cli::StatuslineArgs;
pub fn run(_args: StatuslineArgs) -> anyhow::Result<i32> {
    Ok(0)
}
