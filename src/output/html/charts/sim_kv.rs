//! Server KV of a simulated fleet over the simulated time: per time bucket, the sum over
//! sessions of each one's highest level (the figure `server_kv.peak_bytes` is the maximum
//! of), mean over trials — under the assumed profile the title names.

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{
    Chart, ChartError, Mark, headroom, legend, legend_note, mesh, render, title_font, wrap,
};
use crate::output::html::palette::{ALL, MARK};
use crate::output::html::units;
use crate::simulate::results::Run;

pub fn chart(run: &Run, id: &str, size: (u32, u32)) -> Result<Chart, ChartError> {
    let kv = &run.charts.kv_bytes;
    let bucket = run.charts.kv_bucket_s.max(1e-9);
    let span = bucket * kv.len() as f64;
    let x_scale = if span >= 2.0 * 86400.0 {
        units::Scale {
            divisor: 86400.0,
            unit: "days",
        }
    } else {
        units::time(span)
    };
    let max = kv.iter().copied().max().unwrap_or(0) as f64;
    let y_scale = units::bytes(max.max(run.server_kv.mean_bytes as f64));
    let y_top = headroom(y_scale.of(max));
    let x_end = x_scale.of(span).max(1e-9);
    let mean = y_scale.of(run.server_kv.mean_bytes as f64);

    render(id, size, |plot, side| {
        let mut chart = ChartBuilder::on(plot)
            .caption(
                format!("Server KV over time ({})", run.server_kv.profile),
                title_font(),
            )
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_end, 0.0..y_top)?;
        mesh(
            &mut chart,
            &format!("simulated time ({})", x_scale.unit),
            &format!("server KV ({})", y_scale.unit),
            8,
        )?;
        let points: Vec<(f64, f64)> = kv
            .iter()
            .enumerate()
            .flat_map(|(i, &b)| {
                let y = y_scale.of(b as f64);
                [
                    (x_scale.of(i as f64 * bucket), y),
                    (x_scale.of((i + 1) as f64 * bucket), y),
                ]
            })
            .collect();
        chart.draw_series(AreaSeries::new(
            points.iter().copied(),
            0.0,
            ALL.rgb().mix(0.3).filled(),
        ))?;
        chart.draw_series(LineSeries::new(points, ALL.rgb().stroke_width(1)))?;
        chart.draw_series(std::iter::once(DashedPathElement::new(
            vec![(0.0, mean), (x_end, mean)],
            6,
            4,
            MARK.rgb().stroke_width(2),
        )))?;
        let entries = [
            ("fleet KV (mean of trials)".to_string(), Mark::Fill(ALL)),
            ("mean".to_string(), Mark::Dashed(MARK)),
        ];
        legend(side, "server KV", &entries)?;
        let mut note = vec![
            format!(
                "peak {} (trials' mean)",
                units::byte_text(run.server_kv.peak_bytes)
            ),
            format!("mean {}", units::byte_text(run.server_kv.mean_bytes)),
            format!("{:.1} GiB·h", run.server_kv.gib_hours),
        ];
        note.extend(wrap(&format!("assumed: {}", run.server_kv.profile), 26));
        legend_note(side, entries.len() + 1, &note)
    })
}
