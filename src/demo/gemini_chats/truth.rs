//! The ground truth of a generated Gemini CLI history: every model call the generator wrote,
//! summed the way a correct import must — and the records that must *not* be counted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::demo::import_truth::{CallTally, Label, Placement};
use crate::observation::Usage;

/// What the generator wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeminiTruth {
    pub seed: u64,
    pub bytes: u64,
    pub files: u64,
    /// Model calls: one per gemini message id with token counts; turns: prompts of main
    /// sessions (each followed by at least one call).
    #[serde(flatten)]
    pub tally: CallTally,
    /// Thoughts tokens (inside `output_tokens`).
    pub reasoning_tokens: u64,
    /// Tool-use prompt tokens (inside `input_tokens`).
    pub tool_use_tokens: u64,
    /// Records repeating a message id (tool calls added, history copies).
    pub repeats: u64,
    /// Gemini messages without token counts (synthetic).
    pub without_tokens: u64,
    /// Calls made before a rewind or a history replacement dropped them from the conversation.
    pub dropped_from_conversation: u64,
    /// Messages written again into another file of the same session (a converted legacy
    /// session).
    pub copies: u64,
    /// Damage by the import's damage kinds (`not_json`, `total_mismatch`).
    pub damaged: BTreeMap<String, u64>,
    /// Where the damaged line is: `path relative to the home:line`.
    pub damaged_at: Vec<String>,
}

impl GeminiTruth {
    pub fn new(seed: u64) -> GeminiTruth {
        GeminiTruth {
            seed,
            tally: CallTally::new(),
            ..GeminiTruth::default()
        }
    }

    /// One model call, where and when the import places it.
    pub fn call(&mut self, usage: &Usage, label: &Label, model: &str, at: &Placement<'_>) {
        self.tally.call(usage, label, model, at);
        self.reasoning_tokens += usage.reasoning_output_tokens;
        self.tool_use_tokens += usage.tool_use_input_tokens;
    }

    pub fn damage(&mut self, kind: &str, at: String) {
        *self.damaged.entry(kind.to_string()).or_default() += 1;
        self.damaged_at.push(at);
    }
}
