//! A synthetic coding agent that behaves on the wire and in memory like Claude Code 2.1.x, with
//! `--shape codex` like Codex CLI 0.171 (`codex`), or with `--shape gemini-cli` like Gemini CLI
//! 0.61 (`gemini`), so `agentprof demo` and the tests have realistic, reproducible agents to
//! measure. The shape decides the wire format and the agent's background work; the turn logic
//! (`turn`), HTTP transport (`transport`) and memory (`memory`) are shared. `--shape all` runs
//! one process of each side by side, `--shape both` Claude Code's and Codex's (`both`).
//!
//! Gemini CLI on the wire: `POST {GOOGLE_GEMINI_BASE_URL}/v1beta/models/{model}:…` with
//! `x-goog-api-key` and Gemini CLI's `User-Agent`. Its work: a session summary at startup and a
//! router call before every prompt (utility), streamed main-loop calls, chat compression (a
//! compression call and its verify call) once the history is large, and the codebase
//! investigator sub-agent started by `invoke_agent`.
//!
//! Claude Code on the wire: `POST {ANTHROPIC_BASE_URL}/v1/messages?beta=true`, streaming, with Claude Code's
//! headers, billing system block, cached agent prompt, ~10 tools and a cache breakpoint on the
//! last message (`client`, `prompts`, `tools`, `conversation`). Its work (`session`): user turns
//! with tool-use continuations, memory extraction after every turn, a session title and a topic
//! check (utility), sub-agents as child processes of the same binary (`subagent`), compaction
//! when the transcript passes a threshold, one dream and one away summary. Every call carries
//! `x-agentprof-truth-category` with its true category: ground truth for tests only.
//! In memory (`memory`): it retains touched memory in proportion to its transcript.
//!
//! Output is quiet unless `AGENTPROF_SYNTHETIC_VERBOSE=1` (progress goes to stderr). Any failed
//! call (non-2xx, broken or truncated stream, error event) ends the run with an error.

mod both;
mod client;
mod codex;
mod conversation;
mod error;
mod gemini;
mod memory;
mod prompts;
mod session;
mod subagent;
mod tools;
mod transport;
mod turn;

use std::fmt::Display;

pub use error::AgentError;

use crate::demo::det::Rng;
use crate::observation::{Category, Usage};
use client::{ApiClient, Identity};

const DEFAULT_API_KEY: &str = "sk-ant-synthetic-demo-key";

/// Which agent the synthetic agent imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shape {
    /// Claude Code 2.1.x: Anthropic Messages at ANTHROPIC_BASE_URL.
    ClaudeCode,
    /// Codex CLI 0.171: the OpenAI Responses API at OPENAI_BASE_URL.
    Codex,
    /// Gemini CLI 0.61 (model `auto`): the Gemini API at GOOGLE_GEMINI_BASE_URL.
    GeminiCli,
    /// Claude Code and Codex, one process each, side by side.
    Both,
    /// All three agents, one process each, side by side.
    All,
}

impl Shape {
    /// The `--shape` value.
    pub fn name(self) -> &'static str {
        match self {
            Shape::ClaudeCode => "claude-code",
            Shape::Codex => "codex",
            Shape::GeminiCli => "gemini-cli",
            Shape::Both => "both",
            Shape::All => "all",
        }
    }
}

/// `agentprof synthetic-agent` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SyntheticAgentArgs {
    /// Which agent to imitate on the wire.
    #[arg(long, value_enum, default_value_t = Shape::ClaudeCode)]
    pub shape: Shape,
    /// Number of user turns.
    #[arg(long, default_value_t = 6)]
    pub turns: u32,
    /// Seed for everything the agent chooses (prompts, tools, output sizes).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Pause between turns, like a user reading and typing (milliseconds).
    #[arg(long, default_value_t = 400)]
    pub think_ms: u64,
    /// Main-loop model (Claude Code shape; the Codex shape uses Codex's defaults).
    #[arg(long, default_value = "claude-sonnet-4-6")]
    pub model: String,
    /// Model for utility calls (title, topic check).
    #[arg(long, default_value = "claude-haiku-4-5")]
    pub small_model: String,
    /// Claude Code shape: memory retained per minute while idle, in MiB — 60 by default, 1024
    /// to reproduce the idle leak of Claude Code issue #31414.
    #[arg(long, value_name = "MIB", default_value_t = 60)]
    pub idle_leak_mib_per_min: u64,
    /// Claude Code shape: stay open and idle this long after the last turn (milliseconds), as
    /// an agent left running does.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub linger_ms: u64,
    /// Claude Code shape: while lingering, an away summary every MS milliseconds — an idle
    /// session re-reading its whole prompt cache (the $107 idle bill of claude-code#83095).
    /// 0: none.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub idle_call_every_ms: u64,
    /// Each sub-agent process retains this many MiB more, a share before each of its calls, and
    /// holds it a second before it exits: a sub-agent ballooning. 0: none.
    #[arg(long, value_name = "MIB", default_value_t = 0)]
    pub subagent_balloon_mib: u64,
    /// Claude Code shape: no memory extraction after each turn and no dream, as Claude Code
    /// with auto-memory off (its `CLAUDE_CODE_DISABLE_AUTO_MEMORY=1`, read here too): the B side
    /// of `agentprof ab` measuring what the memory system costs.
    #[arg(
        long,
        env = "CLAUDE_CODE_DISABLE_AUTO_MEMORY",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_auto_memory: bool,
    /// Internal: run as a sub-agent child process.
    #[arg(long, hide = true, requires_all = ["session_id", "agent_id", "task"])]
    pub subagent: bool,
    /// Internal: the parent's session id (sub-agent only).
    #[arg(long, hide = true)]
    pub session_id: Option<String>,
    /// Internal: this sub-agent's id (sub-agent only).
    #[arg(long, hide = true)]
    pub agent_id: Option<String>,
    /// Internal: the task given to the sub-agent.
    #[arg(long, hide = true)]
    pub task: Option<String>,
}

/// Progress lines on stderr, only when asked for.
#[derive(Debug, Clone)]
pub(crate) struct Log {
    verbose: bool,
    who: String,
}

impl Log {
    pub(crate) fn line(&self, msg: impl Display) {
        if self.verbose {
            eprintln!("[{}] {msg}", self.who);
        }
    }

    pub(crate) fn call(&self, category: Category, u: &Usage) {
        self.line(format_args!(
            "{category}: input {} cache_read {} cache_write {} output {}",
            u.input_tokens,
            u.cache_read_input_tokens,
            u.cache_creation_input_tokens,
            u.output_tokens
        ));
    }
}

/// A stable device id for a seed (Claude Code's is a per-install 64-hex-digit id).
fn device_id(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0xdead_beef);
    (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect()
}

/// Runs the synthetic agent (or, with `--subagent`, one sub-agent) to completion on its own
/// current-thread runtime; call it from outside any tokio runtime.
pub fn run_synthetic_agent(args: SyntheticAgentArgs) -> anyhow::Result<()> {
    let verbose = std::env::var("AGENTPROF_SYNTHETIC_VERBOSE").is_ok_and(|v| v == "1");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match args.shape {
        Shape::ClaudeCode => run_claude_code(args, verbose, &runtime),
        Shape::Codex => {
            let log = Log {
                verbose,
                who: "synthetic-codex".to_string(),
            };
            runtime.block_on(codex::run(&args, log))?;
            Ok(())
        }
        Shape::GeminiCli => {
            let log = Log {
                verbose,
                who: "synthetic-gemini".to_string(),
            };
            runtime.block_on(gemini::run(&args, log))?;
            Ok(())
        }
        Shape::Both | Shape::All => {
            runtime.block_on(both::run(&args))?;
            Ok(())
        }
    }
}

fn run_claude_code(
    args: SyntheticAgentArgs,
    verbose: bool,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    let base_url = std::env::var("ANTHROPIC_BASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .ok_or(AgentError::MissingBaseUrl("ANTHROPIC_BASE_URL"))?;
    let api_key = std::env::var("ANTHROPIC_API_KEY")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_API_KEY.to_string());
    let session_id = args
        .session_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let identity = Identity {
        api_key,
        session_id: session_id.clone(),
        device_id: device_id(args.seed),
        agent_id: args.agent_id.clone().filter(|_| args.subagent),
    };
    let log = Log {
        verbose,
        who: match &identity.agent_id {
            Some(id) => format!("synthetic-agent {id}"),
            None => "synthetic-agent".to_string(),
        },
    };
    runtime.block_on(async {
        let client = ApiClient::new(&base_url, identity)?;
        match (&args.subagent, &args.task) {
            (true, Some(task)) => subagent::run_child(&args, client, task, log).await,
            _ => {
                session::Session::new(&args, client, session_id, log)
                    .run()
                    .await
            }
        }
    })?;
    Ok(())
}
