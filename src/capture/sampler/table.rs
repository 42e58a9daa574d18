//! The process table: the one place the memory sampler reads the operating system.
//!
//! [`ProcessTable`] is the seam between the tree-tracking logic (`tree.rs`, pure) and `/proc`.
//! Tests drive the logic with a scripted fake table, so discovery, exits, pid reuse and role
//! assignment are checked deterministically; [`LinuxProcessTable`] is the real implementation.
//!
//! Nothing here returns an error to the caller: a process that vanished or that we may not read
//! is simply absent (`None`) for that call, which the sampler treats as "skip it this tick".

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use procfs::FromRead;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, ThreadKind, UpdateKind};

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
/// Most `/proc` files the table keeps open at once. Past it, files are opened per read: slower,
/// but a huge tree can't exhaust the descriptors the rest of agentprof (the proxy) needs.
const MAX_HELD_FILES: usize = 256;
/// When sysinfo's process list holds more entries than this, it is rebuilt (see `refresh_new`).
const MAX_SYSINFO_ENTRIES: usize = 256;

/// The fields of `/proc/PID/stat` the sampler uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatFields {
    state: u8,
    ppid: u32,
    flags: u64,
    num_threads: u64,
    /// Clock ticks after boot.
    start_time: u64,
    rss_pages: u64,
    /// Hash of `comm`, the executable name the kernel sets on exec.
    comm_hash: u64,
}

/// Parses `/proc/PID/stat`. The command name in parentheses may itself contain spaces and
/// parentheses, so fields are counted from the *last* `)`.
fn parse_stat(text: &[u8]) -> Option<StatFields> {
    let open = text.iter().position(|&b| b == b'(')?;
    let close = text.iter().rposition(|&b| b == b')')?;
    let comm_hash = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        text.get(open + 1..close)?.hash(&mut hasher);
        hasher.finish()
    };
    let rest = std::str::from_utf8(text.get(close + 2..)?).ok()?;
    // Field 3 (state) is index 0 here; field N is index N - 3.
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    let mut next_num = |skip: usize| -> Option<u64> { fields.nth(skip)?.parse().ok() };
    let ppid = next_num(0)?; // 4
    let flags = next_num(4)?; // 9
    let num_threads = next_num(10)?; // 20
    let start_time = next_num(1)?; // 22
    let rss_pages = next_num(1)?; // 24
    Some(StatFields {
        state,
        ppid: u32::try_from(ppid).ok()?,
        flags,
        num_threads,
        start_time,
        rss_pages,
        comm_hash,
    })
}

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

/// Reads all of `file` from offset 0 into `buf`.
fn read_whole(file: &File, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        match file.read_at(&mut chunk, buf.len() as u64) {
            Ok(n) => {
                buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
                // These are seq_files: a read fills the buffer unless the content ran out, so a
                // short read is the end and the usual extra read returning 0 can be skipped.
                if n < chunk.len() {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
}

/// Reads a `/proc` file through `slot` if it is held, else opens `path` and, budget allowing,
/// keeps it in `slot`. False if it could not be read.
fn read_proc_file(
    slot: &mut Option<File>,
    path: impl FnOnce() -> String,
    buf: &mut Vec<u8>,
    held: &mut usize,
) -> bool {
    if let Some(file) = slot {
        return read_whole(file, buf);
    }
    let Ok(file) = File::open(path()) else {
        return false;
    };
    let ok = read_whole(&file, buf);
    if ok && *held < MAX_HELD_FILES {
        *slot = Some(file);
        *held += 1;
    }
    ok
}

/// Drops a held file that stopped reading.
fn release(slot: &mut Option<File>, held: &mut usize) {
    if slot.take().is_some() {
        *held -= 1;
    }
}

/// The value in bytes of a `Name:   1234 kB` line of a `/proc` key-value file.
fn kib_field(text: &[u8], name: &str) -> Option<u64> {
    text.split(|&b| b == b'\n').find_map(|line| {
        let rest = line.strip_prefix(name.as_bytes())?.strip_prefix(b":")?;
        let value = std::str::from_utf8(rest).ok()?.trim().strip_suffix("kB")?;
        value.trim().parse::<u64>().ok()?.checked_mul(1024)
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_a_hostile_command_name() {
        let line = b"4242 (a) b (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 \
                     987654 10000 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        assert_eq!(
            parse_stat(line),
            Some(StatFields {
                state: b'S',
                ppid: 17,
                flags: 4_194_560,
                num_threads: 3,
                start_time: 987_654,
                rss_pages: 2560,
                comm_hash: parse_stat(b"1 (a) b (c) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0")
                    .map_or(0, |f| f.comm_hash),
            })
        );
        let other = parse_stat(b"1 (a) b (d) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0");
        assert!(other.is_some_and(|f| f.comm_hash != parse_stat(line).map_or(0, |f| f.comm_hash)));
        assert_eq!(parse_stat(b"4242 (x) S 1 2"), None);
        assert_eq!(parse_stat(b""), None);
    }

    #[test]
    fn reads_kib_fields() {
        let status = b"Name:\tx\nVmPeak:\t  10 kB\nVmHWM:\t    2380 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(kib_field(status, "VmHWM"), Some(2380 * 1024));
        assert_eq!(kib_field(status, "VmHW"), None);
        let rollup =
            b"55ac-7ffd ---p 0 00:00 0 [rollup]\nRss: 3952 kB\nPss_Anon: 538 kB\nPss: 1037 kB\n";
        assert_eq!(kib_field(rollup, "Pss"), Some(1037 * 1024));
        assert_eq!(kib_field(b"", "Pss"), None);
    }

    impl LinuxProcessTable {
        fn held_is_consistent(&self) -> bool {
            self.held == self.entries.values().map(Entry::held_files).sum::<usize>()
        }
    }

    #[test]
    fn reads_this_process() {
        let Ok(mut table) = LinuxProcessTable::new() else {
            panic!("no process table");
        };
        let me = std::process::id();
        table.refresh_new(&[me]);
        let info = table.info(me).expect("own info");
        assert_eq!(info.state, ProcState::Alive);
        assert_eq!(info.kind, ProcKind::Process);
        assert_eq!(
            info.ppid,
            procfs::process::Process::myself()
                .and_then(|p| p.stat())
                .ok()
                .map(|s| s.ppid as u32)
        );
        assert!(table.rss_bytes(me).is_some_and(|rss| rss > 1 << 20));
        let command = table.command(me).expect("own command");
        assert_eq!(command.exe, std::env::current_exe().ok());
        assert!(!command.argv.is_empty());
        let reading = table.pss_and_peak(me);
        assert!(reading.pss_bytes.is_some_and(|p| p > 0));
        assert!(reading.peak_rss_bytes.is_some_and(|p| p > 1 << 20));
        // Our test threads are threads, not processes; kthreadd is a kernel thread.
        let tids: Vec<u32> = std::fs::read_dir("/proc/self/task")
            .expect("tasks")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|&tid| tid != me)
            .collect();
        if let Some(&tid) = tids.first() {
            table.refresh_new(&[tid]);
            assert_eq!(table.info(tid).map(|i| i.kind), Some(ProcKind::Thread));
        }
        table.refresh_new(&[KTHREADD_PID]);
        if let Some(info) = table.info(KTHREADD_PID) {
            assert_eq!(info.kind, ProcKind::KernelThread);
        }
        let mut children = Vec::new();
        assert!(table.children(me, &mut children));
        assert!(table.held_is_consistent());
        // A later refresh that doesn't name them releases them.
        table.refresh(&[me]);
        assert!(table.info(KTHREADD_PID).is_none());
        assert!(table.info(me).is_some());
        assert!(table.command(me).is_some(), "command survives refreshes");
        assert!(table.held_is_consistent());
        table.refresh(&[]);
        assert_eq!(table.held, 0);
    }
}
