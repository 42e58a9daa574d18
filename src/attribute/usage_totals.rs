//! Usage buckets: the sums every report row is made of.

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
