//! The cache against the truth it stands for: an import with it gives exactly the report of
//! one without it, whatever happened to the files (appended to mid-response, cut off,
//! rewritten, replaced, deleted) or to the cache file itself.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::super::tests::{assistant, prompt, report, write};
use super::super::{CacheReport, ImportOptions, Progress, import};
use super::*;
use crate::capture::transcripts::entry::{CompactUsage, Entry, NO_MESSAGE_ID, SIDECHAIN};
use crate::capture::transcripts::problems::{Damage, Problems};
use crate::capture::transcripts::scan::{ApiRequest, ScanStats};
use crate::demo::transcript_corpus;
use crate::observation::Category;

/// The report's JSON without the cache's own counts, and those counts.
fn run(
    history: &Path,
    cache: Option<&Path>,
    split_bytes: Option<u64>,
) -> (serde_json::Value, Option<CacheReport>) {
    let options = ImportOptions {
        dir: Some(history.to_path_buf()),
        threads: 2,
        split_bytes,
        cache_dir: cache.map(Path::to_path_buf),
        ..ImportOptions::default()
    };
    let imported = import(&options, &Progress::default()).unwrap();
    let counts = imported.report.cache;
    let mut json = serde_json::to_value(report(&imported)).unwrap();
    let removed = json["import"].as_object_mut().unwrap().remove("cache");
    assert_eq!(removed.is_some(), counts.is_some());
    (json, counts)
}

/// Asserts a cached import equals an import without the cache; returns the cache's counts.
fn same_as_uncached(history: &Path, cache: &Path) -> CacheReport {
    let (cold, _) = run(history, None, None);
    let (cached, counts) = run(history, Some(cache), None);
    assert_eq!(cached, cold);
    counts.unwrap()
}

fn counts(reused: u64, grown: u64, read: u64, dropped: u64) -> CacheReport {
    CacheReport {
        files_reused: reused,
        files_grown: grown,
        files_read: read,
        files_dropped: dropped,
    }
}

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

fn cache_file_in(cache: &Path) -> std::path::PathBuf {
    let dir = cache.join("history-v1");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.remove(0)
}

#[test]
fn a_generated_history_is_read_once_then_served_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let cache = dir.path().join("cache");
    transcript_corpus::generate_in(&history, 3 << 20, 13).unwrap();
    let (cold, _) = run(&history, None, None);
    // Small ranges: the cache is written from split files too.
    let (first, c) = run(&history, Some(&cache), Some(200_000));
    assert_eq!(first, cold);
    let files = c.unwrap().files_read;
    assert!(files > 10);
    assert_eq!(c, Some(counts(0, 0, files, 0)));
    let (second, c) = run(&history, Some(&cache), None);
    assert_eq!(second, cold);
    let c = c.unwrap();
    // Files ending in a cut-off line count as reused: only that line is read again.
    assert_eq!((c.files_reused, c.files_grown, c.files_read), (files, 0, 0));
    let written = std::fs::metadata(cache_file_in(&cache))
        .unwrap()
        .modified()
        .unwrap();
    // Nothing changed: the cache is not rewritten.
    run(&history, Some(&cache), None);
    let again = std::fs::metadata(cache_file_in(&cache))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(written, again);
}

#[test]
fn a_response_continued_after_the_cache_counts_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let t = |s: u32| format!("2026-10-01T00:00:{s:02}.000Z");
    let api = |id: &str, s: u32, source: &str| {
        format!(
            r#"{{"type":"api-request","sessionId":"s1","id":"{id}","timestamp":"{}","version":"2.1.328","querySource":"{source}"}}"#,
            t(s)
        )
    };
    let main = write(
        dir.path(),
        "s1.jsonl",
        &[
            prompt("Fix the parser", &t(0)),
            api("ref-1", 0, "repl_main_thread"),
            // A placeholder line: the final ones are written after the cache.
            assistant("msg_A", "req_A", 1, &t(1), r#","requestRef":"ref-1""#),
        ],
        true,
    );
    write(
        dir.path(),
        "other.jsonl",
        &[assistant("msg_Z", "req_Z", 5, &t(1), "")],
        true,
    );
    assert_eq!(same_as_uncached(dir.path(), &cache), counts(0, 0, 2, 0));
    assert_eq!(same_as_uncached(dir.path(), &cache), counts(2, 0, 0, 0));

    // The response goes on (its final usage, twice), a new turn starts, the api-request of
    // the next call arrives, and the last line is cut off mid-write.
    let finals = [
        assistant("msg_A", "req_A", 90, &t(2), r#","requestRef":"ref-1""#),
        assistant("msg_A", "req_A", 90, &t(3), r#","requestRef":"ref-1""#),
        prompt("Now the tests", &t(4)),
        api("ref-2", 4, "compact"),
    ];
    let next = assistant("msg_B", "req_B", 20, &t(5), r#","requestRef":"ref-2""#);
    append(
        &main,
        &format!("{}\n{}", finals.join("\n"), &next[..next.len() / 2]),
    );
    assert_eq!(same_as_uncached(dir.path(), &cache), counts(1, 1, 0, 0));
    let (json, _) = run(dir.path(), Some(&cache), None);
    assert_eq!(json["import"]["duplicates"]["repeated_lines"], 2);
    assert_eq!(json["import"]["duplicates"]["placeholders_replaced"], 1);
    assert_eq!(json["import"]["damaged"]["torn_last_line"], 1);
    assert_eq!(json["totals"]["output_tokens"], 95);
    // Until it is finished, the cut-off line is read again each time, never cached.
    assert_eq!(same_as_uncached(dir.path(), &cache), counts(2, 0, 0, 0));

    // The line is finished: it counts, and nothing is torn any more.
    append(&main, &format!("{}\n", &next[next.len() / 2..]));
    assert_eq!(same_as_uncached(dir.path(), &cache), counts(1, 1, 0, 0));
    let (json, c) = run(dir.path(), Some(&cache), None);
    assert_eq!(c, Some(counts(2, 0, 0, 0)));
    assert_eq!(json["categories"]["compaction"]["requests"], 1);
    assert_eq!(json["totals"]["output_tokens"], 115);
    assert!(json["import"]["damaged"].get("torn_last_line").is_none());
    assert_eq!(json["turns"].as_array().unwrap().len(), 1);
}

#[test]
fn a_file_changed_otherwise_is_read_whole_and_a_deleted_one_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let t = |s: u32| format!("2026-10-01T00:00:{s:02}.000Z");
    let lines = |output: u64| {
        vec![
            prompt("go", &t(0)),
            assistant("msg_A", "req_A", output, &t(1), ""),
            assistant("msg_B", "req_B", 7, &t(2), ""),
        ]
    };
    let a = write(dir.path(), "a.jsonl", &lines(10), true);
    let b = write(dir.path(), "b.jsonl", &lines(11), true);
    let c = write(dir.path(), "sub/subagents/agent-x.jsonl", &lines(12), true);
    write(dir.path(), "d.jsonl", &lines(13), true);
    assert_eq!(same_as_uncached(dir.path(), &cache), counts(0, 0, 4, 0));

    // Rewritten in place, same size, later mtime.
    std::fs::write(&a, format!("{}\n", lines(20).join("\n"))).unwrap();
    let later = SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&a)
        .unwrap()
        .set_modified(later)
        .unwrap();
    // Shrunk.
    std::fs::write(&b, format!("{}\n", lines(11)[..2].join("\n"))).unwrap();
    // Replaced by another file (another inode) of the same size.
    let replacement = c.with_extension("new");
    std::fs::write(&replacement, format!("{}\n", lines(21).join("\n"))).unwrap();
    std::fs::rename(&replacement, &c).unwrap();
    assert_eq!(same_as_uncached(dir.path(), &cache), counts(1, 0, 3, 0));

    // A meta.json appearing gives the sub-agent a type: read whole.
    std::fs::write(c.with_extension("meta.json"), r#"{"agentType":"Explore"}"#).unwrap();
    assert_eq!(same_as_uncached(dir.path(), &cache), counts(3, 0, 1, 0));

    // Appended to, but what was cached changed meanwhile: read whole.
    let text = std::fs::read_to_string(&a).unwrap().replace("go", "GO");
    std::fs::write(
        &a,
        format!("{text}{}\n", assistant("msg_C", "req_C", 1, &t(3), "")),
    )
    .unwrap();
    assert_eq!(same_as_uncached(dir.path(), &cache), counts(3, 0, 1, 0));

    std::fs::remove_file(&b).unwrap();
    assert_eq!(same_as_uncached(dir.path(), &cache), counts(3, 0, 0, 1));
}

#[test]
fn a_damaged_or_foreign_cache_is_ignored_and_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let cache = dir.path().join("cache");
    transcript_corpus::generate_in(&history, 1 << 20, 3).unwrap();
    let (cold, c) = run(&history, Some(&cache), None);
    let files = c.unwrap().files_read;
    let path = cache_file_in(&cache);
    let good = std::fs::read(&path).unwrap();
    let payload = container::open(&good, version::FORMAT, version::code())
        .unwrap()
        .to_vec();
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    let mut other_version = container::buffer(payload.len());
    other_version.extend_from_slice(&payload);
    container::seal(&mut other_version, version::FORMAT + 1, version::code());
    // Sealed properly but not a payload the decoder can read to its end.
    let mut garbage = container::buffer(8);
    garbage.extend_from_slice(&[0xff; 8]);
    container::seal(&mut garbage, version::FORMAT, version::code());
    for bad in [
        flipped,
        good[..good.len() - 1].to_vec(),
        good[..10].to_vec(),
        other_version,
        garbage,
        Vec::new(),
    ] {
        std::fs::write(&path, &bad).unwrap();
        let (json, c) = run(&history, Some(&cache), None);
        assert_eq!(json, cold);
        assert_eq!(c, Some(counts(0, 0, files, 0)));
        // Rewritten: the next import is served from it.
        let (json, c) = run(&history, Some(&cache), None);
        assert_eq!(json, cold);
        assert_eq!(c.unwrap().files_reused, files);
    }
}

#[test]
fn a_cache_that_cannot_be_written_costs_only_speed() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    transcript_corpus::generate_in(&history, 1 << 20, 4).unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let (cold, _) = run(&history, None, None);
    for _ in 0..2 {
        let (json, c) = run(&history, Some(&blocker), None);
        assert_eq!(json, cold);
        assert_eq!(c.unwrap().files_reused, 0);
    }
}

#[test]
fn a_record_round_trips_with_this_runs_ids() {
    let mut interner = Interner::default();
    let sonnet = interner.intern(b"claude-sonnet-4-6");
    let session = interner.intern(b"s1");
    let project = interner.intern(b"-w");
    let source = interner.intern(b"compact");
    let entry = |message: u64, flags: u8, offset: u64| Entry {
        message,
        request: 11,
        reference: 12,
        t_start: -5,
        t_end: 1_700_000_000_000,
        offset,
        file: 3,
        usage: CompactUsage {
            input: 1,
            output: 2,
            cache_read: 3,
            creation_5m: 4,
            creation_1h: u32::MAX,
        },
        session,
        agent: 0,
        model: sonnet,
        agent_type: 0,
        source: 0,
        version: session,
        project,
        ids: 0,
        category: match flags & SIDECHAIN {
            0 => Category::UserTurn,
            _ => Category::Subagent,
        },
        flags,
    };
    let mut problems = Problems::default();
    problems.add(3, 7, Damage::NotJson, || {
        "not a JSON object (9 bytes)".into()
    });
    problems.add(3, 9, Damage::MissingFields, || "usage…".into());
    let body = UnitOutput {
        file: 3,
        start: 0,
        entries: vec![
            entry(99, SIDECHAIN, 10),
            entry(unnamed_message_of(3, 500), NO_MESSAGE_ID, 500),
        ],
        api_requests: vec![
            ApiRequest {
                id: 5,
                source,
                t: Some(-1),
            },
            ApiRequest {
                id: 6,
                source: 0,
                t: None,
            },
        ],
        prompts: vec![1, 2, 3],
        problems,
        stats: ScanStats {
            lines: 1,
            parsed: 2,
            merged_lines: 3,
            placeholders: 4,
            synthetic: 5,
            no_message_id: 6,
            prompts: 7,
        },
        records: Vec::new(),
        complete_end: 600,
        end_hash: Some((600, 42)),
    };
    let file = TranscriptFile {
        path: "/root/-w/s.jsonl".into(),
        size: 640,
        role: super::super::discover::FileRole::Main,
        nesting: 0,
        agent_id: None,
        session: None,
        has_meta: true,
        project: None,
        stamp: super::super::discover::Stamp {
            modified_ns: -3,
            inode: 8,
            device: 9,
        },
    };
    let mut payload = Vec::new();
    codec::put_strings(&mut payload, &interner);
    codec::put_record(&mut payload, b"-w/s.jsonl", &file, &body);

    // Decoded into another run, where the same strings have other ids and the file another
    // index.
    let mut theirs = Interner::default();
    theirs.intern(b"something else first");
    let mut input = In::new(&payload);
    let mut strings = Strings::read(&mut input).unwrap();
    let head = codec::read_head(&mut input).unwrap();
    assert!(input.is_done());
    assert_eq!(&payload[head.path.clone()], b"-w/s.jsonl");
    assert_eq!(
        (head.size, head.stamp, head.has_meta),
        (640, file.stamp, true)
    );
    assert_eq!((head.end, head.end_hash), (600, 42));
    let mut decoded = codec::read_body(&payload, &head, &strings).unwrap();
    codec::adopt(&mut decoded, 4, &payload, &mut strings, &mut theirs);
    let name = |id: u32| theirs.get(id).to_string();
    assert_eq!(decoded.entries.len(), 2);
    for (got, was) in decoded.entries.iter().zip(&body.entries) {
        assert_eq!(name(got.model), "claude-sonnet-4-6");
        assert_eq!(
            (name(got.session), name(got.project)),
            ("s1".into(), "-w".into())
        );
        assert_eq!(got.file, 4);
        let same = Entry {
            message: was.message,
            file: was.file,
            session: was.session,
            model: was.model,
            version: was.version,
            project: was.project,
            ..*got
        };
        assert_eq!(&same, was);
    }
    assert_eq!(decoded.entries[0].message, 99);
    // A line without a message id is keyed by its place, in this run's file index.
    assert_eq!(decoded.entries[1].message, unnamed_message_of(4, 500));
    assert_eq!(name(decoded.api_requests[0].source), "compact");
    assert_eq!(decoded.api_requests[1], body.api_requests[1]);
    assert_eq!(decoded.api_requests[0].t, Some(-1));
    assert_eq!(decoded.prompts, body.prompts);
    assert_eq!(decoded.stats, body.stats);
    assert_eq!(decoded.problems.counts, body.problems.counts);
    let examples: Vec<_> = decoded
        .problems
        .examples
        .iter()
        .map(|e| (e.file, e.line, e.damage, e.detail.clone()))
        .collect();
    assert_eq!(
        examples,
        [
            (
                4,
                7,
                Damage::NotJson,
                "not a JSON object (9 bytes)".to_string()
            ),
            (4, 9, Damage::MissingFields, "usage…".to_string())
        ]
    );
    assert_eq!(
        (decoded.complete_end, decoded.end_hash),
        (600, Some((600, 42)))
    );

    // Cut anywhere, the record does not decode.
    for len in 0..payload.len() {
        let mut input = In::new(&payload[..len]);
        let decoded = Strings::read(&mut input).and_then(|strings| {
            let head = codec::read_head(&mut input)?;
            codec::read_body(&payload[..len], &head, &strings)
        });
        assert!(decoded.is_err(), "cut at {len}");
    }

    // A string id beyond the table is refused, not looked up.
    let mut beyond = Vec::new();
    codec::put_strings(&mut beyond, &Interner::default());
    codec::put_record(&mut beyond, b"-w/s.jsonl", &file, &body);
    let mut input = In::new(&beyond);
    let strings = Strings::read(&mut input).unwrap();
    let head = codec::read_head(&mut input).unwrap();
    assert!(matches!(
        codec::read_body(&beyond, &head, &strings),
        Err(CacheError::Malformed(_))
    ));
}

fn unnamed_message_of(file: u32, offset: u64) -> u64 {
    crate::capture::transcripts::entry::unnamed_message(file, offset)
}
