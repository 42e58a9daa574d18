//! Finding the transcripts: `$CLAUDE_CONFIG_DIR` or `~/.claude` (or the directory given), then
//! `projects/<project>/<session>.jsonl` and everything below a session's own directory
//! (`<session>/subagents/**/agent-<id>.jsonl`, with `agent-<id>.meta.json` naming the type).
//!
//! Directories are walked without following symlinks (no loops); a file or directory that
//! cannot be read is recorded, never silently passed over. Each file's [`Stamp`] comes from the
//! same `stat` that gives its size: what the import cache compares to know a file unchanged.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a transcript file is, from where it sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// `projects/<project>/<session>.jsonl`: a session's main loop.
    Main,
    /// `agent-<id>.jsonl` below a session directory: one sub-agent.
    Agent,
    /// Any other `.jsonl` below a session directory.
    Other,
}

/// One transcript file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptFile {
    pub path: PathBuf,
    pub size: u64,
    pub role: FileRole,
    /// 0 for a main file; otherwise how many directories below the session directory.
    pub nesting: u8,
    /// From the file name `agent-<id>.jsonl`.
    pub agent_id: Option<String>,
    /// The session the layout names: the main file's stem, or the session directory.
    pub session: Option<String>,
    /// An `agent-<id>.meta.json` sits beside it.
    pub has_meta: bool,
    /// The `projects/<dir>` the file is under (a sub-agent's is its session's).
    pub project: Option<String>,
    pub stamp: Stamp,
}

/// Which file, and when it was last written: what says it is the file read before, unchanged
/// or only appended to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stamp {
    /// Nanoseconds since the epoch.
    pub modified_ns: i64,
    pub inode: u64,
    pub device: u64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            modified_ns: meta
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.mtime_nsec()),
            inode: meta.ino(),
            device: meta.dev(),
        }
    }
}

/// Everything found.
#[derive(Debug, Default)]
pub struct Found {
    /// The `projects` directory read.
    pub root: PathBuf,
    /// Sorted by path bytes: a file's index is stable for a given tree.
    pub files: Vec<TranscriptFile>,
    /// Paths that could not be listed or stat'ed, with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Errors that stop an import before it starts.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error(
        "no Claude Code directory: set CLAUDE_CONFIG_DIR, or give the directory (HOME is not set)"
    )]
    NoHome,
    #[error("{path}: not a directory with Claude Code transcripts (expected {path}/projects)")]
    NotFound { path: PathBuf },
}

/// The Claude Code directory to read: the one given, else `$CLAUDE_CONFIG_DIR`, else `~/.claude`.
pub fn config_dir(given: Option<&Path>) -> Result<PathBuf, DiscoverError> {
    if let Some(dir) = given {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or(DiscoverError::NoHome)?;
    Ok(PathBuf::from(home).join(".claude"))
}

/// The `projects` directory of `dir` (a Claude Code directory, or its `projects` directory).
pub fn projects_dir(dir: &Path) -> Result<PathBuf, DiscoverError> {
    if dir.join("projects").is_dir() {
        Ok(dir.join("projects"))
    } else if dir.is_dir() && dir.file_name().is_some_and(|n| n == "projects") {
        Ok(dir.to_path_buf())
    } else {
        Err(DiscoverError::NotFound {
            path: dir.to_path_buf(),
        })
    }
}

/// Lists the transcripts below `dir` (a Claude Code directory, or its `projects` directory).
///
/// The top two levels are listed here; stat'ing session files and walking session directories
/// — thousands of small directories in a long history — is shared among `threads` workers.
pub fn discover(dir: &Path, threads: usize) -> Result<Found, DiscoverError> {
    discover_only(dir, threads, None)
}

/// One session of one project: what `statusline` reads on every refresh, without listing the
/// rest of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlySession {
    /// The `projects/<dir>` the session is in.
    pub project: String,
    pub session: String,
}

/// [`discover`], only the files of `only` when given.
pub fn discover_only(
    dir: &Path,
    threads: usize,
    only: Option<&OnlySession>,
) -> Result<Found, DiscoverError> {
    let root = projects_dir(dir)?;
    let mut found = Found {
        root: root.clone(),
        ..Found::default()
    };
    let mut work = Vec::new();
    match only {
        None => {
            for project in list(&root, &mut found.unreadable) {
                match project {
                    Item::Dir(dir) => work.extend(list(&dir, &mut found.unreadable)),
                    other => work.push(other),
                }
            }
        }
        Some(only) => {
            // The session's transcript and its directory (sub-agents), nothing else.
            let session = std::ffi::OsStr::new(&only.session);
            work.extend(
                list(&root.join(&only.project), &mut found.unreadable)
                    .into_iter()
                    .filter(|item| match item {
                        Item::File(path, ..) => path.file_stem() == Some(session),
                        Item::Dir(path) => path.file_name() == Some(session),
                        Item::Meta(_) => false,
                    }),
            );
        }
    }
    let next = AtomicUsize::new(0);
    let shared = Mutex::new(found);
    let job = || {
        let mut mine = Found::default();
        while let Some(item) = work.get(next.fetch_add(1, Ordering::Relaxed)) {
            match item {
                Item::File(path, size, stamp) => {
                    mine.files
                        .push(main_file(&root, path.clone(), *size, *stamp));
                }
                Item::Dir(dir) => {
                    let session = dir.file_name().map(|n| n.to_string_lossy().into_owned());
                    let place = Place {
                        session_dir: dir,
                        session: session.as_deref(),
                        project: project_of(&root, dir),
                    };
                    walk_session(&place, dir, &mut mine);
                }
                Item::Meta(_) => {}
            }
        }
        let mut found = match shared.lock() {
            Ok(found) => found,
            Err(poisoned) => poisoned.into_inner(),
        };
        found.files.append(&mut mine.files);
        found.unreadable.append(&mut mine.unreadable);
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.max(1) {
            // A thread that cannot be started only means less parallelism.
            let _ = std::thread::Builder::new().spawn_scoped(scope, job);
        }
        job();
    });
    let mut found = match shared.into_inner() {
        Ok(found) => found,
        Err(poisoned) => poisoned.into_inner(),
    };
    // Byte order, not path-component order: any fixed order serves, and this one is cheap.
    found
        .files
        .sort_unstable_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
    found.unreadable.sort();
    Ok(found)
}

fn main_file(root: &Path, path: PathBuf, size: u64, stamp: Stamp) -> TranscriptFile {
    let session = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    TranscriptFile {
        project: project_of(root, &path),
        path,
        size,
        role: FileRole::Main,
        nesting: 0,
        agent_id: None,
        session,
        has_meta: false,
        stamp,
    }
}

/// The project directory `path` is under: the first component below the `projects` root, when
/// there is one below it (a `.jsonl` lying in `projects/` itself has none).
fn project_of(root: &Path, path: &Path) -> Option<String> {
    let mut below = path.strip_prefix(root).ok()?.components();
    let project = below.next()?;
    below.next()?;
    Some(project.as_os_str().to_string_lossy().into_owned())
}

/// Where a session directory's files belong.
struct Place<'a> {
    session_dir: &'a Path,
    session: Option<&'a str>,
    project: Option<String>,
}

/// Every `.jsonl` below a session directory (sub-agents, nested workflows).
fn walk_session(place: &Place<'_>, dir: &Path, found: &mut Found) {
    let items = list(dir, &mut found.unreadable);
    // Meta files are noted from the listing, so only existing ones are opened later.
    let mut metas: Vec<&std::ffi::OsStr> = items
        .iter()
        .filter_map(|item| match item {
            Item::Meta(name) => Some(name.as_os_str()),
            _ => None,
        })
        .collect();
    metas.sort_unstable();
    for item in &items {
        match item {
            Item::Dir(sub) => walk_session(place, sub, found),
            Item::File(path, size, stamp) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let agent_id = name
                    .strip_prefix("agent-")
                    .and_then(|rest| rest.strip_suffix(".jsonl"))
                    .map(str::to_string);
                let depth = path
                    .strip_prefix(place.session_dir)
                    .map_or(1, |rel| rel.components().count().saturating_sub(1));
                let meta = path.with_extension("meta.json");
                let has_meta = meta
                    .file_name()
                    .is_some_and(|m| metas.binary_search(&m).is_ok());
                found.files.push(TranscriptFile {
                    has_meta,
                    path: path.clone(),
                    size: *size,
                    role: if agent_id.is_some() {
                        FileRole::Agent
                    } else {
                        FileRole::Other
                    },
                    nesting: u8::try_from(depth.max(1)).unwrap_or(u8::MAX),
                    agent_id,
                    session: place.session.map(str::to_string),
                    project: place.project.clone(),
                    stamp: *stamp,
                });
            }
            Item::Meta(_) => {}
        }
    }
}

/// What a listing holds that discovery needs.
enum Item {
    /// A directory (a symlink to one is not followed).
    Dir(PathBuf),
    /// A `.jsonl` file (or a symlink to one), its size and stamp.
    File(PathBuf, u64, Stamp),
    /// The name of an `….meta.json`.
    Meta(std::ffi::OsString),
}

/// A directory's directories, transcripts and meta files, unordered (discovery sorts what it
/// found once, at the end). Types come from the listing itself and a transcript's metadata
/// through the directory's descriptor, so no path is walked again; symlinked files are
/// followed. Whatever cannot be listed or stat'ed is recorded.
fn list(dir: &Path, unreadable: &mut Vec<(PathBuf, String)>) -> Vec<Item> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            unreadable.push((dir.to_path_buf(), err.to_string()));
            return Vec::new();
        }
    };
    let mut items = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                unreadable.push((dir.to_path_buf(), err.to_string()));
                continue;
            }
        };
        let name = entry.file_name();
        let file_type = match entry.file_type() {
            Ok(file_type) => file_type,
            Err(err) => {
                unreadable.push((entry.path(), err.to_string()));
                continue;
            }
        };
        if file_type.is_dir() {
            items.push(Item::Dir(entry.path()));
            continue;
        }
        let bytes = name.as_encoded_bytes();
        if bytes.ends_with(b".meta.json") {
            items.push(Item::Meta(name));
            continue;
        }
        // `x.jsonl`, not a hidden `.jsonl` (which has no extension).
        if !bytes.ends_with(b".jsonl") || bytes.len() == b".jsonl".len() {
            continue;
        }
        let meta = match file_type.is_symlink() {
            false => entry.metadata(),
            true => std::fs::metadata(entry.path()),
        };
        match meta {
            Ok(meta) if meta.is_file() => {
                items.push(Item::File(entry.path(), meta.len(), Stamp::of(&meta)));
            }
            Ok(_) => {}
            Err(err) => unreadable.push((entry.path(), err.to_string())),
        }
    }
    items
}

/// The sub-agent type `agent-<id>.meta.json` names, if the file is there and says.
pub fn meta_agent_type(transcript: &Path) -> Option<String> {
    let meta = transcript.with_extension("meta.json");
    let text = std::fs::read(meta).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&text).ok()?;
    value
        .get("agentType")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sessions_subagents_and_nested_workflows() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("projects/-home-me-app");
        let session = project.join("s1/subagents");
        std::fs::create_dir_all(session.join("workflows/wf1")).unwrap();
        std::fs::write(project.join("s1.jsonl"), "{}\n").unwrap();
        std::fs::write(project.join("notes.txt"), "x").unwrap();
        std::fs::write(session.join("agent-a1.jsonl"), "{}\n").unwrap();
        std::fs::write(
            session.join("agent-a1.meta.json"),
            r#"{"agentType":"Explore"}"#,
        )
        .unwrap();
        std::fs::write(session.join("workflows/wf1/agent-b2.jsonl"), "{}\n").unwrap();
        std::os::unix::fs::symlink("/nonexistent/x", project.join("gone.jsonl")).unwrap();

        let found = discover(dir.path(), 2).unwrap();
        let names: Vec<_> = found
            .files
            .iter()
            .map(|f| {
                let project = f.project.as_deref();
                (
                    f.role,
                    f.nesting,
                    f.agent_id.clone(),
                    f.session.clone(),
                    project,
                )
            })
            .collect();
        let app = Some("-home-me-app");
        assert_eq!(
            names,
            // By path bytes: `s1.jsonl` before `s1/…`.
            [
                (FileRole::Main, 0, None, Some("s1".into()), app),
                (
                    FileRole::Agent,
                    1,
                    Some("a1".into()),
                    Some("s1".into()),
                    app
                ),
                (
                    FileRole::Agent,
                    3,
                    Some("b2".into()),
                    Some("s1".into()),
                    app
                ),
            ]
        );
        let meta = std::fs::metadata(&found.files[1].path).unwrap();
        assert_eq!(found.files[1].stamp, Stamp::of(&meta));
        assert_ne!(found.files[1].stamp.inode, found.files[2].stamp.inode);
        assert_eq!(found.unreadable.len(), 1, "{:?}", found.unreadable);
        assert!(found.unreadable[0].0.ends_with("gone.jsonl"));
        assert_eq!(
            meta_agent_type(&found.files[1].path).as_deref(),
            Some("Explore")
        );
        assert!(found.files[1].has_meta && !found.files[2].has_meta);
        assert_eq!(meta_agent_type(&found.files[2].path), None);
        assert!(matches!(
            discover(&dir.path().join("projects/-home-me-app/s1.jsonl"), 1),
            Err(DiscoverError::NotFound { .. })
        ));
    }
}
