//! The memory part of a report over several traces: growth charged to each category's calls
//! and growth while idle, each from one trace's samples and calls at a time (a trace's clock
//! is its own).

use std::collections::BTreeMap;

use super::attribution::AttributedTrace;
use super::memory::{self, MemoryReport};
use super::memory_growth;
use crate::observation::Category;
use crate::output::trace::ReadTrace;

/// What the traces' samples gave so far.
#[derive(Debug, Default)]
pub struct MemoryAttribution {
    category_growth: BTreeMap<String, i64>,
    idle_slopes: Vec<f64>,
}

impl MemoryAttribution {
    /// Adds one trace (`attributed` its calls).
    pub fn add(&mut self, trace: &ReadTrace, attributed: &AttributedTrace<'_>) {
        let samples = &trace.samples;
        if samples.is_empty() {
            return;
        }
        // Each category's call windows merged first: three sub-agents running side by side
        // over the same ten seconds saw one growth, not three.
        for category in Category::ALL {
            let windows: Vec<(f64, f64)> = attributed
                .calls
                .iter()
                .filter(|a| a.category == category)
                .filter_map(|a| Some((a.call.t_start, a.call.t_end?)))
                .collect();
            for (start, end) in super::intervals::merged(windows) {
                if let Some(growth) = memory_growth::growth(samples, start, end) {
                    *self
                        .category_growth
                        .entry(category.as_str().to_string())
                        .or_default() += growth;
                }
            }
        }
        let busy: Vec<(f64, f64)> = attributed
            .calls
            .iter()
            .map(|c| (c.call.t_start, c.call.t_end.unwrap_or(c.call.t_start)))
            .collect();
        if let Some(slope) = memory_growth::idle_slope_bytes_per_hour(samples, &busy) {
            self.idle_slopes.push(slope);
        }
    }

    /// The report's `memory` over every sample of `traces`, with the growths added and each
    /// turn's growth in `turn_growths`.
    pub fn finish(self, traces: &[ReadTrace], turn_growths: &[i64]) -> MemoryReport {
        let all_samples: Vec<_> = traces
            .iter()
            .flat_map(|t| t.samples.iter().cloned())
            .collect();
        let mut report = memory::summarize(&all_samples);
        if all_samples.is_empty() {
            return report;
        }
        report.by_category_growth_bytes = Category::ALL
            .iter()
            .map(|c| {
                let growth = self.category_growth.get(c.as_str()).copied();
                (c.as_str().to_string(), growth.unwrap_or(0))
            })
            .collect();
        report.growth_per_turn_bytes = (!turn_growths.is_empty())
            .then(|| turn_growths.iter().sum::<i64>() as f64 / turn_growths.len() as f64);
        report.idle_growth_bytes_per_hour = (!self.idle_slopes.is_empty())
            .then(|| self.idle_slopes.iter().sum::<f64>() / self.idle_slopes.len() as f64);
        report
    }
}
