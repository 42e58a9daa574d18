//! One transcript line, read into the few fields an import needs.
//!
//! Three record types matter: `assistant` (one per content block of a model response, each
//! repeating the response's usage), `user` (prompts start turns; tool results do not) and
//! `api-request` (newer versions: one per model call, with the `querySource` that names what
//! the call was for). Everything else — attachments, snapshots, queue operations — is skipped.

use super::skim::{Skim, SkimError};
use super::timestamp::parse_millis;
use crate::capture::usage::anthropic::cache_split;
use crate::observation::Usage;

/// What a line held.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Line<'a> {
    pub kind: Kind,
    /// `assistant`: `message.id`; `api-request`: its own `id`.
    pub id: Option<&'a [u8]>,
    pub request_id: Option<&'a [u8]>,
    pub request_ref: Option<&'a [u8]>,
    pub model: Option<&'a [u8]>,
    pub usage: Option<RawUsage>,
    pub timestamp: Option<&'a [u8]>,
    pub session_id: Option<&'a [u8]>,
    pub agent_id: Option<&'a [u8]>,
    pub version: Option<&'a [u8]>,
    pub query_source: Option<&'a [u8]>,
    pub attribution_agent: Option<&'a [u8]>,
    pub is_sidechain: bool,
    pub is_meta: bool,
    pub is_compact_summary: bool,
    /// `user`: the content is a prompt (text), not tool results.
    pub prompt: Option<&'a [u8]>,
    pub has_tool_result: bool,
}

/// The record types an import reads.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Assistant,
    User,
    ApiRequest,
    #[default]
    Other,
}

/// Usage as written, before it is checked.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RawUsage {
    pub input: Option<u64>,
    pub output: Option<u64>,
    pub cache_creation: Option<u64>,
    pub cache_read: Option<u64>,
    pub creation_5m: Option<u64>,
    pub creation_1h: Option<u64>,
}

impl RawUsage {
    /// The usage in agentprof's convention, or why it cannot be counted. Input and output
    /// counts are required; absent cache counts are 0 (older versions omit them).
    pub fn checked(&self) -> Result<Usage, &'static str> {
        let (Some(input), Some(output)) = (self.input, self.output) else {
            return Err("usage without input_tokens or output_tokens");
        };
        let (creation, m5, h1) =
            cache_split(self.cache_creation, self.creation_5m, self.creation_1h);
        Ok(Usage {
            input_tokens: input,
            output_tokens: output,
            cache_creation_input_tokens: creation,
            cache_read_input_tokens: self.cache_read.unwrap_or(0),
            cache_creation_5m_input_tokens: m5,
            cache_creation_1h_input_tokens: h1,
            reasoning_output_tokens: 0,
            tool_use_input_tokens: 0,
        })
    }
}

/// Reads one line (without its newline).
pub fn parse(bytes: &[u8]) -> Result<Line<'_>, SkimError> {
    let mut line = Line::default();
    let mut skim = Skim::new(bytes);
    skim.object(|s, key| {
        match key {
            b"type" => {
                line.kind = match s.opt_string()? {
                    Some(b"assistant") => Kind::Assistant,
                    Some(b"user") => Kind::User,
                    Some(b"api-request") => Kind::ApiRequest,
                    _ => Kind::Other,
                }
            }
            b"message" if s.kind() == Some(b'{') => message(s, &mut line)?,
            b"id" => line.id = line.id.or(s.opt_string()?),
            b"requestId" => line.request_id = s.opt_string()?,
            b"requestRef" => line.request_ref = s.opt_string()?,
            b"timestamp" => line.timestamp = s.opt_string()?,
            b"sessionId" => line.session_id = s.opt_string()?,
            b"agentId" => line.agent_id = s.opt_string()?,
            b"version" => line.version = s.opt_string()?,
            b"querySource" => line.query_source = s.opt_string()?,
            b"attributionAgent" => line.attribution_agent = s.opt_string()?,
            b"isSidechain" => line.is_sidechain = s.opt_bool()? == Some(true),
            b"isMeta" => line.is_meta = s.opt_bool()? == Some(true),
            b"isCompactSummary" => line.is_compact_summary = s.opt_bool()? == Some(true),
            _ => s.skip()?,
        }
        Ok(())
    })?;
    skim.end()?;
    // The message id, not a top-level `id`, names an assistant response.
    if line.kind != Kind::ApiRequest && line.kind != Kind::Assistant {
        line.id = None;
    }
    Ok(line)
}

/// The `message` object: id, model and usage of a response; the content of a user record.
fn message<'a>(s: &mut Skim<'a>, line: &mut Line<'a>) -> Result<(), SkimError> {
    let mut message_id = None;
    s.object(|s, key| {
        match key {
            b"id" => message_id = s.opt_string()?,
            b"model" => line.model = s.opt_string()?,
            b"usage" if s.kind() == Some(b'{') => line.usage = Some(usage(s)?),
            b"content" => content(s, line)?,
            _ => s.skip()?,
        }
        Ok(())
    })?;
    if message_id.is_some() {
        line.id = message_id;
    }
    Ok(())
}

/// A user record's content: a string prompt, or blocks of which the first text block is the
/// prompt unless any block is a tool result.
fn content<'a>(s: &mut Skim<'a>, line: &mut Line<'a>) -> Result<(), SkimError> {
    match s.kind() {
        Some(b'"') => line.prompt = Some(s.string()?),
        Some(b'[') => {
            let mut first_text = None;
            s.array(|s, _| {
                if s.kind() != Some(b'{') {
                    return s.skip();
                }
                let mut block_type = None;
                let mut text = None;
                s.object(|s, key| {
                    match key {
                        b"type" => block_type = s.opt_string()?,
                        b"text" => text = s.opt_string()?,
                        _ => s.skip()?,
                    }
                    Ok(())
                })?;
                match block_type {
                    Some(b"tool_result") => line.has_tool_result = true,
                    Some(b"text") if first_text.is_none() => first_text = text,
                    _ => {}
                }
                Ok(())
            })?;
            line.prompt = first_text;
        }
        _ => s.skip()?,
    }
    Ok(())
}

fn usage(s: &mut Skim<'_>) -> Result<RawUsage, SkimError> {
    let mut usage = RawUsage::default();
    s.object(|s, key| {
        match key {
            b"input_tokens" => usage.input = s.opt_u64()?,
            b"output_tokens" => usage.output = s.opt_u64()?,
            b"cache_creation_input_tokens" => usage.cache_creation = s.opt_u64()?,
            b"cache_read_input_tokens" => usage.cache_read = s.opt_u64()?,
            b"cache_creation" if s.kind() == Some(b'{') => s.object(|s, key| {
                match key {
                    b"ephemeral_5m_input_tokens" => usage.creation_5m = s.opt_u64()?,
                    b"ephemeral_1h_input_tokens" => usage.creation_1h = s.opt_u64()?,
                    _ => s.skip()?,
                }
                Ok(())
            })?,
            _ => s.skip()?,
        }
        Ok(())
    })?;
    Ok(usage)
}

/// A timestamp field as milliseconds since the Unix epoch.
pub fn millis(timestamp: Option<&[u8]>) -> Option<i64> {
    parse_millis(timestamp?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSISTANT: &str = r#"{"parentUuid":"c2","isSidechain":true,"agentId":"a63c","message":{"id":"msg_7","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"text","text":"{\"id\":\"not_this\"}"},{"type":"tool_use","id":"toolu_1","input":{"usage":{"input_tokens":999}}}],"stop_reason":"end_turn","usage":{"input_tokens":1943,"cache_creation_input_tokens":120,"cache_read_input_tokens":5,"output_tokens":18,"server_tool_use":{"web_search_requests":0},"cache_creation":{"ephemeral_1h_input_tokens":20,"ephemeral_5m_input_tokens":100},"iterations":[]}},"requestId":"req_7","requestRef":"e969","attributionAgent":"general-purpose","type":"assistant","uuid":"u","timestamp":"2026-11-21T06:03:49.820Z","sessionId":"s1","version":"2.1.328"}"#;

    #[test]
    fn reads_an_assistant_record() {
        let line = parse(ASSISTANT.as_bytes()).unwrap();
        assert_eq!(line.kind, Kind::Assistant);
        assert_eq!(line.id, Some(&b"msg_7"[..]));
        assert_eq!(line.request_id, Some(&b"req_7"[..]));
        assert_eq!(line.request_ref, Some(&b"e969"[..]));
        assert_eq!(line.model, Some(&b"claude-opus-5-5"[..]));
        assert_eq!(line.agent_id, Some(&b"a63c"[..]));
        assert_eq!(line.attribution_agent, Some(&b"general-purpose"[..]));
        assert!(line.is_sidechain);
        let usage = line.usage.unwrap().checked().unwrap();
        assert_eq!(
            usage,
            Usage {
                input_tokens: 1943,
                output_tokens: 18,
                cache_creation_input_tokens: 120,
                cache_read_input_tokens: 5,
                cache_creation_5m_input_tokens: 100,
                cache_creation_1h_input_tokens: 20,
                reasoning_output_tokens: 0,
                tool_use_input_tokens: 0,
            },
            "the tool input's nested usage is not the message's"
        );
        let expected = "2026-11-21T06:03:49.820Z"
            .parse::<jiff::Timestamp>()
            .unwrap();
        assert_eq!(millis(line.timestamp), Some(expected.as_millisecond()));
    }

    #[test]
    fn reads_prompts_and_tells_tool_results_apart() {
        let prompt = parse(br#"{"type":"user","message":{"role":"user","content":"Delegate this"},"isSidechain":false,"sessionId":"s"}"#).unwrap();
        assert_eq!(prompt.kind, Kind::User);
        assert_eq!(prompt.prompt, Some(&b"Delegate this"[..]));
        assert!(!prompt.has_tool_result);
        let blocks = parse(br#"{"type":"user","message":{"role":"user","content":[{"type":"image"},{"type":"text","text":"look"}]}}"#).unwrap();
        assert_eq!(blocks.prompt, Some(&b"look"[..]));
        let result = parse(br#"{"type":"user","message":{"role":"user","content":[{"tool_use_id":"t","type":"tool_result","content":[{"type":"text","text":"x"}]}]},"toolUseResult":{"usage":{"input_tokens":5,"output_tokens":1}}}"#).unwrap();
        assert!(result.has_tool_result);
        assert!(
            result.usage.is_none(),
            "a tool result's usage is not a call"
        );
    }

    #[test]
    fn reads_an_api_request_record() {
        let line = parse(br#"{"type":"api-request","sessionId":"s","agentId":"a","id":"e969","timestamp":"2026-11-21T06:03:49.676Z","version":"2.1.328","querySource":"agent:builtin:general-purpose","params":{"x":[1]}}"#).unwrap();
        assert_eq!(line.kind, Kind::ApiRequest);
        assert_eq!(line.id, Some(&b"e969"[..]));
        assert_eq!(
            line.query_source,
            Some(&b"agent:builtin:general-purpose"[..])
        );
    }

    #[test]
    fn usage_needs_input_and_output() {
        let raw = RawUsage {
            input: Some(1),
            ..RawUsage::default()
        };
        assert!(raw.checked().is_err());
        let raw = RawUsage {
            input: Some(1),
            output: Some(2),
            creation_5m: Some(7),
            ..RawUsage::default()
        };
        assert_eq!(raw.checked().unwrap().cache_creation_input_tokens, 7);
    }
}
