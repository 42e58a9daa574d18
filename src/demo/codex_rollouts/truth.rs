//! The ground truth of a generated Codex history: every model call the generator wrote,
//! summed the way a correct import must — and the token counts that must *not* be counted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::demo::transcript_corpus::Tokens;
use crate::observation::{Category, Usage};

/// What the generator wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CodexTruth {
    pub seed: u64,
    /// Bytes of rollouts as a reader sees them (decompressed).
    pub bytes: u64,
    pub files: u64,
    /// Model calls: one per genuine change of `total_token_usage`.
    pub totals: Tokens,
    /// All eight categories.
    pub categories: BTreeMap<String, Tokens>,
    pub subagent_types: BTreeMap<String, Tokens>,
    pub models: BTreeMap<String, Tokens>,
    pub sessions: BTreeMap<String, Tokens>,
    /// Prompts on a main thread, each followed by at least one call.
    pub turns: u64,
    /// Reasoning tokens (inside `output_tokens`).
    pub reasoning_tokens: u64,
    /// `token_count` lines repeating an unchanged total (rate-limit re-emits).
    pub repeats: u64,
    /// `token_count` lines with `info: null`.
    pub null_infos: u64,
    /// Context-window rewrites (total set to the window, no call).
    pub rewrites: u64,
    /// `token_count` lines a fork copied from its parent.
    pub replayed: u64,
    /// Remote compactions (0.164 and later): calls only a `token_usage_record` carries.
    #[serde(default)]
    pub remote_compactions: u64,
    /// What summing `last_token_usage` over every token_count with info would give (the
    /// naive count an importer must not reproduce), in agentprof's convention.
    pub naive: Tokens,
    /// Damaged input by the import's damage kinds (`torn_last_line`, `not_json`, …).
    pub damaged: BTreeMap<String, u64>,
    /// Calls on or after each date (UTC), for `--since`.
    pub calls_since: BTreeMap<String, u64>,
}

impl CodexTruth {
    pub fn new(seed: u64) -> CodexTruth {
        CodexTruth {
            seed,
            categories: Category::ALL
                .iter()
                .map(|c| (c.as_str().to_string(), Tokens::default()))
                .collect(),
            ..CodexTruth::default()
        }
    }

    /// One model call.
    pub fn call(&mut self, usage: &Usage, label: &Label, model: &str, date: &str) {
        self.totals.add(usage);
        self.categories
            .entry(label.category.as_str().to_string())
            .or_default()
            .add(usage);
        if let Some(kind) = &label.subagent_type {
            self.subagent_types
                .entry(kind.clone())
                .or_default()
                .add(usage);
        }
        self.models.entry(model.to_string()).or_default().add(usage);
        self.sessions
            .entry(label.session.clone())
            .or_default()
            .add(usage);
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

/// How a rollout's calls must be reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub category: Category,
    pub subagent_type: Option<String>,
    pub session: String,
}
