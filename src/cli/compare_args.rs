//! Flags of `agentprof compare`.

use std::path::PathBuf;

use clap::Args;

/// The exit codes of `compare`, shown under its `--help`.
pub const COMPARE_EXIT_CODES: &str = "Exit codes: 0 compared (every --fail-if holds), 1 a \
--fail-if threshold is broken, 2 bad flag or input.";

/// How a comparison is priced, shown and judged: shared by `compare` and `ab`.
#[derive(Debug, Args)]
pub struct ComparisonArgs {
    /// Print one JSON document (agentprof.compare/v1) instead of tables.
    #[arg(long)]
    pub json: bool,

    /// Also write the comparison as a page (index.html: verdicts, A beside B per category,
    /// every row) in DIR.
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,

    /// Exit 1 when B − A breaks this: `cost>+10%` (a percent of A's mean),
    /// `memory_extraction.cost>+10%` (a category, `total` or `turn N`), `rss_peak>100000000`
    /// (in the figure's unit). Repeatable.
    #[arg(long, value_name = "[SCOPE.]FIGURE>LIMIT")]
    pub fail_if: Vec<String>,

    /// Prices to use instead of (or on top of) the bundled snapshot, as `report --prices`.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// A's traces, the baseline (one per run, written by `run`, `proxy`, `demo` or `import
    /// --trace`).
    #[arg(required = true, value_name = "A")]
    pub a: Vec<PathBuf>,

    /// B's traces, after `--`.
    #[arg(last = true, required = true, value_name = "B")]
    pub b: Vec<PathBuf>,

    #[command(flatten)]
    pub output: ComparisonArgs,

    /// The server KV assumption, as `report --kv-profile` [default: each trace's].
    #[arg(long, value_name = "NAME")]
    pub kv_profile: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = COMPARE_EXIT_CODES)]
pub struct AbArgs {
    /// Runs per side. A and B alternate, each going first as often: A1 B1, B2 A2, A3 B3, … —
    /// a warming prompt cache (the second run of a pair reads what the first wrote) and drift
    /// fall on both sides alike.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,

    /// An environment variable for A's runs, `NAME=VALUE` (repeatable). `{run}` in a value
    /// becomes the run's number.
    #[arg(long = "a", value_name = "NAME=VALUE", value_parser = parse_env)]
    pub a_env: Vec<(String, String)>,

    /// An environment variable for B's runs, `NAME=VALUE` (repeatable).
    #[arg(long = "b", value_name = "NAME=VALUE", value_parser = parse_env)]
    pub b_env: Vec<(String, String)>,

    /// A shell command run before each run, in its directory, with its side's environment
    /// (`sh -c`); a failure stops `ab`.
    #[arg(long, value_name = "CMD")]
    pub prepare: Option<String>,

    /// Run each run in a fresh copy of this directory (removed afterwards), so one run's
    /// files never change the next one's work.
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,

    /// Where the traces go (`a-1.jsonl`, `b-1.jsonl`, …) [default: agentprof-ab/<UTC time>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub output: ComparisonArgs,

    /// The agent command, after `--`, run under `agentprof run` (whose flags come from their
    /// AGENTPROF_* variables, e.g. AGENTPROF_ANTHROPIC_UPSTREAM). `{run}` in an argument
    /// becomes the run's number (a seed, a log name).
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() && !name.contains(char::is_whitespace) => {
            Ok((name.to_string(), value.to_string()))
        }
        _ => Err(format!("{text:?}: expected NAME=VALUE")),
    }
}
