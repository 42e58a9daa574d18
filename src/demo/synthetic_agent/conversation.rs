//! The transcript the synthetic agent keeps and re-sends on every call, and the content blocks
//! it is made of. Like the real agent it re-sends the whole history each time (so the context
//! grows call by call) and moves the cache breakpoint to the newest message.

use serde_json::{Value, json};

pub(crate) fn text_block(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

pub(crate) fn tool_use_block(id: &str, name: &str, input: Value) -> Value {
    json!({"type": "tool_use", "id": id, "name": name, "input": input})
}

pub(crate) fn tool_result_block(tool_use_id: &str, content: &str) -> Value {
    json!({"type": "tool_result", "tool_use_id": tool_use_id, "content": content})
}

/// Alternating user/assistant messages, every content an array of blocks.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    messages: Vec<Value>,
}

impl Conversation {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends user blocks, merged into the last message if it is a user message (the API wants
    /// alternating roles, and the real agent merges consecutive user content the same way).
    /// Returns the bytes the transcript grew by.
    pub(crate) fn push_user(&mut self, blocks: Vec<Value>) -> usize {
        self.push("user", blocks)
    }

    pub(crate) fn push_assistant(&mut self, blocks: Vec<Value>) -> usize {
        self.push("assistant", blocks)
    }

    fn push(&mut self, role: &str, blocks: Vec<Value>) -> usize {
        let added: usize = blocks.iter().map(json_len).sum();
        let last_same_role = self
            .messages
            .last()
            .is_some_and(|m| m.get("role").and_then(Value::as_str) == Some(role));
        if last_same_role
            && let Some(content) = self
                .messages
                .last_mut()
                .and_then(|m| m.get_mut("content"))
                .and_then(Value::as_array_mut)
        {
            content.extend(blocks);
        } else {
            self.messages.push(json!({"role": role, "content": blocks}));
        }
        added
    }

    /// JSON bytes of all messages: what the compaction threshold looks at.
    pub(crate) fn bytes(&self) -> usize {
        self.messages.iter().map(json_len).sum()
    }

    /// Replaces the history with one user message holding a summary (what compaction does).
    pub(crate) fn replace_with(&mut self, first_user_text: &str) {
        self.messages.clear();
        self.push_user(vec![text_block(first_user_text)]);
    }

    /// The messages to send: the history, plus `extra` as a last user message (a fork's
    /// instruction), with the cache breakpoint on the last block.
    pub(crate) fn for_request(&self, extra: Option<&str>) -> Vec<Value> {
        let mut copy = Conversation {
            messages: self.messages.clone(),
        };
        if let Some(text) = extra {
            copy.push_user(vec![text_block(text)]);
        }
        if let Some(block) = copy
            .messages
            .last_mut()
            .and_then(|m| m.get_mut("content"))
            .and_then(Value::as_array_mut)
            .and_then(|c| c.last_mut())
            .and_then(Value::as_object_mut)
        {
            block.insert("cache_control".into(), json!({"type": "ephemeral"}));
        }
        copy.messages
    }
}

fn json_len(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(0, |b| b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_user_turns_and_marks_only_the_last_block() {
        let mut c = Conversation::new();
        c.push_user(vec![text_block("a")]);
        c.push_user(vec![text_block("b")]);
        c.push_assistant(vec![text_block("c")]);
        let sent = c.for_request(Some("fork"));
        assert_eq!(sent.len(), 3);
        assert_eq!(sent[0]["content"].as_array().map(Vec::len), Some(2));
        assert_eq!(sent[2]["content"][0]["cache_control"]["type"], "ephemeral");
        assert!(sent[1]["content"][0].get("cache_control").is_none());
        // The stored history is untouched.
        assert_eq!(c.for_request(None).len(), 2);
        c.replace_with("summary");
        assert_eq!(c.for_request(None).len(), 1);
    }
}
