//! Calibration on the committed demo trace: what it fits, and that the replay reproduces
//! the trace's token totals and peak RSS within 5 %.

use std::path::{Path, PathBuf};

use crate::attribute::cost::PriceTable;
use crate::output::trace::read_trace;
use crate::simulate::runner::{Request, execute, prepare};
use crate::simulate::scenario::load::ScenarioText;
use crate::simulate::scenario::overrides::parse_set;

/// A small projection: the demo agent prompts 6,500 times an hour, and only the replay is
/// under test here.
const PROJECTION: &[&str] = &[
    "sessions=1",
    "days=0.01",
    "trials=1",
    "interactive.start_hour=0",
];

fn demo_trace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/demo-6-turns.jsonl")
}

fn simulate(trace: &Path, sets: &[&str]) -> crate::simulate::results::Simulation {
    let prices = PriceTable::bundled();
    let prepared = prepare(Request {
        base: ScenarioText::preset("today-200k").unwrap(),
        sets: sets.iter().map(|s| parse_set(s).unwrap()).collect(),
        sweeps: Vec::new(),
        calibrate: Some(trace),
        prices: &prices,
    })
    .unwrap();
    execute(prepared, &|_| {})
}

#[test]
fn the_demo_trace_is_fitted_from_its_own_calls() {
    let trace = read_trace(&demo_trace()).unwrap();
    let base = ScenarioText::preset("today-200k").unwrap().parse().unwrap();
    let fit = super::fit(&trace, &base, &PriceTable::bundled()).unwrap();
    let fitted = &fit.calibration.fitted;
    // The demo agent's system prompt and tools are written once: 2,894 tokens.
    assert_eq!(fitted["model.system_tokens"], 2894.0);
    assert_eq!(fitted["model.main"], "claude-sonnet-4-6");
    assert_eq!(fitted["model.small"], "claude-haiku-4-5");
    // Six turns, an extraction after each, two sub-agents of four calls.
    assert_eq!(fitted["extraction.probability"], 1.0);
    assert_eq!(fitted["turn.subagents"], 0.333);
    assert_eq!(fitted["subagents.calls"], 4.0);
    assert_eq!(fitted["compaction.check"], "turn_start");
    // The replay runs on the trace's own clock and sessions.
    let replay: Vec<_> = fit
        .replay
        .iter()
        .map(|s| (s.key.as_str(), s.value.as_str()))
        .collect();
    assert!(replay.contains(&("sessions", "1")));
    assert_eq!(fit.trace.requests, 42);
    assert_eq!(fit.trace.input_tokens, 45_438);
}

#[test]
fn the_replay_reproduces_the_demo_trace_within_5_percent() {
    let simulation = simulate(&demo_trace(), PROJECTION);
    let v = simulation.validation.expect("a validation block");
    for key in [
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "peak_rss_bytes",
    ] {
        let error = v.relative_errors[key];
        assert!(error <= 0.05, "{key}: {:.2} % off", error * 100.0);
    }
    assert!(v.max_relative_error <= 0.05, "{v:?}");
    assert_eq!(v.simulated.errors, 0.0);
    // The projection carries the fit too.
    let run = &simulation.runs[0];
    assert_eq!(run.name, "today-200k (calibrated)");
    assert_eq!(run.params["model"]["system_tokens"], 2894.0);
}

#[test]
fn a_trace_without_turns_cannot_be_fitted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.jsonl");
    let header = std::fs::read_to_string(demo_trace())
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    std::fs::write(&path, format!("{header}\n")).unwrap();
    let prices = PriceTable::bundled();
    let err = prepare(Request {
        base: ScenarioText::preset("today-200k").unwrap(),
        sets: Vec::new(),
        sweeps: Vec::new(),
        calibrate: Some(&path),
        prices: &prices,
    })
    .err()
    .expect("no turns, no fit")
    .to_string();
    assert!(
        err.contains("empty.jsonl") && err.contains("no user turns"),
        "{err}"
    );
}

#[test]
fn a_trace_without_memory_samples_keeps_the_scenarios_ram() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-memory.jsonl");
    let kept: Vec<String> = std::fs::read_to_string(demo_trace())
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"type\":\"memory\""))
        .map(String::from)
        .collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    let simulation = simulate(&path, PROJECTION);
    let v = simulation.validation.unwrap();
    assert_eq!(v.trace.peak_rss_bytes, None);
    assert_eq!(v.simulated.peak_rss_bytes, None);
    assert!(!v.relative_errors.contains_key("peak_rss_bytes"));
    let calibration = simulation.calibration.unwrap();
    assert!(
        calibration
            .notes
            .iter()
            .any(|n| n.contains("no memory samples"))
    );
    assert!(!calibration.fitted.contains_key("ram.base_bytes"));
}
