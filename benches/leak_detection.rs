//! How soon a memory leak is found, by leak rate, and what judging costs.
//!
//! First a table, printed before criterion runs: for each leak rate — the ones users reported
//! and slower ones down to the threshold — the idle time after which the verdict first says
//! "leak" with the default thresholds, and with 10-minute windows (`--leak-window 600`).
//! The series is one sample a second from 400 MiB, with ±10 MiB of deterministic noise and a
//! garbage-collection sawtooth of 20 MiB every 3 minutes: quieter than a real Node agent, so the
//! delays are a lower bound. Then criterion times one verdict over a day of samples (86 400),
//! which `report` pays per trace, and one evaluation of the live findings of `--prometheus`
//! after a day of a ten-process tree at 1 Hz and a turn every 10 minutes (what a scrape pays
//! at most every few seconds, on the blocking pool).

use std::time::Instant;

use agentprof::attribute::cost::PriceTable;
use agentprof::attribute::findings::Thresholds;
use agentprof::attribute::findings::leak::{LeakThresholds, judge};
use agentprof::observation::{Call, Category, MemorySample, ProcessMemory, Usage};
use agentprof::output::prometheus::LiveFindings;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const MIB: f64 = 1024.0 * 1024.0;

/// `seconds` of samples growing `mib_per_hour`.
fn series(seconds: usize, mib_per_hour: f64) -> Vec<(f64, f64)> {
    (0..seconds)
        .map(|i| {
            let t = i as f64;
            let noise = ((i * 7919 % 101) as f64 / 50.0 - 1.0) * 10.0;
            let sawtooth = (i % 180) as f64 / 180.0 * 20.0;
            (
                t,
                (400.0 + mib_per_hour * t / 3600.0 + noise + sawtooth) * MIB,
            )
        })
        .collect()
}

/// Seconds of idle samples after which `limits` first find a leak (checked every `step` s up
/// to `horizon`), or `None`.
fn delay(mib_per_hour: f64, limits: &LeakThresholds, horizon: usize) -> Option<usize> {
    let points = series(horizon, mib_per_hour);
    let step = (limits.window_s as usize / 6).max(10);
    (limits.warmup_s as usize..=horizon)
        .step_by(step)
        .find(|&t| judge(&points[..t], &[], limits).is_some())
}

fn shown(delay: Option<usize>) -> String {
    match delay {
        Some(s) if s < 3600 => format!("{:.1} min", s as f64 / 60.0),
        Some(s) => format!("{:.1} h", s as f64 / 3600.0),
        None => "not within 24 h".to_string(),
    }
}

fn print_delays() {
    let defaults = LeakThresholds::default();
    let ten_minutes = LeakThresholds {
        window_s: 600.0,
        ..defaults
    };
    let rates: [(&str, f64); 10] = [
        ("1 GB/min (claude-code#31414)", 60.0 * 1024.0),
        ("450 MB/min (claude-code#67433)", 450.0 * 60.0),
        ("100 MiB/min", 6000.0),
        ("15 GB/18 h (claude-code#18859)", 15.0 * 1024.0 / 18.0),
        ("400 MiB/h", 400.0),
        ("200 MiB/h", 200.0),
        ("120 MiB/h", 120.0),
        ("50 MiB/h (under the threshold)", 50.0),
        ("10 MiB/h", 10.0),
        ("none (the sawtooth alone)", 0.0),
    ];
    println!(
        "leak detection delay (idle samples at 1 Hz from 400 MiB, ±10 MiB noise, 20 MiB GC sawtooth)"
    );
    println!(
        "{:<34} {:>18} {:>22}",
        "leak rate", "defaults", "--leak-window 600"
    );
    for (name, mib_per_hour) in rates {
        let horizon = 24 * 3600;
        println!(
            "{:<34} {:>18} {:>22}",
            name,
            shown(delay(mib_per_hour, &defaults, horizon)),
            shown(delay(mib_per_hour, &ten_minutes, horizon)),
        );
    }
}

/// A day of live observations: ten processes sampled at 1 Hz, the first leaking 200 MiB/h
/// while idle, and a turn every 10 minutes (a 20 s main-loop call, then a memory extraction).
fn live_day() -> (Vec<MemorySample>, Vec<Call>) {
    let points = series(86_400, 200.0);
    let samples = points
        .iter()
        .map(|&(t, bytes)| {
            let processes: Vec<ProcessMemory> = (1..=10)
                .map(|pid| ProcessMemory {
                    pid,
                    rss_bytes: if pid == 1 { bytes as u64 } else { 100 << 20 },
                    pss_bytes: None,
                })
                .collect();
            MemorySample {
                t,
                rss_bytes: processes.iter().map(|p| p.rss_bytes).sum(),
                pss_bytes: None,
                main: Default::default(),
                subagent: Default::default(),
                other: Default::default(),
                processes,
            }
        })
        .collect();
    let mut calls = Vec::new();
    for k in 0..144u64 {
        let start = 30.0 + k as f64 * 600.0;
        for (i, category, offset) in [
            (0, Category::UserTurn, 0.0),
            (1, Category::MemoryExtraction, 21.0),
        ] {
            calls.push(Call {
                id: 2 * k + i,
                t_start: start + offset,
                t_end: Some(start + offset + 20.0),
                model: Some("claude-sonnet-4-5".into()),
                usage: Some(Usage {
                    input_tokens: 10,
                    output_tokens: 500,
                    cache_read_input_tokens: 50_000,
                    cache_creation_input_tokens: 2_000,
                    ..Usage::default()
                }),
                session_id: Some("s".into()),
                category,
                starts_turn: i == 0,
                ..Call::blank()
            });
        }
    }
    (samples, calls)
}

/// A fresh exporter's findings, fed `samples` and `calls` interleaved by time.
fn fed(samples: &[MemorySample], calls: &[Call]) -> LiveFindings {
    let live = LiveFindings::new(Thresholds::default(), PriceTable::bundled());
    let mut calls = calls.iter().peekable();
    for sample in samples {
        while let Some(call) = calls.next_if(|c| c.t_end.is_some_and(|end| end <= sample.t)) {
            live.on_call_start(call);
            live.on_call(call);
        }
        live.on_memory(sample);
    }
    live
}

fn bench(c: &mut Criterion) {
    // The table scans days of samples: a measurement for `cargo bench`, not for the one-pass
    // smoke run `cargo test --all-targets` makes of every bench (unoptimised), which checks the
    // delay of one leak instead.
    if std::env::args().any(|arg| arg == "--bench") {
        print_delays();
    } else {
        let found = delay(60.0 * 1024.0, &LeakThresholds::default(), 900);
        assert_eq!(
            found,
            Some(430),
            "1 GB/min is found after 7.2 min of idle samples"
        );
    }
    let day = series(86_400, 200.0);
    let limits = LeakThresholds::default();
    c.bench_function("leak verdict over a day of 1 Hz samples", |b| {
        b.iter(|| judge(std::hint::black_box(&day), &[], &limits))
    });
    let (samples, calls) = live_day();
    let mut group = c.benchmark_group("live findings");
    group.sample_size(10);
    group.bench_function(
        "one evaluation after a day (10 processes, 288 calls)",
        |b| {
            b.iter_batched(
                || fed(&samples, &calls),
                |live| assert!(live.refresh(Instant::now())),
                BatchSize::LargeInput,
            )
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
