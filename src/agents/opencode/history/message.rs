//! One opencode message's `data` JSON (the `message` table's column, or a legacy
//! `storage/message/<session>/<msg>.json` file): the fields an import needs.

use serde::Deserialize;

use crate::observation::Usage;

/// opencode's token counts (`tokens`). `output` excludes `reasoning` (opencode splits
/// reasoning out of the API's output count); `input` is uncached; cache reads and writes apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Tokens {
    #[serde(default)]
    pub input: u64,
    #[serde(default)]
    pub output: u64,
    #[serde(default)]
    pub reasoning: u64,
    #[serde(default)]
    pub cache: Cache,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Cache {
    #[serde(default)]
    pub read: u64,
    #[serde(default)]
    pub write: u64,
}

impl Tokens {
    /// No token at all: a call killed or failed before its usage came (opencode leaves such
    /// a row with zeros).
    pub fn is_empty(&self) -> bool {
        *self == Tokens::default()
    }

    /// In agentprof's convention: reasoning inside `output_tokens` (shown apart), cache
    /// writes counted as 5-minute (opencode keeps no TTL split).
    pub fn usage(&self) -> Usage {
        Usage {
            input_tokens: self.input,
            output_tokens: self.output.saturating_add(self.reasoning),
            cache_creation_input_tokens: self.cache.write,
            cache_read_input_tokens: self.cache.read,
            cache_creation_5m_input_tokens: self.cache.write,
            cache_creation_1h_input_tokens: 0,
            reasoning_output_tokens: self.reasoning,
            tool_use_input_tokens: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Time {
    pub created: Option<i64>,
    pub completed: Option<i64>,
}

/// A message, as far as an import reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub role: Option<String>,
    pub agent: Option<String>,
    pub mode: Option<String>,
    /// `true` on a compaction's assistant message (a user message's `summary` is an object).
    #[serde(default)]
    pub summary: serde_json::Value,
    pub tokens: Option<Tokens>,
    #[serde(rename = "modelID")]
    pub model_id: Option<String>,
    #[serde(rename = "providerID")]
    pub provider_id: Option<String>,
    #[serde(default)]
    pub time: Time,
}

impl Message {
    pub fn is_assistant(&self) -> bool {
        self.role.as_deref() == Some("assistant")
    }

    pub fn is_user(&self) -> bool {
        self.role.as_deref() == Some("user")
    }

    /// A compaction's summary call (`summary: true`, agent `compaction`).
    pub fn is_compaction(&self) -> bool {
        self.summary == serde_json::Value::Bool(true)
            || self.agent.as_deref() == Some("compaction")
            || self.mode.as_deref() == Some("compaction")
    }
}

/// Parses a message's JSON; the error says why it is not one.
pub fn parse(data: &[u8]) -> Result<Message, String> {
    serde_json::from_slice(data).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_goes_inside_output_and_cache_apart() {
        // opencode 1.18.33 against OpenAI: the API said output 175 with 43 reasoning.
        let m = parse(br#"{"role":"assistant","tokens":{"total":7471,"input":0,"output":132,"reasoning":43,"cache":{"write":7296,"read":0}},"modelID":"gpt-5.6-terra-pro","providerID":"openai","time":{"created":1,"completed":2}}"#).unwrap();
        let usage = m.tokens.unwrap().usage();
        assert_eq!(usage.output_tokens, 175);
        assert_eq!(usage.reasoning_output_tokens, 43);
        assert_eq!(usage.cache_creation_input_tokens, 7296);
        assert!(!m.is_compaction());
    }

    #[test]
    fn a_user_summary_object_is_not_a_compaction() {
        let user = parse(br#"{"role":"user","summary":{"diffs":[]}}"#).unwrap();
        assert!(!user.is_compaction());
        let c = parse(br#"{"role":"assistant","summary":true,"agent":"compaction"}"#).unwrap();
        assert!(c.is_compaction());
    }
}
