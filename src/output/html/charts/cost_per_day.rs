//! Cost per developer-day by category in a simulation: one bar per category that used tokens,
//! its dollars and tokens written beside it. A category whose model has no price reads
//! `unpriced` and has no bar — never a $0 one.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Chart, ChartError, axis_font, category_legend, label_font, legend_note, render, title_font,
    wrap,
};
use crate::observation::Category;
use crate::output::html::{palette, units};
use crate::simulate::results::Run;

pub fn chart(run: &Run, id: &str, size: (u32, u32)) -> Result<Chart, ChartError> {
    let day = &run.per_user_day;
    let rows: Vec<(Category, Option<f64>, u64)> = Category::ALL
        .into_iter()
        .filter_map(|c| {
            let tokens = day.tokens.get(c.as_str()).copied().unwrap_or(0);
            let cost = day.cost_usd.get(c.as_str()).copied().flatten();
            (tokens > 0).then_some((c, cost, tokens))
        })
        .collect();
    let max = rows.iter().filter_map(|r| r.1).fold(0.0, f64::max);
    // Room on the right of the longest bar for its label.
    let x_top = if max > 0.0 { max * 1.45 } else { 1.0 };
    let n = rows.len().max(1);
    let any_unpriced = rows.iter().any(|r| r.1.is_none());

    render(id, size, |plot, side| {
        let mut chart = ChartBuilder::on(plot)
            .caption("Cost per developer-day by category", title_font())
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..x_top, -0.5..(n as f64 - 0.5))?;
        chart
            .configure_mesh()
            .x_desc("cost per developer-day ($)")
            .x_labels(6)
            .y_labels(n)
            .x_label_formatter(&|v| units::tick(*v))
            .y_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() > 0.01 || i < 0.0 {
                    return String::new();
                }
                rows.get(n - 1 - i as usize)
                    .map_or(String::new(), |r| r.0.to_string())
            })
            .axis_desc_style(axis_font())
            .label_style(label_font())
            .disable_y_mesh()
            .bold_line_style(RGBColor(0xE4, 0xE4, 0xE4))
            .light_line_style(TRANSPARENT)
            .draw()?;
        let text = label_font().pos(Pos::new(HPos::Left, VPos::Center));
        for (k, (category, cost, tokens)) in rows.iter().enumerate() {
            // First category at the top.
            let y = (n - 1 - k) as f64;
            let end = cost.unwrap_or(0.0);
            if cost.is_some() {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y - 0.35), (end, y + 0.35)],
                    palette::category(*category).rgb().filled(),
                )))?;
            }
            let label = format!(
                "{} · {} tokens",
                units::cost(*cost),
                units::token_count(*tokens as f64)
            );
            chart.draw_series(std::iter::once(Text::new(
                label,
                (end + x_top * 0.01, y),
                text.clone(),
            )))?;
        }
        let free_row = category_legend(side, rows.iter().map(|r| r.0))?;
        let mut note = vec![format!("total {}", units::cost(day.total_cost_usd))];
        if any_unpriced {
            note.extend(wrap(
                "unpriced: no price for a model of this category (add it with --prices FILE)",
                26,
            ));
        }
        legend_note(side, free_row, &note)
    })
}
