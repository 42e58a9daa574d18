//! Glue: one module per subcommand, each a short pipeline over the library.

mod ab;
mod compare;
mod completions;
mod demo;
mod demo_agents;
mod exporters;
mod html;
mod import;
mod logging;
mod options;
mod prices;
mod progress;
mod proxy;
mod report;
pub mod run;
pub mod session;
mod signals;
mod simulate;
mod statusline;
mod summary;
mod top;

use crate::cli::{Cli, Command};

/// Runs a parsed command line; returns the process exit code.
pub fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Proxy(args) => proxy::run(args),
        Command::Report(args) => {
            logging::init_stderr();
            report::run(args)
        }
        Command::Prices(args) => prices::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Import(args) => {
            logging::init_stderr();
            import::run(args)
        }
        Command::Ab(args) => {
            logging::init_stderr();
            ab::run(args)
        }
        Command::Compare(args) => {
            logging::init_stderr();
            compare::run(args)
        }
        Command::Top(args) => top::run(args),
        Command::Statusline(args) => statusline::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Completions(args) => completions::run(&args),
        Command::MockUpstream(args) => {
            logging::init_stderr();
            crate::demo::mock_upstream::run_mock_cli(args).map(|()| 0)
        }
        Command::SyntheticAgent(args) => {
            crate::demo::synthetic_agent::run_synthetic_agent(args).map(|()| 0)
        }
        Command::GenTranscripts(args) => crate::demo::transcript_corpus::run_cli(&args).map(|()| 0),
        Command::GenCodexRollouts(args) => crate::demo::codex_rollouts::run_cli(&args).map(|()| 0),
        Command::GenGeminiChats(args) => crate::demo::gemini_chats::run_cli(&args).map(|()| 0),
        Command::GenOpencodeHistory(args) => {
            crate::demo::opencode_history::run_cli(&args).map(|()| 0)
        }
    }
}

/// The runtime `run`, `proxy` and `demo` use. Two workers: the proxy must keep up with an
/// agent's bursts of parallel calls without taking more than the machine can spare.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("agentprof-io")
        .enable_all()
        .build()?)
}
