//! A generated Claude Code history with its ground truth, for tests and benchmarks of
//! `agentprof import claude-code` (hidden command `agentprof gen-transcripts`).
//!
//! The shapes follow transcripts written by real Claude Code (2.1.197 and 2.1.328 were run
//! against the mock upstream to check them; older layouts follow what is known of 1.0 and
//! 2.0): sessions of prompts, main-loop calls and tool results; sub-agents in their own files
//! (nested ones under `subagents/workflows/`) with meta files; one line per content block
//! repeating the usage; placeholder-then-final usage; api-request records with querySource for
//! main, sub-agent and background calls in the newest version; replays of parent messages in
//! sub-agent files; `<synthetic>` entries; progress records that nest a sub-agent's usage; and
//! damage — torn, non-JSON and multi-megabyte lines, records missing fields, an unreadable
//! file. `ground-truth.json` says what a correct import must count.

mod calls;
mod extras;
mod ids;
mod lines;
mod session;
mod text;
pub mod truth;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use crate::demo::import_truth::timeline::{START_MS, Timeline};
use crate::demo::import_truth::{SizeAndSeed, say_written, write_truth};

pub use truth::{GroundTruth, Tokens};

/// `agentprof gen-transcripts`.
#[derive(Debug, Clone, Args)]
pub struct GenTranscriptsArgs {
    /// Directory to write: it becomes a Claude Code directory (projects/…) with
    /// ground-truth.json beside projects/.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    #[command(flatten)]
    pub size: SizeAndSeed,

    /// Write no replays (ccusage counts a replayed message again; the truth does not).
    #[arg(long)]
    pub no_replays: bool,

    /// Write no unreadable file (a dangling symlink named like a transcript).
    #[arg(long)]
    pub no_unreadable: bool,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct CorpusOptions {
    pub size_bytes: u64,
    pub seed: u64,
    pub replays: bool,
    pub unreadable: bool,
}

impl From<&GenTranscriptsArgs> for CorpusOptions {
    fn from(args: &GenTranscriptsArgs) -> Self {
        CorpusOptions {
            size_bytes: args.size.size_bytes(),
            seed: args.size.seed,
            replays: !args.no_replays,
            unreadable: !args.no_unreadable,
        }
    }
}

/// The CLI entry point: generates, writes `ground-truth.json`, says where.
pub fn run_cli(args: &GenTranscriptsArgs) -> anyhow::Result<()> {
    let truth = generate(&args.out, &CorpusOptions::from(args))?;
    say_written(&args.out, truth.bytes, truth.files, &truth.tally);
    Ok(())
}

/// Writes a history under `out` (`out/projects/…`) and its ground truth
/// (`out/ground-truth.json`), and returns the truth.
pub fn generate(out: &Path, options: &CorpusOptions) -> anyhow::Result<GroundTruth> {
    let projects = out.join("projects");
    std::fs::create_dir_all(&projects)
        .with_context(|| format!("creating {}", projects.display()))?;
    let mut generator = session::Generator::new(options);
    let project_count = (options.size_bytes >> 24).clamp(3, 12);
    let project_dirs: Vec<(PathBuf, String)> = (0..project_count)
        .map(|k| {
            let cwd = format!("/home/dev/project-{k}");
            (projects.join(cwd.replace('/', "-")), cwd)
        })
        .collect();
    for (dir, _) in &project_dirs {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if options.unreadable {
        let link = project_dirs[0]
            .0
            .join("0000dead-0000-4000-8000-000000000000.jsonl");
        std::os::unix::fs::symlink("/nonexistent/agentprof/transcript.jsonl", &link)
            .with_context(|| format!("creating {}", link.display()))?;
        generator.truth.damage("unreadable_file");
    }
    // Sessions spread over March 2026 (see Timeline), with idle gaps at least.
    let mut timeline = Timeline::new(options.size_bytes);
    let mut clock = START_MS;
    let mut next_project = 0;
    while generator.written < options.size_bytes || generator.truth.tally.totals.requests == 0 {
        // Sessions come in pairs per project, so a fork finds its parent.
        let (dir, cwd) = &project_dirs[(next_project / 2) % project_dirs.len()];
        next_project += 1;
        let written = generator.written;
        clock = timeline.next(written, clock, generator.rng());
        clock = generator
            .session(dir, cwd, clock)
            .with_context(|| format!("writing a session under {}", dir.display()))?;
        clock += generator.rng().range(60_000, 6 * 3_600_000) as i64;
    }
    let mut truth = generator.finish();
    truth.tally.settle()?;
    write_truth(out, &truth)?;
    Ok(truth)
}

/// A generated history in a temporary directory (tests).
pub fn generate_in(dir: &Path, size_bytes: u64, seed: u64) -> anyhow::Result<GroundTruth> {
    generate(
        dir,
        &CorpusOptions {
            size_bytes,
            seed,
            replays: true,
            unreadable: true,
        },
    )
}
