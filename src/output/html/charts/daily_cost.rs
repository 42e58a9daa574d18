//! Cost per calendar day, stacked by category: one bar per day in the report's time zone —
//! `--by day`'s days, whatever `--by` the report was asked for — over the whole history, days
//! without calls left as gaps on the axis.
//!
//! A day whose bar would be thinner than about two pixels is drawn as a two-pixel sliver, so a
//! cheap day with calls never looks like a day without.
//!
//! A cost that is unknown (a model without a price) is never drawn as $0: the day's categories
//! whose cost is known are stacked, and above them the day's slot is a pale `unpriced` band up to the
//! top of the chart — the day cost at least the bar, and an unknown amount more. When no day
//! has a known cost the chart shows tokens per day instead, and says so in its title.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::day_axis::{DayAxis, HEIGHT, YAxis, frame};
use super::{Chart, ChartError, Mark, headroom, label_font, legend, legend_note, render};
use crate::observation::Category;
use crate::output::html::days::Calendar;
use crate::output::html::palette::{self, UNPRICED};
use crate::output::html::units::{self, Scale};

/// Up to this many days, each bar carries its total above it.
const LABELLED_DAYS: usize = 31;

/// What the bars measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    /// Dollars: some day has a known cost.
    Cost,
    /// Tokens, in the scale's unit: no day has a known cost.
    Tokens(Scale),
}

/// The bar of one day with calls.
#[derive(Debug, Clone, PartialEq)]
pub struct DayBar {
    /// The day's index on the axis.
    pub index: usize,
    /// Height by category ([`Category::ALL`] order); a category of unknown cost is 0 here and
    /// makes the day `unpriced`.
    pub stack: [f64; Category::ALL.len()],
    /// Some call of the day has no price.
    pub unpriced: bool,
}

impl DayBar {
    pub fn height(&self) -> f64 {
        self.stack.iter().sum()
    }

    /// The category of the bar's largest part (`user_turn` when it has none).
    pub fn largest(&self) -> Category {
        let mut largest = (Category::UserTurn, 0.0);
        for (category, &height) in Category::ALL.into_iter().zip(&self.stack) {
            if height > largest.1 {
                largest = (category, height);
            }
        }
        largest.0
    }
}

/// The bars of the calendar's days with calls, and what they measure.
pub fn bars(calendar: &Calendar) -> (Measure, Vec<DayBar>) {
    let active = || {
        calendar
            .days
            .iter()
            .enumerate()
            .filter_map(|(i, d)| Some((i, d.calls.as_ref()?)))
    };
    let priced = active().any(|(_, calls)| calls.totals.cost_usd.is_some());
    let measure = if priced {
        Measure::Cost
    } else {
        let max = active()
            .map(|(_, calls)| calls.totals.total_tokens())
            .max()
            .unwrap_or(0);
        Measure::Tokens(units::tokens(max as f64))
    };
    let bars = active()
        .map(|(index, calls)| DayBar {
            index,
            stack: std::array::from_fn(|i| {
                let usage = &calls.by_category[i];
                match measure {
                    Measure::Cost => usage.cost_usd.unwrap_or(0.0),
                    Measure::Tokens(scale) => scale.of(usage.total_tokens() as f64),
                }
            }),
            unpriced: calls.totals.cost_usd.is_none(),
        })
        .collect();
    (measure, bars)
}

/// The chart of the calendar's days (at least one).
pub fn chart(calendar: &Calendar) -> Result<Chart, ChartError> {
    let (measure, bars) = bars(calendar);
    let first = calendar.days.first().map(|d| d.date).unwrap_or_default();
    let axis = DayAxis::new(first, calendar.days.len());
    let max = bars.iter().map(DayBar::height).fold(0.0, f64::max);
    let y_top = headroom(max) * 1.05;
    // About two pixels of the plot's height.
    let stub = y_top / 150.0;
    let any_unpriced = measure == Measure::Cost && bars.iter().any(|b| b.unpriced);
    let (title, y_desc) = match measure {
        Measure::Cost => (
            "Cost per day by category".to_string(),
            "cost ($)".to_string(),
        ),
        Measure::Tokens(scale) => (
            "Tokens per day by category (no model of these calls has a price)".to_string(),
            scale.unit.to_string(),
        ),
    };
    let used: Vec<Category> = Category::ALL
        .into_iter()
        .enumerate()
        .filter(|(i, _)| bars.iter().any(|b| b.stack[*i] > 0.0))
        .map(|(_, c)| c)
        .collect();
    let note = legend_lines(calendar, &bars, measure);

    render("daily-cost", (axis.width, HEIGHT), |plot, side| {
        let format = |v: &f64| units::tick(*v);
        let mut chart = frame(
            plot,
            &title,
            &axis,
            &calendar.zone,
            YAxis {
                top: y_top,
                desc: &y_desc,
                format: &format,
            },
        )?;
        for bar in &bars {
            let (x0, x1) = axis.bar(bar.index);
            let unpriced = measure == Measure::Cost && bar.unpriced;
            if !unpriced && bar.height() < stub {
                // A day with calls never looks like a day without: a sliver in the colour of
                // its largest part (an unpriced day has its band).
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, 0.0), (x1, stub)],
                    palette::category(bar.largest()).rgb().filled(),
                )))?;
                continue;
            }
            chart.draw_series(super::stacked_bar(x0, x1, &bar.stack))?;
            if unpriced {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, bar.height()), (x1, y_top)],
                    UNPRICED.rgb().filled(),
                )))?;
            }
        }
        if calendar.days.len() <= LABELLED_DAYS {
            let style = label_font().pos(Pos::new(HPos::Center, VPos::Bottom));
            for bar in &bars {
                let (label, y) = match measure {
                    // The band reaches the top: the word goes inside it.
                    Measure::Cost if bar.unpriced => ("unpriced".to_string(), y_top * 0.97),
                    Measure::Cost => (units::dollars(bar.height()), bar.height()),
                    Measure::Tokens(_) => (units::tick(bar.height()), bar.height()),
                };
                chart.draw_series(std::iter::once(Text::new(
                    label,
                    (bar.index as f64, y + y_top * 0.01),
                    style.clone(),
                )))?;
            }
        }
        let mut entries: Vec<(String, Mark)> = used
            .iter()
            .map(|c| (c.to_string(), Mark::Fill(palette::category(*c))))
            .collect();
        if any_unpriced {
            entries.push(("unpriced".to_string(), Mark::Fill(UNPRICED)));
        }
        legend(side, "category", &entries)?;
        legend_note(side, entries.len() + 1, &note)
    })
}

/// The notes under the legend: the total the bars add up to, the days, and what `unpriced`
/// means.
fn legend_lines(calendar: &Calendar, bars: &[DayBar], measure: Measure) -> Vec<String> {
    let sum: f64 = bars.iter().map(DayBar::height).sum();
    let unpriced = bars.iter().filter(|b| b.unpriced).count();
    let mut lines = Vec::new();
    match measure {
        Measure::Cost if unpriced > 0 => {
            lines.push(format!("known costs: {}", units::dollars(sum)));
        }
        Measure::Cost => lines.push(format!("total {}", units::dollars(sum))),
        Measure::Tokens(_) => lines.push(format!(
            "total {} tokens",
            units::token_count(calendar.total().total_tokens() as f64)
        )),
    }
    lines.push(format!(
        "{} days, {} with calls",
        calendar.days.len(),
        bars.len()
    ));
    if measure == Measure::Cost && unpriced > 0 {
        // Short lines: the legend column is narrow.
        lines.extend([
            format!("unpriced days: {unpriced}"),
            "a model has no price".to_string(),
            "(add it with --prices FILE):".to_string(),
            "bars show known costs only".to_string(),
        ]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::html::days::tests::row;

    fn calendar(rows: &[crate::attribute::rows::Row]) -> Calendar {
        Calendar::of(rows, "Europe/Berlin")
    }

    #[test]
    fn the_bars_add_up_to_the_total_cost_one_per_day_with_calls() {
        let rows = [
            row("2026-03-02", "a", (10, Some(1.25)), (30, Some(3.5))),
            row("2026-03-02", "b", (60, Some(6.0)), (0, Some(0.0))),
            row("2026-03-05", "a", (5, Some(0.125)), (5, Some(0.5))),
        ];
        let calendar = calendar(&rows);
        let (measure, bars) = bars(&calendar);
        assert_eq!(measure, Measure::Cost);
        assert_eq!(
            bars.iter().map(|b| b.index).collect::<Vec<_>>(),
            [0, 3],
            "a bar per day with calls, the days between left empty"
        );
        let sum: f64 = bars.iter().map(DayBar::height).sum();
        assert_eq!(Some(sum), calendar.total().cost_usd);
        assert_eq!(sum, 11.375);
        let svg = chart(&calendar).unwrap().svg;
        assert!(svg.contains("total $11.38"), "the legend says the total");
        assert!(svg.contains("day (Europe/Berlin)"));
        assert!(svg.contains("2026-03-04"), "an empty day keeps its label");
    }

    #[test]
    fn an_unpriced_day_is_a_band_labelled_unpriced_never_zero_dollars() {
        let rows = [
            row("2026-03-02", "a", (10, Some(1.5)), (30, Some(3.5))),
            row("2026-03-03", "a", (10, None), (30, None)),
            row("2026-03-04", "a", (10, Some(2.0)), (30, None)),
        ];
        let calendar = calendar(&rows);
        let (measure, bars) = bars(&calendar);
        assert_eq!(measure, Measure::Cost);
        assert_eq!(
            bars.iter().map(|b| b.unpriced).collect::<Vec<_>>(),
            [false, true, true]
        );
        // The priced part of a partly priced day is drawn; nothing of the unknown part.
        assert_eq!(bars[2].height(), 2.0);
        assert_eq!(bars[1].height(), 0.0);
        let svg = chart(&calendar).unwrap().svg;
        let texts: Vec<&str> = svg.lines().map(str::trim).collect();
        assert_eq!(texts.iter().filter(|t| **t == "unpriced").count(), 3);
        assert!(!texts.iter().any(|t| t.starts_with("$0")), "{svg}");
        assert!(svg.contains(&UNPRICED.hex()), "the band is drawn");
        assert!(svg.contains("known costs: $7.00"));
    }

    #[test]
    fn the_days_of_an_import_are_by_day_s_rows_and_their_bars_add_up_to_its_cost() {
        use crate::attribute::cost::PriceTable;
        use crate::attribute::kv::{DEFAULT_PROFILE, KvProfile};
        use crate::attribute::period::TimeWindow;
        use crate::attribute::rows::{Columns, RowBy, RowsSpec};
        use crate::attribute::summary::ReportOptions;
        use crate::capture::transcripts::{ImportOptions, Progress, import};
        use crate::demo::transcript_corpus;
        use crate::output::html::{days, series};

        let dir = tempfile::tempdir().unwrap();
        transcript_corpus::generate_in(dir.path(), 2 << 20, 7).unwrap();
        let options = ImportOptions {
            dir: Some(dir.path().to_path_buf()),
            ..ImportOptions::default()
        };
        let imported = import(&options, &Progress::default()).unwrap();
        let prices = PriceTable::bundled();
        let profile = KvProfile::from_name(DEFAULT_PROFILE).unwrap();
        let by_day = RowsSpec {
            by: RowBy::Day,
            columns: Columns::Category,
            // UTC−1: the history's first hours (from 00:00Z) straddle a local midnight.
            zone: jiff::tz::TimeZone::get("Atlantic/Cape_Verde").unwrap(),
            window: TimeWindow::all(),
        };
        let summary = imported.summarize(&ReportOptions {
            prices: &prices,
            kv_profile: profile,
            rows: &by_day,
            findings: Default::default(),
        });
        let (trace, _) = imported.into_trace();
        let zone = days::zone_of(&summary.rows_by.timezone);
        let series = series::collect(&[trace], &prices, profile, &zone);
        // The page's days are `--by day`'s rows, summed by the same code.
        assert_eq!(series.days, summary.rows);

        let calendar = Calendar::of(&series.days, &summary.rows_by.timezone);
        let (measure, bars) = bars(&calendar);
        assert_eq!(measure, Measure::Cost);
        assert!(bars.len() >= 2, "{} days", bars.len());
        assert_eq!(bars.len(), summary.rows.len(), "one bar per day with calls");
        let sum: f64 = bars.iter().map(DayBar::height).sum();
        let total = summary.totals.cost_usd.expect("a priced history");
        assert!(
            (sum - total).abs() <= total * 1e-12,
            "bars {sum} vs report {total}"
        );
    }

    #[test]
    fn with_no_price_at_all_the_bars_are_tokens() {
        let rows = [
            row("2026-03-02", "a", (10_000, None), (30_000, None)),
            row("2026-03-03", "a", (1_000, None), (0, Some(0.0))),
        ];
        let calendar = calendar(&rows);
        let (measure, bars) = bars(&calendar);
        assert!(matches!(measure, Measure::Tokens(s) if s.unit == "tokens (×1,000)"));
        assert_eq!(bars[0].height(), 40.0);
        let svg = chart(&calendar).unwrap().svg;
        assert!(svg.contains("Tokens per day by category"));
        assert!(!svg.contains(&UNPRICED.hex()));
    }
}
