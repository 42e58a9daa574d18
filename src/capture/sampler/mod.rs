//! The memory sampler: samples the memory of the agent's whole process tree on its own thread.
//!
//! This module owns the public API ([`Sampler::spawn`], [`SamplerHandle`]) and the sampling
//! thread: its fixed schedule, its control channel and its statistics. What one tick does —
//! discovery, exits, roles, sums — is `tree.rs`; every read of the OS is `table.rs`.
//!
//! The sampler runs on a plain std thread rather than the async runtime so a slow `/proc` read
//! (PSS walks page tables) never stalls the proxy, and so its own CPU cost can be measured
//! exactly (it is reported in [`SamplerStats::cpu_time`]).

pub mod table;
#[cfg(test)]
mod tests;
pub mod tree;

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::observation::{MemorySample, ProcessEvent};

pub use table::{LinuxProcessTable, ProcessTable};
pub use tree::{Tree, TreeConfig};

/// What to sample and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplerConfig {
    /// Root pids (role `Main`); more can be added later with [`SamplerHandle::add_root`].
    pub roots: Vec<u32>,
    /// Time between ticks. Ticks sit on a fixed grid from the start; missed ones are skipped.
    pub interval: Duration,
    /// Read PSS and VmHWM every Nth tick (the first tick included); 0 = never.
    pub pss_every: u32,
}

impl Default for SamplerConfig {
    /// 10 Hz, PSS once a second.
    fn default() -> Self {
        Self {
            roots: Vec::new(),
            interval: Duration::from_millis(100),
            pss_every: 10,
        }
    }
}

/// What the sampler hands its sink, on the sampler thread.
#[derive(Debug, Clone, PartialEq)]
pub enum SamplerEvent {
    Sample(MemorySample),
    Process(ProcessEvent),
}

/// What the sampler did, returned by [`SamplerHandle::stop`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SamplerStats {
    /// Ticks taken, the final one included.
    pub ticks: u64,
    /// Samples emitted (a tick with an empty tree emits none).
    pub samples: u64,
    /// Distinct processes that joined the tree, roots included.
    pub processes_seen: u64,
    /// Scheduled ticks skipped because the sampler was late (a tick or the sink too slow).
    pub missed_ticks: u64,
    /// CPU time of the sampler thread itself (including time spent in the sink).
    pub cpu_time: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SamplerError {
    #[error("the sampling interval must be greater than zero")]
    ZeroInterval,
    #[error("cannot read the process table: {0}")]
    Table(#[from] sysinfo::Error),
    #[error("cannot start the sampler thread: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("the sampler thread has stopped")]
    Stopped,
}

/// Messages from the handle to the sampler thread.
#[derive(Debug)]
enum Control {
    AddRoot(u32),
    Stop,
}

/// Starts memory samplers.
pub struct Sampler;

impl Sampler {
    /// Starts sampling the real process table on a thread named `agentprof-sampler`.
    ///
    /// `clock` gives the time of each tick in seconds since the trace started; `sink` receives
    /// every event on the sampler thread, so it should hand them off rather than block.
    pub fn spawn(
        config: SamplerConfig,
        clock: impl Fn() -> f64 + Send + 'static,
        sink: impl FnMut(SamplerEvent) + Send + 'static,
    ) -> Result<SamplerHandle, SamplerError> {
        Self::spawn_with_table(config, LinuxProcessTable::new()?, clock, sink)
    }

    /// [`Sampler::spawn`] over any process table (tests use a scripted one).
    pub fn spawn_with_table<T: ProcessTable + Send + 'static>(
        config: SamplerConfig,
        table: T,
        clock: impl Fn() -> f64 + Send + 'static,
        sink: impl FnMut(SamplerEvent) + Send + 'static,
    ) -> Result<SamplerHandle, SamplerError> {
        if config.interval.is_zero() {
            return Err(SamplerError::ZeroInterval);
        }
        let mut tree = Tree::new(TreeConfig {
            pss_every: config.pss_every,
            scan_every: scan_every(config.interval),
        });
        for &pid in &config.roots {
            tree.add_root(pid);
        }
        let (control, commands) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("agentprof-sampler".to_owned())
            .spawn(move || run(tree, table, config.interval, commands, clock, sink))
            .map_err(SamplerError::Spawn)?;
        Ok(SamplerHandle { control, thread })
    }
}

/// Ticks between full process scans when children lists are unavailable: about one a second.
fn scan_every(interval: Duration) -> u32 {
    let per_second = Duration::from_secs(1).as_nanos() / interval.as_nanos().max(1);
    u32::try_from(per_second).unwrap_or(u32::MAX).max(1)
}

/// Controls a running sampler.
#[derive(Debug)]
pub struct SamplerHandle {
    control: mpsc::Sender<Control>,
    thread: JoinHandle<SamplerStats>,
}

impl SamplerHandle {
    /// Adds a root process; it joins the tree at the next tick.
    pub fn add_root(&self, pid: u32) -> Result<(), SamplerError> {
        self.control
            .send(Control::AddRoot(pid))
            .map_err(|_| SamplerError::Stopped)
    }

    /// Takes one final sample, stops the thread and waits for it.
    pub fn stop(self) -> SamplerStats {
        // A send error means the thread already ended; join tells how.
        let _ = self.control.send(Control::Stop);
        match self.thread.join() {
            Ok(stats) => stats,
            Err(_) => {
                tracing::error!("the memory sampler thread panicked");
                SamplerStats::default()
            }
        }
    }
}

/// `start + n × interval`, computed without accumulating rounding (no drift).
fn tick_deadline(start: Instant, interval: Duration, n: u64) -> Instant {
    let nanos = interval.as_nanos().saturating_mul(u128::from(n));
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    // The remainder is < 1e9 and always fits.
    let sub = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
    // n only ever reaches elapsed / interval + 1, so this cannot overflow in practice.
    start.checked_add(Duration::new(secs, sub)).unwrap_or(start)
}

/// The sampler thread: ticks at `start + n × interval` until told to stop.
fn run<T: ProcessTable>(
    mut tree: Tree,
    mut table: T,
    interval: Duration,
    commands: mpsc::Receiver<Control>,
    clock: impl Fn() -> f64,
    mut sink: impl FnMut(SamplerEvent),
) -> SamplerStats {
    let start = Instant::now();
    let mut next: u64 = 0;
    let mut missed: u64 = 0;
    loop {
        let deadline = tick_deadline(start, interval, next);
        // Waiting on the channel, not sleeping, so stop and add_root act at once.
        let timeout = deadline.saturating_duration_since(Instant::now());
        match commands.recv_timeout(timeout) {
            Ok(Control::AddRoot(pid)) => {
                tree.add_root(pid);
                continue;
            }
            Ok(Control::Stop) => {
                tree.tick(&mut table, clock(), &mut sink);
                break;
            }
            // The handle was dropped without stop(): nobody wants the final sample.
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        tree.tick(&mut table, clock(), &mut sink);

        // Next grid point still ahead of us; any passed while this tick ran are skipped, not
        // made up in a burst.
        let elapsed = start.elapsed().as_nanos();
        let due = u64::try_from(elapsed / interval.as_nanos().max(1)).unwrap_or(u64::MAX);
        let following = due.saturating_add(1).max(next + 1);
        if following > next + 1 {
            let skipped = following - next - 1;
            missed += skipped;
            tracing::debug!(skipped, "memory sampler fell behind; ticks skipped");
        }
        next = following;
    }
    SamplerStats {
        ticks: tree.ticks(),
        samples: tree.samples(),
        processes_seen: tree.processes_seen(),
        missed_ticks: missed,
        cpu_time: table::current_thread_cpu_time(),
    }
}
