//! `agentprof import` with no agent name, as a user with several agents runs it: every agent's
//! history found in its default place under HOME, in one report with an agent column, exact
//! against each generator's ground truth; agents without a history are named, not fatal; no
//! history at all is an input error naming where each agent's was looked for. And `report`'s
//! rows of a live trace, read in the user's time zone.

use std::path::Path;
use std::process::{Command, Output};

use agentprof::demo::codex_rollouts::CodexTruth;
use agentprof::demo::gemini_chats::GeminiTruth;
use agentprof::demo::import_truth::CallTally;
use agentprof::demo::opencode_history::OpencodeTruth;
use agentprof::demo::transcript_corpus::GroundTruth;
use serde_json::Value;

use crate::support::{agentprof, generate_history, stderr, tokens_of, truth_tokens};

/// The variables that would send an agent's reader elsewhere than under HOME.
const AGENT_DIRS: [&str; 6] = [
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "GEMINI_CLI_HOME",
    "XDG_DATA_HOME",
    "OPENCODE_DB",
    "TZ",
];

/// `agentprof import ARGS…` with HOME set to `home` and no agent variable.
fn import_in(home: &Path, args: &[&str]) -> Output {
    let mut command: Command = agentprof();
    command.arg("import").args(args).env("HOME", home);
    for var in AGENT_DIRS {
        command.env_remove(var);
    }
    command.output().unwrap()
}

fn json_of(output: &Output) -> Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every agent's generated history in its default place under `home`, and each one's truth.
fn every_agent_in(home: &Path) -> Vec<(&'static str, CallTally)> {
    let claude: GroundTruth =
        generate_history("gen-transcripts", &home.join(".claude"), "1", 11, &[]);
    let codex: CodexTruth =
        generate_history("gen-codex-rollouts", &home.join(".codex"), "0.5", 12, &[]);
    let gemini: GeminiTruth = generate_history("gen-gemini-chats", home, "0.5", 13, &[]);
    let opencode: OpencodeTruth = generate_history(
        "gen-opencode-history",
        &home.join(".local/share/opencode"),
        "0.2",
        14,
        &[],
    );
    vec![
        ("claude-code", claude.tally),
        ("codex", codex.tally),
        ("gemini-cli", gemini.tally),
        ("opencode", opencode.tally),
    ]
}

#[test]
fn every_agents_history_is_one_report_with_an_agent_column() {
    let home = tempfile::tempdir().unwrap();
    let truth = every_agent_in(home.path());
    let report = json_of(&import_in(home.path(), &["--json", "--by", "agent"]));

    assert_eq!(report["rows_by"]["by"], "agent");
    let rows = report["rows"].as_array().unwrap();
    let agents: Vec<&str> = rows.iter().map(|r| r["agent"].as_str().unwrap()).collect();
    assert_eq!(agents, ["claude-code", "codex", "gemini-cli", "opencode"]);
    let mut sum = [0u64; 5];
    for ((agent, tally), row) in truth.iter().zip(rows) {
        assert_eq!(row["key"], *agent);
        assert_eq!(
            tokens_of(&row["totals"]),
            truth_tokens(&tally.totals),
            "{agent}"
        );
        for (category, tokens) in &tally.categories {
            assert_eq!(
                tokens_of(&row["by_category"][category]),
                truth_tokens(tokens),
                "{agent} {category}"
            );
        }
        for (s, v) in sum.iter_mut().zip(truth_tokens(&tally.totals)) {
            *s += v;
        }
    }
    assert_eq!(tokens_of(&report["totals"]), sum);
    let imports: Vec<&str> = report["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["agent"].as_str().unwrap())
        .collect();
    assert_eq!(imports, ["claude-code", "codex", "gemini", "opencode"]);
    // Each agent's limits are said once, and damage is named with its agent.
    let text = report["assumptions"].to_string();
    for needle in [
        "imported from Claude Code transcripts",
        "imported from Codex rollouts",
        "imported from Gemini CLI chat files",
        "imported from opencode's database",
    ] {
        assert_eq!(text.matches(needle).count(), 1, "{needle}");
    }
    assert!(
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().starts_with("claude-code: ")),
        "{}",
        report["warnings"]
    );

    // By day, each agent's rows sum to its truth, and every day is a date.
    let by_day = json_of(&import_in(
        home.path(),
        &["--json", "--by", "day", "--timezone", "UTC"],
    ));
    assert_eq!(by_day["rows_by"]["timezone"], "UTC");
    for (agent, tally) in &truth {
        let mut sum = [0u64; 5];
        for row in by_day["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["agent"] == *agent)
        {
            assert!(
                row["key"]
                    .as_str()
                    .unwrap()
                    .parse::<jiff::civil::Date>()
                    .is_ok()
            );
            for (s, v) in sum.iter_mut().zip(tokens_of(&row["totals"])) {
                *s += v;
            }
        }
        assert_eq!(sum, truth_tokens(&tally.totals), "{agent} by day");
    }

    // The terminal table has the agent column.
    let table = import_in(home.path(), &["--by", "month", "--timezone", "UTC"]);
    assert!(table.status.success(), "{}", stderr(&table));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("By month (UTC)"), "{text}");
    assert!(
        text.contains("┆ agent ") && text.contains("gemini-cli"),
        "{text}"
    );
}

#[test]
fn agents_without_history_are_named_and_none_at_all_is_an_input_error() {
    let home = tempfile::tempdir().unwrap();
    let none = import_in(home.path(), &["--json"]);
    assert_eq!(none.status.code(), Some(2), "{}", stderr(&none));
    assert!(none.stdout.is_empty());
    let said = stderr(&none);
    assert!(said.contains("no agent history found"), "{said}");
    for (agent, place) in [
        ("claude-code", ".claude"),
        ("codex", ".codex"),
        ("gemini-cli", ""),
        ("opencode", ".local/share/opencode"),
    ] {
        let line = said
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{agent}:")))
            .unwrap_or_else(|| panic!("{agent} not named: {said}"));
        assert!(line.contains(place), "{line}");
    }

    let codex: CodexTruth = generate_history(
        "gen-codex-rollouts",
        &home.path().join(".codex"),
        "0.3",
        3,
        &[],
    );
    let report = json_of(&import_in(home.path(), &["--json"]));
    assert_eq!(
        tokens_of(&report["totals"]),
        truth_tokens(&codex.tally.totals)
    );
    let assumptions = report["assumptions"].to_string();
    for agent in ["claude-code", "gemini-cli", "opencode"] {
        assert!(
            assumptions.contains(&format!("{agent}: no history found")),
            "{assumptions}"
        );
    }
    // A trace holds one agent's history.
    let trace = import_in(home.path(), &["--trace", "out.jsonl"]);
    assert_eq!(trace.status.code(), Some(2));
    assert!(stderr(&trace).contains("--trace needs one agent"));
}

/// `agentprof report TRACE ARGS… --json` of the committed demo trace.
fn report_of_demo(args: &[&str]) -> Output {
    agentprof()
        .arg("report")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/sample-traces/demo-6-turns.jsonl"
        ))
        .args(args)
        .env_remove("TZ")
        .output()
        .unwrap()
}

#[test]
fn a_traces_rows_are_read_in_the_users_time_zone() {
    // The demo trace started at 06:18 UTC on 2026-11-21: still the 20th in Los Angeles.
    let la = json_of(&report_of_demo(&[
        "--json",
        "--by",
        "day",
        "--timezone",
        "America/Los_Angeles",
    ]));
    let rows = la["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["key"], "2026-11-20");
    assert_eq!(rows[0]["totals"], la["totals"]);
    let share = rows[0]["overhead_share"].as_f64().unwrap();
    let user = la["categories"]["user_turn"].clone();
    let all = tokens_of(&la["totals"])[1..].iter().sum::<u64>() as f64;
    let user_tokens = tokens_of(&user)[1..].iter().sum::<u64>() as f64;
    assert!((share - (all - user_tokens) / all).abs() < 1e-12);
    let berlin = json_of(&report_of_demo(&[
        "--json",
        "--by",
        "week",
        "--timezone",
        "Europe/Berlin",
    ]));
    // Saturday the 21st is in the week that began on Monday the 16th.
    assert_eq!(berlin["rows"][0]["key"], "2026-11-16");

    // --since and --until are whole days in that zone.
    let after = json_of(&report_of_demo(&[
        "--json",
        "--since",
        "2026-11-21",
        "--timezone",
        "America/Los_Angeles",
    ]));
    assert_eq!(after["totals"]["requests"], 0);
    assert_eq!(after["rows_by"]["since"], "2026-11-21");
    let that_day = json_of(&report_of_demo(&[
        "--json",
        "--since",
        "2026-11-20",
        "--until",
        "2026-11-20",
        "--timezone",
        "America/Los_Angeles",
    ]));
    assert_eq!(that_day["totals"], la["totals"]);

    // Bad input: the flag is named, nothing is printed on stdout.
    for (args, needle) in [
        (
            &["--timezone", "Not/AZone"][..],
            "--timezone Not/AZone: not a time zone",
        ),
        (
            &["--since", "2026-11-21", "--until", "2026-11-20"][..],
            "--until 2026-11-20 is before --since 2026-11-21",
        ),
        (&["--by", "fortnight"][..], "fortnight"),
    ] {
        let output = report_of_demo(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty());
        assert!(stderr(&output).contains(needle), "{}", stderr(&output));
    }
}
