//! Messages into an imported history: one call per assistant message with token counts,
//! labelled main (`user_turn`), `compaction` or `subagent` (a session with a parent: counted
//! under its root session, the child session as the agent), in the project of its session's
//! directory, turns started by user messages — and the report's `import` object and notes.

use crate::attribute::period::TimeWindow;
use std::collections::HashMap;

use super::store::{Row, Store};
use crate::capture::transcripts::ImportReport;
use crate::capture::transcripts::history::{History, Pending, damage_report, place, relative};
use crate::capture::transcripts::problems::Example;
use crate::capture::transcripts::stats::{Duplicates, FileCounts};
use crate::observation::{ApiKind, Call, Category, Provider};

/// The agent's name in traces and reports.
pub const AGENT: &str = "opencode";

/// What was read besides calls, for the notes.
#[derive(Debug, Default)]
pub struct Counts {
    pub without_tokens: u64,
    pub other_providers: u64,
    pub copies: u64,
}

/// The root of `session`'s parent chain (itself when it has no parent).
fn root<'a>(sessions: &'a HashMap<String, Option<String>>, session: &'a str) -> &'a str {
    let mut at = session;
    // A cycle cannot be followed forever.
    for _ in 0..64 {
        match sessions.get(at).and_then(|p| p.as_deref()) {
            Some(parent) => at = parent,
            None => break,
        }
    }
    at
}

pub(super) fn build(
    root_dir: std::path::PathBuf,
    mut store: Store,
    copies: u64,
    window: &TimeWindow,
) -> History {
    let mut counts = Counts {
        copies,
        ..Counts::default()
    };
    // A session's messages in the order opencode shows them.
    store.messages.sort_by(|a, b| {
        (&a.session, a.time_created, &a.id).cmp(&(&b.session, b.time_created, &b.id))
    });
    let mut pending = Vec::new();
    let mut prompt = false;
    let mut current: Option<&str> = None;
    for row in &store.messages {
        if current != Some(row.session.as_str()) {
            current = Some(row.session.as_str());
            prompt = false;
        }
        let message = &row.message;
        if message.is_user() {
            prompt = true;
            continue;
        }
        if !message.is_assistant() {
            continue;
        }
        let Some(tokens) = message.tokens.filter(|t| !t.is_empty()) else {
            counts.without_tokens += 1;
            continue;
        };
        let mut call = call(row, &store, &mut counts);
        call.usage = Some(tokens.usage());
        call.starts_turn = std::mem::take(&mut prompt) && call.category == Category::UserTurn;
        pending.push(Pending {
            t_ms: message
                .time
                .completed
                .or(message.time.created)
                .unwrap_or(row.time_created),
            file: row.source,
            line: row.place,
            call,
        });
    }
    let placed = place(pending, window);
    let sources = &store.sources;
    let damage = damage_report(store.problems, &store.unreadable, |e| {
        describe(e, &root_dir, sources)
    });
    let subagents = store.sessions.values().filter(|p| p.is_some()).count() as u64;
    let report = ImportReport {
        agent: AGENT.into(),
        dir: root_dir.display().to_string(),
        files: FileCounts {
            sessions: store.sessions.len() as u64 - subagents,
            subagents,
            other: 0,
            unreadable: damage.unreadable_files,
        },
        bytes: store.bytes,
        lines: store.messages.len() as u64,
        lines_parsed: store.messages.len() as u64,
        calls: placed.calls.len() as u64,
        duplicates: Duplicates {
            copies: counts.copies,
            ..Duplicates::default()
        },
        since: window.since.map(|d| d.to_string()),
        calls_before_since: placed.before_since,
        until: window.until.map(|d| d.to_string()),
        calls_after_until: placed.after_until,
        damaged: damage.damaged,
        damage_examples: damage.examples,
        ..ImportReport::default()
    };
    let notes = notes(&report, &counts, store.legacy_files);
    History {
        agent: AGENT,
        dir: root_dir,
        calls: placed.calls,
        origin_ms: placed.origin_ms,
        report,
        warnings: damage.warnings,
        notes,
    }
}

/// The call of an assistant message, labelled (usage set by the caller).
fn call(row: &Row, store: &Store, counts: &mut Counts) -> Call {
    let (sessions, directories) = (&store.sessions, &store.directories);
    let message = &row.message;
    let mut call = Call::blank();
    let provider = message.provider_id.as_deref().unwrap_or("");
    let (kind, api, path) = match provider {
        "anthropic" => (Provider::Anthropic, ApiKind::Messages, "/v1/messages"),
        "openai" => (Provider::OpenAi, ApiKind::Responses, "/v1/responses"),
        p if p.starts_with("google") => (
            Provider::Gemini,
            ApiKind::GenerateContent,
            "/v1beta/models:streamGenerateContent",
        ),
        _ => {
            counts.other_providers += 1;
            (
                Provider::OpenAi,
                ApiKind::ChatCompletions,
                "/v1/chat/completions",
            )
        }
    };
    call.provider = kind;
    call.api = api;
    call.method = "POST".into();
    call.path = path.into();
    call.model = message.model_id.clone();
    let own = row.session.as_str();
    let main = root(sessions, own);
    call.session_id = Some(main.to_string());
    // The session's own directory (a child's is its parent's); the root's if it has none.
    call.project = directories
        .get(own)
        .or_else(|| directories.get(main))
        .cloned();
    if main != own {
        call.category = Category::Subagent;
        call.agent_id = Some(own.to_string());
        let kind = message.agent.as_deref().unwrap_or("subagent");
        call.classified_by = format!("transcript:agent:{kind}");
    } else if message.is_compaction() {
        call.category = Category::Compaction;
        call.classified_by = "transcript:opencode:compaction".into();
    } else {
        call.category = Category::UserTurn;
        call.classified_by = "transcript:opencode:main".into();
    }
    call
}

fn notes(report: &ImportReport, counts: &Counts, legacy_files: u64) -> Vec<String> {
    let files = &report.files;
    let mut notes = vec![format!(
        "read {} main and {} sub-agent opencode sessions ({} legacy message files): one call per assistant message with token counts",
        files.sessions, files.subagents, legacy_files
    )];
    notes.push(format!(
        "messages not counted as calls: {} assistant messages without token counts (a call killed or failed before its usage came), {} legacy message files the database already holds",
        counts.without_tokens, counts.copies
    ));
    if counts.other_providers > 0 {
        notes.push(format!(
            "{} calls went to providers other than Anthropic, OpenAI and Google: they are counted as OpenAI-compatible chat completions",
            counts.other_providers
        ));
    }
    notes
}

/// `source: what` (the database or a legacy file), relative to the directory read.
fn describe(example: &Example, root: &std::path::Path, sources: &[std::path::PathBuf]) -> String {
    let path = sources
        .get(example.file as usize)
        .map_or_else(String::new, |p| relative(root, p));
    format!("{path}: {}", example.detail)
}
