//! The projects of a generated Gemini home, as Gemini CLI 0.61.0 records them
//! (`config/projectRegistry.ts`, `config/storage.ts`): slug directories owned through a
//! `.project_root` marker and a `projects.json` entry (`app-1`: `app` was taken by another
//! root), a directory an older version named by the sha256 of its root, and the copy of a
//! hash directory the migration to slugs leaves in place (it copies, and deletes nothing).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::{Value, json};

use super::session::Chat;

/// One project directory of `.gemini/tmp/`.
#[derive(Debug, Clone)]
pub struct Project {
    /// Its name under `.gemini/tmp/`.
    pub dir: String,
    /// The root Gemini CLI ran in: chats' `projectHash` is its sha256.
    pub root: &'static str,
    /// What an import reports its calls under: the root where Gemini CLI's files map the
    /// directory to it, else the directory's name.
    pub key: String,
}

/// Roots registered in `projects.json`, with their slugs.
const REGISTERED: [(&str, &str); 3] = [
    ("/work/proj-a", "proj-a"),
    ("/home/dev/app", "app"),
    ("/home/dev/clients/app", "app-1"),
];

/// A root only an older Gemini CLI ran in: its directory is its hash, mapped by nothing.
const UNREGISTERED: &str = "/home/dev/old-tool";

/// The directories sessions are written to, in turn.
pub fn all() -> Vec<Project> {
    let slug = |root: &'static str, dir: &str| Project {
        dir: dir.to_string(),
        root,
        key: root.to_string(),
    };
    let old = sha256_hex(UNREGISTERED);
    vec![
        slug("/work/proj-a", "proj-a"),
        slug("/home/dev/clients/app", "app-1"),
        Project {
            dir: old.clone(),
            root: UNREGISTERED,
            key: old,
        },
    ]
}

/// The lowercase hex sha256 of `text` (Gemini CLI's `getProjectHash`).
pub fn sha256_hex(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `.gemini/projects.json` and every slug's `.project_root` (in `tmp/` and `history/`,
/// as the registry does — `app`'s too, a project with no chats).
pub fn write_registry(out: &Path) -> anyhow::Result<()> {
    let gemini = out.join(".gemini");
    let projects: serde_json::Map<String, Value> = REGISTERED
        .iter()
        .map(|(root, slug)| (root.to_string(), json!(slug)))
        .collect();
    let text = serde_json::to_string_pretty(&json!({ "projects": projects }))?;
    write(&gemini.join("projects.json"), &text)?;
    for (root, slug) in REGISTERED {
        for base in ["tmp", "history"] {
            write(&gemini.join(base).join(slug).join(".project_root"), root)?;
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// The copies of `chats` (files of `project`, `.jsonl`) in the sha256-named directory its
/// slug was migrated from.
pub fn migration_copies(chats: &[Chat], project: &Project) -> Vec<Chat> {
    let from = PathBuf::from(".gemini/tmp").join(&project.dir);
    let to = PathBuf::from(".gemini/tmp").join(sha256_hex(project.root));
    chats
        .iter()
        .filter_map(|chat| {
            let rest = chat.path.strip_prefix(&from).ok()?;
            Some(Chat {
                path: to.join(rest),
                lines: chat.lines.clone(),
                legacy: chat.legacy,
            })
        })
        .collect()
}

/// The message ids a `.jsonl` chat records and how many of its records repeat one, as an
/// import's ledger counts them (a message line, each message of a `$set.messages` list).
pub fn ledger_counts(chat: &Chat) -> (u64, u64) {
    let mut ids = std::collections::HashSet::new();
    let mut records = 0u64;
    for line in &chat.lines {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let listed = value["$set"]["messages"].as_array().cloned();
        let messages = listed.unwrap_or_else(|| vec![value]);
        for id in messages.iter().filter_map(|m| m["id"].as_str()) {
            records += 1;
            ids.insert(id.to_string());
        }
    }
    let distinct = ids.len() as u64;
    (distinct, records - distinct)
}
