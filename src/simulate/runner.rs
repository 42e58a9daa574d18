//! From a request (scenario, overrides, sweeps, optional calibration trace) to a finished
//! [`Simulation`]: resolve every run's scenario first (so bad input fails before any work and
//! the caller knows how much work there is), then run them one after the other.

use std::collections::BTreeMap;
use std::path::Path;

use super::calibrate::{self, Fit};
use super::model::plan::Plan;
use super::monte_carlo;
use super::results::{SIMULATION_SCHEMA, Simulation, build_run};
use super::scenario::Scenario;
use super::scenario::load::{ScenarioError, ScenarioText};
use super::scenario::overrides::{Setting, grid};
use crate::attribute::cost::PriceTable;
use crate::attribute::kv::KvProfile;
use crate::output::trace::{TraceReadError, read_trace};

/// Why a simulation could not be set up. All of these are the user's input.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("--calibrate: {0}")]
    Trace(#[from] TraceReadError),
    #[error("--calibrate {trace}: {message}")]
    Calibration { trace: String, message: String },
}

/// What to simulate.
pub struct Request<'a> {
    pub base: ScenarioText,
    pub sets: Vec<Setting>,
    /// One list of settings per `--sweep`.
    pub sweeps: Vec<Vec<Setting>>,
    pub calibrate: Option<&'a Path>,
    pub prices: &'a PriceTable,
}

/// Every run resolved, ready to execute.
pub struct Prepared<'a> {
    runs: Vec<(Scenario, BTreeMap<String, String>)>,
    replay: Option<(Scenario, Fit)>,
    prices: &'a PriceTable,
}

impl Prepared<'_> {
    /// Developer-trials to simulate (for a progress bar).
    pub fn work(&self) -> u64 {
        self.all()
            .map(|s| u64::from(s.resolved_trials()) * u64::from(s.developers()))
            .sum()
    }

    /// Agent-days to simulate: how long the run will take, roughly.
    pub fn agent_days(&self) -> f64 {
        self.all()
            .map(|s| f64::from(s.resolved_trials()) * f64::from(s.sessions) * s.days)
            .sum()
    }

    fn all(&self) -> impl Iterator<Item = &Scenario> {
        self.runs
            .iter()
            .map(|(s, _)| s)
            .chain(self.replay.iter().map(|(s, _)| s))
    }
}

/// Resolves the request: every sweep point's scenario, and the calibration's.
pub fn prepare<'a>(request: Request<'a>) -> Result<Prepared<'a>, SimulateError> {
    let fit = match request.calibrate {
        Some(path) => {
            let trace = read_trace(path)?;
            let base = request.base.parse()?;
            let mut fit = calibrate::fit(&trace, &base, request.prices).map_err(|message| {
                SimulateError::Calibration {
                    trace: path.display().to_string(),
                    message,
                }
            })?;
            calibrate::match_peak(&mut fit, &request.base, request.prices)?;
            Some(fit)
        }
        None => None,
    };
    let fitted: Vec<Setting> = fit.as_ref().map_or(Vec::new(), |f| f.settings.clone());
    let mut runs = Vec::new();
    for point in grid(&request.sweeps) {
        let mut settings = fitted.clone();
        settings.extend(request.sets.iter().cloned());
        settings.extend(point.iter().cloned());
        let mut scenario = request.base.resolve(&settings)?;
        let labels: BTreeMap<String, String> = point
            .iter()
            .map(|s| (s.key.clone(), s.value.clone()))
            .collect();
        if fit.is_some() {
            scenario.name = format!("{} (calibrated)", scenario.name);
        }
        if !labels.is_empty() {
            let label: Vec<String> = point.iter().map(|s| s.text.clone()).collect();
            scenario.name = format!("{} [{}]", scenario.name, label.join(" "));
        }
        runs.push((scenario, labels));
    }
    let replay = match fit {
        Some(fit) => {
            let mut settings = fit.settings.clone();
            settings.extend(fit.replay.iter().cloned());
            let mut scenario = request.base.resolve(&settings)?;
            scenario.name = "replay".into();
            Some((scenario, fit))
        }
        None => None,
    };
    Ok(Prepared {
        runs,
        replay,
        prices: request.prices,
    })
}

/// Runs everything; `progress` hears about each finished developer-trial.
pub fn execute(prepared: Prepared<'_>, progress: &(dyn Fn(u64) + Sync)) -> Simulation {
    let prices = prepared.prices;
    let mut simulation = Simulation {
        schema: SIMULATION_SCHEMA.to_string(),
        runs: Vec::with_capacity(prepared.runs.len()),
        calibration: None,
        validation: None,
    };
    for (scenario, labels) in &prepared.runs {
        let mut run = run_one(scenario, prices, progress).0;
        run.sweep = labels.clone();
        simulation.runs.push(run);
    }
    if let Some((scenario, fit)) = prepared.replay {
        let (_, outcome) = run_one(&scenario, prices, progress);
        simulation.validation = Some(calibrate::validate(&fit, &scenario, &outcome, prices));
        simulation.calibration = Some(fit.calibration);
    }
    simulation
}

fn run_one(
    scenario: &Scenario,
    prices: &PriceTable,
    progress: &(dyn Fn(u64) + Sync),
) -> (super::results::Run, monte_carlo::Outcome) {
    // Validation has checked the name; the default is only a fallback for a total function.
    let profile = KvProfile::by_name(&scenario.kv_profile).unwrap_or(KvProfile::default_profile());
    let plan = Plan::new(scenario, prices);
    let outcome = monte_carlo::run(&plan, progress);
    (build_run(scenario, &outcome, prices, profile), outcome)
}

/// Runs one resolved scenario (for tests and benches).
pub fn simulate_scenario(scenario: &Scenario, prices: &PriceTable) -> super::results::Run {
    run_one(scenario, prices, &|_| {}).0
}
