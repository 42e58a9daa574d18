//! Live findings: the gauges a set of findings gives, thinning that bounds memory without
//! changing the verdict, busy windows coalesced without changing an idle stretch, calls in
//! flight counted as busy, and evaluations throttled.

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

use super::*;
use crate::attribute::findings::Place;
use crate::attribute::findings::idle_spend::IdleSpendThresholds;
use crate::attribute::findings::leak::LeakThresholds;
use crate::attribute::findings::live::{MIN_INTERVAL, Observed, evaluate};
use crate::attribute::findings::memory_findings;
use crate::attribute::memory_growth::idle_stretches;
use crate::observation::{Category, ProcessMemory, RoleMemory, Usage};

const MIB: f64 = 1024.0 * 1024.0;

/// One tick: the tree is a main process (pid 1, growing) and a quiet helper (pid 2, 50 MiB).
fn tick(t: f64, main_rss: f64) -> MemorySample {
    let helper = (50.0 * MIB) as u64;
    let main = main_rss as u64;
    MemorySample {
        t,
        rss_bytes: main + helper,
        pss_bytes: None,
        main: RoleMemory::default(),
        subagent: RoleMemory::default(),
        other: RoleMemory::default(),
        processes: vec![
            ProcessMemory {
                pid: 1,
                rss_bytes: main,
                pss_bytes: None,
            },
            ProcessMemory {
                pid: 2,
                rss_bytes: helper,
                pss_bytes: None,
            },
        ],
    }
}

/// `seconds` of ticks every `every` seconds from 300 MiB, growing `mib_per_min` while idle,
/// with a little deterministic jitter (a few MiB, as allocators do).
fn series(seconds: f64, every: f64, mib_per_min: f64) -> Vec<MemorySample> {
    let n = (seconds / every) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 * every;
            let jitter = ((i * 7919 % 101) as f64 / 50.0 - 1.0) * 2.0 * MIB;
            tick(t, 300.0 * MIB + mib_per_min * MIB * t / 60.0 + jitter)
        })
        .collect()
}

fn call(id: u64, start: f64, end: f64) -> Call {
    Call {
        id,
        t_start: start,
        t_end: Some(end),
        ..Call::blank()
    }
}

fn finding(kind: &str, severity: &str, scope: &str, rate: f64) -> Finding {
    Finding {
        kind: kind.into(),
        severity: severity.into(),
        place: Place {
            scope: scope.into(),
            pid: (scope == "process").then_some(7),
            trace: "live".into(),
            ..Place::default()
        },
        rate,
        rate_unit: "bytes_per_hour".into(),
        rate_percent_per_hour: None,
        cost_usd: None,
        since: None,
        confidence: 1.0,
        detail: String::new(),
    }
}

fn text(findings: LiveFindings) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(findings));
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    text
}

/// The value of the sample line `name{labels}` (exact labels), if there is one.
fn value(text: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = match labels {
        "" => format!("{name} "),
        _ => format!("{name}{{{labels}}} "),
    };
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.parse().unwrap())
}

fn key(kind: &str, severity: &str, scope: &str) -> Key {
    (kind.into(), severity.into(), scope.into())
}

#[test]
fn gauges_count_findings_by_kind_severity_scope_and_keep_the_worst_leak_rate() {
    let known: BTreeSet<Key> = [key("memory_leak", "warning", "tree")].into();
    let findings = [
        finding("memory_leak", "critical", "tree", 2e9),
        finding("memory_leak", "warning", "process", 3e8),
        finding("memory_leak", "critical", "process", 5e9),
        // A kind this module has never heard of is exported all the same.
        finding("idle_spend", "warning", "session", 0.5),
    ];
    let got = gauges(&findings, &known);
    let counts: Vec<(Key, i64)> = got.counts.into_iter().collect();
    assert_eq!(
        counts,
        vec![
            (key("idle_spend", "warning", "session"), 1),
            (key("memory_leak", "critical", "process"), 1),
            (key("memory_leak", "critical", "tree"), 1),
            (key("memory_leak", "warning", "process"), 1),
            // Known but not found now: 0, not gone (an alert on it resolves, a panel drops).
            (key("memory_leak", "warning", "tree"), 0),
        ]
    );
    assert_eq!(got.leak_rates["tree"], 2e9);
    assert_eq!(got.leak_rates["process"], 5e9, "the worst process");

    let none = gauges(&[], &BTreeSet::new());
    assert!(none.counts.is_empty());
    assert_eq!(none.leak_rates.len(), 2);
    assert!(none.leak_rates.values().all(|r| *r == 0.0));
}

/// Fast thresholds, as the integration test uses: windows of 10 s after 10 s.
/// `limits` for memory leaks, the defaults for every other kind.
fn thresholds(limits: LeakThresholds) -> Thresholds {
    Thresholds {
        leak: limits,
        ..Thresholds::default()
    }
}

/// Live findings judging memory leaks with `limits`, priced with the bundled table.
fn live(limits: LeakThresholds) -> LiveFindings {
    LiveFindings::new(thresholds(limits), PriceTable::bundled())
}

fn fast() -> LeakThresholds {
    LeakThresholds {
        warmup_s: 10.0,
        window_s: 10.0,
        ..LeakThresholds::default()
    }
}

#[test]
fn a_leak_is_exported_as_a_finding_and_its_rate_and_a_quiet_tree_is_not() {
    let leaking = live(fast());
    for sample in series(120.0, 0.5, 600.0) {
        leaking.on_memory(&sample);
    }
    assert!(leaking.refresh(Instant::now()));
    let text = text(leaking);
    let tree = "kind=\"memory_leak\",severity=\"critical\",scope=\"tree\"";
    let process = "kind=\"memory_leak\",severity=\"critical\",scope=\"process\"";
    assert_eq!(value(&text, FINDINGS, tree), Some(1.0), "{text}");
    // pid 1 leaks, pid 2 does not: one process finding.
    assert_eq!(value(&text, FINDINGS, process), Some(1.0), "{text}");
    let rate = value(&text, LEAK_RATE, "scope=\"tree\"").unwrap();
    assert!((rate / (600.0 * 60.0 * MIB) - 1.0).abs() < 0.02, "{rate}");
    let idle = value(&text, IDLE_GROWTH, "").unwrap();
    assert!((idle / (600.0 * 60.0 * MIB) - 1.0).abs() < 0.02, "{idle}");
    assert_eq!(value(&text, KEPT, ""), Some(240.0));
    assert!(text.contains(&format!("# TYPE {FINDINGS} gauge")), "{text}");

    let quiet = live(fast());
    // Before any evaluation: every memory leak series at 0, no idle growth yet.
    let before = self::text(live(fast()));
    assert_eq!(value(&before, FINDINGS, tree), Some(0.0), "{before}");
    assert_eq!(
        value(
            &before,
            FINDINGS,
            "kind=\"memory_leak\",severity=\"warning\",scope=\"process\""
        ),
        Some(0.0)
    );
    assert_eq!(value(&before, LEAK_RATE, "scope=\"process\""), Some(0.0));
    assert_eq!(value(&before, IDLE_GROWTH, ""), None, "absent until known");
    for sample in series(120.0, 0.5, 0.0) {
        quiet.on_memory(&sample);
    }
    assert!(quiet.refresh(Instant::now()));
    let text = self::text(quiet);
    assert_eq!(value(&text, FINDINGS, tree), Some(0.0), "{text}");
    assert_eq!(value(&text, LEAK_RATE, "scope=\"tree\""), Some(0.0));
    assert!(value(&text, IDLE_GROWTH, "").unwrap().abs() < 10.0 * MIB);
}

#[test]
fn a_call_in_flight_makes_the_samples_after_its_start_busy() {
    let findings = live(fast());
    let started = call(1, 5.0, 5.0);
    findings.on_call_start(&started);
    for sample in series(120.0, 0.5, 600.0) {
        findings.on_memory(&sample);
    }
    let t0 = Instant::now();
    assert!(findings.refresh(t0));
    // Memory grew all along, but a call was running: working, not leaking.
    assert!(
        lock(&findings.current)
            .gauges
            .counts
            .values()
            .all(|n| *n == 0)
    );
    // It ends 6 s in: the rest was idle after all.
    findings.on_call(&call(1, 5.0, 6.0));
    assert!(findings.refresh(t0 + MIN_INTERVAL));
    let current = lock(&findings.current);
    assert_eq!(
        current.gauges.counts[&key("memory_leak", "critical", "tree")],
        1
    );

    // A probe (not a model call) never makes the agent busy, as in the report.
    let probes = live(fast());
    let mut probe = call(1, 5.0, 5.0);
    probe.api = crate::observation::ApiKind::Other;
    probes.on_call_start(&probe);
    assert!(lock(&probes.judge.observed).in_flight.is_empty());
}

#[test]
fn evaluations_are_throttled_and_skipped_when_nothing_changed() {
    let findings = live(fast());
    let t0 = Instant::now();
    assert!(findings.due(t0));
    assert!(findings.refresh(t0), "the first is due at once");
    // Nothing new: not due even later.
    assert!(!findings.due(t0 + MIN_INTERVAL));
    assert!(!findings.refresh(t0 + MIN_INTERVAL));
    findings.on_memory(&tick(1.0, 300.0 * MIB));
    // New data, but too soon.
    assert!(!findings.due(t0 + MIN_INTERVAL / 2));
    assert!(!findings.refresh(t0 + MIN_INTERVAL / 2));
    assert!(findings.due(t0 + MIN_INTERVAL));
    assert!(findings.refresh(t0 + MIN_INTERVAL));
    // One evaluation at a time: while one runs (the schedule held), another returns at once.
    findings.on_memory(&tick(2.0, 300.0 * MIB));
    let held = findings.judge.schedule.lock().unwrap();
    assert!(!findings.due(t0 + MIN_INTERVAL * 3));
    assert!(!findings.refresh(t0 + MIN_INTERVAL * 3));
    drop(held);
    assert!(findings.refresh(t0 + MIN_INTERVAL * 3));
}

/// Busy windows of a call every `every` seconds lasting `length`.
fn calls(seconds: f64, every: f64, length: f64) -> Vec<Call> {
    (0..(seconds / every) as u64)
        .map(|i| {
            let start = 7.0 + i as f64 * every;
            call(i + 1, start, start + length)
        })
        .collect()
}

fn feed(findings: &LiveFindings, samples: &[MemorySample], calls: &[Call]) {
    // Calls reach the sink as they end, samples as they are taken: interleaved by time.
    let mut calls = calls.iter().peekable();
    for sample in samples {
        while let Some(call) = calls.next_if(|c| c.t_end.unwrap() <= sample.t) {
            findings.on_call_start(call);
            findings.on_call(call);
        }
        findings.on_memory(sample);
    }
}

#[test]
fn thinning_bounds_the_samples_and_keeps_the_verdict() {
    // Two hours at 1 Hz, a 30 s call every 10 minutes, a leak of 3 MiB a minute (180 MiB/h,
    // above the default 100 MiB/h and 10 %/h) judged with the default thresholds.
    let limits = LeakThresholds::default();
    let samples = series(7200.0, 1.0, 3.0);
    let calls = calls(7200.0, 600.0, 30.0);
    let busy: Vec<(f64, f64)> = calls
        .iter()
        .map(|c| (c.t_start, c.t_end.unwrap()))
        .collect();
    let full = memory_findings("live", None, &samples, &busy, &limits);
    assert_eq!(full.len(), 2, "tree and pid 1: {full:#?}");

    // A cap of 2,000 samples: the 7,200 fit at 4 s apart (7,100 / 4 + 100 = 1,875).
    let retention = Retention {
        max_samples: 2_000,
        keep_recent: 100,
        ..Retention::for_thresholds(&limits)
    };
    assert_eq!(retention.base_spacing_s, 4.0);
    let live = LiveFindings::with_retention(thresholds(limits), PriceTable::bundled(), retention);
    feed(&live, &samples, &calls);
    let snapshot = lock(&live.judge.observed).snapshot();
    assert!(snapshot.kept.len() <= 2_000, "{}", snapshot.kept.len());
    assert!(snapshot.kept.len() < 7_200 / 3, "{}", snapshot.kept.len());
    assert_eq!(lock(&live.judge.observed).spacing, Some(4.0));
    // The calls' windows are bounded too (merged where no idle pair lies between).
    assert!(snapshot.busy.len() <= calls.len());
    // The newest samples are as taken.
    let tail: Vec<f64> = snapshot.kept[snapshot.kept.len() - 100..]
        .iter()
        .map(|s| s.t)
        .collect();
    assert_eq!(tail, (7100..7200).map(f64::from).collect::<Vec<_>>());

    let (thinned, _) = evaluate(&snapshot, &thresholds(limits), &PriceTable::bundled());
    assert_eq!(thinned.len(), full.len(), "{thinned:#?}");
    for (a, b) in thinned.iter().zip(&full) {
        assert_eq!(
            (&a.kind, &a.severity, &a.place.scope, &a.place.pid),
            (&b.kind, &b.severity, &b.place.scope, &b.place.pid)
        );
        assert!(
            (a.rate / b.rate - 1.0).abs() < 0.05,
            "{} vs {}",
            a.rate,
            b.rate
        );
    }
    // The same without the leak: nothing, thinned or not.
    let quiet = series(7200.0, 1.0, 0.0);
    assert!(memory_findings("live", None, &quiet, &busy, &limits).is_empty());
    let live = LiveFindings::with_retention(thresholds(limits), PriceTable::bundled(), retention);
    feed(&live, &quiet, &calls);
    assert!(live.refresh(Instant::now()));
    assert!(lock(&live.current).gauges.counts.values().all(|n| *n == 0));
}

#[test]
fn at_the_default_cap_a_day_at_4_hz_stays_judgeable_and_two_days_are_thinned_further() {
    // Only the bookkeeping (no evaluation): 345,600 ticks a day into 24,576.
    let mut observed = Observed::new(Retention::for_thresholds(&LeakThresholds::default()));
    let widest = |observed: &Observed| {
        observed
            .samples
            .windows(2)
            .map(|w| w[1].t - w[0].t)
            .fold(0.0, f64::max)
    };
    let mut t = 0.0;
    while t < 86_400.0 {
        observed.push_sample(&tick(t, 300.0 * MIB));
        t += 0.25;
    }
    assert!(observed.samples.len() <= 24_576);
    assert_eq!(observed.spacing, Some(4.0));
    // Never further apart than 4 s: a 60 s window spans at least 52 s of its 48 needed.
    assert!(widest(&observed) <= 4.0 + 1e-9, "{}", widest(&observed));
    while t < 2.0 * 86_400.0 {
        observed.push_sample(&tick(t, 300.0 * MIB));
        t += 0.25;
    }
    assert!(observed.samples.len() <= 24_576);
    assert_eq!(observed.spacing, Some(8.0));
    assert_eq!(
        observed.samples.last().unwrap().t,
        t - 0.25,
        "the newest is kept"
    );
}

#[test]
fn coalescing_busy_windows_changes_no_idle_stretch() {
    // Irregular samples and calls (a deterministic shuffle), some overlapping, some between
    // two samples, some long.
    let mut observed = Observed::new(Retention {
        max_samples: 100_000,
        keep_recent: 10,
        base_spacing_s: 3.0,
    });
    let mut state: u64 = 42;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let mut t = 0.0;
    for _ in 0..3_000 {
        t += 0.2 + next() * 3.0;
        observed.push_sample(&tick(t, 300.0 * MIB + next() * MIB));
    }
    for id in 0..2_000 {
        let start = next() * t;
        let length = match id % 10 {
            0 => next() * 60.0,
            _ => next() * 2.0,
        };
        observed.call_finished(&call(id, start, start + length));
    }
    let points: Vec<(f64, f64)> = observed
        .samples
        .iter()
        .map(|s| (s.t, s.rss_bytes as f64))
        .collect();
    let before = idle_stretches(&points, &observed.busy, 0.0);
    observed.coalesce_busy();
    let after = idle_stretches(&points, &observed.busy, 0.0);
    assert_eq!(before, after);
    assert!(
        observed.busy.len() < 1_000,
        "joined where no idle pair lies between: {}",
        observed.busy.len()
    );
}

/// A model call of `category` with `read` cached tokens, 1 s long.
fn priced_call(id: u64, start: f64, category: Category, read: u64) -> Call {
    Call {
        id,
        t_start: start,
        t_end: Some(start + 1.0),
        model: Some("claude-sonnet-4-5".into()),
        usage: Some(Usage {
            output_tokens: 100,
            cache_read_input_tokens: read,
            ..Usage::default()
        }),
        session_id: Some("s".into()),
        category,
        starts_turn: category == Category::UserTurn,
        ..Call::blank()
    }
}

#[test]
fn idle_spend_is_judged_live_from_the_calls_as_the_report_judges_it() {
    let thresholds = Thresholds {
        idle_spend: IdleSpendThresholds {
            grace_s: 0.5,
            min_idle_s: 5.0,
            ..IdleSpendThresholds::default()
        },
        ..Thresholds::default()
    };
    let samples = series(30.0, 1.0, 0.0);
    // One turn, then an away summary re-reading 500k cached tokens every second.
    let mut calls = vec![priced_call(1, 0.0, Category::UserTurn, 1_000)];
    calls.extend(
        (0..25).map(|i| priced_call(2 + i, 3.0 + i as f64, Category::AwaySummary, 500_000)),
    );
    let spending = LiveFindings::new(thresholds, PriceTable::bundled());
    feed(&spending, &samples, &calls);
    assert!(spending.refresh(Instant::now()));
    let text = text(spending);
    let spend = "kind=\"idle_spend\",severity=\"critical\",scope=\"trace\"";
    assert_eq!(value(&text, FINDINGS, spend), Some(1.0), "{text}");

    // The turn alone: nothing spent while idle, no idle_spend series at all.
    let quiet = LiveFindings::new(thresholds, PriceTable::bundled());
    feed(&quiet, &samples, &calls[..1]);
    assert!(quiet.refresh(Instant::now()));
    let text = self::text(quiet);
    assert!(!text.contains("idle_spend"), "{text}");
}
