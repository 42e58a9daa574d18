//! Which model provider a Codex run uses, as far as agentprof's override reaches.
//!
//! `openai_base_url` redirects only Codex's built-in `openai` provider. A user whose
//! `config.toml` (or a `-c model_provider=…` of their own) selects another provider — a
//! gateway, Azure, a local model — keeps talking to it directly, and agentprof would measure
//! nothing. That is said plainly before the run, with what to change, rather than left to a
//! report with no calls.

/// The provider id `config` (the user's `config.toml`) and the user's own arguments select,
/// when it is not the built-in `openai`. Later `-c` overrides win over the file, as in Codex.
pub(super) fn other_provider(config: Option<&str>, args: &[String]) -> Option<String> {
    let from_args = args
        .windows(2)
        .filter(|pair| pair[0] == "-c" || pair[0] == "--config")
        .filter_map(|pair| pair[1].strip_prefix("model_provider="))
        .map(|value| value.trim().trim_matches('"').to_string())
        .next_back();
    let from_file = || {
        let table: toml::Table = config?.parse().ok()?;
        table.get("model_provider")?.as_str().map(str::to_string)
    };
    from_args
        .or_else(from_file)
        .filter(|provider| provider != "openai")
}

/// Whether the user's arguments set `provider`'s base URL themselves (pointing it at the
/// proxy, as the note before the run suggests).
pub(super) fn base_url_given(provider: &str, args: &[String]) -> bool {
    let key = format!("model_providers.{provider}.base_url=");
    args.iter().any(|arg| arg.starts_with(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_provider_other_than_openai_is_found_in_the_file_or_the_arguments() {
        assert_eq!(other_provider(None, &args(&["exec", "hi"])), None);
        assert_eq!(other_provider(Some("model = \"x\"\n"), &[]), None);
        assert_eq!(
            other_provider(Some("model_provider = \"openai\"\n"), &[]),
            None
        );
        assert_eq!(
            other_provider(Some("model_provider = \"azure\"\n"), &[]).as_deref(),
            Some("azure")
        );
        // The user's own -c wins over the file, either way.
        assert_eq!(
            other_provider(
                Some("model_provider = \"azure\"\n"),
                &args(&["-c", "model_provider=openai", "exec"])
            ),
            None
        );
        assert_eq!(
            other_provider(None, &args(&["exec", "-c", "model_provider=\"ollama\""])).as_deref(),
            Some("ollama")
        );
        assert_eq!(other_provider(Some("not [toml"), &[]), None);
    }

    #[test]
    fn a_base_url_the_user_set_is_seen() {
        let given = args(&[
            "-c",
            "model_providers.gw.base_url=\"http://127.0.0.1:4000/openai/v1\"",
        ]);
        assert!(base_url_given("gw", &given));
        assert!(!base_url_given("other", &given));
    }
}
