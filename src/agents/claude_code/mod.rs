//! Claude Code (npm `@anthropic-ai/claude-code`).
//!
//! It reads `ANTHROPIC_BASE_URL` (the generic room's) and exports its OpenTelemetry only when
//! `CLAUDE_CODE_ENABLE_TELEMETRY` is set; its logs are flushed every
//! `OTEL_LOGS_EXPORT_INTERVAL` ms (5 s by default), which agentprof shortens so the events of a
//! short session arrive before it exits.

use std::collections::HashMap;

use super::{Agent, CallIds, Endpoints, header_text, program_name};
use crate::capture::telemetry::{ForwardTarget, Signal};

pub struct ClaudeCode;

impl Agent for ClaudeCode {
    fn name(&self) -> &'static str {
        "claude-code"
    }

    fn rule_prefix(&self) -> Option<&'static str> {
        Some("cc-")
    }

    fn env(&self, endpoints: &Endpoints) -> Vec<(String, String)> {
        if endpoints.telemetry.is_none() {
            return Vec::new();
        }
        vec![
            ("CLAUDE_CODE_ENABLE_TELEMETRY".to_string(), "1".to_string()),
            ("OTEL_LOGS_EXPORT_INTERVAL".to_string(), "1000".to_string()),
        ]
    }

    fn install_hint(&self) -> Option<&'static str> {
        Some("npm install -g @anthropic-ai/claude-code")
    }

    fn is_program(&self, program: &str) -> bool {
        program_name(program) == "claude"
    }

    /// Its standard `OTEL_*` exporter variables. Only signals it would really have exported
    /// are forwarded: Claude Code exports nothing unless `CLAUDE_CODE_ENABLE_TELEMETRY` is set,
    /// and each signal only with an `otlp` exporter.
    fn users_telemetry(&self) -> Option<ForwardTarget> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let enabled = |key: &str| {
            env.get(key)
                .is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
        };
        if !enabled("CLAUDE_CODE_ENABLE_TELEMETRY") {
            return None;
        }
        let mut target = ForwardTarget::from_env(&env)?;
        let exports = |key: &str| {
            env.get(key)
                .is_some_and(|v| v.split(',').any(|e| e.trim() == "otlp"))
        };
        if !exports("OTEL_METRICS_EXPORTER") {
            target.remove(Signal::Metrics);
        }
        if !exports("OTEL_LOGS_EXPORTER") {
            target.remove(Signal::Logs);
        }
        (!target.is_empty()).then_some(target)
    }

    /// Every call carries the session; sub-agent calls their own agent id and, nested, their
    /// parent's.
    fn call_ids(&self, headers: &http::HeaderMap) -> Option<CallIds> {
        let session_id = header_text(headers, "x-claude-code-session-id");
        let agent_id = header_text(headers, "x-claude-code-agent-id");
        (session_id.is_some() || agent_id.is_some()).then(|| CallIds {
            session_id,
            agent_id,
            parent_agent_id: header_text(headers, "x-claude-code-parent-agent-id"),
        })
    }
}
