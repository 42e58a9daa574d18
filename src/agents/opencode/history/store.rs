//! What the database and the legacy files hold, in one shape: sessions with their parents and
//! directories, messages parsed, and the damage met (a message that is not JSON is named and
//! skipped).

use std::collections::HashMap;
use std::path::PathBuf;

use super::message::Message;
use crate::capture::transcripts::problems::Problems;

/// One message, read.
#[derive(Debug, Clone)]
pub struct Row {
    /// Index into [`Store::sources`].
    pub source: u32,
    /// Its order there (the database's rowid; a file's place in the listing).
    pub place: u64,
    pub id: String,
    pub session: String,
    /// Milliseconds since the epoch (the row's `time_created`, a file's `time.created`).
    pub time_created: i64,
    pub message: Message,
}

/// Everything read.
#[derive(Debug, Default)]
pub struct Store {
    /// Session id → its parent's (a sub-agent's session has one).
    pub sessions: HashMap<String, Option<String>>,
    /// Session id → the directory opencode ran in (`session.directory`): its project.
    pub directories: HashMap<String, String>,
    pub messages: Vec<Row>,
    /// The database (first, when there is one) and the legacy files read, by index.
    pub sources: Vec<PathBuf>,
    pub problems: Problems,
    /// Paths that could not be listed or read, with why.
    pub unreadable: Vec<(PathBuf, String)>,
    pub bytes: u64,
    /// Legacy message files read.
    pub legacy_files: u64,
}

impl Store {
    /// Adds `path` as a source; its index.
    pub fn source(&mut self, path: PathBuf) -> u32 {
        self.sources.push(path);
        u32::try_from(self.sources.len() - 1).unwrap_or(u32::MAX)
    }
}
