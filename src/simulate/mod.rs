//! The simulator behind `agentprof simulate`: projects tokens, dollars, server KV and client
//! RAM of a workload — today's, a 1M-context one, a swarm, a daemon — from a scenario, and
//! calibrates scenarios from measured traces.
//!
//! - [`scenario`]: the parameters (TOML), presets, `--set` and `--sweep`.
//! - [`model`]: what one developer's agents do, turn by turn.
//! - [`monte_carlo`]: trials × developers in parallel, merged into distributions.
//! - [`results`]: the `agentprof.simulation/v1` JSON model, priced with the report's table.
//! - [`calibrate`]: fitting a scenario to a trace, and the replay that validates the fit.
//! - [`output`]: terminal tables and JSON.

pub mod calibrate;
pub mod model;
pub mod monte_carlo;
pub mod output;
pub mod presets;
pub mod results;
pub mod runner;
pub mod scenario;

#[cfg(test)]
mod tests;
