//! What the import generators' ground truths share ([`transcript_corpus`](super::transcript_corpus),
//! [`codex_rollouts`](super::codex_rollouts), [`gemini_chats`](super::gemini_chats)): the tally
//! of model calls a correct import must report (totals, the eight categories, sub-agent types,
//! models, sessions, turns, calls by date), the `--size-mb`/`--seed` flags, and writing
//! `ground-truth.json`. What only one agent's history has (reasoning tokens, repeats, damage…)
//! stays in that agent's truth.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use clap::Args;
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

/// The calls a generator wrote, summed the way an import reports them. A truth embeds it with
/// `#[serde(flatten)]`, so its fields stand at the top of `ground-truth.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallTally {
    /// Every call (what one counts as a call is the agent's truth's to say).
    pub totals: Tokens,
    /// All eight categories.
    pub categories: BTreeMap<String, Tokens>,
    pub subagent_types: BTreeMap<String, Tokens>,
    pub models: BTreeMap<String, Tokens>,
    pub sessions: BTreeMap<String, Tokens>,
    /// Prompts on a main loop, each followed by at least one call.
    pub turns: u64,
    /// Calls on or after each date (UTC), for `--since`.
    pub calls_since: BTreeMap<String, u64>,
    /// Calls by project, keyed as the import keys them (`--by project`): filled by
    /// [`CallTally::project`], beside [`CallTally::call`].
    #[serde(default)]
    pub by_project: BTreeMap<String, Tokens>,
}

impl CallTally {
    /// No calls yet, every category present.
    pub fn new() -> CallTally {
        CallTally {
            categories: Category::ALL
                .iter()
                .map(|c| (c.as_str().to_string(), Tokens::default()))
                .collect(),
            ..CallTally::default()
        }
    }

    /// One model call of `model` on `date` (`YYYY-MM-DD`, UTC).
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

    /// Turns per-date counts into "on or after" counts.
    pub fn settle(&mut self) {
        let mut running = 0;
        for count in self.calls_since.values_mut().rev() {
            running += *count;
            *count = running;
        }
    }

    /// The project of a call already counted by [`CallTally::call`].
    pub fn project(&mut self, usage: &Usage, project: &str) {
        self.by_project
            .entry(project.to_string())
            .or_default()
            .add(usage);
    }
}

/// How a call must be reported: its category, the sub-agent type it is counted under (none:
/// not in `subagent_types`) and its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub category: Category,
    pub subagent_type: Option<String>,
    pub session: String,
}

/// `--size-mb` and `--seed` of a generator.
#[derive(Debug, Clone, Copy, Args)]
pub struct SizeAndSeed {
    /// Approximate size of the history in MB (fractions allowed).
    #[arg(long, value_name = "N", default_value_t = 20.0)]
    pub size_mb: f64,

    /// Seed: the same seed writes the same bytes.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
}

impl SizeAndSeed {
    /// The size in bytes (none below zero).
    pub fn size_bytes(&self) -> u64 {
        (self.size_mb.max(0.0) * 1_048_576.0) as u64
    }
}

/// Writes `truth` to `out/ground-truth.json`.
pub fn write_truth(out: &Path, truth: &impl Serialize) -> anyhow::Result<()> {
    let path = out.join("ground-truth.json");
    let text = serde_json::to_vec_pretty(truth)?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// Says on stderr what a generator wrote to `out`: `bytes` in `files`, the calls of `tally`.
pub fn say_written(out: &Path, bytes: u64, files: u64, tally: &CallTally) {
    eprintln!(
        "wrote {} MB in {} files ({} calls) to {}",
        bytes >> 20,
        files,
        tally.totals.requests,
        out.display()
    );
}
