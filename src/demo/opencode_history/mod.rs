//! A generated opencode history with its ground truth, for tests and benchmarks of
//! `agentprof import opencode` (hidden command `agentprof gen-opencode-history`).
//!
//! An opencode data directory: `opencode.db`, a real SQLite database with the tables of
//! opencode 1.18.33 (`schema.sql`, copied from a database it wrote; WAL mode), and legacy
//! `storage/` JSON files (opencode 1.1.x) for every fifth session. Every trap is in it:
//! sub-agent sessions (`parent_id`), compactions (`summary: true`), Anthropic and OpenAI
//! models (reasoning split out of `output`), assistant messages without tokens or with
//! all-zero ones, a legacy file copying a database message, and a message whose `data` is not
//! JSON. Sessions run in three projects (`session.directory`): two git repositories (their
//! `project` rows keyed by root commit) and a directory outside any (`global`, whose worktree
//! is `/`). `ground-truth.json` says what a correct import must count.

mod session;
pub mod truth;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use rusqlite::params;

use crate::demo::import_truth::{SizeAndSeed, say_written, write_truth};
use session::PROJECTS;

pub use truth::OpencodeTruth;

/// opencode 1.18.33's tables.
const SCHEMA: &str = include_str!("schema.sql");

/// `agentprof gen-opencode-history`.
#[derive(Debug, Clone, Args)]
pub struct GenOpencodeArgs {
    /// Directory to write: it becomes an opencode data directory (opencode.db, storage/) with
    /// ground-truth.json in it.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    #[command(flatten)]
    pub size: SizeAndSeed,
}

/// The CLI entry point: generates, writes `ground-truth.json`, says where.
pub fn run_cli(args: &GenOpencodeArgs) -> anyhow::Result<()> {
    let truth = generate(&args.out, args.size.size_bytes(), args.size.seed)?;
    say_written(&args.out, truth.bytes, truth.files, &truth.tally);
    Ok(())
}

/// Writes an opencode data directory of about `size_bytes` under `out` and its ground truth.
pub fn generate(out: &Path, size_bytes: u64, seed: u64) -> anyhow::Result<OpencodeTruth> {
    let mut generator = session::Generator::new(seed, size_bytes);
    let mut index = 0;
    // At least ten sessions: every trap is in the first few.
    while generator.written < size_bytes || index < 10 {
        generator.session(index);
        index += 1;
    }
    let session::Generator {
        mut truth,
        sessions,
        messages,
        ..
    } = generator;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let legacy: std::collections::HashSet<&str> = sessions
        .iter()
        .filter(|s| s.legacy)
        .map(|s| s.id.as_str())
        .collect();
    let db = out.join("opencode.db");
    let _ = std::fs::remove_file(&db);
    let mut connection =
        rusqlite::Connection::open(&db).with_context(|| format!("creating {}", db.display()))?;
    connection.pragma_update(None, "journal_mode", "wal")?;
    connection.execute_batch(SCHEMA)?;
    let tx = connection.transaction()?;
    for p in &PROJECTS {
        tx.execute(
            "INSERT INTO project (id, worktree, vcs, time_created, time_updated, sandboxes) VALUES (?1, ?2, ?3, 0, 0, '[]')",
            params![p.id, p.worktree, p.vcs],
        )?;
    }
    for s in sessions.iter().filter(|s| !s.legacy) {
        let p = &PROJECTS[s.project];
        tx.execute(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated) VALUES (?1, ?2, ?3, 'slug', ?4, 'title', '1.18.33', ?5, ?5)",
            params![s.id, p.id, s.parent, p.directory, s.time_created],
        )?;
    }
    for m in messages
        .iter()
        .filter(|m| !legacy.contains(m.session.as_str()))
    {
        tx.execute(
            "INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?1, ?2, ?3, ?3, ?4)",
            params![m.id, m.session, m.time_created, m.data],
        )?;
    }
    // A message whose data is not JSON: damage, named by its row.
    let main = sessions.iter().find(|s| !s.legacy && s.parent.is_none());
    if let Some(main) = main {
        tx.execute(
            "INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES ('msg_torn', ?1, ?2, ?2, ?3)",
            params![main.id, main.time_created, r#"{"role":"assistant","tokens":{"inp"#],
        )?;
        let rowid = tx.last_insert_rowid();
        truth.damage("not_json", format!("message row {rowid} (msg_torn)"));
    }
    tx.commit()?;
    drop(connection);
    truth.bytes += std::fs::metadata(&db).map_or(0, |m| m.len());
    truth.files += 1;
    let storage = out.join("storage");
    for s in sessions.iter().filter(|s| s.legacy) {
        let p = &PROJECTS[s.project];
        let mut value = serde_json::json!({"id": s.id, "slug": "slug", "version": "1.1.65",
            "projectID": p.id, "directory": p.directory, "title": "title",
            "time": {"created": s.time_created, "updated": s.time_created}});
        if let Some(parent) = &s.parent {
            value["parentID"] = serde_json::json!(parent);
        }
        write(
            &storage.join(format!("session/{}/{}.json", p.id, s.id)),
            &value,
            &mut truth,
        )?;
    }
    for m in &messages {
        let copy = Some(m.id.as_str()) == messages.first().map(|f| f.id.as_str());
        if !legacy.contains(m.session.as_str()) && !copy {
            continue;
        }
        let mut value: serde_json::Value = serde_json::from_str(&m.data)?;
        value["id"] = serde_json::json!(m.id);
        value["sessionID"] = serde_json::json!(m.session);
        if copy && !legacy.contains(m.session.as_str()) {
            // A legacy copy of a message the database holds (a migration leaves both).
            truth.copies += 1;
        }
        write(
            &storage.join(format!("message/{}/{}.json", m.session, m.id)),
            &value,
            &mut truth,
        )?;
    }
    truth.tally.settle()?;
    write_truth(out, &truth)?;
    Ok(truth)
}

fn write(path: &Path, value: &serde_json::Value, truth: &mut OpencodeTruth) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let bytes = serde_json::to_vec_pretty(value)?;
    std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    truth.bytes += bytes.len() as u64;
    truth.files += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::opencode_history::{HistoryOptions, import};
    use crate::demo::import_truth::check;

    #[test]
    fn the_import_equals_the_ground_truth() {
        let dir = tempfile::tempdir().unwrap();
        let truth = generate(dir.path(), 100_000, 3).unwrap();
        let again = generate(&dir.path().join("again"), 100_000, 3).unwrap();
        assert_eq!(truth.tally, again.tally, "deterministic");
        assert!(truth.without_tokens > 0 && truth.copies == 1 && truth.legacy_sessions > 0);
        assert!(truth.tally.categories["subagent"].requests > 0);
        assert!(truth.tally.categories["compaction"].requests > 0);
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
        assert_eq!(history.report.duplicates.copies, truth.copies);
        let timed = check::timed_calls(&history.calls, history.origin_ms);
        check::assert_periods_are_the_imports(&truth.tally, &timed);
        check::assert_a_fixed_offset_would_misplace_calls(&truth.tally, &timed);
    }
}
