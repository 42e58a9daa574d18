//! Overhead share per calendar day: of each day's tokens (bars) and of its cost (a line with
//! dots), the part not spent on `user_turn` — the agent managing itself (sub-agents, memory
//! extraction, compaction, summaries, utility calls) rather than answering the user. The same
//! definition as `--by day`'s `overhead_share` and `overhead_cost_share`, on the same days as
//! the cost chart above it.
//!
//! A day without calls is a gap; a day whose cost is unknown (a model without a price) has a
//! bar but no point on the cost line, which breaks there rather than dipping to 0 %.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::day_axis::{DayAxis, HEIGHT, YAxis, frame};
use super::{Chart, ChartError, Mark, label_font, legend, legend_note, render};
use crate::attribute::UsageTotals;
use crate::attribute::rows::overhead_shares;
use crate::output::html::days::Calendar;
use crate::output::html::palette::{ALL, OVERHEAD};

/// Up to this many days, each bar carries its share above it.
const LABELLED_DAYS: usize = 31;

/// Each day with calls: (index on the axis, share of tokens %, share of cost % when known).
pub fn shares(calendar: &Calendar) -> Vec<(usize, Option<f64>, Option<f64>)> {
    calendar
        .days
        .iter()
        .enumerate()
        .filter_map(|(i, day)| {
            let calls = day.calls.as_ref()?;
            let percent = |s: Option<f64>| s.map(|s| s * 100.0);
            Some((
                i,
                percent(calls.overhead_share),
                percent(calls.overhead_cost_share),
            ))
        })
        .collect()
}

/// Runs of consecutive days that have a cost share: the cost line's pieces.
pub fn cost_runs(shares: &[(usize, Option<f64>, Option<f64>)]) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut last: Option<usize> = None;
    for &(i, _, cost) in shares {
        let Some(cost) = cost else {
            last = None;
            continue;
        };
        let point = (i as f64, cost);
        match runs.last_mut() {
            Some(run) if last.is_some_and(|l| l + 1 == i) => run.push(point),
            _ => runs.push(vec![point]),
        }
        last = Some(i);
    }
    runs
}

/// The chart of the calendar's days (at least one).
pub fn chart(calendar: &Calendar) -> Result<Chart, ChartError> {
    let shares = shares(calendar);
    let runs = cost_runs(&shares);
    let first = calendar.days.first().map(|d| d.date).unwrap_or_default();
    let axis = DayAxis::new(first, calendar.days.len());
    let note = legend_lines(calendar, &shares);

    render("daily-overhead", (axis.width, HEIGHT), |plot, side| {
        let format = |v: &f64| format!("{v:.0}");
        let mut chart = frame(
            plot,
            "Overhead share per day (everything but user_turn)",
            &axis,
            &calendar.zone,
            YAxis {
                top: 105.0,
                desc: "overhead share (%)",
                format: &format,
            },
        )?;
        chart.draw_series(shares.iter().filter_map(|&(i, tokens, _)| {
            let (x0, x1) = axis.bar(i);
            Some(Rectangle::new(
                [(x0, 0.0), (x1, tokens?)],
                OVERHEAD.rgb().filled(),
            ))
        }))?;
        let dot = if axis.day_px() < 6.0 { 2 } else { 3 };
        for run in &runs {
            chart.draw_series(LineSeries::new(
                run.iter().copied(),
                ALL.rgb().stroke_width(2),
            ))?;
            chart.draw_series(run.iter().map(|&p| Circle::new(p, dot, ALL.rgb().filled())))?;
        }
        if calendar.days.len() <= LABELLED_DAYS {
            let style = label_font().pos(Pos::new(HPos::Center, VPos::Bottom));
            chart.draw_series(shares.iter().filter_map(|&(i, tokens, _)| {
                let tokens = tokens?;
                Some(Text::new(
                    format!("{tokens:.0} %"),
                    (i as f64, tokens + 1.5),
                    style.clone(),
                ))
            }))?;
        }
        let entries = [
            ("of tokens".to_string(), Mark::Fill(OVERHEAD)),
            ("of cost".to_string(), Mark::Dot(ALL)),
        ];
        legend(side, "overhead share", &entries)?;
        legend_note(side, entries.len() + 1, &note)
    })
}

/// The whole calendar's shares, and what a missing cost point means.
fn legend_lines(calendar: &Calendar, shares: &[(usize, Option<f64>, Option<f64>)]) -> Vec<String> {
    let mut total = UsageTotals::default();
    let mut user = UsageTotals::default();
    for calls in calendar.days.iter().filter_map(|d| d.calls.as_ref()) {
        total.merge(&calls.totals);
        user.merge(&calls.by_category[0]);
    }
    let (tokens, cost) = overhead_shares(&total, &user);
    let percent = |s: Option<f64>| s.map_or("n/a".to_string(), |s| format!("{:.1} %", s * 100.0));
    let mut lines = vec![
        "all days:".to_string(),
        format!("{} of tokens", percent(tokens)),
        format!("{} of cost", percent(cost)),
    ];
    let unpriced = shares.iter().filter(|s| s.2.is_none()).count();
    if unpriced > 0 {
        lines.push(format!("unpriced days: {unpriced}"));
        lines.push("(cost unknown: no point)".to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::html::days::tests::row;

    #[test]
    fn shares_are_the_rows_own_and_the_cost_line_breaks_at_gaps_and_unknown_costs() {
        let rows = [
            row("2026-03-01", "a", (75, Some(3.0)), (25, Some(1.0))),
            row("2026-03-02", "a", (50, Some(1.0)), (50, Some(3.0))),
            row("2026-03-03", "a", (50, Some(1.0)), (50, None)),
            row("2026-03-04", "a", (100, Some(1.0)), (0, Some(0.0))),
            row("2026-03-06", "a", (0, Some(0.0)), (10, Some(1.0))),
        ];
        let calendar = Calendar::of(&rows, "UTC");
        let shares = shares(&calendar);
        assert_eq!(
            shares,
            [
                (0, Some(25.0), Some(25.0)),
                (1, Some(50.0), Some(75.0)),
                (2, Some(50.0), None),
                (3, Some(0.0), Some(0.0)),
                (5, Some(100.0), Some(100.0)),
            ]
        );
        assert_eq!(
            cost_runs(&shares),
            [
                vec![(0.0, 25.0), (1.0, 75.0)],
                vec![(3.0, 0.0)],
                vec![(5.0, 100.0)]
            ]
        );
        let svg = chart(&calendar).unwrap().svg;
        assert!(svg.contains("overhead share (%)"));
        assert!(svg.contains("unpriced days: 1"), "{svg}");
        assert!(svg.contains("50 %"), "bars labelled");
    }
}
