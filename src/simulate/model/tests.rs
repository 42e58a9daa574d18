//! The model against itself: summing identical wake-ups must equal simulating each one.

use crate::attribute::cost::PriceTable;
use crate::simulate::model::plan::Plan;
use crate::simulate::monte_carlo::{self, Outcome};
use crate::simulate::scenario::Scenario;
use crate::simulate::scenario::load::ScenarioText;
use crate::simulate::scenario::overrides::parse_set;

fn scenario(preset: &str, sets: &[&str]) -> Scenario {
    let sets: Vec<_> = sets.iter().map(|s| parse_set(s).unwrap()).collect();
    ScenarioText::preset(preset)
        .unwrap()
        .resolve(&sets)
        .unwrap()
}

fn run(s: &Scenario, batch: bool) -> Outcome {
    let prices = PriceTable::bundled();
    let mut plan = Plan::new(s, &prices);
    plan.batch_wakes = batch;
    monte_carlo::run(&plan, &|_| {})
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1.0)
}

fn assert_same(sets: &[&str]) {
    let s = scenario("daemon", sets);
    let summed = run(&s, true);
    let each = run(&s, false);
    assert_eq!(summed.tally, each.tally, "{sets:?}: tokens differ");
    assert_eq!(summed.events, each.events, "{sets:?}: events differ");
    for (a, b) in summed.trials.iter().zip(&each.trials) {
        assert!(
            close(a.kv_token_us as f64, b.kv_token_us as f64, 1e-6),
            "{sets:?}: KV integral {} vs {}",
            a.kv_token_us,
            b.kv_token_us
        );
        assert!(
            close(a.kv_peak_tokens as f64, b.kv_peak_tokens as f64, 0.02),
            "{sets:?}: KV peak {} vs {}",
            a.kv_peak_tokens,
            b.kv_peak_tokens
        );
        assert!(
            close(a.ram_peak_bytes as f64, b.ram_peak_bytes as f64, 1e-6),
            "{sets:?}: RAM peak {} vs {}",
            a.ram_peak_bytes,
            b.ram_peak_bytes
        );
    }
    let (hs, he) = (summed.ram.unwrap(), each.ram.unwrap());
    assert_eq!(hs.len(), he.len());
    for q in [0.5, 0.95, 0.99] {
        assert!(
            close(
                hs.value_at_quantile(q) as f64,
                he.value_at_quantile(q) as f64,
                0.002
            ),
            "{sets:?}: RAM p{q}"
        );
    }
}

#[test]
fn summing_identical_wakeups_changes_nothing_with_a_5_minute_ttl() {
    assert_same(&["sessions=6", "days=3", "trials=2"]);
}

#[test]
fn summing_identical_wakeups_changes_nothing_with_a_1_hour_ttl() {
    assert_same(&["sessions=6", "days=3", "trials=2", "cache_ttl=1h"]);
}

#[test]
fn summing_stops_at_compactions_tiers_and_dreams() {
    // A small window compacts many times a day; Sonnet 4.5 has a long-context tier at 200K;
    // restarting every 2 h makes the dream gate open during the run.
    assert_same(&[
        "sessions=4",
        "days=2",
        "trials=2",
        "context_window=60000",
        "compaction.check=turn_start",
        "wake.restart_hours=2",
        "dream.min_hours=3",
    ]);
    assert_same(&[
        "sessions=3",
        "days=2",
        "trials=1",
        "model=claude-sonnet-4-5",
        "context_window=1000000",
        "wake.restart_hours=0",
        "ram.leak_probability=1",
    ]);
}

#[test]
fn a_summed_run_really_sums() {
    // The batched path must be taken for the daemon preset (or the speed goal is missed).
    let s = scenario("daemon", &["sessions=1", "days=1", "trials=1"]);
    let prices = PriceTable::bundled();
    let plan = Plan::new(&s, &prices);
    let mut acc = super::Acc::new(&plan);
    let mut streams = super::random::Streams::new(1, 0, 0, 0);
    let draw = super::session::TurnDraw::draw(&plan, &plan.wake, &mut streams);
    assert!(super::periodic::batchable(&plan, &draw));
    super::simulate_developer(&plan, 0, 0, &mut acc);
    assert_eq!(acc.events.wakes, 144);
    // A daily restart, ~3 compactions and the lead-in and two real wake-ups per batch: most
    // of the day is summed.
    assert!(acc.summed_wakes >= 100, "{}", acc.summed_wakes);
}
