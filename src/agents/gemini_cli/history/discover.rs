//! Finding chat files: `<home>/.gemini/tmp/<project>/chats/`, where `<project>` is a short
//! slug (`projects.json`, 0.61.0) or the sha256 of the project root (older versions) — every
//! project directory with a `chats/` is read, whatever its name, and named by its project
//! root where Gemini CLI's files say it ([`projects`](super::projects)). Main sessions are
//! `session-*.jsonl` (older: `session-*.json`), sub-agents `<parentSessionId>/<id>.jsonl`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::projects;

/// Why no history could be read at all.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error(
        "no Gemini CLI directory: set GEMINI_CLI_HOME, or give the directory (HOME is not set)"
    )]
    NoHome,
    #[error(
        "{path}: not a Gemini CLI directory (looked for <project>/chats/ under {path}/.gemini/tmp, {path}/tmp and {path}; a Gemini home is $GEMINI_CLI_HOME, else ~)"
    )]
    NotFound { path: PathBuf },
}

/// One chat file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatFile {
    pub path: PathBuf,
    pub size: u64,
    /// A whole-object `.json` session (versions before JSONL).
    pub legacy: bool,
    /// The directory between `chats/` and the file: a sub-agent's parent session id.
    pub parent: Option<String>,
    /// The project: the root of its project directory, else that directory's name.
    pub project: Arc<str>,
}

/// What discovery found.
#[derive(Debug, Default)]
pub struct Found {
    /// The directory given (or the default home).
    pub root: PathBuf,
    /// In path order (deterministic reports).
    pub files: Vec<ChatFile>,
    /// Paths that could not be listed or stat'ed, with why.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Project directories holding a `chats/`.
    pub projects: u64,
    /// Of those, the ones no file maps to a root (named by their own name).
    pub unmapped_projects: u64,
    /// Why `projects.json` could not be read, when it is there but unreadable.
    pub registry_error: Option<String>,
}

/// The Gemini home: the one given, else `$GEMINI_CLI_HOME`, else `~`.
pub fn gemini_home(given: Option<&Path>) -> Result<PathBuf, DiscoverError> {
    if let Some(dir) = given {
        return Ok(dir.to_path_buf());
    }
    for var in ["GEMINI_CLI_HOME", "HOME"] {
        if let Some(dir) = std::env::var_os(var).filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
    }
    Err(DiscoverError::NoHome)
}

/// Lists every chat file below `dir`: a Gemini home, its `.gemini`, or its `tmp`.
pub fn discover(dir: &Path) -> Result<Found, DiscoverError> {
    let tmp = [dir.join(".gemini/tmp"), dir.join("tmp"), dir.to_path_buf()]
        .into_iter()
        .find(|tmp| has_projects(tmp))
        .ok_or_else(|| DiscoverError::NotFound {
            path: dir.to_path_buf(),
        })?;
    let mut found = Found {
        root: dir.to_path_buf(),
        ..Found::default()
    };
    let dirs: Vec<PathBuf> = list(&tmp, &mut found.unreadable)
        .into_iter()
        .filter(|project| project.join("chats").is_dir())
        .collect();
    let named = projects::name(&tmp, &dirs);
    found.projects = dirs.len() as u64;
    found.unmapped_projects = named.unmapped;
    found.registry_error = named.registry_error;
    for (dir, project) in dirs.iter().zip(named.names) {
        chats_in(&dir.join("chats"), &project, &mut found);
    }
    found.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

fn has_projects(tmp: &Path) -> bool {
    std::fs::read_dir(tmp).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| entry.path().join("chats").is_dir())
    })
}

/// The entries of `dir`; what cannot be listed is noted.
fn list(dir: &Path, unreadable: &mut Vec<(PathBuf, String)>) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| match entry {
                Ok(entry) => Some(entry.path()),
                Err(err) => {
                    unreadable.push((dir.to_path_buf(), err.to_string()));
                    None
                }
            })
            .collect(),
        Err(err) => {
            unreadable.push((dir.to_path_buf(), err.to_string()));
            Vec::new()
        }
    }
}

/// The files of one `chats/` directory and of its sub-agent directories, all of `project`.
fn chats_in(chats: &Path, project: &Arc<str>, found: &mut Found) {
    for path in list(chats, &mut found.unreadable) {
        // `metadata` follows symlinks: a dangling link named like a chat file is unreadable.
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                let parent = path.file_name().map(|n| n.to_string_lossy().into_owned());
                for file in list(&path, &mut found.unreadable) {
                    add(file, parent.clone(), project, found);
                }
            }
            Ok(_) => add(path, None, project, found),
            Err(err) => {
                if chat_name(&path).is_some() {
                    found.unreadable.push((path, err.to_string()));
                }
            }
        }
    }
}

fn add(path: PathBuf, parent: Option<String>, project: &Arc<str>, found: &mut Found) {
    let Some(legacy) = chat_name(&path) else {
        return;
    };
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => found.files.push(ChatFile {
            path,
            size: meta.len(),
            legacy,
            parent,
            project: Arc::clone(project),
        }),
        Ok(_) => {}
        Err(err) => found.unreadable.push((path, err.to_string())),
    }
}

/// `Some(legacy)` for a chat file: `*.jsonl`, or a legacy `session-*.json`.
fn chat_name(path: &Path) -> Option<bool> {
    let name = path.file_name()?.to_str()?;
    if name.ends_with(".jsonl") {
        Some(false)
    } else if name.starts_with("session-") && name.ends_with(".json") {
        Some(true)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_project_layouts_sub_agents_and_legacy_files_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join(".gemini/tmp");
        let slug = tmp.join("proj/chats");
        let hash = tmp.join(format!("{}/chats", "ab".repeat(32)));
        std::fs::create_dir_all(slug.join("parent-id")).unwrap();
        std::fs::create_dir_all(&hash).unwrap();
        std::fs::create_dir_all(tmp.join("bin")).unwrap();
        std::fs::write(slug.join("session-2026-12-07T02-28-0857fb17.jsonl"), "{}\n").unwrap();
        std::fs::write(slug.join("parent-id/child-id.jsonl"), "{}\n").unwrap();
        std::fs::write(slug.join("session-x.jsonl.unreadable-1"), "x").unwrap();
        std::fs::write(hash.join("session-2025-01-01T00-00-aaaa.json"), "{}").unwrap();
        std::fs::write(hash.join("notes.json"), "{}").unwrap();
        for given in [dir.path().to_path_buf(), dir.path().join(".gemini"), tmp] {
            let found = discover(&given).unwrap();
            let files: Vec<(String, bool, Option<&str>)> = found
                .files
                .iter()
                .map(|f| {
                    let name = f.path.file_name().unwrap().to_string_lossy().into_owned();
                    (name, f.legacy, f.parent.as_deref())
                })
                .collect();
            assert_eq!(found.projects, 2);
            assert_eq!(
                files,
                [
                    ("session-2025-01-01T00-00-aaaa.json".into(), true, None),
                    ("child-id.jsonl".into(), false, Some("parent-id")),
                    (
                        "session-2026-12-07T02-28-0857fb17.jsonl".into(),
                        false,
                        None
                    ),
                ]
            );
        }
    }

    #[test]
    fn every_file_of_a_project_directory_is_of_its_project() {
        let dir = tempfile::tempdir().unwrap();
        let gemini = dir.path().join(".gemini");
        let slug = gemini.join("tmp/app/chats");
        let old = gemini.join(format!("tmp/{}/chats", "cd".repeat(32)));
        std::fs::create_dir_all(slug.join("parent-id")).unwrap();
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(
            gemini.join("projects.json"),
            r#"{"projects":{"/u/app":"app"}}"#,
        )
        .unwrap();
        std::fs::write(slug.join("session-1.jsonl"), "{}\n").unwrap();
        std::fs::write(slug.join("parent-id/child-id.jsonl"), "{}\n").unwrap();
        std::fs::write(old.join("session-2.json"), "{}").unwrap();
        let found = discover(dir.path()).unwrap();
        let projects: Vec<(String, &str)> = found
            .files
            .iter()
            .map(|f| {
                let name = f.path.file_name().unwrap().to_string_lossy().into_owned();
                (name, &*f.project)
            })
            .collect();
        let old_name = "cd".repeat(32);
        assert_eq!(
            projects,
            [
                ("child-id.jsonl".into(), "/u/app"),
                ("session-1.jsonl".into(), "/u/app"),
                ("session-2.json".into(), old_name.as_str()),
            ]
        );
        assert_eq!((found.projects, found.unmapped_projects), (2, 1));
    }

    #[test]
    fn a_directory_without_chats_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = discover(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        assert!(err.contains("GEMINI_CLI_HOME"), "{err}");
    }
}
