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

#[cfg(test)]
mod tests {
    use super::table::{CommandLine, ProcInfo, PssReading};
    use super::tree::tests::{FakeTable, cmd};
    use super::*;
    use std::sync::{Arc, Mutex};

    /// The fake table behind a mutex, so a test can edit it while the sampler thread runs.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<FakeTable>>);

    impl Shared {
        fn with<R>(&self, f: impl FnOnce(&mut FakeTable) -> R) -> R {
            let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut guard)
        }
    }

    impl ProcessTable for Shared {
        fn refresh(&mut self, pids: &[u32]) {
            self.with(|t| t.refresh(pids))
        }
        fn refresh_new(&mut self, pids: &[u32]) {
            self.with(|t| t.refresh_new(pids))
        }
        fn info(&self, pid: u32) -> Option<ProcInfo> {
            self.with(|t| t.info(pid))
        }
        fn rss_bytes(&self, pid: u32) -> Option<u64> {
            self.with(|t| t.rss_bytes(pid))
        }
        fn command(&self, pid: u32) -> Option<CommandLine> {
            self.with(|t| t.command(pid))
        }
        fn supports_children(&mut self) -> bool {
            self.with(|t| t.supports_children())
        }
        fn children(&mut self, pid: u32, out: &mut Vec<u32>) -> bool {
            self.with(|t| t.children(pid, out))
        }
        fn parent_map(&mut self) -> Vec<(u32, u32)> {
            self.with(|t| t.parent_map())
        }
        fn pss_and_peak(&mut self, pid: u32) -> PssReading {
            self.with(|t| t.pss_and_peak(pid))
        }
    }

    type Events = Arc<Mutex<Vec<SamplerEvent>>>;

    fn collector() -> (Events, impl FnMut(SamplerEvent) + Send + 'static) {
        let events: Events = Arc::default();
        let sink_events = events.clone();
        (events, move |e| {
            sink_events
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(e)
        })
    }

    fn clock() -> impl Fn() -> f64 + Send + 'static {
        let start = Instant::now();
        move || start.elapsed().as_secs_f64()
    }

    fn one_process_table() -> Shared {
        let table = Shared::default();
        table.with(|t| t.add(100, 1, 1 << 20, cmd("/usr/bin/agent", &["agent"])));
        table
    }

    #[test]
    fn stop_is_prompt_and_takes_a_final_sample() {
        let (events, sink) = collector();
        let config = SamplerConfig {
            roots: vec![100],
            interval: Duration::from_secs(3600),
            pss_every: 1,
        };
        let handle =
            Sampler::spawn_with_table(config, one_process_table(), clock(), sink).expect("spawn");
        std::thread::sleep(Duration::from_millis(50));
        let asked = Instant::now();
        let stats = handle.stop();
        assert!(
            asked.elapsed() < Duration::from_millis(500),
            "stop took {:?}",
            asked.elapsed()
        );
        // The immediate first tick and the final one.
        assert_eq!(
            (stats.ticks, stats.samples, stats.processes_seen),
            (2, 2, 1)
        );
        let events = events.lock().expect("events");
        let samples = events
            .iter()
            .filter(|e| matches!(e, SamplerEvent::Sample(_)))
            .count();
        assert_eq!(samples, 2);
    }

    #[test]
    fn roots_can_be_added_after_start() {
        let (events, sink) = collector();
        let config = SamplerConfig {
            roots: vec![],
            interval: Duration::from_millis(20),
            pss_every: 0,
        };
        let handle =
            Sampler::spawn_with_table(config, one_process_table(), clock(), sink).expect("spawn");
        std::thread::sleep(Duration::from_millis(70));
        assert!(
            events.lock().expect("events").is_empty(),
            "no root, no events"
        );
        handle.add_root(100).expect("add_root");
        std::thread::sleep(Duration::from_millis(100));
        let stats = handle.stop();
        assert!(stats.ticks >= 6, "{stats:?}");
        assert!(
            stats.samples >= 2 && stats.samples < stats.ticks,
            "{stats:?}"
        );
        let events = events.lock().expect("events");
        assert!(matches!(
            events.first(),
            Some(SamplerEvent::Process(ProcessEvent::Start { pid: 100, .. }))
        ));
    }

    #[test]
    fn late_ticks_are_skipped_not_bursted() {
        let times: Arc<Mutex<Vec<f64>>> = Arc::default();
        let sink_times = times.clone();
        let sink = move |e| {
            if let SamplerEvent::Sample(s) = e {
                let mut times = sink_times.lock().unwrap_or_else(|e| e.into_inner());
                times.push(s.t);
                if times.len() == 2 {
                    // A stall of five intervals.
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        };
        let config = SamplerConfig {
            roots: vec![100],
            interval: Duration::from_millis(20),
            pss_every: 0,
        };
        let handle =
            Sampler::spawn_with_table(config, one_process_table(), clock(), sink).expect("spawn");
        std::thread::sleep(Duration::from_millis(300));
        let stats = handle.stop();
        assert!(stats.missed_ticks >= 3, "{stats:?}");
        let times = times.lock().expect("times");
        // On the grid, any three consecutive ticks span more than one interval (a late tick
        // may sit close to the next one, never two); a burst would put several within a few
        // milliseconds. Stop's final tick may land anywhere, so it is left out.
        let scheduled = &times[..times.len() - 1];
        for window in scheduled.windows(3) {
            assert!(window[2] - window[0] > 0.020, "burst: {times:?}");
        }
    }

    #[test]
    fn zero_interval_is_rejected() {
        let config = SamplerConfig {
            interval: Duration::ZERO,
            ..SamplerConfig::default()
        };
        let result = Sampler::spawn_with_table(config, one_process_table(), clock(), |_| {});
        assert!(matches!(result, Err(SamplerError::ZeroInterval)));
    }

    #[test]
    fn deadlines_sit_on_the_grid() {
        let start = Instant::now();
        let interval = Duration::from_nanos(100_000_001);
        assert_eq!(
            tick_deadline(start, interval, 10_000_000) - start,
            Duration::new(1_000_000, 10_000_000)
        );
        assert_eq!(scan_every(Duration::from_millis(100)), 10);
        assert_eq!(scan_every(Duration::from_secs(5)), 1);
    }

    /// Against the real `/proc`: spawned process trees, so these also exercise the Linux table.
    mod linux {
        use super::*;
        use crate::observation::ProcessRole;
        use std::io::{BufRead, BufReader, Write};
        use std::os::unix::process::CommandExt;
        use std::process::{Child, Command, Stdio};

        const MIB: u64 = 1 << 20;

        /// Kills the whole process group of `child` (it was started as a group leader).
        fn kill_group(child: &Child) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
        }

        fn wait_for(events: &Events, what: &str, mut pred: impl FnMut(&[SamplerEvent]) -> bool) {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if pred(&events.lock().expect("events")) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            panic!(
                "timed out waiting for {what}: {:#?}",
                events.lock().expect("events")
            );
        }

        fn samples(events: &[SamplerEvent]) -> Vec<&MemorySample> {
            events
                .iter()
                .filter_map(|e| match e {
                    SamplerEvent::Sample(s) => Some(s),
                    _ => None,
                })
                .collect()
        }

        /// A PSS sample of three processes, all with memory, whose RSS equals the sample before.
        fn settled_pss_sample<'a>(samples: &[&'a MemorySample]) -> Option<&'a MemorySample> {
            let rss = |s: &MemorySample| -> Vec<(u32, u64)> {
                s.processes.iter().map(|p| (p.pid, p.rss_bytes)).collect()
            };
            samples.windows(2).rev().find_map(|pair| {
                let [before, s] = pair else { return None };
                let settled = s.processes.len() == 3
                    && rss(s) == rss(before)
                    && s.processes
                        .iter()
                        .all(|p| p.rss_bytes > 0 && p.pss_bytes.is_some_and(|pss| pss > 0));
                settled.then_some(*s)
            })
        }

        #[test]
        fn finds_a_shell_and_its_two_sleeps() {
            let mut child = Command::new("sh")
                .args(["-c", "sleep 5 & sleep 5 & wait"])
                .process_group(0)
                .spawn()
                .expect("spawn sh");
            let root = child.id();
            let (events, sink) = collector();
            let config = SamplerConfig {
                roots: vec![root],
                interval: Duration::from_millis(25),
                pss_every: 1,
            };
            let handle = Sampler::spawn(config, clock(), sink).expect("sampler");

            // A PSS tick that sees all three with memory, settled: same RSS as the tick before
            // (a `sleep` caught in its dynamic loader is still growing).
            wait_for(
                &events,
                "three settled processes with RSS and PSS",
                |events| settled_pss_sample(&samples(events)).is_some(),
            );
            let starts: Vec<(u32, Option<u32>, ProcessRole, String)> = events
                .lock()
                .expect("events")
                .iter()
                .filter_map(|e| match e {
                    SamplerEvent::Process(ProcessEvent::Start {
                        pid,
                        ppid,
                        role,
                        command,
                        ..
                    }) => Some((*pid, *ppid, *role, command.clone())),
                    _ => None,
                })
                .collect();
            assert_eq!(starts.len(), 3, "{starts:?}");
            assert_eq!(starts[0].0, root);
            assert_eq!(starts[0].2, ProcessRole::Main);
            assert_eq!(starts[0].3, "sh -c sleep 5 & sleep 5 & wait");
            for (_, ppid, role, command) in &starts[1..] {
                assert_eq!(*ppid, Some(root));
                assert_eq!(*role, ProcessRole::Other);
                assert_eq!(command, "sleep 5");
            }
            {
                let events = events.lock().expect("events");
                let last = samples(&events).last().copied().cloned().expect("a sample");
                assert_eq!((last.main.processes, last.other.processes), (1, 2));
                assert_eq!(last.subagent.processes, 0);
                assert_eq!(last.rss_bytes, last.main.rss_bytes + last.other.rss_bytes);
                // Cross-checked against procfs's own parse of smaps_rollup and stat.
                let pss_sample = settled_pss_sample(&samples(&events)).expect("settled sample");
                for p in &pss_sample.processes {
                    let process = procfs::process::Process::new(p.pid as i32).expect("process");
                    let rollup = process.smaps_rollup().expect("smaps_rollup");
                    let pss = rollup.memory_map_rollup.0[0].extension.map["Pss"];
                    let ours = p.pss_bytes.expect("pss");
                    // Shared pages' PSS moves as other processes map the same libraries.
                    assert!(
                        ours.abs_diff(pss) <= pss / 4 + 64 * 1024,
                        "pid {}: PSS {ours} vs procfs {pss}",
                        p.pid
                    );
                    let rss = process.stat().expect("stat").rss * procfs::page_size();
                    assert!(
                        p.rss_bytes.abs_diff(rss) <= rss / 4 + 64 * 1024,
                        "pid {}: RSS {} vs procfs {rss}",
                        p.pid,
                        p.rss_bytes
                    );
                }
            }

            // Killed, the shell stays a zombie (we have not reaped it): still an exit.
            kill_group(&child);
            wait_for(&events, "three exits", |events| {
                events
                    .iter()
                    .filter(|e| matches!(e, SamplerEvent::Process(ProcessEvent::Exit { .. })))
                    .count()
                    == 3
            });
            let zombie = std::fs::read_to_string(format!("/proc/{root}/stat")).unwrap_or_default();
            let stats = handle.stop();
            let _ = child.wait();
            assert!(zombie.contains(") Z "), "shell was not a zombie: {zombie}");
            assert_eq!(stats.processes_seen, 3);
            // It ran a dozen ticks or more: some CPU, far less than the wall time.
            assert!(
                stats.cpu_time > Duration::ZERO && stats.cpu_time < Duration::from_millis(300),
                "{stats:?}"
            );
            assert!(
                stats.ticks >= stats.samples && stats.samples >= 1,
                "{stats:?}"
            );
        }

        #[test]
        fn sees_a_64_mib_allocation() {
            let script = "import sys, time\n\
                          print('ready', flush=True)\n\
                          sys.stdin.readline()\n\
                          b = bytearray(b'x') * (64 << 20)\n\
                          print('allocated', flush=True)\n\
                          time.sleep(30)\n";
            let mut child = Command::new("python3")
                .args(["-c", script])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .process_group(0)
                .spawn()
                .expect("spawn python3");
            let pid = child.id();
            let mut stdin = child.stdin.take().expect("stdin");
            let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
            let mut line = String::new();

            let (events, sink) = collector();
            let config = SamplerConfig {
                roots: vec![pid],
                interval: Duration::from_millis(25),
                pss_every: 2,
            };
            let handle = Sampler::spawn(config, clock(), sink).expect("sampler");
            // RSS of the root in a sample taken wholly after `marker` samples.
            let rss_after = |marker: usize| {
                wait_for(&events, "two more samples", |events| {
                    samples(events).len() >= marker + 2
                });
                let events = events.lock().expect("events");
                let last = samples(&events).last().copied().cloned().expect("sample");
                last.main.rss_bytes
            };
            let count = || samples(&events.lock().expect("events")).len();

            stdout.read_line(&mut line).expect("ready");
            assert_eq!(line.trim(), "ready");
            let before = rss_after(count());
            writeln!(stdin, "go").expect("write");
            line.clear();
            stdout.read_line(&mut line).expect("allocated");
            assert_eq!(line.trim(), "allocated");
            let after = rss_after(count());
            // Let a PSS tick read VmHWM after the allocation, then end it.
            rss_after(count() + 1);
            kill_group(&child);
            let _ = child.wait();
            wait_for(&events, "the exit", |events| {
                events.iter().any(|e| {
                    matches!(e, SamplerEvent::Process(ProcessEvent::Exit { pid: p, .. }) if *p == pid)
                })
            });
            let stats = handle.stop();

            assert!(
                after >= before + 60 * MIB,
                "RSS rose by only {} KiB ({before} → {after})",
                (after.saturating_sub(before)) / 1024
            );
            let events = events.lock().expect("events");
            let peak = events.iter().find_map(|e| match e {
                SamplerEvent::Process(ProcessEvent::Exit {
                    pid: exited,
                    peak_rss_bytes,
                    ..
                }) if *exited == pid => Some(*peak_rss_bytes),
                _ => None,
            });
            assert!(
                matches!(peak, Some(Some(p)) if p >= before + 60 * MIB),
                "peak {peak:?}"
            );
            // `python3` may be a version-manager shim whose helpers come and go: ≥ 1.
            assert!(stats.processes_seen >= 1, "{stats:?}");
        }
    }
}
