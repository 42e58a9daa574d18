//! The command line: one `Args` struct per command; doc comments are the `--help` text.
//!
//! Because they are written for a terminal, not for rustdoc, `<placeholders>` and bare URLs in
//! them are intended.
#![allow(rustdoc::invalid_html_tags, rustdoc::bare_urls)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

mod compare_args;
mod finding_args;
mod live_args;
use compare_args::COMPARE_EXIT_CODES;
pub use compare_args::{AbArgs, CompareArgs, ComparisonArgs};
pub use finding_args::FindingArgs;
pub use live_args::{StatuslineArgs, TopArgs};

use crate::demo::codex_rollouts::GenCodexArgs;
use crate::demo::gemini_chats::GenGeminiArgs;
use crate::demo::mock_upstream::MockArgs;
use crate::demo::opencode_history::GenOpencodeArgs;
use crate::demo::synthetic_agent::SyntheticAgentArgs;
use crate::demo::transcript_corpus::GenTranscriptsArgs;

/// What an AI coding agent really costs: tokens, dollars, client RAM and server KV cache,
/// attributed to the user's own work versus the agent's self-management.
#[derive(Debug, Parser)]
#[command(name = "agentprof", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an agent behind the measuring proxy: `agentprof run -- claude`.
    ///
    /// Every command gets ANTHROPIC_BASE_URL, OPENAI_BASE_URL and GOOGLE_GEMINI_BASE_URL pointing
    /// at the proxy and, with the telemetry receiver on, OpenTelemetry settings pointing at it
    /// (OTEL_*, CLAUDE_CODE_ENABLE_TELEMETRY=1, GEMINI_TELEMETRY_* unless Gemini CLI's own
    /// telemetry goes where agentprof cannot forward it). A command run as `codex` also gets
    /// `-c openai_base_url="<proxy>/openai/v1"` before its own arguments, since Codex reads no
    /// base URL from the environment (with a ChatGPT login its calls then go on to
    /// --chatgpt-upstream), and, with the receiver on, `-c otel.exporter=…` pointing its log
    /// events at it unless its config.toml exports them already. AGENTPROF_TRACE names the
    /// trace (for `agentprof statusline` in the agent's status bar). No configuration file is
    /// changed.
    Run(RunArgs),
    /// Run only the proxy (point agents at the printed base URLs yourself).
    Proxy(ProxyArgs),
    /// Summarise one or more traces: per category, per model, memory, server KV.
    Report(ReportArgs),
    /// Compare runs of the same work: A's traces (the baseline) against B's, per category,
    /// for the whole run and per turn — means, B − A with a 95 % interval, B / A — and a
    /// verdict per category's cost: `agentprof compare a1.jsonl a2.jsonl -- b1.jsonl b2.jsonl`.
    #[command(after_help = COMPARE_EXIT_CODES)]
    Compare(CompareArgs),
    /// A/B: run an agent command N times per side under `run`, alternating, with each side's
    /// environment, then compare: `agentprof ab --runs 3 --b CLAUDE_CODE_DISABLE_AUTO_MEMORY=1
    /// -- claude -p "…"`.
    Ab(AbArgs),
    /// Watch a running session in a terminal UI: spend and burn rate by category, the current
    /// turn's overhead, the last calls, memory by process role, findings. Reads the trace as
    /// `run`, `proxy` or `demo` writes it; changes nothing.
    Top(TopArgs),
    /// One line for Claude Code's status bar (its `statusLine` command; JSON on stdin): this
    /// session's cost and overhead share, and the process tree's RSS under `agentprof run`.
    Statusline(StatuslineArgs),
    /// Import agents' local histories (Claude Code transcripts, Codex rollouts, Gemini CLI
    /// chats, opencode's database) into the same report: every agent found, or the one named.
    Import(ImportArgs),
    /// Project tokens, dollars, server KV and client RAM of a workload: presets, scenario
    /// files, overrides, sweeps, calibration from a trace.
    Simulate(SimulateArgs),
    /// What a model costs and where the price came from; which models of a trace have no price.
    #[command(after_help = PRICES_EXIT_CODES)]
    Prices(PricesArgs),
    /// Run the built-in synthetic agents (Claude Code-, Codex- and Gemini CLI-shaped) against the built-in mock upstream, then report.
    Demo(DemoArgs),
    /// Print a shell completion script: `agentprof completions bash > ~/.local/share/bash-completion/completions/agentprof`.
    Completions(CompletionsArgs),
    /// The built-in mock upstream (Anthropic, OpenAI and Gemini APIs) on its own.
    #[command(hide = true)]
    MockUpstream(MockArgs),
    /// The built-in synthetic agent (used by `demo`; needs ANTHROPIC_BASE_URL, or OPENAI_BASE_URL with --shape codex).
    #[command(hide = true)]
    SyntheticAgent(SyntheticAgentArgs),
    /// Write a generated Claude Code history with its ground truth (tests and benchmarks).
    #[command(hide = true)]
    GenTranscripts(GenTranscriptsArgs),
    /// Write a generated Codex history with its ground truth (tests and benchmarks).
    #[command(hide = true)]
    GenCodexRollouts(GenCodexArgs),
    /// Write a generated Gemini CLI history with its ground truth (tests and benchmarks).
    #[command(hide = true)]
    GenGeminiChats(GenGeminiArgs),
    /// Write a generated opencode history with its ground truth (tests and benchmarks).
    #[command(hide = true)]
    GenOpencodeHistory(GenOpencodeArgs),
}

/// Options shared by `run` and `proxy`.
#[derive(Debug, Clone, Args)]
pub struct CaptureArgs {
    /// Trace file to write [default: agentprof-traces/<UTC timestamp>.jsonl]
    #[arg(long, value_name = "PATH")]
    pub trace: Option<PathBuf>,

    /// Where Anthropic-style calls go (may carry a base path) [default: your ANTHROPIC_BASE_URL
    /// if set, else https://api.anthropic.com]
    #[arg(long, value_name = "URL", env = "AGENTPROF_ANTHROPIC_UPSTREAM")]
    pub anthropic_upstream: Option<String>,

    /// Where OpenAI-style calls (under /openai/) go [default: your OPENAI_BASE_URL without its
    /// /v1 if set, else https://api.openai.com]
    #[arg(long, value_name = "URL", env = "AGENTPROF_OPENAI_UPSTREAM")]
    pub openai_upstream: Option<String>,

    /// Where Codex's calls go when it is logged in with ChatGPT (they carry ChatGPT-Account-ID)
    #[arg(
        long,
        value_name = "URL",
        env = "AGENTPROF_CHATGPT_UPSTREAM",
        default_value = "https://chatgpt.com/backend-api/codex"
    )]
    pub chatgpt_upstream: String,

    /// Where Gemini API calls (under /gemini/) go (may carry a base path) [default: your
    /// GOOGLE_GEMINI_BASE_URL if set, else https://generativelanguage.googleapis.com]
    #[arg(long, value_name = "URL", env = "AGENTPROF_GEMINI_UPSTREAM")]
    pub gemini_upstream: Option<String>,

    /// Proxy listen address; a non-loopback address needs --allow-remote.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,

    /// Allow --listen and --prometheus on a non-loopback address (neither has authentication).
    #[arg(long)]
    pub allow_remote: bool,

    /// Also accept requests addressed to this host name (repeatable). Requests to the proxy and
    /// /metrics must name them by a loopback address, localhost, the bound address (IP addresses
    /// and this machine's name too with --allow-remote) or a name given here: a guard against
    /// DNS rebinding by web pages.
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,

    /// Memory sampling period (e.g. 100ms, 1s).
    #[arg(long, value_name = "DUR", default_value = "250ms", value_parser = parse_duration)]
    pub sample_interval: Duration,

    /// Read PSS and peak RSS (they walk page tables) every this many samples.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub pss_every: u32,

    /// Serve GET /metrics (Prometheus) on this address while running, e.g. 127.0.0.1:9464;
    /// a non-loopback address needs --allow-remote.
    #[arg(long, value_name = "ADDR")]
    pub prometheus: Option<SocketAddr>,

    /// Export agentprof's metrics and one span per call over OTLP/HTTP protobuf to this
    /// collector base URL (/v1/metrics and /v1/traces are appended) [default: the
    /// OTEL_EXPORTER_OTLP_ENDPOINT of agentprof's environment; off when neither is set].
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,

    /// Model architecture assumed for server KV-cache bytes (e.g. llama-3.1-405b, deepseek-v3-fp8).
    #[arg(long, value_name = "NAME", default_value = "llama-3.1-405b")]
    pub kv_profile: String,

    /// Prices laid over the bundled LiteLLM snapshot for the summary and the live metrics
    /// (LiteLLM's JSON format or a TOML table; see docs/prices.md): for a model that shipped
    /// after the snapshot. `report` takes the same file with its own --prices.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    /// Do not receive (or enable) the wrapped agent's own OpenTelemetry.
    #[arg(long)]
    pub no_agent_telemetry: bool,

    /// Extra classification rules (TOML, see docs/attribution.md), tried before the built-in ones.
    #[arg(long, value_name = "PATH")]
    pub rules: Option<PathBuf>,

    /// Also store request and response bodies in the trace (secrets still masked).
    #[arg(long)]
    pub capture_bodies: bool,

    /// Print no summary on stderr at the end.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub capture: CaptureArgs,

    /// The agent command and its arguments (after `--`).
    #[arg(required = true, last = true, value_name = "COMMAND")]
    pub command: Vec<String>,

    // The report's finding flags, for the summary at the end and the live findings of
    // --prometheus. Last: its help heading would carry over to the flags after it.
    #[command(flatten)]
    pub findings: FindingArgs,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    #[command(flatten)]
    pub capture: CaptureArgs,

    /// Sample the memory of this process and its descendants (repeatable).
    #[arg(long, value_name = "PID")]
    pub pid: Vec<u32>,

    // As for `run`; last for its help heading.
    #[command(flatten)]
    pub findings: FindingArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Trace files written by `run`, `proxy` or `demo`.
    #[arg(required = true, value_name = "TRACE")]
    pub traces: Vec<PathBuf>,

    /// Print the report as agentprof.report/v1 JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub rows: RowArgs,

    /// Model architecture assumed for server KV-cache bytes [default: the one the trace was
    /// recorded with, else llama-3.1-405b].
    #[arg(long, value_name = "NAME")]
    pub kv_profile: Option<String>,

    /// Prices overriding or extending the bundled ones: LiteLLM's JSON
    /// (model_prices_and_context_window.json or any part of it) or a TOML table (docs/prices.md).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    /// Also write the report as a page with charts to DIR/index.html (DIR is created; the
    /// tables or JSON still go to stdout). An index.html that agentprof wrote is replaced;
    /// any other file there is never overwritten (exit code 2).
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,

    // Last: its help heading would carry over to the flags after it.
    #[command(flatten)]
    pub findings: FindingArgs,
}

/// The exit codes of `prices`, shown under its `--help`.
const PRICES_EXIT_CODES: &str = "Without MODEL or --trace: the price table's label and every \
model it prices, one a line.

Exit status: 0 every model asked for (and every model the traces name) has a price; 1 one has \
none (its costs would be null: the output says how to add it); 2 a bad flag or file.";

#[derive(Debug, Args)]
pub struct PricesArgs {
    /// Model ids as requests name them: dated, `-latest`, gateway-prefixed (anthropic/…),
    /// Bedrock (us.anthropic.…-v1:0) and Vertex (…@date) forms are resolved, and the output
    /// says how.
    #[arg(value_name = "MODEL")]
    pub models: Vec<String>,

    /// Prices overriding or extending the bundled ones: LiteLLM's JSON
    /// (model_prices_and_context_window.json or any part of it) or a TOML table (docs/prices.md).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    /// Also list every model id the calls of this trace name, with its call count and price
    /// (repeatable).
    #[arg(long, value_name = "TRACE")]
    pub trace: Vec<PathBuf>,

    /// Print one JSON document (agentprof.prices/v1) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ImportArgs {
    /// One agent's history; without it, every agent's history found in its default place
    /// (each agent's own variable, such as CLAUDE_CONFIG_DIR or CODEX_HOME, else under ~),
    /// in one report with an agent column.
    #[command(subcommand)]
    pub source: Option<ImportSource>,

    #[command(flatten)]
    pub common: ImportCommonArgs,
}

/// Where the history comes from.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// Claude Code's transcripts: $CLAUDE_CONFIG_DIR or ~/.claude (or DIR), projects/**.jsonl.
    ClaudeCode(ClaudeCodeImportArgs),
    /// Codex CLI's rollouts: $CODEX_HOME or ~/.codex (or DIR), sessions/ and archived_sessions/.
    Codex(CodexImportArgs),
    /// Gemini CLI's chat files: $GEMINI_CLI_HOME or ~ (or DIR), .gemini/tmp/<project>/chats/.
    Gemini(GeminiImportArgs),
    /// opencode's history: $OPENCODE_DB, else $XDG_DATA_HOME/opencode or
    /// ~/.local/share/opencode (or DIR): opencode.db and legacy storage/.
    Opencode(OpencodeImportArgs),
}

#[derive(Debug, Args)]
pub struct OpencodeImportArgs {
    /// opencode's data directory (or its parent, or the opencode.db file) [default:
    /// $OPENCODE_DB, else $XDG_DATA_HOME/opencode, else ~/.local/share/opencode].
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    #[command(flatten)]
    pub common: ImportCommonArgs,
}

#[derive(Debug, Args)]
pub struct GeminiImportArgs {
    /// A Gemini home, or its .gemini/ or .gemini/tmp/ directory [default: $GEMINI_CLI_HOME,
    /// else ~].
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    #[command(flatten)]
    pub common: ImportCommonArgs,
}

#[derive(Debug, Args)]
pub struct CodexImportArgs {
    /// The Codex directory (or its sessions/ directory) [default: $CODEX_HOME, else ~/.codex].
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    #[command(flatten)]
    pub common: ImportCommonArgs,
}

#[derive(Debug, Args)]
pub struct ClaudeCodeImportArgs {
    /// The Claude Code directory (or its projects/ directory) [default: $CLAUDE_CONFIG_DIR,
    /// else ~/.claude].
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    #[command(flatten)]
    pub common: ImportCommonArgs,
}

/// What every `import` takes besides its directory.
#[derive(Debug, Clone, Args)]
pub struct ImportCommonArgs {
    /// Also write the history as a trace (mode "import") for report, simulate and exporters.
    #[arg(long, value_name = "OUT")]
    pub trace: Option<PathBuf>,

    /// Print the report as agentprof.report/v1 JSON (the same as `report --json`).
    #[arg(long)]
    pub json: bool,

    /// Also write the report as a page with charts to DIR/index.html (cost per day by category,
    /// the overhead share over time). An index.html that agentprof wrote is replaced; any other
    /// file there is never overwritten (exit code 2).
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,

    #[command(flatten)]
    pub rows: RowArgs,

    /// Model architecture assumed for server KV-cache bytes.
    #[arg(long, value_name = "NAME", default_value = "llama-3.1-405b")]
    pub kv_profile: String,

    /// Prices overriding or extending the bundled ones: LiteLLM's JSON
    /// (model_prices_and_context_window.json or any part of it) or a TOML table (docs/prices.md).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    /// Reader threads [default: one per core].
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,

    /// claude-code: read the whole history, neither using nor updating the cache of what each
    /// file held ($AGENTPROF_CACHE_DIR, else $XDG_CACHE_HOME/agentprof or ~/.cache/agentprof;
    /// safe to delete). --trace never uses it: the cache holds no message ids.
    #[arg(long)]
    pub no_cache: bool,
}

/// Parses `2026-11-01`.
fn parse_date(text: &str) -> Result<jiff::civil::Date, String> {
    text.parse::<jiff::civil::Date>()
        .map_err(|e| format!("{e} (expected YYYY-MM-DD)"))
}

/// How a report groups its calls into rows, and which days it covers: what `report` and
/// `import` share.
#[derive(Debug, Clone, Args)]
pub struct RowArgs {
    /// What the rows are: one per day, ISO week (from Monday), month, project, session, model,
    /// category, turn or agent. Each row has tokens by type, cost and the overhead share (what
    /// part of it was the agent managing itself).
    #[arg(long, value_enum, default_value = "category")]
    pub by: By,

    /// The columns inside each row: every category's cost (or tokens, when a price is
    /// unknown), or every model's.
    #[arg(long, value_enum, default_value = "category")]
    pub breakdown: BreakdownColumns,

    /// Only calls made on or after this day (in --timezone).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub since: Option<jiff::civil::Date>,

    /// Only calls made on or before this day (in --timezone).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub until: Option<jiff::civil::Date>,

    /// The time zone days, weeks and months are read in (an IANA name such as Europe/Berlin or
    /// UTC) [default: the system's: TZ, else /etc/localtime].
    #[arg(long, value_name = "IANA")]
    pub timezone: Option<String>,
}

/// What a report's rows are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    Day,
    Week,
    Month,
    Project,
    Session,
    Model,
    Category,
    Turn,
    Agent,
}

/// The columns inside each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BreakdownColumns {
    Category,
    Model,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Scenario file (TOML, see docs/simulator.md).
    #[arg(long, value_name = "FILE.toml", conflicts_with = "preset")]
    pub scenario: Option<PathBuf>,

    /// Built-in scenario: today-200k, 1m-context, swarm, daemon, seed-workstation
    /// [default: today-200k].
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,

    /// Override any parameter by its dotted key or alias (repeatable): sessions, days,
    /// context_window, agents, extraction, dream, daemon, kv_profile, seed, turn.tool_calls, …
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    /// Fit the workload to a measured trace and add the replay's validation.
    #[arg(long, value_name = "TRACE")]
    pub calibrate: Option<PathBuf>,

    /// Run every value of a parameter and compare (repeatable: a grid).
    #[arg(long, value_name = "KEY=V1,V2,...")]
    pub sweep: Vec<String>,

    /// Print agentprof.simulation/v1 JSON.
    #[arg(long)]
    pub json: bool,

    /// Also write the simulation as a page with charts to DIR/index.html (DIR is created;
    /// the tables or JSON still go to stdout). An index.html that agentprof wrote is
    /// replaced; any other file there is never overwritten (exit code 2).
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,

    /// Prices overriding or extending the bundled ones: LiteLLM's JSON
    /// (model_prices_and_context_window.json or any part of it) or a TOML table (docs/prices.md).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the demo's trace, logs and HTML report (index.html).
    #[arg(long, value_name = "DIR", default_value = "reports/demo")]
    pub out: PathBuf,

    /// Turns each synthetic agent plays.
    #[arg(long, default_value_t = 6)]
    pub turns: u32,

    /// Which synthetic agent to run: Claude Code-shaped (Anthropic Messages), Codex-shaped
    /// (Responses API, Codex CLI 0.171's headers and metadata), Gemini CLI-shaped (Gemini API,
    /// Gemini CLI 0.61 with model auto), all three side by side in one trace, or `both` (Claude
    /// Code and Codex); several agents get a "By agent" table telling their calls apart.
    #[arg(long, value_enum, default_value_t = DemoAgent::All)]
    pub agent: DemoAgent,
}

/// The synthetic agents `demo` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoAgent {
    ClaudeCode,
    Codex,
    GeminiCli,
    /// Claude Code and Codex.
    Both,
    /// Claude Code, Codex and Gemini CLI.
    All,
}

impl DemoAgent {
    /// The synthetic agent's `--shape` value.
    pub fn shape(self) -> &'static str {
        match self {
            DemoAgent::ClaudeCode => "claude-code",
            DemoAgent::Codex => "codex",
            DemoAgent::GeminiCli => "gemini-cli",
            DemoAgent::Both => "both",
            DemoAgent::All => "all",
        }
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Parses `250ms`, `1s`, `2m` (humantime syntax).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| format!("{e} (try 250ms or 1s)"))?;
    if duration < Duration::from_millis(10) {
        return Err("must be at least 10ms".into());
    }
    Ok(duration)
}
