//! Latency (start to last byte) and time to first token, as distributions by category: one
//! cumulative curve per category on a log time axis, so a 300 ms helper call and a 40 s main
//! turn are both readable. The axis is drawn in log10 of the time, with ticks at 1, 2 and 5 of
//! each decade labelled in the axis unit.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ticked::TickedAxis;
use super::{Chart, ChartError, Mark, axis_font, label_font, legend, render, title_font};
use crate::observation::Category;
use crate::output::html::series::CallTiming;
use crate::output::html::units::{Scale, tick};
use crate::output::html::{palette, thin};

/// Shortest time drawn: a zero-length call sits at the axis's left end.
const FLOOR_S: f64 = 1e-5;
/// Points per curve at most: more calls are drawn at evenly spaced ranks.
const CDF_POINTS: usize = 500;

pub fn chart(calls: &[CallTiming]) -> Result<Chart, ChartError> {
    let latency = by_category(calls, |c| Some(c.latency_s));
    let ttft = by_category(calls, |c| c.ttft_s);
    let all = latency
        .iter()
        .chain(&ttft)
        .flat_map(|(_, v)| v.iter().copied());
    let (lo, hi) = all.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() {
        (lo, hi)
    } else {
        (FLOOR_S, 1.0)
    };
    let unit = if hi < 2.0 {
        Scale {
            divisor: 1e-3,
            unit: "ms",
        }
    } else {
        Scale {
            divisor: 1.0,
            unit: "s",
        }
    };
    // log10 of the time in `unit`, with some room either side.
    let (x0, x1) = (unit.of(lo).log10() - 0.15, unit.of(hi).log10() + 0.15);
    let (x0, x1) = if x1 - x0 < 0.6 {
        let mid = (x0 + x1) / 2.0;
        (mid - 0.3, mid + 0.3)
    } else {
        (x0, x1)
    };
    let ticks = log_ticks(x0, x1);
    let used: Vec<Category> = latency.iter().map(|(c, _)| *c).collect();

    render("latency", (1300, 420), |plot, side| {
        let (left, right) = plot.split_horizontally(plot.dim_in_pixel().0 / 2);
        for (area, title, data) in [
            (&left, "Latency (start to last byte)", &latency),
            (&right, "Time to first token", &ttft),
        ] {
            let mut chart = ChartBuilder::on(area)
                .caption(title, title_font())
                .margin(12)
                .x_label_area_size(48)
                .y_label_area_size(64)
                .build_cartesian_2d(
                    // In log10 of the time: plotters' own log axis ticks only whole decades,
                    // which leaves most charts here with one label.
                    TickedAxis::new(x0..x1, ticks.clone()),
                    0.0..100.0,
                )?;
            chart
                .configure_mesh()
                .x_desc(format!("time ({}, log scale)", unit.unit))
                .y_desc("calls at or below (%)")
                .x_labels(ticks.len())
                .y_labels(6)
                .x_label_formatter(&|v| tick(10f64.powf(*v)))
                .y_label_formatter(&|v| tick(*v))
                .axis_desc_style(axis_font())
                .label_style(label_font())
                .bold_line_style(RGBColor(0xE4, 0xE4, 0xE4))
                .light_line_style(TRANSPARENT)
                .draw()?;
            if data.is_empty() {
                chart.draw_series(std::iter::once(Text::new(
                    "no first-byte times in this trace",
                    ((x0 + x1) / 2.0, 50.0),
                    label_font().pos(Pos::new(HPos::Center, VPos::Center)),
                )))?;
            }
            for (category, values) in data.iter() {
                let points = thin::cdf(values, CDF_POINTS)
                    .into_iter()
                    .map(|(v, share)| (unit.of(v).log10(), share));
                chart.draw_series(LineSeries::new(
                    points,
                    palette::category(*category).rgb().stroke_width(3),
                ))?;
            }
        }
        let entries: Vec<(String, Mark)> = used
            .iter()
            .map(|c| {
                let n = latency
                    .iter()
                    .find(|(k, _)| k == c)
                    .map_or(0, |(_, v)| v.len());
                (format!("{c} ({n})"), Mark::Line(palette::category(*c), 3))
            })
            .collect();
        legend(side, "category (calls)", &entries)
    })
}

/// log10 positions of 1, 2 and 5 times each power of ten in `[x0, x1]`; over more than three
/// decades only the powers of ten, over more than eight every other one.
fn log_ticks(x0: f64, x1: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let first = x0.floor() as i32;
    let last = x1.ceil() as i32;
    let decades = x1 - x0;
    let (multiples, every): (&[f64], i32) = if decades > 8.0 {
        (&[1.0], 2)
    } else if decades > 3.0 {
        (&[1.0], 1)
    } else {
        (&[1.0, 2.0, 5.0], 1)
    };
    for decade in (first..=last).filter(|d| d.rem_euclid(every) == 0) {
        for &m in multiples {
            let x = f64::from(decade) + m.log10();
            if x >= x0 && x <= x1 {
                ticks.push(x);
            }
        }
    }
    ticks
}

/// Sorted values per category that has any.
fn by_category(
    calls: &[CallTiming],
    value: impl Fn(&CallTiming) -> Option<f64>,
) -> Vec<(Category, Vec<f64>)> {
    Category::ALL
        .into_iter()
        .filter_map(|category| {
            let mut values: Vec<f64> = calls
                .iter()
                .filter(|c| c.category == category)
                .filter_map(&value)
                .filter(|v| v.is_finite())
                .map(|v| v.max(FLOOR_S))
                .collect();
            values.sort_by(f64::total_cmp);
            (!values.is_empty()).then_some((category, values))
        })
        .collect()
}

/// The value at `q` (0–1) of sorted values (nearest rank).
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Sorted latencies and times to first token of one category.
pub fn sorted_of(calls: &[CallTiming], category: Category) -> (Vec<f64>, Vec<f64>) {
    let mut latency: Vec<f64> = calls
        .iter()
        .filter(|c| c.category == category)
        .map(|c| c.latency_s)
        .collect();
    let mut ttft: Vec<f64> = calls
        .iter()
        .filter(|c| c.category == category)
        .filter_map(|c| c.ttft_s)
        .collect();
    latency.sort_by(f64::total_cmp);
    ttft.sort_by(f64::total_cmp);
    (latency, ttft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_fall_on_one_two_five() {
        let ticks = log_ticks(-0.5, 1.5);
        let values: Vec<String> = ticks.iter().map(|x| tick(10f64.powf(*x))).collect();
        assert_eq!(values, vec!["0.5", "1", "2", "5", "10", "20"]);
        let wide: Vec<String> = log_ticks(-5.2, 1.5)
            .iter()
            .map(|x| tick(10f64.powf(*x)))
            .collect();
        assert_eq!(
            wide,
            vec!["0.00001", "0.0001", "0.001", "0.01", "0.1", "1", "10"]
        );
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), Some(2.0));
        assert_eq!(quantile(&v, 0.95), Some(4.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
