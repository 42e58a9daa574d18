//! Tokens and cost per turn, stacked by category: how much of each turn was the user's own
//! work and how much the agent spent around it.
//!
//! Over `MAX_BARS` turns, consecutive turns share a bar (the x axis stays in turn numbers).
//! A cost that is unknown (a model without a price) is left out of its bar and the bar is
//! marked `unpriced`: an unknown cost is never drawn as $0.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Chart, ChartError, category_legend, headroom, label_font, legend_note, mesh, render,
    title_font, wrap,
};
use crate::attribute::summary::TurnReport;
use crate::attribute::usage_totals::UsageTotals;
use crate::observation::Category;
use crate::output::html::units;

/// Most bars drawn; more turns are grouped.
const MAX_BARS: usize = 120;
/// Up to this many bars carry their total above them.
const LABELLED_BARS: usize = 30;

/// One bar: a turn, or a run of consecutive turns.
#[derive(Debug, Clone)]
pub struct TurnBar {
    pub first: u32,
    pub last: u32,
    /// By category, in [`Category::ALL`] order.
    pub by_category: Vec<UsageTotals>,
}

impl TurnBar {
    pub fn total(&self) -> UsageTotals {
        let mut total = UsageTotals::default();
        for u in &self.by_category {
            total.merge(u);
        }
        total
    }
}

/// The turns as bars, grouped when there are many.
pub fn bars(turns: &[TurnReport]) -> Vec<TurnBar> {
    let per = turns.len().div_ceil(MAX_BARS).max(1);
    turns
        .chunks(per)
        .filter_map(|chunk| {
            let (first, last) = (chunk.first()?.index, chunk.last()?.index);
            let mut by_category = vec![UsageTotals::default(); Category::ALL.len()];
            for turn in chunk {
                for (i, c) in Category::ALL.into_iter().enumerate() {
                    if let Some(u) = turn.by_category.get(c.as_str()) {
                        by_category[i].merge(u);
                    }
                }
            }
            Some(TurnBar {
                first,
                last,
                by_category,
            })
        })
        .collect()
}

/// Tokens per turn.
pub fn tokens(turns: &[TurnReport]) -> Result<Chart, ChartError> {
    let bars = bars(turns);
    let max = bars
        .iter()
        .map(|b| b.total().total_tokens())
        .max()
        .unwrap_or(0) as f64;
    let scale = units::tokens(max);
    let stacks: Vec<Vec<f64>> = bars
        .iter()
        .map(|b| {
            b.by_category
                .iter()
                .map(|u| scale.of(u.total_tokens() as f64))
                .collect()
        })
        .collect();
    let labels: Vec<String> = stacks.iter().map(|s| units::tick(s.iter().sum())).collect();
    stacked(
        "tokens-per-turn",
        "Tokens per turn by category",
        scale.unit,
        &bars,
        &stacks,
        &labels,
        &[],
    )
}

/// Cost per turn; unknown costs are left out and their bars marked.
pub fn cost(turns: &[TurnReport]) -> Result<Chart, ChartError> {
    let bars = bars(turns);
    let stacks: Vec<Vec<f64>> = bars
        .iter()
        .map(|b| {
            b.by_category
                .iter()
                .map(|u| u.cost_usd.unwrap_or(0.0))
                .collect()
        })
        .collect();
    let unpriced: Vec<bool> = bars
        .iter()
        .map(|b| b.by_category.iter().any(|u| u.cost_usd.is_none()))
        .collect();
    let labels: Vec<String> = stacks
        .iter()
        .zip(&unpriced)
        .map(|(s, &u)| {
            if u {
                "unpriced".to_string()
            } else {
                units::dollars(s.iter().sum())
            }
        })
        .collect();
    let note = if unpriced.iter().any(|&u| u) {
        wrap(
            "unpriced: a model of these turns has no price (add it with --prices FILE); its calls are left out of the bar, never counted as $0",
            26,
        )
    } else {
        Vec::new()
    };
    stacked(
        "cost-per-turn",
        "Cost per turn by category",
        "cost ($)",
        &bars,
        &stacks,
        &labels,
        &note,
    )
}

/// Stacked bars: `stacks[bar][category]` in plotted units.
fn stacked(
    id: &str,
    title: &str,
    y_desc: &str,
    bars: &[TurnBar],
    stacks: &[Vec<f64>],
    labels: &[String],
    note: &[String],
) -> Result<Chart, ChartError> {
    let first = bars.first().map_or(1, |b| b.first) as f64;
    let last = bars.last().map_or(1, |b| b.last) as f64;
    let max = stacks
        .iter()
        .map(|s| s.iter().sum::<f64>())
        .fold(0.0, f64::max);
    let y_top = headroom(max) * 1.05;
    let used: Vec<Category> = Category::ALL
        .into_iter()
        .enumerate()
        .filter(|(i, _)| stacks.iter().any(|s| s[*i] > 0.0))
        .map(|(_, c)| c)
        .collect();
    render(id, (1300, 420), |plot, side| {
        let mut chart = ChartBuilder::on(plot)
            .caption(title, title_font())
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(76)
            .build_cartesian_2d((first - 0.5)..(last + 0.5), 0.0..y_top)?;
        mesh(&mut chart, "turn", y_desc, bars.len().min(25))?;
        for (bar, stack) in bars.iter().zip(stacks) {
            // A gap of a tenth of the bar's width on each side, whatever turns it groups.
            let width = f64::from(bar.last - bar.first + 1);
            let (x0, x1) = (
                bar.first as f64 - 0.5 + width * 0.1,
                bar.last as f64 + 0.5 - width * 0.1,
            );
            chart.draw_series(super::stacked_bar(x0, x1, stack))?;
        }
        if bars.len() <= LABELLED_BARS {
            let style = label_font().pos(Pos::new(HPos::Center, VPos::Bottom));
            for ((bar, stack), label) in bars.iter().zip(stacks).zip(labels) {
                let x = (bar.first + bar.last) as f64 / 2.0;
                let top: f64 = stack.iter().sum();
                chart.draw_series(std::iter::once(Text::new(
                    label.clone(),
                    (x, top + y_top * 0.01),
                    style.clone(),
                )))?;
            }
        }
        let free_row = category_legend(side, used.iter().copied())?;
        let mut lines = note.to_vec();
        if let Some(bar) = bars.first().filter(|b| b.last > b.first) {
            lines.push(format!("each bar: {} turns", bar.last - bar.first + 1));
        }
        legend_note(side, free_row, &lines)
    })
}
