//! An imported history held as trace calls (the Codex and Gemini CLI imports): the calls put
//! in time order from the earliest, the damage turned into the report's warnings, and the
//! report and trace that give `agentprof report` the same figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::problems::{self, Damage, Example, Problems};
use super::stats::ImportReport;
use crate::attribute::period::TimeWindow;
use crate::attribute::summary::{ReportOptions, Summary, summarize};
use crate::observation::Call;
use crate::output::trace::{
    ReadTrace, TraceFooter, TraceHeader, TraceRecord, TraceWriteError, write_trace_file,
};

/// What to import and how (the Codex and Gemini CLI imports).
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// The agent's directory; default: the agent's own (`$CODEX_HOME` or `~/.codex`,
    /// `$GEMINI_CLI_HOME` or `~`).
    pub dir: Option<PathBuf>,
    /// Only calls made in this window (`--since`, `--until`).
    pub window: TimeWindow,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
}

/// A whole imported history.
#[derive(Debug)]
pub struct History {
    /// The agent's name in the trace header's command (`codex`, `gemini`).
    pub agent: &'static str,
    /// The directory read.
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

/// One call before it gets its time offset: when it was written, and where (for a stable
/// order among calls of the same millisecond).
#[derive(Debug)]
pub struct Pending {
    pub t_ms: i64,
    pub file: u32,
    pub line: u64,
    pub call: Call,
}

/// Calls placed on the timeline.
#[derive(Debug)]
pub struct Placed {
    pub calls: Vec<Call>,
    pub origin_ms: i64,
    /// Calls `--since` left out.
    pub before_since: u64,
    /// Calls `--until` left out.
    pub after_until: u64,
}

/// Drops the calls outside `window`, orders the rest by time (then file and line), numbers
/// them from 1 and gives each its offset from the earliest. The files record a call when its
/// response was complete, not when it was sent: start and end are that one time.
pub fn place(mut pending: Vec<Pending>, window: &TimeWindow) -> Placed {
    let before_since = pending.iter().filter(|p| window.is_before(p.t_ms)).count() as u64;
    let counted = pending.len() as u64;
    pending.retain(|p| window.contains(p.t_ms));
    let after_until = counted - pending.len() as u64 - before_since;
    pending.sort_by_key(|p| (p.t_ms, p.file, p.line));
    let origin_ms = pending
        .first()
        .map_or_else(|| jiff::Timestamp::now().as_millisecond(), |p| p.t_ms);
    let calls = pending
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
    Placed {
        calls,
        origin_ms,
        before_since,
        after_until,
    }
}

/// Damage as the report carries it.
#[derive(Debug, Default)]
pub struct DamageReport {
    /// By kind (`not_json`, `unreadable_file`, …).
    pub damaged: BTreeMap<String, u64>,
    /// The first damaged places, `file:line: what`.
    pub examples: Vec<String>,
    /// One sentence per kind and per example.
    pub warnings: Vec<String>,
    pub unreadable_files: u64,
}

/// Counts the problems of every file and the paths discovery could not read, the examples
/// described by `describe` (`file:line: what`, the file relative to the directory read).
pub fn damage_report(
    mut problems: Problems,
    unreadable: &[(PathBuf, String)],
    describe: impl Fn(&Example) -> String,
) -> DamageReport {
    for _ in unreadable {
        *problems.counts.entry(Damage::UnreadableFile).or_default() += 1;
    }
    problems.settle();
    let examples: Vec<(Damage, String)> = unreadable
        .iter()
        .map(|(path, reason)| {
            let text = format!("{}: {reason}", path.display());
            (Damage::UnreadableFile, text)
        })
        .chain(problems.examples.iter().map(|e| (e.damage, describe(e))))
        .take(problems::EXAMPLES)
        .collect();
    let mut warnings = Vec::new();
    for (damage, count) in &problems.counts {
        warnings.push(format!("{count} {} {}", damage.describe(), damage.fate()));
    }
    for (damage, example) in &examples {
        warnings.push(format!("{}: {example}", damage.fate()));
    }
    DamageReport {
        damaged: problems
            .counts
            .iter()
            .map(|(k, n)| (k.key().to_string(), *n))
            .collect(),
        unreadable_files: problems
            .counts
            .get(&Damage::UnreadableFile)
            .copied()
            .unwrap_or(0),
        examples: examples.into_iter().map(|(_, text)| text).collect(),
        warnings,
    }
}

/// `file:line: what` for an example in `path` (of `files`, by the example's index), the path
/// relative to the directory read.
pub fn describe_in(example: &Example, root: &Path, path: Option<&Path>) -> String {
    at_line(
        &path.map_or_else(String::new, |p| relative(root, p)),
        example,
    )
}

/// `path` below `root`, as shown in reports.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Calls `each(number, line, complete)` for every line of `bytes` that is not blank, numbered
/// from 1 counting blank ones; `complete` is false for a last line without its newline.
pub fn each_line(bytes: &[u8], mut each: impl FnMut(u64, &[u8], bool)) {
    let mut start = 0;
    let mut number = 0u64;
    while start < bytes.len() {
        let (end, next, complete) = match memchr::memchr(b'\n', &bytes[start..]) {
            Some(at) => (start + at, start + at + 1, true),
            None => (bytes.len(), bytes.len(), false),
        };
        number += 1;
        let line = &bytes[start..end];
        start = next;
        if !line.trim_ascii().is_empty() {
            each(number, line, complete);
        }
    }
}

/// `path:line: what`, or `path: what` for a whole-file problem.
pub fn at_line(path: &str, example: &Example) -> String {
    match example.line {
        0 => format!("{path}: {}", example.detail),
        line => format!("{path}:{line}: {}", example.detail),
    }
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
        TraceHeader::for_import(self.agent, &self.dir, self.origin())
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
        let (trace, found) = self.into_trace();
        let mut summary = summarize(std::slice::from_ref(&trace), options);
        found.add_to(&mut summary);
        summary
    }

    /// The calls as a trace, and what the import found about them.
    pub fn into_trace(self) -> (ReadTrace, Found) {
        let (header, footer) = (self.header(), self.footer());
        let trace = ReadTrace::of_import(self.dir.clone(), header, footer, self.calls);
        let found = Found {
            dir: self.dir,
            report: self.report,
            warnings: self.warnings,
            notes: self.notes,
        };
        (trace, found)
    }
}

/// What an import found besides its calls: where, how much, what was damaged, what was seen.
#[derive(Debug)]
pub struct Found {
    pub dir: PathBuf,
    pub report: ImportReport,
    /// Sentences about damaged or partial input, for the report's warnings.
    pub warnings: Vec<String>,
    /// Sentences about what was read, for the report's assumptions.
    pub notes: Vec<String>,
}

impl Found {
    /// Completes the report of this import alone.
    pub fn add_to(self, summary: &mut Summary) {
        summary.source.traces = vec![self.dir.display().to_string()];
        summary.source.skipped_lines = self.report.skipped_lines();
        summary.warnings.extend(self.warnings);
        summary.assumptions.extend(self.notes);
        summary.import = Some(self.report);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t_ms: i64, file: u32, line: u64) -> Pending {
        Pending {
            t_ms,
            file,
            line,
            call: Call::blank(),
        }
    }

    #[test]
    fn lines_are_numbered_with_blank_ones_and_the_last_may_be_cut() {
        let mut seen = Vec::new();
        each_line(b"a\n\n  \nb\nc", |n, line, complete| {
            seen.push((n, line.to_vec(), complete));
        });
        assert_eq!(
            seen,
            [
                (1, b"a".to_vec(), true),
                (4, b"b".to_vec(), true),
                (5, b"c".to_vec(), false)
            ]
        );
    }

    #[test]
    fn calls_are_ordered_numbered_and_cut_at_since() {
        // 2026-01-02T00:00:00Z and a day before.
        let day = 1_767_312_000_000;
        let placed = place(
            vec![
                at(day + 2000, 0, 5),
                at(day - 1, 1, 1),
                at(day + 2000, 0, 3),
            ],
            &TimeWindow::new(
                Some(jiff::civil::date(2026, 1, 2)),
                None,
                &jiff::tz::TimeZone::UTC,
            )
            .unwrap(),
        );
        assert_eq!(placed.before_since, 1);
        assert_eq!(placed.origin_ms, day + 2000);
        let ids: Vec<u64> = placed.calls.iter().map(|c| c.id).collect();
        assert_eq!(ids, [1, 2]);
        assert_eq!(placed.calls[1].t_end, Some(0.0));
    }
}
