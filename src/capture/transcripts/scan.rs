//! One worker's pass over one byte range of one file: lines in, compact entries out.
//!
//! Lines of one response (one per content block, a placeholder before the final) are merged
//! here, keeping the larger usage; api-request records and prompts are collected for the
//! file-level step that joins them ([`super::resolve`]).

use std::collections::HashMap;
use std::fs::File;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use super::cache::end_hash;
use super::discover::{TranscriptFile, meta_agent_type};
use super::entry::{
    CompactUsage, Entry, IdStore, Interner, NO_MESSAGE_ID, SIDECHAIN, SharedInterner, id_hash,
    unnamed_message,
};
use super::problems::{Damage, Problems};
use super::reader::{LineAt, LineBytes, LineReader, MAX_PARSED_LINE};
use super::record::{self, Kind, Line};
use super::route::Route;
use crate::attribute::turns::AGENT_AUTHORED;
use crate::observation::Category;

/// A byte range of a file: the lines that start in `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    pub file: u32,
    pub start: u64,
    pub end: u64,
}

/// An api-request record: which call it was, what for, when it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiRequest {
    pub id: u64,
    pub source: u32,
    pub t: Option<i64>,
}

/// Counters of a scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    pub lines: u64,
    pub parsed: u64,
    /// Lines repeating a response already seen in the same file (one per content block).
    pub merged_lines: u64,
    /// Of those, lines whose usage was larger and replaced the earlier (placeholder) one.
    pub placeholders: u64,
    /// `<synthetic>` entries: written by Claude Code itself, not API calls.
    pub synthetic: u64,
    pub no_message_id: u64,
    pub prompts: u64,
}

impl ScanStats {
    pub fn add(&mut self, other: &ScanStats) {
        self.lines += other.lines;
        self.parsed += other.parsed;
        self.merged_lines += other.merged_lines;
        self.placeholders += other.placeholders;
        self.synthetic += other.synthetic;
        self.no_message_id += other.no_message_id;
        self.prompts += other.prompts;
    }
}

/// What a range yielded.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct UnitOutput {
    pub file: u32,
    pub start: u64,
    pub entries: Vec<Entry>,
    pub api_requests: Vec<ApiRequest>,
    /// Byte offsets of prompt records.
    pub prompts: Vec<u64>,
    pub problems: Problems,
    pub stats: ScanStats,
    /// For a range starting past 0: each entry's usage totals that raised its running maximum
    /// (its first line's, then each larger one), as `(entry index, total)` in line order. A
    /// response whose lines straddle ranges is merged with them exactly as one read would
    /// ([`super::resolve::combine`]).
    pub records: Vec<(u32, u64)>,
    /// Just past the newline of the last complete line handed out; 0 for none.
    pub complete_end: u64,
    /// `(end, hash of the bytes before it)` where the file's complete lines end, when the
    /// last range found it and the cache asked ([`Shared::hash_ends`]).
    pub end_hash: Option<(u64, u64)>,
}

/// What a range's scan gives: the output of its complete lines, and a last line cut off
/// without its newline (a transcript being written) as a range of its own.
#[derive(Debug)]
pub struct Scanned {
    pub body: UnitOutput,
    pub tail: Option<UnitOutput>,
}

/// What every worker shares.
pub struct Shared<'a> {
    pub files: &'a [TranscriptFile],
    pub interner: &'a Mutex<Interner>,
    /// The message and request id strings, kept only when a trace is written.
    pub ids: Option<&'a IdStore>,
    pub progress: &'a AtomicU64,
    /// Hash the bytes before where each file's complete lines end (for the cache).
    pub hash_ends: bool,
}

/// One worker: its reader buffer and scratch maps live across ranges.
pub struct Worker<'a> {
    reader: LineReader,
    interner: SharedInterner<'a>,
    seen: HashMap<(u64, u64), usize>,
}

/// What a line needs to know about its file.
struct FileContext {
    file: u32,
    session: u32,
    agent: u32,
    agent_type: u32,
    project: u32,
}

impl<'a> Worker<'a> {
    pub fn new(shared: &Shared<'a>) -> Self {
        Worker {
            reader: LineReader::default(),
            interner: SharedInterner::new(shared.interner),
            seen: HashMap::new(),
        }
    }

    /// Scans one range. A last line cut off without its newline comes back apart, as a range
    /// of its own ([`Scanned::tail`]).
    pub fn scan(&mut self, shared: &Shared<'a>, unit: Unit) -> Scanned {
        let mut out = UnitOutput {
            file: unit.file,
            start: unit.start,
            ..UnitOutput::default()
        };
        let Some(info) = shared.files.get(unit.file as usize) else {
            return Scanned {
                body: out,
                tail: None,
            };
        };
        let context = FileContext {
            file: unit.file,
            session: self
                .interner
                .opt(info.session.as_deref().map(str::as_bytes)),
            agent: self
                .interner
                .opt(info.agent_id.as_deref().map(str::as_bytes)),
            agent_type: match info.has_meta {
                false => 0,
                true => self
                    .interner
                    .opt(meta_agent_type(&info.path).as_deref().map(str::as_bytes)),
            },
            project: self
                .interner
                .opt(info.project.as_deref().map(str::as_bytes)),
        };
        let file = match File::open(&info.path) {
            Ok(file) => file,
            Err(err) => {
                out.problems
                    .add(unit.file, 0, Damage::UnreadableFile, || err.to_string());
                return Scanned {
                    body: out,
                    tail: None,
                };
            }
        };
        self.seen.clear();
        let Worker {
            reader,
            interner,
            seen,
        } = self;
        let mut tail: Option<UnitOutput> = None;
        let mut tail_seen = HashMap::new();
        let mut on_line = |at: LineAt, bytes: LineBytes<'_>, route: Route| {
            // The cut-off line is read as a range of its own: the output of the complete lines
            // is then what a later read, after the line is finished, can start from.
            let (out, seen, at) = if at.complete {
                out.complete_end = at.offset + at.len + 1;
                (&mut out, &mut *seen, at)
            } else {
                let tail = tail.get_or_insert_with(|| UnitOutput {
                    file: unit.file,
                    start: at.offset,
                    complete_end: at.offset,
                    ..UnitOutput::default()
                });
                (tail, &mut tail_seen, LineAt { number: 1, ..at })
            };
            out.stats.lines += 1;
            let torn = !at.complete;
            match (route, bytes) {
                (Route::Blank | Route::Skip, _) => {}
                (Route::NotJson, _) => {
                    let damage = if torn {
                        Damage::TornLastLine
                    } else {
                        Damage::NotJson
                    };
                    out.problems.add(unit.file, at.number, damage, || {
                        format!("not a JSON object ({} bytes)", at.len)
                    });
                }
                (Route::Parse, None) => {
                    out.problems.add(unit.file, at.number, Damage::TooLong, || {
                        format!(
                            "{} MB line (limit {} MB)",
                            at.len >> 20,
                            MAX_PARSED_LINE >> 20
                        )
                    });
                }
                (Route::Parse, Some(bytes)) => match record::parse(bytes) {
                    Ok(line) => {
                        out.stats.parsed += 1;
                        take(out, &context, interner, seen, shared, at, &line);
                    }
                    Err(err) => {
                        let damage = if torn {
                            Damage::TornLastLine
                        } else {
                            Damage::Unparsable
                        };
                        out.problems
                            .add(unit.file, at.number, damage, || err.to_string());
                    }
                },
            }
        };
        if let Err(err) =
            reader.read_range(&file, unit.start, unit.end, shared.progress, &mut on_line)
        {
            out.problems
                .add(unit.file, 0, Damage::UnreadableFile, || err.to_string());
        }
        if shared.hash_ends && unit.end == u64::MAX {
            // The last range knows where the file's complete lines end, with the file open.
            let end = tail.as_ref().map_or(out.complete_end, |t| t.start);
            if end > unit.start
                && let Ok(hash) = end_hash(&file, end)
            {
                out.end_hash = Some((end, hash));
            }
        }
        Scanned { body: out, tail }
    }
}

/// Takes what an import needs from one parsed line.
fn take(
    out: &mut UnitOutput,
    context: &FileContext,
    interner: &mut SharedInterner<'_>,
    seen: &mut HashMap<(u64, u64), usize>,
    shared: &Shared<'_>,
    at: LineAt,
    line: &Line<'_>,
) {
    let missing = |out: &mut UnitOutput, what: &'static str| {
        out.problems
            .add(context.file, at.number, Damage::MissingFields, || {
                what.to_string()
            });
    };
    match line.kind {
        Kind::Assistant => {}
        Kind::User => {
            if is_prompt(line) {
                out.prompts.push(at.offset);
                out.stats.prompts += 1;
            }
            return;
        }
        Kind::ApiRequest => {
            match line.id {
                Some(id) => out.api_requests.push(ApiRequest {
                    id: id_hash(id),
                    source: interner.opt(line.query_source),
                    t: record::millis(line.timestamp),
                }),
                None => missing(out, "api-request record without id"),
            }
            return;
        }
        Kind::Other => return,
    }
    if line.model == Some(b"<synthetic>") {
        out.stats.synthetic += 1;
        return;
    }
    let Some(raw) = line.usage else {
        return missing(out, "assistant record without usage");
    };
    let usage = match raw.checked() {
        Ok(usage) => usage,
        Err(what) => return missing(out, what),
    };
    let Some(t) = record::millis(line.timestamp) else {
        return missing(out, "assistant record without a valid timestamp");
    };
    let Some(usage) = CompactUsage::from_usage(&usage) else {
        return missing(out, "token count out of range");
    };
    let mut flags = if line.is_sidechain { SIDECHAIN } else { 0 };
    let message = match line.id.or(line.request_id) {
        Some(id) => id_hash(id),
        None => {
            // Nothing to deduplicate on: the line counts on its own (and is reported).
            flags |= NO_MESSAGE_ID;
            out.stats.no_message_id += 1;
            unnamed_message(context.file, at.offset)
        }
    };
    let request = line.request_id.map_or(0, id_hash);
    let reference = line.request_ref.map_or(0, id_hash);
    let record = out.start > 0;
    if let Some(&index) = seen.get(&(message, request)) {
        let entry = &mut out.entries[index];
        out.stats.merged_lines += 1;
        entry.t_end = entry.t_end.max(t);
        if usage.total() > entry.usage.total() {
            entry.usage = usage;
            out.stats.placeholders += 1;
            if record {
                out.records.push((index as u32, usage.total()));
            }
        }
        if entry.reference == 0 {
            entry.reference = reference;
        }
        return;
    }
    let ids = match shared.ids {
        Some(store) => keep_ids(store, line),
        None => 0,
    };
    let agent = match line.agent_id {
        Some(id) => interner.intern(id),
        None if line.is_sidechain => context.agent,
        None => 0,
    };
    let agent_type = match context.agent_type {
        0 => interner.opt(line.attribution_agent),
        known => known,
    };
    seen.insert((message, request), out.entries.len());
    if record {
        out.records.push((out.entries.len() as u32, usage.total()));
    }
    out.entries.push(Entry {
        message,
        request,
        reference,
        t_start: t,
        t_end: t,
        offset: at.offset,
        file: context.file,
        usage,
        session: match line.session_id {
            Some(id) => interner.intern(id),
            None => context.session,
        },
        agent,
        model: interner.opt(line.model),
        agent_type,
        source: 0,
        version: interner.opt(line.version),
        project: context.project,
        ids,
        category: if line.is_sidechain {
            Category::Subagent
        } else {
            Category::UserTurn
        },
        flags,
    });
}

/// A prompt the user typed on the main loop (not a tool result, not text the agent itself
/// put in the user role).
fn is_prompt(line: &Line<'_>) -> bool {
    if line.is_sidechain || line.is_meta || line.is_compact_summary || line.has_tool_result {
        return false;
    }
    let Some(text) = line.prompt else {
        return false;
    };
    let text = text.trim_ascii_start();
    !text.is_empty()
        && !AGENT_AUTHORED
            .iter()
            .any(|marker| text.starts_with(marker.as_bytes()))
}

fn keep_ids(store: &IdStore, line: &Line<'_>) -> u32 {
    let text = |b: Option<&[u8]>| -> Box<str> {
        String::from_utf8_lossy(b.unwrap_or_default())
            .into_owned()
            .into_boxed_str()
    };
    let pair = (text(line.id), text(line.request_id));
    let mut store = match store.lock() {
        Ok(store) => store,
        Err(poisoned) => poisoned.into_inner(),
    };
    store.push(pair);
    u32::try_from(store.len()).unwrap_or(u32::MAX)
}
