//! Request inspection: reading what attribution needs from a request body, and adding
//! `stream_options.include_usage` to an OpenAI chat request without copying it.
//!
//! This module owns the request side of the wire formats: Anthropic Messages, OpenAI Chat
//! Completions and OpenAI Responses bodies. Long-context bodies run to megabytes and arrive as
//! many frames, so the body is never concatenated: a skim ([`BodySkim`], in `skim`) reads the
//! frames as they pass and keeps a reduced body — the top-level members, the first system and
//! the last user message, whether there are tools — which the serde pass then reads. Everything
//! agentprof does not keep (message contents, tool schemas, images) goes to serde's
//! `IgnoredAny` or to visitors that keep only a short prefix of a string. When the skim cannot
//! follow a body that is at hand whole, serde reads all of it (through a `Read` that walks the
//! chunk list), so an error says where the body broke.
//!
//! Inspection is lenient about shapes (a field of an unexpected type is ignored) but strict about
//! syntax: a body that is not one complete JSON object is an [`InspectError`] (or no summary,
//! for a body that was only skimmed as it streamed).
//!
//! Layout: the public types and the state of the pass are here; the serde visitors that fill
//! that state are in `visitors` (messages and content blocks in `visitors/content.rs`), the
//! skim in `skim`, the reader over the chunk list in `reader`, and [`add_include_usage`] in
//! `include_usage`.

pub mod coding;
mod include_usage;
mod reader;
mod skim;
#[cfg(test)]
mod tests;
mod visitors;

use std::fmt;

use bytes::Bytes;
use serde::de::DeserializeSeed;

use crate::observation::ApiKind;

pub use include_usage::{RewrittenBody, add_include_usage};
use reader::ChunksReader;
pub use skim::BodySkim;
use visitors::Root;

/// How many bytes of the system prompt and of the last user message are kept.
pub const PREFIX_BYTES: usize = 512;

/// Longest model name or user id kept (both are short in practice; this only bounds memory).
const SHORT_STRING_BYTES: usize = 1024;

/// What agentprof reads from a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSummary {
    /// The API shape the body was read as.
    pub api: ApiKind,
    /// `model`.
    pub model: Option<String>,
    /// `stream` (absent or null: false).
    pub stream: bool,
    /// The output limit: `max_tokens`, else `max_completion_tokens`, else `max_output_tokens`.
    pub max_tokens: Option<u64>,
    /// `tools` is a non-empty array.
    pub has_tools: bool,
    /// Elements of `messages` (or of the Responses API's `input`; a string `input` counts 1).
    pub message_count: u32,
    /// The first [`PREFIX_BYTES`] of the first system text: Anthropic's `system` (a string or
    /// the first `text` block), for OpenAI `instructions` or else the first `system`/`developer`
    /// message.
    pub system_prefix: Option<String>,
    /// The first [`PREFIX_BYTES`] of the last `user` message's text (its string content, or
    /// its first text block that is not injected context; `tool_result` blocks are skipped).
    pub last_user_prefix: Option<String>,
    /// The same of the last `user` message's **last** text block that is not injected context,
    /// when it has more than one: where a coding agent puts what the user typed, after the
    /// reminders, local-command output and caveats it prepends (Claude Code), or after the
    /// previous prompt it repeats (Claude Code 2.1.197's compaction request). `None` when the
    /// message has one such text at most: then it is `last_user_prefix`.
    pub last_user_final_prefix: Option<String>,
    /// The last `user` message consists of `tool_result` blocks only: a tool-loop turn, not
    /// something the user typed.
    pub last_user_is_tool_result: bool,
    /// Anthropic `metadata.user_id`.
    pub metadata_user_id: Option<String>,
    /// OpenAI `stream_options.include_usage`, when present as a boolean.
    pub include_usage: Option<bool>,
    /// The shape of `stream_options`, which decides how [`add_include_usage`] edits the body.
    pub stream_options: StreamOptionsShape,
}

/// What the request's top-level `stream_options` member looks like.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StreamOptionsShape {
    /// No `stream_options` member.
    #[default]
    Absent,
    /// An object (whatever its `include_usage`).
    Object,
    /// Present but not an object (`null`, or a wrong type).
    Other,
}

/// Why a body could not be inspected or edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectError {
    /// The body is not a complete, well-formed JSON object. `message` is serde_json's, which
    /// ends with "at line L column C".
    Json {
        /// serde_json's description, position included.
        message: String,
        /// 1-based line of the error (0 if serde_json reported none).
        line: usize,
        /// 1-based column of the error (0 if serde_json reported none).
        column: usize,
    },
    /// [`add_include_usage`] found no closing `}` at the end of the body.
    NotAnObject,
}

impl fmt::Display for InspectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InspectError::Json { message, .. } => {
                write!(f, "request body is not valid JSON: {message}")
            }
            InspectError::NotAnObject => f.write_str("request body is not a JSON object"),
        }
    }
}

impl std::error::Error for InspectError {}

impl From<serde_json::Error> for InspectError {
    fn from(e: serde_json::Error) -> Self {
        InspectError::Json {
            message: e.to_string(),
            line: e.line(),
            column: e.column(),
        }
    }
}

impl RequestSummary {
    /// Reads a request body, given as the chunks it arrived in: skimmed ([`BodySkim`]), or
    /// read whole when the skim cannot follow it (an error then says where the body broke).
    pub fn inspect(api: ApiKind, body: &[Bytes]) -> Result<RequestSummary, InspectError> {
        let mut skim = BodySkim::default();
        for chunk in body {
            skim.feed(chunk);
        }
        match Self::from_skim(api, skim) {
            Some(summary) => Ok(summary),
            None => Self::inspect_whole(api, body),
        }
    }

    /// What a skim fed the whole body says, or `None` if the body is not one well-formed JSON
    /// object (the skim's reduced body is read with serde, which checks what the skim kept).
    pub fn from_skim(api: ApiKind, skim: BodySkim) -> Option<RequestSummary> {
        let reduced = skim.finish()?;
        let mut state = State::default();
        let mut de = serde_json::Deserializer::from_slice(&reduced.body);
        Root(&mut state).deserialize(&mut de).ok()?;
        de.end().ok()?;
        // serde counted the messages the skim kept; the skim counted them all.
        state.messages = state
            .messages
            .saturating_sub(reduced.written)
            .saturating_add(reduced.elements);
        Some(state.into_summary(api))
    }

    /// Reads every byte of the body with serde: what [`RequestSummary::inspect`] falls back to
    /// when the skim does not apply (public for the benchmarks that compare the two).
    pub fn inspect_whole(api: ApiKind, body: &[Bytes]) -> Result<RequestSummary, InspectError> {
        let mut state = State::default();
        match body {
            [one] => {
                let mut de = serde_json::Deserializer::from_slice(one);
                Root(&mut state).deserialize(&mut de)?;
                de.end()?;
            }
            chunks => {
                let mut de = serde_json::Deserializer::from_reader(ChunksReader::new(chunks));
                Root(&mut state).deserialize(&mut de)?;
                de.end()?;
            }
        }
        Ok(state.into_summary(api))
    }
}

/// Everything gathered during the pass; turned into a [`RequestSummary`] at the end.
#[derive(Debug, Default)]
struct State {
    model: Option<String>,
    stream: Option<bool>,
    max_tokens: Option<u64>,
    max_completion_tokens: Option<u64>,
    max_output_tokens: Option<u64>,
    tools: u64,
    messages: u32,
    /// Anthropic top-level `system`.
    system_field: Option<String>,
    /// Responses API `instructions`.
    instructions: Option<String>,
    /// The first `system`/`developer` message's text; `Some(None)` if it had none.
    first_system_message: Option<Option<String>>,
    /// The last user message so far.
    last_user: LastUser,
    metadata_user_id: Option<String>,
    include_usage: Option<bool>,
    stream_options: StreamOptionsShape,
    /// Reused buffers for the message being read.
    scratch: ContentScratch,
}

/// The last user message seen, in buffers reused from message to message.
#[derive(Debug, Default)]
struct LastUser {
    seen: bool,
    text: String,
    has_text: bool,
    last: String,
    has_last: bool,
    tool_result_only: bool,
}

/// What reading one `content` value (or Anthropic's `system`) found.
#[derive(Debug, Default)]
struct ContentScratch {
    /// The prefix of the first text (the string content, or the first text block).
    text: String,
    has_text: bool,
    /// `text` is injected context (a `<system-reminder>`, a compaction summary): a later real
    /// text block replaces it, because Claude Code puts these before what the message is about.
    text_is_reminder: bool,
    /// Keep the last text block too (message content; not Anthropic's `system`, whose first
    /// block is what rules look at).
    keep_last: bool,
    /// The prefix of the latest text block after `text` that is not injected context.
    last: String,
    has_last: bool,
    /// Blocks in an array content, and how many were `tool_result`.
    blocks: u32,
    tool_results: u32,
    /// The current block's `text`, kept until its `type` is known (keys come in any order).
    block_text: String,
    block_has_text: bool,
}

impl ContentScratch {
    fn reset(&mut self, keep_last: bool) {
        self.text.clear();
        self.has_text = false;
        self.text_is_reminder = false;
        self.keep_last = keep_last;
        self.last.clear();
        self.has_last = false;
        self.blocks = 0;
        self.tool_results = 0;
    }

    fn text(&self) -> Option<String> {
        self.has_text.then(|| self.text.clone())
    }
}

impl State {
    fn into_summary(self, api: ApiKind) -> RequestSummary {
        let first_system = self.first_system_message.flatten();
        let system_prefix = match api {
            ApiKind::Messages => self.system_field,
            ApiKind::ChatCompletions | ApiKind::Responses => self.instructions.or(first_system),
            ApiKind::GenerateContent => self.system_field,
            ApiKind::Other => self.system_field.or(self.instructions).or(first_system),
        };
        let lu = self.last_user;
        let last_user_is_tool_result = lu.seen && lu.tool_result_only;
        let readable = lu.seen && lu.has_text && !last_user_is_tool_result;
        let last_user_final_prefix = (readable && lu.has_last).then_some(lu.last);
        let last_user_prefix = readable.then_some(lu.text);
        RequestSummary {
            api,
            model: self.model,
            stream: self.stream.unwrap_or(false),
            max_tokens: self
                .max_tokens
                .or(self.max_completion_tokens)
                .or(self.max_output_tokens),
            has_tools: self.tools > 0,
            message_count: self.messages,
            system_prefix,
            last_user_prefix,
            last_user_final_prefix,
            last_user_is_tool_result,
            metadata_user_id: self.metadata_user_id,
            include_usage: self.include_usage,
            stream_options: self.stream_options,
        }
    }

    /// Files the message just read (its content is in `scratch`) under its role.
    fn end_message(&mut self, role: Role) {
        let s = &mut self.scratch;
        match role {
            Role::User => {
                let lu = &mut self.last_user;
                lu.seen = true;
                // Swap rather than copy: the old buffer becomes the next message's scratch.
                std::mem::swap(&mut lu.text, &mut s.text);
                std::mem::swap(&mut lu.last, &mut s.last);
                lu.has_text = s.has_text;
                lu.has_last = s.has_last;
                lu.tool_result_only = s.blocks > 0 && s.tool_results == s.blocks;
            }
            Role::System if self.first_system_message.is_none() => {
                self.first_system_message = Some(s.text());
            }
            _ => {}
        }
    }
}

/// Message roles that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    User,
    /// `system` or `developer`.
    System,
    Other,
}

/// Appends to `buf` as much of `s` as fits in `cap` bytes, cutting at a char boundary.
fn push_prefix(buf: &mut String, s: &str, cap: usize) {
    let room = cap.saturating_sub(buf.len());
    buf.push_str(&s[..s.floor_char_boundary(room)]);
}
