//! Matching the replay's peak RSS to the trace's (method of moments).
//!
//! Base RSS, idle slope and sub-agent process RSS are measured directly. Growth per turn is
//! not: the trace's peak is the tree's, and whether a short-lived sub-agent process was
//! alive at the sampled peak is luck of the sampler. So growth per turn is the value that
//! makes the replay's mean peak equal the trace's peak: the mean peak only grows with it,
//! and the same seeded replay gives the same mean every time, so bisection finds it.

use super::Fit;
use crate::attribute::cost::PriceTable;
use crate::simulate::model::plan::Plan;
use crate::simulate::monte_carlo;
use crate::simulate::scenario::load::{ScenarioError, ScenarioText};

const KEY: &str = "ram.growth_per_turn_bytes";
/// Relative precision of the match (well inside the 5 % the validation allows).
const PRECISION: f64 = 1e-3;

/// Adjusts the fit's growth per turn so that the replay's mean peak is the trace's.
pub fn match_peak(
    fit: &mut Fit,
    base: &ScenarioText,
    prices: &PriceTable,
) -> Result<(), ScenarioError> {
    let Some(target) = fit.trace.peak_rss_bytes.map(|b| b as f64) else {
        return Ok(());
    };
    let Some(index) = fit.settings.iter().position(|s| s.key == KEY) else {
        return Ok(());
    };
    let mean_peak = |fit: &Fit, growth: f64| -> Result<f64, ScenarioError> {
        let mut settings = fit.settings.clone();
        settings[index].value = growth.to_string();
        settings.extend(fit.replay.iter().cloned());
        let scenario = base.resolve(&settings)?;
        let outcome = monte_carlo::run(&Plan::new(&scenario, prices), &|_| {});
        let n = outcome.trials.len().max(1) as f64;
        Ok(outcome
            .trials
            .iter()
            .map(|t| t.ram_peak_bytes as f64)
            .sum::<f64>()
            / n)
    };
    let first: f64 = fit.settings[index].value.parse().unwrap_or(0.0);
    let (mut lo, mut hi) = (0.0, first.max(1.0));
    // Widen until the bracket holds the target (the growth per turn can only be too small
    // when the fit's guess was; ten doublings is a thousandfold).
    for _ in 0..10 {
        if mean_peak(fit, hi)? >= target {
            break;
        }
        lo = hi;
        hi *= 2.0;
    }
    if mean_peak(fit, lo)? > target {
        // Even no growth overshoots (the base and sub-agents alone reach the peak).
        hi = lo;
    }
    while hi - lo > PRECISION * hi.max(1.0) {
        let mid = (lo + hi) / 2.0;
        if mean_peak(fit, mid)? < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let growth = ((lo + hi) / 2.0).round();
    fit.settings[index].value = growth.to_string();
    fit.settings[index].text =
        format!("{KEY}={growth} (calibrated from {})", fit.calibration.trace);
    fit.calibration
        .fitted
        .insert(KEY.to_string(), serde_json::json!(growth as u64));
    Ok(())
}
