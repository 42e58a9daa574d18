//! Finding rollouts: `sessions/YYYY/MM/DD/rollout-*.jsonl` and `archived_sessions/`, plain or
//! zstd-compressed (`.jsonl.zst`, Codex compresses cold archived rollouts).

use std::path::{Path, PathBuf};

/// Where Codex keeps live and archived rollouts below its home.
pub const SUBDIRS: [&str; 2] = ["sessions", "archived_sessions"];

/// Why no history could be read at all.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("no Codex directory: set CODEX_HOME, or give the directory (HOME is not set)")]
    NoHome,
    #[error(
        "{path}: not a Codex directory (looked for rollout-*.jsonl[.zst] under {path}/sessions and {path}/archived_sessions)"
    )]
    NotFound { path: PathBuf },
}

/// One rollout file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutFile {
    pub path: PathBuf,
    pub size: u64,
    pub compressed: bool,
    pub archived: bool,
}

/// What discovery found.
#[derive(Debug, Default)]
pub struct Found {
    pub root: PathBuf,
    /// In path order (deterministic reports).
    pub files: Vec<RolloutFile>,
    /// Paths that could not be listed or stat'ed, with why.
    pub unreadable: Vec<(PathBuf, String)>,
    /// `.zst` rollouts skipped because their plain sibling is there.
    pub skipped_compressed: u64,
}

/// The Codex directory: the one given, else `$CODEX_HOME`, else `~/.codex`.
pub fn codex_home(given: Option<&Path>) -> Result<PathBuf, DiscoverError> {
    if let Some(dir) = given {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("CODEX_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or(DiscoverError::NoHome)?;
    Ok(PathBuf::from(home).join(".codex"))
}

/// Lists every rollout below `dir` (a Codex home, or its `sessions` directory itself).
pub fn discover(dir: &Path) -> Result<Found, DiscoverError> {
    let roots: Vec<(PathBuf, bool)> = SUBDIRS
        .iter()
        .map(|sub| (dir.join(sub), *sub == "archived_sessions"))
        .filter(|(path, _)| path.is_dir())
        .collect();
    // A `sessions` directory given directly is read as it is.
    let roots = if roots.is_empty() && dir.is_dir() && has_rollouts(dir) {
        vec![(dir.to_path_buf(), false)]
    } else {
        roots
    };
    if roots.is_empty() {
        return Err(DiscoverError::NotFound {
            path: dir.to_path_buf(),
        });
    }
    let mut found = Found {
        root: dir.to_path_buf(),
        ..Found::default()
    };
    for (root, archived) in roots {
        walk(&root, archived, &mut found);
    }
    found.files.sort_by(|a, b| a.path.cmp(&b.path));
    let plain: std::collections::HashSet<PathBuf> = found
        .files
        .iter()
        .filter(|f| !f.compressed)
        .map(|f| f.path.clone())
        .collect();
    let before = found.files.len();
    // Codex reads the plain file when both exist (compression.rs, should_skip_compressed_sibling):
    // the `.zst` is the same rollout, and counting both would count it twice.
    found
        .files
        .retain(|f| !f.compressed || !plain.contains(&f.path.with_extension("")));
    found.skipped_compressed = (before - found.files.len()) as u64;
    Ok(found)
}

fn has_rollouts(dir: &Path) -> bool {
    let mut probe = Found::default();
    walk(dir, false, &mut probe);
    !probe.files.is_empty()
}

/// Depth-first; directories and files that cannot be read are noted, never fatal.
fn walk(dir: &Path, archived: bool, found: &mut Found) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            found.unreadable.push((dir.to_path_buf(), err.to_string()));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                found.unreadable.push((dir.to_path_buf(), err.to_string()));
                continue;
            }
        };
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // `metadata` follows symlinks: a dangling link named like a rollout is unreadable.
        let meta = std::fs::metadata(&path);
        match meta {
            Ok(meta) if meta.is_dir() => walk(&path, archived, found),
            Ok(meta) => {
                if let Some(compressed) = rollout_name(&name) {
                    found.files.push(RolloutFile {
                        path,
                        size: meta.len(),
                        compressed,
                        archived,
                    });
                }
            }
            Err(err) => {
                if rollout_name(&name).is_some() {
                    found.unreadable.push((path, err.to_string()));
                }
            }
        }
    }
}

/// `Some(compressed)` for `rollout-*.jsonl` and `rollout-*.jsonl.zst`.
fn rollout_name(name: &str) -> Option<bool> {
    if !name.starts_with("rollout-") {
        return None;
    }
    if name.ends_with(".jsonl") {
        Some(false)
    } else if name.ends_with(".jsonl.zst") {
        Some(true)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollout_names_plain_and_compressed() {
        assert_eq!(
            rollout_name("rollout-2026-01-01T00-00-00-x.jsonl"),
            Some(false)
        );
        assert_eq!(rollout_name("rollout-x.jsonl.zst"), Some(true));
        assert_eq!(rollout_name("history.jsonl"), None);
        assert_eq!(rollout_name("rollout-x.json"), None);
    }

    #[test]
    fn a_compressed_sibling_of_a_plain_rollout_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir.path().join("sessions/2026/01/02");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(day.join("rollout-a.jsonl"), "{}\n").unwrap();
        std::fs::write(day.join("rollout-a.jsonl.zst"), "x").unwrap();
        std::fs::write(day.join("rollout-b.jsonl.zst"), "x").unwrap();
        let found = discover(dir.path()).unwrap();
        let names: Vec<_> = found
            .files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["rollout-a.jsonl", "rollout-b.jsonl.zst"]);
        assert_eq!(found.skipped_compressed, 1);
    }

    #[test]
    fn a_directory_without_rollouts_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = discover(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        assert!(err.contains("sessions"), "{err}");
    }
}
