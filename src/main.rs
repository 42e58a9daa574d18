//! The `agentprof` binary: parse the command line, run the command, map errors to exit codes.

use clap::Parser;

fn main() {
    let cli = agentprof::cli::Cli::parse();
    match agentprof::commands::dispatch(cli) {
        Ok(code) => std::process::exit(code),
        Err(err) if agentprof::error::is_broken_pipe(&err) => std::process::exit(0),
        Err(err) => {
            eprintln!("agentprof: {err:#}");
            std::process::exit(agentprof::error::exit_code(&err));
        }
    }
}
