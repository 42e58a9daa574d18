//! A sub-agent process whose memory passes a limit.
//!
//! Agents that run sub-agents as processes (the same program re-executed; see
//! `capture::sampler::tree::command::role_for`) can have several at once, each with its own
//! copy of a context: one ballooning sub-agent is how a workstation runs out of RAM with
//! nobody looking at it. The peak is the highest sampled RSS of the process, or its own
//! high-water mark (VmHWM) read as it exited when that is higher — a spike between two samples
//! still counts. Sub-agents that run inside the main process (Claude Code's Task tool) have no
//! RSS of their own: their memory is the main process's.

use super::{Context, Finding, roles, severity};
use crate::observation::{ProcessEvent, ProcessRole};
use crate::output::trace::ReadTrace;

/// When a sub-agent's peak is a finding. Defaults: [`PeakThresholds::default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeakThresholds {
    /// A sub-agent process's peak RSS at or above this many bytes is a finding (critical from
    /// twice as much).
    pub limit_bytes: u64,
}

impl Default for PeakThresholds {
    fn default() -> Self {
        PeakThresholds {
            // A sub-agent of a Node agent idles at 200–400 MB; 2 GiB is a ballooned one.
            limit_bytes: 2 << 30,
        }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// One finding per sub-agent process of `trace` whose peak passed the limit.
pub fn find(trace: &ReadTrace, context: &Context, limits: &PeakThresholds) -> Vec<Finding> {
    let roles = roles(&trace.process_events);
    let mut peaks: std::collections::BTreeMap<u32, Peak> = Default::default();
    for sample in &trace.samples {
        for process in &sample.processes {
            if roles.get(&process.pid) != Some(&ProcessRole::Subagent) {
                continue;
            }
            let peak = peaks.entry(process.pid).or_default();
            peak.sampled = peak.sampled.max(process.rss_bytes);
            if process.rss_bytes >= limits.limit_bytes && peak.over_at.is_none() {
                peak.over_at = Some(sample.t);
            }
        }
    }
    for event in &trace.process_events {
        if let ProcessEvent::Exit {
            t,
            pid,
            peak_rss_bytes: Some(hwm),
        } = event
            && roles.get(pid) == Some(&ProcessRole::Subagent)
        {
            let peak = peaks.entry(*pid).or_default();
            peak.high_water_mark = *hwm;
            if *hwm >= limits.limit_bytes && peak.over_at.is_none() {
                peak.over_at = Some(*t);
            }
        }
    }
    peaks
        .into_iter()
        .filter_map(|(pid, peak)| {
            let bytes = peak.sampled.max(peak.high_water_mark);
            let since = peak.over_at?;
            let mut place = context.place("process");
            place.pid = Some(pid);
            place.role = Some(ProcessRole::Subagent.as_str().to_string());
            let how = match peak.high_water_mark > peak.sampled {
                true => "its high-water mark as it exited",
                false => "sampled",
            };
            Some(Finding {
                kind: "subagent_peak".into(),
                severity: severity(bytes >= limits.limit_bytes.saturating_mul(2)),
                place,
                rate: bytes as f64,
                rate_unit: "bytes".into(),
                rate_percent_per_hour: None,
                cost_usd: None,
                since: context.at(since),
                confidence: 1.0,
                detail: format!(
                    "sub-agent process {pid} peaked at {:.0} MiB ({how}), over the {:.0} MiB limit from {since:.1} s into the trace",
                    bytes as f64 / MIB,
                    limits.limit_bytes as f64 / MIB
                ),
            })
        })
        .collect()
}

/// One sub-agent process's peak so far.
#[derive(Debug, Default, Clone, Copy)]
struct Peak {
    sampled: u64,
    high_water_mark: u64,
    /// When it was first seen at or over the limit.
    over_at: Option<f64>,
}
