//! Monte Carlo: every trial simulates every developer, in parallel over contiguous chunks of
//! developers, each developer with its own seeded generators.
//!
//! Workers keep integer accumulators and HDR histograms, merged in a fixed order; nothing
//! depends on which thread ran which developer, so the same seed gives the same output on any
//! number of cores. Workers and their buffers live for the whole run: no allocation per
//! developer.

use hdrhistogram::Histogram;
use rayon::prelude::*;

use crate::simulate::model::kv::KvSink;
use crate::simulate::model::plan::Plan;
use crate::simulate::model::tally::{Events, Tally};
use crate::simulate::model::{Acc, simulate_developer};

/// What one trial's fleet did that is not a sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrialFigures {
    /// Highest KV bucket (tokens, summed over the fleet).
    pub kv_peak_tokens: u64,
    /// KV held over time, token-microseconds.
    pub kv_token_us: u128,
    /// Highest workstation RAM of any developer (bytes).
    pub ram_peak_bytes: u64,
}

/// Everything the trials produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Summed over all trials and developers.
    pub tally: Tally,
    pub events: Events,
    pub trials: Vec<TrialFigures>,
    /// Workstation RAM samples (bytes) while any agent process was alive.
    pub ram: Option<Histogram<u64>>,
    pub ram_max: u64,
    /// The fleet's KV per time bucket (tokens), summed over trials: the shape of a day, for
    /// the HTML chart. 2,048 additions a trial, next to millions of simulated calls.
    pub kv_buckets: Vec<u64>,
}

/// 1 byte to 1 PiB at 3 significant digits (`None` only if hdrhistogram rejected constant
/// bounds, in which case percentiles are absent rather than a panic).
fn ram_histogram() -> Option<Histogram<u64>> {
    Histogram::new_with_bounds(1, 1 << 50, 3).ok()
}

struct Worker {
    acc: Acc,
    ram: Option<Histogram<u64>>,
    ram_max: u64,
    trial_ram_peak: u64,
}

impl Worker {
    fn record_ram(&mut self) {
        for &bytes in &self.acc.ram.cells {
            if bytes > 0.0 {
                let bytes = bytes as u64;
                if let Some(h) = self.ram.as_mut() {
                    h.saturating_record(bytes.max(1));
                }
                self.ram_max = self.ram_max.max(bytes);
                self.trial_ram_peak = self.trial_ram_peak.max(bytes);
            }
        }
    }
}

/// Runs all trials. `progress` is told about every finished developer.
pub fn run(plan: &Plan, progress: &(dyn Fn(u64) + Sync)) -> Outcome {
    let developers = plan.developers as usize;
    let chunks = developers.clamp(1, rayon::current_num_threads().max(1) * 4);
    let mut workers: Vec<Worker> = (0..chunks)
        .map(|_| Worker {
            acc: Acc::new(plan),
            ram: ram_histogram(),
            ram_max: 0,
            trial_ram_peak: 0,
        })
        .collect();
    let mut fleet = KvSink::new(plan.kv_buckets, plan.kv_bucket_s, plan.duration_s);
    let mut trials = Vec::with_capacity(plan.trials as usize);
    let mut kv_buckets = vec![0u64; plan.kv_buckets];
    for trial in 0..plan.trials {
        workers.par_iter_mut().enumerate().for_each(|(i, w)| {
            w.acc.kv.reset();
            w.trial_ram_peak = 0;
            let from = developers * i / chunks;
            let to = developers * (i + 1) / chunks;
            for developer in from..to {
                simulate_developer(plan, trial, developer as u32, &mut w.acc);
                w.record_ram();
                progress(1);
            }
        });
        fleet.reset();
        for w in &workers {
            fleet.merge(&w.acc.kv);
        }
        for (sum, bucket) in kv_buckets.iter_mut().zip(&fleet.peak) {
            *sum = sum.saturating_add(*bucket);
        }
        trials.push(TrialFigures {
            kv_peak_tokens: fleet.peak_tokens(),
            kv_token_us: fleet.integral,
            ram_peak_bytes: workers.iter().map(|w| w.trial_ram_peak).max().unwrap_or(0),
        });
    }
    let mut outcome = Outcome {
        tally: Tally::default(),
        events: Events::default(),
        trials,
        ram: ram_histogram(),
        ram_max: 0,
        kv_buckets,
    };
    for w in &workers {
        outcome.tally.merge(&w.acc.tally);
        outcome.events.merge(&w.acc.events);
        if let (Some(total), Some(part)) = (outcome.ram.as_mut(), w.ram.as_ref()) {
            // Same bounds on both sides: adding cannot fail; a failure would only drop samples.
            let _ = total.add(part);
        }
        outcome.ram_max = outcome.ram_max.max(w.ram_max);
    }
    outcome
}
