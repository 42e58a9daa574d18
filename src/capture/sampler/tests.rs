//! Tests of the sampling thread: its schedule, control channel and statistics, with the fake
//! table and (in `linux`) against the real `/proc`.

use super::table::{CommandLine, ProcInfo, PssReading};
use super::tree::fake::{FakeTable, cmd};
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
