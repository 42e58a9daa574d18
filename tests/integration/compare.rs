//! `agentprof compare` and `agentprof ab` on real runs of the synthetic agent against the mock:
//! the comparison of two traces is the difference of their reports; `ab` with memory
//! extraction off on side B (Claude Code's own `CLAUDE_CODE_DISABLE_AUTO_MEMORY=1`) measures
//! what extraction costs, with an interval that holds the mock's own record of it; a Ctrl-C
//! keeps the finished runs; thresholds give exit codes.

use std::path::Path;
use std::process::Output;

use agentprof::attribute::cost::PriceTable;

use crate::support::{Mock, agentprof, report_json_of, run_under_agentprof, stderr};

fn synthetic(mock: &Mock, dir: &Path, turns: &str) -> std::path::PathBuf {
    let exe = env!("CARGO_BIN_EXE_agentprof");
    let output = run_under_agentprof(
        mock,
        dir,
        &[exe, "synthetic-agent", "--turns", turns, "--think-ms", "0"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    dir.join("trace.jsonl")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

fn row<'a>(comparison: &'a serde_json::Value, scope: &str, figure: &str) -> &'a serde_json::Value {
    comparison["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["scope"] == scope && r["figure"] == figure)
        .unwrap_or_else(|| panic!("no row {scope} {figure}"))
}

#[test]
fn comparing_two_traces_gives_the_difference_of_their_reports_and_thresholds_exit_codes() {
    let mock = Mock::start();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = synthetic(&mock, dir_a.path(), "2");
    let b = synthetic(&mock, dir_b.path(), "4");
    let (report_a, report_b) = (report_json_of(&a), report_json_of(&b));

    let output = agentprof()
        .args(["compare", "--json"])
        .arg(&a)
        .arg("--")
        .arg(&b)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let comparison = json(&output);
    assert_eq!(comparison["schema"], "agentprof.compare/v1");
    for (scope, totals_a, totals_b) in [
        ("total", &report_a["totals"], &report_b["totals"]),
        (
            "memory_extraction",
            &report_a["categories"]["memory_extraction"],
            &report_b["categories"]["memory_extraction"],
        ),
        (
            "user_turn",
            &report_a["categories"]["user_turn"],
            &report_b["categories"]["user_turn"],
        ),
    ] {
        for (figure, field) in [
            ("calls", "requests"),
            ("input", "input_tokens"),
            ("output", "output_tokens"),
            ("cache_write", "cache_creation_input_tokens"),
            ("cache_read", "cache_read_input_tokens"),
        ] {
            let delta = row(&comparison, scope, figure)["difference"]["delta"].as_f64();
            let expected = totals_b[field].as_f64().unwrap() - totals_a[field].as_f64().unwrap();
            assert_eq!(delta, Some(expected), "{scope} {figure}");
        }
        let cost = row(&comparison, scope, "cost")["difference"]["delta"]
            .as_f64()
            .unwrap();
        let expected =
            totals_b["cost_usd"].as_f64().unwrap() - totals_a["cost_usd"].as_f64().unwrap();
        assert!(
            (cost - expected).abs() < 1e-12,
            "{scope}: {cost} vs {expected}"
        );
    }

    // The table names the verdict; a threshold B breaks exits 1, one it keeps exits 0.
    let compare = |flags: &[&str]| {
        agentprof()
            .arg("compare")
            .args(flags)
            .arg(&a)
            .arg("--")
            .arg(&b)
            .output()
            .unwrap()
    };
    let table = compare(&[]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("total: +"), "{text}");
    assert!(text.contains("one run a side: no interval"), "{text}");
    let broken = compare(&["--fail-if", "calls>+10%"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(stderr(&broken).contains("--fail-if calls>+10%: total calls changed by +"));
    assert_eq!(
        compare(&["--fail-if", "calls>+1000%"]).status.code(),
        Some(0)
    );
    // The page: the verdicts, the chart of A beside B, every row.
    let page = tempfile::tempdir().unwrap();
    let html_dir = page.path().join("cmp");
    let written = compare(&["--html", html_dir.to_str().unwrap()]);
    assert!(written.status.success(), "{}", stderr(&written));
    let html = std::fs::read_to_string(html_dir.join("index.html")).unwrap();
    for expected in [
        "Verdicts",
        "<svg",
        "Mean cost per run: A (light) beside B",
        "memory_extraction",
        "total: +",
    ] {
        assert!(html.contains(expected), "{expected:?} not in the page");
    }
    let bad = compare(&["--fail-if", "price>1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("no figure \"price\""),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn ab_measures_what_memory_extraction_costs_within_its_interval() {
    let mock = Mock::start();
    let out = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_agentprof");
    let output = agentprof()
        .env("AGENTPROF_ANTHROPIC_UPSTREAM", mock.url())
        .args(["ab", "--runs", "3", "--json", "--out"])
        .arg(out.path())
        .args(["--b", "CLAUDE_CODE_DISABLE_AUTO_MEMORY=1"])
        .args(["--fail-if", "memory_extraction.cost<-50%", "--"])
        .args([exe, "synthetic-agent", "--turns", "3", "--think-ms", "0"])
        .args(["--seed", "{run}"])
        .output()
        .unwrap();
    // B's extraction costs 100 % less: the threshold is broken, on purpose.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--fail-if memory_extraction.cost<-50%"),
        "{}",
        stderr(&output)
    );
    for name in ["a-1", "b-1", "a-2", "b-2", "a-3", "b-3"] {
        assert!(out.path().join(format!("{name}.jsonl")).exists(), "{name}");
        assert!(out.path().join(format!("{name}.out")).exists(), "{name}");
    }
    assert_eq!(
        stderr(&output).matches(": ok (").count(),
        6,
        "{}",
        stderr(&output)
    );
    let comparison = json(&output);
    let calls = row(&comparison, "memory_extraction", "calls");
    assert_eq!(calls["a"]["mean"], 3.0, "one extraction a turn");
    assert_eq!(calls["b"]["mean"], 0.0);

    // The truth: what the mock recorded as memory extraction, priced, per A run.
    let prices = PriceTable::bundled();
    let extraction: f64 = mock
        .records()
        .iter()
        .filter(|r| r.truth_category.as_deref() == Some("memory_extraction"))
        .map(|r| {
            prices
                .cost(r.model.as_deref(), r.usage.as_ref().unwrap())
                .unwrap()
        })
        .sum::<f64>()
        / 3.0;
    let cost = row(&comparison, "memory_extraction", "cost");
    assert!((cost["a"]["mean"].as_f64().unwrap() - extraction).abs() < 1e-9);
    assert!(
        cost["a"]["sd"].as_f64().unwrap() > 0.0,
        "seeds differ: {cost}"
    );
    let (lo, hi) = (
        cost["difference"]["interval"][0].as_f64().unwrap(),
        cost["difference"]["interval"][1].as_f64().unwrap(),
    );
    assert!(
        lo <= -extraction && -extraction <= hi,
        "{lo} … {hi} vs {}",
        -extraction
    );
    assert!(hi < 0.0, "the saving is significant: {lo} … {hi}");
    let verdict = comparison["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v.as_str().unwrap().starts_with("memory_extraction: "))
        .unwrap();
    assert!(
        verdict
            .as_str()
            .unwrap()
            .starts_with("memory_extraction: -100 % ± ")
    );
}

#[test]
fn ab_copies_the_workdir_prepares_it_and_a_ctrl_c_keeps_the_finished_runs() {
    let mock = Mock::start();
    let out = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("seed.txt"), "7").unwrap();
    let exe = env!("CARGO_BIN_EXE_agentprof");
    // Each run checks it is in a prepared copy; A's second run (after B's: pairs alternate
    // which side goes first) interrupts `ab` (SIGINT to `agentprof ab`, the parent of its
    // `agentprof run`) and then dies of it.
    let script = format!(
        "test -f prepared && test -f seed.txt && test ! -f left-by-an-earlier-run || exit 9; \
         touch left-by-an-earlier-run; echo agent-said-hello; \
         if [ \"$AGENTPROF_AB_SIDE$AGENTPROF_AB_RUN\" = a2 ]; then \
           kill -INT $(ps -o ppid= -p $PPID); sleep 5; exit 1; fi; \
         exec '{exe}' synthetic-agent --turns 1 --think-ms 0"
    );
    let output = agentprof()
        .env("AGENTPROF_ANTHROPIC_UPSTREAM", mock.url())
        .args(["ab", "--runs", "3", "--json", "--out"])
        .arg(out.path())
        .arg("--workdir")
        .arg(work.path())
        .args(["--prepare", "touch prepared", "--", "sh", "-c", &script])
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(err.contains("[1/6] A run 1: ok"), "{err}");
    assert!(err.contains("[2/6] B run 1: ok"), "{err}");
    assert!(err.contains("[3/6] B run 2: ok"), "{err}");
    assert!(
        err.contains("[4/6] A run 2: interrupted: left out"),
        "{err}"
    );
    assert!(
        err.contains("comparing the 1 + 2 runs that finished"),
        "{err}"
    );
    assert!(
        !out.path().join("a-3.jsonl").exists(),
        "no run after the Ctrl-C"
    );
    // A second ab into the same directory is refused before it runs anything.
    let again = agentprof()
        .args(["ab", "--runs", "1", "--out"])
        .arg(out.path())
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("holds the traces of an earlier ab"));
    // The agent's stdout is beside its trace; ab's stdout is the JSON alone.
    let said = std::fs::read_to_string(out.path().join("a-1.out")).unwrap();
    assert_eq!(said, "agent-said-hello\n");
    let comparison = json(&output);
    assert_eq!(row(&comparison, "total", "calls")["a"]["runs"], 1);
    // The original directory is untouched and the copies are gone.
    assert!(!work.path().join("prepared").exists());
    assert!(!work.path().join("left-by-an-earlier-run").exists());
    let left: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("work-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
