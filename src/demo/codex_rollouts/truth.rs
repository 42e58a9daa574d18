//! The ground truth of a generated Codex history: every model call the generator wrote,
//! summed the way a correct import must — and the token counts that must *not* be counted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::demo::import_truth::{CallTally, Tokens};

/// What the generator wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CodexTruth {
    pub seed: u64,
    /// Bytes of rollouts as a reader sees them (decompressed).
    pub bytes: u64,
    pub files: u64,
    /// Model calls: one per genuine change of `total_token_usage`; turns: prompts on a main
    /// thread, each followed by at least one call.
    #[serde(flatten)]
    pub tally: CallTally,
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
}

impl CodexTruth {
    pub fn new(seed: u64) -> CodexTruth {
        CodexTruth {
            seed,
            tally: CallTally::new(),
            ..CodexTruth::default()
        }
    }

    pub fn damage(&mut self, kind: &str) {
        *self.damaged.entry(kind.to_string()).or_default() += 1;
    }
}
