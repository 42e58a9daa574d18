//! The ground truth of a generated Gemini CLI history: every model call the generator wrote,
//! summed the way a correct import must — and the records that must *not* be counted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::demo::transcript_corpus::Tokens;
use crate::observation::{Category, Usage};

/// What the generator wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeminiTruth {
    pub seed: u64,
    pub bytes: u64,
    pub files: u64,
    /// Model calls: one per gemini message id with token counts.
    pub totals: Tokens,
    /// All eight categories.
    pub categories: BTreeMap<String, Tokens>,
    pub subagent_types: BTreeMap<String, Tokens>,
    pub models: BTreeMap<String, Tokens>,
    pub sessions: BTreeMap<String, Tokens>,
    /// Prompts of main sessions (each followed by at least one call).
    pub turns: u64,
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
    /// Calls on or after each date (UTC), for `--since`.
    pub calls_since: BTreeMap<String, u64>,
}

impl GeminiTruth {
    pub fn new(seed: u64) -> GeminiTruth {
        GeminiTruth {
            seed,
            categories: Category::ALL
                .iter()
                .map(|c| (c.as_str().to_string(), Tokens::default()))
                .collect(),
            ..GeminiTruth::default()
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
        self.reasoning_tokens += usage.reasoning_output_tokens;
        self.tool_use_tokens += usage.tool_use_input_tokens;
        *self.calls_since.entry(date.to_string()).or_default() += 1;
    }

    pub fn damage(&mut self, kind: &str, at: String) {
        *self.damaged.entry(kind.to_string()).or_default() += 1;
        self.damaged_at.push(at);
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

/// How a file's calls must be reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub category: Category,
    pub subagent_type: Option<String>,
    pub session: String,
}
