use std::path::Path;
use std::time::Duration;

use super::*;
use crate::attribute::kv::KvProfile;
use crate::attribute::rows::RowsSpec;
use crate::attribute::summary::{ReportOptions, summarize};
use crate::observation::{MemorySample, RoleMemory};
use crate::output::trace::{Follower, read_trace};

fn tally() -> LiveTally {
    LiveTally::new(
        PriceTable::bundled(),
        Duration::from_secs(300),
        Thresholds::default(),
        KvProfile::default_profile().bytes_per_token(),
    )
}

fn call(id: u64, t_start: f64, t_end: f64, category: Category, usage: Usage) -> Call {
    let mut call = Call::blank();
    call.id = id;
    call.t_start = t_start;
    call.t_end = Some(t_end);
    call.category = category;
    call.model = Some("claude-sonnet-4-6".into());
    call.usage = Some(usage);
    call
}

fn usage(input: u64, output: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        ..Usage::default()
    }
}

#[test]
fn following_the_sample_trace_gives_the_reports_figures_exactly() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/demo-6-turns.jsonl");
    let mut follower = Follower::open(&path).unwrap();
    let mut live = tally();
    live.on_header(follower.header());
    loop {
        let records = follower.poll().unwrap();
        if records.is_empty() {
            break;
        }
        for record in records {
            live.apply(record);
        }
    }
    let view = live.view(live.trace_time_at(jiff::Timestamp::now()));
    assert!(view.ended.is_some());

    let prices = PriceTable::bundled();
    let rows = RowsSpec::by_category();
    let report = summarize(
        &[read_trace(&path).unwrap()],
        &ReportOptions {
            prices: &prices,
            kv_profile: KvProfile::default_profile(),
            rows: &rows,
            findings: Thresholds::default(),
        },
    );
    for row in &view.categories {
        let expected = &report.categories[row.category.as_str()];
        assert_eq!(row.sums.calls, expected.requests, "{:?}", row.category);
        assert_eq!(row.sums.usage.input_tokens, expected.input_tokens);
        assert_eq!(row.sums.usage.output_tokens, expected.output_tokens);
        assert_eq!(
            row.sums.usage.cache_creation_input_tokens,
            expected.cache_creation_input_tokens
        );
        assert_eq!(
            row.sums.usage.cache_read_input_tokens,
            expected.cache_read_input_tokens
        );
        let cost = expected.cost_usd.unwrap();
        assert!(
            (row.sums.cost_usd - cost).abs() < 1e-9,
            "{:?}",
            row.category
        );
    }
    assert_eq!(view.total.calls, report.totals.requests);
    assert!((view.total.cost_usd - report.totals.cost_usd.unwrap()).abs() < 1e-9);
    assert_eq!(view.turn.number, report.turns.len() as u64);
    assert_eq!(
        view.memory.peak_tree_rss,
        report.memory.peak_rss_bytes.unwrap()
    );
    assert!(view.findings.is_empty());
}

#[test]
fn a_turn_takes_back_calls_that_started_after_its_prompt_but_finished_first() {
    let mut live = tally();
    // A title call sent just before the first prompt is the first turn's, as in the report.
    live.on_call(&call(0, 0.0, 0.5, Category::Utility, usage(3, 3)));
    let mut first = call(1, 0.1, 2.0, Category::UserTurn, usage(100, 10));
    first.starts_turn = true;
    live.on_call(&first);
    assert_eq!(live.view(2.0).turn.overhead.calls, 1);
    // Turn 2's prompt is sent at 10 s and streams until 20 s; a title call starts at 11 s and
    // ends at 12 s, so it is recorded first.
    live.on_call(&call(2, 11.0, 12.0, Category::Utility, usage(50, 5)));
    let mut second = call(3, 10.0, 20.0, Category::UserTurn, usage(1000, 100));
    second.starts_turn = true;
    live.on_call(&second);
    // Memory extraction of turn 1 that ran late: started before turn 2, not part of it.
    live.on_call(&call(4, 9.0, 21.0, Category::MemoryExtraction, usage(7, 7)));
    let view = live.view(30.0);
    assert_eq!(view.turn.number, 2);
    assert_eq!(view.turn.started_t, 10.0);
    assert_eq!(view.turn.user.calls, 1);
    assert_eq!(view.turn.user.usage.input_tokens, 1000);
    assert_eq!(
        view.turn.overhead.calls, 1,
        "the title, not the late extraction"
    );
    assert_eq!(view.turn.overhead.usage.input_tokens, 50);
}

#[test]
fn burn_rates_are_over_the_window_and_unknown_prices_stay_unknown() {
    let mut live = LiveTally::new(
        PriceTable::bundled(),
        Duration::from_secs(60),
        Thresholds::default(),
        1,
    );
    // Sonnet: $3 per million input, $15 per million output.
    live.on_call(&call(1, 0.0, 10.0, Category::UserTurn, usage(1_000_000, 0)));
    live.on_call(&call(
        2,
        100.0,
        110.0,
        Category::UserTurn,
        usage(0, 100_000),
    ));
    let mut unpriced = call(3, 100.0, 120.0, Category::Dream, usage(500, 500));
    unpriced.model = Some("no-such-model-anywhere".into());
    live.on_call(&unpriced);
    let view = live.view(150.0);
    assert_eq!(view.window_s, 60.0);
    let user = &view.categories[0];
    assert!(
        (user.sums.cost_usd - 4.5).abs() < 1e-9,
        "{}",
        user.sums.cost_usd
    );
    // Only call 2 ended in the last minute: $1.50 per minute.
    assert!((user.usd_per_hour.unwrap() - 90.0).abs() < 1e-9);
    assert!((user.tokens_per_minute - 100_000.0).abs() < 1e-9);
    let dream = &view.categories[3];
    assert_eq!(dream.category, Category::Dream);
    assert_eq!(dream.sums.known_cost(), None);
    assert_eq!(dream.usd_per_hour, None);
    assert_eq!(
        view.unpriced_models,
        vec!["no-such-model-anywhere".to_string()]
    );
    assert_eq!(view.total.unpriced_calls, 1);
    assert_eq!(view.usd_per_hour.map(|r| (r * 1e6).round()), Some(90.0e6));
    // Early in a session the window is the time so far.
    assert_eq!(live.view(20.0).window_s, 20.0);
}

fn sample(t: f64, main: u64, subagent: u64) -> MemorySample {
    MemorySample {
        t,
        rss_bytes: main + subagent,
        pss_bytes: None,
        main: RoleMemory {
            processes: 1,
            rss_bytes: main,
            pss_bytes: None,
        },
        subagent: RoleMemory {
            processes: u32::from(subagent > 0),
            rss_bytes: subagent,
            pss_bytes: None,
        },
        other: RoleMemory::default(),
        processes: Vec::new(),
    }
}

#[test]
fn memory_history_stays_bounded_spans_the_session_and_growth_waits_for_a_span() {
    let mut live = tally();
    live.apply(TraceRecord::Memory(sample(0.0, 100 << 20, 0)));
    live.apply(TraceRecord::Memory(sample(10.0, 110 << 20, 5 << 20)));
    let view = live.view(10.0);
    assert_eq!(view.memory.growth_bytes_per_hour, None, "10 s is no span");
    assert_eq!(view.memory.subagent.rss_bytes, 5 << 20);

    // Start-up is not growth: 0 → 250 MiB in the first seconds, then flat.
    let mut live = tally();
    live.apply(TraceRecord::Memory(sample(0.0, 0, 0)));
    for t in 2..=45u64 {
        live.apply(TraceRecord::Memory(sample(t as f64, 250 << 20, 0)));
    }
    assert_eq!(
        live.view(45.0).memory.growth_bytes_per_hour,
        None,
        "only 15 s after start-up"
    );
    for t in 46..=90u64 {
        live.apply(TraceRecord::Memory(sample(t as f64, 250 << 20, 0)));
    }
    assert_eq!(live.view(90.0).memory.growth_bytes_per_hour, Some(0.0));

    let mut live = tally();
    let mib = 1u64 << 20;
    for i in 0..10_000u64 {
        // 1 MiB a second.
        live.apply(TraceRecord::Memory(sample(i as f64, (100 + i) * mib, 0)));
    }
    let view = live.view(9_999.0);
    assert!(view.memory.history.len() <= memory::HISTORY);
    assert_eq!(view.memory.history.first().unwrap().t, 0.0);
    assert_eq!(view.memory.history.last().unwrap().t, 9_999.0);
    let growth = view.memory.growth_bytes_per_hour.unwrap();
    assert!((growth - 3600.0 * mib as f64).abs() < 1.0, "{growth}");
    assert_eq!(view.memory.peak_tree_rss, 10_099 * mib);
}

#[test]
fn other_requests_are_counted_apart_and_kept_calls_are_bounded() {
    let mut live = tally();
    let mut probe = Call::blank();
    probe.classified_by = NOT_A_MODEL_CALL.into();
    live.on_call(&probe);
    for i in 0..(LAST_CALLS as u64 + 50) {
        live.on_call(&call(
            i,
            i as f64,
            i as f64 + 0.5,
            Category::UserTurn,
            usage(1, 1),
        ));
    }
    let view = live.view(1_000.0);
    assert_eq!(view.other_requests, 1);
    assert_eq!(view.total.calls, LAST_CALLS as u64 + 50);
    assert_eq!(view.last_calls.len(), LAST_CALLS);
    assert_eq!(
        view.last_calls[0].id,
        LAST_CALLS as u64 + 49,
        "newest first"
    );
}
