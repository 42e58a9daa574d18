//! Throughput of `import claude-code` on a generated 64 MB history and of `import codex` on a
//! generated 64 MB Codex history: the whole import (one thread and two), and the report computed
//! from it. Bytes per second are printed by criterion (`Throughput::Bytes`);
//! `scripts/bench-import` (and `scripts/bench-import codex`) measure against ccusage.

use agentprof::agents::codex_history::{self, HistoryOptions};
use agentprof::attribute::cost::PriceTable;
use agentprof::attribute::kv::{DEFAULT_PROFILE, KvProfile};
use agentprof::attribute::summary::ReportOptions;
use agentprof::capture::transcripts::{ImportOptions, Progress, import};
use agentprof::demo::codex_rollouts;
use agentprof::demo::transcript_corpus::generate_in;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("no temporary directory; skipping the import bench");
        return;
    };
    let truth = match generate_in(dir.path(), 64 << 20, 7) {
        Ok(truth) => truth,
        Err(err) => {
            eprintln!("cannot generate a history ({err}); skipping the import bench");
            return;
        }
    };
    let options = |threads| ImportOptions {
        dir: Some(dir.path().to_path_buf()),
        threads,
        ..ImportOptions::default()
    };

    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(truth.bytes));
    for threads in [1, 2] {
        group.bench_function(format!("claude_code_{threads}_threads"), |b| {
            b.iter(|| import(&options(threads), &Progress::default()).map(|i| i.calls.len()))
        });
    }
    group.finish();

    let Ok(imported) = import(&options(0), &Progress::default()) else {
        return;
    };
    let prices = PriceTable::bundled();
    let Ok(profile) = KvProfile::from_name(DEFAULT_PROFILE) else {
        return;
    };
    let rows = agentprof::attribute::rows::RowsSpec::by_category();
    let report = ReportOptions {
        prices: &prices,
        kv_profile: profile,
        rows: &rows,
        findings: Default::default(),
    };
    c.bench_function("import/report_from_calls", |b| {
        b.iter(|| imported.summarize(&report).turns.len())
    });
}

fn bench_codex(c: &mut Criterion) {
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("no temporary directory; skipping the codex import bench");
        return;
    };
    let truth = match codex_rollouts::generate_in(dir.path(), 64 << 20, 7) {
        Ok(truth) => truth,
        Err(err) => {
            eprintln!("cannot generate a Codex history ({err}); skipping the codex import bench");
            return;
        }
    };
    let options = |threads| HistoryOptions {
        dir: Some(dir.path().to_path_buf()),
        threads,
        ..HistoryOptions::default()
    };
    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(truth.bytes));
    for threads in [1, 2] {
        group.bench_function(format!("codex_{threads}_threads"), |b| {
            b.iter(|| codex_history::import(&options(threads)).map(|h| h.calls.len()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench, bench_codex);
criterion_main!(benches);
