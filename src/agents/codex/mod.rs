//! Codex CLI (npm `@openai/codex`).
//!
//! Codex no longer reads `OPENAI_BASE_URL` (openai/codex#16720). Its built-in `openai` provider
//! takes its base URL from the `openai_base_url` setting, which a `-c` override sets for this
//! run only: agentprof puts `-c openai_base_url="<proxy>/openai/v1"` before the user's
//! arguments (`codex -c … exec …` applies it to every subcommand). The user's `config.toml`,
//! provider and login are left as they are.

use super::{Agent, Endpoints, program_name};

pub struct Codex;

impl Agent for Codex {
    fn name(&self) -> &'static str {
        "codex"
    }

    fn env(&self, _endpoints: &Endpoints) -> Vec<(String, String)> {
        Vec::new()
    }

    fn is_program(&self, program: &str) -> bool {
        program_name(program) == "codex"
    }

    fn args(&self, endpoints: &Endpoints, args: &[String]) -> Vec<String> {
        let mut out = vec![
            "-c".to_string(),
            format!(
                "openai_base_url={}",
                toml_string(&endpoints.openai_base_url)
            ),
        ];
        out.extend_from_slice(args);
        out
    }
}

/// `value` as a TOML basic string (Codex parses `-c` values as TOML).
fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codex_gets_its_base_url_as_a_config_override_before_the_users_arguments() {
        let endpoints = Endpoints {
            anthropic_base_url: "http://127.0.0.1:4000".into(),
            openai_base_url: "http://127.0.0.1:4000/openai/v1".into(),
            telemetry: None,
        };
        let user = vec!["exec".to_string(), "fix the test".to_string()];
        let launch = super::super::launch("/opt/bin/codex", &user, &endpoints);
        assert_eq!(launch.agent, Some("codex"));
        assert_eq!(
            launch.args,
            [
                "-c",
                "openai_base_url=\"http://127.0.0.1:4000/openai/v1\"",
                "exec",
                "fix the test"
            ]
        );
        assert!(!Codex.is_program("codex-wrapper.sh"));
    }

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_string("x\ny"), r#""x\u000Ay""#);
    }
}
