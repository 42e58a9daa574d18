//! The validation block: the replay's mean over trials against the trace, figure by figure.

use std::collections::BTreeMap;

use super::{Fit, SimulatedFigures, Validation};
use crate::attribute::cost::PriceTable;
use crate::simulate::model::tally;
use crate::simulate::monte_carlo::Outcome;
use crate::simulate::results::total_cost;
use crate::simulate::scenario::Scenario;

/// Compares the replay (`outcome` of `replay`) with the trace the fit came from.
/// `max_relative_error` covers requests, every token type, cost and peak RSS (errors are not
/// modelled: they are shown, not compared).
pub fn validate(
    fit: &Fit,
    replay: &Scenario,
    outcome: &Outcome,
    prices: &PriceTable,
) -> Validation {
    let n = outcome.trials.len().max(1) as f64;
    let t = &outcome.tally;
    let field = |f: usize| -> f64 {
        crate::observation::Category::ALL
            .iter()
            .map(|&c| t.category_field(c, f) as f64)
            .sum::<f64>()
            / n
    };
    let trials_with_peak: Vec<f64> = outcome
        .trials
        .iter()
        .map(|t| t.ram_peak_bytes as f64)
        .collect();
    let simulated = SimulatedFigures {
        requests: field(tally::REQUESTS),
        errors: 0.0,
        input_tokens: field(tally::INPUT),
        output_tokens: field(tally::OUTPUT),
        cache_creation_input_tokens: field(tally::WRITE_5M) + field(tally::WRITE_1H),
        cache_read_input_tokens: field(tally::READ),
        cost_usd: total_cost(t, replay, prices).map(|c| c / n),
        peak_rss_bytes: fit
            .trace
            .peak_rss_bytes
            .map(|_| trials_with_peak.iter().sum::<f64>() / n),
    };
    let tr = &fit.trace;
    let pairs: [(&str, Option<f64>, Option<f64>); 7] = [
        (
            "requests",
            Some(tr.requests as f64),
            Some(simulated.requests),
        ),
        (
            "input_tokens",
            Some(tr.input_tokens as f64),
            Some(simulated.input_tokens),
        ),
        (
            "output_tokens",
            Some(tr.output_tokens as f64),
            Some(simulated.output_tokens),
        ),
        (
            "cache_creation_input_tokens",
            Some(tr.cache_creation_input_tokens as f64),
            Some(simulated.cache_creation_input_tokens),
        ),
        (
            "cache_read_input_tokens",
            Some(tr.cache_read_input_tokens as f64),
            Some(simulated.cache_read_input_tokens),
        ),
        ("cost_usd", tr.cost_usd, simulated.cost_usd),
        (
            "peak_rss_bytes",
            tr.peak_rss_bytes.map(|b| b as f64),
            simulated.peak_rss_bytes,
        ),
    ];
    let mut relative_errors = BTreeMap::new();
    for (name, trace, sim) in pairs {
        if let (Some(trace), Some(sim)) = (trace, sim) {
            let scale = if name == "cost_usd" {
                trace.abs().max(1e-9)
            } else {
                trace.abs().max(1.0)
            };
            relative_errors.insert(name.to_string(), (sim - trace).abs() / scale);
        }
    }
    let max_relative_error = relative_errors.values().copied().fold(0.0, f64::max);
    Validation {
        trace: fit.trace.clone(),
        simulated,
        relative_errors,
        max_relative_error,
    }
}
