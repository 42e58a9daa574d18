//! Imports of hand-written histories (one trap each), of generated ones against their ground
//! truth, and of the transcripts real Claude Code wrote.

use crate::attribute::period::TimeWindow;
use crate::attribute::rows::RowsSpec;
use std::path::{Path, PathBuf};

use super::*;
use crate::attribute::cost::PriceTable;
use crate::attribute::kv::{DEFAULT_PROFILE, KvProfile};
use crate::attribute::summary::{ReportOptions, Summary, summarize};
use crate::demo::import_truth::check;
use crate::demo::import_truth::periods::Timed;
use crate::demo::transcript_corpus::{self, GroundTruth, Tokens};
use crate::observation::Category;
use crate::output::trace::read_trace;

pub(super) fn import_dir(dir: &Path, threads: usize, split_bytes: Option<u64>) -> Imported {
    let options = ImportOptions {
        dir: Some(dir.to_path_buf()),
        threads,
        keep_ids: true,
        split_bytes,
        ..ImportOptions::default()
    };
    import(&options, &Progress::default()).unwrap()
}

/// `--since DATE` read in UTC.
fn utc_since(date: jiff::civil::Date) -> TimeWindow {
    TimeWindow::new(Some(date), None, &jiff::tz::TimeZone::UTC).unwrap()
}

pub(super) fn report(imported: &Imported) -> Summary {
    let prices = PriceTable::bundled();
    let profile = KvProfile::from_name(DEFAULT_PROFILE).unwrap();
    imported.summarize(&ReportOptions {
        prices: &prices,
        kv_profile: profile,
        rows: &RowsSpec::by_category(),
        findings: Default::default(),
    })
}

/// `{"type":"assistant",…}` for message `id` with `output` tokens.
pub(super) fn assistant(id: &str, request: &str, output: u64, ts: &str, extra: &str) -> String {
    format!(
        r#"{{"parentUuid":null,"isSidechain":false,"message":{{"id":"{id}","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[{{"type":"text","text":"ok"}}],"usage":{{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":5,"output_tokens":{output}}}}},"requestId":"{request}","type":"assistant","uuid":"u","timestamp":"{ts}","sessionId":"s1","version":"2.1.328"{extra}}}"#
    )
}

pub(super) fn prompt(text: &str, ts: &str) -> String {
    format!(
        r#"{{"parentUuid":null,"isSidechain":false,"type":"user","message":{{"role":"user","content":"{text}"}},"uuid":"p","timestamp":"{ts}","sessionId":"s1","version":"2.1.328"}}"#
    )
}

pub(super) fn write(dir: &Path, rel: &str, lines: &[String], last_newline: bool) -> PathBuf {
    let path = dir.join("projects/-w").join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = lines.join("\n");
    if last_newline {
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn each_trap_is_counted_right() {
    let dir = tempfile::tempdir().unwrap();
    let t = |s: u32| format!("2026-10-01T00:00:{s:02}.000Z");
    let main = [
        prompt("Fix the parser", &t(0)),
        r#"{"type":"api-request","sessionId":"s1","id":"ref-1","timestamp":"2026-10-01T00:00:00.500Z","version":"2.1.328","querySource":"repl_main_thread"}"#.to_string(),
        // A placeholder, then the final usage on each content block.
        assistant("msg_A", "req_A", 1, &t(1), r#","requestRef":"ref-1""#),
        assistant("msg_A", "req_A", 90, &t(2), r#","requestRef":"ref-1""#),
        assistant("msg_A", "req_A", 90, &t(2), r#","requestRef":"ref-1""#),
        r#"{"type":"api-request","sessionId":"s1","id":"ref-2","timestamp":"2026-10-01T00:00:03.000Z","version":"2.1.328","querySource":"compact"}"#.to_string(),
        assistant("msg_B", "req_B", 20, &t(4), r#","requestRef":"ref-2""#),
        r#"{"type":"api-request","sessionId":"s1","id":"ref-3","timestamp":"2026-10-01T00:00:05.000Z","version":"2.1.328","querySource":"some_new_job"}"#.to_string(),
        assistant("msg_C", "req_C", 30, &t(6), r#","requestRef":"ref-3""#),
        assistant("msg_D", "req_D", 40, &t(7), r#","requestRef":"ref-missing""#),
        r#"{"parentUuid":null,"type":"assistant","message":{"id":"x","model":"<synthetic>","usage":{"input_tokens":0,"output_tokens":0}},"timestamp":"2026-10-01T00:00:08.000Z","isApiErrorMessage":true}"#.to_string(),
        "not json at all".to_string(),
        r#"{"parentUuid":null,"message":{"id":"msg_E","usage":{"input_tokens":3,"output_tokens":3}},"type":"assistant"}"#.to_string(),
        assistant("msg_F", "req_F", 50, &t(9), "")
            .replace(r#""id":"msg_F","#, "")
            .replace(r#""requestId":"req_F","#, ""),
        assistant("msg_G", "req_G", 60, "2026-10-02T00:00:00.000Z", ""),
        r#"{"parentUuid":null,"message":{"id":"msg_H","content":"cut"#.to_string(),
    ];
    write(dir.path(), "s1.jsonl", &main, false);
    // A sub-agent replaying msg_A under another request id, then its own call.
    let sub = [
        assistant("msg_A", "req_other", 90, &t(2), r#","isSidechain":true"#)
            .replace(r#""isSidechain":false,"#, ""),
        assistant("msg_S", "req_S", 70, &t(3), r#","agentId":"ag1""#)
            .replace(r#""isSidechain":false"#, r#""isSidechain":true"#),
    ];
    let agent = write(dir.path(), "s1/subagents/agent-ag1.jsonl", &sub, true);
    std::fs::write(
        agent.with_extension("meta.json"),
        r#"{"agentType":"Explore"}"#,
    )
    .unwrap();

    let imported = import_dir(dir.path(), 2, None);
    let summary = report(&imported);
    let calls = |c: Category| summary.categories[c.as_str()].requests;
    let output = |c: Category| summary.categories[c.as_str()].output_tokens;
    assert_eq!(
        summary.totals.requests, 7,
        "A B C D F G S; not E (no timestamp), not synthetic"
    );
    assert_eq!(
        summary.totals.output_tokens,
        90 + 20 + 30 + 40 + 50 + 60 + 70
    );
    assert_eq!(
        (calls(Category::UserTurn), output(Category::UserTurn)),
        (4, 90 + 40 + 50 + 60)
    );
    assert_eq!(calls(Category::Compaction), 1);
    assert_eq!(
        calls(Category::Unknown),
        1,
        "an unknown querySource is not guessed"
    );
    assert_eq!(summary.subagent_types["Explore"].output_tokens, 70);
    assert_eq!(summary.turns.len(), 1);
    let report = summary.import.as_ref().unwrap();
    assert_eq!(report.duplicates.replays, 1);
    assert_eq!(report.duplicates.placeholders_replaced, 1);
    assert_eq!(report.duplicates.repeated_lines, 2);
    assert_eq!(report.synthetic_entries, 1);
    assert_eq!(report.unmatched_request_refs, 1);
    assert_eq!(
        report.calls_without_message_id, 1,
        "msg_F's line is counted, and said so"
    );
    assert_eq!(report.damaged["not_json"], 1);
    assert_eq!(report.damaged["missing_fields"], 1);
    assert_eq!(report.damaged["torn_last_line"], 1);
    assert!(
        report
            .damage_examples
            .iter()
            .any(|e| e.contains("s1.jsonl:12")),
        "{:?}",
        report.damage_examples
    );
    // The api-request's time is when the call was sent.
    let first = imported.call(0).unwrap();
    assert_eq!(first.response_id.as_deref(), Some("msg_A"));
    assert_eq!((first.t_start, first.t_end), (0.0, Some(1.5)));
    assert!(first.starts_turn);
    assert_eq!(first.classified_by, "transcript:repl_main_thread");
    // Every call names its project directory, a sub-agent's too (its session's).
    for index in 0..imported.calls.len() {
        let call = imported.call(index).unwrap();
        assert_eq!(call.project.as_deref(), Some("-w"), "{call:?}");
    }

    let since = import(
        &ImportOptions {
            dir: Some(dir.path().to_path_buf()),
            window: utc_since(jiff::civil::date(2026, 10, 2)),
            ..ImportOptions::default()
        },
        &Progress::default(),
    )
    .unwrap();
    assert_eq!(since.calls.len(), 1);
    assert_eq!(since.report.calls_before_since, 6);
}

fn assert_tokens(what: &str, ours: &crate::attribute::UsageTotals, truth: &Tokens) {
    let ours = (
        ours.requests,
        ours.input_tokens,
        ours.output_tokens,
        ours.cache_creation_input_tokens,
        ours.cache_read_input_tokens,
        ours.cache_creation_5m_input_tokens,
        ours.cache_creation_1h_input_tokens,
    );
    let truth = (
        truth.requests,
        truth.input_tokens,
        truth.output_tokens,
        truth.cache_creation_input_tokens,
        truth.cache_read_input_tokens,
        truth.cache_creation_5m_input_tokens,
        truth.cache_creation_1h_input_tokens,
    );
    assert_eq!(ours, truth, "{what}");
}

/// Every figure the ground truth has, exactly.
fn assert_matches_truth(summary: &Summary, truth: &GroundTruth) {
    assert_tokens("totals", &summary.totals, &truth.tally.totals);
    for (category, tokens) in &truth.tally.categories {
        assert_tokens(category, &summary.categories[category], tokens);
    }
    assert_eq!(
        summary.subagent_types.len(),
        truth.tally.subagent_types.len()
    );
    for (kind, tokens) in &truth.tally.subagent_types {
        assert_tokens(kind, &summary.subagent_types[kind], tokens);
    }
    assert_eq!(summary.models.len(), truth.tally.models.len());
    for (model, tokens) in &truth.tally.models {
        assert_tokens(model, &summary.models[model], tokens);
    }
    assert_eq!(summary.sessions.len(), truth.tally.sessions.len());
    for (session, tokens) in &truth.tally.sessions {
        assert_tokens(session, &summary.sessions[session], tokens);
    }
    assert_eq!(summary.turns.len() as u64, truth.tally.turns);
    let report = summary.import.as_ref().unwrap();
    assert_eq!(report.claude_code_versions, truth.versions);
    assert_eq!(report.calls_before_2_1_97, truth.calls_before_2_1_97);
    assert_eq!(report.synthetic_entries, truth.synthetic);
    assert_eq!(report.damaged, truth.damaged);
    assert_eq!(
        report.duplicates.replays, truth.replays.requests,
        "each replayed message is dropped once"
    );
    // Lines of one response are merged however the file was split into ranges.
    assert_eq!(report.duplicates.repeated_lines, truth.repeated_lines);
    assert_eq!(report.duplicates.copies, 0);
    assert_eq!(report.duplicates.placeholders_replaced, truth.placeholders);
}

#[test]
fn a_generated_history_matches_its_ground_truth_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let truth = transcript_corpus::generate_in(dir.path(), 6 << 20, 11).unwrap();
    assert!(truth.replays.requests > 0 && truth.cross_session_replays.requests > 0);
    assert!(truth.placeholders > 0 && truth.multi_mb_lines >= 2);
    assert!(truth.damaged.len() >= 3, "{:?}", truth.damaged);
    assert!(truth.tally.subagent_types.len() >= 4);
    for category in ["user_turn", "subagent"] {
        assert!(truth.tally.categories[category].requests > 0);
    }
    // Whole files, files split in 256 KiB ranges, one thread or several: the same figures.
    let whole = report(&import_dir(dir.path(), 1, Some(u64::MAX)));
    assert_matches_truth(&whole, &truth);
    let split = report(&import_dir(dir.path(), 3, Some(256 << 10)));
    assert_matches_truth(&split, &truth);
    // Every figure, not only the totals: durations (KV), duplicates, damage examples.
    assert_eq!(
        serde_json::to_value(&whole).unwrap(),
        serde_json::to_value(&split).unwrap()
    );
    let odd = report(&import_dir(dir.path(), 2, Some(77_777)));
    assert_eq!(
        serde_json::to_value(&whole).unwrap(),
        serde_json::to_value(&odd).unwrap()
    );
}

#[test]
fn the_ground_truth_by_day_and_month_is_where_the_import_puts_each_call() {
    let dir = tempfile::tempdir().unwrap();
    let truth = transcript_corpus::generate_in(dir.path(), 4 << 20, 21).unwrap();
    assert!(truth.replays.requests > 0 && truth.cross_session_replays.requests > 0);
    let imported = import_dir(dir.path(), 2, Some(256 << 10));
    let timed: Vec<Timed> = imported
        .calls
        .iter()
        .map(|call| Timed {
            at_ms: call.t_start,
            category: call.category,
            usage: call.usage.usage(),
        })
        .collect();
    check::assert_periods_are_the_imports(&truth.tally, &timed);
    // Sessions start near local midnights, on both sides of both changes to daylight time.
    check::assert_a_fixed_offset_would_misplace_calls(&truth.tally, &timed);
    let new_york = &truth.tally.by_day["America/New_York"];
    assert!(new_york.contains_key("2026-03-07") && new_york.contains_key("2026-03-09"));
    let berlin = &truth.tally.by_day["Europe/Berlin"];
    assert!(berlin.keys().any(|d| d.as_str() < "2026-03-29"));
    assert!(berlin.keys().any(|d| d.as_str() > "2026-03-29"));
    // Every call counts once in each zone, and in its project.
    for buckets in truth.tally.by_day.values() {
        let requests: u64 = buckets.values().map(|b| b.tokens.requests).sum();
        assert_eq!(requests, truth.tally.totals.requests);
    }
    // By project: each session's figures (exact, see above) under the directory of its file.
    let mut by_project: std::collections::BTreeMap<String, Tokens> = Default::default();
    for (session, totals) in &report(&imported).sessions {
        let project = std::fs::read_dir(dir.path().join("projects"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .find(|project| project.join(format!("{session}.jsonl")).exists())
            .unwrap_or_else(|| panic!("no file of session {session}"));
        let name = project.file_name().unwrap().to_string_lossy().into_owned();
        let tokens = by_project.entry(name).or_default();
        tokens.requests += totals.requests;
        tokens.input_tokens += totals.input_tokens;
        tokens.output_tokens += totals.output_tokens;
        tokens.cache_creation_input_tokens += totals.cache_creation_input_tokens;
        tokens.cache_read_input_tokens += totals.cache_read_input_tokens;
        tokens.cache_creation_5m_input_tokens += totals.cache_creation_5m_input_tokens;
        tokens.cache_creation_1h_input_tokens += totals.cache_creation_1h_input_tokens;
    }
    // The truth names a project by its directory, which the `projects/` name encodes.
    let truth_projects: std::collections::BTreeMap<String, Tokens> = truth
        .tally
        .by_project
        .iter()
        .map(|(path, bucket)| (path.replace('/', "-"), bucket.tokens))
        .collect();
    assert_eq!(by_project, truth_projects);
    assert!(truth_projects.contains_key("-home-dev-project-0"));
    // And the import names it so too, read from the transcripts' `cwd`.
    let named: std::collections::BTreeSet<&str> = imported
        .calls
        .iter()
        .map(|call| imported.interner.get(call.project))
        .collect();
    let paths: std::collections::BTreeSet<&str> =
        truth.tally.by_project.keys().map(String::as_str).collect();
    assert_eq!(named, paths);
    assert!(paths.contains("/home/dev/project-0"));
}

#[test]
fn since_keeps_the_calls_of_that_day_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let truth = transcript_corpus::generate_in(dir.path(), 3 << 20, 5).unwrap();
    let (date, expected) = truth
        .tally
        .calls_since
        .iter()
        .nth(truth.tally.calls_since.len() / 2)
        .map(|(d, n)| (d.clone(), *n))
        .unwrap();
    let imported = import(
        &ImportOptions {
            dir: Some(dir.path().to_path_buf()),
            window: utc_since(date.parse().unwrap()),
            ..ImportOptions::default()
        },
        &Progress::default(),
    )
    .unwrap();
    assert_eq!(imported.calls.len() as u64, expected, "since {date}");
    assert_eq!(
        imported.report.calls_before_since,
        truth.tally.totals.requests - expected
    );
}

#[test]
fn the_trace_gives_report_the_same_figures() {
    let dir = tempfile::tempdir().unwrap();
    transcript_corpus::generate_in(dir.path(), 2 << 20, 3).unwrap();
    let imported = import_dir(dir.path(), 2, None);
    let direct = report(&imported);
    let path = dir.path().join("trace.jsonl");
    imported.write_trace(&path).unwrap();
    let trace = read_trace(&path).unwrap();
    assert_eq!(trace.header.mode, "import");
    assert_eq!(trace.calls.len(), imported.calls.len());
    assert!(trace.bad_lines.is_empty() && trace.footer.is_some());
    let prices = PriceTable::bundled();
    let via_trace = summarize(
        &[trace],
        &ReportOptions {
            prices: &prices,
            kv_profile: KvProfile::from_name(DEFAULT_PROFILE).unwrap(),
            rows: &RowsSpec::by_category(),
            findings: Default::default(),
        },
    );
    let mut direct = direct;
    // What only the import itself knows: where it read from, and what it found damaged.
    assert!(
        via_trace
            .warnings
            .iter()
            .all(|w| direct.warnings.contains(w))
    );
    direct.source.traces = via_trace.source.traces.clone();
    direct.source.skipped_lines = 0;
    direct.warnings = via_trace.warnings.clone();
    direct.import = None;
    direct
        .assumptions
        .retain(|a| via_trace.assumptions.contains(a));
    assert_eq!(direct, via_trace);
    assert!(via_trace.kv.byte_seconds > 0.0 && !via_trace.turns.is_empty());
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .join("transcripts")
}

#[test]
fn real_claude_code_2_1_197_transcripts_give_the_right_categories() {
    // `claude -p "Delegate this to a sub-agent: …" --allowedTools Agent` against the mock
    // upstream: two main-loop calls around one general-purpose sub-agent call. No
    // api-request records in this version: categories come from isSidechain.
    let imported = import_dir(&fixture("claude_code_2.1.197"), 1, None);
    let summary = report(&imported);
    assert_eq!(summary.totals.requests, 3);
    assert_eq!(summary.categories["user_turn"].requests, 2);
    assert_eq!(summary.categories["subagent"].requests, 1);
    assert_eq!(summary.categories["subagent"].input_tokens, 1156);
    assert_eq!(summary.subagent_types["general-purpose"].requests, 1);
    assert_eq!(summary.turns.len(), 1);
    assert_eq!(
        summary.totals.input_tokens + summary.totals.output_tokens,
        2807 + 138
    );
    let calls: Vec<_> = (0..3).map(|i| imported.call(i).unwrap()).collect();
    assert_eq!(calls[1].agent_id.as_deref(), Some("ad5947ee9a867bac4"));
    assert_eq!(
        calls[1].classified_by,
        "transcript:isSidechain:general-purpose"
    );
    let report = summary.import.unwrap();
    assert_eq!(report.claude_code_versions["2.1.197"], 3);
    assert_eq!(report.damaged.len(), 0);
}

#[test]
fn real_claude_code_2_1_328_transcripts_are_categorised_by_query_source() {
    // The same prompt with 2.1.328, which writes api-request records: every call is joined to
    // its querySource (`sdk` for the headless main loop, `agent:builtin:general-purpose`).
    let dir = tempfile::tempdir().unwrap();
    copy_gunzipped(&fixture("claude_code_2.1.328"), dir.path());
    let imported = import_dir(dir.path(), 2, None);
    let summary = report(&imported);
    assert_eq!(summary.totals.requests, 4);
    assert_eq!(summary.categories["user_turn"].requests, 3);
    assert_eq!(summary.categories["subagent"].requests, 1);
    assert_eq!(summary.subagent_types["general-purpose"].requests, 1);
    assert_eq!(summary.classification.by_decider["transcript:sdk"], 3);
    assert_eq!(
        summary.classification.by_decider["transcript:agent:builtin:general-purpose"],
        1
    );
    assert_eq!(
        summary.turns.len(),
        1,
        "the task notification is not a new prompt"
    );
    assert_eq!(summary.turns[0].overhead.requests, 1);
    assert_eq!(summary.totals.input_tokens, 4948);
    assert_eq!(summary.totals.output_tokens, 914);
    assert_eq!(summary.import.unwrap().unmatched_request_refs, 0);
}

/// Copies a fixture tree, decompressing `*.gz` files.
fn copy_gunzipped(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            std::fs::create_dir_all(to.join(&name)).unwrap();
            copy_gunzipped(&path, &to.join(&name));
        } else if let Some(stem) = name.strip_suffix(".gz") {
            let mut text = Vec::new();
            let file = std::fs::File::open(&path).unwrap();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(file), &mut text).unwrap();
            std::fs::write(to.join(stem), text).unwrap();
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}
