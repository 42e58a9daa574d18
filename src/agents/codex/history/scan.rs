//! Reading one rollout file into the events counting needs: its identity, prompts, models
//! and token counts — with every damaged line named, and the rest of the file still read.

use std::io::Read as _;
use std::sync::Arc;

use super::discover::RolloutFile;
use super::line::{LineError, Record, SourceKind, TokenUsage, read};
use crate::capture::transcripts::history::each_line;
use crate::capture::transcripts::problems::{Damage, Problems};

/// The first `session_meta` of a file: whose rollout it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    pub id: String,
    pub forked_from_id: Option<String>,
    pub source: SourceKind,
    pub cli_version: Option<String>,
    /// The thread's working directory: the project its calls are reported under.
    pub cwd: Option<String>,
}

/// What happened in a rollout, in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A prompt (`user_message`): the next call starts a turn.
    UserTurn,
    /// A `token_count` with usage.
    Count {
        line: u64,
        t_ms: i64,
        total: TokenUsage,
        last: TokenUsage,
        /// The model of the latest `turn_context` before it.
        model: Option<Arc<str>>,
        /// The response id of the `token_usage_record` just before it (0.171 and later).
        response_id: Option<Box<str>>,
    },
    /// A `token_usage_record` with usage (0.171 and later): one response, exactly.
    Response {
        line: u64,
        t_ms: i64,
        usage: TokenUsage,
        model: Option<Arc<str>>,
        response_id: Option<Box<str>>,
    },
    /// A `compacted` line: the response just before it was a compaction.
    Compacted,
}

/// One file, read.
#[derive(Debug, Default)]
pub struct Scanned {
    /// Index into the discovered files.
    pub file: u32,
    pub meta: Option<Meta>,
    /// Further `session_meta` lines (a fork's replayed parent, a resume).
    pub extra_metas: u64,
    pub events: Vec<Event>,
    /// `token_count` lines with `info: null`.
    pub null_counts: u64,
    pub lines: u64,
    pub lines_parsed: u64,
    pub bytes: u64,
    pub problems: Problems,
}

/// Reads and scans one file. An unreadable file is a problem of the result, not an error.
pub fn scan(index: u32, file: &RolloutFile) -> Scanned {
    let mut out = Scanned {
        file: index,
        ..Scanned::default()
    };
    let bytes = match read_file(file) {
        Ok(bytes) => bytes,
        Err(err) => {
            out.problems
                .add(index, 0, Damage::UnreadableFile, || err.to_string());
            return out;
        }
    };
    out.bytes = bytes.len() as u64;
    let mut model: Option<Arc<str>> = None;
    let mut response_id: Option<Box<str>> = None;
    each_line(&bytes, |number, line, complete| {
        out.lines += 1;
        let record = match read(line) {
            Ok(record) => record,
            Err(err) => {
                let (damage, detail) = match err {
                    // A cut-off last line is what a crash or a live writer leaves.
                    LineError::NotJson(d) if !complete => (Damage::TornLastLine, d),
                    LineError::NotJson(d) => (Damage::NotJson, d),
                    LineError::Unparsable(d) => (Damage::Unparsable, d),
                };
                out.problems.add(index, number, damage, || detail);
                return;
            }
        };
        if record != Record::Other {
            out.lines_parsed += 1;
        }
        match record {
            Record::SessionMeta {
                id,
                forked_from_id,
                source,
                cli_version,
                cwd,
            } => {
                if out.meta.is_none() {
                    out.meta = Some(Meta {
                        id,
                        forked_from_id,
                        source,
                        cli_version,
                        cwd,
                    });
                } else {
                    out.extra_metas += 1;
                }
            }
            Record::TurnContext { model: Some(m) } => {
                if model.as_deref() != Some(m.as_str()) {
                    model = Some(Arc::from(m));
                }
            }
            Record::UserMessage => out.events.push(Event::UserTurn),
            Record::ResponseUsage {
                t_ms,
                response_id: id,
                usage,
            } => {
                response_id = id.map(Box::from);
                if let Some(usage) = usage {
                    out.events.push(Event::Response {
                        line: number,
                        t_ms,
                        usage,
                        model: model.clone(),
                        response_id: response_id.clone(),
                    });
                }
            }
            Record::Compacted => out.events.push(Event::Compacted),
            Record::TokenCount {
                t_ms,
                usage: Some((total, last)),
            } => out.events.push(Event::Count {
                line: number,
                t_ms,
                total,
                last,
                model: model.clone(),
                response_id: response_id.take(),
            }),
            Record::TokenCount { usage: None, .. } => out.null_counts += 1,
            Record::TurnContext { model: None } | Record::Other => {}
        }
    });
    out
}

/// The file's bytes, decompressed when it is `.zst`.
fn read_file(file: &RolloutFile) -> std::io::Result<Vec<u8>> {
    if !file.compressed {
        return std::fs::read(&file.path);
    }
    let input = std::io::BufReader::new(std::fs::File::open(&file.path)?);
    let mut decoder = ruzstd::decoding::StreamingDecoder::new(input)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
    let mut out = Vec::with_capacity(file.size as usize * 4);
    decoder.read_to_end(&mut out)?;
    Ok(out)
}
