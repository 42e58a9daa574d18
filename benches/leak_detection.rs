//! How soon a memory leak is found, by leak rate, and what judging costs.
//!
//! First a table, printed before criterion runs: for each leak rate — the ones users reported
//! and slower ones down to the threshold — the idle time after which the verdict first says
//! "leak" with the default thresholds, and with 10-minute windows (`--leak-window 600`).
//! The series is one sample a second from 400 MiB, with ±10 MiB of deterministic noise and a
//! garbage-collection sawtooth of 20 MiB every 3 minutes: quieter than a real Node agent, so the
//! delays are a lower bound. Then criterion times one verdict over a day of samples (86 400),
//! which `report` and the live Prometheus exporter pay per trace or evaluation.

use agentprof::attribute::findings::leak::{LeakThresholds, judge};
use criterion::{Criterion, criterion_group, criterion_main};

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

fn bench(c: &mut Criterion) {
    print_delays();
    let day = series(86_400, 200.0);
    let limits = LeakThresholds::default();
    c.bench_function("leak verdict over a day of 1 Hz samples", |b| {
        b.iter(|| judge(std::hint::black_box(&day), &[], &limits))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
