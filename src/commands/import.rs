//! `agentprof import claude-code [DIR]` and `agentprof import codex [DIR]`: a history read from
//! an agent's local files, reported like a trace.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::options;
use crate::agents::codex_history::{self, HistoryOptions};
use crate::attribute::summary::ReportOptions;
use crate::capture::transcripts::{ImportOptions, Progress, import};
use crate::cli::{ClaudeCodeImportArgs, CodexImportArgs, ImportArgs, ImportSource};
use crate::error::InputError;

/// The `import` command.
pub fn run(args: ImportArgs) -> anyhow::Result<i32> {
    match args.source {
        ImportSource::ClaudeCode(args) => claude_code(args),
        ImportSource::Codex(args) => codex(args),
    }
}

fn codex(CodexImportArgs { dir, common: args }: CodexImportArgs) -> anyhow::Result<i32> {
    // Options are checked before the reading, not after.
    let prices = options::prices(args.prices.as_deref())?;
    let kv_profile = options::kv_profile(&args.kv_profile)?;
    let history = codex_history::import(&HistoryOptions {
        dir,
        since: args.since,
        threads: args.threads,
    })
    .map_err(|e| InputError::new(e.to_string()))?;
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
