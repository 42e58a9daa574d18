//! Speed of `agentprof simulate --preset daemon --set sessions=10000 --set days=30`: 10,000
//! always-on daemons for a month, 43 million wake-ups (budget: ≤ 2 s on 2 cores). Also a
//! week of the today-200k preset, which has no closed-form shortcut (every prompt is an
//! event), for comparison.

use std::time::Instant;

use agentprof::attribute::cost::PriceTable;
use agentprof::simulate::runner::simulate_scenario;
use agentprof::simulate::scenario::Scenario;
use agentprof::simulate::scenario::load::ScenarioText;
use agentprof::simulate::scenario::overrides::parse_set;
use criterion::{Criterion, criterion_group, criterion_main};

fn scenario(preset: &str, sets: &[&str]) -> Option<Scenario> {
    let sets = sets
        .iter()
        .map(|s| parse_set(s))
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    ScenarioText::preset(preset).ok()?.resolve(&sets).ok()
}

fn bench(c: &mut Criterion) {
    let prices = PriceTable::bundled();
    let cases = [
        (
            "daemon_10000_sessions_30_days",
            "daemon",
            ["sessions=10000", "days=30"],
        ),
        (
            "today_200k_1000_sessions_5_days",
            "today-200k",
            ["sessions=1000", "days=5"],
        ),
    ];
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    let mut summary = Vec::new();
    for (name, preset, sets) in cases {
        let Some(s) = scenario(preset, &sets) else {
            eprintln!("{preset} with {sets:?} did not resolve");
            return;
        };
        group.bench_function(name, |b| b.iter(|| simulate_scenario(&s, &prices)));
        // Under `cargo test` (a debug build, one iteration) the summary would only repeat it.
        if !std::env::args().any(|a| a == "--bench") {
            continue;
        }
        let start = Instant::now();
        let run = simulate_scenario(&s, &prices);
        summary.push((name, start.elapsed(), run.per_user_day.total_tokens));
    }
    group.finish();
    if summary.is_empty() {
        return;
    }
    println!(
        "rayon threads: {} (set RAYON_NUM_THREADS to change)",
        rayon::current_num_threads()
    );
    for (name, elapsed, tokens) in summary {
        println!(
            "{name}: {:.2} s for one run ({tokens} tokens per developer-day)",
            elapsed.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
