//! Counted files into an imported history: calls in time order, the `import` object of the
//! report, and the trace that gives `agentprof report` the same figures.

use crate::attribute::period::TimeWindow;
use std::collections::{BTreeMap, HashMap};

use super::classify::label;
use super::count::{self, Tally};
use super::discover::Found;
use super::scan::Scanned;
use crate::capture::transcripts::ImportReport;
use crate::capture::transcripts::history::{
    History, Pending, damage_report, describe_in, place, relative,
};
use crate::capture::transcripts::problems::{self, Problems};
use crate::capture::transcripts::stats::{Duplicates, FileCounts, versions_seen};
use crate::observation::{ApiKind, Call, Category, Provider};

pub(super) fn build(found: Found, scanned: Vec<Scanned>, window: &TimeWindow) -> History {
    let mut problems = Problems::default();
    for file in &scanned {
        problems.merge(file.problems.clone(), 0);
    }
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
            // The thread's own working directory (a sub-agent's or fork's first session_meta).
            call.project = file.meta.as_ref().and_then(|m| m.cwd.clone());
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
    let placed = place(pending, window);
    let calls = placed.calls;
    let versions = versions(&scanned, &tallies);
    let damage = damage_report(problems, &found.unreadable, |e| describe(e, &found));
    warnings.extend(damage.warnings);
    files.unreadable = damage.unreadable_files;
    let report = ImportReport {
        agent: "codex".into(),
        dir: found.root.display().to_string(),
        files,
        bytes: scanned.iter().map(|s| s.bytes).sum(),
        lines: scanned.iter().map(|s| s.lines).sum(),
        lines_parsed: scanned.iter().map(|s| s.lines_parsed).sum(),
        calls: calls.len() as u64,
        duplicates,
        since: window.since.map(|d| d.to_string()),
        calls_before_since: placed.before_since,
        until: window.until.map(|d| d.to_string()),
        calls_after_until: placed.after_until,
        damaged: damage.damaged,
        damage_examples: damage.examples,
        // Claude Code's fields (versions, synthetic entries, request refs): none here.
        ..ImportReport::default()
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
        agent: "codex",
        dir: found.root,
        calls,
        origin_ms: placed.origin_ms,
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
                    let path = found
                        .files
                        .get(file.file as usize)
                        .map_or_else(String::new, |f| relative(&found.root, &f.path));
                    orphans.push(format!("{path} (forked from {id})"));
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

/// `file:line: what`, the file relative to the Codex directory.
fn describe(example: &problems::Example, found: &Found) -> String {
    let path = found
        .files
        .get(example.file as usize)
        .map(|f| f.path.as_path());
    describe_in(example, &found.root, path)
}
