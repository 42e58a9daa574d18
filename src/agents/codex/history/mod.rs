//! `agentprof import codex`: Codex CLI's rollout history as calls, exactly.
//!
//! ```text
//! discover (sessions/, archived_sessions/, .jsonl and .jsonl.zst)
//!   ──▶ scan each file (workers, largest first): session_meta, prompts, models, token counts
//!   ──▶ count per file: drop a fork's replayed prefix (matched against its parent's totals),
//!       one call per genuine change of total_token_usage
//!   ──▶ calls (observation::Call) ──▶ the report `agentprof report` computes on a trace
//! ```
//!
//! The calls are ordinary trace records, and the report is [`crate::attribute::summarize`]
//! run on them as on a read trace: `import codex` and `report <its trace>` give the same
//! figures by construction.

mod build;
mod classify;
mod count;
pub mod discover;
mod line;
mod scan;
#[cfg(test)]
mod tests;

pub use crate::capture::transcripts::history::{History, HistoryOptions};
pub use discover::DiscoverError;

use crate::capture::transcripts::parallel::{largest_first, worker_count};
use discover::{codex_home, discover};
use scan::scan;

/// Reads a whole Codex history.
pub fn import(options: &HistoryOptions) -> Result<History, DiscoverError> {
    let dir = codex_home(options.dir.as_deref())?;
    let found = discover(&dir)?;
    let sizes: Vec<u64> = found.files.iter().map(|f| f.size).collect();
    let scanned = largest_first(
        &sizes,
        worker_count(options.threads),
        "agentprof-codex",
        |index| {
            scan(
                u32::try_from(index).unwrap_or(u32::MAX),
                &found.files[index],
            )
        },
    );
    Ok(build::build(found, scanned, &options.window))
}
