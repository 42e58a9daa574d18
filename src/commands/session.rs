//! A capture session: proxy + memory sampler + trace writer, wired into one pipeline.
//!
//! `run`, `proxy` and `demo` all capture the same way and differ only in what they wrap; this
//! module owns the wiring so each command reads as: start session → wait → finish.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::attribute::cost::PriceTable;
use crate::attribute::rules::{CallFacts, RuleSet};
use crate::attribute::turns::{TURN_ID_HEADER, TurnDetector};
use crate::capture::proxy::{
    self, CallSink, CompletedCall, ProxyConfig, RunningProxy, Upstream, Upstreams,
};
use crate::capture::sampler::{Sampler, SamplerConfig, SamplerEvent, SamplerHandle};
use crate::capture::telemetry::{
    ReceiverConfig, ReceiverStats, RunningReceiver, TelemetryReceiver,
};
use crate::cli::CaptureArgs;
use crate::clock::TraceClock;
use crate::error::InputError;
use crate::observation::{Call, Category, NOT_A_MODEL_CALL};
use crate::output::live::{LiveSinks, SessionStart};
use crate::output::trace::{
    HostInfo, SCHEMA, TraceFooter, TraceHeader, TraceRecord, TraceSender, TraceWriter,
    Upstreams as TraceUpstreams,
};

/// Validated capture settings.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub mode: &'static str,
    pub trace: PathBuf,
    pub upstreams: Upstreams,
    pub listen: SocketAddr,
    pub sample_interval: Duration,
    pub pss_every: u32,
    pub capture_bodies: bool,
    /// Host names the proxy and `/metrics` accept besides their own (`--allow-host`).
    pub allowed_hosts: Vec<String>,
    /// The wrapped command, for the trace header.
    pub command: Vec<String>,
    /// Classification rules (`--rules` first, then the built-in ones).
    pub rules: RuleSet,
    /// Server KV profile recorded in the header (validated).
    pub kv_profile: String,
    /// Receive (and point the agent's telemetry at) an OTLP endpoint.
    pub agent_telemetry: bool,
    /// Live exporters fed alongside the trace.
    pub live: LiveSinks,
    /// Prices for the live exporters and the summary (`--prices` over the bundled ones).
    pub prices: PriceTable,
}

impl SessionOptions {
    /// Validates the shared flags; every problem is an [`InputError`] naming the flag.
    pub fn from_args(
        mode: &'static str,
        args: &CaptureArgs,
        command: Vec<String>,
    ) -> anyhow::Result<SessionOptions> {
        let anthropic = Upstream::parse(&upstream_url(
            args.anthropic_upstream.as_deref(),
            "ANTHROPIC_BASE_URL",
            DEFAULT_ANTHROPIC,
            false,
        ))
        .map_err(|e| InputError::new(format!("--anthropic-upstream: {e}")))?;
        let openai = Upstream::parse(&upstream_url(
            args.openai_upstream.as_deref(),
            "OPENAI_BASE_URL",
            DEFAULT_OPENAI,
            true,
        ))
        .map_err(|e| InputError::new(format!("--openai-upstream: {e}")))?;
        let chatgpt = Upstream::parse(&args.chatgpt_upstream)
            .map_err(|e| InputError::new(format!("--chatgpt-upstream: {e}")))?;
        let gemini = Upstream::parse(&upstream_url(
            args.gemini_upstream.as_deref(),
            "GOOGLE_GEMINI_BASE_URL",
            DEFAULT_GEMINI,
            false,
        ))
        .map_err(|e| InputError::new(format!("--gemini-upstream: {e}")))?;
        if !args.listen.ip().is_loopback() && !args.allow_remote {
            return Err(InputError::new(format!(
                "--listen {}: not a loopback address; the proxy forwards your API keys' requests \
                 without authentication of its own, so binding it to a network needs --allow-remote",
                args.listen
            ))
            .into());
        }
        let trace = args.trace.clone().unwrap_or_else(default_trace_path);
        let kv_profile = super::options::kv_profile(&args.kv_profile)?
            .name
            .to_string();
        let prices = super::options::prices(args.prices.as_deref())?;
        let rules = match &args.rules {
            Some(path) => RuleSet::with_user_file(path)
                .map_err(|e| InputError::new(format!("--rules: {e}")))?,
            None => RuleSet::builtin(),
        };
        Ok(SessionOptions {
            mode,
            trace,
            upstreams: Upstreams {
                anthropic,
                openai,
                chatgpt,
                gemini,
            },
            listen: args.listen,
            sample_interval: args.sample_interval,
            pss_every: args.pss_every,
            capture_bodies: args.capture_bodies,
            allowed_hosts: args.allow_host.clone(),
            command,
            rules,
            kv_profile,
            agent_telemetry: !args.no_agent_telemetry,
            live: LiveSinks::default(),
            prices,
        })
    }
}

const DEFAULT_ANTHROPIC: &str = "https://api.anthropic.com";
const DEFAULT_OPENAI: &str = "https://api.openai.com";
const DEFAULT_GEMINI: &str = "https://generativelanguage.googleapis.com";

/// The upstream: the flag (or `AGENTPROF_*_UPSTREAM`); else where the user's agent was already
/// pointed (`ANTHROPIC_BASE_URL`, `OPENAI_BASE_URL`, `GOOGLE_GEMINI_BASE_URL` — a gateway, Azure, a local model: their
/// calls must keep going there, not to the vendor with the gateway's key); else the vendor.
fn upstream_url(flag: Option<&str>, base_url_var: &str, default: &str, strip_v1: bool) -> String {
    if let Some(url) = flag {
        return url.to_string();
    }
    match std::env::var(base_url_var) {
        Ok(url) if !url.trim().is_empty() => {
            let url = url.trim().trim_end_matches('/');
            // OpenAI clients' base URLs end in /v1, which the requests reaching the proxy carry.
            match url.strip_suffix("/v1") {
                Some(base) if strip_v1 => base.to_string(),
                _ => url.to_string(),
            }
        }
        _ => default.to_string(),
    }
}

/// `agentprof-traces/<UTC timestamp>-<pid>.jsonl` (milliseconds and the pid: two runs started
/// together get two traces).
pub fn default_trace_path() -> PathBuf {
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%S%.3fZ")
        .to_string();
    PathBuf::from("agentprof-traces").join(format!("{stamp}-{}.jsonl", std::process::id()))
}

/// A running capture.
pub struct Session {
    clock: TraceClock,
    writer: TraceWriter,
    proxy: RunningProxy,
    sampler: Option<SamplerHandle>,
    receiver: Option<RunningReceiver>,
    options: SessionOptions,
}

impl Session {
    /// Opens the trace and starts the proxy (on the current tokio runtime). The sampler starts
    /// when the first process to watch is known ([`Session::watch`]).
    pub async fn start(options: SessionOptions) -> anyhow::Result<Session> {
        let clock = TraceClock::start();
        let header = TraceHeader {
            schema: SCHEMA.to_string(),
            agentprof_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: clock.started_at().to_string(),
            mode: options.mode.to_string(),
            command: crate::capture::redact::redact_command(&options.command),
            upstreams: TraceUpstreams {
                anthropic: options.upstreams.anthropic.display(),
                openai: options.upstreams.openai.display(),
                chatgpt: Some(options.upstreams.chatgpt.display()),
                gemini: Some(options.upstreams.gemini.display()),
            },
            listen: options.listen.to_string(),
            sample_interval_s: options.sample_interval.as_secs_f64(),
            pss_every: options.pss_every,
            capture_bodies: options.capture_bodies,
            host: HostInfo::current(),
            kv_profile: Some(options.kv_profile.clone()),
            // The agent runs where agentprof was started: that is the live calls' project.
            cwd: std::env::current_dir()
                .ok()
                .map(|d| d.display().to_string()),
        };
        let writer = TraceWriter::create(&options.trace, header)
            .map_err(|e| InputError::new(format!("--trace: {e}")))?;
        let sink = Arc::new(TraceSink {
            trace: writer.sender(),
            live: options.live.clone(),
            rules: options.rules.clone(),
            turns: Default::default(),
        });
        let proxy = proxy::start(
            ProxyConfig {
                listen: options.listen,
                upstreams: options.upstreams.clone(),
                capture_bodies: options.capture_bodies,
                allowed_hosts: options.allowed_hosts.clone(),
            },
            clock,
            sink,
        )
        .await
        .map_err(|e| InputError::new(format!("--listen: {e}")))?;
        let receiver = if options.agent_telemetry {
            let trace = writer.sender();
            let live = options.live.clone();
            let config = ReceiverConfig {
                forward_to: crate::agents::users_telemetry(
                    options.command.first().map(String::as_str),
                ),
                ..ReceiverConfig::default()
            };
            let started = TelemetryReceiver::start(
                config,
                move || clock.now(),
                move |event| {
                    live.on_telemetry(&event);
                    trace.send(TraceRecord::Telemetry(event))
                },
            )
            .await;
            match started {
                Ok(receiver) => Some(receiver),
                Err(err) => {
                    tracing::warn!("agent telemetry is off: {err}");
                    None
                }
            }
        } else {
            None
        };
        options.live.on_start(&SessionStart {
            started_at: clock.started_at(),
            telemetry_receiver: receiver.as_ref().map(RunningReceiver::addr),
        });
        Ok(Session {
            clock,
            writer,
            proxy,
            sampler: None,
            receiver,
            options,
        })
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.proxy.addr()
    }

    /// Base URL for Anthropic clients.
    pub fn anthropic_base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// Base URL for OpenAI clients.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/openai/v1", self.addr())
    }

    /// Base URL for Gemini API clients (Google's SDKs add `/v1beta/models/…`).
    pub fn gemini_base_url(&self) -> String {
        format!("http://{}/gemini", self.addr())
    }

    /// Where the wrapped agent is to send its calls and its telemetry.
    pub fn endpoints(&self) -> crate::agents::Endpoints {
        crate::agents::Endpoints {
            anthropic_base_url: self.anthropic_base_url(),
            openai_base_url: self.openai_base_url(),
            gemini_base_url: self.gemini_base_url(),
            telemetry: self
                .receiver
                .as_ref()
                .map(|r| format!("http://{}", r.addr())),
        }
    }

    /// The telemetry receiver's address, when it runs.
    pub fn telemetry_addr(&self) -> Option<SocketAddr> {
        self.receiver.as_ref().map(RunningReceiver::addr)
    }

    pub fn trace_path(&self) -> &Path {
        &self.options.trace
    }

    /// Samples the memory of `pid` and all its descendants from now on.
    pub fn watch(&mut self, pid: u32) -> anyhow::Result<()> {
        if let Some(sampler) = &self.sampler {
            sampler
                .add_root(pid)
                .context("adding a process to the memory sampler")?;
            return Ok(());
        }
        let trace = self.writer.sender();
        let live = self.options.live.clone();
        let clock = self.clock;
        let sampler = Sampler::spawn(
            SamplerConfig {
                roots: vec![pid],
                interval: self.options.sample_interval,
                pss_every: self.options.pss_every,
            },
            move || clock.now(),
            move |event| match event {
                SamplerEvent::Sample(sample) => {
                    if !live.is_empty() {
                        live.on_memory(&sample);
                    }
                    trace.send(TraceRecord::Memory(sample))
                }
                SamplerEvent::Process(event) => trace.send(TraceRecord::Process(event)),
            },
        )
        .context("starting the memory sampler")?;
        self.sampler = Some(sampler);
        Ok(())
    }

    /// Stops sampling, lets in-flight calls finish recording, writes the footer.
    pub async fn finish(
        self,
        exit_code: Option<i32>,
        exit_signal: Option<i32>,
    ) -> anyhow::Result<PathBuf> {
        // Every step is best-effort: whatever fails, the footer is still written, and the
        // trace keeps everything recorded so far.
        let samples = match self.sampler {
            Some(sampler) => match tokio::task::spawn_blocking(move || sampler.stop()).await {
                Ok(stats) => stats.samples,
                Err(err) => {
                    tracing::error!("the memory sampler failed: {err}");
                    0
                }
            },
            None => 0,
        };
        let calls = self.proxy.shutdown(Duration::from_secs(2)).await;
        // The agent flushes its last telemetry batch as it exits; give it a moment to land.
        if let Some(receiver) = self.receiver {
            let stats: ReceiverStats = receiver.shutdown(Duration::from_secs(2)).await;
            tracing::info!("agent telemetry: {stats:?}");
        }
        let footer = TraceFooter {
            t: self.clock.now(),
            ended_at: self.clock.wall_now().to_string(),
            calls,
            samples,
            exit_code,
            exit_signal,
        };
        let writer = self.writer;
        let written = tokio::task::spawn_blocking(move || writer.finish(footer))
            .await
            .context("finishing the trace")
            .and_then(|r| r.context("finishing the trace"));
        // Exporters flush after the trace is complete: a failing exporter costs no record.
        let live = self.options.live.clone();
        if let Err(err) = tokio::task::spawn_blocking(move || live.shutdown()).await {
            tracing::error!("flushing live exporters failed: {err}");
        }
        written.map(|_| self.options.trace)
    }
}

/// Classifies each finished call, marks the ones that start a turn, appends it to the trace.
struct TraceSink {
    trace: TraceSender,
    live: LiveSinks,
    rules: RuleSet,
    turns: std::sync::Mutex<TurnDetector>,
}

impl CallSink for TraceSink {
    fn started(&self, call: &Call) {
        self.live.on_call_start(call);
    }

    fn record(&self, completed: CompletedCall) {
        let CompletedCall {
            mut call,
            request,
            headers,
        } = completed;
        if call.is_model_call() {
            let verdict = self.rules.classify(&CallFacts {
                provider: call.provider,
                api: call.api,
                path: &call.path,
                headers: &headers,
                request: request.as_ref(),
            });
            call.category = verdict.category;
            call.classified_by = verdict.decided_by;
        } else {
            // Probes, model lists, token counting: no category; reports count them apart.
            call.category = Category::Unknown;
            call.classified_by = NOT_A_MODEL_CALL.to_string();
        }
        call.starts_turn = self
            .turns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .starts_turn(
                &call,
                request.as_ref(),
                headers
                    .iter()
                    .find(|(name, _)| name == TURN_ID_HEADER)
                    .map(|(_, value)| value.as_str()),
            );
        // The trace first: whatever an exporter does, the record is kept.
        self.trace.send(TraceRecord::Call(call.clone()));
        self.live.on_call(&call);
    }
}
