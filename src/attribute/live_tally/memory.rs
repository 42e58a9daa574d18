//! The process tree's memory as `top` shows it: the latest tick per role, a thinned history
//! for sparklines, and the tree's growth over the burn-rate window.

use std::collections::VecDeque;

use crate::observation::{MemorySample, RoleMemory};

/// Growth is shown once the window's samples span this long: a rate from a few seconds of a
/// start-up's allocations is not a growth rate.
pub const GROWTH_MIN_SPAN_S: f64 = 30.0;

/// The first seconds of a session are the agent starting (loading its code, filling its
/// caches), not growing: growth is measured from after them. Why: measured from the first
/// sample, Claude Code 2.1.337 showed "+24 GiB/h" half a minute in, from going 0 to 250 MiB.
pub const STARTUP_S: f64 = 30.0;

/// History points kept at most; when full, every other point is dropped, so the history always
/// spans the whole session at a resolution that halves as it doubles.
pub const HISTORY: usize = 2048;

/// One point of the history: RSS of the tree and of each role.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub t: f64,
    pub tree: u64,
    pub main: u64,
    pub subagent: u64,
    pub other: u64,
}

/// The memory part of a [`super::LiveView`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryView {
    pub samples: u64,
    pub latest_t: Option<f64>,
    pub tree_rss: u64,
    /// The latest PSS read (PSS is read every few ticks), with when.
    pub tree_pss: Option<(f64, u64)>,
    pub main: RoleMemory,
    pub subagent: RoleMemory,
    pub other: RoleMemory,
    pub peak_tree_rss: u64,
    /// Tree RSS change per hour over the window, start-up ([`STARTUP_S`]) left out (`None`
    /// until the samples after it span [`GROWTH_MIN_SPAN_S`]).
    pub growth_bytes_per_hour: Option<f64>,
    /// Oldest first.
    pub history: Vec<Point>,
}

#[derive(Debug, Default)]
pub struct MemoryTally {
    samples: u64,
    latest: Option<MemorySample>,
    tree_pss: Option<(f64, u64)>,
    role_pss: [Option<u64>; 3],
    peak: u64,
    history: VecDeque<Point>,
}

impl MemoryTally {
    pub fn push(&mut self, sample: &MemorySample) {
        self.samples += 1;
        self.peak = self.peak.max(sample.rss_bytes);
        if let Some(pss) = sample.pss_bytes {
            self.tree_pss = Some((sample.t, pss));
        }
        for (slot, role) in
            self.role_pss
                .iter_mut()
                .zip([&sample.main, &sample.subagent, &sample.other])
        {
            if let Some(pss) = role.pss_bytes {
                *slot = Some(pss);
            }
        }
        if self.history.len() >= HISTORY {
            let kept: VecDeque<Point> = self.history.iter().step_by(2).copied().collect();
            self.history = kept;
        }
        self.history.push_back(Point {
            t: sample.t,
            tree: sample.rss_bytes,
            main: sample.main.rss_bytes,
            subagent: sample.subagent.rss_bytes,
            other: sample.other.rss_bytes,
        });
        self.latest = Some(sample.clone());
    }

    pub fn view(&self, now_t: f64, window_s: f64) -> MemoryView {
        let Some(latest) = &self.latest else {
            return MemoryView::default();
        };
        let with_pss = |role: &RoleMemory, pss: Option<u64>| RoleMemory {
            pss_bytes: role.pss_bytes.or(pss),
            ..*role
        };
        // Thinning keeps the first point, so the history's front is the session's first sample.
        let started = self.history.front().map_or(latest.t, |p| p.t);
        let from = (now_t - window_s).max(started + STARTUP_S);
        let first = self.history.iter().find(|p| p.t >= from);
        let growth_bytes_per_hour = first.and_then(|first| {
            let span = latest.t - first.t;
            (span >= GROWTH_MIN_SPAN_S)
                .then(|| (latest.rss_bytes as f64 - first.tree as f64) * 3600.0 / span)
        });
        MemoryView {
            samples: self.samples,
            latest_t: Some(latest.t),
            tree_rss: latest.rss_bytes,
            tree_pss: self.tree_pss,
            main: with_pss(&latest.main, self.role_pss[0]),
            subagent: with_pss(&latest.subagent, self.role_pss[1]),
            other: with_pss(&latest.other, self.role_pss[2]),
            peak_tree_rss: self.peak,
            growth_bytes_per_hour,
            history: self.history.iter().copied().collect(),
        }
    }
}
