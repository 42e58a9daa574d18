//! The ground truth of a generated history: every billed call the generator wrote, summed the
//! way a correct import must sum them — and what it wrote that must *not* be counted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::observation::{Category, Usage};

/// Calls and tokens of one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation_5m_input_tokens: u64,
    pub cache_creation_1h_input_tokens: u64,
}

impl Tokens {
    pub fn add(&mut self, usage: &Usage) {
        self.requests += 1;
        self.input_tokens += usage.input_tokens;
        self.output_tokens += usage.output_tokens;
        self.cache_creation_input_tokens += usage.cache_creation_input_tokens;
        self.cache_read_input_tokens += usage.cache_read_input_tokens;
        self.cache_creation_5m_input_tokens += usage.cache_creation_5m_input_tokens;
        self.cache_creation_1h_input_tokens += usage.cache_creation_1h_input_tokens;
    }

    pub fn total_tokens(&self) -> u64 {
        self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
    }
}

/// What the generator wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub seed: u64,
    pub bytes: u64,
    pub files: u64,
    /// Billed calls: one per message id, at its final usage.
    pub totals: Tokens,
    /// All eight categories.
    pub categories: BTreeMap<String, Tokens>,
    pub subagent_types: BTreeMap<String, Tokens>,
    pub models: BTreeMap<String, Tokens>,
    pub sessions: BTreeMap<String, Tokens>,
    /// Prompts on a main loop, each followed by at least one main-loop call.
    pub turns: u64,
    /// Calls by the Claude Code version that wrote them.
    pub versions: BTreeMap<String, u64>,
    pub calls_before_2_1_97: u64,
    /// Messages replayed under another request id (into sub-agent files, and into forked
    /// sessions): counted once in the totals.
    pub replays: Tokens,
    /// The replays that sit in another session (a forked session's file): ccusage 20.0.24
    /// deduplicates message ids within a session only, so it counts these again.
    pub cross_session_replays: Tokens,
    /// Responses whose first line held a smaller (placeholder) usage.
    pub placeholders: u64,
    /// Lines repeating a response's usage (one per further content block, placeholders too).
    pub repeated_lines: u64,
    /// `<synthetic>` entries (not calls).
    pub synthetic: u64,
    /// Damaged input by the import's damage kinds (`torn_last_line`, `not_json`, …).
    pub damaged: BTreeMap<String, u64>,
    /// Lines over a megabyte (each also counted where it belongs).
    pub multi_mb_lines: u64,
    /// Calls on or after each date (UTC), for `--since`.
    pub calls_since: BTreeMap<String, u64>,
}

impl GroundTruth {
    pub fn new(seed: u64) -> GroundTruth {
        GroundTruth {
            seed,
            categories: Category::ALL
                .iter()
                .map(|c| (c.as_str().to_string(), Tokens::default()))
                .collect(),
            ..GroundTruth::default()
        }
    }

    /// One billed call.
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &mut self,
        usage: &Usage,
        category: Category,
        subagent_type: Option<&str>,
        model: &str,
        session: &str,
        version: &str,
        old_version: bool,
        date: &str,
    ) {
        self.totals.add(usage);
        self.categories
            .entry(category.as_str().to_string())
            .or_default()
            .add(usage);
        if category == Category::Subagent {
            self.subagent_types
                .entry(subagent_type.unwrap_or("(type not reported)").to_string())
                .or_default()
                .add(usage);
        }
        self.models.entry(model.to_string()).or_default().add(usage);
        self.sessions
            .entry(session.to_string())
            .or_default()
            .add(usage);
        *self.versions.entry(version.to_string()).or_default() += 1;
        if old_version {
            self.calls_before_2_1_97 += 1;
        }
        *self.calls_since.entry(date.to_string()).or_default() += 1;
    }

    pub fn damage(&mut self, kind: &str) {
        *self.damaged.entry(kind.to_string()).or_default() += 1;
    }

    /// Turns per-date counts into "on or after" counts.
    pub fn settle(&mut self) {
        let mut running = 0;
        for count in self.calls_since.values_mut().rev() {
            running += *count;
            *count = running;
        }
    }
}
