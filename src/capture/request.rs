//! Request inspection: reading what attribution needs from a request body in one pass, and
//! adding `stream_options.include_usage` to an OpenAI chat request without copying it.
//!
//! This module owns the request side of the wire formats: Anthropic Messages, OpenAI Chat
//! Completions and OpenAI Responses bodies. Long-context bodies run to megabytes and arrive as
//! many frames, so the body is never concatenated: several chunks are read through a `Read`
//! that walks the chunk list, and everything agentprof does not keep (message contents, tool
//! schemas, images) goes to serde's `IgnoredAny` or to visitors that keep only a short prefix of
//! a string. Buffers for those prefixes are reused across messages, so inspecting a body with
//! thousands of messages allocates a bounded number of times.
//!
//! Inspection is lenient about shapes (a field of an unexpected type is ignored) but strict about
//! syntax: a body that is not one complete JSON object is an [`InspectError`].

use std::fmt;
use std::io::{self, Read};

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::observation::ApiKind;

/// How many bytes of the system prompt and of the last user message are kept.
pub const PREFIX_BYTES: usize = 512;

/// Longest model name or user id kept (both are short in practice; this only bounds memory).
const SHORT_STRING_BYTES: usize = 1024;

/// The member the proxy appends to an OpenAI chat request so the stream reports usage.
const INCLUDE_USAGE_MEMBER: &[u8] = b"\"stream_options\":{\"include_usage\":true}}";

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
    /// its first text block; `tool_result` blocks are skipped).
    pub last_user_prefix: Option<String>,
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
    /// Reads a request body, given as the chunks it arrived in, in one pass.
    pub fn inspect(api: ApiKind, body: &[Bytes]) -> Result<RequestSummary, InspectError> {
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

/// A request body edited by [`add_include_usage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewrittenBody {
    /// The body to send, sharing the original chunks' memory where possible.
    pub chunks: Vec<Bytes>,
    /// Its total length, for `Content-Length`.
    pub len: u64,
}

/// Makes an OpenAI chat streaming request report usage: returns the body with
/// `stream_options.include_usage` set to `true`, or `None` when nothing is to be done (not a
/// Chat Completions request, not streaming — OpenAI rejects `stream_options` then — or
/// `include_usage` already true).
///
/// `summary` must be [`RequestSummary::inspect`]'s result for this `body` (passing it avoids a
/// second parse). The usual case, no `stream_options` at all, copies nothing: the member is
/// spliced in before the final `}` as a small new chunk, the original chunks are shared. When a
/// `stream_options` object exists already (or is `null`), the body is re-serialized through
/// `serde_json::Value` instead; that is rare and changes the member order (keys come out
/// sorted).
pub fn add_include_usage(
    body: &[Bytes],
    summary: &RequestSummary,
) -> Result<Option<RewrittenBody>, InspectError> {
    if summary.api != ApiKind::ChatCompletions
        || !summary.stream
        || summary.include_usage == Some(true)
    {
        return Ok(None);
    }
    let chunks = match summary.stream_options {
        StreamOptionsShape::Absent => splice_member(body)?,
        StreamOptionsShape::Object | StreamOptionsShape::Other => rewrite_value(body)?,
    };
    let len = chunks.iter().map(|c| c.len() as u64).sum();
    Ok(Some(RewrittenBody { chunks, len }))
}

/// Inserts the include-usage member before the body's final `}`, sharing all original bytes.
fn splice_member(body: &[Bytes]) -> Result<Vec<Bytes>, InspectError> {
    let (ci, off) = last_non_ws(body, body.len(), None).ok_or(InspectError::NotAnObject)?;
    if body[ci][off] != b'}' {
        return Err(InspectError::NotAnObject);
    }
    let empty_object = last_non_ws(body, ci, Some(off)).map(|(c, o)| body[c][o]) == Some(b'{');
    let mut out: Vec<Bytes> = body[..ci]
        .iter()
        .filter(|c| !c.is_empty())
        .cloned()
        .collect();
    if off > 0 {
        out.push(body[ci].slice(..off));
    }
    out.push(if empty_object {
        Bytes::from_static(INCLUDE_USAGE_MEMBER)
    } else {
        let mut member = Vec::with_capacity(INCLUDE_USAGE_MEMBER.len() + 1);
        member.push(b',');
        member.extend_from_slice(INCLUDE_USAGE_MEMBER);
        Bytes::from(member)
    });
    Ok(out)
}

/// The position (chunk, offset) of the last non-whitespace byte before chunk `end_chunk`, or
/// before offset `end_off` of chunk `end_chunk` when given.
fn last_non_ws(body: &[Bytes], end_chunk: usize, end_off: Option<usize>) -> Option<(usize, usize)> {
    let (mut ci, mut limit) = match end_off {
        Some(off) => (end_chunk, off),
        None => (end_chunk.checked_sub(1)?, usize::MAX),
    };
    loop {
        let chunk = &body[ci];
        let upto = limit.min(chunk.len());
        if let Some(i) = chunk[..upto]
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            return Some((ci, i));
        }
        ci = ci.checked_sub(1)?;
        limit = usize::MAX;
    }
}

/// Sets `stream_options.include_usage = true` through a full `Value` round trip.
fn rewrite_value(body: &[Bytes]) -> Result<Vec<Bytes>, InspectError> {
    let mut value: serde_json::Value = match body {
        [one] => serde_json::from_slice(one)?,
        chunks => serde_json::from_reader(ChunksReader::new(chunks))?,
    };
    let obj = value.as_object_mut().ok_or(InspectError::NotAnObject)?;
    let options = obj
        .entry("stream_options")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    match options.as_object_mut() {
        Some(o) => {
            o.insert("include_usage".to_owned(), serde_json::Value::Bool(true));
        }
        None => *options = serde_json::json!({ "include_usage": true }),
    }
    Ok(vec![Bytes::from(serde_json::to_vec(&value)?)])
}

/// A `Read` over a list of chunks, so serde_json can parse a body without it being joined.
struct ChunksReader<'a> {
    rest: &'a [Bytes],
    current: &'a [u8],
}

impl<'a> ChunksReader<'a> {
    fn new(chunks: &'a [Bytes]) -> Self {
        Self {
            rest: chunks,
            current: &[],
        }
    }
}

impl Read for ChunksReader<'_> {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // serde_json reads one byte at a time: keep that path short.
        loop {
            if let Some((&first, tail)) = self.current.split_first() {
                if buf.len() == 1 {
                    buf[0] = first;
                    self.current = tail;
                    return Ok(1);
                }
                let n = buf.len().min(self.current.len());
                buf[..n].copy_from_slice(&self.current[..n]);
                self.current = &self.current[n..];
                return Ok(n);
            }
            match self.rest.split_first() {
                Some((next, rest)) if !buf.is_empty() => {
                    self.current = next;
                    self.rest = rest;
                }
                _ => return Ok(0),
            }
        }
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

/// The last user message seen, in a buffer reused from message to message.
#[derive(Debug, Default)]
struct LastUser {
    seen: bool,
    text: String,
    has_text: bool,
    tool_result_only: bool,
}

/// What reading one `content` value (or Anthropic's `system`) found.
#[derive(Debug, Default)]
struct ContentScratch {
    /// The prefix of the first text (the string content, or the first text block).
    text: String,
    has_text: bool,
    /// Blocks in an array content, and how many were `tool_result`.
    blocks: u32,
    tool_results: u32,
    /// The current block's `text`, kept until its `type` is known (keys come in any order).
    block_text: String,
    block_has_text: bool,
}

impl ContentScratch {
    fn reset(&mut self) {
        self.text.clear();
        self.has_text = false;
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
            ApiKind::Other => self.system_field.or(self.instructions).or(first_system),
        };
        let lu = self.last_user;
        let last_user_is_tool_result = lu.seen && lu.tool_result_only;
        let last_user_prefix =
            (lu.seen && lu.has_text && !last_user_is_tool_result).then_some(lu.text);
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
                lu.has_text = s.has_text;
                lu.tool_result_only = s.blocks > 0 && s.tool_results == s.blocks;
            }
            Role::System if self.first_system_message.is_none() => {
                self.first_system_message = Some(s.text());
            }
            _ => {}
        }
    }
}

/// Appends to `buf` as much of `s` as fits in `cap` bytes, cutting at a char boundary.
fn push_prefix(buf: &mut String, s: &str, cap: usize) {
    let room = cap.saturating_sub(buf.len());
    buf.push_str(&s[..s.floor_char_boundary(room)]);
}

/// Implements the `visit_*` methods a lenient visitor does not care about: scalars are ignored,
/// arrays and objects drained with `IgnoredAny`, and `$ret` returned.
macro_rules! ignore_visits {
    ($ret:expr => $($kind:ident)*) => { $(ignore_visits!(@one $ret, $kind);)* };
    (@one $ret:expr, bool) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> { Ok($ret) }
    };
    (@one $ret:expr, i64) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> { Ok($ret) }
    };
    (@one $ret:expr, u64) => {
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> { Ok($ret) }
    };
    (@one $ret:expr, f64) => {
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> { Ok($ret) }
    };
    (@one $ret:expr, unit) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> { Ok($ret) }
    };
    (@one $ret:expr, str) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> { Ok($ret) }
    };
    (@one $ret:expr, seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_element::<IgnoredAny>()?.is_some() {}
            Ok($ret)
        }
    };
    (@one $ret:expr, map) => {
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok($ret)
        }
    };
}

/// The top-level members agentprof reads.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum TopKey {
    Model,
    Stream,
    MaxTokens,
    MaxCompletionTokens,
    MaxOutputTokens,
    Tools,
    Messages,
    Input,
    System,
    Instructions,
    Metadata,
    StreamOptions,
    #[serde(other)]
    Other,
}

/// Seed for the whole body.
struct Root<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for Root<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Root<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.0;
        while let Some(key) = map.next_key::<TopKey>()? {
            match key {
                TopKey::Model => {
                    st.model = map.next_value_seed(Scalar(SHORT_STRING_BYTES))?.string()
                }
                TopKey::Stream => st.stream = map.next_value_seed(Scalar(0))?.bool(),
                TopKey::MaxTokens => st.max_tokens = map.next_value_seed(Scalar(0))?.u64(),
                TopKey::MaxCompletionTokens => {
                    st.max_completion_tokens = map.next_value_seed(Scalar(0))?.u64();
                }
                TopKey::MaxOutputTokens => {
                    st.max_output_tokens = map.next_value_seed(Scalar(0))?.u64();
                }
                TopKey::Tools => st.tools = map.next_value_seed(CountSeq)?,
                TopKey::Messages | TopKey::Input => map.next_value_seed(Messages(&mut *st))?,
                TopKey::System => {
                    st.scratch.reset();
                    map.next_value_seed(Content(&mut st.scratch))?;
                    st.system_field = st.scratch.text();
                }
                TopKey::Instructions => {
                    st.instructions = map.next_value_seed(Scalar(PREFIX_BYTES))?.string();
                }
                TopKey::Metadata => map.next_value_seed(Metadata(&mut *st))?,
                TopKey::StreamOptions => map.next_value_seed(StreamOptions(&mut *st))?,
                TopKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A scalar read leniently: a string (kept up to the seed's byte cap), bool or unsigned
/// integer; anything else is skipped.
struct Scalar(usize);

/// What [`Scalar`] found.
enum ScalarValue {
    Str(String),
    Bool(bool),
    U64(u64),
    Other,
}

impl ScalarValue {
    fn string(self) -> Option<String> {
        match self {
            ScalarValue::Str(s) => Some(s),
            _ => None,
        }
    }
    fn bool(self) -> Option<bool> {
        match self {
            ScalarValue::Bool(b) => Some(b),
            _ => None,
        }
    }
    fn u64(self) -> Option<u64> {
        match self {
            ScalarValue::U64(n) => Some(n),
            _ => None,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Scalar {
    type Value = ScalarValue;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ScalarValue, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scalar {
    type Value = ScalarValue;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarValue, E> {
        let mut s = String::new();
        push_prefix(&mut s, v, self.0);
        Ok(ScalarValue::Str(s))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarValue, E> {
        Ok(ScalarValue::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarValue, E> {
        Ok(ScalarValue::U64(v))
    }
    ignore_visits!(ScalarValue::Other => i64 f64 unit seq map);
}

/// Counts an array's elements (anything else counts 0).
struct CountSeq;

impl<'de> DeserializeSeed<'de> for CountSeq {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CountSeq {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<u64, A::Error> {
        let mut n = 0;
        while a.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(n)
    }
    ignore_visits!(0 => bool i64 u64 f64 unit str map);
}

/// `messages` (or Responses `input`): an array of messages, or for `input` a bare string that
/// stands for one user message.
struct Messages<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for Messages<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Messages<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of messages")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let st = self.0;
        while a.next_element_seed(Message(&mut *st))?.is_some() {
            st.messages = st.messages.saturating_add(1);
        }
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let st = self.0;
        st.messages = st.messages.saturating_add(1);
        st.scratch.reset();
        push_prefix(&mut st.scratch.text, v, PREFIX_BYTES);
        st.scratch.has_text = true;
        st.end_message(Role::User);
        Ok(())
    }
    ignore_visits!(() => bool i64 u64 f64 unit map);
}

/// Message roles that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    User,
    /// `system` or `developer`.
    System,
    Other,
}

/// The members of a message agentprof reads.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum MessageKey {
    Role,
    Content,
    #[serde(other)]
    Other,
}

/// One message: its role and the prefix of its content, in either key order.
struct Message<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for Message<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Message<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.0;
        st.scratch.reset();
        let mut role = Role::Other;
        while let Some(key) = map.next_key::<MessageKey>()? {
            match key {
                MessageKey::Role => role = map.next_value_seed(RoleSeed)?,
                MessageKey::Content => map.next_value_seed(Content(&mut st.scratch))?,
                MessageKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        st.end_message(role);
        Ok(())
    }
    ignore_visits!(() => bool i64 u64 f64 unit str seq);
}

/// Reads a role name without allocating.
struct RoleSeed;

impl<'de> DeserializeSeed<'de> for RoleSeed {
    type Value = Role;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Role, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RoleSeed {
    type Value = Role;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a role")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Role, E> {
        Ok(match v {
            "user" => Role::User,
            "system" | "developer" => Role::System,
            _ => Role::Other,
        })
    }
    ignore_visits!(Role::Other => bool i64 u64 f64 unit seq map);
}

/// A `content` value (or Anthropic `system`): a string, or an array of blocks whose first text
/// block is kept. Writes into the scratch; the caller resets it first.
struct Content<'s>(&'s mut ContentScratch);

impl<'de> DeserializeSeed<'de> for Content<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Content<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of content blocks")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let s = self.0;
        push_prefix(&mut s.text, v, PREFIX_BYTES);
        s.has_text = true;
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let s = self.0;
        while a.next_element_seed(Block(&mut *s))?.is_some() {}
        Ok(())
    }
    ignore_visits!(() => bool i64 u64 f64 unit map);
}

/// Block types that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockType {
    /// `text` (Anthropic, OpenAI chat), `input_text`/`output_text` (Responses).
    Text,
    ToolResult,
    Other,
}

/// The members of a content block agentprof reads.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum BlockKey {
    Type,
    Text,
    #[serde(other)]
    Other,
}

/// One content block.
struct Block<'s>(&'s mut ContentScratch);

impl<'de> DeserializeSeed<'de> for Block<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Block<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a content block")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let s = self.0;
        s.block_text.clear();
        s.block_has_text = false;
        let mut kind = BlockType::Other;
        while let Some(key) = map.next_key::<BlockKey>()? {
            match key {
                BlockKey::Type => kind = map.next_value_seed(BlockTypeSeed)?,
                // Only kept once the type says it is a text block; and only the first one.
                BlockKey::Text if !s.has_text => {
                    s.block_has_text |= map.next_value_seed(TextPrefix(&mut s.block_text))?;
                }
                BlockKey::Text | BlockKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        s.blocks += 1;
        match kind {
            BlockType::ToolResult => s.tool_results += 1,
            BlockType::Text if s.block_has_text && !s.has_text => {
                std::mem::swap(&mut s.text, &mut s.block_text);
                s.has_text = true;
            }
            _ => {}
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        self.0.blocks += 1;
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    ignore_visits!(() => bool i64 u64 f64 unit str);
}

/// Reads a block type without allocating.
struct BlockTypeSeed;

impl<'de> DeserializeSeed<'de> for BlockTypeSeed {
    type Value = BlockType;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<BlockType, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BlockTypeSeed {
    type Value = BlockType;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a block type")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<BlockType, E> {
        Ok(match v {
            "text" | "input_text" | "output_text" => BlockType::Text,
            "tool_result" => BlockType::ToolResult,
            _ => BlockType::Other,
        })
    }
    ignore_visits!(BlockType::Other => bool i64 u64 f64 unit seq map);
}

/// Appends the prefix of a string value to a buffer; returns whether the value was a string.
struct TextPrefix<'s>(&'s mut String);

impl<'de> DeserializeSeed<'de> for TextPrefix<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TextPrefix<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        push_prefix(self.0, v, PREFIX_BYTES);
        Ok(true)
    }
    ignore_visits!(false => bool i64 u64 f64 unit seq map);
}

/// The members of `metadata` agentprof reads.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum MetadataKey {
    UserId,
    #[serde(other)]
    Other,
}

/// Anthropic `metadata`: only `user_id`.
struct Metadata<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for Metadata<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Metadata<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a metadata object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<MetadataKey>()? {
            match key {
                MetadataKey::UserId => {
                    self.0.metadata_user_id =
                        map.next_value_seed(Scalar(SHORT_STRING_BYTES))?.string();
                }
                MetadataKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
    ignore_visits!(() => bool i64 u64 f64 unit str seq);
}

/// The members of `stream_options` agentprof reads.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum StreamOptionsKey {
    IncludeUsage,
    #[serde(other)]
    Other,
}

/// OpenAI `stream_options`: its shape and `include_usage`.
struct StreamOptions<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for StreamOptions<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StreamOptions<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a stream_options object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.0;
        st.stream_options = StreamOptionsShape::Object;
        st.include_usage = None;
        while let Some(key) = map.next_key::<StreamOptionsKey>()? {
            match key {
                StreamOptionsKey::IncludeUsage => {
                    st.include_usage = map.next_value_seed(Scalar(0))?.bool();
                }
                StreamOptionsKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.stream_options = StreamOptionsShape::Other;
        self.0.include_usage = None;
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        self.visit_unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A Claude Code–shaped request: system as blocks, a tool loop, the last user message made of
    /// tool results only.
    const ANTHROPIC_TOOL_LOOP: &str = r#"{
  "model": "claude-sonnet-4-5-20250929",
  "max_tokens": 32000,
  "stream": true,
  "system": [
    {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.", "cache_control": {"type": "ephemeral"}},
    {"type": "text", "text": "\nYou are an interactive CLI tool that helps users with software engineering tasks."}
  ],
  "messages": [
    {"role": "user", "content": [{"type": "text", "text": "<system-reminder>\nAs you answer, use this context.\n</system-reminder>"}, {"type": "text", "text": "fix the failing test in src/lib.rs"}]},
    {"role": "assistant", "content": [{"type": "text", "text": "Let me look."}, {"type": "tool_use", "id": "toolu_01", "name": "Read", "input": {"file_path": "/src/lib.rs"}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "     1\tpub fn add(a: i32, b: i32) -> i32 { a - b }"}]}
  ],
  "tools": [{"name": "Read", "description": "Reads a file", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}}],
  "metadata": {"user_id": "user_2f4e_account_9c1d_session_77ab"},
  "temperature": 1
}"#;

    fn one(body: &str) -> Vec<Bytes> {
        vec![Bytes::copy_from_slice(body.as_bytes())]
    }

    fn inspect(api: ApiKind, body: &str) -> RequestSummary {
        RequestSummary::inspect(api, &one(body)).unwrap()
    }

    #[test]
    fn anthropic_tool_loop() {
        let s = inspect(ApiKind::Messages, ANTHROPIC_TOOL_LOOP);
        assert_eq!(
            s,
            RequestSummary {
                api: ApiKind::Messages,
                model: Some("claude-sonnet-4-5-20250929".into()),
                stream: true,
                max_tokens: Some(32000),
                has_tools: true,
                message_count: 3,
                system_prefix: Some(
                    "You are Claude Code, Anthropic's official CLI for Claude.".into()
                ),
                last_user_prefix: None,
                last_user_is_tool_result: true,
                metadata_user_id: Some("user_2f4e_account_9c1d_session_77ab".into()),
                include_usage: None,
                stream_options: StreamOptionsShape::Absent,
            }
        );
    }

    #[test]
    fn anthropic_string_system_and_text_after_tool_result() {
        let body = r#"{"model":"claude-haiku-4-5","max_tokens":512,"system":"Summarize the conversation.","tools":[],
            "messages":[{"content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"ignored"}]},{"text":"now continue","type":"text"}],"role":"user"}]}"#;
        let s = inspect(ApiKind::Messages, body);
        assert_eq!(
            s.system_prefix.as_deref(),
            Some("Summarize the conversation.")
        );
        assert_eq!(s.last_user_prefix.as_deref(), Some("now continue"));
        assert!(!s.last_user_is_tool_result);
        assert!(!s.has_tools, "empty tools array");
        assert!(!s.stream);
        assert_eq!(s.message_count, 1);
    }

    #[test]
    fn last_user_message_wins_and_string_content() {
        let body = r#"{"messages":[{"role":"user","content":"first"},{"role":"assistant","content":"ok"},{"role":"user","content":"second question"},{"role":"assistant","content":[{"type":"text","text":"answer"}]}]}"#;
        let s = inspect(ApiKind::Messages, body);
        assert_eq!(s.last_user_prefix.as_deref(), Some("second question"));
        assert_eq!(s.message_count, 4);
        assert_eq!(s.system_prefix, None);
    }

    #[test]
    fn openai_chat_request() {
        let body = r#"{"model":"gpt-4.1","stream":true,"stream_options":{"include_usage":false},"max_completion_tokens":4096,
            "messages":[{"role":"developer","content":[{"type":"text","text":"You are Codex."}]},{"role":"system","content":"second system"},
            {"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"text","text":"what is this?"}]},
            {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
            {"role":"tool","tool_call_id":"c1","content":"result"}],
            "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}"#;
        let s = inspect(ApiKind::ChatCompletions, body);
        assert_eq!(s.system_prefix.as_deref(), Some("You are Codex."));
        assert_eq!(s.last_user_prefix.as_deref(), Some("what is this?"));
        assert_eq!(s.max_tokens, Some(4096));
        assert_eq!(s.include_usage, Some(false));
        assert_eq!(s.stream_options, StreamOptionsShape::Object);
        assert_eq!(s.message_count, 5);
        assert!(s.has_tools && s.stream);
    }

    #[test]
    fn openai_responses_request() {
        let body = r#"{"model":"o4-mini","instructions":"Be terse.","max_output_tokens":300,"stream":true,
            "input":[{"role":"developer","content":"dev"},{"type":"message","role":"user","content":[{"type":"input_text","text":"hello"}]},{"type":"function_call_output","call_id":"c","output":"{}"}]}"#;
        let s = inspect(ApiKind::Responses, body);
        assert_eq!(s.system_prefix.as_deref(), Some("Be terse."));
        assert_eq!(s.last_user_prefix.as_deref(), Some("hello"));
        assert_eq!(s.max_tokens, Some(300));
        assert_eq!(s.message_count, 3);
        let s = inspect(
            ApiKind::Responses,
            r#"{"model":"gpt-4.1","input":"Tell me a joke"}"#,
        );
        assert_eq!(s.last_user_prefix.as_deref(), Some("Tell me a joke"));
        assert_eq!(s.message_count, 1);
        assert_eq!(s.system_prefix, None);
    }

    #[test]
    fn prefixes_are_capped_at_char_boundaries() {
        // 511 ASCII bytes then a 3-byte char: the char does not fit in 512.
        let text = format!("{}€tail", "a".repeat(511));
        let body =
            json!({"system": text, "messages": [{"role": "user", "content": "é".repeat(400)}]});
        let s = inspect(ApiKind::Messages, &body.to_string());
        assert_eq!(s.system_prefix, Some("a".repeat(511)));
        assert_eq!(s.last_user_prefix, Some("é".repeat(256)));
    }

    #[test]
    fn wrong_types_are_ignored_not_errors() {
        let body = r#"{"model":5,"stream":"yes","max_tokens":-1,"tools":{"a":1},"system":42,"metadata":[1],
            "messages":[7,"x",{"role":1,"content":{"a":[1]}},{"role":"user","content":[1,[2],{"type":"text","text":3}]}],"stream_options":null}"#;
        let s = inspect(ApiKind::Other, body);
        assert_eq!(s.model, None);
        assert!(!s.stream && !s.has_tools);
        assert_eq!(s.max_tokens, None);
        assert_eq!(s.message_count, 4);
        assert_eq!(s.last_user_prefix, None);
        assert!(!s.last_user_is_tool_result);
        assert_eq!(s.stream_options, StreamOptionsShape::Other);
    }

    #[test]
    fn chunked_body_gives_same_summary() {
        let body = ANTHROPIC_TOOL_LOOP.as_bytes();
        let whole = inspect(ApiKind::Messages, ANTHROPIC_TOOL_LOOP);
        // Awkward cuts: inside a key, inside an escape (`\n`), inside a multi-byte char.
        let body_utf8 = format!(
            "{}{}",
            &ANTHROPIC_TOOL_LOOP[..ANTHROPIC_TOOL_LOOP.len() - 1],
            ",\"x\":\"h€llo\"}"
        );
        let bytes = body_utf8.as_bytes();
        let key = body_utf8.find("\"max_tokens\"").unwrap() + 4;
        let esc = body_utf8.find("\\nYou are").unwrap() + 1;
        let euro = body_utf8.find('€').unwrap() + 1;
        let chunks = vec![
            Bytes::copy_from_slice(&bytes[..key]),
            Bytes::copy_from_slice(&bytes[key..esc]),
            Bytes::new(),
            Bytes::copy_from_slice(&bytes[esc..euro]),
            Bytes::copy_from_slice(&bytes[euro..]),
        ];
        assert_eq!(
            RequestSummary::inspect(ApiKind::Messages, &chunks).unwrap(),
            whole
        );
        let three = vec![
            Bytes::copy_from_slice(&bytes[..key]),
            Bytes::copy_from_slice(&bytes[key..euro]),
            Bytes::copy_from_slice(&bytes[euro..]),
        ];
        assert_eq!(
            RequestSummary::inspect(ApiKind::Messages, &three).unwrap(),
            whole
        );
        for cut in (0..=body.len()).step_by(3) {
            let two = [
                Bytes::copy_from_slice(&body[..cut]),
                Bytes::copy_from_slice(&body[cut..]),
            ];
            assert_eq!(
                RequestSummary::inspect(ApiKind::Messages, &two).unwrap(),
                whole,
                "cut {cut}"
            );
        }
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = RequestSummary::inspect(ApiKind::Messages, &one("{\n  \"model\": \"x\",\n}"))
            .unwrap_err();
        assert_eq!(
            err,
            InspectError::Json {
                message: "trailing comma at line 3 column 1".into(),
                line: 3,
                column: 1,
            }
        );
        assert_eq!(
            err.to_string(),
            "request body is not valid JSON: trailing comma at line 3 column 1"
        );
        // The same error whether the body came in one chunk or several.
        let chunks = [
            Bytes::from_static(b"{\n  \"mod"),
            Bytes::from_static(b"el\": \"x\",\n}"),
        ];
        assert_eq!(
            RequestSummary::inspect(ApiKind::Messages, &chunks).unwrap_err(),
            err
        );
        let truncated =
            RequestSummary::inspect(ApiKind::Messages, &one(r#"{"model":"x","messages":["#))
                .unwrap_err();
        assert!(
            matches!(truncated, InspectError::Json { ref message, .. } if message.starts_with("EOF while parsing"))
        );
        assert!(RequestSummary::inspect(ApiKind::Messages, &one("[]")).is_err());
        assert!(RequestSummary::inspect(ApiKind::Messages, &one("{} x")).is_err());
        assert!(RequestSummary::inspect(ApiKind::Messages, &[]).is_err());
    }

    /// A chat request whose bulk sits in the first chunk.
    fn chat_body(extra: &str) -> (Vec<Bytes>, serde_json::Value) {
        let big = "lorem ipsum ".repeat(5000);
        let text = format!(
            r#"{{"model":"gpt-4.1","stream":true{extra},"messages":[{{"role":"user","content":"{big}"}}]}}  "#
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let split = text.len() - 10;
        let chunks = vec![
            Bytes::copy_from_slice(&text.as_bytes()[..split]),
            Bytes::copy_from_slice(&text.as_bytes()[split..]),
            Bytes::from_static(b"\n"),
        ];
        (chunks, value)
    }

    fn parse_chunks(chunks: &[Bytes]) -> serde_json::Value {
        serde_json::from_slice(&chunks.concat()).unwrap()
    }

    #[test]
    fn add_include_usage_splices_without_copying() {
        let (body, mut expected) = chat_body("");
        let s = RequestSummary::inspect(ApiKind::ChatCompletions, &body).unwrap();
        let out = add_include_usage(&body, &s).unwrap().unwrap();
        expected["stream_options"] = json!({"include_usage": true});
        assert_eq!(parse_chunks(&out.chunks), expected);
        assert_eq!(
            out.len,
            out.chunks.iter().map(|c| c.len() as u64).sum::<u64>()
        );
        assert_eq!(
            out.chunks[0].as_ptr(),
            body[0].as_ptr(),
            "big chunk shared, not copied"
        );
        assert_eq!(out.chunks[0].len(), body[0].len());
        assert_eq!(out.chunks[1].as_ptr(), body[1].as_ptr());
        assert_eq!(
            out.chunks.last().map(|c| &c[..]),
            Some(&b",\"stream_options\":{\"include_usage\":true}}"[..])
        );
    }

    #[test]
    fn add_include_usage_rewrites_existing_options() {
        let (body, mut expected) = chat_body(r#","stream_options":{"foo":1}"#);
        let s = RequestSummary::inspect(ApiKind::ChatCompletions, &body).unwrap();
        let out = add_include_usage(&body, &s).unwrap().unwrap();
        expected["stream_options"] = json!({"foo": 1, "include_usage": true});
        assert_eq!(parse_chunks(&out.chunks), expected);
        assert_eq!(out.chunks.len(), 1);

        for extra in [
            r#","stream_options":null"#,
            r#","stream_options":{"include_usage":false}"#,
        ] {
            let (body, mut expected) = chat_body(extra);
            let s = RequestSummary::inspect(ApiKind::ChatCompletions, &body).unwrap();
            let out = add_include_usage(&body, &s).unwrap().unwrap();
            expected["stream_options"] = json!({"include_usage": true});
            assert_eq!(parse_chunks(&out.chunks), expected, "{extra}");
        }
    }

    #[test]
    fn add_include_usage_noops() {
        let (body, _) = chat_body(r#","stream_options":{"include_usage":true}"#);
        let s = RequestSummary::inspect(ApiKind::ChatCompletions, &body).unwrap();
        assert_eq!(add_include_usage(&body, &s).unwrap(), None);
        let body = one(r#"{"model":"gpt-4.1","messages":[]}"#);
        let s = RequestSummary::inspect(ApiKind::ChatCompletions, &body).unwrap();
        assert_eq!(add_include_usage(&body, &s).unwrap(), None, "not streaming");
        let body = one(r#"{"model":"claude","stream":true,"messages":[]}"#);
        let s = RequestSummary::inspect(ApiKind::Messages, &body).unwrap();
        assert_eq!(add_include_usage(&body, &s).unwrap(), None, "not chat");
    }

    #[test]
    fn splice_handles_empty_objects_and_whitespace() {
        let out = splice_member(&[
            Bytes::from_static(b"{ \n"),
            Bytes::from_static(b"} \n"),
            Bytes::new(),
        ])
        .unwrap();
        assert_eq!(
            parse_chunks(&out),
            json!({"stream_options": {"include_usage": true}})
        );
        let out =
            splice_member(&[Bytes::from_static(b"{\"a\":1"), Bytes::from_static(b"}")]).unwrap();
        assert_eq!(
            parse_chunks(&out),
            json!({"a": 1, "stream_options": {"include_usage": true}})
        );
        assert_eq!(
            splice_member(&[Bytes::from_static(b"[1]")]),
            Err(InspectError::NotAnObject)
        );
        assert_eq!(
            splice_member(&[Bytes::from_static(b"  ")]),
            Err(InspectError::NotAnObject)
        );
        assert_eq!(splice_member(&[]), Err(InspectError::NotAnObject));
    }

    #[test]
    fn chunks_reader_reads_across_chunks() {
        let chunks = [
            Bytes::from_static(b"ab"),
            Bytes::new(),
            Bytes::from_static(b"cde"),
        ];
        let mut r = ChunksReader::new(&chunks);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcde");
        let mut r = ChunksReader::new(&chunks);
        let mut one = [0u8; 1];
        let mut got = Vec::new();
        while r.read(&mut one).unwrap() == 1 {
            got.push(one[0]);
        }
        assert_eq!(got, b"abcde");
    }
}
