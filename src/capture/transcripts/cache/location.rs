//! Where an import's cache lives: `$AGENTPROF_CACHE_DIR`, else `$XDG_CACHE_HOME/agentprof`, else
//! `~/.cache/agentprof`; inside it one file per agent and history,
//! `history-v1/<agent>-<hash of the canonical history root>.bin`, so two histories (or two
//! users' `CLAUDE_CONFIG_DIR`s) never share one and a history reached by another path (a
//! symlink, a relative path) finds its own.

use std::path::{Path, PathBuf};

/// The directory `import` caches in by default; `None` when no home is known.
pub fn default_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("AGENTPROF_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    // The XDG spec ignores a relative XDG_CACHE_HOME.
    if let Some(dir) = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
    {
        return Some(dir.join("agentprof"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache/agentprof"))
}

/// The cache file of `agent`'s history rooted at `root`, in `dir`.
pub fn cache_file(dir: &Path, agent: &str, root: &Path) -> PathBuf {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let hash = twox_hash::XxHash3_64::oneshot(root.as_os_str().as_encoded_bytes());
    dir.join("history-v1")
        .join(format!("{agent}-{hash:016x}.bin"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_per_agent_and_canonical_root() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::create_dir(&a).unwrap();
        std::os::unix::fs::symlink(&a, dir.path().join("link")).unwrap();
        let cache = Path::new("/c");
        let file = cache_file(cache, "claude-code", &a);
        assert!(file.starts_with("/c/history-v1"), "{}", file.display());
        assert!(file.to_string_lossy().ends_with(".bin"));
        assert_eq!(
            cache_file(cache, "claude-code", &dir.path().join("link")),
            file
        );
        assert_eq!(cache_file(cache, "claude-code", &a.join("../a")), file);
        assert_ne!(cache_file(cache, "codex", &a), file);
        assert_ne!(cache_file(cache, "claude-code", dir.path()), file);
    }
}
