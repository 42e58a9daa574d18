//! Findings judged while a session runs: what `agentprof report` would list if the run ended
//! now. The Prometheus exporter (`output::prometheus::findings`) turns them into gauges; `top`
//! shows them.
//!
//! The judge only records as observations arrive: each memory tick (tree RSS and each
//! process's RSS), each model call (its busy window `(t_start, t_end)`, and the call itself
//! without bodies), and the calls in flight (from the proxy's "call started" notification, so
//! a long call is busy while it runs, not only once it ends). The judging is
//! [`memory_findings`], [`of_calls`] (memory kept per turn, idle spend, category jumps, cache
//! rewrites) and `attribute::memory_growth::idle_slope_bytes_per_hour`, the report's own
//! functions, called with the same thresholds and prices, at most every [`MIN_INTERVAL`] and
//! never more than 1/[`MAX_DUTY`] of the time however long an evaluation takes (a viewer picks
//! its own pace: [`LiveJudge::paced`]), by whoever asks ([`LiveJudge::refresh`]) — never on the
//! proxy's tasks or the sampler's thread.
//!
//! Memory is bounded: beyond [`Retention::max_samples`] samples, the older ones are thinned
//! (see [`Observed::thin`]) and the busy windows between them coalesced where no verdict can
//! tell the difference (see [`Observed::coalesce_busy`]); beyond [`MAX_CALLS`] calls the oldest
//! are dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::leak::LeakThresholds;
use super::{Context, Finding, Thresholds, memory_findings, of_calls};
use crate::attribute::attribution::attribute;
use crate::attribute::cost::PriceTable;
use crate::attribute::memory_growth::idle_slope_bytes_per_hour;
use crate::observation::{Call, MemorySample};
use crate::output::trace::{ReadTrace, TraceFooter, TraceHeader};

/// Findings are re-evaluated at most this often.
pub const MIN_INTERVAL: Duration = Duration::from_secs(5);
/// …and at most 1/this of the time: an evaluation that took 0.5 s waits 10 s for the next.
pub const MAX_DUTY: u32 = 20;

/// How many samples are kept, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    /// Thin when there are more samples than this.
    pub max_samples: usize,
    /// The newest this many samples are never thinned.
    pub keep_recent: usize,
    /// The first thinning leaves the older samples at least this many seconds apart; each
    /// later one that cannot get below the cap with it doubles it.
    pub base_spacing_s: f64,
}

impl Retention {
    /// 24,576 samples (≈ 3 MB for a tree of three processes, ≈ 6 MB for ten), thinned first
    /// to a third of what a window may miss (`window × (1 − coverage) / 3`, 4 s by default):
    /// kept neighbours are then close enough that an idle window still spans its coverage, so
    /// the verdict is the one full resolution gives (but for the edges of idle stretches,
    /// which lose up to one spacing each). A day at 4 s is 21,600 samples, so a day fits,
    /// whatever the sampling interval; from about 26 hours in the spacing doubles, and the
    /// oldest windows may then go unjudged, while the newest samples, where a verdict is being
    /// reached, stay as sampled.
    pub fn for_thresholds(limits: &LeakThresholds) -> Retention {
        Retention {
            max_samples: 24_576,
            keep_recent: 1_024,
            // In whole milliseconds: 60 × 0.2 / 3 is 3.9999…, not 4.
            base_spacing_s: (limits.window_s * (1.0 - limits.min_coverage) / 3.0 * 1000.0)
                .round()
                .max(1.0)
                / 1000.0,
        }
    }
}

/// One kept memory tick: only what the findings read (the tree's RSS, each process's). The
/// processes are shared, so a snapshot copies a pointer under the lock, not the list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Kept {
    pub(crate) t: f64,
    pub(crate) rss_bytes: u64,
    pub(crate) processes: Arc<[(u32, u64)]>,
}

/// What the sink has recorded, bounded.
#[derive(Debug)]
pub(crate) struct Observed {
    pub(crate) retention: Retention,
    pub(crate) samples: Vec<Kept>,
    /// The spacing the thinned part has, once thinned.
    pub(crate) spacing: Option<f64>,
    /// Finished model calls' `(t_start, t_end)`, in the order they ended.
    pub(crate) busy: Vec<(f64, f64)>,
    /// Model calls started and not finished yet: id → t_start.
    pub(crate) in_flight: HashMap<u64, f64>,
    /// Finished model calls, without bodies, ids, path or method, for the findings judged from
    /// calls; shared, so a
    /// snapshot copies pointers under the lock. Beyond `max_calls` ([`MAX_CALLS`] unless
    /// [`LiveJudge::keeping_calls`] said otherwise) the oldest are dropped.
    pub(crate) calls: std::collections::VecDeque<Arc<Call>>,
    pub(crate) max_calls: usize,
    pub(crate) origin: Option<jiff::Timestamp>,
    /// Bumped on every change: an evaluation of an unchanged record is skipped.
    pub(crate) version: u64,
}

impl Observed {
    pub(crate) fn new(retention: Retention) -> Observed {
        Observed {
            retention,
            samples: Vec::new(),
            spacing: None,
            busy: Vec::new(),
            in_flight: HashMap::new(),
            calls: std::collections::VecDeque::new(),
            max_calls: MAX_CALLS,
            origin: None,
            version: 0,
        }
    }

    pub(crate) fn push_sample(&mut self, sample: &MemorySample) {
        // The sampler is one thread on one clock: a tick older than the last is not expected,
        // and would break the time order every verdict relies on.
        if self.samples.last().is_some_and(|last| sample.t < last.t) {
            return;
        }
        self.samples.push(Kept {
            t: sample.t,
            rss_bytes: sample.rss_bytes,
            processes: sample
                .processes
                .iter()
                .map(|p| (p.pid, p.rss_bytes))
                .collect(),
        });
        self.version += 1;
        if self.samples.len() > self.retention.max_samples {
            self.thin();
        }
    }

    pub(crate) fn call_started(&mut self, call: &Call) {
        if call.is_model_call() {
            self.in_flight.insert(call.id, call.t_start);
            self.version += 1;
        }
    }

    pub(crate) fn call_finished(&mut self, call: &Call) {
        self.in_flight.remove(&call.id);
        // Model calls only, as in the report: a connectivity probe is not the agent working.
        if call.is_model_call() {
            self.busy
                .push((call.t_start, call.t_end.unwrap_or(call.t_start)));
            // Only what the finders read: no bodies, ids, path or method (the record of a
            // day-long run holds every call, and the live trace carries no telemetry to join
            // by request id).
            let kept = Call {
                bodies: None,
                upstream_request_id: None,
                response_id: None,
                path: String::new(),
                method: String::new(),
                ..call.clone()
            };
            self.calls.push_back(Arc::new(kept));
            if self.calls.len() > self.max_calls {
                self.calls.pop_front();
            }
            self.version += 1;
        }
        // The samples bound the busy windows (see `coalesce_busy`); this bounds them when
        // calls outpace samples (no sampler, as in `proxy` without --pid).
        if self.busy.len() > self.retention.max_samples {
            self.coalesce_busy();
        }
    }

    /// Thins the samples older than the newest `keep_recent` so that kept neighbours are at
    /// least `spacing` apart (greedy, oldest first, so an already thinned part stays as it
    /// is), doubling the spacing only when that does not free `keep_recent` places: thinning
    /// (linear in the cap) then happens at most once per `keep_recent` ticks.
    fn thin(&mut self) {
        let target = self
            .retention
            .max_samples
            .saturating_sub(self.retention.keep_recent);
        let mut spacing = self.spacing.unwrap_or(self.retention.base_spacing_s);
        loop {
            let cut = self
                .samples
                .len()
                .saturating_sub(self.retention.keep_recent);
            let recent = self.samples.split_off(cut);
            let mut last_kept = f64::NEG_INFINITY;
            self.samples.retain(|s| {
                // A microsecond's slack: ticks meant to be `spacing` apart are kept.
                let keep = s.t >= last_kept + spacing - 1e-6;
                if keep {
                    last_kept = s.t;
                }
                keep
            });
            let older = self.samples.len();
            self.samples.extend(recent);
            // Below the target, or nothing left to thin (the newest are kept whole).
            if self.samples.len() <= target || older <= 1 {
                break;
            }
            spacing *= 2.0;
        }
        self.spacing = Some(spacing);
        self.coalesce_busy();
    }

    /// Merges the busy windows, and joins two neighbours into one when fewer than two samples
    /// lie strictly between them: no pair of neighbouring samples is idle in that gap, so
    /// every stretch, slope and verdict stays the same. Only gaps that end before the last
    /// sample are joined (a later sample cannot land in them), so this holds for good. The
    /// windows left are then at most about half the samples, however many calls there were.
    pub(crate) fn coalesce_busy(&mut self) {
        let merged = crate::attribute::intervals::merged(std::mem::take(&mut self.busy));
        let last_t = self.samples.last().map_or(f64::NEG_INFINITY, |s| s.t);
        let mut joined: Vec<(f64, f64)> = Vec::with_capacity(merged.len());
        for (start, end) in merged {
            if let Some(previous) = joined.last_mut()
                && start <= last_t
            {
                let from = self.samples.partition_point(|s| s.t <= previous.1);
                let to = self.samples.partition_point(|s| s.t < start);
                if to.saturating_sub(from) < 2 {
                    previous.1 = previous.1.max(end);
                    continue;
                }
            }
            joined.push((start, end));
        }
        self.busy = joined;
    }

    /// What an evaluation needs, copied out so the lock is held only that long (a copy of
    /// the kept samples, cheap: their process lists are shared; see [`Snapshot::samples`]).
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut busy = self.busy.clone();
        // A call in flight is busy from its start on: the samples after it are not idle.
        busy.extend(self.in_flight.values().map(|&start| (start, f64::INFINITY)));
        Snapshot {
            kept: self.samples.clone(),
            calls: self.calls.iter().cloned().collect(),
            busy,
            origin: self.origin,
            version: self.version,
        }
    }
}

/// The input of one evaluation.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) kept: Vec<Kept>,
    pub(crate) calls: Vec<Arc<Call>>,
    pub(crate) busy: Vec<(f64, f64)>,
    pub(crate) origin: Option<jiff::Timestamp>,
    pub(crate) version: u64,
}

impl Snapshot {
    /// The kept samples as the report's functions take them (built outside the lock).
    pub(crate) fn samples(&self) -> Vec<MemorySample> {
        self.kept
            .iter()
            .map(|k| MemorySample {
                // The sampler's own sum (the same pids), not recomputed.
                rss_bytes: k.rss_bytes,
                ..MemorySample::of_processes(k.t, &k.processes)
            })
            .collect()
    }
}

impl Snapshot {
    /// The run so far as a trace of its finished calls and kept samples, for the finders that
    /// read calls. Its header says `run` (these are observations, not an imported history);
    /// the agent's telemetry is not kept, so a call's category is the proxy's rules' alone.
    fn as_trace(&self, samples: Vec<MemorySample>) -> ReadTrace {
        let origin = self.origin.unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let mut header = TraceHeader::for_import("live", std::path::Path::new("live"), origin);
        header.mode = "run".into();
        header.command = vec!["agentprof".into(), "run".into()];
        let footer = TraceFooter {
            t: 0.0,
            ended_at: String::new(),
            calls: self.calls.len() as u64,
            samples: samples.len() as u64,
            exit_code: None,
            exit_signal: None,
        };
        let calls = self.calls.iter().map(|c| Call::clone(c)).collect();
        let mut trace =
            ReadTrace::of_import(std::path::PathBuf::from("live"), header, footer, calls);
        trace.samples = samples;
        trace
    }
}

/// The findings and the idle slope of a snapshot, by the report's functions.
pub(crate) fn evaluate(
    snapshot: &Snapshot,
    thresholds: &Thresholds,
    prices: &PriceTable,
) -> (Vec<Finding>, Option<f64>) {
    let samples = snapshot.samples();
    // Memory leaks with the calls in flight busy (the report only knows finished calls).
    let mut findings = memory_findings(
        "live",
        snapshot.origin,
        &samples,
        &snapshot.busy,
        &thresholds.leak,
    );
    let idle = idle_slope_bytes_per_hour(&samples, &snapshot.busy);
    let trace = snapshot.as_trace(samples);
    let context = Context {
        trace: "live".to_string(),
        origin: snapshot.origin,
        first_turn: 0,
    };
    findings.extend(of_calls(
        &attribute(&trace, prices),
        &context,
        prices,
        thresholds,
    ));
    (findings, idle)
}

/// Finished calls kept for the findings judged from calls: a day of an agent busy every
/// minute is a few thousand; beyond this the oldest are dropped.
pub(crate) const MAX_CALLS: usize = 100_000;

/// When the next evaluation may run.
#[derive(Debug, Default)]
pub(crate) struct Schedule {
    next: Option<Instant>,
    evaluated_version: Option<u64>,
}

/// One evaluation's result.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub findings: Vec<Finding>,
    /// The tree's RSS slope while idle, bytes per hour (the report's idle growth).
    pub idle_growth: Option<f64>,
    /// How long the evaluation took.
    pub took: Duration,
    /// Memory samples kept.
    pub samples: usize,
}

/// Records a run's observations and judges them on demand.
#[derive(Debug)]
pub struct LiveJudge {
    thresholds: Thresholds,
    prices: PriceTable,
    /// At most every this long, and at most 1/`max_duty` of the time ([`LiveJudge::paced`]).
    min_interval: Duration,
    max_duty: u32,
    pub(crate) observed: Mutex<Observed>,
    /// Held for a whole evaluation (tried, never waited for: one evaluation at a time).
    pub(crate) schedule: Mutex<Schedule>,
    /// The last evaluation's findings.
    last: Mutex<Vec<Finding>>,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LiveJudge {
    /// Judging with `thresholds` (the finding flags) and pricing with `prices`, as `report`
    /// would.
    pub fn new(thresholds: Thresholds, prices: PriceTable) -> LiveJudge {
        let retention = Retention::for_thresholds(&thresholds.leak);
        Self::with_retention(thresholds, prices, retention)
    }

    pub(crate) fn with_retention(
        thresholds: Thresholds,
        prices: PriceTable,
        retention: Retention,
    ) -> LiveJudge {
        LiveJudge {
            thresholds,
            prices,
            min_interval: MIN_INTERVAL,
            max_duty: MAX_DUTY,
            observed: Mutex::new(Observed::new(retention)),
            schedule: Mutex::new(Schedule::default()),
            last: Mutex::new(Vec::new()),
        }
    }

    /// Evaluated at most every `min_interval` and at most 1/`max_duty` of the time, instead of
    /// the exporter's 5 s and 1/20: a viewer that must stay under 1 % of a core.
    pub fn paced(mut self, min_interval: Duration, max_duty: u32) -> LiveJudge {
        self.min_interval = min_interval;
        self.max_duty = max_duty.max(1);
        self
    }

    /// Keeps at most `max_calls` finished calls for the findings judged from calls (the
    /// newest), instead of [`MAX_CALLS`]: a viewer with a memory budget. Each kept call costs
    /// about 1 KB while an evaluation runs.
    pub fn keeping_calls(self, max_calls: usize) -> LiveJudge {
        lock(&self.observed).max_calls = max_calls.max(1);
        self
    }

    /// Where trace offset 0 is on the wall clock (for a finding's `since`).
    pub fn on_start(&self, origin: jiff::Timestamp) {
        lock(&self.observed).origin = Some(origin);
    }

    pub fn on_call_start(&self, call: &Call) {
        lock(&self.observed).call_started(call);
    }

    pub fn on_call(&self, call: &Call) {
        lock(&self.observed).call_finished(call);
    }

    pub fn on_memory(&self, sample: &MemorySample) {
        lock(&self.observed).push_sample(sample);
    }

    /// Whether [`LiveJudge::refresh`] would evaluate at `now` (cheap).
    pub fn due(&self, now: Instant) -> bool {
        let Ok(schedule) = self.schedule.try_lock() else {
            return false;
        };
        schedule.next.is_none_or(|next| now >= next)
            && schedule.evaluated_version != Some(lock(&self.observed).version)
    }

    /// Evaluates the findings if an evaluation is due at `now` and the record changed since
    /// the last one, and returns them; `None` when it did not evaluate. Blocks for the
    /// evaluation: call it off an async runtime's workers. A refresh while another runs
    /// returns at once.
    pub fn refresh(&self, now: Instant) -> Option<Judgement> {
        let Ok(mut schedule) = self.schedule.try_lock() else {
            return None;
        };
        if schedule.next.is_some_and(|next| now < next) {
            return None;
        }
        let snapshot = {
            let observed = lock(&self.observed);
            if schedule.evaluated_version == Some(observed.version) {
                return None;
            }
            observed.snapshot()
        };
        let started = Instant::now();
        let (findings, idle_growth) = evaluate(&snapshot, &self.thresholds, &self.prices);
        let took = started.elapsed();
        schedule.next = Some(now + self.min_interval.max(took * self.max_duty));
        schedule.evaluated_version = Some(snapshot.version);
        *lock(&self.last) = findings.clone();
        Some(Judgement {
            findings,
            idle_growth,
            took,
            samples: snapshot.kept.len(),
        })
    }

    /// The findings of the last evaluation (none before the first).
    pub fn findings(&self) -> Vec<Finding> {
        lock(&self.last).clone()
    }
}
