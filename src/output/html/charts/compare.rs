//! `compare --html`: each category's mean cost, A beside B, with ± one standard deviation as
//! whiskers where a side has several runs.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Chart, ChartError, Mark, headroom, label_font, legend, render};
use crate::attribute::compare::Row;
use crate::observation::Category;
use crate::output::html::palette::{self, TREE};

const SIZE: (u32, u32) = (1300, 440);

/// The cost rows of `total` and each category, in report order.
pub fn cost_rows(rows: &[Row]) -> Vec<&Row> {
    let total = rows.iter().filter(|r| r.scope == "total");
    let categories = Category::ALL
        .iter()
        .flat_map(|c| rows.iter().filter(move |r| r.scope == c.as_str()));
    total
        .chain(categories)
        .filter(|r| r.figure == "cost")
        .collect()
}

/// Mean cost per scope: A's bar (light) beside B's (solid), whiskers ± sd.
pub fn cost(rows: &[Row]) -> Result<Chart, ChartError> {
    let rows = cost_rows(rows);
    let top = rows
        .iter()
        .flat_map(|r| {
            [
                r.a.mean + r.a.sd.unwrap_or(0.0),
                r.b.mean + r.b.sd.unwrap_or(0.0),
            ]
        })
        .fold(0.0, f64::max);
    let y_top = headroom(top) * 1.1;
    let labels: Vec<String> = rows.iter().map(|r| r.scope.clone()).collect();
    render("compare-cost", SIZE, |plot, side| {
        let mut chart = super::sweep::axes(
            plot,
            "Mean cost per run: A (light) beside B, ± 1 sd",
            &labels,
            "scope",
            "cost per run ($)",
            y_top,
        )?;
        let text = label_font().pos(Pos::new(HPos::Center, VPos::Bottom));
        for (i, row) in rows.iter().enumerate() {
            let x = i as f64;
            let colour = Category::parse(&row.scope).map_or(TREE, palette::category);
            for (offset, side_stats, fill) in [
                (-0.36, &row.a, colour.rgb().mix(0.35).filled()),
                (0.02, &row.b, colour.rgb().filled()),
            ] {
                let (left, right) = (x + offset, x + offset + 0.34);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(left, 0.0), (right, side_stats.mean)],
                    fill,
                )))?;
                if let Some(sd) = side_stats.sd {
                    let middle = (left + right) / 2.0;
                    let (low, high) = ((side_stats.mean - sd).max(0.0), side_stats.mean + sd);
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(middle, low), (middle, high)],
                        BLACK.stroke_width(2),
                    )))?;
                }
            }
            let change = match row.difference.ratio {
                Some(ratio) => format!("{:+.0} %", (ratio - 1.0) * 100.0),
                None => "new".to_string(),
            };
            let high =
                (row.a.mean + row.a.sd.unwrap_or(0.0)).max(row.b.mean + row.b.sd.unwrap_or(0.0));
            chart.draw_series(std::iter::once(Text::new(
                change,
                (x, high + y_top * 0.015),
                text.clone(),
            )))?;
        }
        legend(
            side,
            "side",
            &[
                (
                    "A (baseline), light".to_string(),
                    Mark::Fill(palette::OVERHEAD),
                ),
                ("B, solid".to_string(), Mark::Fill(palette::ALL)),
                ("± 1 sd".to_string(), Mark::Line(palette::TREE, 2)),
            ],
        )
    })
}
