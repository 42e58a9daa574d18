//! The process table: the one place the memory sampler reads the operating system.
//!
//! [`ProcessTable`] is the seam between the tree-tracking logic (`tree.rs`, pure) and `/proc`.
//! Tests drive the logic with a scripted fake table, so discovery, exits, pid reuse and role
//! assignment are checked deterministically; [`LinuxProcessTable`] is the real implementation.
//!
//! Nothing here returns an error to the caller: a process that vanished or that we may not read
//! is simply absent (`None`) for that call, which the sampler treats as "skip it this tick".
//!
//! Reading and parsing the `/proc` files themselves is `table/proc_files.rs`.

mod proc_files;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;

use procfs::FromRead;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, ThreadKind, UpdateKind};

use proc_files::{StatFields, kib_field, parse_stat, read_proc_file, release};

/// Whether a process is still running or has already exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcState {
    Alive,
    /// A zombie (or dead) process: it has exited and only waits to be reaped, so it is gone.
    Exited,
}

/// What kind of task a pid names. Only [`ProcKind::Process`] is ever sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcKind {
    /// A user-space process (thread-group leader).
    Process,
    /// A non-leader thread of some process: its memory is its process's memory.
    Thread,
    /// A kernel thread (`PF_KTHREAD`, or a child of `kthreadd`): no user memory of its own.
    KernelThread,
}

/// Identity and state of one pid, from the table's latest refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcInfo {
    pub ppid: Option<u32>,
    /// When the process started, in the table's own unit. Only compared for equality: a pid
    /// whose start time changed has been reused by a new process.
    pub start_time: u64,
    pub state: ProcState,
    pub kind: ProcKind,
    /// Changes when the process execs (Linux: a hash of its `comm`, which a thread can also
    /// rename). Only compared for equality; a change means "read the command line again".
    pub exec_id: u64,
}

/// A process's executable and arguments, as far as they could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    /// Target of `/proc/PID/exe`; `None` when unreadable (another user's process, a zombie).
    pub exe: Option<PathBuf>,
    /// `argv`, lossily decoded; empty for zombies and kernel threads.
    pub argv: Vec<String>,
}

/// PSS and peak RSS of one process, read together because both are the slow, occasional reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PssReading {
    /// `Pss` from `/proc/PID/smaps_rollup`, in bytes.
    pub pss_bytes: Option<u64>,
    /// `VmHWM` from `/proc/PID/status`, in bytes.
    pub peak_rss_bytes: Option<u64>,
}

/// Read access to the processes of the machine, as the sampler needs it.
///
/// Per tick the sampler calls [`refresh`] with the tree's members, then [`refresh_new`] with
/// each batch of newly found processes; [`info`], [`rss_bytes`] and [`command`] answer from
/// what those loaded, so an implementation can make one pass over the tree per tick.
///
/// [`refresh`]: ProcessTable::refresh
/// [`refresh_new`]: ProcessTable::refresh_new
/// [`info`]: ProcessTable::info
/// [`rss_bytes`]: ProcessTable::rss_bytes
/// [`command`]: ProcessTable::command
pub trait ProcessTable {
    /// Loads identity, state and RSS of the tree's members. Called first in every tick with all
    /// of them, so anything held for other pids may be released.
    fn refresh(&mut self, pids: &[u32]);

    /// Like [`refresh`](ProcessTable::refresh) for processes seen for the first time (roots,
    /// newly found children), and also loads their executable and arguments. Adds to what the
    /// tick's `refresh` loaded.
    fn refresh_new(&mut self, pids: &[u32]);

    /// Identity and state of `pid`; `None` if it is gone or could not be read.
    fn info(&self, pid: u32) -> Option<ProcInfo>;

    /// Resident set size of `pid`, in bytes.
    fn rss_bytes(&self, pid: u32) -> Option<u64>;

    /// Executable and arguments of `pid`, as loaded by `refresh_new`.
    fn command(&self, pid: u32) -> Option<CommandLine>;

    /// Whether [`children`](ProcessTable::children) works here. When it does not, the sampler
    /// falls back to [`parent_map`](ProcessTable::parent_map), which costs a full scan.
    fn supports_children(&mut self) -> bool;

    /// Appends the direct child processes of `pid` (of all its threads) to `out`; false if
    /// they could not be read.
    fn children(&mut self, pid: u32, out: &mut Vec<u32>) -> bool;

    /// Every process on the machine as `(pid, ppid)`: the expensive fallback for discovery.
    fn parent_map(&mut self) -> Vec<(u32, u32)>;

    /// PSS and VmHWM of `pid`. Slow (the kernel walks the page tables), so called rarely.
    fn pss_and_peak(&mut self, pid: u32) -> PssReading;
}

/// `kthreadd`: every kernel thread but itself is its child.
const KTHREADD_PID: u32 = 2;
/// `PF_KTHREAD` in the `flags` field of `/proc/PID/stat` (include/linux/sched.h).
const PF_KTHREAD: u64 = 0x0020_0000;
/// When sysinfo's process list holds more entries than this, it is rebuilt (see `refresh_new`).
const MAX_SYSINFO_ENTRIES: usize = 256;
/// What the Linux table holds for one process of the tree.
///
/// Files are kept open and re-read with `pread` from offset 0: one syscall per read instead of
/// open/read/close, which is most of the cost of a `/proc` read. A held file is bound to the
/// process (or, for `smaps_rollup`, the address space) it was opened for, so once that is gone
/// reads fail — a reused pid can never be misread through one.
#[derive(Debug, Default)]
struct Entry {
    stat: Option<File>,
    fields: Option<StatFields>,
    /// `children` files of the process's threads, by tid.
    threads: Vec<(u32, File)>,
    smaps_rollup: Option<File>,
    status: Option<File>,
    command: Option<CommandLine>,
    /// sysinfo said the pid is a non-leader thread.
    is_thread: bool,
    /// Refresh round that last touched this entry; older entries are dropped.
    round: u64,
}

impl Entry {
    fn held_files(&self) -> usize {
        usize::from(self.stat.is_some())
            + self.threads.len()
            + usize::from(self.smaps_rollup.is_some())
            + usize::from(self.status.is_some())
    }

    /// Forgets everything learnt about the process that held this pid before.
    fn reset(&mut self, held: &mut usize) {
        let stat = self.stat.take();
        *held -= self.held_files();
        *self = Entry {
            stat,
            round: self.round,
            ..Entry::default()
        };
        *held += self.held_files();
    }
}
/// The Linux process table.
///
/// Sources, each where it is cheapest or belongs:
/// - per tick, identity, state and RSS: `/proc/PID/stat`, held open (see `Entry`). sysinfo
///   reads `status`, `stat` and `statm` per process per refresh; that made a 51-process tick
///   2 ms, ten times this;
/// - children: `/proc/PID/task/TID/children`, held open (a `pread` per thread per tick, versus
///   reading every process on the machine for a full scan);
/// - once per process, executable, argv and thread kind: `sysinfo`, refreshing only the new
///   pids with threads (tasks) excluded — with tasks included every thread would be listed as a
///   process and their shared RSS counted once per thread;
/// - PSS and VmHWM on PSS ticks: `smaps_rollup` and `status`, held open and scanned for their
///   one line each (procfs's parsers build a map of every field, a tenth of a PSS tick);
/// - the fallback full scan, and the sampler's own CPU time: `procfs`.
pub struct LinuxProcessTable {
    system: System,
    entries: HashMap<u32, Entry>,
    round: u64,
    /// Files held open across all entries.
    held: usize,
    page_size: u64,
    children_supported: Option<bool>,
    pid_buf: Vec<Pid>,
    buf: Vec<u8>,
    tid_buf: Vec<u32>,
}

impl LinuxProcessTable {
    /// A table with nothing loaded yet.
    pub fn new() -> Result<Self, sysinfo::Error> {
        Ok(Self {
            system: System::new()?,
            entries: HashMap::new(),
            round: 0,
            held: 0,
            page_size: procfs::page_size(),
            children_supported: None,
            pid_buf: Vec::new(),
            buf: Vec::with_capacity(4096),
            tid_buf: Vec::new(),
        })
    }

    /// Re-reads the stat of `pid`, opening it if needed. A held file that no longer reads (its
    /// process exited) is dropped with the entry and the pid read once more by path: whatever
    /// holds it now is a new process, and its different start time tells the tree so.
    fn read_stat(&mut self, pid: u32) {
        let round = self.round;
        for _attempt in 0..2 {
            let entry = self.entries.entry(pid).or_default();
            let ok = read_proc_file(
                &mut entry.stat,
                || format!("/proc/{pid}/stat"),
                &mut self.buf,
                &mut self.held,
            );
            if let Some(fields) = ok.then(|| parse_stat(&self.buf)).flatten() {
                if entry
                    .fields
                    .is_some_and(|old| old.start_time != fields.start_time)
                {
                    entry.reset(&mut self.held);
                }
                entry.fields = Some(fields);
                entry.round = round;
                return;
            }
            self.drop_entry(pid);
        }
    }

    fn drop_entry(&mut self, pid: u32) {
        if let Some(entry) = self.entries.remove(&pid) {
            self.held -= entry.held_files();
        }
    }

    /// Reads the `children` file of every thread of `pid` into `out`.
    fn read_thread_children(&mut self, pid: u32, out: &mut Vec<u32>) -> bool {
        let Some(num_threads) = self
            .entries
            .get(&pid)
            .and_then(|e| e.fields)
            .map(|f| f.num_threads)
        else {
            return false;
        };
        // A child is listed under the thread that forked it, so every thread must be read.
        // Single-threaded (most tools): the one thread is the pid, no directory listing needed.
        self.tid_buf.clear();
        if num_threads <= 1 {
            self.tid_buf.push(pid);
        } else {
            let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
                return false;
            };
            self.tid_buf
                .extend(dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()));
        }
        let Some(entry) = self.entries.get_mut(&pid) else {
            return false;
        };
        let before = entry.threads.len();
        entry.threads.retain(|(tid, _)| self.tid_buf.contains(tid));
        self.held -= before - entry.threads.len();
        for &tid in &self.tid_buf {
            let index = entry.threads.iter().position(|(t, _)| *t == tid);
            let mut slot = index.map(|i| entry.threads.swap_remove(i).1);
            let ok = read_proc_file(
                &mut slot,
                || format!("/proc/{pid}/task/{tid}/children"),
                &mut self.buf,
                &mut self.held,
            );
            match slot {
                Some(file) if ok => entry.threads.push((tid, file)),
                // A thread whose file stops reading has exited; its children moved elsewhere.
                Some(_) => self.held -= 1,
                None => {}
            }
            if ok {
                out.extend(
                    self.buf
                        .split(u8::is_ascii_whitespace)
                        .filter_map(|child| std::str::from_utf8(child).ok()?.parse::<u32>().ok()),
                );
            }
        }
        true
    }
}

impl ProcessTable for LinuxProcessTable {
    fn refresh(&mut self, pids: &[u32]) {
        self.round += 1;
        for &pid in pids {
            self.read_stat(pid);
        }
        // Whatever this round did not touch (exited members, rejected candidates) goes.
        let round = self.round;
        let mut released = 0;
        self.entries.retain(|_, entry| {
            let keep = entry.round == round;
            if !keep {
                released += entry.held_files();
            }
            keep
        });
        self.held -= released;
    }

    fn refresh_new(&mut self, pids: &[u32]) {
        if pids.is_empty() {
            return;
        }
        for &pid in pids {
            self.read_stat(pid);
        }
        // sysinfo, once per process: executable, argv, and whether the pid is a thread (it
        // compares Tgid with the pid) or a kernel thread.
        self.pid_buf.clear();
        self.pid_buf
            .extend(pids.iter().map(|&pid| Pid::from_u32(pid)));
        let kind = ProcessRefreshKind::nothing()
            .without_tasks()
            .with_exe(UpdateKind::Always)
            .with_cmd(UpdateKind::Always);
        self.system
            .refresh_processes_specifics(ProcessesToUpdate::Some(&self.pid_buf), true, kind);
        for &pid in pids {
            let (Some(process), Some(entry)) = (
                self.system.process(Pid::from_u32(pid)),
                self.entries.get_mut(&pid),
            ) else {
                continue;
            };
            entry.is_thread = process.thread_kind() == Some(ThreadKind::Userland);
            if process.thread_kind() == Some(ThreadKind::Kernel)
                && let Some(fields) = entry.fields.as_mut()
            {
                fields.flags |= PF_KTHREAD;
            }
            entry.command = Some(CommandLine {
                exe: process.exe().map(PathBuf::from),
                argv: process
                    .cmd()
                    .iter()
                    .map(|arg| arg.to_string_lossy().into_owned())
                    .collect(),
            });
        }
        // We copied what we need; sysinfo keeps every process it ever refreshed until a refresh
        // names it again, so start afresh rather than let its list grow for the whole run.
        if self.system.processes().len() > MAX_SYSINFO_ENTRIES
            && let Ok(system) = System::new()
        {
            self.system = system;
        }
    }

    fn info(&self, pid: u32) -> Option<ProcInfo> {
        let entry = self.entries.get(&pid)?;
        let fields = entry.fields?;
        let kind =
            if fields.flags & PF_KTHREAD != 0 || pid == KTHREADD_PID || fields.ppid == KTHREADD_PID
            {
                ProcKind::KernelThread
            } else if entry.is_thread {
                ProcKind::Thread
            } else {
                ProcKind::Process
            };
        let state = match fields.state {
            b'Z' | b'X' | b'x' => ProcState::Exited,
            _ => ProcState::Alive,
        };
        Some(ProcInfo {
            ppid: (fields.ppid != 0).then_some(fields.ppid),
            start_time: fields.start_time,
            state,
            kind,
            exec_id: fields.comm_hash,
        })
    }

    fn rss_bytes(&self, pid: u32) -> Option<u64> {
        let fields = self.entries.get(&pid)?.fields?;
        Some(fields.rss_pages.saturating_mul(self.page_size))
    }

    fn command(&self, pid: u32) -> Option<CommandLine> {
        self.entries.get(&pid)?.command.clone()
    }

    fn supports_children(&mut self) -> bool {
        // CONFIG_PROC_CHILDREN: if our own thread has the file, every task has it.
        *self
            .children_supported
            .get_or_insert_with(|| std::path::Path::new("/proc/thread-self/children").exists())
    }

    fn children(&mut self, pid: u32, out: &mut Vec<u32>) -> bool {
        self.read_thread_children(pid, out)
    }

    fn parent_map(&mut self) -> Vec<(u32, u32)> {
        let Ok(processes) = procfs::process::all_processes() else {
            return Vec::new();
        };
        processes
            .filter_map(|process| {
                let stat = process.ok()?.stat().ok()?;
                Some((
                    u32::try_from(stat.pid).ok()?,
                    u32::try_from(stat.ppid).ok()?,
                ))
            })
            .collect()
    }

    fn pss_and_peak(&mut self, pid: u32) -> PssReading {
        let Some(entry) = self.entries.get_mut(&pid) else {
            return PssReading::default();
        };
        let mut pss_bytes = None;
        // Twice at most: a held smaps_rollup is bound to the address space it was opened on,
        // and after an exec reads nothing; then it is reopened for the new one.
        for _attempt in 0..2 {
            let ok = read_proc_file(
                &mut entry.smaps_rollup,
                || format!("/proc/{pid}/smaps_rollup"),
                &mut self.buf,
                &mut self.held,
            );
            pss_bytes = ok.then(|| kib_field(&self.buf, "Pss")).flatten();
            if pss_bytes.is_some() || entry.smaps_rollup.is_none() {
                break;
            }
            release(&mut entry.smaps_rollup, &mut self.held);
        }
        let ok = read_proc_file(
            &mut entry.status,
            || format!("/proc/{pid}/status"),
            &mut self.buf,
            &mut self.held,
        );
        let peak_rss_bytes = ok.then(|| kib_field(&self.buf, "VmHWM")).flatten();
        if !ok {
            release(&mut entry.status, &mut self.held);
        }
        PssReading {
            pss_bytes,
            peak_rss_bytes,
        }
    }
}

/// CPU time consumed so far by the calling thread.
///
/// `schedstat` counts nanoseconds but some kernels leave it at 0; `stat` counts clock ticks
/// (10 ms). The larger of the two wins.
pub fn current_thread_cpu_time() -> std::time::Duration {
    let from_schedstat = procfs::process::Schedstat::from_file("/proc/thread-self/schedstat")
        .map(|s| std::time::Duration::from_nanos(s.sum_exec_runtime))
        .unwrap_or_default();
    let from_stat = procfs::process::Stat::from_file("/proc/thread-self/stat")
        .map(|s| {
            let ticks = s.utime.saturating_add(s.stime);
            let hz = procfs::ticks_per_second().max(1);
            std::time::Duration::from_nanos(ticks.saturating_mul(1_000_000_000) / hz)
        })
        .unwrap_or_default();
    from_schedstat.max(from_stat)
}
