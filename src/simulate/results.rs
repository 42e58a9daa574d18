//! The simulation output model: its serde shape is the spec's `agentprof.simulation/v1`
//! JSON, and the terminal tables read the same numbers.
//!
//! Dollars are computed here, once, from the integer token sums, with the report's price
//! table (long-context tier decided per call, in the model). Every figure per developer-day
//! is a mean over developers, days and trials.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::plan::{KV_BUCKETS, RAM_CELLS};
use super::model::tally::{self, ModelSlot, Tally};
use super::monte_carlo::Outcome;
use super::scenario::Scenario;
use crate::attribute::cost::PriceTable;
use crate::attribute::kv::KvProfile;
use crate::observation::{Category, Usage};

pub const SIMULATION_SCHEMA: &str = "agentprof.simulation/v1";

const GIB: f64 = (1u64 << 30) as f64;

/// Workstation sizes a recommendation rounds up to, GiB.
pub const STANDARD_RAM_GIB: [u32; 10] = [8, 16, 24, 32, 48, 64, 96, 128, 192, 256];

/// The whole output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulation {
    pub schema: String,
    pub runs: Vec<Run>,
    /// With `--calibrate`: what was fitted from which trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<super::calibrate::Calibration>,
    /// With `--calibrate`: the replay of the trace against the trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<super::calibrate::Validation>,
}

/// One scenario (or one point of a sweep).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub name: String,
    /// Every parameter, as in a scenario file.
    pub params: serde_json::Value,
    /// The swept keys and their values at this point.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sweep: BTreeMap<String, String>,
    pub developers: u32,
    pub trials: u32,
    pub per_user_day: PerUserDay,
    pub server_kv: ServerKv,
    pub client_ram: ClientRam,
    pub recommended_workstation_ram_gib: u32,
    /// Counts per developer-day: turns, cache misses, compactions, dreams, …
    pub events_per_user_day: BTreeMap<String, f64>,
    pub assumptions: Vec<String>,
    pub warnings: Vec<String>,
    /// Distributions and time series for the HTML report (not part of the JSON).
    #[serde(skip)]
    pub charts: RunCharts,
}

/// What only charts need: too long for JSON and tables, cheap to keep.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunCharts {
    /// Workstation RAM samples: (bytes, how many), in value order, at the histogram's
    /// precision (3 significant digits: a few thousand pairs at most).
    pub ram_samples: Vec<(u64, u64)>,
    /// The fleet's server KV bytes per time bucket (the sum over sessions of each one's
    /// highest level in the bucket, as `server_kv.peak_bytes`), mean over trials.
    pub kv_bytes: Vec<u64>,
    pub kv_bucket_s: f64,
}

/// Per developer-day, by category (all eight always present).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerUserDay {
    pub tokens: BTreeMap<String, u64>,
    /// `null` when a model of the category has no price.
    pub cost_usd: BTreeMap<String, Option<f64>>,
    pub requests: BTreeMap<String, f64>,
    pub token_types: BTreeMap<String, TokenTypes>,
    pub total_tokens: u64,
    pub total_cost_usd: Option<f64>,
    /// (everything − user_turn) ÷ user_turn.
    pub overhead_ratio: OverheadRatio,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TokenTypes {
    pub input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OverheadRatio {
    pub tokens: Option<f64>,
    pub cost: Option<f64>,
}

/// Server KV cache of the whole fleet, under an assumed architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerKv {
    pub profile: String,
    pub bytes_per_token: u64,
    /// Mean over trials of the fleet's peak.
    pub peak_bytes: u64,
    /// Mean over the run and the trials.
    pub mean_bytes: u64,
    /// KV held over the whole run (mean over trials).
    pub gib_hours: f64,
    /// The highest peak of any trial.
    pub peak_bytes_max: u64,
    pub bucket_seconds: f64,
    pub assumption: String,
}

/// RAM of agent processes on one workstation, over the time any of them runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRam {
    pub p50_bytes: u64,
    pub p95_bytes: u64,
    pub p99_bytes: u64,
    pub max_bytes: u64,
    pub samples: u64,
    pub sample_seconds: f64,
}

/// Smallest standard size ≥ p99 + allowance; above 256 GiB, the next multiple of 128.
pub fn recommended_ram_gib(p99_bytes: u64, allowance_gib: f64) -> u32 {
    let need = p99_bytes as f64 / GIB + allowance_gib;
    STANDARD_RAM_GIB
        .iter()
        .copied()
        .find(|&size| f64::from(size) >= need)
        .unwrap_or_else(|| ((need / 128.0).ceil() as u32).saturating_mul(128))
}

/// Builds a run from the trials' outcome.
pub fn build_run(
    scenario: &Scenario,
    outcome: &Outcome,
    prices: &PriceTable,
    profile: &KvProfile,
) -> Run {
    let trials = outcome.trials.len().max(1) as f64;
    let developer_days = f64::from(scenario.developers()) * scenario.days * trials;
    let per_day = |x: u64| x as f64 / developer_days;
    let models = [
        (ModelSlot::Main, scenario.model.main.as_str()),
        (ModelSlot::Small, scenario.model.small.as_str()),
        (ModelSlot::Sub, scenario.subagent_model()),
    ];
    let mut warnings = Vec::new();
    for (_, model) in models {
        if prices.lookup(model).is_none() && !warnings.iter().any(|w: &String| w.contains(model)) {
            warnings.push(crate::attribute::cost::unpriced_warning(model, None));
        }
    }

    let mut per_user_day = PerUserDay {
        tokens: BTreeMap::new(),
        cost_usd: BTreeMap::new(),
        requests: BTreeMap::new(),
        token_types: BTreeMap::new(),
        total_tokens: 0,
        total_cost_usd: Some(0.0),
        overhead_ratio: OverheadRatio {
            tokens: None,
            cost: None,
        },
    };
    let t = &outcome.tally;
    for category in Category::ALL {
        let key = category.as_str().to_string();
        let cost = category_cost(t, category, &models, prices).map(|c| c / developer_days);
        per_user_day.total_cost_usd = per_user_day.total_cost_usd.zip(cost).map(|(a, b)| a + b);
        per_user_day.tokens.insert(
            key.clone(),
            per_day(t.category_tokens(category)).round() as u64,
        );
        per_user_day.cost_usd.insert(key.clone(), cost);
        per_user_day.requests.insert(
            key.clone(),
            per_day(t.category_field(category, tally::REQUESTS)),
        );
        let field = |f: usize| per_day(t.category_field(category, f)).round() as u64;
        per_user_day.token_types.insert(
            key,
            TokenTypes {
                input_tokens: field(tally::INPUT),
                cache_creation_input_tokens: field(tally::WRITE_5M) + field(tally::WRITE_1H),
                cache_read_input_tokens: field(tally::READ),
                output_tokens: field(tally::OUTPUT),
            },
        );
    }
    let all_tokens: u64 = Category::ALL.iter().map(|&c| t.category_tokens(c)).sum();
    per_user_day.total_tokens = per_day(all_tokens).round() as u64;
    let user_tokens = t.category_tokens(Category::UserTurn);
    per_user_day.overhead_ratio = OverheadRatio {
        tokens: (user_tokens > 0).then(|| (all_tokens - user_tokens) as f64 / user_tokens as f64),
        cost: match (
            per_user_day.total_cost_usd,
            per_user_day
                .cost_usd
                .get(Category::UserTurn.as_str())
                .copied()
                .flatten(),
        ) {
            (Some(total), Some(user)) if user > 0.0 => Some((total - user) / user),
            _ => None,
        },
    };

    let server_kv = server_kv(scenario, outcome, profile);
    let kv_bucket_s = server_kv.bucket_seconds;
    let client_ram = client_ram(scenario, outcome);
    let recommended = recommended_ram_gib(client_ram.p99_bytes, scenario.ram.allowance_gib);
    let events_per_user_day = outcome
        .events
        .named()
        .into_iter()
        .map(|(name, count)| (name.to_string(), per_day(count)))
        .collect();
    let assumptions = vec![
        crate::attribute::cost::prices_assumption(prices.as_of(), prices.source()),
        format!(
            "server KV: {} — an assumption: the served model's architecture is not public",
            profile.describe()
        ),
        format!(
            "server KV peak: per {:.0}-second bucket, the sum over sessions of each one's highest level (exact for one session, an upper bound for a fleet)",
            server_kv.bucket_seconds
        ),
        format!(
            "client RAM: RSS of agent processes summed per workstation, the highest in each {:.0}-second sample, while any agent runs; recommended = p99 + {} GiB for OS, IDE and browser, rounded up to a standard size",
            client_ram.sample_seconds, scenario.ram.allowance_gib
        ),
    ];
    Run {
        name: scenario.name.clone(),
        params: serde_json::to_value(scenario).unwrap_or(serde_json::Value::Null),
        sweep: BTreeMap::new(),
        developers: scenario.developers(),
        trials: outcome.trials.len() as u32,
        per_user_day,
        server_kv,
        client_ram,
        recommended_workstation_ram_gib: recommended,
        events_per_user_day,
        assumptions,
        warnings,
        charts: RunCharts {
            ram_samples: ram_samples(outcome),
            kv_bytes: outcome
                .kv_buckets
                .iter()
                .map(|&tokens| {
                    let bytes = u128::from(tokens) * u128::from(profile.bytes_per_token());
                    u64::try_from(bytes / outcome.trials.len().max(1) as u128).unwrap_or(u64::MAX)
                })
                .collect(),
            kv_bucket_s,
        },
    }
}

/// The RAM samples as the histogram holds them: (bytes, samples), in value order.
fn ram_samples(outcome: &Outcome) -> Vec<(u64, u64)> {
    outcome.ram.as_ref().map_or(Vec::new(), |h| {
        h.iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect()
    })
}

/// USD of everything in the tally (`None` if a used model has no price).
pub fn total_cost(t: &Tally, scenario: &Scenario, prices: &PriceTable) -> Option<f64> {
    let models = [
        (ModelSlot::Main, scenario.model.main.as_str()),
        (ModelSlot::Small, scenario.model.small.as_str()),
        (ModelSlot::Sub, scenario.subagent_model()),
    ];
    Category::ALL
        .iter()
        .map(|&c| category_cost(t, c, &models, prices))
        .sum()
}

/// USD of one category, summed over model slots and price tiers; `None` if a slot that
/// was used has no price.
fn category_cost(
    t: &Tally,
    category: Category,
    models: &[(ModelSlot, &str); 3],
    prices: &PriceTable,
) -> Option<f64> {
    let mut total = 0.0;
    for &(slot, model) in models {
        for long in [false, true] {
            let get = |field| t.get(category, slot, long, field);
            if get(tally::REQUESTS) == 0 {
                continue;
            }
            let usage = Usage {
                input_tokens: get(tally::INPUT),
                output_tokens: get(tally::OUTPUT),
                cache_creation_input_tokens: get(tally::WRITE_5M) + get(tally::WRITE_1H),
                cache_read_input_tokens: get(tally::READ),
                cache_creation_5m_input_tokens: get(tally::WRITE_5M),
                cache_creation_1h_input_tokens: get(tally::WRITE_1H),
                reasoning_output_tokens: 0,
                tool_use_input_tokens: 0,
            };
            total += prices.lookup(model)?.cost_in_tier(&usage, long)?;
        }
    }
    Some(total)
}

fn server_kv(scenario: &Scenario, outcome: &Outcome, profile: &KvProfile) -> ServerKv {
    let bpt = profile.bytes_per_token();
    let n = outcome.trials.len().max(1) as f64;
    let bytes = |tokens: u64| u128::from(tokens) * u128::from(bpt);
    let peak_mean = outcome
        .trials
        .iter()
        .map(|t| bytes(t.kv_peak_tokens) as f64)
        .sum::<f64>()
        / n;
    let peak_max = outcome
        .trials
        .iter()
        .map(|t| bytes(t.kv_peak_tokens))
        .max()
        .unwrap_or(0);
    let byte_seconds = outcome
        .trials
        .iter()
        .map(|t| t.kv_token_us as f64 * bpt as f64 / 1e6)
        .sum::<f64>()
        / n;
    let duration = scenario.duration_s();
    ServerKv {
        profile: profile.name.to_string(),
        bytes_per_token: bpt,
        peak_bytes: peak_mean.round() as u64,
        mean_bytes: (byte_seconds / duration).round() as u64,
        gib_hours: byte_seconds / GIB / 3600.0,
        peak_bytes_max: u64::try_from(peak_max).unwrap_or(u64::MAX),
        bucket_seconds: duration / KV_BUCKETS as f64,
        assumption: profile.describe(),
    }
}

fn client_ram(scenario: &Scenario, outcome: &Outcome) -> ClientRam {
    let q = |quantile: f64| {
        outcome
            .ram
            .as_ref()
            .filter(|h| !h.is_empty())
            .map_or(0, |h| h.value_at_quantile(quantile).min(outcome.ram_max))
    };
    let sample_seconds = if scenario.ram.sample_seconds > 0.0 {
        scenario.ram.sample_seconds
    } else {
        scenario.duration_s() / RAM_CELLS as f64
    };
    ClientRam {
        p50_bytes: q(0.50),
        p95_bytes: q(0.95),
        p99_bytes: q(0.99),
        max_bytes: outcome.ram_max,
        samples: outcome.ram.as_ref().map_or(0, |h| h.len()),
        sample_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommendations_round_up_to_standard_sizes() {
        let gib = 1u64 << 30;
        assert_eq!(recommended_ram_gib(0, 8.0), 8);
        assert_eq!(recommended_ram_gib(gib / 2, 8.0), 16);
        assert_eq!(recommended_ram_gib(8 * gib, 8.0), 16);
        assert_eq!(recommended_ram_gib(8 * gib + 1, 8.0), 24);
        assert_eq!(recommended_ram_gib(20 * gib, 8.0), 32);
        assert_eq!(recommended_ram_gib(100 * gib, 8.0), 128);
        assert_eq!(recommended_ram_gib(250 * gib, 8.0), 384);
    }
}
