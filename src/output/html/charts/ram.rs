//! Client RAM of one workstation in a simulation: how often its agent processes held how much
//! (a histogram of the samples), with p50/p95/p99 and the recommended workstation size marked.
//!
//! The bulk of the distribution sets the scale: a rare leak far beyond p99 is written as a
//! note (its share and the maximum), and a recommendation far to the right (p99 plus the
//! allowance for the OS, IDE and browser) is marked at the right edge, rather than either
//! squeezing the bars into a sliver.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Chart, ChartError, Mark, label_font, legend, legend_note, mesh, render, title_font};
use crate::output::html::palette::{ALL, MARK, TREE};
use crate::output::html::units;
use crate::simulate::results::Run;

const GIB: f64 = (1u64 << 30) as f64;
/// Bars of the histogram.
const BINS: usize = 50;

/// The x range (bytes) and where the recommendation is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub max: f64,
    /// The recommendation lies within `max` (else it is marked at the right edge).
    pub recommendation_on_scale: bool,
}

/// The range for percentiles `p50`, `p99`, the highest sample and the recommendation.
pub fn range(p50: u64, p99: u64, max: u64, recommended: f64) -> Range {
    let (p50, p99, max) = (p50 as f64, p99 as f64, max as f64);
    let mut hi = (p99 * 1.5).max(p50 * 2.0).max(1.0);
    if max <= hi * 1.3 {
        hi = hi.max(max * 1.05);
    }
    if recommended <= hi * 1.8 {
        return Range {
            max: hi.max(recommended * 1.06),
            recommendation_on_scale: true,
        };
    }
    Range {
        max: hi,
        recommendation_on_scale: false,
    }
}

pub fn chart(run: &Run, id: &str, size: (u32, u32)) -> Result<Chart, ChartError> {
    let samples = &run.charts.ram_samples;
    let ram = &run.client_ram;
    let recommended = f64::from(run.recommended_workstation_ram_gib) * GIB;
    let r = range(ram.p50_bytes, ram.p99_bytes, ram.max_bytes, recommended);
    let x_scale = units::bytes(r.max);
    let width = r.max / BINS as f64;
    let total = samples.iter().map(|s| s.1).sum::<u64>().max(1) as f64;
    let mut bins = vec![0u64; BINS];
    let mut beyond = 0u64;
    for &(bytes, n) in samples {
        let bin = (bytes as f64 / width) as usize;
        match bins.get_mut(bin) {
            Some(count) => *count += n,
            None => beyond += n,
        }
    }
    let shares: Vec<f64> = bins.iter().map(|&n| n as f64 * 100.0 / total).collect();
    let y_top = shares.iter().copied().fold(0.0, f64::max).max(1.0) * 1.18;
    let marks = [
        ("p50", ram.p50_bytes),
        ("p95", ram.p95_bytes),
        ("p99", ram.p99_bytes),
    ];

    render(id, size, |plot, side| {
        let mut chart = ChartBuilder::on(plot)
            .caption("Client RAM per workstation", title_font())
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_scale.of(r.max), 0.0..y_top)?;
        mesh(
            &mut chart,
            &format!("RSS of agent processes ({})", x_scale.unit),
            "share of samples (%)",
            8,
        )?;
        chart.draw_series(shares.iter().enumerate().filter(|(_, s)| **s > 0.0).map(
            |(i, &share)| {
                let x0 = x_scale.of(i as f64 * width);
                let x1 = x_scale.of((i + 1) as f64 * width);
                Rectangle::new([(x0, 0.0), (x1, share)], ALL.rgb().mix(0.55).filled())
            },
        ))?;
        let top = label_font().pos(Pos::new(HPos::Left, VPos::Top));
        for (k, (name, bytes)) in marks.iter().enumerate() {
            let x = x_scale.of(*bytes as f64);
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(x, 0.0), (x, y_top)],
                5,
                4,
                MARK.rgb().stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                name.to_string(),
                (x, y_top * (0.98 - 0.07 * k as f64)),
                top.clone(),
            )))?;
        }
        let x = x_scale.of(if r.recommendation_on_scale {
            recommended
        } else {
            r.max
        });
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x, 0.0), (x, y_top)],
            TREE.rgb().stroke_width(3),
        )))?;
        let label = if r.recommendation_on_scale {
            format!("{} GiB", run.recommended_workstation_ram_gib)
        } else {
            format!("recommended {} GiB →", run.recommended_workstation_ram_gib)
        };
        chart.draw_series(std::iter::once(Text::new(
            label,
            (x, y_top * 0.98),
            label_font().pos(Pos::new(HPos::Right, VPos::Top)),
        )))?;
        let entries = [
            ("samples".to_string(), Mark::Fill(ALL)),
            ("p50 · p95 · p99".to_string(), Mark::Dashed(MARK)),
            (
                format!("recommended {} GiB", run.recommended_workstation_ram_gib),
                Mark::Line(TREE, 3),
            ),
        ];
        legend(side, "client RAM", &entries)?;
        let mut note = vec![
            format!("p50 {}", units::byte_text(ram.p50_bytes)),
            format!("p95 {}", units::byte_text(ram.p95_bytes)),
            format!("p99 {}", units::byte_text(ram.p99_bytes)),
            format!("max {}", units::byte_text(ram.max_bytes)),
        ];
        if beyond > 0 {
            note.push(format!(
                "{:.2} % of samples above",
                beyond as f64 * 100.0 / total
            ));
            note.push("this scale (to the max)".to_string());
        }
        if !r.recommendation_on_scale {
            note.push("recommended: off scale".to_string());
        }
        legend_note(side, entries.len() + 1, &note)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bulk_sets_the_scale_not_a_rare_maximum() {
        let gib = GIB as u64;
        // p99 1 GiB, a leak to 11 GiB, 16 GiB recommended: the scale stops near p99.
        let r = range(gib / 4, gib, 11 * gib, 16.0 * GIB);
        assert!(r.max < 2.0 * GIB, "{r:?}");
        assert!(!r.recommendation_on_scale);
        // p99 9.5 GiB, max 10 GiB, 24 GiB recommended: everything fits on one scale.
        let r = range(4 * gib, 9 * gib + gib / 2, 10 * gib, 24.0 * GIB);
        assert!(r.recommendation_on_scale && r.max >= 24.0 * GIB, "{r:?}");
    }
}
