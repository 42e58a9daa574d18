//! `agentprof import opencode`: opencode's history as calls, exactly.
//!
//! ```text
//! discover ($OPENCODE_DB, else $XDG_DATA_HOME/opencode or ~/.local/share/opencode, or DIR:
//!           opencode.db and the legacy storage/ of opencode 1.1.x)
//!   ──▶ read the database read-only (one snapshot, WAL rows included; database.rs) and the
//!       legacy message files (legacy.rs) into one store: sessions with parents, messages
//!   ──▶ one call per assistant message with token counts: sub-agent when its session has a
//!       parent (counted under the root session), compaction when it is a summary, else
//!       user_turn; a user message starts a turn; its project the session's directory
//!   ──▶ calls (observation::Call) ──▶ the report `agentprof report` computes on a trace
//! ```
//!
//! What the history does not record (title calls above all) is said in the report's
//! assumptions (`attribute::summary::OPENCODE_IMPORT_LIMITS`).

mod build;
pub mod database;
pub mod discover;
mod legacy;
pub mod message;
mod store;
#[cfg(test)]
mod tests;

pub use crate::capture::transcripts::history::{History, HistoryOptions};
pub use build::AGENT;
pub use discover::OpencodeError;

/// Reads a whole opencode history (`options.threads` is not used: one database is read by
/// one reader).
pub fn import(options: &HistoryOptions) -> Result<History, OpencodeError> {
    let location = discover::locate(options.dir.as_deref())?;
    let mut store = store::Store::default();
    if let Some(database) = &location.database {
        database::read(database, &mut store)?;
    }
    let copies = match &location.storage {
        Some(storage) => legacy::read(storage, &mut store),
        None => 0,
    };
    Ok(build::build(location.root, store, copies, &options.window))
}
