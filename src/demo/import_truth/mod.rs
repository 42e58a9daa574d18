//! What the import generators' ground truths share ([`transcript_corpus`](super::transcript_corpus),
//! [`codex_rollouts`](super::codex_rollouts), [`gemini_chats`](super::gemini_chats),
//! [`opencode_history`](super::opencode_history)): the tally of model calls a correct import
//! must report (totals, the eight categories, sub-agent types, models, sessions, turns, calls
//! by date, and by local day and month in a few time zones and by project — [`periods`]), when
//! sessions start ([`timeline`]), the `--size-mb`/`--seed` flags, and writing
//! `ground-truth.json`. What only one agent's history has (reasoning tokens, repeats, damage…)
//! stays in that agent's truth.

#[cfg(test)]
pub(crate) mod check;
pub mod periods;
pub mod timeline;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use clap::Args;
use serde::{Deserialize, Serialize};

use crate::observation::{Category, Usage};
use periods::{Bucket, Buckets, Timed};

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
    /// Zone (each of [`periods::ZONES`]) → local date `YYYY-MM-DD` → the calls the import
    /// places on it (at [`Placement::at_ms`]), by category too.
    #[serde(default)]
    pub by_day: BTreeMap<String, Buckets>,
    /// Zone → local month `YYYY-MM` → the calls of that month.
    #[serde(default)]
    pub by_month: BTreeMap<String, Buckets>,
    /// Project (as the import names it) → its calls; only where the generator says
    /// ([`Placement::project`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_project: Buckets,
    /// Every call's times, until [`CallTally::settle`] places them in the zones.
    #[serde(skip)]
    pending: Vec<(Timed, i64)>,
}

/// Where and when an import places a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement<'a> {
    /// The call's time, milliseconds since the epoch: what the import reports it at, and
    /// groups it by (`--by day|week|month`).
    pub at_ms: i64,
    /// What the import compares with `--since` (its UTC date): the same time, except where an
    /// import filters on another (Claude Code: the response's last line).
    pub since_ms: i64,
    /// The project the import names, where the truth keeps one (`--by project`).
    pub project: Option<&'a str>,
}

impl Placement<'_> {
    /// A call at `ms` for grouping and `--since` alike, no project kept.
    pub fn at(ms: i64) -> Placement<'static> {
        Placement {
            at_ms: ms,
            since_ms: ms,
            project: None,
        }
    }

    /// The same call, in `project` (as the import names it).
    pub fn in_project(self, project: &str) -> Placement<'_> {
        Placement {
            at_ms: self.at_ms,
            since_ms: self.since_ms,
            project: Some(project),
        }
    }
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

    /// One model call of `model`, placed at `at`.
    pub fn call(&mut self, usage: &Usage, label: &Label, model: &str, at: &Placement<'_>) {
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
        if let Some(project) = at.project {
            match self.by_project.get_mut(project) {
                Some(bucket) => bucket.add(usage, label.category),
                None => {
                    let mut bucket = Bucket::default();
                    bucket.add(usage, label.category);
                    self.by_project.insert(project.to_string(), bucket);
                }
            }
        }
        let timed = Timed {
            at_ms: at.at_ms,
            category: label.category,
            usage: *usage,
        };
        self.pending.push((timed, at.since_ms));
    }

    /// Once every call is in: counts the calls on or after each date (UTC), and places every
    /// call by local day and month in each zone of [`periods::ZONES`] — an error if the
    /// system's time zone database lacks one.
    pub fn settle(&mut self) -> anyhow::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        for (_, since_ms) in &pending {
            let date = periods::local_date(*since_ms, &jiff::tz::TimeZone::UTC)?;
            *self.calls_since.entry(date.to_string()).or_default() += 1;
        }
        let mut running = 0;
        for count in self.calls_since.values_mut().rev() {
            running += *count;
            *count = running;
        }
        let timed: Vec<Timed> = pending.into_iter().map(|(timed, _)| timed).collect();
        (self.by_day, self.by_month) = periods::by_zone(&timed)?;
        Ok(())
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
