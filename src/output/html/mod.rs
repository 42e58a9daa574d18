//! HTML reports: a self-contained `index.html` with inline SVG charts, for a report of traces
//! (`report --html`, `demo`) and for a simulation (`simulate --html`).
//!
//! - [`target`]: where the page goes and what may be overwritten there;
//! - [`page`]: the HTML document, its CSS and tables; [`tables`]: the report's tables;
//! - [`series`]: the time series of traces the charts draw; [`thin`]: fewer points than pixels;
//!   [`days`]: the calendar of the per-day charts;
//! - [`charts`]: one file per chart; [`palette`]: one colour per category everywhere;
//!   [`units`]: axis units and number formats;
//! - [`report_page`] (with [`report_days`], its section of days) and [`simulation_page`]: the
//!   two pages.

pub mod charts;
pub mod compare_page;
pub mod days;
pub mod page;
pub mod palette;
pub mod report_days;
pub mod report_page;
pub mod series;
pub mod simulation_page;
pub mod tables;
pub mod target;
pub mod thin;
pub mod units;

use std::path::PathBuf;

use crate::attribute::Summary;
use crate::attribute::cost::PriceTable;
use crate::attribute::kv::KvProfile;
use crate::output::trace::ReadTrace;
use crate::simulate::results::Simulation;

pub use charts::ChartError;
pub use target::{HtmlTarget, TargetError};

/// Why an HTML report was not written.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// The directory or file: the user's to fix (exit code 2).
    #[error(transparent)]
    Target(#[from] TargetError),
    /// A chart could not be drawn (a bug: exit code 1).
    #[error(transparent)]
    Chart(#[from] ChartError),
}

/// Writes the report page of `traces` (summarised as `summary`) to `target`; returns the path
/// of `index.html`.
pub fn write_report(
    target: &HtmlTarget,
    summary: &Summary,
    traces: &[ReadTrace],
    prices: &PriceTable,
    profile: &KvProfile,
) -> Result<PathBuf, HtmlError> {
    let zone = days::zone_of(&summary.rows_by.timezone);
    let series = series::collect(traces, prices, profile, &zone);
    let html = report_page::render(summary, &series)?;
    Ok(target.write(&html)?)
}

/// Writes the page of a comparison of A's traces with B's to `target`; returns the path of
/// `index.html`.
pub fn write_compare(
    target: &HtmlTarget,
    a: &[PathBuf],
    b: &[PathBuf],
    comparison: &crate::attribute::compare::Comparison,
) -> Result<PathBuf, HtmlError> {
    let html = compare_page::render(a, b, comparison)?;
    Ok(target.write(&html)?)
}

/// Writes the page of a simulation to `target`; returns the path of `index.html`.
pub fn write_simulation(
    target: &HtmlTarget,
    simulation: &Simulation,
) -> Result<PathBuf, HtmlError> {
    let html = simulation_page::render(simulation)?;
    Ok(target.write(&html)?)
}
