//! Importing Claude Code's local transcripts: months of history, by category, exactly.
//!
//! ```text
//! discover ──▶ ranges (big files split) ──▶ workers, largest range first
//!                                            │ reader: one buffer, memchr lines
//!                                            │ route: byte prefilter
//!                                            │ skim + record: the few fields needed
//!                                            ▼ scan: compact entries per response
//!              per file: join api-requests, mark turns (resolve::finish_file)
//!              all files: one entry per message id (resolve::dedupe, an in-place sort)
//!              ──▶ Imported ──▶ report / trace (calls)
//! ```
//!
//! Work is balanced by handing out ranges one at a time, largest first, so one big file never
//! leaves a core idle: files bigger than a share of the whole are split at byte offsets, each
//! range owning the lines that start in it. Memory is one read buffer per worker plus about
//! 100 bytes per distinct response.

mod by_id;
pub mod cache;
mod calls;
pub mod discover;
mod entry;
pub mod history;
pub mod parallel;
pub mod problems;
mod project_paths;
mod reader;
pub(crate) mod record;
mod resolve;
pub(crate) mod route;
mod scan;
mod skim;
pub mod stats;
pub mod timestamp;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::attribute::period::TimeWindow;

pub use calls::{Imported, ImportedCall};
pub use discover::DiscoverError;
pub use stats::{CacheReport, ImportReport};

use cache::{Cache, Stored, Writing};
pub use discover::OnlySession;
use discover::{FileRole, Found, TranscriptFile, config_dir, discover_only, projects_dir};
use entry::{Entry, Interner, NO_MESSAGE_ID, UNMATCHED_REF};
use problems::{Damage, Problems};
use scan::{ScanStats, Scanned, Shared, Unit, UnitOutput, Worker};
use stats::{Duplicates, FileCounts, before_2_1_97};

/// What to import and how.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// A Claude Code directory (or its `projects`); default `$CLAUDE_CONFIG_DIR` or `~/.claude`.
    pub dir: Option<PathBuf>,
    /// Only calls made in this window (`--since`, `--until`).
    pub window: TimeWindow,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Keep message and request id strings (needed for a trace, ~60 bytes a call).
    pub keep_ids: bool,
    /// Size of the ranges big files are split into; default: a share of the whole history
    /// per thread (several ranges each), between 1 MiB and 64 MiB.
    pub split_bytes: Option<u64>,
    /// Where the import cache lives ([`cache::default_dir`]: the user's); `None`: no cache.
    /// Not used with `keep_ids`: the cache holds no id strings, so an import for a trace
    /// reads the whole history (and leaves the cache as it was).
    pub cache_dir: Option<PathBuf>,
    /// Only this session's files (its transcript and its sub-agents'): `statusline`, which
    /// shows one session on every refresh. Its cache is the session's own, so it never
    /// replaces the whole history's.
    pub session: Option<OnlySession>,
}

/// How far an import has got, for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    pub bytes_done: AtomicU64,
    pub bytes_total: AtomicU64,
}

/// Reads a whole history (what the cache holds of it from the cache).
pub fn import(options: &ImportOptions, progress: &Progress) -> Result<Imported, DiscoverError> {
    let dir = config_dir(options.dir.as_deref())?;
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    // The cache is read, checked and decoded while the files are found.
    let cache_path = match options.cache_dir.as_deref() {
        Some(cache_dir) if !options.keep_ids => Some(match &options.session {
            None => cache::cache_file(cache_dir, "claude-code", &projects_dir(&dir)?),
            Some(only) => {
                let root = projects_dir(&dir)?;
                let root = std::fs::canonicalize(&root).unwrap_or(root);
                let session = root.join(&only.project).join(&only.session);
                cache::cache_file(cache_dir, "claude-code-session", &session)
            }
        }),
        _ => None,
    };
    let (found, stored) = std::thread::scope(|scope| {
        let loading = cache_path.clone().map(|path| {
            std::thread::Builder::new()
                .name("agentprof-cache".into())
                .spawn_scoped(scope, || Stored::load(path))
        });
        let found = discover_only(&dir, threads, options.session.as_ref());
        let stored = match loading {
            Some(Ok(loading)) => loading.join().ok(),
            // No thread to spare: load it now.
            Some(Err(_)) => cache_path.map(Stored::load),
            None => None,
        };
        (found, stored)
    });
    let found = found?;
    let total: u64 = found.files.iter().map(|f| f.size).sum();
    progress.bytes_total.store(total, Ordering::Relaxed);

    let mut interner = Interner::default();
    let mut cache = stored.map(|stored| Cache::open(stored, &found, &mut interner));
    let mut priors = cache
        .as_mut()
        .map_or_else(Vec::new, |c| std::mem::take(&mut c.priors));
    priors.resize(found.files.len(), None);
    let starts: Vec<Option<u64>> = found
        .files
        .iter()
        .enumerate()
        .map(|(i, file)| match &cache {
            Some(cache) => cache.plans[i].read_from(file.size),
            None => Some(0),
        })
        .collect();
    let cached: u64 = priors.iter().flatten().map(|p| p.complete_end).sum();
    progress.bytes_done.fetch_add(cached, Ordering::Relaxed);
    let units = plan(&found.files, &starts, threads, options.split_bytes);
    // A file read in one range with nothing cached is finished by the worker that read it;
    // the others once every range is read.
    let alone: Vec<bool> = {
        let mut per_file = vec![0u32; found.files.len()];
        for unit in &units {
            per_file[unit.file as usize] += 1;
        }
        per_file
            .iter()
            .zip(&priors)
            .map(|(&n, prior)| n == 1 && prior.is_none())
            .collect()
    };
    // Records are made only when the cache is to be written, and then for every file.
    let record_root = cache
        .as_ref()
        .filter(|c| c.must_write())
        .map(|_| found.root.as_path());

    let interner = Mutex::new(interner);
    let ids = Mutex::new(Vec::new());
    let shared = Shared {
        files: &found.files,
        interner: &interner,
        ids: options.keep_ids.then_some(&ids),
        progress: &progress.bytes_done,
        hash_ends: record_root.is_some(),
    };
    // What the cache holds is known: room for it up front, not grown into.
    let mut collected = Collected::default();
    let cached_entries: usize = priors.iter().flatten().map(|p| p.entries.len()).sum();
    collected.entries.reserve(cached_entries);
    let collected = Mutex::new(collected);
    let pending: Mutex<Vec<Scanned>> = Mutex::new(Vec::new());
    let records: Mutex<Vec<Option<Vec<u8>>>> = Mutex::new(vec![None; found.files.len()]);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut worker = Worker::new(&shared);
        while let Some(&unit) = units.get(next.fetch_add(1, Ordering::Relaxed)) {
            let scanned = worker.scan(&shared, unit);
            if !alone[unit.file as usize] {
                lock(&pending).push(scanned);
                continue;
            }
            let file = &found.files[unit.file as usize];
            let tails = scanned.tail.into_iter().collect();
            let (result, record) = finish(file, vec![scanned.body], tails, record_root, &interner);
            lock(&collected).add(result);
            if record.is_some() {
                lock(&records)[unit.file as usize] = record;
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            // A thread that cannot be started only means less parallelism.
            let _ = std::thread::Builder::new()
                .name("agentprof-import".into())
                .spawn_scoped(scope, work);
        }
        work();
    });

    let mut collected = into_inner(collected);
    let mut records = into_inner(records);
    let mut by_file: BTreeMap<u32, (Vec<UnitOutput>, Vec<UnitOutput>)> = BTreeMap::new();
    for (index, prior) in priors.into_iter().enumerate() {
        if let Some(prior) = prior {
            by_file.entry(index as u32).or_default().0.push(prior);
        }
    }
    for scanned in into_inner(pending) {
        let parts = by_file.entry(scanned.body.file).or_default();
        parts.0.push(scanned.body);
        parts.1.extend(scanned.tail);
    }
    for (index, (bodies, tails)) in by_file {
        let file = &found.files[index as usize];
        let (result, record) = finish(file, bodies, tails, record_root, &interner);
        collected.add(result);
        records[index as usize] = record;
    }
    let interner = into_inner(interner);
    let cache_write = match cache.as_ref().filter(|c| c.must_write()) {
        Some(cache) => cache.save(records, &interner),
        None => Writing::default(),
    };
    let cache_report = cache.map(|c| c.report);
    let project_paths = project_paths::resolve(&found);
    let mut imported = assemble(
        found,
        collected,
        interner,
        into_inner(ids),
        &options.window,
        cache_report,
    );
    imported.cache_write = cache_write;
    imported.name_projects(&project_paths);
    Ok(imported)
}

/// One file's result from the outputs of its ranges (the cached part being one), and its
/// cache record when one is to be written (`record_root`).
fn finish(
    file: &TranscriptFile,
    bodies: Vec<UnitOutput>,
    tails: Vec<UnitOutput>,
    record_root: Option<&Path>,
    interner: &Mutex<Interner>,
) -> (resolve::FileResult, Option<Vec<u8>>) {
    let mut body = resolve::combine(bodies);
    let record = record_root.and_then(|root| cache::record(root, file, &mut body));
    let whole = match tails.is_empty() {
        true => body,
        false => resolve::combine(std::iter::once(body).chain(tails).collect()),
    };
    (resolve::join(whole, interner), record)
}

/// Splits what is to be read of each file (from `starts[i]`; `None`: nothing) into ranges
/// and orders them largest first.
fn plan(
    files: &[TranscriptFile],
    starts: &[Option<u64>],
    threads: usize,
    split_bytes: Option<u64>,
) -> Vec<Unit> {
    let spans: Vec<(usize, u64)> = starts
        .iter()
        .enumerate()
        .filter_map(|(i, start)| Some((i, (*start)?)))
        .collect();
    let length = |i: usize, start: u64| files.get(i).map_or(0, |f| f.size.saturating_sub(start));
    let total: u64 = spans.iter().map(|&(i, start)| length(i, start)).sum();
    // Several ranges per thread, so the last ones to finish are small.
    let target = split_bytes
        .unwrap_or_else(|| (total / (threads as u64 * 8).max(1)).clamp(1 << 20, 64 << 20))
        .max(1);
    let mut units = Vec::new();
    for (index, start) in spans {
        let file_index = u32::try_from(index).unwrap_or(u32::MAX);
        let length = length(index, start);
        let pieces = if length > target.saturating_add(target / 2) {
            length.div_ceil(target)
        } else {
            1
        };
        let step = length.div_ceil(pieces).max(1);
        for k in 0..pieces {
            let from = start + k * step;
            // The last range is open-ended: a transcript still being written keeps its tail.
            let end = if k + 1 == pieces {
                u64::MAX
            } else {
                start + (k + 1) * step
            };
            units.push(Unit {
                file: file_index,
                start: from,
                end,
            });
        }
    }
    let size = |u: &Unit| {
        let file_size = files.get(u.file as usize).map_or(0, |f| f.size);
        u.end.min(file_size).saturating_sub(u.start)
    };
    units.sort_by(|a, b| size(b).cmp(&size(a)).then(a.file.cmp(&b.file)));
    units
}

/// What the workers hand back.
#[derive(Default)]
struct Collected {
    entries: Vec<Entry>,
    problems: Problems,
    stats: ScanStats,
}

impl Collected {
    fn add(&mut self, file: resolve::FileResult) {
        self.entries.extend(file.entries);
        self.problems.merge(file.problems, 0);
        self.stats.add(&file.stats);
    }
}

/// One entry per call, filtered, in call order, with the report's counts.
fn assemble(
    found: Found,
    collected: Collected,
    interner: Interner,
    ids: Vec<(Box<str>, Box<str>)>,
    window: &TimeWindow,
    cache: Option<CacheReport>,
) -> Imported {
    let Collected {
        mut entries,
        mut problems,
        stats,
    } = collected;
    if !found.unreadable.is_empty() {
        *problems.counts.entry(Damage::UnreadableFile).or_default() +=
            found.unreadable.len() as u64;
    }
    problems.settle();
    let dedupe = resolve::dedupe(&mut entries, &found.files);
    // The window reads a call's time where its rows do: when it was made.
    let calls_before_since = entries
        .iter()
        .filter(|e| window.is_before(e.t_start))
        .count() as u64;
    let before = entries.len();
    entries.retain(|e| window.contains(e.t_start));
    let calls_after_until = (before - entries.len()) as u64 - calls_before_since;
    // In call order; sorted by small keys, each entry then moved once, in place.
    let mut order: Vec<(i64, u32, u64, u32)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.t_start, e.file, e.offset, i as u32))
        .collect();
    order.sort_unstable();
    let mut sources: Vec<u32> = order.iter().map(|key| key.3).collect();
    drop(order);
    resolve::gather_in_place(&mut entries, &mut sources);
    drop(sources);

    // Counted by interned id, named once per version.
    let mut by_version: HashMap<u32, u64> = HashMap::new();
    for entry in &entries {
        *by_version.entry(entry.version).or_default() += 1;
    }
    let mut versions: BTreeMap<String, u64> = BTreeMap::new();
    let mut old = 0;
    for (id, count) in by_version {
        let version = interner.opt(id).unwrap_or("(unknown)");
        *versions.entry(version.to_string()).or_default() += count;
        if before_2_1_97(version) == Some(true) {
            old += count;
        }
    }
    let count = |role: FileRole| found.files.iter().filter(|f| f.role == role).count() as u64;
    let report = ImportReport {
        agent: "claude-code".into(),
        dir: found.root.display().to_string(),
        files: FileCounts {
            sessions: count(FileRole::Main),
            subagents: count(FileRole::Agent),
            other: count(FileRole::Other),
            unreadable: problems
                .counts
                .get(&Damage::UnreadableFile)
                .copied()
                .unwrap_or(0),
        },
        bytes: found.files.iter().map(|f| f.size).sum(),
        lines: stats.lines,
        lines_parsed: stats.parsed,
        calls: entries.len() as u64,
        claude_code_versions: versions,
        calls_before_2_1_97: old,
        duplicates: Duplicates {
            repeated_lines: stats.merged_lines,
            placeholders_replaced: stats.placeholders,
            copies: dedupe.copies,
            replays: dedupe.replays,
        },
        synthetic_entries: stats.synthetic,
        unmatched_request_refs: flagged(&entries, UNMATCHED_REF),
        calls_without_message_id: flagged(&entries, NO_MESSAGE_ID),
        since: window.since.map(|d| d.to_string()),
        calls_before_since,
        until: window.until.map(|d| d.to_string()),
        calls_after_until,
        damaged: problems
            .counts
            .iter()
            .map(|(k, n)| (k.key().to_string(), *n))
            .collect(),
        // Unreadable paths first: a whole file missing matters more than a line.
        damage_examples: found
            .unreadable
            .iter()
            .map(|(path, reason)| format!("{}: {reason}", path.display()))
            .chain(
                problems
                    .examples
                    .iter()
                    .map(|e| describe(e, &found.files, &found.root)),
            )
            .take(problems::EXAMPLES)
            .collect(),
        cache,
    };
    let warnings = warnings(&report, &problems);
    let notes = notes(&report);
    let mut interner = interner;
    let mut deciders = HashMap::new();
    let calls: Vec<ImportedCall> = entries
        .iter()
        .map(|e| {
            let decider = *deciders
                .entry(ImportedCall::decider_key(e))
                .or_insert_with(|| calls::decider_of(e, &mut interner));
            ImportedCall::with_decider(e, decider)
        })
        .collect();
    drop(entries);
    Imported {
        cache_write: Writing::default(),
        origin_ms: calls
            .first()
            .map_or_else(|| jiff::Timestamp::now().as_millisecond(), |c| c.t_start),
        dir: found.root,
        calls,
        interner,
        ids,
        report,
        warnings,
        notes,
    }
}

fn flagged(entries: &[Entry], flag: u8) -> u64 {
    entries.iter().filter(|e| e.flags & flag != 0).count() as u64
}

/// `file:line: what` with the file relative to the projects directory.
fn describe(example: &problems::Example, files: &[TranscriptFile], root: &Path) -> String {
    let Some(file) = files.get(example.file as usize) else {
        return example.detail.clone();
    };
    let path = file.path.strip_prefix(root).unwrap_or(&file.path).display();
    history::at_line(&path.to_string(), example)
}

fn warnings(report: &ImportReport, problems: &Problems) -> Vec<String> {
    let mut out = Vec::new();
    for (damage, count) in &problems.counts {
        out.push(format!("{count} {} skipped", damage.describe()));
    }
    for example in &report.damage_examples {
        out.push(format!("skipped: {example}"));
    }
    if report.calls_without_message_id > 0 {
        out.push(format!(
            "{} assistant records had no message id: each was counted as its own call (no deduplication possible)",
            report.calls_without_message_id
        ));
    }
    if report.unmatched_request_refs > 0 {
        out.push(format!(
            "{} calls named an api-request record their file does not hold: categorised by isSidechain instead",
            report.unmatched_request_refs
        ));
    }
    out
}

fn notes(report: &ImportReport) -> Vec<String> {
    let mut out = vec![stats::versions_seen(
        "Claude Code",
        &report.claude_code_versions,
    )];
    if report.calls_before_2_1_97 > 0 {
        out.push(format!(
            "{} calls were written before Claude Code 2.1.97: their input counts are under-stated",
            report.calls_before_2_1_97
        ));
    }
    out
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn into_inner<T>(mutex: Mutex<T>) -> T {
    match mutex.into_inner() {
        Ok(value) => value,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests;
