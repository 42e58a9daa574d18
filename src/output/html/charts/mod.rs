//! Charts as SVG strings, one file per chart; this file holds what they share: the canvas, the
//! fonts, the axes and the legend.
//!
//! Drawn with plotters' SVG backend, which writes `<text>` elements and leaves glyphs to the
//! browser, so no font is embedded or needed here. Every chart has a title, axis labels with
//! units and a legend in a column of its own on the right (never over the data), and takes its
//! colours from [`palette`](super::palette).

pub mod cache;
pub mod compare;
pub mod cost_per_day;
pub mod daily_cost;
pub mod daily_overhead;
pub mod day_axis;
pub mod kv;
pub mod latency;
pub mod memory;
pub mod per_turn;
pub mod ram;
pub mod sim_kv;
pub mod sweep;
pub mod ticked;

use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::palette::Colour;
use super::units::tick;
use crate::observation::Category;

/// A finished chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Unique on its page (`memory`, `ram-2`, …): the figure's id.
    pub id: String,
    pub svg: String,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

/// A chart plotters could not draw. With the SVG backend writing into a string none is
/// expected; the error says which chart and why rather than panicking.
#[derive(Debug, thiserror::Error)]
#[error("drawing the {chart} chart: {message}")]
pub struct ChartError {
    pub chart: String,
    pub message: String,
}

/// The area charts draw on.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// What drawing returns (plotters' error, turned into a [`ChartError`] by [`render`]).
pub type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// The font family: the browser's sans-serif.
pub const FONT: &str = "sans-serif";

/// Width of the legend column on the right of every chart.
pub const LEGEND_WIDTH: u32 = 200;

/// Draws a chart of `size` pixels: `draw` gets the plot area (left) and the legend column.
pub fn render(
    id: impl Into<String>,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>, &Area<'_>) -> Drawn,
) -> Result<Chart, ChartError> {
    let id = id.into();
    let mut svg = String::with_capacity(64 * 1024);
    let failed = |e: DrawingAreaErrorKind<std::io::Error>| ChartError {
        chart: id.clone(),
        message: e.to_string(),
    };
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let (plot, legend) = root.split_horizontally(size.0.saturating_sub(LEGEND_WIDTH));
        draw(&plot, &legend).map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(Chart { id, svg, size })
}

/// Title style.
pub fn title_font() -> TextStyle<'static> {
    (FONT, 21).into_font().style(FontStyle::Bold).into()
}

/// Axis description style.
pub fn axis_font() -> TextStyle<'static> {
    (FONT, 16).into()
}

/// Tick label style.
pub fn label_font() -> TextStyle<'static> {
    (FONT, 14).into()
}

/// The usual mesh: light grid, labelled axes, compact tick labels.
pub fn mesh<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
    x_labels: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(x_labels)
        .y_labels(8)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .axis_desc_style(axis_font())
        .label_style(label_font())
        .bold_line_style(RGBColor(0xE4, 0xE4, 0xE4))
        // No minor grid: with the data drawn over it, it reads as noise.
        .light_line_style(TRANSPARENT)
        .draw()
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
pub enum Mark {
    /// A filled box (bars, areas, shaded windows).
    Fill(Colour),
    /// A solid line of the given width.
    Line(Colour, u32),
    /// A dashed line.
    Dashed(Colour),
    /// A line with a dot on it (series with point markers).
    Dot(Colour),
}

/// The legend of a chart coloured by category: one row per category drawn, in its colour.
/// Returns the first row free for a [`legend_note`].
pub fn category_legend(
    area: &Area<'_>,
    categories: impl IntoIterator<Item = Category>,
) -> Result<usize, DrawingAreaErrorKind<std::io::Error>> {
    let entries: Vec<(String, Mark)> = categories
        .into_iter()
        .map(|c| (c.to_string(), Mark::Fill(super::palette::category(c))))
        .collect();
    legend(area, "category", &entries)?;
    Ok(entries.len() + 1)
}

/// A legend in the right-hand column: a heading, then one row per entry.
pub fn legend(area: &Area<'_>, heading: &str, entries: &[(String, Mark)]) -> Drawn {
    let heading_style = TextStyle::from((FONT, 15).into_font().style(FontStyle::Bold))
        .pos(Pos::new(HPos::Left, VPos::Top));
    area.draw(&Text::new(heading.to_string(), (12, 60), heading_style))?;
    let text = TextStyle::from((FONT, 14)).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (label, mark)) in entries.iter().enumerate() {
        let y = 92 + i as i32 * 24;
        match *mark {
            Mark::Fill(c) => {
                area.draw(&Rectangle::new(
                    [(12, y - 7), (30, y + 7)],
                    c.rgb().filled(),
                ))?;
            }
            Mark::Line(c, width) => {
                area.draw(&PathElement::new(
                    vec![(10, y), (32, y)],
                    c.rgb().stroke_width(width),
                ))?;
            }
            Mark::Dashed(c) => {
                for x in [10, 19, 28] {
                    area.draw(&PathElement::new(
                        vec![(x, y), (x + 5, y)],
                        c.rgb().stroke_width(2),
                    ))?;
                }
            }
            Mark::Dot(c) => {
                area.draw(&PathElement::new(
                    vec![(10, y), (32, y)],
                    c.rgb().stroke_width(2),
                ))?;
                area.draw(&Circle::new((21, y), 4, c.rgb().filled()))?;
            }
        }
        area.draw(&Text::new(label.clone(), (40, y), text.clone()))?;
    }
    Ok(())
}

/// A small note in the legend column below the entries (an assumption, an unpriced warning).
pub fn legend_note(area: &Area<'_>, first_row: usize, lines: &[String]) -> Drawn {
    let style = TextStyle::from((FONT, 13))
        .color(&RGBColor(0x66, 0x66, 0x66))
        .pos(Pos::new(HPos::Left, VPos::Top));
    for (i, line) in lines.iter().enumerate() {
        let y = 92 + first_row as i32 * 24 + i as i32 * 17;
        area.draw(&Text::new(line.clone(), (12, y), style.clone()))?;
    }
    Ok(())
}

/// A bar from `x0` to `x1` stacked by category: `stack[i]` is the height of
/// `Category::ALL[i]`, in that order from the bottom, each in its colour; empty parts are not
/// drawn.
pub fn stacked_bar(x0: f64, x1: f64, stack: &[f64]) -> Vec<Rectangle<(f64, f64)>> {
    let mut base = 0.0;
    let mut parts = Vec::new();
    for (category, &height) in Category::ALL.into_iter().zip(stack) {
        if height <= 0.0 {
            continue;
        }
        parts.push(Rectangle::new(
            [(x0, base), (x1, base + height)],
            super::palette::category(category).rgb().filled(),
        ));
        base += height;
    }
    parts
}

/// Upper end of an axis from the data's maximum: a little headroom, never an empty range.
pub fn headroom(max: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * 1.08
    } else {
        1.0
    }
}

/// Splits a long note into lines of at most `width` characters, at spaces.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_an_svg_with_its_legend_text() {
        let chart = render("t", (600, 300), |plot, side| {
            let mut c = ChartBuilder::on(plot)
                .caption("Title (MiB)", title_font())
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
            mesh(&mut c, "x (s)", "y (MiB)", 5)?;
            legend(
                side,
                "legend",
                &[("user_turn".into(), Mark::Fill(Colour(1, 2, 3)))],
            )
        })
        .unwrap();
        assert!(chart.svg.starts_with("<svg"), "{}", &chart.svg[..40]);
        // plotters puts a text's content on a line of its own.
        assert!(chart.svg.contains(">\nuser_turn\n</text>"), "{}", chart.svg);
        assert!(chart.svg.contains("#010203"));
        assert!(chart.svg.contains("y (MiB)"));
    }

    #[test]
    fn notes_wrap_at_spaces() {
        assert_eq!(wrap("a bb ccc dddd", 6), vec!["a bb", "ccc", "dddd"]);
        assert_eq!(headroom(0.0), 1.0);
    }
}
