//! What the user's Gemini CLI settings say about the two things agentprof depends on: which
//! auth type is selected (only API-key auth honours `GOOGLE_GEMINI_BASE_URL`), and where its
//! telemetry goes. Read, never written.
//!
//! Gemini CLI merges, lowest first: system defaults (`/etc/gemini-cli/system-defaults.json` or
//! `GEMINI_CLI_SYSTEM_DEFAULTS_PATH`), the user's `<home>/.gemini/settings.json` (home is
//! `GEMINI_CLI_HOME` or the real one), the workspace's `<cwd>/.gemini/settings.json`, and system
//! settings (`/etc/gemini-cli/settings.json` or `GEMINI_CLI_SYSTEM_SETTINGS_PATH`), which
//! override the rest. Its telemetry settings are overridden in turn by `GEMINI_TELEMETRY_*`
//! variables. The files are JSON with comments; one that does not parse counts as absent (Gemini
//! CLI reports it itself).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::agents::jsonc::parse_jsonc;

/// The merged settings agentprof reads, each with the file it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeminiSettings {
    /// `security.auth.selectedType`, and the file that set it.
    pub selected_auth: Option<(String, PathBuf)>,
    /// The user's own telemetry settings (files, then their environment).
    pub telemetry: Telemetry,
    /// The user's settings file (`<home>/.gemini/settings.json`), whether it exists or not.
    pub user_file: PathBuf,
}

/// Where Gemini CLI's telemetry would go without agentprof.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Telemetry {
    pub enabled: bool,
    /// `local` (OTLP or a file) or `gcp` (straight to Google Cloud).
    pub target: Option<String>,
    pub otlp_endpoint: Option<String>,
    /// `grpc` (Gemini CLI's default) or `http`.
    pub otlp_protocol: Option<String>,
    /// A file the telemetry is written to instead (it wins over OTLP).
    pub outfile: Option<String>,
}

impl Telemetry {
    /// The OTLP/HTTP endpoint agentprof can forward the user's telemetry to, when it is on,
    /// local, over HTTP and not to a file; `Err` says why it cannot be forwarded, when it is on.
    pub fn forwardable(&self) -> Option<Result<String, String>> {
        if !self.enabled {
            return None;
        }
        if self.target.as_deref() == Some("gcp") {
            return Some(Err("it is sent to Google Cloud (target \"gcp\")".into()));
        }
        if let Some(file) = &self.outfile {
            return Some(Err(format!("it is written to {file}")));
        }
        let endpoint = self
            .otlp_endpoint
            .clone()
            .unwrap_or_else(|| "http://localhost:4317".into());
        match self.otlp_protocol.as_deref() {
            Some("http") => Some(Ok(endpoint)),
            _ => Some(Err(format!(
                "it goes to {endpoint} over OTLP/gRPC, which agentprof's receiver does not speak"
            ))),
        }
    }
}

/// Where the settings files are, from the user's environment and working directory.
#[derive(Debug, Clone)]
pub struct Locations {
    pub system_defaults: PathBuf,
    pub user: PathBuf,
    pub workspace: PathBuf,
    pub system: PathBuf,
}

impl Locations {
    /// The files Gemini CLI would read for a run started here.
    pub fn of(env: &HashMap<String, String>, cwd: &Path) -> Option<Locations> {
        let var = |k: &str| {
            env.get(k)
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from)
        };
        let home = var("GEMINI_CLI_HOME").or_else(|| var("HOME"))?;
        let system = var("GEMINI_CLI_SYSTEM_SETTINGS_PATH")
            .unwrap_or_else(|| PathBuf::from("/etc/gemini-cli/settings.json"));
        let system_defaults = var("GEMINI_CLI_SYSTEM_DEFAULTS_PATH").unwrap_or_else(|| {
            system
                .parent()
                .unwrap_or(Path::new("/etc/gemini-cli"))
                .join("system-defaults.json")
        });
        Some(Locations {
            system_defaults,
            user: home.join(".gemini").join("settings.json"),
            workspace: cwd.join(".gemini").join("settings.json"),
            system,
        })
    }
}

impl GeminiSettings {
    /// Reads the settings files at `at` (lowest precedence first), then the telemetry
    /// variables of `env`.
    pub fn read(at: &Locations, env: &HashMap<String, String>) -> GeminiSettings {
        let mut settings = GeminiSettings {
            user_file: at.user.clone(),
            ..GeminiSettings::default()
        };
        for path in [&at.system_defaults, &at.user, &at.workspace, &at.system] {
            if let Some(value) = std::fs::read_to_string(path)
                .ok()
                .and_then(|text| parse_jsonc(&text))
            {
                settings.apply(&value, path);
            }
        }
        settings.telemetry.apply_env(env);
        settings
    }

    /// Merges one file's values over what is there.
    fn apply(&mut self, value: &Value, path: &Path) {
        if let Some(kind) = value
            .pointer("/security/auth/selectedType")
            .and_then(Value::as_str)
        {
            self.selected_auth = Some((kind.to_string(), path.to_path_buf()));
        }
        let Some(t) = value.get("telemetry") else {
            return;
        };
        let text = |key: &str| t.get(key).and_then(Value::as_str).map(str::to_string);
        let telemetry = &mut self.telemetry;
        if let Some(enabled) = t.get("enabled").and_then(Value::as_bool) {
            telemetry.enabled = enabled;
        }
        for (slot, key) in [
            (&mut telemetry.target, "target"),
            (&mut telemetry.otlp_endpoint, "otlpEndpoint"),
            (&mut telemetry.otlp_protocol, "otlpProtocol"),
            (&mut telemetry.outfile, "outfile"),
        ] {
            if let Some(v) = text(key) {
                *slot = Some(v);
            }
        }
    }
}

impl Telemetry {
    /// `GEMINI_TELEMETRY_*` (and `OTEL_EXPORTER_OTLP_ENDPOINT` for the endpoint), which win
    /// over the files.
    fn apply_env(&mut self, env: &HashMap<String, String>) {
        let var = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        if let Some(v) = var("GEMINI_TELEMETRY_ENABLED") {
            self.enabled = v == "true" || v == "1";
        }
        let endpoint =
            var("GEMINI_TELEMETRY_OTLP_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"));
        for (slot, value) in [
            (&mut self.target, var("GEMINI_TELEMETRY_TARGET")),
            (&mut self.otlp_endpoint, endpoint),
            (
                &mut self.otlp_protocol,
                var("GEMINI_TELEMETRY_OTLP_PROTOCOL"),
            ),
            (&mut self.outfile, var("GEMINI_TELEMETRY_OUTFILE")),
        ] {
            if let Some(v) = value {
                *slot = Some(v.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layers_merge_in_gemini_clis_order_and_the_environment_wins_for_telemetry() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let at = Locations {
            system_defaults: write(
                "defaults.json",
                r#"{"security":{"auth":{"selectedType":"gemini-api-key"}}}"#,
            ),
            user: write(
                "user.json",
                r#"{"security":{"auth":{"selectedType":"oauth-personal"}},
                   "telemetry":{"enabled":true,"otlpEndpoint":"http://collector:4318"}}"#,
            ),
            workspace: dir.path().join("missing.json"),
            system: write("system.json", "not json"),
        };
        let s = GeminiSettings::read(&at, &HashMap::new());
        assert_eq!(
            s.selected_auth,
            Some(("oauth-personal".into(), at.user.clone()))
        );
        assert_eq!(
            s.telemetry.forwardable(),
            Some(Err(
                "it goes to http://collector:4318 over OTLP/gRPC, which agentprof's receiver does not speak"
                    .into()
            ))
        );
        let s = GeminiSettings::read(&at, &env(&[("GEMINI_TELEMETRY_OTLP_PROTOCOL", "http")]));
        assert_eq!(
            s.telemetry.forwardable(),
            Some(Ok("http://collector:4318".into()))
        );
        let s = GeminiSettings::read(&at, &env(&[("GEMINI_TELEMETRY_ENABLED", "false")]));
        assert_eq!(s.telemetry.forwardable(), None);
        let s = GeminiSettings::read(&at, &env(&[("GEMINI_TELEMETRY_TARGET", "gcp")]));
        assert!(matches!(s.telemetry.forwardable(), Some(Err(e)) if e.contains("gcp")));
    }

    #[test]
    fn locations_follow_gemini_cli_home_and_the_system_paths() {
        let at = Locations::of(
            &env(&[
                ("HOME", "/home/u"),
                ("GEMINI_CLI_HOME", "/g"),
                ("GEMINI_CLI_SYSTEM_SETTINGS_PATH", "/opt/gc/settings.json"),
            ]),
            Path::new("/work/p"),
        )
        .unwrap();
        assert_eq!(at.user, Path::new("/g/.gemini/settings.json"));
        assert_eq!(at.workspace, Path::new("/work/p/.gemini/settings.json"));
        assert_eq!(at.system, Path::new("/opt/gc/settings.json"));
        assert_eq!(
            at.system_defaults,
            Path::new("/opt/gc/system-defaults.json")
        );
        assert!(Locations::of(&HashMap::new(), Path::new("/")).is_none());
    }
}
