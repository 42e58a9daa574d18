//! One rollout line: the few records an import needs, told apart before any JSON parse.
//!
//! A rollout line is `{"timestamp":…,"type":<item>,"payload":{…}}`. Most bytes are
//! `response_item`s (messages, tool calls and outputs) that carry no usage: a byte look at the
//! item type (and, for `event_msg`, the payload type that serde writes first) skips them
//! unparsed. Lines the look cannot place are parsed whole.

use std::borrow::Cow;

use memchr::memmem;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::observation::Usage;

/// Codex's `TokenUsage` (protocol.rs): `input_tokens` includes cached and cache-write tokens,
/// `output_tokens` includes reasoning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub cache_write_input_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_output_tokens: u64,
    pub total_tokens: u64,
}

impl TokenUsage {
    /// In agentprof's convention, as the proxy maps the same usage from `response.completed`
    /// (capture/usage `openai_usage`): `input_tokens` uncached only, cache reads clamped to the
    /// prompt and writes to what is left, writes counted as default-TTL (`5m`) writes.
    pub fn usage(&self) -> Usage {
        let prompt = self.input_tokens;
        let read = self.cached_input_tokens.min(prompt);
        let write = self.cache_write_input_tokens.min(prompt - read);
        Usage {
            input_tokens: prompt - read - write,
            output_tokens: self.output_tokens,
            cache_creation_input_tokens: write,
            cache_read_input_tokens: read,
            cache_creation_5m_input_tokens: write,
            cache_creation_1h_input_tokens: 0,
            reasoning_output_tokens: self.reasoning_output_tokens,
            tool_use_input_tokens: 0,
        }
    }

    /// Whether a `last_token_usage` stands for a model call: one that read or wrote tokens.
    /// The context-window rewrite and compaction estimates set only `total_tokens`.
    pub fn is_call(&self) -> bool {
        self.input_tokens > 0 || self.output_tokens > 0
    }
}

/// `session_meta.source`, reduced to what classification needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceKind {
    /// `cli`, `exec`, `vscode`, `mcp` … for a main thread; `review`, `compact`,
    /// `memory_consolidation`, `thread_spawn`, `other` … for a sub-agent or internal one.
    pub kind: String,
    /// Whether it is a sub-agent or internal thread (`{"subagent": …}`, `{"internal": …}`).
    pub sub: bool,
    /// `other`'s label (`guardian`), or a spawned agent's role.
    pub label: Option<String>,
    /// A spawned agent's parent thread.
    pub parent: Option<String>,
}

/// The records an import reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    SessionMeta {
        id: String,
        forked_from_id: Option<String>,
        source: SourceKind,
        cli_version: Option<String>,
        /// The thread's working directory (`SessionMeta.cwd`), as recorded; `None` when
        /// absent or empty.
        cwd: Option<String>,
    },
    TurnContext {
        model: Option<String>,
    },
    /// A prompt: `event_msg` `user_message`, or (0.171 and later) `event_msg`
    /// `item_completed` of a `UserMessage` item.
    UserMessage,
    /// `token_usage_record` (0.171 and later): one per response, with its id and usage —
    /// compaction's included, which no `token_count` total carries.
    ResponseUsage {
        t_ms: i64,
        response_id: Option<String>,
        usage: Option<TokenUsage>,
    },
    /// A `compacted` line: the history was just replaced by a compaction's summary.
    Compacted,
    /// `event_msg` `token_count`; `None` for `info: null` (a rate-limit-only event).
    TokenCount {
        t_ms: i64,
        usage: Option<(TokenUsage, TokenUsage)>,
    },
    /// Anything else (response items, other events, compaction records).
    Other,
}

/// Why a line was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Not a JSON object at all (torn, or garbage).
    NotJson(String),
    /// A JSON object, but not a rollout line of a known shape.
    Unparsable(String),
}

const TYPE: &[u8] = br#""type":""#;

/// The outer item types of `RolloutItem`.
const ITEMS: [&[u8]; 8] = [
    b"response_item",
    b"token_usage_record",
    b"event_msg",
    b"session_meta",
    b"turn_context",
    b"compacted",
    b"world_state",
    b"inter_agent_communication",
];

/// Reads one line (without its newline).
pub fn read(line: &[u8]) -> Result<Record, LineError> {
    let trimmed = line.trim_ascii();
    if !(trimmed.starts_with(b"{") && trimmed.ends_with(b"}")) {
        return Err(LineError::NotJson(preview(trimmed)));
    }
    match quick(trimmed) {
        Some(Quick::Skip) => Ok(Record::Other),
        Some(Quick::Compacted) => Ok(Record::Compacted),
        Some(Quick::Parse) | None => parse(trimmed),
    }
}

enum Quick {
    Skip,
    Parse,
    /// A `compacted` line: known by its type alone (its replacement history is long).
    Compacted,
}

/// The byte look: skip what surely holds nothing needed.
fn quick(line: &[u8]) -> Option<Quick> {
    let first = memmem::find(line, TYPE)? + TYPE.len();
    let item = value_at(line, first)?;
    if !ITEMS.contains(&item) {
        // The first "type" was not the item's (another key order): parse.
        return None;
    }
    match item {
        b"event_msg" => {
            let rest = line.get(first + item.len()..)?;
            let at = memmem::find(rest, TYPE)? + TYPE.len();
            let kind = value_at(rest, at)?;
            if kind == b"item_completed" {
                // Only a user's message matters; agent messages are long and need no parse.
                let rest = rest.get(at + kind.len()..)?;
                let at = memmem::find(rest, TYPE)? + TYPE.len();
                return Some(if value_at(rest, at)? == b"UserMessage" {
                    Quick::Parse
                } else {
                    Quick::Skip
                });
            }
            Some(if kind == b"token_count" || kind == b"user_message" {
                Quick::Parse
            } else {
                Quick::Skip
            })
        }
        b"session_meta" | b"turn_context" | b"token_usage_record" => Some(Quick::Parse),
        b"compacted" => Some(Quick::Compacted),
        _ => Some(Quick::Skip),
    }
}

fn value_at(line: &[u8], at: usize) -> Option<&[u8]> {
    let rest = line.get(at..)?;
    let end = memchr::memchr(b'"', rest)?;
    rest.get(..end)
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(default, borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    payload: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Meta {
    id: String,
    #[serde(default)]
    forked_from_id: Option<String>,
    #[serde(default)]
    source: Option<serde_json::Value>,
    #[serde(default)]
    cli_version: Option<String>,
    #[serde(default)]
    cwd: Option<String>,
}

#[derive(Deserialize)]
struct TurnContext {
    #[serde(default)]
    model: Option<String>,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    info: Option<Info>,
    #[serde(default, borrow)]
    item: Option<Item<'a>>,
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
}

#[derive(Deserialize)]
struct UsageRecordLine {
    #[serde(default)]
    response_id: Option<String>,
    #[serde(default)]
    usage: Option<TokenUsage>,
}

#[derive(Deserialize)]
struct Info {
    total_token_usage: TokenUsage,
    last_token_usage: TokenUsage,
}

fn parse(line: &[u8]) -> Result<Record, LineError> {
    let parsed: Line<'_> = serde_json::from_slice(line).map_err(|e| {
        // A line cut off inside or with garbage is "not JSON"; a whole object of another
        // shape is "unparsable".
        if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err() {
            LineError::NotJson(format!("{e}"))
        } else {
            LineError::Unparsable(format!("{e}"))
        }
    })?;
    let payload = || parsed.payload.map_or("null", RawValue::get);
    let bad = |what: &str, e: serde_json::Error| LineError::Unparsable(format!("{what}: {e}"));
    let t_ms = |what: &str| {
        parsed
            .timestamp
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_millisecond())
            .ok_or_else(|| LineError::Unparsable(format!("{what} without a valid timestamp")))
    };
    match parsed.kind.as_ref() {
        "session_meta" => {
            let meta: Meta = serde_json::from_str(payload()).map_err(|e| bad("session_meta", e))?;
            Ok(Record::SessionMeta {
                id: meta.id,
                forked_from_id: meta.forked_from_id.filter(|f| !f.is_empty()),
                source: source_kind(meta.source.as_ref()),
                cli_version: meta.cli_version,
                cwd: meta.cwd.filter(|c| !c.is_empty()),
            })
        }
        "turn_context" => {
            let context: TurnContext =
                serde_json::from_str(payload()).map_err(|e| bad("turn_context", e))?;
            Ok(Record::TurnContext {
                model: context.model,
            })
        }
        "event_msg" => {
            let event: Event<'_> =
                serde_json::from_str(payload()).map_err(|e| bad("event_msg", e))?;
            match event.kind.as_ref() {
                "user_message" => Ok(Record::UserMessage),
                "item_completed"
                    if event.item.as_ref().is_some_and(|i| i.kind == "UserMessage") =>
                {
                    Ok(Record::UserMessage)
                }
                "token_count" => {
                    let t_ms = t_ms("token_count")?;
                    Ok(Record::TokenCount {
                        t_ms,
                        usage: event
                            .info
                            .map(|i| (i.total_token_usage, i.last_token_usage)),
                    })
                }
                _ => Ok(Record::Other),
            }
        }
        "token_usage_record" => {
            let record: UsageRecordLine =
                serde_json::from_str(payload()).map_err(|e| bad("token_usage_record", e))?;
            Ok(Record::ResponseUsage {
                t_ms: t_ms("token_usage_record")?,
                response_id: record.response_id,
                usage: record.usage,
            })
        }
        _ => Ok(Record::Other),
    }
}

/// `"exec"`, `{"subagent":"review"}`, `{"subagent":{"thread_spawn":{…}}}`,
/// `{"subagent":{"other":"guardian"}}`, `{"internal":"memory_consolidation"}`.
pub fn source_kind(source: Option<&serde_json::Value>) -> SourceKind {
    use serde_json::Value;
    let Some(source) = source else {
        return SourceKind {
            kind: "unknown".into(),
            ..SourceKind::default()
        };
    };
    match source {
        Value::String(s) => SourceKind {
            kind: s.clone(),
            ..SourceKind::default()
        },
        Value::Object(map) => {
            let Some((_, inner)) = map.iter().next() else {
                return SourceKind {
                    kind: "unknown".into(),
                    ..SourceKind::default()
                };
            };
            let mut out = SourceKind {
                sub: true,
                ..SourceKind::default()
            };
            match inner {
                Value::String(s) => out.kind = s.clone(),
                Value::Object(inner) => {
                    if let Some((kind, detail)) = inner.iter().next() {
                        out.kind = kind.clone();
                        match detail {
                            Value::String(s) => out.label = Some(s.clone()),
                            Value::Object(d) => {
                                let text = |k: &str| d.get(k).and_then(Value::as_str);
                                out.label = text("agent_role")
                                    .or(text("agent_nickname"))
                                    .map(str::to_string);
                                out.parent = text("parent_thread_id").map(str::to_string);
                            }
                            _ => {}
                        }
                    }
                }
                _ => out.kind = "unknown".into(),
            }
            out
        }
        _ => SourceKind {
            kind: "unknown".into(),
            ..SourceKind::default()
        },
    }
}

fn preview(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(&line[..line.len().min(60)]);
    format!("not a JSON object: {text:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const COUNT: &str = r#"{"timestamp":"2026-01-02T03:04:05.678Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":100,"cached_input_tokens":60,"cache_write_input_tokens":10,"output_tokens":7,"reasoning_output_tokens":3,"total_tokens":107},"last_token_usage":{"input_tokens":100,"cached_input_tokens":60,"cache_write_input_tokens":10,"output_tokens":7,"reasoning_output_tokens":3,"total_tokens":107},"model_context_window":272000},"rate_limits":null}}"#;

    #[test]
    fn token_counts_map_to_uncached_input() {
        let Record::TokenCount {
            usage: Some((_, last)),
            t_ms,
        } = read(COUNT.as_bytes()).unwrap()
        else {
            panic!("not a token count");
        };
        assert_eq!(t_ms, 1_767_323_045_678);
        let usage = last.usage();
        assert_eq!(usage.input_tokens, 30);
        assert_eq!(usage.cache_read_input_tokens, 60);
        assert_eq!(usage.cache_creation_input_tokens, 10);
        assert_eq!(usage.output_tokens, 7);
    }

    #[test]
    fn null_info_and_response_items_and_damage() {
        let null = r#"{"timestamp":"2026-01-02T03:04:05Z","type":"event_msg","payload":{"type":"token_count","info":null,"rate_limits":{}}}"#;
        assert_eq!(
            read(null.as_bytes()).unwrap(),
            Record::TokenCount {
                t_ms: 1_767_323_045_000,
                usage: None
            }
        );
        let item = r#"{"timestamp":"x","type":"response_item","payload":{"type":"message","content":"token_count"}}"#;
        assert_eq!(read(item.as_bytes()).unwrap(), Record::Other);
        assert!(matches!(
            read(&COUNT.as_bytes()[..80]),
            Err(LineError::NotJson(_))
        ));
        assert!(matches!(
            read(br#"{"type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":1}}}"#),
            Err(LineError::Unparsable(_))
        ));
    }

    #[test]
    fn codex_0_171_prompts_and_usage_records() {
        let prompt = r#"{"timestamp":"2026-12-07T00:36:47.579Z","ordinal":12,"type":"event_msg","payload":{"type":"item_completed","thread_id":"t","turn_id":"u","item":{"type":"UserMessage","id":"i","content":[{"type":"Text","text":"say hi"}]}}}"#;
        assert_eq!(read(prompt.as_bytes()).unwrap(), Record::UserMessage);
        let answer = prompt.replace("UserMessage", "AgentMessage");
        assert_eq!(read(answer.as_bytes()).unwrap(), Record::Other);
        let record = r#"{"timestamp":"2026-12-07T00:36:47.620Z","ordinal":15,"type":"token_usage_record","payload":{"thread_id":"t","response_id":"resp_1","usage":{"input_tokens":1}}}"#;
        assert_eq!(
            read(record.as_bytes()).unwrap(),
            Record::ResponseUsage {
                t_ms: 1_796_603_807_620,
                response_id: Some("resp_1".into()),
                usage: Some(TokenUsage {
                    input_tokens: 1,
                    ..TokenUsage::default()
                }),
            }
        );
        let compacted = r#"{"timestamp":"2026-12-07T01:37:10.9Z","type":"compacted","payload":{"message":"","replacement_history":[{"type":"message","role":"user","content":[]}]}}"#;
        assert_eq!(read(compacted.as_bytes()).unwrap(), Record::Compacted);
    }

    #[test]
    fn session_meta_names_the_thread_s_working_directory() {
        let meta = |cwd: &str| {
            format!(
                r#"{{"timestamp":"2026-12-07T00:36:47.579Z","type":"session_meta","payload":{{"id":"t","timestamp":"2026-12-07T00:36:47.579Z",{cwd}"originator":"codex_exec","cli_version":"0.171.0","source":"exec","model_provider":"openai"}}}}"#
            )
        };
        let cwd = |line: String| match read(line.as_bytes()).unwrap() {
            Record::SessionMeta { cwd, .. } => cwd,
            other => panic!("not a session_meta: {other:?}"),
        };
        assert_eq!(
            cwd(meta(r#""cwd":"/home/u/my app","#)).as_deref(),
            Some("/home/u/my app")
        );
        // Codex's default (an empty PathBuf) and a missing one name no project.
        assert_eq!(cwd(meta(r#""cwd":"","#)), None);
        assert_eq!(cwd(meta("")), None);
    }

    #[test]
    fn sources_of_main_and_sub_agent_threads() {
        let of = |text: &str| source_kind(Some(&serde_json::from_str(text).unwrap()));
        assert_eq!(of(r#""exec""#).kind, "exec");
        assert!(!of(r#""cli""#).sub);
        let review = of(r#"{"subagent":"review"}"#);
        assert!(review.sub);
        assert_eq!(review.kind, "review");
        let spawn = of(
            r#"{"subagent":{"thread_spawn":{"parent_thread_id":"p","depth":1,"agent_role":"worker"}}}"#,
        );
        assert_eq!(spawn.kind, "thread_spawn");
        assert_eq!(spawn.parent.as_deref(), Some("p"));
        assert_eq!(spawn.label.as_deref(), Some("worker"));
        let guardian = of(r#"{"subagent":{"other":"guardian"}}"#);
        assert_eq!(
            (guardian.kind.as_str(), guardian.label.as_deref()),
            ("other", Some("guardian"))
        );
        assert_eq!(
            of(r#"{"internal":"memory_consolidation"}"#).kind,
            "memory_consolidation"
        );
    }
}
