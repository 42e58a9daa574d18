//! Calibration: fit a scenario to a measured trace, then replay the fitted workload over the
//! trace's own duration and sessions and compare (the `validation` block).
//!
//! `observe` measures the trace, `fit` turns that into scenario settings, `peak` matches the
//! replay's peak RSS, `validation` compares the replay with the trace.

mod fit;
mod observe;
mod peak;
#[cfg(test)]
mod tests;
mod validation;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use fit::fit;
pub use peak::match_peak;
pub use validation::validate;

use crate::simulate::scenario::overrides::Setting;

/// A fitted workload: settings for every run, and the extra settings of the replay.
#[derive(Debug, Clone)]
pub struct Fit {
    pub settings: Vec<Setting>,
    pub replay: Vec<Setting>,
    pub calibration: Calibration,
    pub trace: TraceFigures,
}

/// What was fitted from which trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub trace: String,
    /// Every parameter taken from the trace, by dotted key.
    pub fitted: BTreeMap<String, serde_json::Value>,
    pub notes: Vec<String>,
}

/// The trace's figures next to the replay's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    pub trace: TraceFigures,
    pub simulated: SimulatedFigures,
    pub relative_errors: BTreeMap<String, f64>,
    pub max_relative_error: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceFigures {
    pub requests: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cost_usd: Option<f64>,
    pub peak_rss_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulatedFigures {
    pub requests: f64,
    pub errors: f64,
    pub input_tokens: f64,
    pub output_tokens: f64,
    pub cache_creation_input_tokens: f64,
    pub cache_read_input_tokens: f64,
    pub cost_usd: Option<f64>,
    pub peak_rss_bytes: Option<f64>,
}
