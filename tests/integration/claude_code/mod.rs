//! The real Claude Code under `agentprof run`, against the mock upstream scripted to steer it,
//! at the oldest version agentprof claims and the newest on npm (`versions`). Every scenario runs
//! on both: headless with a sub-agent (`headless`), and interactive in tmux with several prompts,
//! `/compact` and `/exit` (`interactive`). Per category, calls and tokens must equal the
//! upstream's record exactly (each call's category from Claude Code's own telemetry, `truth`),
//! turns must equal the prompts typed, and every call must have a price.

mod headless;
mod interactive;
mod truth;
mod versions;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The API key the agent is given: it must never appear in any output.
pub const KEY: &str = "sk-ant-test-SECRETKEY-claudecode-0123456789";

/// A file of `tests/agents/claude-code/` (mock scripts).
pub fn script_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/agents/claude-code")
        .join(name)
}

/// A HOME where Claude Code starts offline: onboarding done, the API key from the environment
/// approved, and `trusted` working directories accepted.
pub fn claude_home(trusted: &[&Path]) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let projects: serde_json::Map<String, serde_json::Value> = trusted
        .iter()
        .map(|dir| {
            (
                dir.display().to_string(),
                serde_json::json!({"hasTrustDialogAccepted": true, "hasCompletedProjectOnboarding": true}),
            )
        })
        .collect();
    let config = serde_json::json!({
        "hasCompletedOnboarding": true,
        "numStartups": 1,
        // 2.1.33x behind a gateway shows an auto-mode billing notice once a day; acknowledged
        // (a time far ahead, in ms) it stays hidden.
        "autoModeClassifierBillingNoticeAcknowledgedAt": 4_102_444_800_000_u64,
        "customApiKeyResponses": {"approved": [&KEY[KEY.len() - 20..]], "rejected": []},
        "projects": projects,
    });
    std::fs::write(home.path().join(".claude.json"), config.to_string()).unwrap();
    home
}

/// The environment of a Claude Code run: its own HOME, the test key, no auto-update.
pub fn claude_env(command: &mut Command, home: &Path) {
    command
        .env("HOME", home)
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("ANTHROPIC_BASE_URL")
        .env_remove("ANTHROPIC_MODEL")
        .env("ANTHROPIC_API_KEY", KEY)
        .env("DISABLE_AUTOUPDATER", "1");
}
