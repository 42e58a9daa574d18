//! The findings of traces built call by call, each figure computed by hand.

use std::path::PathBuf;

use super::*;
use crate::attribute::attribution::attribute;
use crate::observation::{Call, Category, MemorySample, Usage};
use crate::output::trace::{ReadTrace, TraceFooter, TraceHeader};

const MODEL: &str = "claude-sonnet-4-5";
const MIB: u64 = 1024 * 1024;

fn usage(input: u64, read: u64, write: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: 100,
        cache_creation_input_tokens: write,
        cache_read_input_tokens: read,
        cache_creation_5m_input_tokens: write,
        ..Usage::default()
    }
}

fn call(id: u64, t: f64, category: Category, usage: Usage) -> Call {
    Call {
        id,
        t_start: t,
        t_end: Some(t + 5.0),
        model: Some(MODEL.into()),
        usage: Some(usage),
        session_id: Some("s".into()),
        category,
        starts_turn: category == Category::UserTurn,
        ..Call::blank()
    }
}

fn trace(calls: Vec<Call>, end: f64) -> ReadTrace {
    let started: jiff::Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
    let footer = TraceFooter {
        t: end,
        ended_at: String::new(),
        calls: calls.len() as u64,
        samples: 0,
        exit_code: Some(0),
        exit_signal: None,
    };
    let mut header = TraceHeader::for_import("test", std::path::Path::new("/x"), started);
    header.mode = "run".into();
    ReadTrace::of_import(PathBuf::from("t.jsonl"), header, footer, calls)
}

fn findings_of(trace: &ReadTrace, thresholds: &Thresholds) -> Vec<Finding> {
    let prices = PriceTable::bundled();
    of_trace(&attribute(trace, &prices), 0, &prices, thresholds)
}

fn of_kind<'a>(findings: &'a [Finding], kind: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.kind == kind).collect()
}

/// Three turns in the first minute, each followed by a memory extraction; then two idle
/// hours with an away summary re-reading 500k cached tokens every 5 minutes.
fn idle_session(away_every_s: f64) -> ReadTrace {
    let mut calls = Vec::new();
    for k in 0..3u64 {
        let t = k as f64 * 20.0;
        calls.push(call(2 * k, t, Category::UserTurn, usage(10, 1000, 0)));
        // Within the grace after the turn's call: the turn's, not idle.
        calls.push(call(
            2 * k + 1,
            t + 6.0,
            Category::MemoryExtraction,
            usage(10, 1000, 0),
        ));
    }
    let mut t = 60.0 + away_every_s;
    let mut id = 100;
    while t < 7260.0 {
        calls.push(call(id, t, Category::AwaySummary, usage(0, 500_000, 0)));
        t += away_every_s;
        id += 1;
    }
    trace(calls, 7260.0)
}

#[test]
fn away_summaries_re_reading_the_cache_while_idle_are_idle_spend_per_idle_hour() {
    let trace = idle_session(300.0);
    let findings = findings_of(&trace, &Thresholds::default());
    let idle = of_kind(&findings, "idle_spend");
    assert_eq!(idle.len(), 1, "{findings:#?}");
    let idle = idle[0];
    // 23 away summaries (t = 360 … 7 200), each 500k reads at $0.30/M and 100 output tokens at
    // $15/M: $0.1515 each.
    let usd = 23.0 * (500_000.0 * 0.30 + 100.0 * 15.0) / 1e6;
    assert!((idle.cost_usd.unwrap() - usd).abs() < 1e-9, "{idle:#?}");
    // Idle: the 7 260 s trace but the turns' calls within their 60 s grace (-60–65, -40–85,
    // -20–105 merge into 0–105 of the trace), so 7 155 s; the away calls are not the user's.
    let per_hour = usd / (7155.0 / 3600.0);
    assert!(
        (idle.rate - per_hour).abs() < 1e-9,
        "{} {per_hour}",
        idle.rate
    );
    assert_eq!(idle.rate_unit, "usd_per_idle_hour");
    // $1.75 per idle hour: under the $2 of a critical finding.
    assert_eq!(idle.severity, "warning");
}

#[test]
fn a_little_idle_spend_or_too_little_idle_time_is_no_finding() {
    // An away summary every 30 minutes: $0.45 over two idle hours, $0.23 an hour.
    let sparse = idle_session(1800.0);
    assert!(of_kind(&findings_of(&sparse, &Thresholds::default()), "idle_spend").is_empty());
    // The same calls judged with a lower bar are a finding…
    let mut low = Thresholds::default();
    low.idle_spend.min_usd_per_idle_hour = 0.2;
    assert_eq!(of_kind(&findings_of(&sparse, &low), "idle_spend").len(), 1);
    // …but not when the trace had too little idle time to say.
    low.idle_spend.min_idle_s = 7200.0;
    assert!(of_kind(&findings_of(&sparse, &low), "idle_spend").is_empty());
}

#[test]
fn idle_spend_of_an_unpriced_model_is_tokens_never_zero_dollars() {
    let mut trace = idle_session(300.0);
    for call in &mut trace.calls {
        call.model = Some("no-such-model".into());
    }
    let findings = findings_of(&trace, &Thresholds::default());
    let idle = of_kind(&findings, "idle_spend")[0];
    assert_eq!(idle.cost_usd, None);
    assert_eq!(idle.rate_unit, "tokens_per_idle_hour");
    let tokens = 23.0 * 500_100.0;
    assert!((idle.rate - tokens / (7155.0 / 3600.0)).abs() < 1e-6);
}

/// Main-loop calls of one session: a 200k-token prefix written, read 2 minutes later, then
/// written again after `gap_s` away.
fn ttl_session(gap_s: f64, one_hour: bool) -> ReadTrace {
    let mut first = usage(10, 0, 200_000);
    if one_hour {
        first.cache_creation_5m_input_tokens = 0;
        first.cache_creation_1h_input_tokens = 200_000;
    }
    let calls = vec![
        call(1, 0.0, Category::UserTurn, first),
        call(2, 120.0, Category::UserTurn, usage(10, 200_000, 500)),
        call(3, 125.0 + gap_s, Category::UserTurn, usage(10, 0, 201_000)),
    ];
    trace(calls, 200.0 + gap_s)
}

#[test]
fn a_prefix_written_again_after_the_cache_expired_is_its_extra_dollars() {
    let findings = findings_of(&ttl_session(1200.0, false), &Thresholds::default());
    let ttl = of_kind(&findings, "cache_ttl_rewrite");
    assert_eq!(ttl.len(), 1, "{findings:#?}");
    // The prefix held before the gap: 200 500 tokens (read + written by call 2), paid at the
    // 5-minute write price ($3.75/M) instead of the read price ($0.30/M).
    let usd = 200_500.0 * (3.75 - 0.30) / 1e6;
    assert!(
        (ttl[0].cost_usd.unwrap() - usd).abs() < 1e-9,
        "{:#?}",
        ttl[0]
    );
    assert_eq!(ttl[0].rate_unit, "usd");
    assert!(
        ttl[0].detail.contains("200500 tokens written again"),
        "{}",
        ttl[0].detail
    );
}

#[test]
fn a_gap_within_the_ttl_or_under_a_one_hour_cache_is_no_rewrite() {
    // 4 minutes: still cached (the write is a new part of the prefix, not a rewrite).
    let findings = findings_of(&ttl_session(240.0, false), &Thresholds::default());
    assert!(
        of_kind(&findings, "cache_ttl_rewrite").is_empty(),
        "{findings:#?}"
    );
    // 20 minutes, but the key wrote 1-hour cache: its reads keep it an hour.
    let findings = findings_of(&ttl_session(1200.0, true), &Thresholds::default());
    assert!(
        of_kind(&findings, "cache_ttl_rewrite").is_empty(),
        "{findings:#?}"
    );
}

#[test]
fn memory_extraction_growing_from_a_tenth_to_half_of_each_turn_is_a_jump() {
    let mut calls = Vec::new();
    for k in 0..8u64 {
        let t = k as f64 * 60.0;
        calls.push(call(2 * k, t, Category::UserTurn, usage(100_000, 0, 0)));
        // $0.3 of user turn; extraction $0.033 for four turns, then $0.3.
        let extraction = if k < 4 { 11_000 } else { 100_000 };
        calls.push(call(
            2 * k + 1,
            t + 10.0,
            Category::MemoryExtraction,
            usage(extraction, 0, 0),
        ));
    }
    let findings = findings_of(&trace(calls, 500.0), &Thresholds::default());
    let jumps = of_kind(&findings, "category_jump");
    assert_eq!(jumps.len(), 1, "{findings:#?}");
    let jump = jumps[0];
    assert_eq!(jump.place.category.as_deref(), Some("memory_extraction"));
    // Turn 5 is the first at half: the window of turns 4–6 is the first whose median is.
    assert_eq!(jump.place.turn, Some(5));
    assert_eq!(jump.place.session.as_deref(), Some("s"));
    // (100 000 input + 100 output) of each: 50 % of the turn.
    assert!((jump.rate - 50.0).abs() < 0.01, "{}", jump.rate);
    assert!(jump.detail.contains("from turn 5 on"), "{}", jump.detail);
    assert_eq!(jump.confidence, 1.0);
}

fn sample(t: f64, processes: &[(u32, u64)]) -> MemorySample {
    MemorySample::of_processes(t, processes)
}

fn start(pid: u32, role: ProcessRole) -> ProcessEvent {
    ProcessEvent::Start {
        t: 0.0,
        pid,
        ppid: None,
        role,
        command: "agent".into(),
    }
}

#[test]
fn a_sub_agent_process_over_the_limit_is_a_finding_from_when_it_passed() {
    let mut trace = trace(Vec::new(), 10.0);
    trace.process_events = vec![
        start(1, ProcessRole::Main),
        start(2, ProcessRole::Subagent),
        start(3, ProcessRole::Subagent),
        // Process 3 spiked between samples: only its high-water mark saw 2.5 GiB.
        ProcessEvent::Exit {
            t: 9.0,
            pid: 3,
            peak_rss_bytes: Some(2560 * MIB),
        },
    ];
    trace.samples = (0..10u32)
        .map(|i| {
            let t = f64::from(i);
            // The main process is bigger than the limit: not a sub-agent, no finding.
            let sub = 1024 * MIB + u64::from(i) * 512 * MIB;
            sample(t, &[(1, 3072 * MIB), (2, sub), (3, 300 * MIB)])
        })
        .collect();
    let findings = findings_of(&trace, &Thresholds::default());
    let peaks = of_kind(&findings, "subagent_peak");
    assert_eq!(peaks.len(), 2, "{findings:#?}");
    assert_eq!(peaks[0].place.pid, Some(2));
    assert_eq!(peaks[0].place.role.as_deref(), Some("subagent"));
    // 1 GiB + 9 × 512 MiB = 5.5 GiB, past twice the 2 GiB limit: critical; over from t = 2 s.
    assert_eq!(peaks[0].rate, (5632 * MIB) as f64);
    assert_eq!(peaks[0].severity, "critical");
    assert_eq!(peaks[0].since.as_deref(), Some("2026-12-01T10:00:02Z"));
    assert_eq!(peaks[1].place.pid, Some(3));
    assert_eq!(peaks[1].rate, (2560 * MIB) as f64);
    assert_eq!(peaks[1].severity, "warning");
    assert!(
        peaks[1].detail.contains("high-water mark"),
        "{}",
        peaks[1].detail
    );
}

#[test]
fn turns_each_keeping_memory_are_a_finding_on_the_tree() {
    let calls: Vec<Call> = (0..6u64)
        .map(|k| call(k, k as f64 * 10.0, Category::UserTurn, usage(10, 0, 0)))
        .collect();
    let mut trace = trace(calls, 60.0);
    // 80 MiB more at every turn's end, never given back.
    trace.samples = (0..=60u32)
        .map(|i| {
            let kept = u64::from(i / 10 + u32::from(i % 10 >= 5)) * 80 * MIB;
            sample(f64::from(i), &[(1, 200 * MIB + kept)])
        })
        .collect();
    let findings = findings_of(&trace, &Thresholds::default());
    let growth = of_kind(&findings, "turn_growth");
    assert_eq!(growth.len(), 1, "{findings:#?}");
    assert_eq!(growth[0].rate, (80 * MIB) as f64);
    assert_eq!(growth[0].place.turn, Some(1));
    assert_eq!(growth[0].rate_unit, "bytes_per_turn");
}

#[test]
fn a_leaking_process_of_a_tree_is_named_with_its_role() {
    let mut trace = trace(Vec::new(), 600.0);
    trace.process_events = vec![start(1, ProcessRole::Main), start(2, ProcessRole::Subagent)];
    // The main process flat at 300 MiB; a sub-agent growing 1 GiB a minute, idle.
    trace.samples = (0..=600u32)
        .map(|i| {
            let grown = u64::from(i) * 1024 * MIB / 60;
            sample(f64::from(i), &[(1, 300 * MIB), (2, 100 * MIB + grown)])
        })
        .collect();
    let findings = findings_of(&trace, &Thresholds::default());
    let leaks = of_kind(&findings, "memory_leak");
    assert_eq!(leaks.len(), 2, "{findings:#?}");
    assert_eq!(leaks[0].place.scope, "tree");
    assert_eq!(leaks[0].place.role, None);
    assert_eq!(leaks[1].place.pid, Some(2));
    assert_eq!(leaks[1].place.role.as_deref(), Some("subagent"));
    // It also passes the sub-agent peak limit (2 GiB) at t = 115 s: 100 + 115 × 1024 / 60 MiB.
    let peak = of_kind(&findings, "subagent_peak");
    assert_eq!(peak[0].since.as_deref(), Some("2026-12-01T10:01:55Z"));
}

#[test]
fn an_imported_history_has_no_findings() {
    let mut trace = idle_session(300.0);
    trace.header.mode = crate::attribute::summary::IMPORT_MODE.into();
    assert_eq!(findings_of(&trace, &Thresholds::default()), Vec::new());
}
