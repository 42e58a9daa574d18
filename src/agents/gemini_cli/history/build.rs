//! Read chat files into an imported history: one call per gemini message with token counts
//! (its last record), labelled main or sub-agent, turns started by prompts, a session's
//! messages counted once across its files — and the report's `import` object and notes.

use crate::attribute::period::TimeWindow;
use std::collections::{HashMap, HashSet};

use super::discover::{ChatFile, Found};
use super::line::{Kind, Message};
use super::scan::Scanned;
use crate::capture::transcripts::ImportReport;
use crate::capture::transcripts::history::{History, Pending, damage_report, describe_in, place};
use crate::capture::transcripts::problems::{Damage, Example, Problems};
use crate::capture::transcripts::stats::{Duplicates, FileCounts};
use crate::observation::{ApiKind, Call, Category, Provider};

/// The agent's name in traces and reports.
pub const AGENT: &str = "gemini";

/// How a file's calls are labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Label {
    category: Category,
    /// The main session: the file's own, or a sub-agent's parent's.
    session: Option<String>,
    /// A sub-agent's own session id.
    agent: Option<String>,
    decider: String,
}

fn label(file: &ChatFile, scanned: &Scanned, spawned: &HashMap<&str, &str>) -> Label {
    let meta = scanned.log.meta.as_ref();
    let own = meta.map(|m| m.session_id.clone()).or_else(|| {
        // A sub-agent file is named by its session id.
        file.parent.as_ref()?;
        Some(file.path.file_stem()?.to_string_lossy().into_owned())
    });
    let subagent =
        file.parent.is_some() || meta.and_then(|m| m.kind.as_deref()) == Some("subagent");
    if !subagent {
        return Label {
            category: Category::UserTurn,
            session: own,
            agent: None,
            decider: "transcript:gemini:main".into(),
        };
    }
    // The tool call that started it names its type (`codebase_investigator` …).
    let kind = own
        .as_deref()
        .and_then(|id| spawned.get(id).copied())
        .filter(|t| !t.is_empty())
        .unwrap_or("subagent");
    Label {
        category: Category::Subagent,
        session: file.parent.clone().or_else(|| own.clone()),
        agent: own,
        decider: format!("transcript:agent:{kind}"),
    }
}

/// What the files held besides calls, for the notes.
#[derive(Debug, Default)]
struct Counts {
    without_tokens: u64,
    copies: u64,
    no_longer_in_conversation: u64,
    rewinds: u64,
    replaced_lists: u64,
    without_meta: u64,
    legacy: u64,
    calls_without_model: u64,
}

pub(super) fn build(found: Found, scanned: Vec<Scanned>, window: &TimeWindow) -> History {
    let mut problems = Problems::default();
    for file in &scanned {
        problems.merge(file.problems.clone(), 0);
    }
    let spawned: HashMap<&str, &str> = scanned
        .iter()
        .flat_map(|s| s.log.ledger.entries())
        .flat_map(|e| &e.message.spawned)
        .map(|s| (s.agent.as_str(), s.tool.as_str()))
        .collect();
    let mut seen: HashSet<(String, &str)> = HashSet::new();
    let mut counts = Counts::default();
    let mut files = FileCounts::default();
    let mut duplicates = Duplicates::default();
    let mut pending = Vec::new();
    for (file, scanned) in found.files.iter().zip(&scanned) {
        let label = label(file, scanned, &spawned);
        let log = &scanned.log;
        match (&log.meta, label.agent.is_some()) {
            (None, _) => files.other += 1,
            (Some(_), false) => files.sessions += 1,
            (Some(_), true) => files.subagents += 1,
        }
        if log.meta.is_none() && !log.ledger.entries().is_empty() {
            counts.without_meta += 1;
        }
        counts.legacy += u64::from(file.legacy);
        counts.rewinds += log.rewinds;
        counts.replaced_lists += log.replaced_lists;
        duplicates.repeated_lines += log.ledger.repeats;
        // Messages are the same messages in every file of one session (a legacy `.json`
        // beside the `.jsonl` Gemini CLI converted it to on resume).
        let session_key = log
            .meta
            .as_ref()
            .map_or_else(|| file.path.display().to_string(), |m| m.session_id.clone());
        let mut prompt = false;
        for entry in log.ledger.entries() {
            let message = &entry.message;
            if !seen.insert((session_key.clone(), message.id.as_str())) {
                counts.copies += 1;
                continue;
            }
            match message.kind {
                Kind::User { prompt: true } => prompt = true,
                Kind::User { prompt: false } | Kind::Other => {}
                Kind::Gemini => {
                    let Some(call) = call(message, &label, scanned.file, entry.line, &mut problems)
                    else {
                        counts.without_tokens += u64::from(message.tokens.is_none());
                        continue;
                    };
                    counts.calls_without_model += u64::from(message.model.is_none());
                    if !entry.in_conversation {
                        counts.no_longer_in_conversation += 1;
                    }
                    let mut call = call;
                    call.call.starts_turn =
                        std::mem::take(&mut prompt) && label.category == Category::UserTurn;
                    // A sub-agent's file sits in its parent's project directory.
                    call.call.project = Some(file.project.to_string());
                    pending.push(call);
                }
            }
        }
    }
    duplicates.copies = counts.copies;
    let placed = place(pending, window);
    let damage = damage_report(problems, &found.unreadable, |e| describe(e, &found));
    files.unreadable = damage.unreadable_files;
    let report = ImportReport {
        agent: AGENT.into(),
        dir: found.root.display().to_string(),
        files,
        bytes: scanned.iter().map(|s| s.bytes).sum(),
        lines: scanned.iter().map(|s| s.lines).sum(),
        lines_parsed: scanned.iter().map(|s| s.lines_parsed).sum(),
        calls: placed.calls.len() as u64,
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
    let notes = notes(&found, &report, &counts);
    History {
        agent: AGENT,
        dir: found.root,
        calls: placed.calls,
        origin_ms: placed.origin_ms,
        report,
        warnings: damage.warnings,
        notes,
    }
}

/// The call of a gemini message, if it has token counts and a time. A total that is not the
/// sum of its parts is a problem of the line; the call is still counted as written.
fn call(
    message: &Message,
    label: &Label,
    file: u32,
    line: u64,
    problems: &mut Problems,
) -> Option<Pending> {
    let tokens = message.tokens?;
    let Some(t_ms) = message.t_ms else {
        problems.add(file, line, Damage::MissingFields, || {
            format!("gemini message {} without a valid timestamp", message.id)
        });
        return None;
    };
    if !tokens.adds_up() {
        problems.add(file, line, Damage::TotalMismatch, || {
            format!(
                "gemini message {}: total {} is not input {} + tool {} + output {} + thoughts {} (cached {})",
                message.id,
                tokens.total,
                tokens.input,
                tokens.tool,
                tokens.output,
                tokens.thoughts,
                tokens.cached
            )
        });
    }
    let mut call = Call::blank();
    call.provider = Provider::Gemini;
    call.api = ApiKind::GenerateContent;
    call.method = "POST".into();
    let model = message.model.as_deref().unwrap_or("unknown");
    call.path = format!("/v1beta/models/{model}:streamGenerateContent");
    call.model = message.model.clone();
    call.usage = Some(tokens.usage());
    call.session_id = label.session.clone();
    call.agent_id = label.agent.clone();
    call.category = label.category;
    call.classified_by = label.decider.clone();
    Some(Pending {
        t_ms,
        file,
        line,
        call,
    })
}

fn notes(found: &Found, report: &ImportReport, counts: &Counts) -> Vec<String> {
    let files = &report.files;
    let mut notes = vec![format!(
        "read {} main and {} sub-agent Gemini CLI chat files ({} of them legacy .json sessions) in {} project directories: one call per gemini message with token counts, at the last record of its id; Gemini CLI's version is not recorded in them",
        files.sessions, files.subagents, counts.legacy, found.projects
    )];
    notes.push(format!(
        "chat records not counted as calls: {} gemini messages without token counts (synthetic: compression summaries, history rewrites, cancelled turns), {} records repeating a message id already read (Gemini CLI appends a message again on each update), {} messages copied into another file of the same session",
        counts.without_tokens, report.duplicates.repeated_lines, counts.copies
    ));
    if counts.no_longer_in_conversation > 0 {
        notes.push(format!(
            "{} counted calls are no longer in the conversation Gemini CLI would resume ({} $rewindTo records; {} $set.messages lists replacing it: each session's first, compressions, aborted turns rolled back): they were made, so they are counted",
            counts.no_longer_in_conversation, counts.rewinds, counts.replaced_lists
        ));
    }
    if counts.calls_without_model > 0 {
        notes.push(format!(
            "{} calls recorded without a model (a response with no text, thoughts or tool call)",
            counts.calls_without_model
        ));
    }
    if found.unmapped_projects > 0 {
        // An unreadable projects.json matters only where no marker names the root instead.
        let why = found
            .registry_error
            .as_ref()
            .map_or_else(String::new, |e| format!(" (projects.json unreadable: {e})"));
        notes.push(format!(
            "{} of {} project directories name no project root (no .project_root in them, no projects.json entry, no known root hashing to their name){why}: their calls are reported under the directory's name",
            found.unmapped_projects, found.projects
        ));
    }
    if counts.without_meta > 0 {
        notes.push(format!(
            "{} chat files have no metadata line (Gemini CLI would not load them): their calls are counted, without a session unless a sub-agent's directory names it",
            counts.without_meta
        ));
    }
    notes
}

/// `file:line: what`, the file relative to the directory read.
fn describe(example: &Example, found: &Found) -> String {
    let path = found
        .files
        .get(example.file as usize)
        .map(|f| f.path.as_path());
    describe_in(example, &found.root, path)
}
