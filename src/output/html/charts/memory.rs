//! RSS and PSS of the agent's process tree over time, per process role, over each category's
//! call windows (shaded) and the turn boundaries (dashed, numbered), with where a memory leak
//! was found to begin (a red line).

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{Chart, ChartError, Mark, axis_font, headroom, legend, mesh, render, title_font};
use crate::observation::{Category, ProcessRole};
use crate::output::html::palette::{self, FINDING, MARK, TREE};
use crate::output::html::series::ReportSeries;
use crate::output::html::{thin, units};

/// Points per line: about one per horizontal pixel.
const MAX_POINTS: usize = 1200;
/// Turn numbers above the plot: at most this many, evenly picked.
const MAX_TURN_LABELS: usize = 20;
/// Turn lines closer than this share of the time axis are drawn as one.
const TURN_LINE_GAP: f64 = 1.0 / 400.0;
/// Up to this many turn lines are dashed; more are thin solid lines (a dashed line is
/// dozens of SVG elements).
const DASHED_TURN_LINES: usize = 80;
/// Leak labels are written on this many rows, one under the other, before starting over.
const LEAK_LABEL_ROWS: usize = 6;

/// A memory leak's start, to mark on the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LeakMark {
    /// Seconds on the series' time axis.
    pub t: f64,
    /// What it is, written beside the line (`leak 5780 MiB/h`).
    pub label: String,
}

pub fn chart(series: &ReportSeries, leaks: &[LeakMark]) -> Result<Chart, ChartError> {
    let lines: Vec<_> = series
        .memory
        .iter()
        .map(|line| thin::memory(line, MAX_POINTS))
        .collect();
    let points = || lines.iter().flatten();
    let max_rss = points().map(|p| p.rss).max().unwrap_or(0) as f64;
    let max_pss = points().filter_map(|p| p.pss).max().unwrap_or(0) as f64;
    let y_scale = units::bytes(max_rss.max(max_pss));
    let span = series.span_s.max(points().map(|p| p.t).fold(0.0, f64::max));
    let x_scale = units::time(span);
    let y_top = headroom(y_scale.of(max_rss.max(max_pss)));
    let x_end = x_scale.of(span).max(1e-9);
    let windows = thin::windows(&series.windows, span / 1500.0);
    let turn_lines = thin::instants(series.turns.iter().map(|t| t.1), span * TURN_LINE_GAP);
    let mut roles: Vec<ProcessRole> = ProcessRole::ALL
        .into_iter()
        .enumerate()
        .filter(|(i, _)| points().any(|p| p.roles[*i] > 0))
        .map(|(_, r)| r)
        .collect();
    // A tree of one role is that role: its line would hide under the tree's.
    let only = (roles.len() == 1).then(|| roles[0]);
    if only.is_some() {
        roles.clear();
    }

    render("memory", (1300, 460), |plot, side| {
        let mut chart = ChartBuilder::on(plot)
            .caption(
                "Memory of the agent's process tree over time (RSS, PSS)",
                title_font(),
            )
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(76)
            .build_cartesian_2d(0.0..x_end, 0.0..y_top)?;
        mesh(
            &mut chart,
            &format!("time since start ({})", x_scale.unit),
            &format!("memory ({})", y_scale.unit),
            12,
        )?;
        chart.draw_series(windows.iter().map(|w| {
            let colour = palette::category(w.category).rgb();
            let (start, end) = (x_scale.of(w.start), x_scale.of(w.end));
            // A window narrower than a pixel still shows.
            let end = end.max(start + x_end / 1000.0);
            Rectangle::new([(start, 0.0), (end, y_top)], colour.mix(0.22).filled())
        }))?;
        let every = label_step(series.turns.len());
        for (k, &(number, t)) in series.turns.iter().enumerate() {
            if k % every == 0 {
                chart.draw_series(std::iter::once(Text::new(
                    format!("T{number}"),
                    (x_scale.of(t), y_top),
                    axis_font().color(&MARK.rgb()),
                )))?;
            }
        }
        let dashed = turn_lines.len() <= DASHED_TURN_LINES;
        for &t in &turn_lines {
            let x = x_scale.of(t);
            if dashed {
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    vec![(x, 0.0), (x, y_top)],
                    4,
                    4,
                    MARK.rgb().stroke_width(1),
                )))?;
            } else {
                // Too many to draw across the data: a tick under the turn numbers.
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x, y_top * 0.97), (x, y_top)],
                    MARK.rgb().stroke_width(1),
                )))?;
            }
        }
        for line in &lines {
            for (i, role) in ProcessRole::ALL.into_iter().enumerate() {
                if !roles.contains(&role) {
                    continue;
                }
                chart.draw_series(LineSeries::new(
                    line.iter()
                        .map(|p| (x_scale.of(p.t), y_scale.of(p.roles[i] as f64))),
                    palette::role(role).rgb().stroke_width(2),
                ))?;
            }
            chart.draw_series(LineSeries::new(
                line.iter()
                    .map(|p| (x_scale.of(p.t), y_scale.of(p.rss as f64))),
                TREE.rgb().stroke_width(3),
            ))?;
            chart.draw_series(DashedLineSeries::new(
                line.iter()
                    .filter_map(|p| Some((x_scale.of(p.t), y_scale.of(p.pss? as f64)))),
                6,
                4,
                TREE.rgb().stroke_width(2),
            ))?;
        }

        for (k, leak) in leaks.iter().enumerate() {
            let x = x_scale.of(leak.t);
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x, 0.0), (x, y_top)],
                FINDING.rgb().stroke_width(2),
            )))?;
            // Labels a line apart: the tree and its leaking process begin seconds apart.
            let y = y_top * (0.93 - 0.06 * (k % LEAK_LABEL_ROWS) as f64);
            chart.draw_series(std::iter::once(Text::new(
                leak.label.clone(),
                (x + x_end / 200.0, y),
                axis_font().color(&FINDING.rgb()),
            )))?;
        }

        let tree = match only {
            Some(role) => format!("tree RSS (all {})", role.as_str()),
            None => "tree RSS".to_string(),
        };
        let mut entries = vec![(tree, Mark::Line(TREE, 3))];
        for role in &roles {
            entries.push((
                format!("{} RSS", role.as_str()),
                Mark::Line(palette::role(*role), 2),
            ));
        }
        if max_pss > 0.0 {
            entries.push(("tree PSS".to_string(), Mark::Dashed(TREE)));
        }
        if !series.turns.is_empty() {
            let label = if turn_lines.len() < series.turns.len() {
                format!("turn starts ({})", series.turns.len())
            } else {
                "turn start".to_string()
            };
            entries.push((label, Mark::Dashed(MARK)));
        }
        if !leaks.is_empty() {
            entries.push(("memory leak from".to_string(), Mark::Line(FINDING, 2)));
        }
        for category in Category::ALL {
            if windows.iter().any(|w| w.category == category) {
                entries.push((
                    format!("{category} calls"),
                    Mark::Fill(palette::category(category)),
                ));
            }
        }
        legend(side, "lines · shaded calls", &entries)
    })
}

/// Every how many turns a number is written: 1, 2, 5, 10, 20, 50, … so that at most
/// [`MAX_TURN_LABELS`] appear (turn 1 and every multiple of the step after it).
fn label_step(turns: usize) -> usize {
    let mut decade = 1usize;
    loop {
        for m in [1, 2, 5] {
            let step = m * decade;
            if turns.div_ceil(step) <= MAX_TURN_LABELS {
                return step;
            }
        }
        decade = decade.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_numbers_step_by_one_two_five() {
        assert_eq!(label_step(6), 1);
        assert_eq!(label_step(31), 2);
        assert_eq!(label_step(100), 5);
        assert_eq!(label_step(18_000), 1000);
    }
}
