//! A generated Gemini CLI history with its ground truth, for tests and benchmarks of
//! `agentprof import gemini` (hidden command `agentprof gen-gemini-chats`).
//!
//! Shapes follow the chat files Gemini CLI 0.61.0 wrote against a mock API and its
//! `chatRecordingService.js`: a Gemini home with `.gemini/projects.json` and
//! `.gemini/tmp/<project>/chats/`, projects named by slug and by sha256 (both layouts, see
//! [`projects`]: slugs with their `.project_root`, an older version's hash directory, and the
//! copy a migration to slugs leaves behind). Every trap is in it: gemini messages written
//! again when tool calls are added, tool results as user records, `$set` updates,
//! compressions (`$set.messages` replacing the list, synthetic messages without tokens),
//! `$rewindTo`, sub-agent files under their parent's id, legacy `.json` sessions (one beside
//! the `.jsonl` a resume converted it to), a line that is not JSON and a total that does not
//! add up. `ground-truth.json` says what a correct import must count.

pub mod projects;
mod session;
pub mod truth;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use crate::demo::import_truth::{SizeAndSeed, say_written, write_truth};

pub use truth::GeminiTruth;

/// `agentprof gen-gemini-chats`.
#[derive(Debug, Clone, Args)]
pub struct GenGeminiArgs {
    /// Directory to write: it becomes a Gemini home (.gemini/tmp/…) with ground-truth.json
    /// in it.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    #[command(flatten)]
    pub size: SizeAndSeed,
}

/// The CLI entry point: generates, writes `ground-truth.json`, says where.
pub fn run_cli(args: &GenGeminiArgs) -> anyhow::Result<()> {
    let truth = generate(&args.out, args.size.size_bytes(), args.size.seed)?;
    say_written(&args.out, truth.bytes, truth.files, &truth.tally);
    Ok(())
}

/// Writes a Gemini home of about `size_bytes` under `out` and its ground truth
/// (`out/ground-truth.json`).
pub fn generate(out: &Path, size_bytes: u64, seed: u64) -> anyhow::Result<GeminiTruth> {
    let mut generator = session::Generator::new(seed, size_bytes);
    let projects = projects::all();
    let mut index = 0;
    let mut migrated = Vec::new();
    // At least eight sessions: every trap is in the first few.
    while generator.written < size_bytes || index < 8 {
        let before = generator.chats.len();
        let project = &projects[index % projects.len()];
        generator.session(project);
        if index == projects.len() {
            // The second session of the first project (the first holds the damaged lines)
            // is also in the hash directory a slug migration copied it from.
            migrated = projects::migration_copies(&generator.chats[before..], project);
        }
        index += 1;
        generator.written += generator.chats[before..]
            .iter()
            .map(|c| c.lines.iter().map(|l| l.len() as u64 + 1).sum::<u64>())
            .sum::<u64>();
    }
    let session::Generator {
        mut truth,
        mut chats,
        ..
    } = generator;
    for copy in &migrated {
        let (ids, repeats) = projects::ledger_counts(copy);
        truth.copies += ids;
        truth.repeats += repeats;
    }
    chats.extend(migrated);
    for chat in &chats {
        let path = out.join(&chat.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let bytes = chat.bytes();
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        truth.bytes += bytes.len() as u64;
        truth.files += 1;
    }
    projects::write_registry(out)?;
    truth.tally.settle()?;
    write_truth(out, &truth)?;
    Ok(truth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::gemini_history::{HistoryOptions, import};
    use crate::demo::import_truth::check;

    #[test]
    fn the_import_equals_the_ground_truth() {
        let dir = tempfile::tempdir().unwrap();
        let truth = generate(dir.path(), 200_000, 3).unwrap();
        let again = generate(&dir.path().join("again"), 200_000, 3).unwrap();
        assert_eq!(truth, again, "deterministic");
        assert!(truth.dropped_from_conversation > 0 && truth.copies > 0);
        assert!(truth.without_tokens > 0 && truth.repeats > 0);
        assert!(truth.tally.categories["subagent"].requests > 0);
        let history = import(&HistoryOptions {
            dir: Some(dir.path().to_path_buf()),
            ..HistoryOptions::default()
        })
        .unwrap();
        assert_eq!(history.calls.len() as u64, truth.tally.totals.requests);
        let mut total = crate::demo::import_truth::Tokens::default();
        for call in &history.calls {
            total.add(call.usage.as_ref().unwrap());
        }
        assert_eq!(total, truth.tally.totals);
        check::assert_projects_are_the_imports(&truth.tally, &history.calls, 3);
        assert_eq!(history.report.damaged, truth.damaged);
        let turns = history.calls.iter().filter(|c| c.starts_turn).count() as u64;
        assert_eq!(turns, truth.tally.turns);
        assert_eq!(history.report.duplicates.repeated_lines, truth.repeats);
        assert_eq!(history.report.duplicates.copies, truth.copies);
        let timed = check::timed_calls(&history.calls, history.origin_ms);
        check::assert_periods_are_the_imports(&truth.tally, &timed);
        check::assert_a_fixed_offset_would_misplace_calls(&truth.tally, &timed);
    }
}
