//! Usage buckets: the sums every report row is made of.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::observation::{Call, Usage};

/// One report bucket (the spec's `USAGE` object): calls, errors, tokens by type, cost.
///
/// `cost_usd` is `None` — `null` in JSON, never a made-up 0 — as soon as one call in the bucket
/// has no known price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageTotals {
    pub requests: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cost_usd: Option<f64>,
    /// The cache writes split by TTL (they sum to `cache_creation_input_tokens`).
    pub cache_creation_5m_input_tokens: u64,
    pub cache_creation_1h_input_tokens: u64,
    /// Of `output_tokens`, those spent reasoning (already counted there, billed as output).
    #[serde(default)]
    pub reasoning_output_tokens: u64,
    /// Of `input_tokens`, those of tool-use prompts (Gemini; already counted there).
    #[serde(default)]
    pub tool_use_input_tokens: u64,
}

impl Default for UsageTotals {
    fn default() -> Self {
        UsageTotals {
            requests: 0,
            errors: 0,
            input_tokens: 0,
            output_tokens: 0,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
            // An empty bucket costs exactly nothing: 0 here is a fact, not a guess.
            cost_usd: Some(0.0),
            cache_creation_5m_input_tokens: 0,
            cache_creation_1h_input_tokens: 0,
            reasoning_output_tokens: 0,
            tool_use_input_tokens: 0,
        }
    }
}

impl UsageTotals {
    /// Adds one call: its usage and its cost (`None` = price unknown, poisoning the sum).
    pub fn add_call(&mut self, call: &Call, cost_usd: Option<f64>) {
        self.requests += 1;
        if call.is_error() {
            self.errors += 1;
        }
        if let Some(usage) = &call.usage {
            self.add_usage(usage);
        }
        self.cost_usd = match (self.cost_usd, cost_usd) {
            (Some(sum), Some(cost)) => Some(sum + cost),
            _ => None,
        };
    }

    /// Adds tokens only.
    pub fn add_usage(&mut self, usage: &Usage) {
        self.input_tokens += usage.input_tokens;
        self.output_tokens += usage.output_tokens;
        self.cache_creation_input_tokens += usage.cache_creation_input_tokens;
        self.cache_read_input_tokens += usage.cache_read_input_tokens;
        self.cache_creation_5m_input_tokens += usage.cache_creation_5m_input_tokens;
        self.cache_creation_1h_input_tokens += usage.cache_creation_1h_input_tokens;
        self.reasoning_output_tokens += usage.reasoning_output_tokens;
        self.tool_use_input_tokens += usage.tool_use_input_tokens;
    }

    /// Merges another bucket into this one.
    pub fn merge(&mut self, other: &UsageTotals) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_creation_input_tokens += other.cache_creation_input_tokens;
        self.cache_read_input_tokens += other.cache_read_input_tokens;
        self.cache_creation_5m_input_tokens += other.cache_creation_5m_input_tokens;
        self.cache_creation_1h_input_tokens += other.cache_creation_1h_input_tokens;
        self.reasoning_output_tokens += other.reasoning_output_tokens;
        self.tool_use_input_tokens += other.tool_use_input_tokens;
        self.cost_usd = match (self.cost_usd, other.cost_usd) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    }

    /// Every token of the bucket: input, cache writes, cache reads and output.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
    }

    /// Cache reads as a share of all prompt tokens (0 when there were none).
    pub fn cache_hit_ratio(&self) -> f64 {
        let prompt =
            self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens;
        if prompt == 0 {
            0.0
        } else {
            self.cache_read_input_tokens as f64 / prompt as f64
        }
    }
}

/// A few usage buckets by name: a JSON object in name order (like a `BTreeMap`), but a small
/// sorted vector in memory. A report holds one per turn, most with two or three entries, and
/// a B-tree node for them would cost a kilobyte each; names are mostly category names, which
/// are static and so not copied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Buckets(Vec<(Cow<'static, str>, UsageTotals)>);

impl Buckets {
    /// The bucket named `key`, created empty if missing.
    pub fn entry(&mut self, key: &str) -> &mut UsageTotals {
        self.entry_with(key, || Cow::Owned(key.to_string()))
    }

    /// [`Buckets::entry`] for a static name (a category's), stored without a copy.
    pub fn entry_static(&mut self, key: &'static str) -> &mut UsageTotals {
        self.entry_with(key, || Cow::Borrowed(key))
    }

    fn entry_with(
        &mut self,
        key: &str,
        name: impl FnOnce() -> Cow<'static, str>,
    ) -> &mut UsageTotals {
        let index = match self.0.binary_search_by(|(k, _)| k.as_ref().cmp(key)) {
            Ok(i) => i,
            Err(i) => {
                // Exactly as many slots as buckets: most have one to three.
                self.0.reserve_exact(1);
                self.0.insert(i, (name(), UsageTotals::default()));
                i
            }
        };
        &mut self.0[index].1
    }

    pub fn get(&self, key: &str) -> Option<&UsageTotals> {
        self.0
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Buckets in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &UsageTotals)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Buckets {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Buckets {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, UsageTotals>::deserialize(deserializer)?;
        Ok(Buckets(
            map.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_name_order_and_serialise_as_an_object() {
        let mut buckets = Buckets::default();
        buckets.entry("utility").requests = 2;
        buckets.entry_static("subagent").requests = 1;
        buckets.entry("utility").requests += 1;
        assert_eq!(buckets.len(), 2);
        assert_eq!(buckets.get("utility").map(|u| u.requests), Some(3));
        assert_eq!(buckets.get("dream"), None);
        let json = serde_json::to_value(&buckets).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["subagent", "utility"]);
        assert_eq!(serde_json::from_value::<Buckets>(json).unwrap(), buckets);
    }
}
