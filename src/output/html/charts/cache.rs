//! Prompt-cache hit ratio per turn: cache reads as a share of all prompt tokens, for the whole
//! turn and for the user's own calls in it. A falling line is a cache being rebuilt (a
//! compaction, an expired TTL, a changed prefix) — and paid for.

use plotters::prelude::*;

use super::per_turn::bars;
use super::{Chart, ChartError, Mark, legend, mesh, render, title_font};
use crate::attribute::summary::TurnReport;
use crate::observation::Category;
use crate::output::html::palette::{self, ALL};

pub fn chart(turns: &[TurnReport]) -> Result<Chart, ChartError> {
    let bars = bars(turns);
    let first = bars.first().map_or(1, |b| b.first) as f64;
    let last = bars.last().map_or(1, |b| b.last) as f64;
    let mid = |b: &super::per_turn::TurnBar| (b.first + b.last) as f64 / 2.0;
    let whole: Vec<(f64, f64)> = bars
        .iter()
        .filter(|b| b.total().requests > 0)
        .map(|b| (mid(b), b.total().cache_hit_ratio() * 100.0))
        .collect();
    let user: Vec<(f64, f64)> = bars
        .iter()
        .filter(|b| b.by_category[0].requests > 0)
        .map(|b| (mid(b), b.by_category[0].cache_hit_ratio() * 100.0))
        .collect();
    let user_colour = palette::category(Category::UserTurn);

    render("cache-hit-ratio", (1300, 380), |plot, side| {
        let mut chart = ChartBuilder::on(plot)
            .caption("Prompt-cache hit ratio per turn", title_font())
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(76)
            .build_cartesian_2d((first - 0.5)..(last + 0.5), 0.0..105.0)?;
        mesh(
            &mut chart,
            "turn",
            "cache reads / prompt tokens (%)",
            bars.len().min(25),
        )?;
        for (points, colour) in [(&whole, ALL), (&user, user_colour)] {
            chart.draw_series(LineSeries::new(
                points.iter().copied(),
                colour.rgb().stroke_width(2),
            ))?;
            chart.draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, 4, colour.rgb().filled())),
            )?;
        }
        legend(
            side,
            "calls",
            &[
                ("whole turn".to_string(), Mark::Dot(ALL)),
                (Category::UserTurn.to_string(), Mark::Dot(user_colour)),
            ],
        )
    })
}
