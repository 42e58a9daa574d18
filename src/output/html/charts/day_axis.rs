//! The x axis the per-day charts share: one slot per calendar day, from the first day with
//! calls to the last, days without calls kept as gaps; a chart wide enough to give every day
//! a few pixels (past about a year of history it is wider than the page, which scrolls it);
//! date labels thinned to what fits — every day, Mondays, first days of months, of quarters,
//! of years.

use std::ops::Range;

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::ticked::TickedAxis;
use super::{Area, LEGEND_WIDTH, axis_font, label_font, title_font};

/// Height of the per-day charts.
pub const HEIGHT: u32 = 420;
/// Width of a chart of few days: the other charts' width.
pub const MIN_WIDTH: u32 = 1300;
/// Wider than this, no browser draws an SVG well; days get thinner instead.
const MAX_WIDTH: u32 = 12_000;
/// Pixels of the chart that are not the plot: margins and the y labels (the legend apart).
const CHROME: u32 = 2 * MARGIN + Y_LABEL_AREA;
const MARGIN: u32 = 12;
const Y_LABEL_AREA: u32 = 76;
/// Each day gets at least this many pixels (a bar of 2 and a gap).
const MIN_DAY_PX: f64 = 3.0;
/// Date labels at least this far apart (`2026-03-08` is about 75 pixels).
const LABEL_PX: f64 = 96.0;
/// A bar of a few days is no wider than this.
const MAX_BAR_PX: f64 = 36.0;

/// Which days carry a date label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelStep {
    EveryDay,
    Mondays,
    Months,
    Quarters,
    Years,
}

impl LabelStep {
    /// Roughly how many days apart labels of this step are.
    fn days(self) -> f64 {
        match self {
            LabelStep::EveryDay => 1.0,
            LabelStep::Mondays => 7.0,
            LabelStep::Months => 30.44,
            LabelStep::Quarters => 91.31,
            LabelStep::Years => 365.25,
        }
    }

    fn labels(self, date: Date) -> bool {
        match self {
            LabelStep::EveryDay => true,
            LabelStep::Mondays => date.weekday() == Weekday::Monday,
            LabelStep::Months => date.day() == 1,
            LabelStep::Quarters => date.day() == 1 && (date.month() - 1) % 3 == 0,
            LabelStep::Years => date.day() == 1 && date.month() == 1,
        }
    }

    /// `2026-03-08` for days, `2026-03` for months and quarters, `2026` for years.
    fn text(self, date: Date) -> String {
        match self {
            LabelStep::EveryDay | LabelStep::Mondays => date.to_string(),
            LabelStep::Months | LabelStep::Quarters => {
                format!("{:04}-{:02}", date.year(), date.month())
            }
            LabelStep::Years => format!("{:04}", date.year()),
        }
    }
}

/// The days of a chart and how they are laid out.
#[derive(Debug, Clone)]
pub struct DayAxis {
    first: Date,
    count: usize,
    /// The whole chart's width, legend included.
    pub width: u32,
    pub step: LabelStep,
}

impl DayAxis {
    /// The axis of `count` days from `first`.
    pub fn new(first: Date, count: usize) -> DayAxis {
        let count = count.max(1);
        let wanted = (count as f64 * MIN_DAY_PX).ceil() as u32 + CHROME + LEGEND_WIDTH;
        let width = wanted.clamp(MIN_WIDTH, MAX_WIDTH);
        let day_px = f64::from(width - CHROME - LEGEND_WIDTH) / count as f64;
        let step = [
            LabelStep::EveryDay,
            LabelStep::Mondays,
            LabelStep::Months,
            LabelStep::Quarters,
        ]
        .into_iter()
        .find(|s| s.days() * day_px >= LABEL_PX)
        .unwrap_or(LabelStep::Years);
        DayAxis {
            first,
            count,
            width,
            step,
        }
    }

    /// Whether the chart is wider than the page (it scrolls).
    pub fn is_wide(&self) -> bool {
        self.width > MIN_WIDTH
    }

    /// Pixels per day.
    pub fn day_px(&self) -> f64 {
        f64::from(self.width - CHROME - LEGEND_WIDTH) / self.count as f64
    }

    /// The date of day `index`.
    pub fn date(&self, index: usize) -> Option<Date> {
        self.first.checked_add((index as i64).days()).ok()
    }

    /// From and to of the bar of day `index`: a gap between bars when days have room for one,
    /// and no bar wider than [`MAX_BAR_PX`].
    pub fn bar(&self, index: usize) -> (f64, f64) {
        let day_px = self.day_px();
        let half = if day_px < 4.0 {
            0.5
        } else {
            0.4_f64.min(MAX_BAR_PX / 2.0 / day_px)
        };
        (index as f64 - half, index as f64 + half)
    }

    /// The days that carry a label, as x values (the first day when no other would).
    pub fn ticks(&self) -> Vec<f64> {
        let ticks: Vec<f64> = (0..self.count)
            .filter(|&i| self.date(i).is_some_and(|d| self.step.labels(d)))
            .map(|i| i as f64)
            .collect();
        if ticks.is_empty() { vec![0.0] } else { ticks }
    }

    /// The label of the day at `x`.
    pub fn label(&self, x: f64) -> String {
        let i = x.round();
        if (x - i).abs() > 0.01 || i < 0.0 {
            return String::new();
        }
        self.date(i as usize)
            .map_or(String::new(), |d| self.step.text(d))
    }

    /// The x range: every day's slot, whole.
    pub fn range(&self) -> Range<f64> {
        -0.5..(self.count as f64 - 0.5)
    }

    /// The x coordinate (day indices) with grid lines and labels on the labelled days only.
    pub fn coord(&self) -> TickedAxis {
        TickedAxis::new(self.range(), self.ticks())
    }
}

/// A per-day chart's y axis: its top, its description and how its labels read.
pub struct YAxis<'f> {
    pub top: f64,
    pub desc: &'f str,
    pub format: &'f dyn Fn(&f64) -> String,
}

/// A per-day chart, framed.
pub type DayChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<TickedAxis, RangedCoordf64>>;

/// A per-day chart's frame: title, axes with their descriptions, date labels and a light grid.
pub fn frame<'a, 'b>(
    plot: &'a Area<'b>,
    title: &str,
    axis: &DayAxis,
    zone: &str,
    y: YAxis<'_>,
) -> Result<DayChart<'a, 'b>, DrawingAreaErrorKind<std::io::Error>> {
    let mut chart = ChartBuilder::on(plot)
        .caption(title, title_font())
        .margin(MARGIN)
        .x_label_area_size(48)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(axis.coord(), 0.0..y.top)?;
    chart
        .configure_mesh()
        .x_desc(format!("day ({zone})"))
        .y_desc(y.desc)
        .y_labels(8)
        .x_label_formatter(&|x| axis.label(*x))
        .y_label_formatter(y.format)
        .axis_desc_style(axis_font())
        .label_style(label_font())
        .bold_line_style(RGBColor(0xE4, 0xE4, 0xE4))
        .light_line_style(TRANSPARENT)
        .draw()?;
    Ok(chart)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn labels_thin_out_as_days_add_up() {
        let few = DayAxis::new(date(2026, 3, 6), 5);
        assert_eq!(few.step, LabelStep::EveryDay);
        assert_eq!(few.width, MIN_WIDTH);
        assert_eq!(few.ticks().len(), 5);
        assert_eq!(few.label(2.0), "2026-03-08");
        // A few days' bars are not a wall of colour.
        let (from, to) = few.bar(2);
        assert!((to - from) * few.day_px() <= MAX_BAR_PX + 1e-9);

        // Six months on one page: labels on the first of each month.
        let half_year = DayAxis::new(date(2026, 3, 6), 183);
        assert_eq!(half_year.step, LabelStep::Months);
        assert!(!half_year.is_wide());
        assert!(half_year.day_px() >= MIN_DAY_PX);
        let ticks = half_year.ticks();
        assert_eq!(ticks.len(), 6, "April to September");
        assert_eq!(half_year.label(ticks[0]), "2026-04");

        // Two years: wider than the page, every day still its pixels.
        let years = DayAxis::new(date(2024, 1, 1), 731);
        assert!(years.is_wide());
        assert!(years.day_px() >= MIN_DAY_PX);
        assert_eq!(years.label(years.ticks()[0]), "2024-01");
    }

    #[test]
    fn a_month_of_days_is_labelled_on_mondays() {
        let month = DayAxis::new(date(2026, 3, 1), 31);
        assert_eq!(month.step, LabelStep::Mondays);
        // 2026-03-01 is a Sunday: Mondays are the 2nd, 9th, 16th, 23rd and 30th.
        assert_eq!(month.ticks(), [1.0, 8.0, 15.0, 22.0, 29.0]);
        assert_eq!(month.label(1.0), "2026-03-02");
        assert_eq!(month.label(1.5), "");
    }
}
