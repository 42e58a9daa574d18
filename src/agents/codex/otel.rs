//! Codex's OpenTelemetry, pointed at agentprof's receiver for one run.
//!
//! Codex reads no `OTEL_*` variables: its exporters are `[otel]` settings (`exporter` for
//! logs, where its per-call token counts are). agentprof adds a `-c otel.exporter=…` override
//! sending them to its receiver as OTLP/HTTP JSON. A user who already exports Codex's logs
//! somewhere (an `exporter` other than `none` in their `config.toml`) keeps that: overriding it
//! would cut their pipeline off, and agentprof only forwards what it receives for Claude Code's
//! environment-configured exporters. They are told that Codex's telemetry is not joined.

use std::path::{Path, PathBuf};

use super::toml_string;

/// The `-c` override sending Codex's log events to the receiver at `base`.
pub(super) fn exporter_override(base: &str) -> [String; 2] {
    let endpoint = toml_string(&format!("{base}/v1/logs"));
    [
        "-c".to_string(),
        format!("otel.exporter={{otlp-http={{endpoint={endpoint},protocol=\"json\"}}}}"),
    ]
}

/// Codex's own configuration file: `$CODEX_HOME/config.toml`, else `~/.codex/config.toml`.
pub(super) fn config_path() -> Option<PathBuf> {
    let home = std::env::var_os("CODEX_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".codex")))?;
    Some(home.join("config.toml"))
}

/// The log exporter the user configured in `config` (their `config.toml`), if it exports
/// anywhere: `statsig`, or an OTLP exporter with the endpoint it names. A file that does not
/// parse sets none (Codex itself refuses to start on it, and says why).
pub(super) fn users_log_exporter(config: &str) -> Option<String> {
    let table: toml::Table = config.parse().ok()?;
    let exporter = table.get("otel")?.get("exporter")?;
    match exporter {
        toml::Value::String(kind) if kind == "none" => None,
        toml::Value::String(kind) => Some(kind.clone()),
        toml::Value::Table(kinds) => kinds.iter().next().map(|(kind, settings)| {
            match settings.get("endpoint").and_then(toml::Value::as_str) {
                Some(endpoint) => format!("{kind} to {endpoint}"),
                None => kind.clone(),
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_override_is_a_toml_table_codex_parses() {
        let [flag, value] = exporter_override("http://127.0.0.1:4318");
        assert_eq!(flag, "-c");
        let (key, toml_value) = value.split_once('=').unwrap();
        assert_eq!(key, "otel.exporter");
        let parsed: toml::Table = format!("x = {toml_value}").parse().unwrap();
        assert_eq!(
            parsed["x"]["otlp-http"]["endpoint"].as_str(),
            Some("http://127.0.0.1:4318/v1/logs")
        );
        assert_eq!(parsed["x"]["otlp-http"]["protocol"].as_str(), Some("json"));
    }

    #[test]
    fn a_users_own_exporter_is_found_and_none_is_none() {
        assert_eq!(users_log_exporter(""), None);
        assert_eq!(users_log_exporter("model = \"gpt-6\"\n"), None);
        assert_eq!(users_log_exporter("[otel]\nexporter = \"none\"\n"), None);
        assert_eq!(
            users_log_exporter("[otel]\nexporter = \"statsig\"\n").as_deref(),
            Some("statsig")
        );
        let otlp = "[otel.exporter.otlp-http]\nendpoint = \"https://otel.example/v1/logs\"\n";
        assert_eq!(
            users_log_exporter(otlp).as_deref(),
            Some("otlp-http to https://otel.example/v1/logs")
        );
        assert_eq!(users_log_exporter("[otel\nbroken"), None);
    }
}
