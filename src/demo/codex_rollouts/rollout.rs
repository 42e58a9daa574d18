//! One rollout file being written: lines as Codex writes them (`{timestamp, type, payload}`),
//! its running `total_token_usage`, and what a fork of it copies.

use serde_json::{Value, json};

use crate::demo::import_truth::Tokens;
use crate::observation::Usage;

/// Codex's `TokenUsage`: `input_tokens` includes cached and cache-write tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodexUsage {
    pub input: u64,
    pub cached: u64,
    pub cache_write: u64,
    pub output: u64,
    pub reasoning: u64,
    pub total: u64,
}

impl CodexUsage {
    pub fn json(&self) -> Value {
        json!({
            "input_tokens": self.input,
            "cached_input_tokens": self.cached,
            "cache_write_input_tokens": self.cache_write,
            "output_tokens": self.output,
            "reasoning_output_tokens": self.reasoning,
            "total_tokens": self.total,
        })
    }

    fn plus(&self, other: &CodexUsage) -> CodexUsage {
        CodexUsage {
            input: self.input + other.input,
            cached: self.cached + other.cached,
            cache_write: self.cache_write + other.cache_write,
            output: self.output + other.output,
            reasoning: self.reasoning + other.reasoning,
            total: self.total + other.total,
        }
    }

    /// In agentprof's convention (uncached input apart from cache reads and writes).
    pub fn usage(&self) -> Usage {
        Usage {
            input_tokens: self.input - self.cached - self.cache_write,
            output_tokens: self.output,
            cache_creation_input_tokens: self.cache_write,
            cache_read_input_tokens: self.cached,
            // OpenAI gives writes no TTL split: default-TTL writes, as the proxy counts them.
            cache_creation_5m_input_tokens: self.cache_write,
            ..Usage::default()
        }
    }
}

/// A rollout under construction.
#[derive(Debug, Clone)]
pub struct Rollout {
    pub id: String,
    /// Every well-formed line after the timestamp (`"type":…}`), for a fork to copy.
    lines: Vec<String>,
    pub bytes: Vec<u8>,
    pub total: CodexUsage,
    /// The last `info` written and its `last_token_usage`, for re-emits.
    info: Option<(Value, CodexUsage)>,
    /// `last_token_usage` summed over every token count with info in the file (copies too):
    /// the naive count.
    pub naive: Tokens,
    /// Written as Codex 0.164 and later write: a `token_usage_record` per response.
    records: bool,
}

const RATE_LIMITS: &str = r#"{"primary":{"used_percent":12.0,"window_minutes":300,"resets_in_seconds":3600},"secondary":{"used_percent":3.0,"window_minutes":10080,"resets_in_seconds":86400}}"#;

pub fn timestamp(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

impl Rollout {
    /// A rollout as Codex writes it: with per-response records (`records`, 0.164 and later)
    /// or token counts only.
    pub fn new(id: String, records: bool) -> Rollout {
        Rollout {
            id,
            lines: Vec::new(),
            bytes: Vec::new(),
            total: CodexUsage::default(),
            info: None,
            naive: Tokens::default(),
            records,
        }
    }

    /// Whether it writes per-response records.
    pub fn records(&self) -> bool {
        self.records
    }

    fn write(&mut self, t: i64, kind: &str, payload: &Value) {
        let rest = format!(r#""type":"{kind}","payload":{payload}}}"#);
        self.push(t, &rest);
        self.lines.push(rest);
    }

    fn push(&mut self, t: i64, rest: &str) {
        self.bytes
            .extend_from_slice(format!(r#"{{"timestamp":"{}","#, timestamp(t)).as_bytes());
        self.bytes.extend_from_slice(rest.as_bytes());
        self.bytes.push(b'\n');
    }

    pub fn session_meta(&mut self, t: i64, payload: &Value) {
        self.write(t, "session_meta", payload);
    }

    pub fn turn_context(&mut self, t: i64, model: &str, cwd: &str) {
        self.write(
            t,
            "turn_context",
            &json!({"cwd": cwd, "approval_policy": "never",
                "sandbox_policy": {"type": "read-only"}, "model": model, "effort": "medium",
                "summary": "auto"}),
        );
    }

    pub fn user_message(&mut self, t: i64, text: &str) {
        self.write(
            t,
            "response_item",
            &json!({"type": "message", "role": "user",
                "content": [{"type": "input_text", "text": text}]}),
        );
        self.write(
            t,
            "event_msg",
            &json!({"type": "user_message", "message": text, "images": []}),
        );
    }

    /// A tool call and its output: the bulk of a real rollout, and no usage.
    pub fn tool_round(&mut self, t: i64, call_id: &str, output: &str) {
        self.write(
            t,
            "response_item",
            &json!({"type": "reasoning", "summary": [], "encrypted_content": output.get(..output.len() / 4).unwrap_or("")}),
        );
        self.write(
            t,
            "response_item",
            &json!({"type": "function_call", "name": "shell",
                "arguments": "{\"command\":[\"rg\",\"token_count\"]}", "call_id": call_id}),
        );
        self.write(
            t,
            "response_item",
            &json!({"type": "function_call_output", "call_id": call_id, "output": output}),
        );
        self.write(
            t,
            "event_msg",
            &json!({"type": "agent_reasoning", "text": "Looking at the \"type\":\"token_count\" lines"}),
        );
    }

    pub fn agent_message(&mut self, t: i64, text: &str) {
        self.write(
            t,
            "response_item",
            &json!({"type": "message", "role": "assistant",
                "content": [{"type": "output_text", "text": text}]}),
        );
        self.write(
            t,
            "event_msg",
            &json!({"type": "agent_message", "message": text}),
        );
    }

    fn token_count(&mut self, t: i64, info: Value, last: Option<CodexUsage>) {
        let rest = format!(
            r#""type":"event_msg","payload":{{"type":"token_count","info":{info},"rate_limits":{RATE_LIMITS}}}}}"#
        );
        self.push(t, &rest);
        self.lines.push(rest);
        if let Some(last) = last {
            self.naive.add(&last.usage());
            self.info = Some((info, last));
        }
    }

    /// A response's own record (0.164 and later), before its token count.
    fn usage_record(&mut self, t: i64, response_id: &str, usage: &CodexUsage) {
        self.write(
            t,
            "token_usage_record",
            &json!({"thread_id": self.id, "session_id": self.id, "response_id": response_id,
                "usage": usage.json(), "thread_token_usage": self.total.json()}),
        );
    }

    /// A model call: the total grows by `last`.
    pub fn call(&mut self, t: i64, last: CodexUsage, response_id: &str) {
        if self.records {
            self.usage_record(t, response_id, &last);
        }
        self.total = self.total.plus(&last);
        let info = json!({"total_token_usage": self.total.json(),
            "last_token_usage": last.json(), "model_context_window": 272_000});
        self.token_count(t, info, Some(last));
    }

    /// A remote compaction (0.164 and later): its response's record, the `compacted` line that
    /// replaces the history, and a token count whose total does *not* include it — its last
    /// usage an estimate of the new context with no components. Only the record has its tokens.
    pub fn remote_compaction(&mut self, t: i64, usage: CodexUsage, response_id: &str) {
        self.usage_record(t, response_id, &usage);
        self.write(
            t,
            "compacted",
            &json!({"message": "", "replacement_history": [{"type": "compaction",
                "encrypted_content": "gAAAAB-summary-of-the-session"}]}),
        );
        let estimate = CodexUsage {
            total: usage.output + 2_000,
            ..CodexUsage::default()
        };
        let info = json!({"total_token_usage": self.total.json(),
            "last_token_usage": estimate.json(), "model_context_window": 272_000});
        self.token_count(t, info, Some(estimate));
    }

    /// A rate-limit update: the same info again. Returns whether one was written.
    pub fn repeat(&mut self, t: i64) -> bool {
        match self.info.clone() {
            Some((info, last)) => {
                self.token_count(t, info, Some(last));
                true
            }
            None => false,
        }
    }

    /// A rate-limit update before any usage: `info: null`.
    pub fn null_info(&mut self, t: i64) {
        self.token_count(t, Value::Null, None);
    }

    /// Context window exceeded: Codex sets the total to the window, components 0.
    pub fn window_rewrite(&mut self, t: i64, window: u64) {
        let delta = window.saturating_sub(self.total.total);
        self.total = CodexUsage {
            total: window,
            ..CodexUsage::default()
        };
        let last = CodexUsage {
            total: delta,
            ..CodexUsage::default()
        };
        let info = json!({"total_token_usage": self.total.json(),
            "last_token_usage": last.json(), "model_context_window": window});
        self.token_count(t, info, Some(last));
    }

    /// Bytes that are no rollout line (a crash's torn write), followed by a newline or not.
    pub fn damage(&mut self, bytes: &[u8], newline: bool) {
        self.bytes.extend_from_slice(bytes);
        if newline {
            self.bytes.push(b'\n');
        }
    }

    /// A forked thread: its own `session_meta`, then every line of this rollout copied as it
    /// is (timestamps of the fork), totals carried on. Returns it and how many token counts
    /// with info it copied.
    pub fn fork(&self, id: String, t: i64, meta: &Value) -> (Rollout, u64) {
        let mut child = Rollout::new(id, self.records);
        child.session_meta(t, meta);
        let mut copied = 0;
        for rest in &self.lines {
            if rest.contains(r#""type":"token_count","info":{"#) {
                copied += 1;
            }
            child.push(t, rest);
            child.lines.push(rest.clone());
        }
        child.total = self.total;
        child.info = self.info.clone();
        child.naive = self.naive;
        (child, copied)
    }
}
