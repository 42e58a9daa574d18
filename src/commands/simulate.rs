//! `agentprof simulate`: resolve the scenarios, run them (progress on stderr when it is a
//! terminal and the run is long), print tables or JSON, and with `--html DIR` write a page.

use std::io::Write;

use super::{html, options, progress};
use crate::cli::SimulateArgs;
use crate::error::InputError;
use crate::output::html::write_simulation;
use crate::simulate::output::{json, table};
use crate::simulate::presets;
use crate::simulate::runner::{self, Request};
use crate::simulate::scenario::load::ScenarioText;
use crate::simulate::scenario::overrides::{parse_set, parse_sweep};

/// Agent-days above which a run is "long" enough for a progress bar.
const LONG_RUN_AGENT_DAYS: f64 = 20_000.0;

/// The `simulate` command.
pub fn run(args: SimulateArgs) -> anyhow::Result<i32> {
    let input = |e: &dyn std::fmt::Display| InputError::new(e.to_string());
    // A bad --html DIR fails before minutes of simulation, and leaves nothing behind.
    let target = args.html.as_deref().map(html::target).transpose()?;
    let prices = options::prices(args.prices.as_deref())?;
    let base = match (&args.scenario, &args.preset) {
        (Some(path), _) => ScenarioText::file(path),
        (None, Some(name)) => ScenarioText::preset(name),
        (None, None) => ScenarioText::preset(presets::DEFAULT),
    }
    .map_err(|e| input(&e))?;
    let sets = args
        .set
        .iter()
        .map(|s| parse_set(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| input(&e))?;
    let sweeps = args
        .sweep
        .iter()
        .map(|s| parse_sweep(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| input(&e))?;
    let prepared = runner::prepare(Request {
        base,
        sets,
        sweeps,
        calibrate: args.calibrate.as_deref(),
        prices: &prices,
    })
    .map_err(|e| input(&e))?;

    let bar = (prepared.agent_days() >= LONG_RUN_AGENT_DAYS)
        .then(|| {
            progress::bar(
                prepared.work(),
                "simulating {wide_bar} {pos}/{len} developer-trials ({eta} left)",
            )
        })
        .flatten();
    let simulation = runner::execute(prepared, &|n| {
        if let Some(bar) = &bar {
            bar.inc(n);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(target) = &target {
        let index = write_simulation(target, &simulation).map_err(html::error)?;
        html::announce(&index);
    }
    let mut stdout = std::io::stdout().lock();
    if args.json {
        json::write(&simulation, &mut stdout)?;
    } else {
        table::write(&simulation, &mut stdout)?;
    }
    stdout.flush()?;
    Ok(0)
}
