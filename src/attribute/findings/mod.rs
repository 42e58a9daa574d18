//! Findings: what a trace shows that its owner should know without reading the numbers —
//! an idle process tree whose memory keeps growing, first.
//!
//! - [`slope`]: a robust slope (Theil–Sen) over stretches of samples;
//! - [`leak`]: the leak verdict on one memory series, from its idle samples.

pub mod leak;
pub mod slope;

use serde::{Deserialize, Serialize};

use crate::clock::offset_to_timestamp;
use crate::observation::MemorySample;
use leak::{Leak, LeakThresholds};

/// One finding of the report's `findings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// `memory_leak`.
    pub kind: String,
    /// `warning`, or `critical` from 1 GiB/h.
    pub severity: String,
    #[serde(rename = "where")]
    pub place: Place,
    /// How fast: for a leak, bytes per hour while idle.
    pub rate: f64,
    /// The same rate relative to the series' median, percent per hour.
    pub rate_percent_per_hour: f64,
    /// When it began (RFC 3339), when the trace's start is known.
    pub since: Option<String>,
    /// How sure: of the idle windows judged after the warm-up, the share in the passing run.
    pub confidence: f64,
    pub detail: String,
}

/// Where a finding is: the whole process tree, or one process of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// `tree` or `process`.
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The trace the samples are from.
    pub trace: String,
}

/// A leak is critical from this rate on: a gigabyte an hour fills a workstation overnight.
const CRITICAL_BYTES_PER_HOUR: f64 = 1024.0 * 1024.0 * 1024.0;

/// Memory findings of one trace's `samples` (offsets from `origin`), idle being when none of
/// `busy` (the calls' start and end) is in flight: the tree's RSS, then each process's.
pub fn memory_findings(
    trace: &str,
    origin: Option<jiff::Timestamp>,
    samples: &[MemorySample],
    busy: &[(f64, f64)],
    limits: &LeakThresholds,
) -> Vec<Finding> {
    let tree: Vec<(f64, f64)> = samples.iter().map(|s| (s.t, s.rss_bytes as f64)).collect();
    let mut findings = Vec::new();
    if let Some(leak) = leak::judge(&tree, busy, limits) {
        findings.push(finding(trace, None, origin, &leak));
    }
    let mut by_pid: std::collections::BTreeMap<u32, Vec<(f64, f64)>> = Default::default();
    for sample in samples {
        for process in &sample.processes {
            by_pid
                .entry(process.pid)
                .or_default()
                .push((sample.t, process.rss_bytes as f64));
        }
    }
    // A tree of one process says the same twice: the tree's finding is enough.
    if by_pid.len() > 1 {
        for (pid, points) in &by_pid {
            if let Some(leak) = leak::judge(points, busy, limits) {
                findings.push(finding(trace, Some(*pid), origin, &leak));
            }
        }
    }
    findings
}

fn finding(trace: &str, pid: Option<u32>, origin: Option<jiff::Timestamp>, leak: &Leak) -> Finding {
    let what = match pid {
        Some(pid) => format!("process {pid}"),
        None => "the agent's process tree".to_string(),
    };
    let since = origin.map(|o| offset_to_timestamp(o, leak.since_s).to_string());
    Finding {
        kind: "memory_leak".into(),
        severity: match leak.bytes_per_hour >= CRITICAL_BYTES_PER_HOUR {
            true => "critical",
            false => "warning",
        }
        .into(),
        place: Place {
            scope: if pid.is_some() { "process" } else { "tree" }.into(),
            pid,
            trace: trace.to_string(),
        },
        rate: leak.bytes_per_hour,
        rate_percent_per_hour: leak.percent_per_hour,
        since,
        confidence: leak.windows_in_a_row as f64 / leak.windows_judged.max(1) as f64,
        detail: format!(
            "{what} grew {:.0} MiB/h ({:.0} %/h) while idle, {} idle windows in a row from {:.0} s into the trace ({} judged, {:.0} % of the windows after the warm-up)",
            leak.bytes_per_hour / 1024.0 / 1024.0,
            leak.percent_per_hour,
            leak.windows_in_a_row,
            leak.since_s,
            leak.windows_judged,
            leak.coverage * 100.0
        ),
    }
}
