//! JSON serialization in the real APIs' key order.
//!
//! `serde_json::Value` objects serialize in sorted key order (or insertion order when some crate
//! in the build enables `preserve_order`), while the real APIs put `id`/`type` first and `usage`
//! last. Clients must not care, but a proxy's fast-path scanner might, so the mock serializes
//! every body and event through this fixed ranking: ranked keys first in the order below, any
//! other key after them alphabetically.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

const RANK: [&str; 59] = [
    "id",
    "type",
    "object",
    "created",
    "created_at",
    "status",
    "role",
    "model",
    "index",
    "item_id",
    "output_index",
    "content_index",
    "sequence_number",
    "name",
    "call_id",
    "message",
    "content_block",
    "delta",
    "content",
    "text",
    "partial_json",
    "arguments",
    "input",
    "stop_reason",
    "stop_sequence",
    "choices",
    "refusal",
    "tool_calls",
    "function",
    "logprobs",
    "finish_reason",
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "ephemeral_5m_input_tokens",
    "ephemeral_1h_input_tokens",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
    "output_tokens",
    "service_tier",
    "system_fingerprint",
    "usage",
    // Gemini: the body's members and `usageMetadata`'s counts in the real API's order.
    "candidates",
    "promptTokenCount",
    "candidatesTokenCount",
    "totalTokenCount",
    "cachedContentTokenCount",
    "promptTokensDetails",
    "cacheTokensDetails",
    "thoughtsTokenCount",
    "toolUsePromptTokenCount",
    "toolUsePromptTokensDetails",
    "usageMetadata",
    "modelVersion",
    "responseId",
];

fn rank(key: &str) -> usize {
    RANK.iter().position(|k| *k == key).unwrap_or(RANK.len())
}

struct Ordered<'a>(&'a Value);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
                let mut m = s.serialize_map(Some(keys.len()))?;
                for k in keys {
                    m.serialize_entry(k, &Ordered(&map[k]))?;
                }
                m.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Ordered(item))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

/// Compact JSON of `v` in wire key order.
pub(crate) fn to_wire(v: &Value) -> String {
    serde_json::to_string(&Ordered(v)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_first_usage_last() {
        let v = json!({"usage": {"output_tokens": 2, "input_tokens": 1}, "zeta": 0, "delta": {}, "type": "message_delta"});
        assert_eq!(
            to_wire(&v),
            r#"{"type":"message_delta","delta":{},"usage":{"input_tokens":1,"output_tokens":2},"zeta":0}"#
        );
    }
}
