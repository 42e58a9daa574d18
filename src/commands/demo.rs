//! `agentprof demo`: the whole pipeline on built-in parts — no key, no network.
//!
//! Starts the mock upstream on a loopback port, runs the synthetic agents (this same binary,
//! `synthetic-agent`: Claude Code-, Codex- and Gemini CLI-shaped side by side, or any one of them)
//! under `run` against it, then prints the report of the trace it wrote — with a "By agent"
//! table when several ran — and writes its HTML report beside it (`index.html`).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;

use super::run::wrap;
use super::session::SessionOptions;
use crate::attribute::summarize;
use crate::capture::proxy::{Upstream, Upstreams};
use crate::cli::{DemoAgent, DemoArgs};
use crate::demo::mock_upstream::{MockConfig, MockUpstream};
use crate::output::html::write_report;
use crate::output::report::table;
use crate::output::trace::read_trace;

/// The `demo` command.
pub fn run(args: DemoArgs) -> anyhow::Result<i32> {
    let trace = args.out.join("trace.jsonl");
    // The demo owns its folder, so its earlier index.html is replaced; a foreign one is still
    // never overwritten (the rule of --html), and that is known before the run.
    let target = super::html::target(&args.out)?;
    // The demo owns its output folder: each run replaces the previous demo's trace.
    let _ = std::fs::remove_file(&trace);
    super::logging::init_file(&trace);
    let exe = std::env::current_exe().context("locating the agentprof binary")?;
    let runtime = super::runtime()?;
    let who = match args.agent {
        DemoAgent::ClaudeCode => "a Claude Code-shaped synthetic agent",
        DemoAgent::Codex => "a Codex-shaped synthetic agent",
        DemoAgent::GeminiCli => "a Gemini CLI-shaped synthetic agent",
        DemoAgent::Both => "Claude Code- and Codex-shaped synthetic agents side by side",
        DemoAgent::All => {
            "Claude Code-, Codex- and Gemini CLI-shaped synthetic agents side by side"
        }
    };
    eprintln!(
        "agentprof demo: {who}, {} turns each, against the built-in mock upstream…",
        args.turns
    );
    let outcome = runtime.block_on(async {
        let mock = MockUpstream::start(loopback(), MockConfig::default())
            .await
            .context("starting the mock upstream")?;
        let upstream = Upstream::parse(&format!("http://{}", mock.addr()))?;
        let command = vec![
            exe.display().to_string(),
            "synthetic-agent".to_string(),
            "--shape".to_string(),
            args.agent.shape().to_string(),
            "--turns".to_string(),
            args.turns.to_string(),
        ];
        let options = SessionOptions {
            mode: "demo",
            trace: trace.clone(),
            // The mock answers all four.
            upstreams: Upstreams {
                anthropic: upstream.clone(),
                openai: upstream.clone(),
                chatgpt: upstream.clone(),
                gemini: upstream,
            },
            listen: loopback(),
            sample_interval: Duration::from_millis(100),
            pss_every: 5,
            capture_bodies: false,
            allowed_hosts: Vec::new(),
            command: command.clone(),
            rules: crate::attribute::rules::RuleSet::builtin(),
            kv_profile: crate::attribute::kv::DEFAULT_PROFILE.to_string(),
            agent_telemetry: true,
            live: Default::default(),
            prices: crate::attribute::cost::PriceTable::bundled(),
        };
        let outcome = wrap(options, &command, &[]).await;
        mock.shutdown().await;
        outcome
    })?;
    if outcome.exit_code != 0 {
        anyhow::bail!(
            "the synthetic agent exited with code {} (trace: {})",
            outcome.exit_code,
            outcome.trace.display()
        );
    }
    let read = read_trace(&outcome.trace)?;
    let prices = crate::attribute::cost::PriceTable::bundled();
    let kv_profile = crate::attribute::kv::KvProfile::default_profile();
    let rows = crate::attribute::rows::RowsSpec::by_category();
    let options = crate::attribute::summary::ReportOptions {
        prices: &prices,
        kv_profile,
        rows: &rows,
        findings: Default::default(),
    };
    let summary = summarize(std::slice::from_ref(&read), &options);
    let index = write_report(
        &target,
        &summary,
        std::slice::from_ref(&read),
        &prices,
        kv_profile,
    )
    .map_err(super::html::error)?;
    let mut stdout = std::io::stdout().lock();
    table::write(&summary, &mut stdout)?;
    super::demo_agents::write(&read, &options, &mut stdout)?;
    use std::io::Write;
    writeln!(stdout, "\ntrace: {}", outcome.trace.display())?;
    writeln!(stdout, "HTML report: {}", index.display())?;
    Ok(0)
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}
