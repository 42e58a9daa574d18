//! The record types of one trace line.

use serde::{Deserialize, Serialize};

use crate::observation::{Call, MemorySample, ProcessEvent, TelemetryEvent};

/// The `schema` value of every v1 trace header.
pub const SCHEMA: &str = "agentprof.trace/v1";

/// One line of a trace. `type` names the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TraceRecord {
    Header(TraceHeader),
    Call(Call),
    Memory(MemorySample),
    Process(ProcessEvent),
    /// The agent's own telemetry, as received (joined to calls at report time).
    Telemetry(TelemetryEvent),
    Footer(TraceFooter),
}

/// First line: what produced the trace and the assumptions it was taken under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceHeader {
    /// Always [`SCHEMA`].
    pub schema: String,
    pub agentprof_version: String,
    /// Wall-clock time (RFC 3339) of offset 0; every `t*` field is seconds after it.
    pub started_at: String,
    /// `run`, `proxy` or `demo`.
    pub mode: String,
    /// The wrapped command (`run`), secrets-looking arguments masked.
    #[serde(default)]
    pub command: Vec<String>,
    pub upstreams: Upstreams,
    /// The proxy's listen address.
    pub listen: String,
    pub sample_interval_s: f64,
    /// PSS and VmHWM are read every this many memory ticks.
    pub pss_every: u32,
    pub capture_bodies: bool,
    pub host: HostInfo,
    /// The server KV profile chosen when recording (`report` uses it unless told otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_profile: Option<String>,
    /// The working directory `run` or `proxy` was started in: the project of the live calls
    /// (`report --by project`). Absent in imports (each call names its own) and older traces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
}

/// Upstream base URLs (credentials never included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upstreams {
    pub anthropic: String,
    pub openai: String,
    /// Where Codex's ChatGPT-login calls went (traces from before it was recorded lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chatgpt: Option<String>,
    /// Where Gemini API calls went (traces from before Gemini support lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemini: Option<String>,
}

/// The machine the trace was taken on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostInfo {
    pub os: String,
    pub cpus: u32,
    pub total_memory_bytes: u64,
}

impl HostInfo {
    /// Describes the current machine.
    pub fn current() -> HostInfo {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1);
        HostInfo {
            os: std::env::consts::OS.to_string(),
            cpus,
            total_memory_bytes: total_memory_bytes(),
        }
    }
}

fn total_memory_bytes() -> u64 {
    match sysinfo::System::new() {
        Ok(mut system) => {
            system.refresh_memory();
            system.total_memory()
        }
        // Unknown is 0 here: the field is informational and never used in a computation.
        Err(_) => 0,
    }
}

impl TraceHeader {
    /// The header of a trace an import writes (`agentprof import <agent> <dir>`): mode
    /// `import`, starting at the history's first call; nothing was proxied or sampled.
    pub fn for_import(agent: &str, dir: &std::path::Path, started_at: jiff::Timestamp) -> Self {
        TraceHeader {
            schema: SCHEMA.to_string(),
            agentprof_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: started_at.to_string(),
            mode: crate::attribute::summary::IMPORT_MODE.to_string(),
            command: vec![
                "agentprof".into(),
                "import".into(),
                agent.into(),
                dir.display().to_string(),
            ],
            upstreams: Upstreams {
                anthropic: String::new(),
                openai: String::new(),
                chatgpt: None,
                gemini: None,
            },
            listen: String::new(),
            // Nothing was sampled: an import has no memory figures.
            sample_interval_s: 0.0,
            pss_every: 0,
            capture_bodies: false,
            host: HostInfo::current(),
            kv_profile: None,
            cwd: None,
        }
    }
}

impl TraceFooter {
    /// The footer of an imported history of `calls` calls lasting `duration` seconds from
    /// `started_at`.
    pub fn for_import(started_at: jiff::Timestamp, duration: f64, calls: u64) -> Self {
        TraceFooter {
            t: duration,
            ended_at: crate::clock::offset_to_timestamp(started_at, duration).to_string(),
            calls,
            samples: 0,
            exit_code: None,
            exit_signal: None,
        }
    }
}

/// Last line of a cleanly finished trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceFooter {
    pub t: f64,
    pub ended_at: String,
    pub calls: u64,
    pub samples: u64,
    /// The wrapped command's exit code (`run`), when it exited normally.
    pub exit_code: Option<i32>,
    /// The signal that ended the wrapped command, when one did.
    pub exit_signal: Option<i32>,
}

#[cfg(test)]
impl TraceHeader {
    /// A `run` header started at 2026-11-21T00:00:00Z, for tests.
    pub fn for_tests() -> TraceHeader {
        TraceHeader {
            schema: SCHEMA.into(),
            agentprof_version: "test".into(),
            started_at: "2026-11-21T00:00:00Z".into(),
            mode: "run".into(),
            command: vec![],
            upstreams: Upstreams {
                anthropic: "http://a".into(),
                openai: "http://o".into(),
                chatgpt: None,
                gemini: None,
            },
            listen: "127.0.0.1:0".into(),
            sample_interval_s: 0.25,
            pss_every: 4,
            capture_bodies: false,
            host: HostInfo {
                os: "linux".into(),
                cpus: 2,
                total_memory_bytes: 1,
            },
            kv_profile: None,
            cwd: None,
        }
    }
}
