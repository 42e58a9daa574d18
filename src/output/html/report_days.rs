//! The report page's section of days: cost per day stacked by category and the overhead share
//! per day over the report's whole calendar, and with several agents each agent's totals.
//!
//! When every call fell on one day — a live trace of a few minutes, a one-day import — the
//! section is one line with that day's figures instead of two charts of one bar each: the
//! headline cards above already say what such a bar would, and the per-turn charts below break
//! that day down by turn, which is what a short run is read by.

use super::charts::{ChartError, daily_cost, daily_overhead, day_axis};
use super::days::Calendar;
use super::page::{Cell, HtmlTable, Page};
use super::units;

/// Appends the section of `calendar`'s days; `prices_as_of` names the price table.
pub fn section(page: &mut Page, calendar: &Calendar, prices_as_of: &str) -> Result<(), ChartError> {
    page.h2("days", "Cost and overhead per day");
    let days = &calendar.days;
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        page.p("empty", "No calls: no day to draw.");
        return Ok(());
    };
    if days.len() == 1 {
        page.p("", &one_day(calendar));
        return Ok(());
    }
    let cost = daily_cost::chart(calendar)?;
    let overhead = daily_overhead::chart(calendar)?;
    let wide = cost.size.0 > day_axis::MIN_WIDTH;
    let scroll = if wide {
        " The chart is wider than the page: scroll it sideways."
    } else {
        ""
    };
    let cost_caption = format!(
        "One bar per day with calls from {} to {} in {} — the days of `--by day`, whatever `--by` was asked; days without calls are gaps. Dollars from the price table as of {prices_as_of}; a model without a price is `unpriced`, never $0.{scroll}",
        first.date, last.date, calendar.zone
    );
    let overhead_caption = format!(
        "Of each day's tokens (bars) and cost (line), the share not spent on user_turn: the `overhead_share` and `overhead_cost_share` of `--by day`.{scroll}"
    );
    for (chart, caption) in [(&cost, cost_caption), (&overhead, overhead_caption)] {
        if wide {
            page.scrolling_figure(chart, &caption);
        } else {
            page.figure(chart, &caption);
        }
    }
    if calendar.undated.requests > 0 {
        page.p(
            "warn",
            &format!(
                "{} calls have no day (a time out of range) and are in no bar.",
                calendar.undated.requests
            ),
        );
    }
    if calendar.agents.len() > 1 {
        page.h3("By agent");
        page.table(&agents(calendar));
    }
    Ok(())
}

/// The line that stands for the charts when every call fell on one day.
fn one_day(calendar: &Calendar) -> String {
    let day = &calendar.days[0];
    let percent = |s: Option<f64>| s.map_or("n/a".to_string(), |s| format!("{:.1} %", s * 100.0));
    match &day.calls {
        Some(calls) => format!(
            "Every call was made on {} ({}): {}, {} tokens, overhead share {} of tokens and {} of cost — one day, so no per-day chart; the per-turn charts break it down.",
            day.date,
            calendar.zone,
            units::cost(calls.totals.cost_usd),
            units::thousands(calls.totals.total_tokens() as i64),
            percent(calls.overhead_share),
            percent(calls.overhead_cost_share),
        ),
        None => format!("No calls on {}.", day.date),
    }
}

/// Each agent's totals over the calendar.
fn agents(calendar: &Calendar) -> HtmlTable {
    let mut table = HtmlTable::new(&[
        "agent",
        "days with calls",
        "calls",
        "tokens",
        "cost",
        "overhead share (tokens)",
        "overhead share (cost)",
    ]);
    let percent =
        |s: Option<f64>| Cell::num(s.map_or("n/a".to_string(), |s| format!("{:.1} %", s * 100.0)));
    for agent in &calendar.agents {
        table.row(vec![
            Cell::text(agent.agent.clone()),
            Cell::num(agent.active_days.to_string()),
            Cell::num(units::thousands(agent.totals.requests as i64)),
            Cell::num(units::thousands(agent.totals.total_tokens() as i64)),
            Cell::cost(agent.totals.cost_usd),
            percent(agent.overhead_share),
            percent(agent.overhead_cost_share),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::html::charts::Chart;
    use crate::output::html::days::tests::row;

    fn rendered(calendar: &Calendar) -> String {
        let mut page = Page::new("t");
        section(&mut page, calendar, "2026-01-01").unwrap();
        page.finish("")
    }

    #[test]
    fn one_day_is_a_line_not_two_charts_of_one_bar() {
        let calendar = Calendar::of(
            &[row(
                "2026-03-08",
                "claude-code",
                (75, Some(3.0)),
                (25, Some(1.0)),
            )],
            "Europe/Berlin",
        );
        let html = rendered(&calendar);
        assert!(!html.contains("<figure"), "{html}");
        assert!(
            html.contains("Every call was made on 2026-03-08 (Europe/Berlin): $4.00, 100 tokens, overhead share 25.0 % of tokens and 25.0 % of cost"),
            "{html}"
        );
    }

    #[test]
    fn several_days_draw_both_charts_and_several_agents_a_table() {
        let calendar = Calendar::of(
            &[
                row(
                    "2026-03-08",
                    "claude-code",
                    (75, Some(3.0)),
                    (25, Some(1.0)),
                ),
                row("2026-03-10", "codex", (75, None), (25, Some(1.0))),
            ],
            "UTC",
        );
        let html = rendered(&calendar);
        let ids: Vec<&str> = html
            .split("id=\"chart-")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .collect();
        assert_eq!(ids, ["daily-cost", "daily-overhead"]);
        assert!(html.contains("By agent"));
        assert!(
            html.contains("class=\"n unpriced\">unpriced"),
            "codex's cost"
        );
        assert!(!html.contains("data-scroll>"), "three days fit the page");
    }

    #[test]
    fn years_of_days_scroll_sideways() {
        let calendar = Calendar::of(
            &[
                row("2024-01-01", "a", (1, Some(1.0)), (1, Some(1.0))),
                row("2025-12-31", "a", (1, Some(1.0)), (1, Some(1.0))),
            ],
            "UTC",
        );
        assert_eq!(calendar.days.len(), 731);
        let html = rendered(&calendar);
        assert_eq!(html.matches("data-scroll>").count(), 2);
        let chart: Chart = daily_cost::chart(&calendar).unwrap();
        assert!(chart.size.0 > 2000);
    }
}
