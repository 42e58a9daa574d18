//! Where the user's own opencode config points its providers, read (never written) so `run` can
//! say where those calls would have gone.
//!
//! opencode reads, lowest first: `$XDG_CONFIG_HOME/opencode/{config.json, opencode.json,
//! opencode.jsonc}` (default `~/.config`), the file `OPENCODE_CONFIG` names, and the project's
//! `opencode.json[c]` from the working directory up (JSON with comments).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::agents::jsonc::parse_jsonc;

/// The files opencode would read for a run started in `cwd`, lowest precedence first.
fn config_files(env: &HashMap<String, String>, cwd: &Path) -> Vec<PathBuf> {
    let var = |k: &str| {
        env.get(k)
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
    };
    let mut files = Vec::new();
    if let Some(config) = var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|h| h.join(".config")))
    {
        let dir = config.join("opencode");
        files.extend(["config.json", "opencode.json", "opencode.jsonc"].map(|f| dir.join(f)));
    }
    files.extend(var("OPENCODE_CONFIG"));
    let mut project: Vec<PathBuf> = cwd
        .ancestors()
        .flat_map(|d| [d.join("opencode.json"), d.join("opencode.jsonc")])
        .collect();
    // Nearer directories win: they come last.
    project.reverse();
    files.extend(project);
    files
}

/// `(provider, baseURL, file)` for each of `anthropic` and `openai` whose base URL the user's
/// config sets (the last file to set it, as opencode merges them).
pub(super) fn users_base_urls(
    env: &HashMap<String, String>,
    cwd: &Path,
) -> Vec<(String, String, PathBuf)> {
    let mut found: HashMap<&str, (String, PathBuf)> = HashMap::new();
    for file in config_files(env, cwd) {
        let Some(config) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| parse_jsonc(&t))
        else {
            continue;
        };
        for provider in ["anthropic", "openai"] {
            if let Some(url) = config
                .pointer(&format!("/provider/{provider}/options/baseURL"))
                .and_then(Value::as_str)
            {
                found.insert(provider, (url.to_string(), file.clone()));
            }
        }
    }
    let mut out: Vec<_> = found
        .into_iter()
        .map(|(p, (url, file))| (p.to_string(), url, file))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_file_that_sets_a_base_url_wins() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let project = dir.path().join("work/proj");
        std::fs::create_dir_all(home.join(".config/opencode")).unwrap();
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(
            home.join(".config/opencode/opencode.json"),
            r#"{ // mine
              "provider": {"anthropic": {"options": {"baseURL": "https://gw.example/v1"}},
                           "openai": {"options": {"baseURL": "https://oai.example/v1"}}}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("work/opencode.json"),
            r#"{"provider": {"anthropic": {"options": {"baseURL": "https://team.example/v1"}}}}"#,
        )
        .unwrap();
        let env = HashMap::from([("HOME".to_string(), home.display().to_string())]);
        let urls = users_base_urls(&env, &project);
        assert_eq!(
            urls,
            vec![
                (
                    "anthropic".to_string(),
                    "https://team.example/v1".to_string(),
                    dir.path().join("work/opencode.json")
                ),
                (
                    "openai".to_string(),
                    "https://oai.example/v1".to_string(),
                    home.join(".config/opencode/opencode.json")
                ),
            ]
        );
        assert!(users_base_urls(&HashMap::new(), Path::new("/nonexistent")).is_empty());
    }
}
