//! A generated Codex CLI history with its ground truth, for tests and benchmarks of
//! `agentprof import codex` (hidden command `agentprof gen-codex-rollouts`).
//!
//! Shapes follow rollouts of Codex 0.171.0 (run against the mock upstream) and openai/codex's
//! rollout code: `sessions/YYYY/MM/DD/rollout-*.jsonl` of `{timestamp, type, payload}` lines,
//! usage in `event_msg` `token_count`. Every trap of docs/attribution.md "Codex import" is in
//! it: rate-limit repeats of an unchanged total, `info: null`, the context-window rewrite,
//! spawned agents and user forks that begin by copying their parent's lines (two
//! `session_meta`s), resumed sessions, review / compaction / consolidation / guardian threads,
//! archived rollouts compressed to `.jsonl.zst` (one beside its plain copy), a damaged middle
//! line, a torn last line and an unreadable file. Sessions run in three projects (the
//! `session_meta.cwd`, with a space in one), and a user fork made from another project's
//! directory begins with its own `session_meta` before the parent's copied one.
//! `ground-truth.json` says what a correct import must count.

mod rollout;
mod session;
pub mod truth;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use crate::demo::import_truth::timeline::{START_MS, Timeline};
use crate::demo::import_truth::{SizeAndSeed, say_written, write_truth};

pub use truth::CodexTruth;

/// `agentprof gen-codex-rollouts`.
#[derive(Debug, Clone, Args)]
pub struct GenCodexArgs {
    /// Directory to write: it becomes a Codex home (sessions/, archived_sessions/) with
    /// ground-truth.json in it.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    #[command(flatten)]
    pub size: SizeAndSeed,

    /// Everything plain under sessions/, no damage (for peers that read only that).
    #[arg(long)]
    pub plain: bool,
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct CodexCorpusOptions {
    pub size_bytes: u64,
    pub seed: u64,
    /// No archive, compression, damage or unreadable file.
    pub plain: bool,
}

/// The CLI entry point: generates, writes `ground-truth.json`, says where.
pub fn run_cli(args: &GenCodexArgs) -> anyhow::Result<()> {
    let truth = generate(
        &args.out,
        &CodexCorpusOptions {
            size_bytes: args.size.size_bytes(),
            seed: args.size.seed,
            plain: args.plain,
        },
    )?;
    say_written(&args.out, truth.bytes, truth.files, &truth.tally);
    Ok(())
}

/// Writes a Codex home under `out` and its ground truth (`out/ground-truth.json`).
pub fn generate(out: &Path, options: &CodexCorpusOptions) -> anyhow::Result<CodexTruth> {
    let mut generator = session::Generator::new(options.seed);
    // Families spread over March 2026 (see Timeline), with idle gaps at least.
    let mut timeline = Timeline::new(options.size_bytes);
    let mut clock = START_MS;
    while generator.written < options.size_bytes || generator.truth.tally.totals.requests == 0 {
        let before = generator.files.len();
        clock = timeline.next(generator.written, clock, &mut generator.rng);
        clock = generator.family(clock);
        generator.written += generator.files[before..]
            .iter()
            .map(|w| w.rollout.bytes.len() as u64)
            .sum::<u64>();
        clock += generator.rng.range(60_000, 6 * 3_600_000) as i64;
    }
    let session::Generator {
        mut truth, files, ..
    } = generator;
    for (index, written) in files.iter().enumerate() {
        let mut relative = session::relative_path(written);
        if options.plain && written.archived {
            relative = PathBuf::from("sessions").join(relative.strip_prefix("archived_sessions")?);
        }
        let path = out.join(&relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let bytes = &written.rollout.bytes;
        if written.archived && !options.plain {
            let compressed = ruzstd::encoding::compress_to_vec(
                &bytes[..],
                ruzstd::encoding::CompressionLevel::Fastest,
            );
            let zst = path.with_extension("jsonl.zst");
            std::fs::write(&zst, compressed)
                .with_context(|| format!("writing {}", zst.display()))?;
            // The first archived one keeps its plain copy too: the .zst must be skipped.
            if index == files.iter().position(|w| w.archived).unwrap_or(usize::MAX) {
                std::fs::write(&path, bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        } else {
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
        truth.bytes += bytes.len() as u64;
        truth.files += 1;
        truth.naive.requests += written.rollout.naive.requests;
        truth.naive.input_tokens += written.rollout.naive.input_tokens;
        truth.naive.output_tokens += written.rollout.naive.output_tokens;
        truth.naive.cache_creation_input_tokens +=
            written.rollout.naive.cache_creation_input_tokens;
        truth.naive.cache_read_input_tokens += written.rollout.naive.cache_read_input_tokens;
    }
    if !options.plain {
        let dir = out.join("sessions/2026/03/08");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let link =
            dir.join("rollout-2026-03-08T00-00-00-0000dead-0000-4000-8000-000000000000.jsonl");
        std::os::unix::fs::symlink("/nonexistent/agentprof/rollout.jsonl", &link)
            .with_context(|| format!("creating {}", link.display()))?;
        truth.damage("unreadable_file");
    } else {
        truth.damaged.clear();
    }
    truth.tally.settle()?;
    write_truth(out, &truth)?;
    Ok(truth)
}

/// A generated history in a directory (tests, benches).
pub fn generate_in(dir: &Path, size_bytes: u64, seed: u64) -> anyhow::Result<CodexTruth> {
    generate(
        dir,
        &CodexCorpusOptions {
            size_bytes,
            seed,
            plain: false,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::codex_history::{HistoryOptions, import};
    use crate::demo::import_truth::check;

    #[test]
    fn the_import_places_every_call_on_the_truths_days() {
        let dir = tempfile::tempdir().unwrap();
        let truth = generate_in(dir.path(), 1 << 20, 5).unwrap();
        let again = generate_in(&dir.path().join("again"), 1 << 20, 5).unwrap();
        assert_eq!(truth, again, "deterministic");
        let history = import(&HistoryOptions {
            dir: Some(dir.path().to_path_buf()),
            ..HistoryOptions::default()
        })
        .unwrap();
        assert_eq!(history.calls.len() as u64, truth.tally.totals.requests);
        let timed = check::timed_calls(&history.calls, history.origin_ms);
        check::assert_periods_are_the_imports(&truth.tally, &timed);
        check::assert_a_fixed_offset_would_misplace_calls(&truth.tally, &timed);
    }
}
