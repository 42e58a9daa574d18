//! The HTML page of `agentprof compare --html` (and `ab --html`): the verdicts, each scope's
//! mean cost A beside B, and the table of every row.

use std::path::PathBuf;

use super::charts::{self, ChartError};
use super::page::{Cell, HtmlTable, Page};
use crate::attribute::compare::{Comparison, Row};
use crate::output::compare::value;

/// Renders the page.
pub fn render(a: &[PathBuf], b: &[PathBuf], comparison: &Comparison) -> Result<String, ChartError> {
    let mut page = Page::new("agentprof compare");
    page.h1("agentprof compare");
    page.p(
        "sub",
        &format!(
            "A: {} run(s) · B: {} run(s) · B − A with a {:.0} % confidence interval (Welch) where both sides have two runs or more",
            a.len(),
            b.len(),
            comparison.confidence * 100.0
        ),
    );
    let files = |side: &str, paths: &[PathBuf]| -> Vec<String> {
        paths
            .iter()
            .map(|p| format!("{side}: {}", p.display()))
            .collect()
    };
    page.list("note", &[files("A", a), files("B", b)].concat());
    page.h2("verdicts", "Verdicts");
    if comparison.verdicts.is_empty() {
        page.p("", "No category's cost differs.");
    } else {
        page.list("", &comparison.verdicts);
    }
    page.figure(&charts::compare::cost(&comparison.rows)?, "");
    page.h2("rows", "Every figure");
    let mut table = HtmlTable::new(&[
        "scope",
        "figure",
        "A mean",
        "A sd",
        "B mean",
        "B sd",
        "B − A",
        "95 % interval",
        "B / A",
    ]);
    for row in &comparison.rows {
        table.row(cells(row));
    }
    page.table(&table);
    if !comparison.unknown.is_empty() {
        page.p(
            "note",
            &format!(
                "Not compared (unknown in some run: an unpriced model, no memory samples): {}",
                comparison.unknown.join(", ")
            ),
        );
    }
    Ok(page.finish(&format!(
        "Written by agentprof {} (agentprof compare). Charts are inline SVG; the page loads nothing.",
        env!("CARGO_PKG_VERSION")
    )))
}

fn cells(row: &Row) -> Vec<Cell> {
    let number = |v: f64| Cell::num(value(row, v));
    let optional = |v: Option<f64>| v.map_or(Cell::num("-"), number);
    vec![
        Cell::text(row.scope.clone()),
        Cell::text(row.figure),
        number(row.a.mean),
        optional(row.a.sd),
        number(row.b.mean),
        optional(row.b.sd),
        number(row.difference.delta),
        Cell::num(row.difference.interval.map_or("-".into(), |(lo, hi)| {
            format!("{} … {}", value(row, lo), value(row, hi))
        })),
        Cell::num(
            row.difference
                .ratio
                .map_or("-".into(), |r| format!("{r:.3}×")),
        ),
    ]
}
