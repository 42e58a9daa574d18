//! `agentprof proxy`: the proxy alone, until SIGINT/SIGTERM.

use std::io::Write;

use super::logging;
use super::session::{Session, SessionOptions};
use crate::cli::ProxyArgs;

/// The `proxy` command.
pub fn run(args: ProxyArgs) -> anyhow::Result<i32> {
    let mut options = SessionOptions::from_args("proxy", &args.capture, Vec::new())?;
    let findings = super::options::findings(&args.findings)?;
    let prices = options.prices.clone();
    logging::init_file(&options.trace);
    let runtime = super::runtime()?;
    let trace = runtime.block_on(async {
        let exporters = super::exporters::start(&args.capture, findings, &mut options).await?;
        let mut session = Session::start(options).await?;
        for pid in &args.pid {
            session.watch(*pid)?;
        }
        let mut lines = vec![
            format!("ANTHROPIC_BASE_URL={}", session.anthropic_base_url()),
            format!("OPENAI_BASE_URL={}", session.openai_base_url()),
            format!("GOOGLE_GEMINI_BASE_URL={}", session.gemini_base_url()),
        ];
        if let Some(addr) = session.telemetry_addr() {
            lines.push(format!("OTEL_EXPORTER_OTLP_ENDPOINT=http://{addr}"));
        }
        if let Some(addr) = exporters.prometheus {
            lines.push(format!("metrics: http://{addr}/metrics"));
        }
        lines.push(format!("trace: {}", session.trace_path().display()));
        // Whoever reads these may stop early (`agentprof proxy | head -1`); the proxy keeps
        // serving all the same, so a closed stdout is not an error here.
        let mut stdout = std::io::stdout().lock();
        for line in lines {
            let _ = writeln!(stdout, "{line}");
        }
        let _ = stdout.flush();
        drop(stdout);
        let stopped = wait_for_stop().await;
        let finished = session.finish(None, None).await;
        stopped?;
        finished
    })?;
    if !args.capture.quiet {
        super::summary::print_after_run(&trace, &prices, findings);
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
