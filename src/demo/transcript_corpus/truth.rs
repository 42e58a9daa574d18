//! The ground truth of a generated history: every billed call the generator wrote, summed the
//! way a correct import must sum them — and what it wrote that must *not* be counted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::demo::import_truth::Tokens;
use crate::demo::import_truth::{CallTally, Label, Placement};
use crate::observation::{Category, Usage};

/// What the generator wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub seed: u64,
    pub bytes: u64,
    pub files: u64,
    /// Billed calls: one per message id, at its final usage; turns: prompts on a main loop,
    /// each followed by at least one main-loop call.
    #[serde(flatten)]
    pub tally: CallTally,
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
}

impl GroundTruth {
    pub fn new(seed: u64) -> GroundTruth {
        GroundTruth {
            seed,
            tally: CallTally::new(),
            ..GroundTruth::default()
        }
    }

    /// One billed call, where and when the import places it.
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
        at: &Placement<'_>,
    ) {
        // A sub-agent's calls are counted under its type, or under "(type not reported)".
        let label = Label {
            category,
            subagent_type: (category == Category::Subagent)
                .then(|| subagent_type.unwrap_or("(type not reported)").to_string()),
            session: session.to_string(),
        };
        self.tally.call(usage, &label, model, at);
        *self.versions.entry(version.to_string()).or_default() += 1;
        if old_version {
            self.calls_before_2_1_97 += 1;
        }
    }

    pub fn damage(&mut self, kind: &str) {
        *self.damaged.entry(kind.to_string()).or_default() += 1;
    }
}
