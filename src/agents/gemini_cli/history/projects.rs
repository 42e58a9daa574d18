//! The project of a project directory `<home>/.gemini/tmp/<dir>/`: the root Gemini CLI ran in,
//! where its files say it (0.61.0: `config/projectRegistry.ts`, `config/storage.ts`), else
//! the directory's name.
//!
//! - A slug directory (`proj-a`, `app-1`) holds `.project_root`: the root that owns the slug,
//!   the marker the registry checks ownership with.
//! - `<home>/.gemini/projects.json` maps roots to slugs: `{"projects": {"<root>": "<slug>"}}`.
//! - A directory named by the sha256 of its root (`getProjectHash`, older versions) names no
//!   root, but a known root (the registry's, or a marker's) may hash to it: the migration to
//!   slugs *copies* the old directory and leaves it in place, so both hold the same chats.
//!
//! A missing or unreadable `projects.json` or marker is no error: the directory's name stands
//! for the project, and the report says how many directories were named so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

/// The file in a slug directory naming the root that owns it.
const MARKER: &str = ".project_root";

/// The projects of some project directories.
#[derive(Debug, Default)]
pub struct Projects {
    /// One per directory given, in that order: the root, else the directory's name.
    pub names: Vec<Arc<str>>,
    /// Directories named by their own name: no marker, registry entry or matching hash.
    pub unmapped: u64,
    /// Why `projects.json` could not be read, when it is there but unreadable.
    pub registry_error: Option<String>,
}

#[derive(Deserialize)]
struct Registry {
    #[serde(default)]
    projects: HashMap<String, serde_json::Value>,
}

/// Names the project directories `dirs` of `tmp` (`<home>/.gemini/tmp`).
pub fn name(tmp: &Path, dirs: &[PathBuf]) -> Projects {
    let mut out = Projects::default();
    let registry = tmp
        .parent()
        .map(|gemini| read_registry(&gemini.join("projects.json"), &mut out.registry_error))
        .unwrap_or_default();
    let by_slug: HashMap<&str, &str> = registry
        .iter()
        .map(|(root, slug)| (slug.as_str(), root.as_str()))
        .collect();
    let markers: Vec<Option<String>> = dirs.iter().map(|d| marker(d)).collect();
    let mut by_hash: HashMap<String, &str> = HashMap::new();
    let needs_hash = dirs.iter().any(|d| is_hash(&dir_name(d)));
    if needs_hash {
        for root in registry.keys().chain(markers.iter().flatten()) {
            by_hash.insert(sha256_hex(root), root);
        }
    }
    for (dir, marker) in dirs.iter().zip(&markers) {
        let own = dir_name(dir);
        let root = marker
            .as_deref()
            .or_else(|| by_slug.get(own.as_str()).copied())
            .or_else(|| by_hash.get(&own).copied());
        out.unmapped += u64::from(root.is_none());
        out.names.push(Arc::from(root.unwrap_or(&own)));
    }
    out
}

/// `projects.json` as root → slug; empty when missing, and when unreadable (said in `error`).
fn read_registry(path: &Path, error: &mut Option<String>) -> HashMap<String, String> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return HashMap::new(),
        Err(err) => {
            *error = Some(format!("{}: {err}", path.display()));
            return HashMap::new();
        }
    };
    match serde_json::from_slice::<Registry>(&bytes) {
        Ok(registry) => registry
            .projects
            .into_iter()
            .filter_map(|(root, slug)| Some((root, slug.as_str()?.to_string())))
            .collect(),
        Err(err) => {
            *error = Some(format!("{}: {err}", path.display()));
            HashMap::new()
        }
    }
}

/// The root a directory's `.project_root` names (trimmed, as Gemini CLI reads it).
fn marker(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(MARKER)).ok()?;
    let root = text.trim();
    (!root.is_empty()).then(|| root.to_string())
}

fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// 64 lowercase hex digits: a sha256-named directory.
fn is_hash(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `getProjectHash`: the lowercase hex sha256 of the root as written.
pub fn sha256_hex(root: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, root.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(tmp: &Path, dir: &str, marker: Option<&str>) -> PathBuf {
        let path = tmp.join(dir);
        std::fs::create_dir_all(path.join("chats")).unwrap();
        if let Some(root) = marker {
            std::fs::write(path.join(MARKER), root).unwrap();
        }
        path
    }

    fn names(projects: &Projects) -> Vec<&str> {
        projects.names.iter().map(|n| &**n).collect()
    }

    #[test]
    fn the_hash_is_gemini_cli_s() {
        // sha256("test"), as `crypto.createHash('sha256').update('test').digest('hex')`.
        assert_eq!(
            sha256_hex("test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }

    #[test]
    fn markers_the_registry_and_known_roots_hashes_name_directories() {
        let dir = tempfile::tempdir().unwrap();
        let gemini = dir.path().join(".gemini");
        let tmp = gemini.join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::write(
            gemini.join("projects.json"),
            r#"{"projects": {"/work/a": "a", "/home/u/app": "app-1", "/odd": 3}}"#,
        )
        .unwrap();
        let dirs = [
            // A marker (with the newline an editor may add) wins over the registry.
            project(&tmp, "a", Some("/work/a-moved\n")),
            // The registry alone.
            project(&tmp, "app-1", None),
            // The sha256 of a root the registry knows: the copy a migration left behind.
            project(&tmp, &sha256_hex("/home/u/app"), None),
            // The sha256 of a root a marker names.
            project(&tmp, &sha256_hex("/work/a-moved"), None),
            // Nothing says: its own name.
            project(&tmp, &sha256_hex("/elsewhere"), None),
            project(&tmp, "orphan", None),
        ];
        let projects = name(&tmp, &dirs);
        assert_eq!(
            names(&projects),
            [
                "/work/a-moved",
                "/home/u/app",
                "/home/u/app",
                "/work/a-moved",
                sha256_hex("/elsewhere").as_str(),
                "orphan"
            ]
        );
        assert_eq!(projects.unmapped, 2);
        assert_eq!(projects.registry_error, None);
    }

    #[test]
    fn a_missing_or_broken_registry_is_no_error() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join(".gemini/tmp");
        let dirs = [
            project(&tmp, "a", None),
            project(&tmp, "b", Some("/work/b")),
        ];
        let missing = name(&tmp, &dirs);
        assert_eq!(names(&missing), ["a", "/work/b"]);
        assert_eq!((missing.unmapped, missing.registry_error), (1, None));
        std::fs::write(dir.path().join(".gemini/projects.json"), "{not json").unwrap();
        let broken = name(&tmp, &dirs);
        assert_eq!(names(&broken), ["a", "/work/b"]);
        let error = broken.registry_error.unwrap();
        assert!(error.contains("projects.json"), "{error}");
    }
}
