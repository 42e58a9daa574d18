//! The ground truth of a generated opencode history: every model call the generator wrote,
//! summed the way a correct import must — and the messages that must *not* be counted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::demo::import_truth::{CallTally, Label, Placement};
use crate::observation::Usage;

/// What the generator wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpencodeTruth {
    pub seed: u64,
    pub bytes: u64,
    pub files: u64,
    /// Calls: one per assistant message with token counts; turns: user messages of main
    /// sessions followed by a main call.
    #[serde(flatten)]
    pub tally: CallTally,
    /// Reasoning tokens (inside `output_tokens`).
    pub reasoning_tokens: u64,
    /// Assistant messages without tokens (none, or all zero).
    pub without_tokens: u64,
    /// Legacy message files the database also holds.
    pub copies: u64,
    /// Sessions written as legacy JSON files.
    pub legacy_sessions: u64,
    /// Damage by the import's damage kinds (`not_json`).
    pub damaged: BTreeMap<String, u64>,
    /// What the damage is: `message row N (id)`.
    pub damaged_at: Vec<String>,
}

impl OpencodeTruth {
    pub fn new(seed: u64) -> OpencodeTruth {
        OpencodeTruth {
            seed,
            tally: CallTally::new(),
            ..OpencodeTruth::default()
        }
    }

    /// One model call, where and when the import places it.
    pub fn call(&mut self, usage: &Usage, label: &Label, model: &str, at: &Placement<'_>) {
        self.tally.call(usage, label, model, at);
        self.reasoning_tokens += usage.reasoning_output_tokens;
    }

    pub fn damage(&mut self, kind: &str, at: String) {
        *self.damaged.entry(kind.to_string()).or_default() += 1;
        self.damaged_at.push(at);
    }
}
