//! `agentprof report TRACE…`: the figures of one or more traces, as tables or JSON on stdout,
//! and with `--html DIR` as a page with charts.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{html, options, progress};
use crate::attribute::kv::DEFAULT_PROFILE;
use crate::attribute::period::TimeWindow;
use crate::attribute::summary::ReportOptions;
use crate::attribute::{Summary, summarize};
use crate::cli::ReportArgs;
use crate::error::InputError;
use crate::output::html::write_report;
use crate::output::report::{json, table};
use crate::output::trace::{ReadTrace, read_trace_with_progress};

/// Traces past this many bytes in all get a progress bar while they are read.
const LARGE_BYTES: u64 = 64 << 20;

/// The `report` command.
pub fn run(args: ReportArgs) -> anyhow::Result<i32> {
    // A bad --html DIR fails before any reading, and leaves nothing behind.
    let target = args.html.as_deref().map(html::target).transpose()?;
    let rows = options::rows(&args.rows)?;
    let findings = options::findings(&args.findings)?;
    let mut traces = read_all(&args.traces)?;
    if rows.window.is_bounded() {
        for trace in &mut traces {
            keep_window(trace, &rows.window);
        }
    }
    let prices = options::prices(args.prices.as_deref())?;
    // The profile the trace was recorded with, unless the user asks for another.
    let recorded = traces.first().and_then(|t| t.header.kv_profile.clone());
    let profile_name = args
        .kv_profile
        .or(recorded)
        .unwrap_or_else(|| DEFAULT_PROFILE.to_string());
    let kv_profile = options::kv_profile(&profile_name)?;
    let summary = summarize(
        &traces,
        &ReportOptions {
            prices: &prices,
            kv_profile,
            rows: &rows,
            findings,
        },
    );
    if let Some(target) = &target {
        let index =
            write_report(target, &summary, &traces, &prices, kv_profile).map_err(html::error)?;
        html::announce(&index);
    }
    print(&summary, args.json)?;
    Ok(0)
}

/// Reads every trace; a bar on stderr when they are large and stderr is a terminal.
pub(super) fn read_all(paths: &[std::path::PathBuf]) -> anyhow::Result<Vec<ReadTrace>> {
    let total: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = (total >= LARGE_BYTES)
        .then(|| {
            progress::bar(
                total,
                "reading traces {wide_bar} {bytes}/{total_bytes} ({eta} left)",
            )
        })
        .flatten();
    let done = AtomicU64::new(0);
    let tick = |n: u64| {
        if let Some(bar) = &bar {
            bar.set_position(done.fetch_add(n, Ordering::Relaxed) + n);
        }
    };
    let mut traces = Vec::with_capacity(paths.len());
    for path in paths {
        traces.push(
            read_trace_with_progress(path, &tick).map_err(|e| InputError::new(e.to_string()))?,
        );
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(traces)
}

/// Keeps the calls made inside `window` (`--since`, `--until`), and the memory samples and
/// other requests of those days.
fn keep_window(trace: &mut ReadTrace, window: &TimeWindow) {
    let Ok(origin) = trace.header.started_at.parse::<jiff::Timestamp>() else {
        return;
    };
    let origin_ms = origin.as_millisecond();
    let inside = |t: f64| window.contains(origin_ms + (t * 1000.0).round() as i64);
    trace.calls.retain(|c| inside(c.t_start));
    trace.samples.retain(|s| inside(s.t));
}

/// Prints a report on stdout: JSON alone, or the tables led by the rows' `--by`. One write
/// per 64 KiB, not per line: a long history is a report of many lines.
pub(super) fn print(summary: &Summary, as_json: bool) -> std::io::Result<()> {
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    if as_json {
        json::write(summary, &mut stdout)?;
    } else {
        table::write(summary, &mut stdout)?;
    }
    stdout.flush()
}
