//! Tree tracking: which processes belong to the agent's tree, what role each plays, and what one
//! tick of sampling turns into (start and exit events, one [`MemorySample`]).
//!
//! Pure logic over a [`ProcessTable`]: no clock, no thread, no I/O of its own, so the rules here
//! (discovery order, exits, pid reuse, roles, when PSS is read, the sums) are tested with a fake
//! table. The thread that calls [`Tree::tick`] on a schedule lives in `mod.rs`.
//!
//! The role rule and the short command reported for a process are in `tree/command.rs`; the
//! scripted table the tests use is `tree/fake.rs`.

mod command;
#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::observation::{MemorySample, ProcessEvent, ProcessMemory, ProcessRole, RoleMemory};

use super::SamplerEvent;
use super::table::{CommandLine, ProcInfo, ProcKind, ProcState, ProcessTable};

/// Ticks an unsettled new child (forked but not exec'd, or mid-exec) may wait to settle.
const SETTLE_TICKS: u32 = 3;

pub use command::{role_for, short_command};

/// How a [`Tree`] samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeConfig {
    /// Read PSS and VmHWM on every Nth tick, starting with the first; 0 = never.
    pub pss_every: u32,
    /// When the table has no children lists, rescan all processes every Nth tick (and on any
    /// tick that adds a root). A full scan is what the children lists exist to avoid.
    pub scan_every: u32,
}

/// One process of the tree.
#[derive(Debug, Clone)]
struct Member {
    start_time: u64,
    /// `ProcInfo::exec_id` when `command` was read.
    exec_id: u64,
    role: ProcessRole,
    /// Index into `Tree::root_commands`: which root this process descends from.
    root: usize,
    command: CommandLine,
    /// Latest VmHWM read, in bytes.
    peak_rss: Option<u64>,
    /// Largest RSS seen at a tick; VmHWM is only read on PSS ticks and may be older.
    max_rss: u64,
}

/// The sampled process tree and its bookkeeping across ticks.
#[derive(Debug)]
pub struct Tree {
    config: TreeConfig,
    members: BTreeMap<u32, Member>,
    pending_roots: Vec<u32>,
    /// Roots put off for a tick because their argv was still empty, with their start time.
    deferred_roots: HashMap<u32, u64>,
    /// Each root's command line, kept after the root exits: its descendants are still
    /// classified against it.
    root_commands: Vec<CommandLine>,
    /// New children whose command line is not settled yet, with their start time and how many
    /// ticks they have waited: given up to [`SETTLE_TICKS`] more ticks before they are believed
    /// (under load a fork can take longer than one tick to exec). Two cases, both seen in
    /// practice:
    /// - one looks exactly like its parent (same executable and argv): forked, not yet exec'd,
    ///   so `sh -c 'sleep 5'` does not report a `sh` sub-agent about to become `sleep`;
    /// - its argv is empty: mid-exec (the kernel switches the executable before it lays out
    ///   the new argv, and `Command::spawn` can return in between), which would lose the
    ///   script argument the role rule needs. Roots get the same grace (`deferred_roots`).
    deferred: HashMap<u32, (u64, u32)>,
    ticks: u64,
    samples: u64,
    processes_seen: u64,
    /// Scratch buffers reused every tick so a steady-state tick allocates little.
    pid_buf: Vec<u32>,
}

impl Tree {
    pub fn new(config: TreeConfig) -> Self {
        Self {
            config,
            members: BTreeMap::new(),
            pending_roots: Vec::new(),
            deferred_roots: HashMap::new(),
            root_commands: Vec::new(),
            deferred: HashMap::new(),
            ticks: 0,
            samples: 0,
            processes_seen: 0,
            pid_buf: Vec::new(),
        }
    }

    /// Adds a root (role `Main`); it joins the tree at the next tick if it is a live process.
    pub fn add_root(&mut self, pid: u32) {
        if !self.pending_roots.contains(&pid) {
            self.pending_roots.push(pid);
        }
    }

    /// Ticks taken so far.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// Samples emitted so far (ticks with an empty tree emit none).
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Distinct processes (roots included) that ever joined the tree.
    pub fn processes_seen(&self) -> u64 {
        self.processes_seen
    }

    /// Processes currently in the tree.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// One tick at time `t`: exits, then new roots and descendants (parent before child), then
    /// one sample of the whole tree. Events go to `emit` in that order.
    pub fn tick<T: ProcessTable + ?Sized>(
        &mut self,
        table: &mut T,
        t: f64,
        emit: &mut dyn FnMut(SamplerEvent),
    ) {
        let index = self.ticks;
        self.ticks += 1;

        self.pid_buf.clear();
        self.pid_buf.extend(self.members.keys().copied());
        table.refresh(&self.pid_buf);
        self.detect_exits(table, t, emit);
        self.reread_execed_commands(table);
        let added_roots = self.add_pending_roots(table, t, emit);
        self.discover(table, t, index, added_roots, emit);

        // PSS on ticks 1, 1 + N, 1 + 2N …: tick 0 catches a freshly started agent mid-exec,
        // whose PSS says nothing, and a short run would then report only that reading.
        let read_pss = self.config.pss_every > 0
            && (index % u64::from(self.config.pss_every)) == 1 % u64::from(self.config.pss_every);
        if let Some(sample) = self.measure(table, t, read_pss) {
            self.samples += 1;
            emit(SamplerEvent::Sample(sample));
        }
    }

    /// Removes members that are gone (vanished, zombie, or pid now held by another process).
    fn detect_exits<T: ProcessTable + ?Sized>(
        &mut self,
        table: &T,
        t: f64,
        emit: &mut dyn FnMut(SamplerEvent),
    ) {
        let gone: Vec<u32> = self
            .members
            .iter()
            .filter(|(pid, member)| {
                table.info(**pid).is_none_or(|info| {
                    info.state == ProcState::Exited
                        || info.start_time != member.start_time
                        || info.kind != ProcKind::Process
                })
            })
            .map(|(pid, _)| *pid)
            .collect();
        for pid in gone {
            if let Some(member) = self.members.remove(&pid) {
                emit(SamplerEvent::Process(ProcessEvent::Exit {
                    t,
                    pid,
                    peak_rss_bytes: member.peak_rss.map(|hwm| hwm.max(member.max_rss)),
                }));
            }
        }
    }

    /// Re-reads the command line of members that exec'd since it was read. Roles stay as the
    /// `Start` event reported them, but a root's new command is what its descendants are
    /// classified against from now on: `claude` run through `#!/usr/bin/env node` is `env`
    /// for the first millisecond of its life, and the first tick may catch it there.
    fn reread_execed_commands<T: ProcessTable + ?Sized>(&mut self, table: &mut T) {
        self.pid_buf.clear();
        self.pid_buf.extend(
            self.members
                .iter()
                .filter(|(pid, m)| table.info(**pid).is_some_and(|i| i.exec_id != m.exec_id))
                .map(|(pid, _)| *pid),
        );
        if self.pid_buf.is_empty() {
            return;
        }
        table.refresh_new(&self.pid_buf);
        for &pid in &self.pid_buf {
            let (Some(info), Some(command), Some(member)) = (
                table.info(pid),
                table.command(pid),
                self.members.get_mut(&pid),
            ) else {
                continue;
            };
            if command.argv.is_empty() {
                continue; // mid-exec: try again next tick
            }
            member.exec_id = info.exec_id;
            if member.command != command {
                tracing::debug!(pid, command = %short_command(&command), "process exec'd");
                if member.role == ProcessRole::Main
                    && let Some(root_command) = self.root_commands.get_mut(member.root)
                {
                    *root_command = command.clone();
                }
                member.command = command;
            }
        }
    }

    /// Turns pending roots into members; true if any joined.
    fn add_pending_roots<T: ProcessTable + ?Sized>(
        &mut self,
        table: &mut T,
        t: f64,
        emit: &mut dyn FnMut(SamplerEvent),
    ) -> bool {
        if self.pending_roots.is_empty() {
            return false;
        }
        let roots = std::mem::take(&mut self.pending_roots);
        table.refresh_new(&roots);
        let mut added = false;
        for pid in roots {
            if self.members.contains_key(&pid) {
                tracing::debug!(pid, "root is already in the sampled tree");
                continue;
            }
            let Some(info) = table
                .info(pid)
                .filter(|i| i.state == ProcState::Alive && i.kind == ProcKind::Process)
            else {
                tracing::warn!(pid, "memory sampler root is not a live process; ignored");
                continue;
            };
            let command = table.command(pid).unwrap_or_default();
            if command.argv.is_empty()
                && self.deferred_roots.insert(pid, info.start_time) != Some(info.start_time)
            {
                self.pending_roots.push(pid);
                continue;
            }
            self.deferred_roots.remove(&pid);
            let root = self.root_commands.len();
            self.root_commands.push(command.clone());
            self.join(pid, info, ProcessRole::Main, root, command, t, emit);
            added = true;
        }
        added
    }

    #[allow(clippy::too_many_arguments)]
    fn join(
        &mut self,
        pid: u32,
        info: ProcInfo,
        role: ProcessRole,
        root: usize,
        command: CommandLine,
        t: f64,
        emit: &mut dyn FnMut(SamplerEvent),
    ) {
        emit(SamplerEvent::Process(ProcessEvent::Start {
            t,
            pid,
            ppid: info.ppid,
            role,
            command: short_command(&command),
        }));
        self.processes_seen += 1;
        self.members.insert(
            pid,
            Member {
                start_time: info.start_time,
                exec_id: info.exec_id,
                role,
                root,
                command,
                peak_rss: None,
                max_rss: 0,
            },
        );
    }

    /// Finds descendants not yet in the tree, level by level so parents join before children.
    fn discover<T: ProcessTable + ?Sized>(
        &mut self,
        table: &mut T,
        t: f64,
        index: u64,
        added_roots: bool,
        emit: &mut dyn FnMut(SamplerEvent),
    ) {
        if self.members.is_empty() {
            self.deferred.clear();
            return;
        }
        // Without children lists, one full scan answers every "children of" question; it is
        // taken every `scan_every` ticks only, and whenever a root just joined.
        let scan: Option<HashMap<u32, Vec<u32>>> = if table.supports_children() {
            None
        } else {
            let every = u64::from(self.config.scan_every.max(1));
            if !index.is_multiple_of(every) && !added_roots {
                return;
            }
            let mut by_parent: HashMap<u32, Vec<u32>> = HashMap::new();
            for (pid, ppid) in table.parent_map() {
                by_parent.entry(ppid).or_default().push(pid);
            }
            Some(by_parent)
        };

        let mut deferred_now = HashMap::new();
        let mut frontier: Vec<u32> = self.members.keys().copied().collect();
        let mut candidates: Vec<(u32, u32)> = Vec::new();
        let mut seen: HashSet<u32> = HashSet::new();
        let mut children = Vec::new();
        while !frontier.is_empty() {
            candidates.clear();
            for &parent in &frontier {
                children.clear();
                match &scan {
                    Some(by_parent) => {
                        children.extend_from_slice(by_parent.get(&parent).map_or(&[][..], |c| c))
                    }
                    // Unreadable (it exited since the refresh): it has no children to find.
                    None => _ = table.children(parent, &mut children),
                }
                for &child in &children {
                    if !self.members.contains_key(&child) && seen.insert(child) {
                        candidates.push((child, parent));
                    }
                }
            }
            frontier.clear();
            if candidates.is_empty() {
                break;
            }
            self.pid_buf.clear();
            self.pid_buf
                .extend(candidates.iter().map(|(child, _)| *child));
            table.refresh_new(&self.pid_buf);
            for &(pid, parent) in &candidates {
                let Some(info) = table.info(pid) else {
                    continue; // exited (or unreadable) since its parent listed it
                };
                if info.state != ProcState::Alive || info.kind != ProcKind::Process {
                    continue;
                }
                let Some(parent_member) = self.members.get(&parent) else {
                    continue;
                };
                let command = table.command(pid).unwrap_or_default();
                let unsettled = command.argv.is_empty() || command == parent_member.command;
                if unsettled {
                    let waited = match self.deferred.get(&pid) {
                        Some(&(start, waited)) if start == info.start_time => waited,
                        _ => 0,
                    };
                    if waited < SETTLE_TICKS {
                        deferred_now.insert(pid, (info.start_time, waited + 1));
                        continue;
                    }
                }
                let root = parent_member.root;
                let role = match self.root_commands.get(root) {
                    Some(root_command) => role_for(root_command, &command),
                    None => ProcessRole::Other,
                };
                self.join(pid, info, role, root, command, t, emit);
                frontier.push(pid);
            }
        }
        self.deferred = deferred_now;
    }

    /// Reads memory of every member and sums it; `None` when the tree is empty or no member could
    /// be read this tick (all raced with their exit): a sample of zero bytes would be a false
    /// reading, seen as a drop to 0 in every chart and as the last value of every gauge.
    fn measure<T: ProcessTable + ?Sized>(
        &mut self,
        table: &mut T,
        t: f64,
        read_pss: bool,
    ) -> Option<MemorySample> {
        if self.members.is_empty() {
            return None;
        }
        let empty_role = RoleMemory {
            processes: 0,
            rss_bytes: 0,
            pss_bytes: read_pss.then_some(0),
        };
        let mut sample = MemorySample {
            t,
            rss_bytes: 0,
            pss_bytes: read_pss.then_some(0),
            main: empty_role,
            subagent: empty_role,
            other: empty_role,
            processes: Vec::with_capacity(self.members.len()),
        };
        for (&pid, member) in &mut self.members {
            // Unreadable this tick (raced with exit, or permission): skipped, not an error.
            let Some(rss_bytes) = table.rss_bytes(pid) else {
                continue;
            };
            member.max_rss = member.max_rss.max(rss_bytes);
            let mut pss_bytes = None;
            if read_pss {
                let reading = table.pss_and_peak(pid);
                pss_bytes = reading.pss_bytes;
                if reading.peak_rss_bytes.is_some() {
                    member.peak_rss = reading.peak_rss_bytes;
                }
            }
            let role = match member.role {
                ProcessRole::Main => &mut sample.main,
                ProcessRole::Subagent => &mut sample.subagent,
                ProcessRole::Other => &mut sample.other,
            };
            role.processes += 1;
            role.rss_bytes += rss_bytes;
            sample.rss_bytes += rss_bytes;
            if let Some(pss) = pss_bytes {
                role.pss_bytes = role.pss_bytes.map(|sum| sum + pss);
                sample.pss_bytes = sample.pss_bytes.map(|sum| sum + pss);
            }
            sample.processes.push(ProcessMemory {
                pid,
                rss_bytes,
                pss_bytes,
            });
        }
        (!sample.processes.is_empty()).then_some(sample)
    }
}
