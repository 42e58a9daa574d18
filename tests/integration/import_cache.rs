//! `agentprof import claude-code` run again and again on a history that changes, with its
//! cache in a temporary `AGENTPROF_CACHE_DIR`: every cached run's report must be the report of
//! a `--no-cache` run of the same files (but for the cache's own counts, which say what was
//! reused), whatever happened in between — lines appended, a line cut off and finished later,
//! a file truncated, one deleted, the cache file damaged or unwritable.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::{agentprof, generate_history, stderr};

/// `agentprof import claude-code DIR --json` with the cache in `cache` (`None`: `--no-cache`):
/// the report without its cache counts, those counts, and the run.
fn import(history: &Path, cache: Option<&Path>, extra: &[&str]) -> (Value, Option<Value>, Output) {
    let mut command = agentprof();
    command
        .args(["import", "claude-code"])
        .arg(history)
        .arg("--json")
        .args(extra);
    match cache {
        Some(cache) => command.env("AGENTPROF_CACHE_DIR", cache),
        None => command.arg("--no-cache"),
    };
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let mut json: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}"));
    let counts = json["import"].as_object_mut().unwrap().remove("cache");
    (json, counts, output)
}

/// Asserts the cached import equals the uncached one; returns the cache's counts as
/// `[reused, grown, read, dropped]` and the cached run.
fn cached_equals_uncached(history: &Path, cache: &Path) -> ([u64; 4], Output) {
    let (uncached, none, _) = import(history, None, &[]);
    assert!(none.is_none(), "--no-cache reports no cache counts");
    let (cached, counts, output) = import(history, Some(cache), &[]);
    assert!(
        cached == uncached,
        "the cached report differs from the uncached one"
    );
    let counts = counts.expect("a cached run reports its cache counts");
    let n = |k: &str| {
        counts[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {counts}"))
    };
    (
        [
            n("files_reused"),
            n("files_grown"),
            n("files_read"),
            n("files_dropped"),
        ],
        output,
    )
}

/// The history's transcripts, largest first.
fn transcripts(history: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "jsonl") && path.is_file() {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&history.join("projects"), &mut files);
    files.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).unwrap().len()));
    files
}

fn the_cache_file(cache: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(cache.join("history-v1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one cache file per history: {files:?}");
    files[0].clone()
}

fn append(path: &Path, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(bytes).unwrap();
}

#[test]
fn import_cache_gives_the_uncached_report_through_appends_truncation_deletion_and_damage() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let cache = dir.path().join("cache");
    let _: Value = generate_history("gen-transcripts", &history, "3", 17, &[]);
    let files = transcripts(&history);
    let n = files.len() as u64;
    assert!(n >= 8, "{n} files");

    // Cold: every file read, the cache written (private to the user); then served from it.
    assert_eq!(cached_equals_uncached(&history, &cache).0, [0, 0, n, 0]);
    let cache_file = the_cache_file(&cache);
    let name = cache_file
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("claude-code-") && name.ends_with(".bin"),
        "{name}"
    );
    let mode = std::fs::metadata(&cache_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(cached_equals_uncached(&history, &cache).0, [n, 0, 0, 0]);

    // Complete lines appended to one transcript (real lines of the history, so they are
    // valid records: here copies of another file's responses).
    let grown = &files[1];
    let donor = std::fs::read_to_string(&files[2]).unwrap();
    let copied: String = donor.lines().take(40).map(|l| format!("{l}\n")).collect();
    append(grown, copied.as_bytes());
    assert_eq!(cached_equals_uncached(&history, &cache).0, [n - 1, 1, 0, 0]);

    // A line cut off mid-write: read, reported torn, and read again until it is finished.
    let line = donor.lines().nth(41).unwrap();
    let (first, rest) = line.split_at(line.len() / 2);
    append(grown, first.as_bytes());
    let (counts, _) = cached_equals_uncached(&history, &cache);
    assert_eq!(counts, [n - 1, 1, 0, 0]);
    let (torn, _, _) = import(&history, Some(&cache), &[]);
    let torn_lines = torn["import"]["damaged"]["torn_last_line"]
        .as_u64()
        .unwrap();
    assert_eq!(cached_equals_uncached(&history, &cache).0, [n, 0, 0, 0]);
    append(grown, format!("{rest}\n").as_bytes());
    assert_eq!(cached_equals_uncached(&history, &cache).0, [n - 1, 1, 0, 0]);
    let (finished, _, _) = import(&history, Some(&cache), &[]);
    assert_eq!(
        finished["import"]["damaged"]["torn_last_line"]
            .as_u64()
            .unwrap_or(0),
        torn_lines - 1
    );

    // Truncated to half its lines: read whole.
    let truncated = &files[3];
    let text = std::fs::read_to_string(truncated).unwrap();
    let keep = text.lines().count() / 2;
    let half: String = text.lines().take(keep).map(|l| format!("{l}\n")).collect();
    std::fs::write(truncated, half).unwrap();
    assert_eq!(cached_equals_uncached(&history, &cache).0, [n - 1, 0, 1, 0]);

    // Deleted: dropped from the cache.
    std::fs::remove_file(&files[4]).unwrap();
    assert_eq!(cached_equals_uncached(&history, &cache).0, [n - 1, 0, 0, 1]);
    let n = n - 1;

    // The cache file damaged: ignored with one warning naming it, the history read whole,
    // the cache rewritten.
    let mut bytes = std::fs::read(&cache_file).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 16] {
        *b ^= 0x5a;
    }
    std::fs::write(&cache_file, &bytes).unwrap();
    let (counts, output) = cached_equals_uncached(&history, &cache);
    assert_eq!(counts, [0, 0, n, 0]);
    let warned = stderr(&output);
    assert!(
        warned.contains(&cache_file.display().to_string()) && warned.lines().count() == 1,
        "{warned}"
    );
    let (counts, output) = cached_equals_uncached(&history, &cache);
    assert_eq!(counts, [n, 0, 0, 0]);
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));

    // Deleting the cache at any time is safe.
    std::fs::remove_dir_all(&cache).unwrap();
    assert_eq!(cached_equals_uncached(&history, &cache).0, [0, 0, n, 0]);
}

#[test]
fn import_cache_is_left_alone_by_traces_and_costs_only_speed_when_unwritable() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let _: Value = generate_history("gen-transcripts", &history, "1", 9, &[]);
    let (uncached, _, _) = import(&history, None, &[]);

    // --trace needs the message ids, which the cache does not hold: it neither reads nor
    // writes it.
    let cache = dir.path().join("cache");
    let trace = dir.path().join("trace.jsonl");
    let (traced, counts, _) = import(
        &history,
        Some(&cache),
        &["--trace", trace.to_str().unwrap()],
    );
    assert!(counts.is_none());
    assert!(traced == uncached);
    assert!(!cache.exists());

    // A cache directory that cannot be made: one warning, exit 0, the same figures.
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let (json, counts, output) = import(&history, Some(&blocker), &[]);
    assert!(json == uncached);
    assert_eq!(counts.unwrap()["files_reused"], 0);
    let warned = stderr(&output);
    assert!(
        warned.contains("cannot write the import cache") && warned.lines().count() == 1,
        "{warned}"
    );

    // Without AGENTPROF_CACHE_DIR: $XDG_CACHE_HOME/agentprof.
    let xdg = dir.path().join("xdg");
    let output = agentprof()
        .args(["import", "claude-code"])
        .arg(&history)
        .arg("--json")
        .env_remove("AGENTPROF_CACHE_DIR")
        .env("XDG_CACHE_HOME", &xdg)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    the_cache_file(&xdg.join("agentprof"));
}
