//! Observations: the facts capture produces and everything downstream consumes.
//!
//! Every capture source (proxy, memory sampler, later the telemetry receiver and the transcript
//! reader) turns what it sees into one of these plain records. Attribution reads them, the trace
//! stores them one JSON object a line, and reports are computed from them alone — so a report
//! recomputed from a trace is the same report the live run would have printed.
//!
//! Times are seconds since the trace started, taken from a monotonic clock (`t_*` fields); the
//! trace header carries the wall-clock instant that offset 0 corresponds to.

use serde::{Deserialize, Serialize};

/// Which API family a call belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Anthropic,
    #[serde(rename = "openai")]
    OpenAi,
    /// Google's Gemini API (`generativelanguage.googleapis.com`).
    Gemini,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai",
            Provider::Gemini => "gemini",
        }
    }
}

/// Which endpoint shape a call used; decides how its request and response are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    /// Anthropic `POST /v1/messages`.
    Messages,
    /// OpenAI `POST /v1/chat/completions`.
    ChatCompletions,
    /// OpenAI `POST /v1/responses`.
    Responses,
    /// Gemini `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent`.
    GenerateContent,
    /// Anything else — connectivity probes (`HEAD /api/hello`), `count_tokens`, model lists,
    /// auth: passed through and counted apart as "other requests", never as a model call.
    Other,
}

/// Token usage of one call, in the Anthropic convention used everywhere in agentprof.
///
/// `input_tokens` is *uncached* input. For OpenAI, `input_tokens = prompt_tokens − cached_tokens`
/// and `cache_read_input_tokens = cached_tokens`. Total prompt = input + cache creation + cache read.
///
/// Cache writes keep their TTL split: `cache_creation_5m_input_tokens +
/// cache_creation_1h_input_tokens == cache_creation_input_tokens` always holds. When upstream
/// reports no split, the write is counted as 5-minute, the API's default TTL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    #[serde(default)]
    pub cache_creation_5m_input_tokens: u64,
    #[serde(default)]
    pub cache_creation_1h_input_tokens: u64,
    /// Of `output_tokens`, those the model spent reasoning (OpenAI's `reasoning_tokens`):
    /// already counted in `output_tokens` and billed as output, shown apart. Absent (0) where
    /// the API reports none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reasoning_output_tokens: u64,
    /// Of `input_tokens`, those of tool-use prompts (Gemini's `toolUsePromptTokenCount`, which
    /// the API counts apart from the prompt and bills as input): already counted in
    /// `input_tokens`, shown apart. Absent (0) where the API reports none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tool_use_input_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Usage {
    /// Every prompt token: uncached input plus cache writes plus cache reads.
    pub fn prompt_tokens(&self) -> u64 {
        // Saturating: a usage read from hostile input must not panic when it is totalled.
        self.input_tokens
            .saturating_add(self.cache_creation_input_tokens)
            .saturating_add(self.cache_read_input_tokens)
    }

    /// Prompt plus output tokens.
    pub fn total_tokens(&self) -> u64 {
        self.prompt_tokens().saturating_add(self.output_tokens)
    }

    /// Adds another call's usage to this one (for aggregation, never within one stream).
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_creation_input_tokens += other.cache_creation_input_tokens;
        self.cache_read_input_tokens += other.cache_read_input_tokens;
        self.cache_creation_5m_input_tokens += other.cache_creation_5m_input_tokens;
        self.cache_creation_1h_input_tokens += other.cache_creation_1h_input_tokens;
        self.reasoning_output_tokens += other.reasoning_output_tokens;
        self.tool_use_input_tokens += other.tool_use_input_tokens;
    }
}

/// The fixed attribution categories of the spec. Every call gets exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    UserTurn,
    Subagent,
    MemoryExtraction,
    Dream,
    AwaySummary,
    Compaction,
    Utility,
    Unknown,
}

impl Category {
    /// All categories in report order.
    pub const ALL: [Category; 8] = [
        Category::UserTurn,
        Category::Subagent,
        Category::MemoryExtraction,
        Category::Dream,
        Category::AwaySummary,
        Category::Compaction,
        Category::Utility,
        Category::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::UserTurn => "user_turn",
            Category::Subagent => "subagent",
            Category::MemoryExtraction => "memory_extraction",
            Category::Dream => "dream",
            Category::AwaySummary => "away_summary",
            Category::Compaction => "compaction",
            Category::Utility => "utility",
            Category::Unknown => "unknown",
        }
    }

    pub fn parse(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether a call of this category is the agent's overhead: everything but the user's own
    /// turn (`unknown` too: it is not work the user asked for, as far as anyone can tell).
    pub fn is_overhead(self) -> bool {
        self != Category::UserTurn
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a call did not complete normally. The `kind` is stable and machine-readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallError {
    pub kind: CallErrorKind,
    pub message: String,
    /// For a response that broke off after its head: whether the client received every body
    /// byte agentprof had read from upstream (`true`: "upstream cut after N bytes, all N
    /// delivered"). Absent when there was no body to deliver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_delivered: Option<bool>,
}

impl CallError {
    pub fn new(kind: CallErrorKind, message: impl Into<String>) -> CallError {
        CallError {
            kind,
            message: message.into(),
            all_delivered: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallErrorKind {
    /// Upstream could not be reached (refused, DNS, TLS); the client got a 502.
    UpstreamConnect,
    /// Upstream did not answer in time; the client got a 502.
    UpstreamTimeout,
    /// Upstream answered, then its body broke off (reset, truncated stream).
    UpstreamBody,
    /// Upstream answered with a non-2xx status (passed through unchanged).
    UpstreamStatus,
    /// A 200 stream carried an `error` event (e.g. `overloaded_error`).
    StreamError,
    /// The client went away before the response ended; the upstream call was cancelled.
    ClientDisconnected,
    /// The client's request body broke off or exceeded limits.
    ClientRequest,
    /// agentprof stopped (the wrapped agent exited, or Ctrl-C on `proxy`) while the call was
    /// still in flight; it is recorded as far as it got.
    Shutdown,
    /// agentprof could not read the traffic (a WebSocket frame or message it cannot parse); the
    /// bytes went on untouched, but what the call used is unknown from there on.
    Unreadable,
}

impl CallErrorKind {
    /// The name used in traces and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            CallErrorKind::UpstreamConnect => "upstream_connect",
            CallErrorKind::UpstreamTimeout => "upstream_timeout",
            CallErrorKind::UpstreamBody => "upstream_body",
            CallErrorKind::UpstreamStatus => "upstream_status",
            CallErrorKind::StreamError => "stream_error",
            CallErrorKind::ClientDisconnected => "client_disconnected",
            CallErrorKind::ClientRequest => "client_request",
            CallErrorKind::Shutdown => "shutdown",
            CallErrorKind::Unreadable => "unreadable",
        }
    }
}

/// The `classified_by` of a request that is not a model call: it gets no category (its
/// `category` field reads `unknown`), and reports count it under "other requests".
pub const NOT_A_MODEL_CALL: &str = "not-a-model-call";

/// One model call seen by the proxy: the unit everything is attributed by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Sequence number within the trace, from 1.
    pub id: u64,
    pub t_start: f64,
    pub t_first_byte: Option<f64>,
    pub t_end: Option<f64>,
    pub provider: Provider,
    pub api: ApiKind,
    pub method: String,
    /// Path as the upstream saw it (the `/openai` or `/gemini` prefix removed), query string
    /// included (credential-like parameters such as Gemini's `key=` masked).
    pub path: String,
    pub model: Option<String>,
    pub stream: bool,
    /// HTTP status the client received; `None` if the call never got one.
    pub status: Option<u16>,
    pub usage: Option<Usage>,
    /// The upstream's `request-id` / `x-request-id` header.
    pub upstream_request_id: Option<String>,
    /// The response's own id (`msg_…`, `chatcmpl-…`).
    pub response_id: Option<String>,
    /// The agent's session: Claude Code's `X-Claude-Code-Session-Id`, Codex's `session-id`.
    pub session_id: Option<String>,
    /// The sub-agent that made the call: Claude Code's `x-claude-code-agent-id`, a spawned
    /// Codex agent's `thread-id`. Absent on the main agent's calls.
    pub agent_id: Option<String>,
    /// The agent that started it: `x-claude-code-parent-agent-id` (nested sub-agents),
    /// `x-codex-parent-thread-id`.
    pub parent_agent_id: Option<String>,
    pub request_bytes: u64,
    /// Response body bytes read from upstream (decoded from HTTP framing, not decompressed).
    pub response_bytes: u64,
    /// Response body bytes passed to the client: upstream's (less a usage chunk agentprof
    /// asked for on the client's behalf) or agentprof's own error body. When the call ended in
    /// a fault, the bytes known to have been written to the client's socket. `None` for calls
    /// not seen by the proxy (imports) and traces from before it was recorded.
    #[serde(default)]
    pub client_bytes: Option<u64>,
    pub category: Category,
    /// What decided the category (`rule:<name>`; at report time `telemetry:<query_source>`).
    pub classified_by: String,
    /// The call carries a new user prompt on the main loop: it starts a turn.
    #[serde(default)]
    pub starts_turn: bool,
    pub error: Option<CallError>,
    /// Request and response bodies, only with `--capture-bodies`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bodies: Option<CapturedBodies>,
    /// The call came as a message on a WebSocket: the id of the upgrade request (an other
    /// request) that opened the connection. Absent for calls made over plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_websocket: Option<u64>,
    /// The project the call worked in, where the agent's history names one (imports: Claude
    /// Code's projects/ directory, Codex's working directory, opencode's session directory,
    /// Gemini CLI's project root, else its project directory's name). Live calls leave it
    /// out: their trace header's `cwd` names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

impl Call {
    /// A record with nothing known yet — an Anthropic Messages call that got 200, without
    /// usage, times or ids — to be filled field by field (imports, tests).
    pub fn blank() -> Call {
        Call {
            id: 0,
            t_start: 0.0,
            t_first_byte: None,
            t_end: None,
            provider: Provider::Anthropic,
            api: ApiKind::Messages,
            method: String::new(),
            path: String::new(),
            model: None,
            stream: true,
            status: Some(200),
            usage: None,
            upstream_request_id: None,
            response_id: None,
            session_id: None,
            agent_id: None,
            parent_agent_id: None,
            request_bytes: 0,
            response_bytes: 0,
            client_bytes: None,
            category: Category::Unknown,
            classified_by: String::new(),
            starts_turn: false,
            error: None,
            bodies: None,
            via_websocket: None,
            project: None,
        }
    }

    /// Whether the call counts as an error in reports: a cut-off body, or a status other than
    /// 2xx and 101 (a WebSocket upgrade that succeeded, and the calls made over it).
    pub fn is_error(&self) -> bool {
        self.error.is_some() || !matches!(self.status, Some(101 | 200..=299))
    }

    /// Whether this is a model call (messages, chat completions, responses). Everything else
    /// the proxy passes — probes, model lists, token counting, auth — belongs to no category
    /// and is reported apart as "other requests".
    pub fn is_model_call(&self) -> bool {
        self.api != ApiKind::Other
    }

    /// `METHOD /path` without the query string: how other requests are told apart in reports.
    pub fn endpoint(&self) -> String {
        let path = self.path.split('?').next().unwrap_or_default();
        format!("{} {path}", self.method)
    }
}

/// Bodies stored with `--capture-bodies` (UTF-8, lossily decoded; secrets never included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedBodies {
    pub request: String,
    pub response: String,
}

/// What a process in the sampled tree is to the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessRole {
    /// The process `run` started (or a `--pid` root).
    Main,
    /// A descendant running the same executable as the main process: a sub-agent process.
    Subagent,
    /// Any other descendant (shells, tools, language servers).
    Other,
}

impl ProcessRole {
    pub const ALL: [ProcessRole; 3] =
        [ProcessRole::Main, ProcessRole::Subagent, ProcessRole::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            ProcessRole::Main => "main",
            ProcessRole::Subagent => "subagent",
            ProcessRole::Other => "other",
        }
    }
}

/// Memory of one process at one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessMemory {
    pub pid: u32,
    pub rss_bytes: u64,
    /// Proportional set size, only on ticks where PSS was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pss_bytes: Option<u64>,
}

/// Per-role sums at one tick.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMemory {
    pub processes: u32,
    pub rss_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pss_bytes: Option<u64>,
}

/// One tick of the memory sampler over the whole process tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemorySample {
    pub t: f64,
    /// Sum of RSS over the tree (double-counts shared pages; PSS does not).
    pub rss_bytes: u64,
    /// Sum of PSS over the tree, on ticks where PSS was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pss_bytes: Option<u64>,
    pub main: RoleMemory,
    pub subagent: RoleMemory,
    pub other: RoleMemory,
    pub processes: Vec<ProcessMemory>,
}

impl MemorySample {
    /// A tick of the processes `(pid, rss)` only — the tree's RSS their sum, no role's sums,
    /// no PSS: what a leak verdict reads (the live findings' kept samples, tests).
    pub fn of_processes(t: f64, processes: &[(u32, u64)]) -> MemorySample {
        MemorySample {
            t,
            rss_bytes: processes.iter().map(|p| p.1).sum(),
            pss_bytes: None,
            main: RoleMemory::default(),
            subagent: RoleMemory::default(),
            other: RoleMemory::default(),
            processes: processes
                .iter()
                .map(|&(pid, rss_bytes)| ProcessMemory {
                    pid,
                    rss_bytes,
                    pss_bytes: None,
                })
                .collect(),
        }
    }

    pub fn role(&self, role: ProcessRole) -> &RoleMemory {
        match role {
            ProcessRole::Main => &self.main,
            ProcessRole::Subagent => &self.subagent,
            ProcessRole::Other => &self.other,
        }
    }
}

/// A process joining or leaving the sampled tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ProcessEvent {
    Start {
        t: f64,
        pid: u32,
        ppid: Option<u32>,
        role: ProcessRole,
        /// The command line, shortened (executable name and a few arguments).
        command: String,
    },
    Exit {
        t: f64,
        pid: u32,
        /// Peak RSS over the process's life (VmHWM), when it could be read before it exited.
        peak_rss_bytes: Option<u64>,
    },
}

/// One record of the agent's own OpenTelemetry, as received by the telemetry receiver.
///
/// Claude Code logs a `claude_code.api_request` event per model call (with the upstream's
/// `request_id`, its internal `query_source`, the prompt it served and token counts) and a
/// `claude_code.user_prompt` event per prompt. These are joined to proxied calls at report time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelemetryEvent {
    /// When agentprof received it (seconds since trace start).
    pub t: f64,
    /// The event name, e.g. `claude_code.api_request`.
    pub event: String,
    /// The log record's own timestamp (RFC 3339), when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_serialised_forms() {
        for category in Category::ALL {
            assert_eq!(serde_json::to_value(category).unwrap(), category.as_str());
            assert_eq!(Category::parse(category.as_str()), Some(category));
        }
        use CallErrorKind::*;
        for kind in [
            UpstreamConnect,
            UpstreamTimeout,
            UpstreamBody,
            UpstreamStatus,
            StreamError,
            ClientDisconnected,
            ClientRequest,
            Shutdown,
            Unreadable,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for role in ProcessRole::ALL {
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
    }
}
