//! `agentprof proxy`: the proxy alone, until SIGINT/SIGTERM.

use std::io::Write;

use super::logging;
use super::session::{Session, SessionOptions};
use crate::cli::ProxyArgs;

/// The `proxy` command.
pub fn run(args: ProxyArgs) -> anyhow::Result<i32> {
    let mut options = SessionOptions::from_args("proxy", &args.capture, Vec::new())?;
    logging::init_file(&options.trace);
    options.live = super::session::live_exporters(&args.capture)?;
    let runtime = super::runtime()?;
    let trace = runtime.block_on(async {
        let mut session = Session::start(options).await?;
        for pid in &args.pid {
            session.watch(*pid)?;
        }
        let mut stdout = std::io::stdout().lock();
        writeln!(
            stdout,
            "ANTHROPIC_BASE_URL={}",
            session.anthropic_base_url()
        )?;
        writeln!(stdout, "OPENAI_BASE_URL={}", session.openai_base_url())?;
        if let Some(addr) = session.telemetry_addr() {
            writeln!(stdout, "OTEL_EXPORTER_OTLP_ENDPOINT=http://{addr}")?;
        }
        writeln!(stdout, "trace: {}", session.trace_path().display())?;
        stdout.flush()?;
        drop(stdout);
        wait_for_stop().await?;
        session.finish(None, None).await
    })?;
    if !args.capture.quiet {
        super::summary::print_after_run(&trace);
    }
    Ok(0)
}

async fn wait_for_stop() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = interrupt.recv() => {},
        _ = terminate.recv() => {},
    }
    Ok(())
}
