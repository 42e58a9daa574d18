//! Memory figures of a trace: peaks, percentiles over time and per process role.
//!
//! Percentiles come from an HDR histogram of the tree's total RSS at every tick (3 significant
//! digits: a 200 MB figure is exact to 0.2 MB), which stays small however long the trace is.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::observation::{MemorySample, ProcessRole};

/// The report's `memory` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryReport {
    pub samples: u64,
    pub peak_rss_bytes: Option<u64>,
    pub p50_rss_bytes: Option<u64>,
    pub p95_rss_bytes: Option<u64>,
    pub p99_rss_bytes: Option<u64>,
    /// Peak tree PSS over the ticks where PSS was read (shared pages counted once).
    pub peak_pss_bytes: Option<u64>,
    pub growth_per_turn_bytes: Option<f64>,
    pub idle_growth_bytes_per_hour: Option<f64>,
    pub by_category_growth_bytes: BTreeMap<String, i64>,
    /// Peaks per process role (`main`, `subagent`, `other`).
    pub by_role: BTreeMap<String, RolePeaks>,
    /// Most processes alive in the tree at one tick.
    pub peak_processes: u32,
    /// Which figure is which: RSS sums double-count shared pages, PSS does not.
    pub note: String,
}

/// Peak figures of one process role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolePeaks {
    pub peak_rss_bytes: u64,
    pub peak_pss_bytes: Option<u64>,
    pub peak_processes: u32,
}

/// Summarises memory samples. Growth figures are filled in by attribution.
pub fn summarize(samples: &[MemorySample]) -> MemoryReport {
    let mut report = MemoryReport {
        samples: samples.len() as u64,
        peak_rss_bytes: None,
        p50_rss_bytes: None,
        p95_rss_bytes: None,
        p99_rss_bytes: None,
        peak_pss_bytes: None,
        growth_per_turn_bytes: None,
        idle_growth_bytes_per_hour: None,
        by_category_growth_bytes: BTreeMap::new(),
        by_role: BTreeMap::new(),
        peak_processes: 0,
        note: "RSS is summed over the agent's process tree (shared pages counted once per process); PSS divides shared pages among the processes that map them".into(),
    };
    if samples.is_empty() {
        return report;
    }
    let mut histogram = rss_histogram();
    for sample in samples {
        if let Some(h) = histogram.as_mut() {
            // Values past the histogram's range are clamped rather than lost.
            h.saturating_record(sample.rss_bytes.max(1));
        }
        report.peak_rss_bytes = Some(report.peak_rss_bytes.unwrap_or(0).max(sample.rss_bytes));
        if let Some(pss) = sample.pss_bytes {
            report.peak_pss_bytes = Some(report.peak_pss_bytes.unwrap_or(0).max(pss));
        }
        let processes = sample.main.processes + sample.subagent.processes + sample.other.processes;
        report.peak_processes = report.peak_processes.max(processes);
        for role in ProcessRole::ALL {
            let memory = sample.role(role);
            let peaks = report.by_role.entry(role.as_str().to_string()).or_default();
            peaks.peak_rss_bytes = peaks.peak_rss_bytes.max(memory.rss_bytes);
            peaks.peak_processes = peaks.peak_processes.max(memory.processes);
            // A PSS of 0 for a role with no live process says nothing about its peak.
            if let Some(pss) = memory.pss_bytes.filter(|_| memory.processes > 0) {
                peaks.peak_pss_bytes = Some(peaks.peak_pss_bytes.unwrap_or(0).max(pss));
            }
        }
    }
    if let Some(h) = histogram {
        report.p50_rss_bytes = Some(h.value_at_quantile(0.50));
        report.p95_rss_bytes = Some(h.value_at_quantile(0.95));
        report.p99_rss_bytes = Some(h.value_at_quantile(0.99));
    }
    report
}

/// A histogram from 1 byte to 16 TiB at 3 significant digits.
fn rss_histogram() -> Option<Histogram<u64>> {
    Histogram::new_with_bounds(1, 1 << 44, 3).ok()
}
