//! The time series behind a report's charts, read from the traces the
//! [`Summary`](crate::attribute::Summary) was computed from, with the same attribution: memory
//! per process role, each category's call windows, turn starts, server KV by category, and each
//! call's latency — and the calls by calendar day, `--by day`'s rows whatever `--by` was.
//!
//! Several traces share one clock: seconds since the earliest of them started (by their
//! headers' wall-clock starts), so runs side by side in time are drawn side by side.

use jiff::tz::TimeZone;

use crate::attribute::attribution::attribute;
use crate::attribute::cost::PriceTable;
use crate::attribute::intervals::merged;
use crate::attribute::kv::{KvProfile, server_kv_of};
use crate::attribute::period::TimeWindow;
use crate::attribute::rows::{Columns, Row, RowBy, RowsBuilder, RowsSpec};
use crate::attribute::summary::{IMPORT_MODE, add_rows};
use crate::observation::{Category, ProcessRole};
use crate::output::trace::ReadTrace;

/// Memory of the agent's tree at one tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryPoint {
    pub t: f64,
    pub rss: u64,
    /// RSS per role, in [`ProcessRole::ALL`] order.
    pub roles: [u64; 3],
    /// Tree PSS, on ticks where it was read.
    pub pss: Option<u64>,
}

/// Timing of one finished call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallTiming {
    pub category: Category,
    /// Start to last byte, seconds.
    pub latency_s: f64,
    /// Start to first byte, seconds (streams and answers that had one).
    pub ttft_s: Option<f64>,
}

/// A stretch during which calls of a category were in flight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub category: Category,
    pub start: f64,
    pub end: f64,
}

/// One row of a step function of server KV: from `.0` (seconds) on, bytes by category in
/// [`Category::ALL`] order.
pub type KvRow = (f64, [u64; 8]);

/// Everything the report's time charts draw.
#[derive(Debug, Clone, Default)]
pub struct ReportSeries {
    /// The wall-clock instant of time 0: the earliest trace's start, when known.
    pub origin: Option<jiff::Timestamp>,
    /// Whether any trace was observed live (`run`, `proxy`): only those are judged for
    /// findings; an imported history is not.
    pub observed: bool,
    /// Seconds from the first start to the last observation.
    pub span_s: f64,
    /// One line per trace (a line never jumps from one run to another).
    pub memory: Vec<Vec<MemoryPoint>>,
    pub windows: Vec<Window>,
    /// (turn number as in the report, start time).
    pub turns: Vec<(u32, f64)>,
    /// Server KV bytes by category ([`Category::ALL`] order), a step function.
    pub kv: Vec<KvRow>,
    /// Timings of live calls (imported calls have none).
    pub calls: Vec<CallTiming>,
    /// The calls by calendar day in the report's time zone, and agent: the rows `--by day`
    /// gives, summed by the same code.
    pub days: Vec<Row>,
}

impl ReportSeries {
    pub fn has_memory(&self) -> bool {
        self.memory.iter().any(|line| !line.is_empty())
    }
}

/// Collects the series of `traces`, attributed with `prices` and `profile` as the summary was;
/// days are read in `zone`. The traces are already cut to the report's `--since`/`--until`.
pub fn collect(
    traces: &[ReadTrace],
    prices: &PriceTable,
    profile: &KvProfile,
    zone: &TimeZone,
) -> ReportSeries {
    let starts: Vec<Option<jiff::Timestamp>> = traces
        .iter()
        .map(|t| t.header.started_at.parse::<jiff::Timestamp>().ok())
        .collect();
    let first = starts.iter().flatten().min().copied();
    let mut series = ReportSeries {
        origin: first,
        observed: traces.iter().any(|t| t.header.mode != IMPORT_MODE),
        ..ReportSeries::default()
    };
    let mut kv_parts = Vec::new();
    let mut turn_number = 0u32;
    let mut days = RowsBuilder::new(&RowsSpec {
        by: RowBy::Day,
        columns: Columns::Category,
        zone: zone.clone(),
        window: TimeWindow::all(),
    });
    for (trace, start) in traces.iter().zip(&starts) {
        let offset = match (start, first) {
            (Some(s), Some(f)) => s.duration_since(f).as_secs_f64().max(0.0),
            _ => 0.0,
        };
        series.span_s = series.span_s.max(offset + trace.duration_s());
        series.memory.push(
            trace
                .samples
                .iter()
                .map(|s| MemoryPoint {
                    t: offset + s.t,
                    rss: s.rss_bytes,
                    roles: ProcessRole::ALL.map(|r| s.role(r).rss_bytes),
                    pss: s.pss_bytes,
                })
                .collect(),
        );
        let attributed = attribute(trace, prices);
        // Day rows have no turn column: the turns' numbering does not matter to them.
        add_rows(&mut days, &attributed, 0);
        for &start in &attributed.turns.starts {
            turn_number += 1;
            series
                .turns
                .push((turn_number, offset + attributed.calls[start].call.t_start));
        }
        for category in Category::ALL {
            let spans = attributed
                .calls
                .iter()
                .filter(|a| a.category == category)
                .filter_map(|a| Some((a.call.t_start, a.call.t_end?)))
                .collect();
            series
                .windows
                .extend(merged(spans).into_iter().map(|(s, e)| Window {
                    category,
                    start: offset + s,
                    end: offset + e,
                }));
        }
        // An import's times are when the transcript was written, not when bytes arrived.
        let timed = trace.header.mode != IMPORT_MODE;
        for a in attributed.calls.iter().filter(|_| timed) {
            let Some(end) = a.call.t_end else { continue };
            series.calls.push(CallTiming {
                category: a.category,
                latency_s: (end - a.call.t_start).max(0.0),
                ttft_s: a.call.t_first_byte.map(|f| (f - a.call.t_start).max(0.0)),
            });
        }
        let held = attributed.kv_calls();
        let figures = server_kv_of(held, profile, trace.duration_s(), true);
        kv_parts.push((offset, figures.timeline_by_category));
    }
    series.kv = sum_steps(kv_parts);
    series.days = days.finish(|_| None);
    series
}

/// Adds step functions that start at different offsets: each becomes changes at instants,
/// and the changes of all of them are applied in time order.
fn sum_steps(parts: Vec<(f64, Vec<KvRow>)>) -> Vec<KvRow> {
    if parts.len() == 1 {
        return parts
            .into_iter()
            .flat_map(|(offset, rows)| rows.into_iter().map(move |(t, r)| (offset + t, r)))
            .collect();
    }
    let mut changes: Vec<(f64, [i128; 8])> = Vec::new();
    for (offset, rows) in parts {
        let mut before = [0u64; 8];
        for (t, row) in rows {
            let mut delta = [0i128; 8];
            for i in 0..8 {
                delta[i] = i128::from(row[i]) - i128::from(before[i]);
            }
            changes.push((offset + t, delta));
            before = row;
        }
    }
    changes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut level = [0i128; 8];
    let mut out: Vec<KvRow> = Vec::new();
    for (t, delta) in changes {
        for i in 0..8 {
            level[i] += delta[i];
        }
        let row = level.map(|v| u64::try_from(v.max(0)).unwrap_or(u64::MAX));
        match out.last_mut() {
            Some(last) if last.0 == t => last.1 = row,
            _ => out.push((t, row)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_of_two_traces_add_up() {
        let a = (0.0, vec![(0.0, [1, 0, 0, 0, 0, 0, 0, 0]), (10.0, [0; 8])]);
        let b = (5.0, vec![(0.0, [0, 2, 0, 0, 0, 0, 0, 0]), (10.0, [0; 8])]);
        let sum = sum_steps(vec![a, b]);
        assert_eq!(
            sum,
            vec![
                (0.0, [1, 0, 0, 0, 0, 0, 0, 0]),
                (5.0, [1, 2, 0, 0, 0, 0, 0, 0]),
                (10.0, [0, 2, 0, 0, 0, 0, 0, 0]),
                (15.0, [0; 8]),
            ]
        );
    }
}
