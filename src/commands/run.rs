//! `agentprof run -- CMD…`: wrap an agent, capture everything, exit as it exited.

use std::path::PathBuf;
use std::process::ExitStatus;

use anyhow::Context as _;
use tokio::process::Command;

use super::session::{Session, SessionOptions};
use super::{logging, summary};
use crate::cli::RunArgs;
use crate::error::InputError;

/// How the wrapped command ended, and where its trace is.
#[derive(Debug)]
pub struct RunOutcome {
    pub exit_code: i32,
    pub trace: PathBuf,
}

/// The `run` command.
pub fn run(args: RunArgs) -> anyhow::Result<i32> {
    let mut options = SessionOptions::from_args("run", &args.capture, args.command.clone())?;
    logging::init_file(&options.trace);
    options.live = super::session::live_exporters(&args.capture)?;
    let runtime = super::runtime()?;
    let outcome = runtime.block_on(wrap(options, &args.command, &[]))?;
    if !args.capture.quiet {
        summary::print_after_run(&outcome.trace);
    }
    Ok(outcome.exit_code)
}

/// Starts a session, runs `command` under it with the agent's env pointed at the proxy, waits
/// for it, finishes the trace. `extra_env` is added after agentprof's own variables.
pub async fn wrap(
    options: SessionOptions,
    command: &[String],
    extra_env: &[(String, String)],
) -> anyhow::Result<RunOutcome> {
    let (program, program_args) = command
        .split_first()
        .ok_or_else(|| InputError::new("no command given after `--`"))?;
    let mut session = Session::start(options).await?;

    let mut child = Command::new(program);
    child
        .args(program_args)
        .envs(session.agent_env())
        .envs(extra_env.iter().map(|(k, v)| (k, v)))
        .kill_on_drop(false);
    let mut child = match child.spawn() {
        Ok(child) => child,
        Err(err) => {
            let trace = session.finish(None, None).await?;
            let message = format!(
                "cannot start {program:?}: {err} (trace: {})",
                trace.display()
            );
            return Err(if err.kind() == std::io::ErrorKind::NotFound {
                InputError::new(message).into()
            } else {
                anyhow::anyhow!(message)
            });
        }
    };
    if let Some(pid) = child.id()
        && let Err(err) = session.watch(pid)
    {
        tracing::warn!("memory sampling is off: {err:#}");
    }
    let status = super::signals::wait_forwarding(&mut child)
        .await
        .context("waiting for the wrapped command")?;
    let (exit_code, signal) = exit_of(status);
    let trace = session.finish(status.code(), signal).await?;
    Ok(RunOutcome { exit_code, trace })
}

/// The shell convention: the code, or 128 + the signal that killed it.
fn exit_of(status: ExitStatus) -> (i32, Option<i32>) {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => (code, None),
        (None, Some(signal)) => (128 + signal, Some(signal)),
        (None, None) => (1, None),
    }
}
