//! The serde visitors for `messages` (or `input`, or Gemini's `contents`): each message's role
//! and content, and the content blocks whose text is kept (the first real one, and in messages
//! the last one too). A Gemini message holds `parts` where the others hold `content`, and a
//! part has no `type`: `{"text": …}` is text (unless it is a `thought`), `{"functionResponse":
//! …}` a tool result.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::super::{ContentScratch, PREFIX_BYTES, Role, State, push_prefix};

/// `messages` (or Responses `input`): an array of messages, or for `input` a bare string that
/// stands for one user message.
pub(super) struct Messages<'s>(pub(super) &'s mut State);

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
        st.scratch.reset(true);
        push_prefix(&mut st.scratch.text, v, PREFIX_BYTES);
        st.scratch.has_text = true;
        st.end_message(Role::User);
        Ok(())
    }
    ignore_visits!(() => bool i64 u64 f64 unit map);
}

/// The members of a message agentprof reads.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum MessageKey {
    Role,
    Content,
    /// Gemini's content.
    Parts,
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
        st.scratch.reset(true);
        let mut role = Role::Other;
        while let Some(key) = map.next_key::<MessageKey>()? {
            match key {
                MessageKey::Role => role = map.next_value_seed(RoleSeed)?,
                MessageKey::Content | MessageKey::Parts => {
                    map.next_value_seed(Content(&mut st.scratch))?
                }
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
pub(super) struct Content<'s>(pub(super) &'s mut ContentScratch);

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

/// Gemini's `systemInstruction`: a content object (`{"role"?, "parts": […]}`) whose parts are
/// read like Anthropic's `system` blocks, or a bare string. Writes into the scratch; the caller
/// resets it first.
pub(super) struct Instruction<'s>(pub(super) &'s mut ContentScratch);

impl<'de> DeserializeSeed<'de> for Instruction<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Instruction<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a content object or a string")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<MessageKey>()? {
            match key {
                MessageKey::Parts | MessageKey::Content => {
                    map.next_value_seed(Content(&mut *self.0))?
                }
                MessageKey::Role | MessageKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Content(self.0).visit_str(v)
    }
    ignore_visits!(() => bool i64 u64 f64 unit seq);
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
    /// Gemini: a part that is the model's thinking, not text.
    Thought,
    /// Gemini: a part holding a tool's result.
    #[serde(rename = "functionResponse")]
    FunctionResponse,
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
        // `None` until a `type` says: a Gemini part has none, and is what its members make it.
        let mut kind = None;
        let mut thought = false;
        let mut function_response = false;
        while let Some(key) = map.next_key::<BlockKey>()? {
            match key {
                BlockKey::Type => kind = Some(map.next_value_seed(BlockTypeSeed)?),
                BlockKey::Thought => {
                    thought = map.next_value_seed(super::Scalar(0))?.bool() == Some(true);
                }
                BlockKey::FunctionResponse => {
                    function_response = true;
                    map.next_value::<IgnoredAny>()?;
                }
                // Only kept once the type says it is a text block: the first one, and for
                // message content the latest one too.
                BlockKey::Text if !s.has_text || s.text_is_reminder || s.keep_last => {
                    s.block_has_text |= map.next_value_seed(TextPrefix(&mut s.block_text))?;
                }
                BlockKey::Text | BlockKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        s.blocks += 1;
        let kind = kind.unwrap_or(if function_response {
            BlockType::ToolResult
        } else if s.block_has_text && !thought {
            BlockType::Text
        } else {
            BlockType::Other
        });
        match kind {
            BlockType::ToolResult => s.tool_results += 1,
            BlockType::Text if s.block_has_text => {
                let is_reminder = is_reminder(&s.block_text);
                if !s.has_text || (s.text_is_reminder && !is_reminder) {
                    // The first text, or the first real text after injected context.
                    std::mem::swap(&mut s.text, &mut s.block_text);
                    s.has_text = true;
                    s.text_is_reminder = is_reminder;
                } else if s.keep_last && !is_reminder {
                    // A later real text: the latest one is kept beside the first.
                    std::mem::swap(&mut s.last, &mut s.block_text);
                    s.has_last = true;
                }
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

/// A block of context the agent injects before what the message is about: a
/// `<system-reminder>`, or the summary that continues a compacted conversation.
fn is_reminder(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with("<system-reminder>")
        || text.starts_with("This session is being continued from a previous conversation")
}
