//! `agentprof import … --by day|week|month|project --timezone ZONE [--since D] [--until D]`
//! (issue 19) on generated histories: every row equals the ground truth of its local day,
//! week, month or project to the token (in New York and Berlin, whose clocks change within
//! the history, Kolkata, half an hour off the hour, and UTC), rows add up to the totals,
//! `--since`/`--until` keep whole local days, `report` on the import's trace gives the same
//! rows, a zone the database lacks is a usage error naming the flag, and the system's zone
//! (`TZ`) is the default.

use std::collections::BTreeMap;
use std::path::Path;

use agentprof::demo::codex_rollouts::CodexTruth;
use agentprof::demo::gemini_chats::GeminiTruth;
use agentprof::demo::import_truth::Tokens;
use agentprof::demo::import_truth::periods::{Bucket, Buckets, ZONES};
use agentprof::demo::opencode_history::OpencodeTruth;
use agentprof::demo::transcript_corpus::GroundTruth;
use agentprof::observation::Category;
use serde_json::Value;

use crate::support::{agentprof, generate_history, import_json, stderr, tokens_of, truth_tokens};

/// A Claude Code history crossing both changes to daylight time (see the generators'
/// timeline), replays and damage included.
fn claude_code_history(dir: &Path) -> GroundTruth {
    generate_history("gen-transcripts", dir, "4", 21, &[])
}

/// `agentprof import claude-code DIR --json --by BY EXTRA…`.
fn claude_code_rows(dir: &Path, by: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--by", by];
    args.extend_from_slice(extra);
    import_json("claude-code", dir, &args).0
}

/// The report's `rows`, after checking `rows_by` says what was asked.
fn rows<'a>(report: &'a Value, by: &str, zone: Option<&str>) -> &'a [Value] {
    let rows_by = &report["rows_by"];
    assert_eq!(rows_by["by"], by, "{rows_by}");
    assert_eq!(rows_by["breakdown"], "category", "{rows_by}");
    if let Some(zone) = zone {
        assert_eq!(rows_by["timezone"], zone, "{rows_by}");
    }
    report["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no rows in the report: {rows_by}"))
}

/// Every row is the truth's bucket of its key, in key order, one per key (one agent), with
/// every category; rows add up to the report's totals.
fn assert_rows_are(report: &Value, rows: &[Value], agent: &str, truth: &Buckets, what: &str) {
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    let expected: Vec<&str> = truth.keys().map(String::as_str).collect();
    assert_eq!(keys, expected, "{what}: keys");
    for (row, (key, bucket)) in rows.iter().zip(truth) {
        assert_eq!(row["agent"], agent, "{what} {key}");
        assert_eq!(
            tokens_of(&row["totals"]),
            truth_tokens(&bucket.tokens),
            "{what} {key}: totals"
        );
        let categories = row["by_category"].as_object().unwrap();
        assert_eq!(categories.len(), Category::ALL.len(), "{what} {key}");
        for (category, tokens) in &bucket.by_category {
            assert_eq!(
                tokens_of(&row["by_category"][category]),
                truth_tokens(tokens),
                "{what} {key}: {category}"
            );
        }
    }
    assert_rows_add_up(report, rows, what);
}

/// Rows sum to the report's totals, and each row's categories to the row.
fn assert_rows_add_up(report: &Value, rows: &[Value], what: &str) {
    let sum = |values: &mut dyn Iterator<Item = &Value>| {
        values.fold([0u64; 5], |mut acc, v| {
            for (a, b) in acc.iter_mut().zip(tokens_of(v)) {
                *a += b;
            }
            acc
        })
    };
    let rows_sum = sum(&mut rows.iter().map(|r| &r["totals"]));
    assert_eq!(
        rows_sum,
        tokens_of(&report["totals"]),
        "{what}: rows vs totals"
    );
    for row in rows {
        let categories = sum(&mut row["by_category"].as_object().unwrap().values());
        assert_eq!(categories, tokens_of(&row["totals"]), "{what}: {row}");
    }
}

/// `into` plus `from`, tokens and categories.
fn merge(into: &mut Bucket, from: &Bucket) {
    fn add(a: &mut Tokens, b: &Tokens) {
        a.requests += b.requests;
        a.input_tokens += b.input_tokens;
        a.output_tokens += b.output_tokens;
        a.cache_creation_input_tokens += b.cache_creation_input_tokens;
        a.cache_read_input_tokens += b.cache_read_input_tokens;
        a.cache_creation_5m_input_tokens += b.cache_creation_5m_input_tokens;
        a.cache_creation_1h_input_tokens += b.cache_creation_1h_input_tokens;
    }
    add(&mut into.tokens, &from.tokens);
    for (category, tokens) in &from.by_category {
        add(
            into.by_category.entry(category.clone()).or_default(),
            tokens,
        );
    }
}

/// Days regrouped by the Monday that starts their ISO week.
fn by_week(days: &Buckets) -> Buckets {
    let mut weeks = Buckets::new();
    for (day, bucket) in days {
        let date: jiff::civil::Date = day.parse().unwrap();
        let back = i64::from(date.weekday().to_monday_zero_offset());
        let monday = date.checked_sub(jiff::Span::new().days(back)).unwrap();
        merge(weeks.entry(monday.to_string()).or_default(), bucket);
    }
    weeks
}

/// The days of `days` from `since` to `until` (inclusive), and their sum.
fn between(days: &Buckets, since: &str, until: &str) -> (Buckets, Bucket) {
    let kept: Buckets = days
        .range(since.to_string()..=until.to_string())
        .map(|(k, b)| (k.clone(), b.clone()))
        .collect();
    let mut sum = Bucket::default();
    for bucket in kept.values() {
        merge(&mut sum, bucket);
    }
    (kept, sum)
}

#[test]
fn claude_code_rows_by_day_are_the_truth_in_every_zone() {
    let dir = tempfile::tempdir().unwrap();
    let truth = claude_code_history(dir.path());
    // The history tells the zones apart: a report that ignores --timezone cannot pass.
    let days = &truth.tally.by_day;
    assert!(
        days["America/New_York"] != days["UTC"],
        "New York's days are UTC's"
    );
    assert!(days["America/New_York"].contains_key("2026-03-07"));
    for zone in ZONES {
        let report = claude_code_rows(dir.path(), "day", &["--timezone", zone]);
        let rows = rows(&report, "day", Some(zone));
        assert!(report["rows_by"]["since"].is_null() && report["rows_by"]["until"].is_null());
        assert_rows_are(&report, rows, "claude-code", &days[zone], zone);
        assert_eq!(
            tokens_of(&report["totals"]),
            truth_tokens(&truth.tally.totals)
        );
    }
}

#[test]
fn claude_code_rows_by_week_month_and_project_are_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let truth = claude_code_history(dir.path());
    for zone in ZONES {
        let report = claude_code_rows(dir.path(), "month", &["--timezone", zone]);
        let what = format!("months in {zone}");
        let rows = rows(&report, "month", Some(zone));
        assert_rows_are(
            &report,
            rows,
            "claude-code",
            &truth.tally.by_month[zone],
            &what,
        );
    }
    for zone in ["America/New_York", "Asia/Kolkata"] {
        let report = claude_code_rows(dir.path(), "week", &["--timezone", zone]);
        let weeks = by_week(&truth.tally.by_day[zone]);
        let rows = rows(&report, "week", Some(zone));
        assert_rows_are(
            &report,
            rows,
            "claude-code",
            &weeks,
            &format!("weeks in {zone}"),
        );
    }
    assert!(truth.tally.by_project.len() >= 3);
    let report = claude_code_rows(dir.path(), "project", &[]);
    let rows = rows(&report, "project", None);
    assert_rows_are(
        &report,
        rows,
        "claude-code",
        &truth.tally.by_project,
        "projects",
    );
}

#[test]
fn since_and_until_keep_whole_local_days_across_the_clock_changes() {
    let dir = tempfile::tempdir().unwrap();
    let truth = claude_code_history(dir.path());
    // New York's 23-hour day 2026-03-08 and the next (its first night at -04:00), in New York
    // and in UTC; Berlin's days around its own change on 03-29; a stretch of Kolkata's.
    for (zone, since, until) in [
        ("America/New_York", "2026-03-08", "2026-03-09"),
        ("UTC", "2026-03-08", "2026-03-09"),
        ("Europe/Berlin", "2026-03-28", "2026-03-30"),
        ("Asia/Kolkata", "2026-03-10", "2026-03-31"),
    ] {
        let (days, sum) = between(&truth.tally.by_day[zone], since, until);
        assert!(
            !days.is_empty(),
            "the history has calls from {since} to {until} in {zone}"
        );
        let args = ["--timezone", zone, "--since", since, "--until", until];
        let report = claude_code_rows(dir.path(), "day", &args);
        let rows = rows(&report, "day", Some(zone));
        assert_eq!(report["rows_by"]["since"], since);
        assert_eq!(report["rows_by"]["until"], until);
        let what = format!("{since}..{until} in {zone}");
        assert_rows_are(&report, rows, "claude-code", &days, &what);
        assert_eq!(
            tokens_of(&report["totals"]),
            truth_tokens(&sum.tokens),
            "{what}"
        );
    }
    // Those days hold other calls in New York than in UTC: a UTC filter cannot pass.
    let sum = |zone| between(&truth.tally.by_day[zone], "2026-03-08", "2026-03-09").1;
    assert!(sum("America/New_York") != sum("UTC"), "the same calls");
}

#[test]
fn report_on_the_imports_trace_gives_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let truth = claude_code_history(&history);
    let trace = dir.path().join("import.jsonl");
    let args = [
        "--timezone",
        "Asia/Kolkata",
        "--trace",
        trace.to_str().unwrap(),
    ];
    let imported = claude_code_rows(&history, "day", &args);
    let output = agentprof()
        .arg("report")
        .arg(&trace)
        .args(["--json", "--by", "day", "--timezone", "Asia/Kolkata"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = rows(&report, "day", Some("Asia/Kolkata"));
    let days = &truth.tally.by_day["Asia/Kolkata"];
    assert_rows_are(&report, rows, "claude-code", days, "report of the trace");
    assert_eq!(report["rows"], imported["rows"]);
}

#[test]
fn an_unknown_time_zone_is_a_usage_error_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    claude_code_history(dir.path());
    let trace = dir.path().join("import.jsonl");
    import_json(
        "claude-code",
        dir.path(),
        &["--trace", trace.to_str().unwrap()],
    );
    let import = agentprof()
        .args(["import", "claude-code"])
        .arg(dir.path())
        .args(["--json", "--by", "day", "--timezone", "Not/AZone"])
        .output()
        .unwrap();
    let report = agentprof()
        .arg("report")
        .arg(&trace)
        .args(["--json", "--by", "day", "--timezone", "Not/AZone"])
        .output()
        .unwrap();
    for (command, output) in [("import", import), ("report", report)] {
        assert_eq!(
            output.status.code(),
            Some(2),
            "{command}: {}",
            stderr(&output)
        );
        let message = stderr(&output);
        assert!(message.contains("--timezone"), "{command}: {message}");
        assert!(message.contains("Not/AZone"), "{command}: {message}");
        assert!(output.stdout.is_empty(), "{command}");
    }
}

#[test]
fn the_system_time_zone_is_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let truth = claude_code_history(dir.path());
    let output = agentprof()
        .args(["import", "claude-code"])
        .arg(dir.path())
        .args(["--json", "--by", "day"])
        .env("TZ", "America/New_York")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = rows(&report, "day", Some("America/New_York"));
    let days = &truth.tally.by_day["America/New_York"];
    assert_rows_are(&report, rows, "claude-code", days, "TZ=America/New_York");
}

/// Zone → key → bucket.
type ByZone = BTreeMap<String, Buckets>;

/// `agentprof import AGENT DIR --json --by day --timezone ZONE` in every zone, and by month in
/// New York: the truth's rows, under the agent's name.
fn assert_days_and_months(agent: &str, dir: &Path, by_day: &ByZone, by_month: &ByZone) {
    // Rows name the agent as its room does (`import gemini` reads Gemini CLI's files).
    let row_agent = if agent == "gemini" {
        "gemini-cli"
    } else {
        agent
    };
    for zone in ZONES {
        let (report, _) = import_json(agent, dir, &["--by", "day", "--timezone", zone]);
        let rows = rows(&report, "day", Some(zone));
        assert_rows_are(
            &report,
            rows,
            row_agent,
            &by_day[zone],
            &format!("{agent} in {zone}"),
        );
    }
    let zone = "America/New_York";
    let (report, _) = import_json(agent, dir, &["--by", "month", "--timezone", zone]);
    let rows = rows(&report, "month", Some(zone));
    assert_rows_are(
        &report,
        rows,
        row_agent,
        &by_month[zone],
        &format!("{agent} months"),
    );
}

#[test]
fn codex_gemini_and_opencode_rows_by_day_are_the_truth_in_every_zone() {
    let dir = tempfile::tempdir().unwrap();
    let codex = dir.path().join("codex");
    let truth: CodexTruth = generate_history("gen-codex-rollouts", &codex, "1", 5, &[]);
    let tally = &truth.tally;
    assert_days_and_months("codex", &codex, &tally.by_day, &tally.by_month);
    let gemini = dir.path().join("gemini");
    let truth: GeminiTruth = generate_history("gen-gemini-chats", &gemini, "0.5", 5, &[]);
    let tally = &truth.tally;
    assert_days_and_months("gemini", &gemini, &tally.by_day, &tally.by_month);
    let opencode = dir.path().join("opencode");
    let truth: OpencodeTruth = generate_history("gen-opencode-history", &opencode, "0.2", 5, &[]);
    let tally = &truth.tally;
    assert_days_and_months("opencode", &opencode, &tally.by_day, &tally.by_month);
}
