//! Gemini CLI (npm `@google/gemini-cli`).
//!
//! It speaks the Gemini API through Google's SDK, which takes its base URL from
//! `GOOGLE_GEMINI_BASE_URL`: agentprof sets it to `<proxy>/gemini`. Its OpenTelemetry is
//! switched on and pointed at the receiver with `GEMINI_TELEMETRY_*` variables (which win over
//! its settings), over OTLP/HTTP; where the user's own telemetry went over HTTP it is forwarded
//! there, and where agentprof could not forward it (gRPC, Google Cloud, a file) it is left
//! alone and the user told. No settings file is written.
//!
//! Only API-key auth (`gemini-api-key`, and the `gateway` type the base URL selects on its own)
//! goes to the base URL; a Google login or Vertex AI bypass it. And from 0.44 on, Gemini CLI run
//! headless with no auth type saved refuses the `gateway` type that `GOOGLE_GEMINI_BASE_URL`
//! then selects ("Invalid auth method selected.", exit 41), though the same run without the base
//! URL works. agentprof cannot select the type without writing a settings file (system-wide
//! defaults are only read from root-owned files), so it says what to add before the run.

pub mod history;
mod settings;
pub mod telemetry;

use std::collections::HashMap;

use settings::{GeminiSettings, Locations};

use super::{Agent, Endpoints, program_name};
use crate::capture::telemetry::ForwardTarget;

pub struct GeminiCli;

impl Agent for GeminiCli {
    fn name(&self) -> &'static str {
        "gemini-cli"
    }

    fn rule_prefix(&self) -> Option<&'static str> {
        Some("gemini-")
    }

    fn install_hint(&self) -> Option<&'static str> {
        Some("npm install -g @google/gemini-cli")
    }

    fn is_program(&self, program: &str) -> bool {
        program_name(program) == "gemini"
    }

    fn env(&self, endpoints: &Endpoints) -> Vec<(String, String)> {
        environment(endpoints, &users_settings())
    }

    fn notes(&self, endpoints: &Endpoints, _args: &[String]) -> Vec<String> {
        let env: HashMap<String, String> = std::env::vars().collect();
        notes(endpoints, &users_settings(), &env)
    }

    fn users_telemetry(&self) -> Option<ForwardTarget> {
        let endpoint = users_settings().telemetry.forwardable()?.ok()?;
        ForwardTarget::from_env(&HashMap::from([(
            "OTEL_EXPORTER_OTLP_ENDPOINT".to_string(),
            endpoint,
        )]))
    }
}

/// The user's Gemini CLI settings for a run started here.
fn users_settings() -> GeminiSettings {
    let env: HashMap<String, String> = std::env::vars().collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    Locations::of(&env, &cwd)
        .map(|at| GeminiSettings::read(&at, &env))
        .unwrap_or_default()
}

/// The variables pointing Gemini CLI at agentprof.
fn environment(endpoints: &Endpoints, settings: &GeminiSettings) -> Vec<(String, String)> {
    let mut env = vec![(
        "GOOGLE_GEMINI_BASE_URL".to_string(),
        endpoints.gemini_base_url.clone(),
    )];
    let Some(receiver) = &endpoints.telemetry else {
        return env;
    };
    let users = settings.telemetry.forwardable();
    if let Some(Err(_)) = users {
        // Redirecting it would cut the user's own pipeline off; `notes` says so.
        return env;
    }
    env.extend(
        [
            ("GEMINI_TELEMETRY_ENABLED", "true"),
            ("GEMINI_TELEMETRY_TARGET", "local"),
            ("GEMINI_TELEMETRY_OTLP_PROTOCOL", "http"),
            ("GEMINI_TELEMETRY_OTLP_ENDPOINT", receiver.as_str()),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    if users.is_none() {
        // Gemini CLI logs every prompt and response in full by default; agentprof reads none of
        // it, and keeps it out of its receiver unless the user's own pipeline wants it.
        env.push((
            "GEMINI_TELEMETRY_LOG_PROMPTS".to_string(),
            "false".to_string(),
        ));
    }
    env
}

/// What the user should know before the run: an auth type that bypasses the proxy (or none
/// saved, which headless runs refuse), and telemetry agentprof left alone.
fn notes(
    endpoints: &Endpoints,
    settings: &GeminiSettings,
    env: &HashMap<String, String>,
) -> Vec<String> {
    let mut notes = Vec::new();
    let set = |k: &str| env.get(k).is_some_and(|v| v == "true");
    match &settings.selected_auth {
        Some((kind, _)) if kind == "gemini-api-key" || kind == "gateway" => {}
        Some((kind, file)) if kind == "vertex-ai" => notes.push(format!(
            "Gemini CLI is set to use Vertex AI (security.auth.selectedType in {}), which reads \
             GOOGLE_VERTEX_BASE_URL, not the Gemini API base URL agentprof sets: its calls are \
             not measured",
            file.display()
        )),
        Some((kind, file)) => notes.push(format!(
            "Gemini CLI is set to sign in with {kind:?} (security.auth.selectedType in {}), whose \
             calls go to Google's Code Assist service, not to the Gemini API base URL agentprof \
             sets: they are not measured. Measure an API-key run instead: set selectedType to \
             \"gemini-api-key\" and GEMINI_API_KEY",
            file.display()
        )),
        None if set("GOOGLE_GENAI_USE_GCA") || set("GOOGLE_GENAI_USE_VERTEXAI") => {
            notes.push(
                "Gemini CLI is set (GOOGLE_GENAI_USE_GCA or GOOGLE_GENAI_USE_VERTEXAI) to sign in \
                 with Google or use Vertex AI, which bypass the Gemini API base URL agentprof \
                 sets: its calls are not measured"
                    .to_string(),
            );
        }
        None => notes.push(format!(
            "Gemini CLI has no auth type saved. With GOOGLE_GEMINI_BASE_URL set (agentprof sets \
             it to {}), Gemini CLI 0.44 and later refuse to run headless (\"Invalid auth method \
             selected.\", exit 41) and ask interactively. Add \
             {{\"security\":{{\"auth\":{{\"selectedType\":\"gemini-api-key\"}}}}}} to {} \
             (what its own \"Use Gemini API Key\" choice saves), with your key in \
             GEMINI_API_KEY",
            endpoints.gemini_base_url,
            settings.user_file.display()
        )),
    }
    if let (Some(_), Some(Err(why))) = (&endpoints.telemetry, settings.telemetry.forwardable()) {
        notes.push(format!(
            "Gemini CLI's telemetry is on and {why}: left as it is, so its roles are not joined \
             to the calls this run (built-in rules classify them)"
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::settings::Telemetry;
    use super::*;

    fn endpoints(telemetry: bool) -> Endpoints {
        Endpoints {
            anthropic_base_url: "http://127.0.0.1:4000".into(),
            openai_base_url: "http://127.0.0.1:4000/openai/v1".into(),
            gemini_base_url: "http://127.0.0.1:4000/gemini".into(),
            telemetry: telemetry.then(|| "http://127.0.0.1:4001".into()),
        }
    }

    fn api_key() -> GeminiSettings {
        GeminiSettings {
            selected_auth: Some(("gemini-api-key".into(), "/h/.gemini/settings.json".into())),
            telemetry: Telemetry::default(),
            user_file: "/h/.gemini/settings.json".into(),
        }
    }

    fn as_map(env: Vec<(String, String)>) -> HashMap<String, String> {
        env.into_iter().collect()
    }

    #[test]
    fn the_base_url_and_telemetry_point_at_agentprof_and_prompts_stay_out() {
        let env = as_map(environment(&endpoints(true), &api_key()));
        assert_eq!(
            env["GOOGLE_GEMINI_BASE_URL"],
            "http://127.0.0.1:4000/gemini"
        );
        assert_eq!(env["GEMINI_TELEMETRY_ENABLED"], "true");
        assert_eq!(env["GEMINI_TELEMETRY_OTLP_PROTOCOL"], "http");
        assert_eq!(
            env["GEMINI_TELEMETRY_OTLP_ENDPOINT"],
            "http://127.0.0.1:4001"
        );
        assert_eq!(env["GEMINI_TELEMETRY_LOG_PROMPTS"], "false");
        let env = as_map(environment(&endpoints(false), &api_key()));
        assert_eq!(env.len(), 1, "{env:?}");
        assert!(notes(&endpoints(true), &api_key(), &HashMap::new()).is_empty());
    }

    #[test]
    fn a_users_http_telemetry_is_redirected_and_forwarded_with_its_prompts() {
        let mut settings = api_key();
        settings.telemetry = Telemetry {
            enabled: true,
            otlp_endpoint: Some("http://collector:4318".into()),
            otlp_protocol: Some("http".into()),
            ..Telemetry::default()
        };
        let env = as_map(environment(&endpoints(true), &settings));
        assert_eq!(
            env["GEMINI_TELEMETRY_OTLP_ENDPOINT"],
            "http://127.0.0.1:4001"
        );
        assert!(!env.contains_key("GEMINI_TELEMETRY_LOG_PROMPTS"));
        assert!(notes(&endpoints(true), &settings, &HashMap::new()).is_empty());
    }

    #[test]
    fn telemetry_agentprof_cannot_forward_is_left_alone_and_said() {
        let mut settings = api_key();
        settings.telemetry = Telemetry {
            enabled: true,
            ..Telemetry::default()
        };
        let env = as_map(environment(&endpoints(true), &settings));
        assert!(!env.contains_key("GEMINI_TELEMETRY_ENABLED"), "{env:?}");
        let notes = notes(&endpoints(true), &settings, &HashMap::new());
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("OTLP/gRPC"), "{notes:?}");
    }

    #[test]
    fn auth_types_that_bypass_the_base_url_or_none_saved_are_said() {
        let with = |kind: Option<&str>| GeminiSettings {
            selected_auth: kind.map(|k| (k.to_string(), "/h/.gemini/settings.json".into())),
            telemetry: Telemetry::default(),
            user_file: "/h/.gemini/settings.json".into(),
        };
        let one = |settings: GeminiSettings, env: &[(&str, &str)]| {
            let env = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let notes = notes(&endpoints(false), &settings, &env);
            assert_eq!(notes.len(), 1, "{notes:?}");
            notes[0].clone()
        };
        assert!(one(with(Some("oauth-personal")), &[]).contains("Code Assist"));
        assert!(one(with(Some("vertex-ai")), &[]).contains("GOOGLE_VERTEX_BASE_URL"));
        let none = one(with(None), &[]);
        assert!(none.contains("exit 41") && none.contains("\"selectedType\":\"gemini-api-key\""));
        assert!(none.contains("to /h/.gemini/settings.json"), "{none}");
        assert!(one(with(None), &[("GOOGLE_GENAI_USE_GCA", "true")]).contains("bypass"));
        assert!(notes(&endpoints(false), &with(Some("gateway")), &HashMap::new()).is_empty());
    }

    #[test]
    fn gemini_is_recognised_by_its_program_name() {
        assert!(GeminiCli.is_program("/usr/local/bin/gemini"));
        assert!(!GeminiCli.is_program("gemini-cli"));
    }
}
