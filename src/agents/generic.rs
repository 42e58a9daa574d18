//! Any agent: the base URLs the official SDKs read, and the standard OpenTelemetry exporter
//! variables (OTLP over HTTP with JSON) pointing at agentprof's receiver.

use super::{Agent, Endpoints};

pub struct Generic;

impl Agent for Generic {
    fn name(&self) -> &'static str {
        "generic"
    }

    fn env(&self, endpoints: &Endpoints) -> Vec<(String, String)> {
        let mut env = vec![
            ("ANTHROPIC_BASE_URL", endpoints.anthropic_base_url.clone()),
            ("OPENAI_BASE_URL", endpoints.openai_base_url.clone()),
        ];
        if let Some(base) = &endpoints.telemetry {
            // Per-signal endpoint and protocol variables too: the user's own would otherwise
            // take precedence over the base endpoint.
            env.extend([
                ("OTEL_LOGS_EXPORTER", "otlp".to_owned()),
                ("OTEL_METRICS_EXPORTER", "otlp".to_owned()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json".to_owned()),
                ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json".to_owned()),
                (
                    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
                    "http/json".to_owned(),
                ),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", base.clone()),
                (
                    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                    format!("{base}/v1/logs"),
                ),
                (
                    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                    format!("{base}/v1/metrics"),
                ),
                ("OTEL_METRIC_EXPORT_INTERVAL", "10000".to_owned()),
            ]);
        }
        env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// Matches nothing: every command gets this room's environment anyway.
    fn is_program(&self, _program: &str) -> bool {
        false
    }
}
