//! What the mock remembers about each request: the ground truth tests compare the proxy against.
//!
//! `usage` is exactly what the mock *sent*, converted to agentprof's convention (OpenAI
//! `input_tokens = prompt − cached`; Gemini `input_tokens = prompt − cached + toolUse`,
//! `output_tokens = candidates + thoughts`). When a fault cuts a stream short, it is the usage the client
//! could have read from the events it received: for an Anthropic stream cut before
//! `message_delta`, that is `message_start`'s usage (with its placeholder `output_tokens: 1`);
//! for an OpenAI stream without `include_usage`, or cut before its usage chunk, it is `None`;
//! for a Gemini stream, the last running `usageMetadata` snapshot received.
//! Records are appended in arrival order, under the same lock that updates the cache.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::observation::Usage;

impl MockRecord {
    /// The record of a request answered without a model reply (a probe, an unknown path, a
    /// refused upgrade): its method, path and status; callers fill in what else they know.
    pub(crate) fn without_reply(
        seq: u64,
        provider: &str,
        parts: &http::request::Parts,
        status: http::StatusCode,
    ) -> MockRecord {
        MockRecord {
            seq,
            provider: provider.to_string(),
            method: parts.method.to_string(),
            path: super::server::path_and_query(parts),
            model: None,
            stream: false,
            status: Some(status.as_u16()),
            usage: None,
            request_id: String::new(),
            response_id: None,
            truth_category: None,
            session_id: None,
            agent_id: None,
            fault: None,
            tools: 0,
            compaction: false,
            body_bytes: 0,
            body_fnv1a64: String::new(),
        }
    }
}

/// One request the mock answered (or deliberately did not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockRecord {
    /// Arrival order, from 1.
    pub seq: u64,
    /// `anthropic`, `openai` or `gemini`.
    pub provider: String,
    /// HTTP method (`POST` for every model call; `HEAD /api/hello` probes and unknown paths
    /// are recorded too, with their status and nothing else).
    #[serde(default = "post")]
    pub method: String,
    /// Path with query, as received (credential-looking query values such as Gemini's `key=`
    /// masked as `***`).
    pub path: String,
    pub model: Option<String>,
    pub stream: bool,
    /// Status sent; `None` when the connection was closed before any response.
    pub status: Option<u16>,
    pub usage: Option<Usage>,
    /// The `request-id` / `x-request-id` / `x-goog-request-id` header value, also for failures.
    pub request_id: String,
    /// The response body's id (`msg_…`, `chatcmpl-…`, `resp_…`, Gemini's `responseId`) when one was generated.
    pub response_id: Option<String>,
    /// Header `x-agentprof-truth-category`: the synthetic agent's test-only ground truth.
    pub truth_category: Option<String>,
    /// Header `x-claude-code-session-id` (Gemini CLI sends no session header: `None`).
    pub session_id: Option<String>,
    /// Header `x-claude-code-agent-id`.
    pub agent_id: Option<String>,
    /// Header `x-mock-fault`, as received.
    pub fault: Option<String>,
    /// How many tools the request offered (the agentic main loop always sends its tools;
    /// helper calls send none).
    #[serde(default)]
    pub tools: u32,
    /// The request asked for compaction — Codex's `compaction_trigger` input item or
    /// `/responses/compact` — and was answered with a compaction item: ground truth from the
    /// protocol itself, for tests of agents that send no truth header.
    #[serde(default)]
    pub compaction: bool,
    /// Bytes of response body sent (before an abort, for a cut stream).
    #[serde(default)]
    pub body_bytes: u64,
    /// FNV-1a 64 of the response body sent, as 16 hex digits: tests compare what a client
    /// received through the proxy with this, byte for byte.
    #[serde(default)]
    pub body_fnv1a64: String,
}

fn post() -> String {
    "POST".to_string()
}

/// The in-memory record list, optionally mirrored to a JSON-lines file.
#[derive(Debug, Default)]
pub(crate) struct RecordLog {
    records: Vec<MockRecord>,
    file: Option<File>,
}

impl RecordLog {
    pub(crate) fn new(path: Option<&Path>) -> io::Result<Self> {
        let file = path.map(File::create).transpose()?;
        Ok(RecordLog {
            records: Vec::new(),
            file,
        })
    }

    /// Appends a record; a failing mirror file is reported once and then dropped, because losing
    /// the file must not change what the mock answers.
    pub(crate) fn push(&mut self, record: MockRecord) {
        if let Some(file) = self.file.as_mut()
            && let Err(e) = write_line(file, &record)
        {
            tracing::warn!("mock: writing record file failed, no longer recording to it: {e}");
            self.file = None;
        }
        self.records.push(record);
    }

    pub(crate) fn all(&self) -> Vec<MockRecord> {
        self.records.clone()
    }
}

/// Plain FNV-1a 64 over the concatenated chunks (no separators), as 16 hex digits — the same
/// function the tests' clients compute over the bytes they received.
pub(crate) fn body_fnv1a64(chunks: &[bytes::Bytes]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in chunks.iter().flat_map(|c| c.iter()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn write_line(file: &mut File, record: &MockRecord) -> io::Result<()> {
    let mut line = serde_json::to_vec(record)?;
    line.push(b'\n');
    file.write_all(&line)?;
    file.flush()
}
