//! `agentprof import gemini`: Gemini CLI's chat files as calls, exactly.
//!
//! ```text
//! discover (<home>/.gemini/tmp/<project>/chats/: session-*.jsonl, <parent>/<id>.jsonl,
//!           legacy session-*.json; project dirs named by slug or by sha256, mapped to their
//!           root by .project_root, projects.json or a known root's hash: projects.rs)
//!   ──▶ scan each file (workers, largest first): records applied in order
//!       (records.rs: keep-last-per-id, $rewindTo, $set.messages, as Gemini CLI loads them)
//!   ──▶ one call per gemini message with token counts, at its last record; a session's
//!       messages once across its files
//!   ──▶ calls (observation::Call) ──▶ the report `agentprof report` computes on a trace
//! ```
//!
//! What chat files do not record (utility calls, retries and errors, latency, request ids)
//! is said in the report's assumptions (`attribute::summary::GEMINI_IMPORT_LIMITS`).

mod build;
pub mod discover;
pub mod line;
mod projects;
pub mod records;
mod scan;

pub use crate::capture::transcripts::history::{History, HistoryOptions};
pub use build::AGENT;
pub use discover::DiscoverError;

use crate::capture::transcripts::parallel::{largest_first, worker_count};
use discover::{discover, gemini_home};
use scan::scan;

/// Reads a whole Gemini CLI history.
pub fn import(options: &HistoryOptions) -> Result<History, DiscoverError> {
    let dir = gemini_home(options.dir.as_deref())?;
    let found = discover(&dir)?;
    let sizes: Vec<u64> = found.files.iter().map(|f| f.size).collect();
    let scanned = largest_first(
        &sizes,
        worker_count(options.threads),
        "agentprof-gemini",
        |index| {
            scan(
                u32::try_from(index).unwrap_or(u32::MAX),
                &found.files[index],
            )
        },
    );
    Ok(build::build(found, scanned, &options.window))
}
