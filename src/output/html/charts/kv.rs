//! Server KV-cache bytes over time, stacked by category — under an assumed model architecture,
//! which the title names: the served model's is not public.

use plotters::prelude::*;

use super::{
    Chart, ChartError, category_legend, headroom, legend_note, mesh, render, title_font, wrap,
};
use crate::observation::Category;
use crate::output::html::series::ReportSeries;
use crate::output::html::{palette, thin, units};

/// Time bins the step function is thinned to.
const BINS: usize = 1200;

pub fn chart(series: &ReportSeries, profile: &str, assumption: &str) -> Result<Chart, ChartError> {
    let span = series.span_s.max(series.kv.last().map_or(0.0, |r| r.0));
    let rows = thin::steps(&series.kv, span, BINS);
    let max = rows
        .iter()
        .map(|r| r.1.iter().sum::<u64>())
        .max()
        .unwrap_or(0) as f64;
    let y_scale = units::bytes(max);
    let x_scale = units::time(span);
    let y_top = headroom(y_scale.of(max));
    let x_end = x_scale.of(span).max(1e-9);
    let used: Vec<usize> = (0..Category::ALL.len())
        .filter(|&i| rows.iter().any(|r| r.1[i] > 0))
        .collect();

    render("server-kv", (1300, 440), |plot, side| {
        let mut chart = ChartBuilder::on(plot)
            .caption(
                format!("Server KV cache over time by category (assumed profile {profile})"),
                title_font(),
            )
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(76)
            .build_cartesian_2d(0.0..x_end, 0.0..y_top)?;
        mesh(
            &mut chart,
            &format!("time since start ({})", x_scale.unit),
            &format!("server KV ({})", y_scale.unit),
            12,
        )?;
        // Each category is the band between the sum of those before it and that sum plus
        // its own bytes; steps hold until the next row.
        let mut below = vec![0.0f64; rows.len()];
        for &i in &used {
            let above: Vec<f64> = rows
                .iter()
                .zip(&below)
                .map(|(r, b)| b + y_scale.of(r.1[i] as f64))
                .collect();
            let mut outline = Vec::with_capacity(rows.len() * 4);
            for (k, r) in rows.iter().enumerate() {
                let x = x_scale.of(r.0);
                let next = rows.get(k + 1).map_or(x_end, |n| x_scale.of(n.0));
                outline.push((x, above[k]));
                outline.push((next, above[k]));
            }
            for (k, r) in rows.iter().enumerate().rev() {
                let x = x_scale.of(r.0);
                let next = rows.get(k + 1).map_or(x_end, |n| x_scale.of(n.0));
                outline.push((next, below[k]));
                outline.push((x, below[k]));
            }
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                palette::category(Category::ALL[i]).rgb().filled(),
            )))?;
            below = above;
        }
        let free_row = category_legend(side, used.iter().map(|&i| Category::ALL[i]))?;
        let mut note = wrap(&format!("assumption: {assumption}"), 26);
        note.truncate(8);
        legend_note(side, free_row, &note)
    })
}
