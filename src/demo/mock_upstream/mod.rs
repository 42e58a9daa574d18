//! A mock model API: Anthropic `POST /v1/messages` (+ `count_tokens`, `GET /v1/models`),
//! OpenAI `POST /v1/chat/completions` and `POST /v1/responses` (also over WebSocket), and the
//! Gemini API `…/models/{model}:generateContent`, `:streamGenerateContent` and `:countTokens`
//! under any path prefix (`gemini`), streaming and not, shaped so the official SDKs, Claude Code,
//! Codex and Gemini CLI accept them.
//!
//! Answers are deterministic functions of the request and the mock's cache state (see `tokens`
//! for the token model and `cache` for simulated prompt caching); ids carry an arrival counter so
//! they are unique. `script` lets tests override answers, `faults` injects failures per request
//! (`x-mock-fault` header), and `record` keeps, per request, the usage the mock actually sent:
//! the ground truth agentprof's proxy is tested against (`records()` or `GET /__mock/records`).

mod anthropic;
mod body;
mod cache;
pub mod canned;
mod faults;
mod gemini;
mod json_schema;
mod openai;
mod record;
mod reply;
mod responses;
mod script;
mod server;
mod tokens;
mod websocket;
mod wire;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use cache::{Clock, ManualClock};
pub use record::MockRecord;
pub use script::{Respond, Rule, Script, When};

use server::{Shared, State};

/// How to run the mock.
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// Clock the cache TTLs run on (monotonic by default; `ManualClock` in tests).
    pub clock: Clock,
    /// Answer rules; `None` answers everything with generated text.
    pub script: Option<Script>,
    /// Also append each record to this file as a JSON line, flushed as it happens.
    pub record_path: Option<PathBuf>,
    /// Lean mode for benchmarks: answer every POST with one fixed stream ([`canned`]).
    pub canned: bool,
    /// Never agree to permessage-deflate on a WebSocket (by default the mock accepts the
    /// client's offer, as the real API does).
    pub refuse_websocket_deflate: bool,
    /// Answer every WebSocket upgrade 426, as an API without WebSocket support does: clients
    /// that can (Codex) stream over HTTP instead.
    pub refuse_websocket: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("mock upstream cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("mock upstream cannot create record file {path}: {source}")]
    RecordFile {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read mock script {path}: {source}")]
    ScriptFile {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid mock script: {0}")]
    Script(serde_json::Error),
}

/// A running mock; serves until `shutdown` or drop.
pub struct MockUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MockUpstream {
    /// Binds `addr` (port 0 picks a free port) and starts serving on the current tokio runtime.
    pub async fn start(addr: SocketAddr, config: MockConfig) -> Result<MockUpstream, MockError> {
        let log = record::RecordLog::new(config.record_path.as_deref()).map_err(|source| {
            MockError::RecordFile {
                path: config
                    .record_path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                source,
            }
        })?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| MockError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| MockError::Bind { addr, source })?;
        let shared = Arc::new(Shared {
            refuse_websocket_deflate: config.refuse_websocket_deflate,
            refuse_websocket: config.refuse_websocket,
            sessions: Mutex::default(),
            canned: config.canned.then(canned::canned_stream),
            script: config.script,
            clock: config.clock,
            state: Mutex::new(State {
                seq: 0,
                cache: cache::PromptCache::default(),
                log,
            }),
        });
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server::accept_loop(listener, shared.clone(), stopped));
        Ok(MockUpstream {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, for `ANTHROPIC_BASE_URL` and friends.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn records(&self) -> Vec<MockRecord> {
        self.shared.lock().log.all()
    }

    /// Stops accepting, drops open connections, and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// `agentprof mock-upstream` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct MockArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Write every request's record to FILE as JSON lines, flushed as they happen (truncates FILE).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Scripted answers: JSON rules, see `demo::mock_upstream::Script`.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Benchmark upstream: answer every POST with one fixed Anthropic stream, without parsing
    /// or recording requests.
    #[arg(long)]
    pub canned: bool,
    /// Refuse permessage-deflate on WebSocket connections (answer uncompressed messages even
    /// when the client offers compression).
    #[arg(long)]
    pub refuse_websocket_deflate: bool,
    /// Refuse WebSocket upgrades with 426 (clients fall back to HTTP streaming).
    #[arg(long)]
    pub refuse_websocket: bool,
}

/// Runs the mock until SIGINT/SIGTERM; the first stdout line is `listening on http://ADDR`.
/// Builds its own runtime, so call it from outside any tokio runtime.
pub fn run_mock_cli(args: MockArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let script = args.script.as_deref().map(Script::load).transpose()?;
        let config = MockConfig {
            clock: Clock::monotonic(),
            script,
            record_path: args.record,
            canned: args.canned,
            refuse_websocket_deflate: args.refuse_websocket_deflate,
            refuse_websocket: args.refuse_websocket,
        };
        let mock = MockUpstream::start(args.listen, config).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", mock.base_url())?;
        out.flush()?;
        drop(out);
        wait_for_signal().await?;
        mock.shutdown().await;
        Ok(())
    })
}

#[cfg(unix)]
async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> anyhow::Result<()> {
    Ok(tokio::signal::ctrl_c().await?)
}

#[cfg(test)]
mod tests;
