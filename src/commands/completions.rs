//! `agentprof completions SHELL`: the completion script of the command line, on stdout.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

/// The `completions` command.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<i32> {
    let mut command = Cli::command();
    // Into memory first: clap_complete panics when its writer fails, and stdout may be a
    // closed pipe (`agentprof completions bash | head`), which is not an error here.
    let mut script = Vec::with_capacity(64 * 1024);
    clap_complete::generate(args.shell, &mut command, "agentprof", &mut script);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&script)?;
    stdout.flush()?;
    Ok(0)
}
