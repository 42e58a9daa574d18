//! What the simulator must get right whatever its parameters (the sanity checks),
//! and the presets against the facts they cite. Predictions are computed here from the
//! scenario's numbers and the published prices, not read back from the simulator.

use crate::attribute::cost::PriceTable;
use crate::simulate::results::Run;
use crate::simulate::runner::simulate_scenario;
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

fn run(preset: &str, sets: &[&str]) -> Run {
    simulate_scenario(&scenario(preset, sets), &PriceTable::bundled())
}

fn event(run: &Run, name: &str) -> f64 {
    run.events_per_user_day[name]
}

#[test]
fn kv_bytes_per_token_are_the_published_figures() {
    // facts.md, server KV-cache math (bf16; FP8 halves them).
    let published = [
        ("llama-3.1-8b", 131_072u64),
        ("llama-3.1-70b", 327_680),
        ("llama-3.1-405b", 516_096),
        ("qwen3-235b-a22b", 192_512),
        ("deepseek-v3", 70_272),
    ];
    let base = ["sessions=2", "days=1", "trials=1"];
    let reference = run("today-200k", &base);
    let peak_tokens = reference.server_kv.peak_bytes / 516_096;
    assert_eq!(peak_tokens * 516_096, reference.server_kv.peak_bytes);
    assert!(peak_tokens > 0);
    for (profile, bytes) in published {
        for (suffix, per_token) in [("", bytes), ("-fp8", bytes / 2)] {
            let set = format!("kv_profile={profile}{suffix}");
            let r = run("today-200k", &[base[0], base[1], base[2], &set]);
            assert_eq!(r.server_kv.bytes_per_token, per_token, "{profile}{suffix}");
            // The same workload, priced in this profile's bytes.
            assert_eq!(r.server_kv.peak_bytes, peak_tokens * per_token, "{profile}");
        }
    }
}

#[test]
fn a_1m_context_holds_exactly_5x_the_peak_kv_of_200k() {
    // One long-lived session that fills its window; nothing else on the server beside it
    // (no forks, sub-agents or side calls), and a compaction request that adds nothing.
    let common = [
        "sessions=1",
        "days=10",
        "trials=1",
        "interactive.sessions_per_day=0",
        "extraction=false",
        "dream=false",
        "away_summary=false",
        "subagents=0",
        "turn.utility_calls=0",
        "compaction.instruction_tokens=0",
    ];
    let with = |window: &str| {
        let mut sets = common.to_vec();
        sets.push(window);
        run("today-200k", &sets)
    };
    let small = with("context_window=200000");
    let large = with("context_window=1000000");
    assert!(event(&small, "compactions") > 0.0 && event(&large, "compactions") > 0.0);
    assert_eq!(
        event(&small, "turns"),
        event(&large, "turns"),
        "same workload"
    );
    // The peak is a full context at the 80 % compaction threshold …
    assert_eq!(small.server_kv.peak_bytes, 160_000 * 516_096);
    // … so five times the window is exactly five times the KV.
    assert_eq!(large.server_kv.peak_bytes, 5 * small.server_kv.peak_bytes);
}

#[test]
fn extraction_costs_one_resent_prefix_per_turn() {
    // A deterministic day: 60 prompts of fixed size, a 1-hour cache (no gap outlives it),
    // a window no turn fills, nothing else in the background.
    let sets = [
        "sessions=1",
        "days=1",
        "trials=1",
        "interactive.sessions_per_day=1",
        "interactive.turns_per_hour=10",
        "interactive.turns_per_hour_cv=0",
        "interactive.start_jitter_hours=0",
        "turn.size_cv=0",
        "turn.tool_calls=3",
        "subagents=0",
        "turn.utility_calls=0",
        "dream=false",
        "away_summary=false",
        "cache_ttl=1h",
        "context_window=1000000",
    ];
    let with = |extraction: &str| {
        let mut all = sets.to_vec();
        all.push(extraction);
        (scenario("today-200k", &all), run("today-200k", &all))
    };
    let (s, on) = with("extraction=true");
    let (_, off) = with("extraction=false");
    let turns = event(&on, "turns");
    assert_eq!(turns, 60.0);
    assert_eq!(turns, event(&off, "turns"));
    // The premise: one cold start, no compaction, in both runs.
    for r in [&on, &off] {
        assert_eq!(event(r, "cache_misses"), 1.0);
        assert_eq!(event(r, "compactions"), 0.0);
    }

    // Turn t leaves a conversation of S + t·G tokens: the prompt and 3 tool results, each
    // answered, each call adding its framing. Extraction re-sends it; the next turn then
    // reads all of it instead of writing the last call's tail itself, so per turn the
    // difference is one prefix at the cache-read price plus the extraction's own input and
    // output; after the last turn the tail is written once more.
    let (sys, u, x, o, d) = (
        s.model.system_tokens,
        s.turn.prompt_tokens,
        s.turn.tool_result_tokens,
        s.turn.output_tokens,
        s.model.message_overhead_tokens,
    );
    let growth = (u + o + d) + 3.0 * (x + o + d);
    let tail = x + o + d;
    // Opus 5.5, the preset's model (Claude Code's default): $4 / $20 per M tokens, cache
    // read $0.20 (0.05x), 1-hour write $8 (LiteLLM 1.110.2, facts.md).
    let (input, output, read, write_1h) = (4e-6, 20e-6, 0.2e-6, 8e-6);
    let (instruction, out) = (s.extraction.instruction_tokens, s.extraction.output_tokens);
    let mut predicted = tail * (write_1h - read);
    for t in 1..=60 {
        let prefix = sys + f64::from(t) * growth;
        predicted += prefix * read + instruction * input + out * output;
    }
    let cost = |r: &Run| r.per_user_day.total_cost_usd.unwrap();
    let actual = cost(&on) - cost(&off);
    assert!(
        (actual - predicted).abs() <= 1e-9 * predicted,
        "extraction added ${actual}, one re-sent prefix per turn predicts ${predicted}"
    );
    assert_eq!(off.per_user_day.cost_usd["memory_extraction"], Some(0.0));
}

#[test]
fn a_daemon_on_a_5_minute_ttl_writes_its_prefix_at_every_wake() {
    let sets = ["sessions=3", "days=2", "trials=1"];
    let five = run("daemon", &sets);
    let wakes = event(&five, "daemon_wakes");
    assert_eq!(wakes, 144.0, "every 10 minutes");
    // Every wake-up finds its prefix gone (10 min > 5 min) and writes all of it again.
    assert_eq!(event(&five, "cache_misses"), wakes);
    let written = five.per_user_day.token_types["user_turn"].cache_creation_input_tokens;
    let system = five.params["model"]["system_tokens"].as_f64().unwrap();
    assert!(
        written as f64 / wakes >= system,
        "{written} tokens written a day"
    );

    let hour = run("daemon", &[sets[0], sets[1], sets[2], "cache_ttl=1h"]);
    // On a 1-hour TTL only a new session's first call misses; a wake-up reads its prefix
    // and writes only what it adds.
    assert_eq!(
        event(&hour, "cache_misses"),
        event(&hour, "sessions_started")
    );
    let written = hour.per_user_day.token_types["user_turn"].cache_creation_input_tokens;
    assert!(
        (written as f64 / wakes) < system,
        "{written} tokens written a day"
    );
    let reads = |r: &Run| r.per_user_day.token_types["user_turn"].cache_read_input_tokens;
    assert!(reads(&hour) > reads(&five));
    assert!(hour.per_user_day.total_cost_usd < five.per_user_day.total_cost_usd);
}

#[test]
fn the_swarm_spends_7_to_15_times_today() {
    // facts.md: agent teams ≈ 7x a standard session; multi-agent ≈ 15x chat.
    let sets = ["sessions=20", "days=2"];
    let today = run("today-200k", &sets);
    let swarm = run("swarm", &sets);
    let ratio = swarm.per_user_day.total_tokens as f64 / today.per_user_day.total_tokens as f64;
    assert!((7.0..=15.0).contains(&ratio), "swarm ÷ today = {ratio:.2}");
}

#[test]
fn a_seed_workstation_holds_15_to_30_gb_before_the_ide_opens() {
    // The issue: one daemon plus a few sessions "leads to 15–30 GB of agent RAM before the
    // IDE opens"; those hours are the top few percent of the day.
    let r = run("seed-workstation", &[]);
    let p95 = r.client_ram.p95_bytes as f64;
    assert!((15e9..=30e9).contains(&p95), "p95 {:.1} GB", p95 / 1e9);
    assert!(r.recommended_workstation_ram_gib >= 32);
}

#[test]
fn the_same_seed_gives_the_same_output_and_another_seed_does_not() {
    let json = |seed: &str| {
        serde_json::to_string(&run("swarm", &["sessions=20", "days=1", seed])).unwrap()
    };
    let first = json("seed=7");
    assert_eq!(first, json("seed=7"));
    assert_ne!(first, json("seed=8"));
}
