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
    let findings = super::options::findings(&args.findings)?;
    let prices = options.prices.clone();
    logging::init_file(&options.trace);
    let runtime = super::runtime()?;
    let outcome = runtime.block_on(async {
        let exporters = super::exporters::start(&args.capture, findings, &mut options).await?;
        if let Some(addr) = exporters.prometheus {
            // The terminal belongs to the agent: the address goes to the log.
            tracing::info!("metrics: http://{addr}/metrics");
        }
        wrap(options, &args.command, &[]).await
    })?;
    if !args.capture.quiet {
        summary::print_after_run(&outcome.trace, &prices, findings);
    }
    Ok(outcome.exit_code)
}

/// The variable naming the live trace (absolute) in the wrapped command's environment.
pub const TRACE_ENV: &str = "AGENTPROF_TRACE";

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
    // Handlers go in before the child starts: a signal in between must not kill agentprof
    // with the default action and leave the child orphaned and the trace without a footer.
    let mut signals = super::signals::Forwarder::install().context("installing signal handlers")?;

    let launch = crate::agents::launch(program, program_args, &session.endpoints());
    if let Some(agent) = launch.agent {
        tracing::info!("wrapping {agent}: {:?} {:?}", launch.program, launch.args);
    }
    for note in &launch.notes {
        eprintln!("agentprof: {note}");
    }
    // The agent's own status command (`agentprof statusline`) finds the live trace by it.
    let trace = std::path::absolute(session.trace_path())
        .unwrap_or_else(|_| session.trace_path().to_path_buf());
    let mut child = Command::new(&launch.program);
    child
        .args(&launch.args)
        .envs(launch.env)
        .env(TRACE_ENV, trace)
        .envs(extra_env.iter().map(|(k, v)| (k, v)))
        .kill_on_drop(false);
    let mut child = match child.spawn() {
        Ok(child) => child,
        Err(err) => {
            let trace = session.finish(None, None).await?;
            let hint = match launch.install_hint {
                Some(install) if err.kind() == std::io::ErrorKind::NotFound => {
                    format!("; is it installed? ({install})")
                }
                _ => String::new(),
            };
            let message = format!(
                "cannot start {program:?}: {err}{hint} (trace: {})",
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
    let waited = signals.wait(&mut child).await;
    let (code, signal, exit_code) = match &waited {
        Ok(status) => {
            let (exit_code, signal) = exit_of(*status);
            (status.code(), signal, exit_code)
        }
        Err(_) => (None, None, 1),
    };
    let trace = session.trace_path().to_path_buf();
    let finished = session.finish(code, signal).await;
    waited.context("waiting for the wrapped command")?;
    // The agent's exit code is the contract; a trace problem is reported, not substituted.
    if let Err(err) = finished {
        eprintln!("agentprof: warning: {err:#}");
    }
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
