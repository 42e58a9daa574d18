//! Reading opencode's legacy JSON storage (opencode 1.1.x and before):
//! `storage/session/<project>/<session>.json` (`id`, `parentID`, `directory`) and
//! `storage/message/<session>/<message>.json` (the same message shape as the database's
//! `data`, plus `id` and `sessionID`). A file that is not a message is named and skipped.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::message::parse;
use super::store::{Row, Store};
use crate::capture::transcripts::problems::Damage;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    id: String,
    #[serde(rename = "parentID")]
    parent_id: Option<String>,
    #[serde(default)]
    directory: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ids {
    id: Option<String>,
    #[serde(rename = "sessionID")]
    session_id: Option<String>,
}

/// Reads `storage` into `store`; sessions and messages the database already holds are not
/// read twice (`copies` counts those messages).
pub fn read(storage: &Path, store: &mut Store) -> u64 {
    for project in list(&storage.join("session"), store) {
        for file in list(&project, store) {
            let Some(bytes) = bytes(&file, store) else {
                continue;
            };
            if let Ok(session) = serde_json::from_slice::<Session>(&bytes) {
                if let Some(directory) = session.directory.filter(|d| !d.is_empty()) {
                    store
                        .directories
                        .entry(session.id.clone())
                        .or_insert(directory);
                }
                store
                    .sessions
                    .entry(session.id)
                    .or_insert(session.parent_id);
            }
        }
    }
    let known: std::collections::HashSet<String> =
        store.messages.iter().map(|r| r.id.clone()).collect();
    let mut copies = 0;
    for dir in list(&storage.join("message"), store) {
        let dir_session = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        for file in list(&dir, store) {
            if file.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let Some(bytes) = bytes(&file, store) else {
                continue;
            };
            store.legacy_files += 1;
            let source = store.source(file.clone());
            let message = match parse(&bytes) {
                Ok(message) => message,
                Err(why) => {
                    store.problems.add(source, 0, Damage::NotJson, || {
                        format!("not a message object: {why}")
                    });
                    continue;
                }
            };
            let ids: Ids = serde_json::from_slice(&bytes).unwrap_or(Ids {
                id: None,
                session_id: None,
            });
            let id = ids.id.unwrap_or_else(|| stem(&file));
            if known.contains(&id) {
                copies += 1;
                continue;
            }
            let Some(session) = ids.session_id.or_else(|| dir_session.clone()) else {
                continue;
            };
            store.messages.push(Row {
                source,
                place: 0,
                time_created: message.time.created.unwrap_or(0),
                id,
                session,
                message,
            });
        }
    }
    copies
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn bytes(path: &Path, store: &mut Store) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            store.bytes += bytes.len() as u64;
            Some(bytes)
        }
        Err(err) => {
            store.unreadable.push((path.to_path_buf(), err.to_string()));
            None
        }
    }
}

/// The entries of `dir` in name order (none when it does not exist).
fn list(dir: &Path, store: &mut Store) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(err) => {
            store.unreadable.push((dir.to_path_buf(), err.to_string()));
            return Vec::new();
        }
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    paths
}
