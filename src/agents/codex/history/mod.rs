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

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use build::History;
pub use discover::DiscoverError;

use discover::{Found, codex_home, discover};
use scan::{Scanned, scan};

/// What to import and how.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// A Codex home (or its `sessions`); default `$CODEX_HOME`, else `~/.codex`.
    pub dir: Option<PathBuf>,
    /// Only calls answered on or after this UTC date.
    pub since: Option<jiff::civil::Date>,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
}

/// Reads a whole Codex history.
pub fn import(options: &HistoryOptions) -> Result<History, DiscoverError> {
    let dir = codex_home(options.dir.as_deref())?;
    let found = discover(&dir)?;
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let scanned = scan_all(&found, threads);
    Ok(build::build(found, scanned, options.since))
}

/// Scans every file, largest first so one big file never leaves a core idle at the end.
fn scan_all(found: &Found, threads: usize) -> Vec<Scanned> {
    let mut order: Vec<usize> = (0..found.files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(found.files[i].size));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Scanned>> = Mutex::new(Vec::with_capacity(found.files.len()));
    let work = || {
        let mut mine = Vec::new();
        while let Some(&index) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let file_index = u32::try_from(index).unwrap_or(u32::MAX);
            mine.push(scan(file_index, &found.files[index]));
        }
        match results.lock() {
            Ok(mut all) => all.extend(mine),
            Err(poisoned) => poisoned.into_inner().extend(mine),
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.min(found.files.len().max(1)) {
            // A thread that cannot be started only means less parallelism.
            let _ = std::thread::Builder::new()
                .name("agentprof-codex".into())
                .spawn_scoped(scope, work);
        }
        work();
    });
    let mut all = match results.into_inner() {
        Ok(all) => all,
        Err(poisoned) => poisoned.into_inner(),
    };
    all.sort_by_key(|s| s.file);
    all
}
