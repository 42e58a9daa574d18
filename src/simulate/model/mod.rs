//! The workload model: what one developer's agents do over the run, in tokens by category,
//! server KV and client RAM.
//!
//! It is event-driven where randomness and timing matter (prompt arrivals, idle gaps against
//! the cache TTL, compaction points, sub-agent bursts) and aggregated everywhere else: a turn
//! draws its sizes once and walks its calls with arithmetic only, parallel sub-agents are
//! computed once and counted n times, and nothing loops per token. Accumulators are integers
//! (see `tally`, `kv`); `ram` keeps one reusable grid per worker.

pub mod agents;
pub mod cache;
pub mod draw;
pub mod kv;
pub mod periodic;
pub mod plan;
pub mod ram;
pub mod random;
pub mod session;
pub mod tally;

use kv::KvSink;
use plan::Plan;
use ram::RamGrid;
use random::Streams;
use tally::{Events, Tally};

/// What a worker accumulates while simulating developers, plus its scratch space.
#[derive(Debug, Clone)]
pub struct Acc {
    pub tally: Tally,
    pub events: Events,
    pub kv: KvSink,
    /// The current developer's workstation RAM (cleared per developer).
    pub ram: RamGrid,
    /// Scratch: prompt arrival instants.
    pub arrivals: Vec<f64>,
    /// Daemon wake-ups summed in closed form rather than simulated one by one.
    pub summed_wakes: u64,
}

impl Acc {
    pub fn new(plan: &Plan) -> Acc {
        Acc {
            tally: Tally::default(),
            events: Events::default(),
            kv: KvSink::new(plan.kv_buckets, plan.kv_bucket_s, plan.duration_s),
            ram: RamGrid::new(plan.ram_cells, plan.ram_cell_s),
            arrivals: Vec::new(),
            summed_wakes: 0,
        }
    }
}

/// Simulates every agent of one developer in one trial; the developer's RAM is left in
/// `acc.ram`.
pub fn simulate_developer(plan: &Plan, trial: u32, developer: u32, acc: &mut Acc) {
    acc.ram.clear();
    for agent in 0..plan.agents_of(developer) {
        let mut streams = Streams::new(plan.seed, trial, developer, agent);
        if plan.is_daemon(agent) {
            agents::daemon(plan, acc, &mut streams);
        } else {
            agents::interactive(plan, acc, &mut streams);
        }
    }
}

#[cfg(test)]
mod tests;
