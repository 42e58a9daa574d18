//! One line of a Gemini CLI chat file (or a whole legacy `.json` session), as the record it
//! is: told apart in the order `loadConversationRecord` tells them apart (Gemini CLI 0.61.0,
//! `services/chatRecordingService.js`): `$rewindTo` (a string), a message (an `id` string),
//! `$set` (an object), metadata (`sessionId` and `projectHash` strings), anything else.
//!
//! Only what counting needs is kept: content is read just far enough to tell a prompt from a
//! tool result (a user record with a `functionResponse` part), and tool calls only for their
//! name and the sub-agent (`agentId`) they started.

use std::fmt;

use serde::Deserialize;
use serde::de::{IgnoredAny, SeqAccess, Visitor};

use crate::capture::transcripts::timestamp::parse_millis;
use crate::observation::Usage;

/// A gemini message's `tokens`: the response's `usageMetadata` as Gemini CLI stores it
/// (`recordMessageTokens`), every count defaulting to 0 as it does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Tokens {
    /// `promptTokenCount`: the whole prompt, cached tokens included.
    pub input: u64,
    /// `candidatesTokenCount`.
    pub output: u64,
    /// `cachedContentTokenCount`.
    pub cached: u64,
    /// `thoughtsTokenCount`.
    pub thoughts: u64,
    /// `toolUsePromptTokenCount`.
    pub tool: u64,
    /// `totalTokenCount`.
    pub total: u64,
}

impl Tokens {
    /// In agentprof's convention: input is the uncached prompt plus the tool-use prompt,
    /// cache reads apart, output includes thoughts (shown apart as reasoning).
    pub fn usage(&self) -> Usage {
        let read = self.cached.min(self.input);
        Usage {
            // Saturating: counts near u64::MAX are nonsense, but must not panic.
            input_tokens: (self.input - read).saturating_add(self.tool),
            output_tokens: self.output.saturating_add(self.thoughts),
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: read,
            cache_creation_5m_input_tokens: 0,
            cache_creation_1h_input_tokens: 0,
            reasoning_output_tokens: self.thoughts,
            tool_use_input_tokens: self.tool,
        }
    }

    /// Whether `total` is the sum of its parts (prompt, tool-use prompt, output, thoughts).
    pub fn adds_up(&self) -> bool {
        self.usage().total_tokens() == self.total && self.cached <= self.input
    }
}

/// What a message record is, as far as counting goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A user record: a prompt (`true`), or tool results sent back (`false`).
    User { prompt: bool },
    /// A model turn.
    Gemini,
    /// `info`, `error`, `warning` …
    Other,
}

/// A sub-agent a tool call started: its session id and the tool's name (its type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawned {
    pub agent: String,
    pub tool: String,
}

/// One message record.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub kind: Kind,
    pub t_ms: Option<i64>,
    pub tokens: Option<Tokens>,
    /// The model asked for (not the served `modelVersion`).
    pub model: Option<String>,
    pub spawned: Vec<Spawned>,
}

/// Metadata: the first line of a chat file, and the whole of a legacy `.json` session.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    pub session_id: String,
    /// `main`, `subagent`; absent before sub-agents had files.
    pub kind: Option<String>,
}

/// One line.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// `{"$rewindTo": id}`: drop that message and everything after it.
    Rewind(String),
    Message(Message),
    /// `{"$set": {...}}`: a metadata update; with `messages`, the new list.
    Set {
        messages: Option<Vec<Message>>,
    },
    /// Metadata, with the messages of a legacy record or a rewritten file's first line.
    Meta {
        meta: Meta,
        messages: Option<Vec<Message>>,
    },
    Other,
}

/// Why a line gave no record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    NotJson(String),
    Unparsable(String),
}

/// Reads one line (or a whole legacy file).
pub fn read(line: &[u8]) -> Result<Record, LineError> {
    let raw = parse(line)?;
    if let Some(id) = raw.rewind_to {
        return Ok(Record::Rewind(id));
    }
    if raw.id.is_some() {
        let message = RawMessage {
            id: raw.id,
            timestamp: raw.timestamp,
            kind: raw.message_type,
            content: raw.content,
            tokens: raw.tokens,
            model: raw.model,
            tool_calls: raw.tool_calls,
        };
        return Ok(message
            .into_message()
            .map_or(Record::Other, Record::Message));
    }
    if let Some(set) = raw.set {
        return Ok(Record::Set {
            messages: set.messages.map(messages),
        });
    }
    match (raw.session_id, raw.project_hash) {
        (Some(session_id), Some(_)) => Ok(Record::Meta {
            meta: Meta {
                session_id,
                kind: raw.kind,
            },
            messages: raw.messages.map(messages),
        }),
        _ => Ok(Record::Other),
    }
}

/// Reads a whole legacy `.json` session as `parseLegacyRecordFallback` does: an object with a
/// `sessionId` (`projectHash` not needed) and its `messages`.
pub fn read_legacy(bytes: &[u8]) -> Result<Record, LineError> {
    let raw = parse(bytes)?;
    let session_id = raw
        .session_id
        .ok_or_else(|| LineError::Unparsable("a legacy session without sessionId".into()))?;
    Ok(Record::Meta {
        meta: Meta {
            session_id,
            kind: raw.kind,
        },
        messages: raw.messages.map(messages),
    })
}

/// A JSON object of the chat file's shapes; text cut off or not JSON is told apart from a
/// whole object of another shape.
fn parse(bytes: &[u8]) -> Result<RawLine, LineError> {
    serde_json::from_slice(bytes).map_err(|e| {
        if serde_json::from_slice::<IgnoredAny>(bytes).is_err() {
            LineError::NotJson(e.to_string())
        } else {
            LineError::Unparsable(e.to_string())
        }
    })
}

fn messages(raw: Vec<RawMessage>) -> Vec<Message> {
    raw.into_iter()
        .filter_map(RawMessage::into_message)
        .collect()
}

#[derive(Deserialize)]
struct RawLine {
    #[serde(rename = "$rewindTo", default)]
    rewind_to: Option<String>,
    #[serde(rename = "$set", default)]
    set: Option<RawSet>,
    #[serde(rename = "sessionId", default)]
    session_id: Option<String>,
    #[serde(rename = "projectHash", default)]
    project_hash: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    messages: Option<Vec<RawMessage>>,
    // A message record's fields (not `flatten`ed: that would buffer every other field).
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(rename = "type", default)]
    message_type: Option<String>,
    #[serde(default)]
    content: Content,
    #[serde(default)]
    tokens: Option<Tokens>,
    #[serde(default)]
    model: Option<String>,
    #[serde(rename = "toolCalls", default)]
    tool_calls: Option<Vec<RawToolCall>>,
}

#[derive(Deserialize)]
struct RawSet {
    #[serde(default)]
    messages: Option<Vec<RawMessage>>,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    content: Content,
    #[serde(default)]
    tokens: Option<Tokens>,
    #[serde(default)]
    model: Option<String>,
    #[serde(rename = "toolCalls", default)]
    tool_calls: Option<Vec<RawToolCall>>,
}

#[derive(Deserialize)]
struct RawToolCall {
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "agentId", default)]
    agent_id: Option<String>,
}

impl RawMessage {
    fn into_message(self) -> Option<Message> {
        let kind = match self.kind.as_deref() {
            Some("user") => Kind::User {
                prompt: !self.content.function_response,
            },
            Some("gemini") => Kind::Gemini,
            _ => Kind::Other,
        };
        let spawned = self
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .filter_map(|call| {
                Some(Spawned {
                    agent: call.agent_id?,
                    tool: call.name.unwrap_or_default(),
                })
            })
            .collect();
        Some(Message {
            id: self.id?,
            kind,
            t_ms: self
                .timestamp
                .as_deref()
                .and_then(|t| parse_millis(t.as_bytes())),
            tokens: self.tokens,
            model: self.model,
            spawned,
        })
    }
}

/// A message's `content`, read only for whether a part is a `functionResponse`.
#[derive(Default)]
struct Content {
    function_response: bool,
}

#[derive(Deserialize)]
struct Part {
    #[serde(rename = "functionResponse", default)]
    function_response: Option<IgnoredAny>,
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;
        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = Content;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("message content")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
                let mut out = Content::default();
                while let Some(part) = seq.next_element::<Option<PartOrOther>>()? {
                    out.function_response |= matches!(part, Some(PartOrOther(true)));
                }
                Ok(out)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Content, A::Error> {
                let part = Part::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Content {
                    function_response: part.function_response.is_some(),
                })
            }
            fn visit_str<E>(self, _: &str) -> Result<Content, E> {
                Ok(Content::default())
            }
            fn visit_unit<E>(self) -> Result<Content, E> {
                Ok(Content::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Content, E> {
                Ok(Content::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Content, E> {
                Ok(Content::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Content, E> {
                Ok(Content::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Content, E> {
                Ok(Content::default())
            }
        }
        deserializer.deserialize_any(ContentVisitor)
    }
}

/// One content part: `true` when it is a `functionResponse`; strings and other non-objects
/// are no part of interest.
struct PartOrOther(bool);

impl<'de> Deserialize<'de> for PartOrOther {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let content = Content::deserialize(deserializer)?;
        Ok(PartOrOther(content.function_response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_told_apart_like_gemini_cli_does() {
        let meta = r#"{"sessionId":"s","projectHash":"h","startTime":"2026-12-07T02:28:41.928Z","kind":"main"}"#;
        assert_eq!(
            read(meta.as_bytes()).unwrap(),
            Record::Meta {
                meta: Meta {
                    session_id: "s".into(),
                    kind: Some("main".into())
                },
                messages: None
            }
        );
        assert_eq!(
            read(br#"{"$rewindTo":"m1"}"#).unwrap(),
            Record::Rewind("m1".into())
        );
        assert_eq!(
            read(br#"{"$set":{"lastUpdated":"x"}}"#).unwrap(),
            Record::Set { messages: None }
        );
        // Metadata without projectHash is no metadata.
        assert_eq!(read(br#"{"sessionId":"s"}"#).unwrap(), Record::Other);
        assert!(matches!(read(b"{\"id\":"), Err(LineError::NotJson(_))));
    }

    #[test]
    fn a_gemini_message_from_a_real_0_61_0_file() {
        let line = r#"{"id":"a301f78e","timestamp":"2026-12-07T02:28:42.107Z","type":"gemini","content":"Hello from mock.","thoughts":[],"tokens":{"input":1200,"output":7,"cached":200,"thoughts":3,"tool":0,"total":1210},"model":"gemini-3.8-flash"}"#;
        let Record::Message(message) = read(line.as_bytes()).unwrap() else {
            panic!("not a message");
        };
        assert_eq!(message.kind, Kind::Gemini);
        assert_eq!(message.t_ms, Some(1_796_610_522_107));
        assert_eq!(message.model.as_deref(), Some("gemini-3.8-flash"));
        let tokens = message.tokens.unwrap();
        assert!(tokens.adds_up());
        let usage = tokens.usage();
        assert_eq!(
            (
                usage.input_tokens,
                usage.cache_read_input_tokens,
                usage.output_tokens,
                usage.reasoning_output_tokens
            ),
            (1000, 200, 10, 3)
        );
        assert_eq!(usage.total_tokens(), 1210);
    }

    #[test]
    fn tool_results_are_no_prompts_and_spawned_agents_are_read() {
        let result = r#"{"id":"u2","timestamp":"2026-12-07T02:28:57.181Z","type":"user","content":[{"functionResponse":{"id":"c","name":"ls","response":{"output":"x"}}}]}"#;
        let prompt = r#"{"id":"u1","timestamp":"2026-12-07T02:28:57.030Z","type":"user","content":[{"text":"list files"}]}"#;
        let kind = |line: &str| match read(line.as_bytes()).unwrap() {
            Record::Message(m) => m.kind,
            other => panic!("{other:?}"),
        };
        assert_eq!(kind(result), Kind::User { prompt: false });
        assert_eq!(kind(prompt), Kind::User { prompt: true });
        assert_eq!(
            kind(r#"{"id":"u","type":"user","content":"plain"}"#),
            Kind::User { prompt: true }
        );
        let call = r#"{"id":"g","type":"gemini","content":"","tokens":null,"toolCalls":[{"id":"c","name":"codebase_investigator","args":{},"result":[],"agentId":"sub-1"},{"id":"d","name":"ls"}]}"#;
        let Record::Message(message) = read(call.as_bytes()).unwrap() else {
            panic!("not a message");
        };
        assert_eq!(message.tokens, None);
        assert_eq!(
            message.spawned,
            [Spawned {
                agent: "sub-1".into(),
                tool: "codebase_investigator".into()
            }]
        );
    }

    #[test]
    fn totals_that_do_not_add_up_are_seen() {
        let tokens = Tokens {
            input: 100,
            output: 5,
            cached: 40,
            thoughts: 2,
            tool: 3,
            total: 110,
        };
        assert!(tokens.adds_up());
        assert!(
            !Tokens {
                total: 111,
                ..tokens
            }
            .adds_up()
        );
    }
}
