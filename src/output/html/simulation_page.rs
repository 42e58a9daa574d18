//! The HTML page of `agentprof simulate --html`: for each run, client RAM with the
//! recommendation, cost per developer-day by category and server KV over time; a sweep first
//! compares its runs side by side, then shows each run's charts in a grid.

use super::charts::{self, ChartError};
use super::page::{Cell, HtmlTable, Page};
use super::{palette, units};
use crate::observation::Category;
use crate::simulate::results::{Run, Simulation};

/// Chart size of a lone run, and of runs side by side in a sweep's grid.
const WIDE: (u32, u32) = (1300, 420);
const NARROW: (u32, u32) = (760, 400);

/// Renders the page of a simulation.
pub fn render(simulation: &Simulation) -> Result<String, ChartError> {
    let runs = &simulation.runs;
    let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
    let mut page = Page::new(&format!("agentprof simulation — {}", names.join(", ")));
    page.h1("agentprof simulation");
    page.p(
        "sub",
        &format!(
            "{} run{} · every figure per developer-day is a mean over developers, days and Monte Carlo trials",
            runs.len(),
            if runs.len() == 1 { "" } else { "s" }
        ),
    );
    if let Some(calibration) = &simulation.calibration {
        page.p("", &format!("Calibrated from {}.", calibration.trace));
        let fitted: Vec<String> = calibration
            .fitted
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        page.list("cols", &fitted);
        page.list("note", &calibration.notes);
    }

    if runs.len() > 1 {
        page.h2("sweep", "Runs side by side");
        page.figure(&charts::sweep::cost(runs)?, "");
        page.figure(&charts::sweep::ram(runs)?, "Recommended = p99 of agent RAM plus an allowance for the OS, IDE and browser, rounded up to a standard size.");
        page.figure(&charts::sweep::kv(runs)?, "");
        page.table(&comparison(runs));
    }

    page.h2(
        "runs",
        if runs.len() > 1 {
            "Each run"
        } else {
            "The run"
        },
    );
    let size = if runs.len() > 1 { NARROW } else { WIDE };
    if runs.len() > 1 {
        page.open("grid");
    }
    for (i, run) in runs.iter().enumerate() {
        run_section(&mut page, run, i + 1, size)?;
    }
    if runs.len() > 1 {
        page.close();
    }

    if let Some(validation) = &simulation.validation {
        page.h2("validation", "Validation against the trace");
        let mut table = HtmlTable::new(&["figure", "relative error"]);
        for (key, error) in &validation.relative_errors {
            table.row(vec![
                Cell::text(key.as_str()),
                Cell::num(format!("{:.1} %", error * 100.0)),
            ]);
        }
        page.table(&table);
    }
    Ok(page.finish(&format!(
        "Written by agentprof {} (agentprof simulate). Charts are inline SVG; the page loads nothing.",
        env!("CARGO_PKG_VERSION")
    )))
}

fn run_section(
    page: &mut Page,
    run: &Run,
    number: usize,
    size: (u32, u32),
) -> Result<(), ChartError> {
    page.open("run");
    page.h3(&format!("{number}. {}", run.name));
    let p = &run.params;
    page.p(
        "note",
        &format!(
            "{} agent sessions ({} developers, up to {} agents each), {} days, {} trials, seed {}; model {}, context window {}",
            p["sessions"],
            run.developers,
            p["agents"],
            p["days"],
            run.trials,
            p["seed"],
            p["model"]["main"].as_str().unwrap_or("?"),
            p["model"]["context_window"]
        ),
    );
    page.cards(&[
        (
            "cost / developer-day",
            units::cost(run.per_user_day.total_cost_usd),
        ),
        (
            "tokens / developer-day",
            units::thousands(run.per_user_day.total_tokens as i64),
        ),
        (
            "recommended RAM",
            format!("{} GiB", run.recommended_workstation_ram_gib),
        ),
        ("server KV peak", units::byte_text(run.server_kv.peak_bytes)),
    ]);
    let id = |kind: &str| format!("{kind}-{number}");
    if run.charts.ram_samples.is_empty() {
        page.p("empty", "No agent process ran: no client RAM samples.");
    } else {
        page.figure(&charts::ram::chart(run, &id("ram"), size)?, "");
    }
    page.figure(&charts::cost_per_day::chart(run, &id("cost"), size)?, "");
    page.figure(&charts::sim_kv::chart(run, &id("kv"), size)?, "");
    page.table(&per_day(run));
    page.list("note", &run.assumptions);
    page.list("warn", &run.warnings);
    page.close();
    Ok(())
}

fn per_day(run: &Run) -> HtmlTable {
    let day = &run.per_user_day;
    let mut table = HtmlTable::new(&["category", "calls", "tokens", "cost"]);
    for category in Category::ALL {
        let key = category.as_str();
        table.row(vec![
            Cell::swatch(key, palette::category(category)),
            Cell::num(format!(
                "{:.1}",
                day.requests.get(key).copied().unwrap_or(0.0)
            )),
            Cell::num(units::thousands(
                day.tokens.get(key).copied().unwrap_or(0) as i64
            )),
            Cell::cost(day.cost_usd.get(key).copied().flatten()),
        ]);
    }
    table.row(vec![
        Cell::text("total"),
        Cell::num(format!("{:.1}", day.requests.values().sum::<f64>())),
        Cell::num(units::thousands(day.total_tokens as i64)),
        Cell::cost(day.total_cost_usd),
    ]);
    table
}

fn comparison(runs: &[Run]) -> HtmlTable {
    let (keys, labels) = charts::sweep::labels(runs);
    let mut table = HtmlTable::new(&[
        keys.as_str(),
        "tokens / dev-day",
        "cost / dev-day",
        "RAM p99",
        "recommended RAM",
        "KV peak",
        "KV mean",
        "KV GiB·h",
    ]);
    for (run, label) in runs.iter().zip(labels) {
        table.row(vec![
            Cell::text(label),
            Cell::num(units::thousands(run.per_user_day.total_tokens as i64)),
            Cell::cost(run.per_user_day.total_cost_usd),
            Cell::num(units::byte_text(run.client_ram.p99_bytes)),
            Cell::num(format!("{} GiB", run.recommended_workstation_ram_gib)),
            Cell::num(units::byte_text(run.server_kv.peak_bytes)),
            Cell::num(units::byte_text(run.server_kv.mean_bytes)),
            Cell::num(format!("{:.1}", run.server_kv.gib_hours)),
        ]);
    }
    table
}
