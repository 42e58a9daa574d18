//! `agentprof import claude-code [DIR]`, `agentprof import codex [DIR]`, `agentprof import
//! gemini [DIR]` and `agentprof import opencode [DIR]`: a history read from an agent's local files, reported like a trace.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::options;
use crate::agents::{codex_history, gemini_history, opencode_history};
use crate::attribute::summary::ReportOptions;
use crate::capture::transcripts::history::History;
use crate::capture::transcripts::{ImportOptions, Progress, cache, import};
use crate::cli::{
    ClaudeCodeImportArgs, CodexImportArgs, GeminiImportArgs, ImportArgs, ImportCommonArgs,
    ImportSource, OpencodeImportArgs,
};
use crate::error::InputError;

/// The `import` command.
pub fn run(args: ImportArgs) -> anyhow::Result<i32> {
    match args.source {
        ImportSource::ClaudeCode(args) => claude_code(args),
        ImportSource::Codex(CodexImportArgs { dir, common }) => history(&common, || {
            codex_history::import(&codex_history::HistoryOptions {
                dir,
                since: common.since,
                threads: common.threads,
            })
        }),
        ImportSource::Gemini(GeminiImportArgs { dir, common }) => history(&common, || {
            gemini_history::import(&gemini_history::HistoryOptions {
                dir,
                since: common.since,
                threads: common.threads,
            })
        }),
        ImportSource::Opencode(OpencodeImportArgs { dir, common }) => history(&common, || {
            opencode_history::import(&opencode_history::HistoryOptions {
                dir,
                since: common.since,
                threads: common.threads,
            })
        }),
    }
}

/// An import read whole into calls (Codex, Gemini CLI): `read` runs once the options are
/// checked; its error is the user's input (a missing directory).
fn history<E: std::fmt::Display>(
    args: &ImportCommonArgs,
    read: impl FnOnce() -> Result<History, E>,
) -> anyhow::Result<i32> {
    // Options are checked before the reading, not after.
    let prices = options::prices(args.prices.as_deref())?;
    let kv_profile = options::kv_profile(&args.kv_profile)?;
    let history = read().map_err(|e| InputError::new(e.to_string()))?;
    if let Some(path) = &args.trace {
        history.write_trace(path)?;
        eprintln!(
            "agentprof: wrote {} calls to {} (agentprof report {} gives these figures)",
            history.calls.len(),
            path.display(),
            path.display()
        );
    }
    let summary = history.summarize(&ReportOptions {
        prices: &prices,
        kv_profile,
    });
    super::report::print(&summary, args.json, args.by)?;
    Ok(0)
}

fn claude_code(
    ClaudeCodeImportArgs { dir, common: args }: ClaudeCodeImportArgs,
) -> anyhow::Result<i32> {
    // Options are checked before minutes of reading, not after.
    let prices = options::prices(args.prices.as_deref())?;
    let kv_profile = options::kv_profile(&args.kv_profile)?;
    let import_options = ImportOptions {
        dir,
        since: args.since,
        threads: args.threads,
        keep_ids: args.trace.is_some(),
        split_bytes: None,
        // A trace needs the id strings, which the cache does not hold.
        cache_dir: match args.no_cache || args.trace.is_some() {
            true => None,
            false => cache::default_dir(),
        },
    };
    let progress = Progress::default();
    let done = AtomicBool::new(false);
    let imported = std::thread::scope(|scope| {
        scope.spawn(|| show_progress(&progress, &done));
        let result = import(&import_options, &progress);
        done.store(true, Ordering::Relaxed);
        result
    })
    .map_err(|e| InputError::new(e.to_string()))?;

    let summary = imported.summarize(&ReportOptions {
        prices: &prices,
        kv_profile,
    });
    if let Some(path) = &args.trace {
        imported.write_trace(path)?;
        eprintln!(
            "agentprof: wrote {} calls to {} (agentprof report {} gives these figures)",
            imported.calls.len(),
            path.display(),
            path.display()
        );
    }
    super::report::print(&summary, args.json, args.by)?;
    Ok(0)
}

/// A progress bar on stderr (only when stderr is a terminal), cleared at the end.
fn show_progress(progress: &Progress, done: &AtomicBool) {
    let Some(bar) =
        super::progress::bar(0, "importing {wide_bar} {bytes}/{total_bytes} ({eta} left)")
    else {
        return;
    };
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let total = progress.bytes_total.load(Ordering::Relaxed);
        if total == 0 {
            continue;
        }
        bar.set_length(total);
        bar.set_position(progress.bytes_done.load(Ordering::Relaxed).min(total));
    }
    bar.finish_and_clear();
}
