//! The Claude Code versions under test: the oldest agentprof claims and the newest on npm, both
//! pinned in `tests/agents/package.json` (npm aliases `claude-code-oldest`, `claude-code-newest`;
//! change them with `scripts/pin-agent`) and installed by `scripts/test`.

use std::path::PathBuf;
use std::process::Command;

/// One pinned Claude Code.
#[derive(Debug, Clone)]
pub struct ClaudeCode {
    /// `oldest` or `newest`.
    pub pin: &'static str,
    /// The version npm installed, from its package.json.
    pub version: String,
    /// The `claude` executable.
    pub bin: PathBuf,
}

pub const OLDEST: &str = "oldest";
pub const NEWEST: &str = "newest";

/// The pinned Claude Code `pin` (`oldest` or `newest`), checked to be what it says it is.
pub fn claude_code(pin: &'static str) -> ClaudeCode {
    let (dir, package) =
        crate::agents::pinned_package(&format!("claude-code-{pin}"), "@anthropic-ai/claude-code");
    let version = crate::agents::version(&package);
    let bin = match &package["bin"] {
        serde_json::Value::String(path) => path.clone(),
        bin => bin["claude"].as_str().unwrap().to_string(),
    };
    let bin = dir.join(bin);
    let output = Command::new(&bin).arg("--version").output().unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.starts_with(&version),
        "{} --version printed {printed:?}, the package says {version}",
        bin.display()
    );
    ClaudeCode { pin, version, bin }
}

/// The README names both pinned versions (so a new pin cannot land without saying so).
#[test]
fn readme_names_the_pinned_claude_code_versions() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    for pin in [OLDEST, NEWEST] {
        let cc = claude_code(pin);
        assert!(
            readme.contains(&cc.version),
            "README.md does not name Claude Code {} (the {pin} pinned version)",
            cc.version
        );
    }
}
