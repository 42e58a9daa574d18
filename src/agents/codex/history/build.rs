//! Counted files into an imported history: calls in time order, the `import` object of the
//! report, and the trace that gives `agentprof report` the same figures.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::classify::label;
use super::count::{self, Tally};
use super::discover::Found;
use super::scan::Scanned;
use crate::attribute::summary::{ReportOptions, Summary, summarize};
use crate::capture::transcripts::ImportReport;
use crate::capture::transcripts::problems::{self, Damage, Problems};
use crate::capture::transcripts::stats::{Duplicates, FileCounts, versions_seen};
use crate::observation::{ApiKind, Call, Category, Provider};
use crate::output::trace::{
    ReadTrace, TraceFooter, TraceHeader, TraceRecord, TraceWriteError, write_trace_file,
};

/// A whole imported Codex history.
#[derive(Debug)]
pub struct History {
    /// The Codex directory read.
    pub dir: PathBuf,
    /// One per model call, in time order, ids from 1: exactly the records its trace holds.
    pub calls: Vec<Call>,
    /// Milliseconds since the epoch of offset 0: the earliest call.
    pub origin_ms: i64,
    pub report: ImportReport,
    /// Sentences about damaged or partial input, for the report's warnings.
    pub warnings: Vec<String>,
    /// Sentences about what was read, for the report's assumptions.
    pub notes: Vec<String>,
}

/// One call before it gets its time offset.
struct Pending {
    t_ms: i64,
    file: u32,
    line: u64,
    call: Call,
}

pub(super) fn build(
    found: Found,
    scanned: Vec<Scanned>,
    since: Option<jiff::civil::Date>,
) -> History {
    let mut problems = Problems::default();
    for file in &scanned {
        problems.merge(file.problems.clone(), 0);
    }
    for _ in &found.unreadable {
        *problems.counts.entry(Damage::UnreadableFile).or_default() += 1;
    }
    problems.settle();
    let (tallies, mut warnings) = count_all(&scanned, &found);

    let mut pending = Vec::new();
    let mut files = FileCounts::default();
    let mut duplicates = Duplicates::default();
    let (mut rewrites, mut null_counts, mut extra_metas) = (0, 0, 0);
    for (file, tally) in scanned.iter().zip(&tallies) {
        let label = label(file.meta.as_ref());
        match (&file.meta, label.agent.is_some()) {
            (None, _) => files.other += 1,
            (Some(_), false) => files.sessions += 1,
            (Some(_), true) => files.subagents += 1,
        }
        duplicates.repeated_lines += tally.repeats;
        duplicates.replays += tally.replayed;
        rewrites += tally.rewrites;
        null_counts += file.null_counts;
        extra_metas += file.extra_metas;
        for counted in &tally.calls {
            let mut call = Call::blank();
            call.provider = Provider::OpenAi;
            call.api = ApiKind::Responses;
            call.method = "POST".into();
            call.path = "/v1/responses".into();
            call.model = counted.model.as_deref().map(str::to_string);
            call.usage = Some(counted.usage.usage());
            call.response_id = counted.response_id.as_deref().map(str::to_string);
            call.session_id = (!label.session.is_empty()).then(|| label.session.clone());
            call.agent_id = label.agent.clone();
            if counted.compaction {
                // A remote compaction is compaction whichever thread ran it.
                call.category = Category::Compaction;
                call.classified_by = "transcript:codex:compacted".into();
            } else {
                call.category = label.category;
                call.classified_by = label.decider.clone();
            }
            call.starts_turn = counted.starts_turn && call.category == Category::UserTurn;
            pending.push(Pending {
                t_ms: counted.t_ms,
                file: file.file,
                line: counted.line,
                call,
            });
        }
    }
    let counted = pending.len() as u64;
    if let Some(since) = since.and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok()) {
        let since_ms = since.timestamp().as_millisecond();
        pending.retain(|p| p.t_ms >= since_ms);
    }
    let calls_before_since = counted - pending.len() as u64;
    pending.sort_by_key(|p| (p.t_ms, p.file, p.line));
    let origin_ms = pending
        .first()
        .map_or_else(|| jiff::Timestamp::now().as_millisecond(), |p| p.t_ms);
    // Codex writes a token count when the response has completed: its time is the call's end,
    // and the rollout does not say when the request went out.
    let calls: Vec<Call> = pending
        .into_iter()
        .enumerate()
        .map(|(index, p)| {
            let mut call = p.call;
            call.id = index as u64 + 1;
            call.t_start = (p.t_ms - origin_ms) as f64 / 1000.0;
            call.t_end = Some(call.t_start);
            call
        })
        .collect();

    let versions = versions(&scanned, &tallies);
    let damage_examples: Vec<String> = found
        .unreadable
        .iter()
        .map(|(path, reason)| format!("{}: {reason}", path.display()))
        .chain(problems.examples.iter().map(|e| describe(e, &found)))
        .take(problems::EXAMPLES)
        .collect();
    for (damage, count) in &problems.counts {
        warnings.push(format!("{count} {} skipped", damage.describe()));
    }
    for example in &damage_examples {
        warnings.push(format!("skipped: {example}"));
    }
    files.unreadable = problems
        .counts
        .get(&Damage::UnreadableFile)
        .copied()
        .unwrap_or(0);
    let report = ImportReport {
        agent: "codex".into(),
        dir: found.root.display().to_string(),
        files,
        bytes: scanned.iter().map(|s| s.bytes).sum(),
        lines: scanned.iter().map(|s| s.lines).sum(),
        lines_parsed: scanned.iter().map(|s| s.lines_parsed).sum(),
        calls: calls.len() as u64,
        // Claude Code's fields; a Codex import has none of these.
        claude_code_versions: BTreeMap::new(),
        calls_before_2_1_97: 0,
        duplicates,
        synthetic_entries: 0,
        unmatched_request_refs: 0,
        calls_without_message_id: 0,
        since: since.map(|d| d.to_string()),
        calls_before_since,
        damaged: problems
            .counts
            .iter()
            .map(|(k, n)| (damage_key(*k), *n))
            .collect(),
        damage_examples,
    };
    let mut notes = vec![versions_seen("Codex", &versions)];
    notes.push(format!(
        "rollout token counts not counted as calls: {} repeating an unchanged total (rate-limit updates), {} changing the total without a call (context-window rewrite, compaction estimate), {} with info null, {} replayed from a forked thread's parent",
        report.duplicates.repeated_lines, rewrites, null_counts, report.duplicates.replays
    ));
    let (mut from_records, mut from_totals, mut compactions) = (0, 0, 0);
    for tally in &tallies {
        let calls = tally.calls.len() as u64;
        if tally.from_records {
            from_records += calls;
            compactions += tally.calls.iter().filter(|c| c.compaction).count() as u64;
        } else {
            from_totals += calls;
        }
    }
    notes.push(format!(
        "{from_records} calls read from Codex's per-response records (0.164 and later), {compactions} of them remote compactions, which no token total includes; {from_totals} from changes of the token total (older rollouts)"
    ));
    if found.skipped_compressed > 0 {
        notes.push(format!(
            "{} compressed rollouts (.jsonl.zst) skipped: their plain .jsonl sibling was read",
            found.skipped_compressed
        ));
    }
    if extra_metas > 0 {
        notes.push(format!(
            "{extra_metas} further session_meta lines (a fork's copy of its parent, a resume): each rollout is the thread of its first"
        ));
    }
    History {
        dir: found.root,
        calls,
        origin_ms,
        report,
        warnings,
        notes,
    }
}

/// Counts every file, a fork against its parent's totals. Also says which forks had no
/// parent to compare with.
fn count_all(scanned: &[Scanned], found: &Found) -> (Vec<Tally>, Vec<String>) {
    let by_id: HashMap<&str, &Scanned> = scanned
        .iter()
        .filter_map(|s| Some((s.meta.as_ref()?.id.as_str(), s)))
        .collect();
    let mut orphans = Vec::new();
    let tallies = scanned
        .iter()
        .map(|file| {
            let fork_of = file.meta.as_ref().and_then(|m| m.forked_from_id.as_deref());
            let skip = match fork_of.map(|id| (id, by_id.get(id))) {
                Some((_, Some(parent))) => {
                    count::replayed_prefix(&file.events, &count::totals(&parent.events))
                }
                Some((id, None)) => {
                    orphans.push(format!("{} (forked from {id})", path_of(found, file.file)));
                    0
                }
                None => 0,
            };
            count::count(&file.events, skip)
        })
        .collect();
    let mut warnings = Vec::new();
    if !orphans.is_empty() {
        // Without the parent's file the replayed calls cannot be told apart. They are real
        // calls (of the parent), so they are counted — under the fork.
        warnings.push(format!(
            "{} forked rollouts without their parent's rollout here: calls they replay are counted under the fork ({})",
            orphans.len(),
            orphans.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    (tallies, warnings)
}

/// Calls by the Codex version that wrote them.
fn versions(scanned: &[Scanned], tallies: &[Tally]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (file, tally) in scanned.iter().zip(tallies) {
        if tally.calls.is_empty() {
            continue;
        }
        let version = file
            .meta
            .as_ref()
            .and_then(|m| m.cli_version.clone())
            .unwrap_or_else(|| "(unknown)".into());
        *out.entry(version).or_default() += tally.calls.len() as u64;
    }
    out
}

fn path_of(found: &Found, file: u32) -> String {
    found
        .files
        .get(file as usize)
        .map_or_else(String::new, |f| {
            f.path
                .strip_prefix(&found.root)
                .unwrap_or(&f.path)
                .display()
                .to_string()
        })
}

/// `file:line: what`, the file relative to the Codex directory.
fn describe(example: &problems::Example, found: &Found) -> String {
    let path = path_of(found, example.file);
    match example.line {
        0 => format!("{path}: {}", example.detail),
        line => format!("{path}:{line}: {}", example.detail),
    }
}

fn damage_key(damage: Damage) -> String {
    serde_json::to_value(damage)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl History {
    fn origin(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.origin_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// Seconds from offset 0 to the last call (a trace's `duration_s`).
    pub fn duration_s(&self) -> f64 {
        self.calls
            .iter()
            .map(|c| c.t_end.unwrap_or(c.t_start))
            .fold(0.0, f64::max)
    }

    /// The trace header an import writes.
    pub fn header(&self) -> TraceHeader {
        TraceHeader::for_import("codex", &self.dir, self.origin())
    }

    fn footer(&self) -> TraceFooter {
        TraceFooter::for_import(self.origin(), self.duration_s(), self.calls.len() as u64)
    }

    /// Writes the history as a trace (`mode: "import"`).
    pub fn write_trace(&self, path: &Path) -> Result<u64, TraceWriteError> {
        let calls = self.calls.iter().cloned().map(TraceRecord::Call);
        write_trace_file(path, self.header(), calls, self.footer())
    }

    /// The report: `report`'s own computation on these calls as a trace, plus what the import
    /// found (the `import` object, damage warnings, versions).
    pub fn summarize(self, options: &ReportOptions<'_>) -> Summary {
        let trace = ReadTrace {
            path: self.dir.clone(),
            header: self.header(),
            footer: Some(self.footer()),
            calls: self.calls,
            samples: Vec::new(),
            process_events: Vec::new(),
            telemetry: Vec::new(),
            torn_last_line: None,
            bad_lines: Vec::new(),
            unknown_records: 0,
        };
        let mut summary = summarize(std::slice::from_ref(&trace), options);
        summary.source.traces = vec![self.dir.display().to_string()];
        summary.source.skipped_lines = self.report.skipped_lines();
        summary.warnings.extend(self.warnings);
        summary.assumptions.extend(self.notes);
        summary.import = Some(self.report);
        summary
    }
}
