//! A sweep's runs side by side: cost per developer-day stacked by category, client RAM with
//! the recommendation, and server KV — one bar (group) per run, labelled with its swept values.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Area, Chart, ChartError, Drawn, Mark, axis_font, category_legend, headroom, label_font, legend,
    legend_note, render, title_font, wrap,
};
use crate::observation::Category;
use crate::output::html::palette::{self, TREE};
use crate::output::html::units;
use crate::simulate::results::Run;

const SIZE: (u32, u32) = (1300, 420);

/// Solid greys for percentiles and KV bars (darker = higher), the same in bars and legends.
const P50: palette::Colour = palette::Colour(0xB6, 0xB6, 0xB6);
const P95: palette::Colour = palette::Colour(0x82, 0x82, 0x82);
const P99: palette::Colour = palette::Colour(0x4E, 0x4E, 0x4E);
const GIB: f64 = (1u64 << 30) as f64;

/// The swept keys (the x axis title) and each run's values (its label).
pub fn labels(runs: &[Run]) -> (String, Vec<String>) {
    let keys: Vec<&String> = runs
        .first()
        .map_or(Vec::new(), |r| r.sweep.keys().collect());
    let title = if keys.is_empty() {
        "run".to_string()
    } else {
        keys.iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let labels = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if r.sweep.is_empty() {
                format!("#{}", i + 1)
            } else {
                r.sweep.values().cloned().collect::<Vec<_>>().join(" · ")
            }
        })
        .collect();
    (title, labels)
}

/// Axes with one labelled slot per run (or per scope, in `compare`'s chart).
pub(super) fn axes<'a>(
    area: &Area<'a>,
    title: &str,
    labels: &[String],
    x_desc: &str,
    y_desc: &str,
    y_top: f64,
) -> Result<
    ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    DrawingAreaErrorKind<std::io::Error>,
> {
    let n = labels.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(title, title_font())
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(76)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..y_top)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        // Many candidate ticks, so the integers (the runs) are among them; only those are named.
        .x_labels(n * 4 + 1)
        .y_labels(8)
        .x_label_formatter(&|v| {
            let i = v.round();
            if (v - i).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            labels.get(i as usize).cloned().unwrap_or_default()
        })
        .y_label_formatter(&|v| units::tick(*v))
        .axis_desc_style(axis_font())
        .label_style(label_font())
        .disable_x_mesh()
        .bold_line_style(RGBColor(0xE4, 0xE4, 0xE4))
        .light_line_style(TRANSPARENT)
        .draw()?;
    Ok(chart)
}

/// Cost per developer-day of each run, stacked by category.
pub fn cost(runs: &[Run]) -> Result<Chart, ChartError> {
    let (x_desc, labels) = labels(runs);
    let totals: Vec<f64> = runs
        .iter()
        .map(|r| r.per_user_day.cost_usd.values().flatten().sum())
        .collect();
    let y_top = headroom(totals.iter().copied().fold(0.0, f64::max)) * 1.08;
    let used: Vec<Category> = Category::ALL
        .into_iter()
        .filter(|c| {
            runs.iter().any(|r| {
                r.per_user_day
                    .cost_usd
                    .get(c.as_str())
                    .copied()
                    .flatten()
                    .is_some_and(|v| v > 0.0)
            })
        })
        .collect();
    let unpriced: Vec<bool> = runs
        .iter()
        .map(|r| r.per_user_day.total_cost_usd.is_none())
        .collect();
    render("sweep-cost", SIZE, |plot, side| {
        let title = "Cost per developer-day by category, per run";
        let mut chart = axes(
            plot,
            title,
            &labels,
            &x_desc,
            "cost per developer-day ($)",
            y_top,
        )?;
        let text = label_font().pos(Pos::new(HPos::Center, VPos::Bottom));
        for (i, run) in runs.iter().enumerate() {
            let x = i as f64;
            let mut base = 0.0;
            for category in Category::ALL {
                let Some(v) = run
                    .per_user_day
                    .cost_usd
                    .get(category.as_str())
                    .copied()
                    .flatten()
                else {
                    continue;
                };
                if v <= 0.0 {
                    continue;
                }
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.3, base), (x + 0.3, base + v)],
                    palette::category(category).rgb().filled(),
                )))?;
                base += v;
            }
            let label = if unpriced[i] {
                "unpriced".to_string()
            } else {
                units::dollars(base)
            };
            chart.draw_series(std::iter::once(Text::new(
                label,
                (x, base + y_top * 0.01),
                text.clone(),
            )))?;
        }
        let free_row = category_legend(side, used.iter().copied())?;
        if unpriced.iter().any(|&u| u) {
            let note = wrap(
                "unpriced: a model has no price; its categories are left out of the bar",
                26,
            );
            legend_note(side, free_row, &note)?;
        }
        Ok(())
    })
}

/// Client RAM percentiles of each run, with the recommended workstation size.
pub fn ram(runs: &[Run]) -> Result<Chart, ChartError> {
    let (x_desc, labels) = labels(runs);
    let max = runs
        .iter()
        .map(|r| {
            (r.client_ram.p99_bytes as f64).max(r.recommended_workstation_ram_gib as f64 * GIB)
        })
        .fold(0.0, f64::max);
    let scale = units::bytes(max);
    let y_top = headroom(scale.of(max)) * 1.08;
    render("sweep-ram", SIZE, |plot, side| {
        let title = "Client RAM per workstation, per run";
        let y_desc = format!("RSS of agent processes ({})", scale.unit);
        let mut chart = axes(plot, title, &labels, &x_desc, &y_desc, y_top)?;
        let shades = [P50, P95, P99];
        for (i, run) in runs.iter().enumerate() {
            let x = i as f64;
            let ram = &run.client_ram;
            for (k, bytes) in [ram.p50_bytes, ram.p95_bytes, ram.p99_bytes]
                .iter()
                .enumerate()
            {
                let left = x - 0.33 + k as f64 * 0.22;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(left, 0.0), (left + 0.2, scale.of(*bytes as f64))],
                    shades[k].rgb().filled(),
                )))?;
            }
            let rec = scale.of(f64::from(run.recommended_workstation_ram_gib) * GIB);
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x - 0.4, rec), (x + 0.4, rec)],
                TREE.rgb().stroke_width(3),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{} GiB", run.recommended_workstation_ram_gib),
                (x, rec + y_top * 0.01),
                label_font().pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
        legend(
            side,
            "client RAM",
            &[
                ("p50".to_string(), Mark::Fill(P50)),
                ("p95".to_string(), Mark::Fill(P95)),
                ("p99".to_string(), Mark::Fill(P99)),
                ("recommended".to_string(), Mark::Line(TREE, 3)),
            ],
        )
    })
}

/// Server KV peak and mean of each run.
pub fn kv(runs: &[Run]) -> Result<Chart, ChartError> {
    let (x_desc, labels) = labels(runs);
    let max = runs
        .iter()
        .map(|r| r.server_kv.peak_bytes as f64)
        .fold(0.0, f64::max);
    let scale = units::bytes(max);
    let y_top = headroom(scale.of(max));
    let profile = runs
        .first()
        .map_or(String::new(), |r| r.server_kv.profile.clone());
    render("sweep-kv", SIZE, |plot, side| {
        let title = format!("Server KV of the fleet, per run (assumed profile {profile})");
        let y_desc = format!("server KV ({})", scale.unit);
        let mut chart = axes(plot, &title, &labels, &x_desc, &y_desc, y_top)?;
        for (i, run) in runs.iter().enumerate() {
            let x = i as f64;
            let bars = [
                (run.server_kv.mean_bytes, P50),
                (run.server_kv.peak_bytes, P99),
            ];
            for (k, (bytes, colour)) in bars.into_iter().enumerate() {
                let left = x - 0.3 + k as f64 * 0.31;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(left, 0.0), (left + 0.29, scale.of(bytes as f64))],
                    colour.rgb().filled(),
                )))?;
            }
        }
        kv_legend(side)
    })
}

fn kv_legend(side: &Area<'_>) -> Drawn {
    legend(
        side,
        "server KV",
        &[
            ("mean".to_string(), Mark::Fill(P50)),
            ("peak".to_string(), Mark::Fill(P99)),
        ],
    )
}
