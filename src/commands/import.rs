//! `agentprof import [claude-code|codex|gemini|opencode] [DIR]`: agents' local histories read
//! from their files and reported like a trace — one agent's, or, with no agent named, every
//! agent's history found in its default place, in one report with an agent column.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{html, options};
use crate::agents::{codex_history, gemini_history, opencode_history};
use crate::attribute::cost::PriceTable;
use crate::attribute::kv::KvProfile;
use crate::attribute::rows::RowsSpec;
use crate::attribute::summarize;
use crate::attribute::summary::{ReportOptions, Summary};
use crate::capture::transcripts::history::{Found, History, HistoryOptions};
use crate::capture::transcripts::{
    DiscoverError, ImportOptions, Imported, Progress, cache, import,
};
use crate::cli::{ImportArgs, ImportCommonArgs, ImportSource};
use crate::error::InputError;
use crate::output::html::{HtmlTarget, write_report};
use crate::output::trace::ReadTrace;

/// The `import` command.
pub fn run(args: ImportArgs) -> anyhow::Result<i32> {
    // The readers' errors are the user's input: a missing or unreadable directory.
    let input = |e: &dyn std::fmt::Display| InputError::new(e.to_string());
    match args.source {
        None => every_agent(&args.common),
        Some(ImportSource::ClaudeCode(a)) => claude_code(a.dir, &a.common),
        Some(ImportSource::Codex(a)) => {
            let settings = Settings::of(&a.common)?;
            let options = history_options(a.dir, &a.common, &settings);
            let history = codex_history::import(&options).map_err(|e| input(&e))?;
            one_history(&settings, &a.common, history)
        }
        Some(ImportSource::Gemini(a)) => {
            let settings = Settings::of(&a.common)?;
            let options = history_options(a.dir, &a.common, &settings);
            let history = gemini_history::import(&options).map_err(|e| input(&e))?;
            one_history(&settings, &a.common, history)
        }
        Some(ImportSource::Opencode(a)) => {
            let settings = Settings::of(&a.common)?;
            let options = history_options(a.dir, &a.common, &settings);
            let history = opencode_history::import(&options).map_err(|e| input(&e))?;
            one_history(&settings, &a.common, history)
        }
    }
}

/// What every import is computed with, checked before any reading: a bad flag fails in
/// milliseconds, not after minutes of reading.
struct Settings {
    prices: PriceTable,
    kv_profile: &'static KvProfile,
    rows: RowsSpec,
    html: Option<HtmlTarget>,
}

impl Settings {
    fn of(args: &ImportCommonArgs) -> anyhow::Result<Settings> {
        Ok(Settings {
            html: args.html.as_deref().map(html::target).transpose()?,
            prices: options::prices(args.prices.as_deref())?,
            kv_profile: options::kv_profile(&args.kv_profile)?,
            rows: options::rows(&args.rows)?,
        })
    }

    fn report_options(&self) -> ReportOptions<'_> {
        ReportOptions {
            prices: &self.prices,
            kv_profile: self.kv_profile,
            rows: &self.rows,
            findings: Default::default(),
        }
    }

    /// Prints the report, and writes the page when `--html` asked for one.
    fn emit(&self, summary: &Summary, traces: &[ReadTrace], json: bool) -> anyhow::Result<()> {
        if let Some(target) = &self.html {
            let index = write_report(target, summary, traces, &self.prices, self.kv_profile)
                .map_err(html::error)?;
            html::announce(&index);
        }
        super::report::print(summary, json)?;
        Ok(())
    }
}

/// A Codex, Gemini CLI or opencode history: reported by `report`'s own code.
fn one_history(
    settings: &Settings,
    args: &ImportCommonArgs,
    history: History,
) -> anyhow::Result<i32> {
    if let Some(path) = &args.trace {
        history.write_trace(path)?;
        announce_trace(history.calls.len(), path);
    }
    let (trace, found) = history.into_trace();
    let traces = [trace];
    let mut summary = summarize(&traces, &settings.report_options());
    found.add_to(&mut summary);
    settings.emit(&summary, &traces, args.json)?;
    Ok(0)
}

fn announce_trace(calls: usize, path: &std::path::Path) {
    eprintln!(
        "agentprof: wrote {calls} calls to {} (agentprof report {} gives these figures)",
        path.display(),
        path.display()
    );
}

fn claude_code(dir: Option<PathBuf>, args: &ImportCommonArgs) -> anyhow::Result<i32> {
    let settings = Settings::of(args)?;
    let imported =
        read_claude_code(dir, args, &settings).map_err(|e| InputError::new(e.to_string()))?;
    let summary = imported.summarize(&settings.report_options());
    if let Some(path) = &args.trace {
        imported.write_trace(path)?;
        announce_trace(imported.calls.len(), path);
    }
    // The page draws the calls: only then are they made into trace records.
    let traces = match settings.html {
        Some(_) => vec![imported.into_trace().0],
        None => Vec::new(),
    };
    settings.emit(&summary, &traces, args.json)?;
    Ok(0)
}

/// Reads Claude Code's transcripts with a progress bar on a terminal.
fn read_claude_code(
    dir: Option<PathBuf>,
    args: &ImportCommonArgs,
    settings: &Settings,
) -> Result<Imported, DiscoverError> {
    let import_options = ImportOptions {
        dir,
        window: settings.rows.window.clone(),
        threads: args.threads,
        keep_ids: args.trace.is_some(),
        split_bytes: None,
        // A trace needs the id strings, which the cache does not hold.
        cache_dir: match args.no_cache || args.trace.is_some() {
            true => None,
            false => cache::default_dir(),
        },
        session: None,
    };
    let progress = Progress::default();
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| show_progress(&progress, &done));
        let result = import(&import_options, &progress);
        done.store(true, Ordering::Relaxed);
        result
    })
}

/// One agent's history reader, for `import` with no agent name.
struct Reader {
    agent: &'static str,
    read: fn(&ImportCommonArgs, &Settings) -> Outcome,
}

/// What reading one agent's default place gave.
enum Outcome {
    Read(Box<(ReadTrace, Found)>),
    /// The agent keeps no history here (never installed, or another user's machine).
    Absent(String),
    /// There is a history, but it could not be read.
    Failed(String),
}

/// Every agent's history reader, in report order.
const READERS: [Reader; 4] = [
    Reader {
        agent: "claude-code",
        read: |args, settings| match read_claude_code(None, args, settings) {
            Ok(imported) => {
                let (trace, found) = imported.into_trace();
                Outcome::Read(Box::new((trace, found)))
            }
            Err(err @ (DiscoverError::NoHome | DiscoverError::NotFound { .. })) => {
                Outcome::Absent(err.to_string())
            }
        },
    },
    Reader {
        agent: "codex",
        read: |args, settings| {
            use codex_history::DiscoverError as E;
            match codex_history::import(&history_options(None, args, settings)) {
                Ok(history) => read(history),
                Err(err @ (E::NoHome | E::NotFound { .. })) => Outcome::Absent(err.to_string()),
            }
        },
    },
    Reader {
        agent: "gemini-cli",
        read: |args, settings| {
            use gemini_history::DiscoverError as E;
            match gemini_history::import(&history_options(None, args, settings)) {
                Ok(history) => read(history),
                Err(err @ (E::NoHome | E::NotFound { .. })) => Outcome::Absent(err.to_string()),
            }
        },
    },
    Reader {
        agent: "opencode",
        read: |args, settings| {
            use opencode_history::OpencodeError as E;
            match opencode_history::import(&history_options(None, args, settings)) {
                Ok(history) => read(history),
                Err(err @ (E::NoHome | E::NotFound { .. })) => Outcome::Absent(err.to_string()),
                Err(err) => Outcome::Failed(err.to_string()),
            }
        },
    },
];

fn read(history: History) -> Outcome {
    let (trace, found) = history.into_trace();
    Outcome::Read(Box::new((trace, found)))
}

fn history_options(
    dir: Option<PathBuf>,
    args: &ImportCommonArgs,
    settings: &Settings,
) -> HistoryOptions {
    HistoryOptions {
        dir,
        window: settings.rows.window.clone(),
        threads: args.threads,
    }
}

/// `import` with no agent name: every agent whose history is where it keeps it by default.
fn every_agent(args: &ImportCommonArgs) -> anyhow::Result<i32> {
    if args.trace.is_some() {
        return Err(InputError::new(
            "--trace needs one agent (import claude-code --trace OUT …): a trace holds one agent's history",
        )
        .into());
    }
    let settings = Settings::of(args)?;
    let mut traces = Vec::new();
    let mut found = Vec::new();
    let mut absent = Vec::new();
    let mut failed = Vec::new();
    for reader in &READERS {
        match (reader.read)(args, &settings) {
            Outcome::Read(read) => {
                let (trace, what) = *read;
                traces.push(trace);
                found.push((reader.agent, what));
            }
            Outcome::Absent(why) => absent.push((reader.agent, why)),
            Outcome::Failed(why) => failed.push((reader.agent, why)),
        }
    }
    if traces.is_empty() {
        let mut message = String::from("no agent history found:");
        for (agent, why) in absent.iter().chain(&failed) {
            message.push_str(&format!("\n  {agent}: {why}"));
        }
        return Err(InputError::new(message).into());
    }
    let mut summary = summarize(&traces, &settings.report_options());
    summary.source.traces = found
        .iter()
        .map(|(_, f)| f.dir.display().to_string())
        .collect();
    for (agent, what) in found {
        summary.source.skipped_lines += what.report.skipped_lines();
        summary
            .warnings
            .extend(what.warnings.into_iter().map(|w| format!("{agent}: {w}")));
        summary.assumptions.extend(what.notes);
        summary.imports.push(what.report);
    }
    for (agent, why) in failed {
        summary
            .warnings
            .push(format!("{agent}: history not read: {why}"));
    }
    for (agent, why) in absent {
        summary
            .assumptions
            .push(format!("{agent}: no history found ({why})"));
    }
    settings.emit(&summary, &traces, args.json)?;
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
