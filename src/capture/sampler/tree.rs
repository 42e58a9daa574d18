//! Tree tracking: which processes belong to the agent's tree, what role each plays, and what one
//! tick of sampling turns into (start and exit events, one [`MemorySample`]).
//!
//! Pure logic over a [`ProcessTable`]: no clock, no thread, no I/O of its own, so the rules here
//! (discovery order, exits, pid reuse, roles, when PSS is read, the sums) are tested with a fake
//! table. The thread that calls [`Tree::tick`] on a schedule lives in `mod.rs`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crate::observation::{MemorySample, ProcessEvent, ProcessMemory, ProcessRole, RoleMemory};

use super::SamplerEvent;
use super::table::{CommandLine, ProcInfo, ProcKind, ProcState, ProcessTable};

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
    /// New children whose command line is not settled yet, with their start time: given one
    /// more tick before they are believed. Two cases, both seen in practice:
    /// - one looks exactly like its parent (same executable and argv): forked, not yet exec'd,
    ///   so `sh -c 'sleep 5'` does not report a `sh` sub-agent about to become `sleep`;
    /// - its argv is empty: mid-exec (the kernel switches the executable before it lays out
    ///   the new argv, and `Command::spawn` can return in between), which would lose the
    ///   script argument the role rule needs. Roots get the same grace (`deferred_roots`).
    deferred: HashMap<u32, u64>,
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

        let read_pss =
            self.config.pss_every > 0 && index.is_multiple_of(u64::from(self.config.pss_every));
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
                tracing::debug!(pid, argv = ?command.argv, "process exec'd");
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
                if unsettled && self.deferred.get(&pid) != Some(&info.start_time) {
                    deferred_now.insert(pid, info.start_time);
                    continue;
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

    /// Reads memory of every member and sums it; `None` when the tree is empty.
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
        Some(sample)
    }
}

/// Interpreters whose processes are told apart by the script they run, not the executable.
fn is_interpreter(name: &str) -> bool {
    match name {
        "node" | "nodejs" | "bun" | "deno" => true,
        // python, python3, python3.12 …
        _ => name
            .strip_prefix("python")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.')),
    }
}

fn basename(path: &str) -> &str {
    Path::new(path)
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or(path)
}

/// The program's name: the executable's basename, or argv[0]'s when the executable is unknown.
fn program_name(command: &CommandLine) -> Option<&str> {
    match &command.exe {
        Some(exe) => exe.file_name().and_then(|name| name.to_str()),
        None => command.argv.first().map(|arg0| basename(arg0)),
    }
}

/// The script an interpreter runs: the first argument that is not an option (`argv[1]` in the
/// usual `node /path/cli.js …`); a leading `run` subcommand (`deno run x.ts`) is skipped.
fn script_argument(command: &CommandLine) -> Option<&str> {
    let mut args = command
        .argv
        .iter()
        .skip(1)
        .map(String::as_str)
        .filter(|arg| !arg.starts_with('-'));
    match args.next() {
        Some("run") => args.next(),
        other => other,
    }
}

/// The role of a descendant of a root: `Subagent` if it runs the same program as its root,
/// `Other` otherwise. (Roots themselves are `Main`; that is decided by being a root.)
///
/// An agent that runs sub-agents as processes re-executes itself, so "same program" is: the
/// same `/proc/PID/exe` target when both are readable, else the same argv[0] basename. When that
/// program is an interpreter (node, python*, bun, deno) — Claude Code's exe is `node` for the
/// main agent and any node tool alike — the script argument must match as well.
pub fn role_for(root: &CommandLine, process: &CommandLine) -> ProcessRole {
    let same_program = match (&root.exe, &process.exe) {
        (Some(a), Some(b)) => a == b,
        _ => {
            let arg0 = |c: &CommandLine| c.argv.first().map(|a| basename(a).to_owned());
            arg0(root).is_some() && arg0(root) == arg0(process)
        }
    };
    if !same_program {
        return ProcessRole::Other;
    }
    if program_name(root).is_some_and(is_interpreter)
        && script_argument(root) != script_argument(process)
    {
        return ProcessRole::Other;
    }
    ProcessRole::Subagent
}

/// Longest argument (and program name) kept in a short command, in characters.
const MAX_ARG_CHARS: usize = 40;
/// Longest short command, in characters.
const MAX_COMMAND_CHARS: usize = 120;
/// Arguments kept after the program name.
const MAX_ARGS: usize = 3;

/// Names that mark a value as a credential, matched case-insensitively.
const SECRET_WORDS: [&str; 4] = ["key", "token", "secret", "password"];

fn names_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| name.contains(word))
}

/// `arg` with any credential replaced by `***`. `prev` is the argument before it.
///
/// Redacted: `NAME=value` where NAME names a secret (→ `NAME=***`), the value following a flag
/// named so (`--api-key sk…` → `***`), and anything starting with `sk-` (API keys).
fn redact(arg: &str, prev: Option<&str>) -> String {
    if arg.starts_with("sk-") {
        return "***".to_owned();
    }
    if let Some((name, _)) = arg.split_once('=')
        && names_secret(name)
    {
        return format!("{name}=***");
    }
    if let Some(flag) = prev
        && flag.starts_with('-')
        && !flag.contains('=')
        && names_secret(flag)
    {
        return "***".to_owned();
    }
    arg.to_owned()
}

/// `s` cut to at most `max` characters, marking a cut with `…`.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The command as reported in `ProcessEvent::Start`: program basename and up to 3 arguments,
/// each cut to 40 characters, credentials replaced by `***`, at most 120 characters in all.
pub fn short_command(command: &CommandLine) -> String {
    let program = command
        .argv
        .first()
        .map(|arg0| basename(arg0))
        .filter(|name| !name.is_empty())
        .or_else(|| program_name(command))
        .unwrap_or("?");
    let mut out = truncate(program, MAX_ARG_CHARS);
    for (i, arg) in command.argv.iter().enumerate().skip(1).take(MAX_ARGS) {
        let prev = command.argv.get(i - 1).map(String::as_str);
        out.push(' ');
        out.push_str(&truncate(&redact(arg, prev), MAX_ARG_CHARS));
    }
    truncate(&out, MAX_COMMAND_CHARS)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::capture::sampler::table::PssReading;
    use std::path::PathBuf;

    /// One scripted process of the fake table.
    #[derive(Debug, Clone)]
    pub(crate) struct FakeProc {
        pub ppid: u32,
        pub start_time: u64,
        pub exec_id: u64,
        pub state: ProcState,
        pub kind: ProcKind,
        pub rss: u64,
        pub pss: Option<u64>,
        pub hwm: Option<u64>,
        pub command: CommandLine,
        /// Unreadable: absent from every read, as with a permission error.
        pub hidden: bool,
        /// Only the RSS read fails (raced with exit between two reads).
        pub rss_unreadable: bool,
    }

    pub(crate) fn cmd(exe: &str, argv: &[&str]) -> CommandLine {
        CommandLine {
            exe: (!exe.is_empty()).then(|| PathBuf::from(exe)),
            argv: argv.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// A deterministic process table: tests edit `procs` between ticks.
    #[derive(Debug, Default, Clone)]
    pub(crate) struct FakeTable {
        pub procs: BTreeMap<u32, FakeProc>,
        pub no_children: bool,
        pub pss_reads: u32,
        pub parent_map_reads: u32,
    }

    impl FakeTable {
        pub fn add(&mut self, pid: u32, ppid: u32, rss: u64, command: CommandLine) {
            self.procs.insert(
                pid,
                FakeProc {
                    ppid,
                    start_time: 1,
                    exec_id: 0,
                    state: ProcState::Alive,
                    kind: ProcKind::Process,
                    rss,
                    pss: Some(rss / 2),
                    hwm: Some(rss * 2),
                    command,
                    hidden: false,
                    rss_unreadable: false,
                },
            );
        }

        fn visible(&self, pid: u32) -> Option<&FakeProc> {
            self.procs.get(&pid).filter(|p| !p.hidden)
        }
    }

    impl ProcessTable for FakeTable {
        fn refresh(&mut self, _pids: &[u32]) {}

        fn refresh_new(&mut self, _pids: &[u32]) {}

        fn info(&self, pid: u32) -> Option<ProcInfo> {
            self.visible(pid).map(|p| ProcInfo {
                ppid: Some(p.ppid),
                start_time: p.start_time,
                state: p.state,
                kind: p.kind,
                exec_id: p.exec_id,
            })
        }

        fn rss_bytes(&self, pid: u32) -> Option<u64> {
            self.visible(pid)
                .filter(|p| !p.rss_unreadable)
                .map(|p| p.rss)
        }

        fn command(&self, pid: u32) -> Option<CommandLine> {
            self.visible(pid).map(|p| p.command.clone())
        }

        fn supports_children(&mut self) -> bool {
            !self.no_children
        }

        fn children(&mut self, pid: u32, out: &mut Vec<u32>) -> bool {
            assert!(
                !self.no_children,
                "children() called on a table without them"
            );
            if self.visible(pid).is_none() {
                return false;
            }
            out.extend(
                self.procs
                    .iter()
                    .filter(|(_, p)| p.ppid == pid)
                    .map(|(child, _)| *child),
            );
            true
        }

        fn parent_map(&mut self) -> Vec<(u32, u32)> {
            self.parent_map_reads += 1;
            self.procs.iter().map(|(pid, p)| (*pid, p.ppid)).collect()
        }

        fn pss_and_peak(&mut self, pid: u32) -> PssReading {
            self.pss_reads += 1;
            self.visible(pid)
                .map(|p| PssReading {
                    pss_bytes: p.pss,
                    peak_rss_bytes: p.hwm,
                })
                .unwrap_or_default()
        }
    }

    const MIB: u64 = 1 << 20;

    fn config(pss_every: u32) -> TreeConfig {
        TreeConfig {
            pss_every,
            scan_every: 1,
        }
    }

    fn tick(tree: &mut Tree, table: &mut FakeTable, t: f64) -> Vec<SamplerEvent> {
        let mut events = Vec::new();
        tree.tick(table, t, &mut |e| events.push(e));
        events
    }

    fn starts(events: &[SamplerEvent]) -> Vec<(u32, ProcessRole)> {
        events
            .iter()
            .filter_map(|e| match e {
                SamplerEvent::Process(ProcessEvent::Start { pid, role, .. }) => Some((*pid, *role)),
                _ => None,
            })
            .collect()
    }

    fn exits(events: &[SamplerEvent]) -> Vec<(u32, Option<u64>)> {
        events
            .iter()
            .filter_map(|e| match e {
                SamplerEvent::Process(ProcessEvent::Exit {
                    pid,
                    peak_rss_bytes,
                    ..
                }) => Some((*pid, *peak_rss_bytes)),
                _ => None,
            })
            .collect()
    }

    fn sample(events: &[SamplerEvent]) -> &MemorySample {
        match events.last() {
            Some(SamplerEvent::Sample(s)) => s,
            other => panic!("tick did not end with a sample: {other:?}"),
        }
    }

    /// An agent (100) with a shell (101).
    fn agent_table() -> FakeTable {
        let mut table = FakeTable::default();
        table.add(
            100,
            1,
            100 * MIB,
            cmd("/usr/bin/agent", &["agent", "--chat"]),
        );
        table.add(
            101,
            100,
            5 * MIB,
            cmd("/usr/bin/bash", &["bash", "-c", "ls"]),
        );
        table
    }

    #[test]
    fn grandchild_appearing_mid_run_is_discovered_parent_first() {
        let mut table = agent_table();
        let mut tree = Tree::new(config(0));
        tree.add_root(100);
        let first = tick(&mut tree, &mut table, 0.0);
        assert_eq!(
            starts(&first),
            [(100, ProcessRole::Main), (101, ProcessRole::Other)]
        );
        assert_eq!(sample(&first).processes.len(), 2);

        // A child of the shell and its own child appear between ticks.
        table.add(
            300,
            101,
            7 * MIB,
            cmd("/usr/bin/python3", &["python3", "x.py"]),
        );
        table.add(200, 300, 3 * MIB, cmd("/usr/bin/cat", &["cat"]));
        let second = tick(&mut tree, &mut table, 0.1);
        // Parent (300) before child (200) even though the child has the lower pid.
        assert_eq!(
            starts(&second),
            [(300, ProcessRole::Other), (200, ProcessRole::Other)]
        );
        let s = sample(&second);
        assert_eq!(s.processes.len(), 4);
        assert_eq!(s.rss_bytes, 115 * MIB);
        // Nothing new: no events but the sample.
        let third = tick(&mut tree, &mut table, 0.2);
        assert_eq!(third.len(), 1);
        assert_eq!(tree.processes_seen(), 4);
    }

    #[test]
    fn exits_are_detected_for_vanished_and_zombie_processes() {
        let mut table = agent_table();
        table.add(102, 100, MIB, cmd("/usr/bin/rg", &["rg", "foo"]));
        let mut tree = Tree::new(config(1));
        tree.add_root(100);
        tick(&mut tree, &mut table, 0.0);

        table.procs.remove(&101);
        if let Some(p) = table.procs.get_mut(&102) {
            p.state = ProcState::Exited;
        }
        let events = tick(&mut tree, &mut table, 0.1);
        // VmHWM read on the PSS tick is the peak (fake hwm = 2 × RSS).
        assert_eq!(
            exits(&events),
            [(101, Some(10 * MIB)), (102, Some(2 * MIB))]
        );
        assert!(matches!(
            events.first(),
            Some(SamplerEvent::Process(ProcessEvent::Exit { t, .. })) if *t == 0.1
        ));
        assert_eq!(sample(&events).processes.len(), 1);
        // Gone means gone: no second exit.
        assert!(exits(&tick(&mut tree, &mut table, 0.2)).is_empty());

        // When everything has exited the tree emits nothing at all.
        table.procs.remove(&100);
        let last = tick(&mut tree, &mut table, 0.3);
        assert_eq!(exits(&last), [(100, Some(200 * MIB))]);
        assert!(!last.iter().any(|e| matches!(e, SamplerEvent::Sample(_))));
        assert!(tree.is_empty());
    }

    #[test]
    fn exit_peak_is_none_without_vmhwm_and_includes_later_rss() {
        let mut table = agent_table();
        let mut tree = Tree::new(config(0));
        tree.add_root(100);
        tick(&mut tree, &mut table, 0.0);
        table.procs.remove(&101);
        assert_eq!(exits(&tick(&mut tree, &mut table, 0.1)), [(101, None)]);

        // With PSS every 2nd tick, an RSS seen after the last VmHWM read raises the peak.
        let mut table = agent_table();
        let mut tree = Tree::new(config(2));
        tree.add_root(100);
        tick(&mut tree, &mut table, 0.0); // PSS tick: VmHWM 10 MiB
        if let Some(p) = table.procs.get_mut(&101) {
            p.rss = 12 * MIB;
        }
        tick(&mut tree, &mut table, 0.1); // RSS only
        table.procs.remove(&101);
        assert_eq!(
            exits(&tick(&mut tree, &mut table, 0.2)),
            [(101, Some(12 * MIB))]
        );
    }

    #[test]
    fn reused_pid_is_an_exit_and_then_a_new_process() {
        let mut table = agent_table();
        let mut tree = Tree::new(config(0));
        tree.add_root(100);
        tick(&mut tree, &mut table, 0.0);

        // 101 exits and its pid is taken by a new child of the agent, between two ticks.
        if let Some(p) = table.procs.get_mut(&101) {
            p.start_time = 2;
            p.command = cmd("/usr/bin/agent", &["agent", "--task", "x"]);
        }
        let events = tick(&mut tree, &mut table, 0.1);
        assert_eq!(exits(&events), [(101, None)]);
        assert_eq!(starts(&events), [(101, ProcessRole::Subagent)]);
        let exit_at = events
            .iter()
            .position(|e| matches!(e, SamplerEvent::Process(ProcessEvent::Exit { .. })));
        let start_at = events
            .iter()
            .position(|e| matches!(e, SamplerEvent::Process(ProcessEvent::Start { .. })));
        assert!(exit_at < start_at, "exit of the old process comes first");
        assert_eq!(tree.processes_seen(), 3);

        // A reused pid that is *not* in our tree any more (re-parented elsewhere) is not adopted.
        if let Some(p) = table.procs.get_mut(&101) {
            p.start_time = 3;
            p.ppid = 1;
        }
        let events = tick(&mut tree, &mut table, 0.2);
        assert_eq!(exits(&events), [(101, None)]);
        assert!(starts(&events).is_empty());
    }

    #[test]
    fn roles_follow_the_root_program() {
        let mut table = agent_table();
        // A sub-agent (same exe), its shell, and a node tool.
        table.add(
            110,
            100,
            80 * MIB,
            cmd("/usr/bin/agent", &["agent", "--sub"]),
        );
        table.add(111, 110, 2 * MIB, cmd("/usr/bin/bash", &["bash"]));
        table.add(112, 100, 9 * MIB, cmd("/usr/bin/node", &["node", "lsp.js"]));
        let mut tree = Tree::new(config(0));
        tree.add_root(100);
        let events = tick(&mut tree, &mut table, 0.0);
        assert_eq!(
            starts(&events),
            [
                (100, ProcessRole::Main),
                (101, ProcessRole::Other),
                (110, ProcessRole::Subagent),
                (112, ProcessRole::Other),
                (111, ProcessRole::Other),
            ]
        );
    }

    #[test]
    fn role_rule() {
        let claude = cmd("/usr/bin/node", &["node", "/opt/claude/cli.js", "--print"]);
        let sub = cmd(
            "/usr/bin/node",
            &["node", "/opt/claude/cli.js", "--agent", "x"],
        );
        let mcp = cmd("/usr/bin/node", &["node", "/opt/mcp/server.js"]);
        let flags = cmd(
            "/usr/bin/node",
            &["node", "--max-old-space-size=4096", "/opt/claude/cli.js"],
        );
        assert_eq!(role_for(&claude, &sub), ProcessRole::Subagent);
        assert_eq!(role_for(&claude, &flags), ProcessRole::Subagent);
        assert_eq!(role_for(&claude, &mcp), ProcessRole::Other);
        // Not an interpreter: the exe decides, arguments don't matter.
        let codex = cmd("/opt/codex", &["codex", "exec"]);
        assert_eq!(
            role_for(&codex, &cmd("/opt/codex", &["codex", "x"])),
            ProcessRole::Subagent
        );
        assert_eq!(
            role_for(&codex, &cmd("/bin/sh", &["codex"])),
            ProcessRole::Other
        );
        // Exe unreadable on either side: argv[0] basename decides.
        assert_eq!(
            role_for(
                &cmd("", &["/opt/codex", "a"]),
                &cmd("/opt/codex", &["codex"])
            ),
            ProcessRole::Subagent
        );
        assert_eq!(
            role_for(&cmd("", &["codex"]), &cmd("", &["rg"])),
            ProcessRole::Other
        );
        assert_eq!(role_for(&cmd("", &[]), &cmd("", &[])), ProcessRole::Other);
        // python3.12, deno run: interpreters too.
        let py = cmd("/usr/bin/python3.12", &["python3", "agent.py"]);
        assert_eq!(
            role_for(&py, &cmd("/usr/bin/python3.12", &["python3", "tool.py"])),
            ProcessRole::Other
        );
        assert_eq!(
            role_for(&py, &cmd("/usr/bin/python3.12", &["python3", "agent.py"])),
            ProcessRole::Subagent
        );
        let deno = cmd("/usr/bin/deno", &["deno", "run", "-A", "main.ts"]);
        assert_eq!(
            role_for(&deno, &cmd("/usr/bin/deno", &["deno", "run", "x.ts"])),
            ProcessRole::Other
        );
        assert!(
            is_interpreter("python3.12")
                && is_interpreter("python")
                && !is_interpreter("pythonista")
        );
    }

    #[test]
    fn unexeced_fork_is_deferred_one_tick() {
        let mut table = agent_table();
        let mut tree = Tree::new(config(0));
        tree.add_root(101); // bash -c ls
        tick(&mut tree, &mut table, 0.0);
        // bash forks: the child is still "bash -c ls" until it execs.
        table.add(120, 101, MIB, cmd("/usr/bin/bash", &["bash", "-c", "ls"]));
        let events = tick(&mut tree, &mut table, 0.1);
        assert!(starts(&events).is_empty(), "{events:?}");
        // It exec'd `ls` by the next tick.
        if let Some(p) = table.procs.get_mut(&120) {
            p.command = cmd("/usr/bin/ls", &["ls"]);
        }
        let events = tick(&mut tree, &mut table, 0.2);
        assert_eq!(starts(&events), [(120, ProcessRole::Other)]);

        // A fork that never execs (a subshell) is believed on its second sighting.
        table.add(121, 101, MIB, cmd("/usr/bin/bash", &["bash", "-c", "ls"]));
        assert!(starts(&tick(&mut tree, &mut table, 0.3)).is_empty());
        assert_eq!(
            starts(&tick(&mut tree, &mut table, 0.4)),
            [(121, ProcessRole::Subagent)]
        );
    }

    #[test]
    fn processes_caught_mid_exec_are_deferred_one_tick() {
        let mut table = agent_table();
        let argv = table.procs.get(&100).map(|p| p.command.argv.clone());
        if let Some(p) = table.procs.get_mut(&100) {
            p.command.argv.clear();
        }
        let mut tree = Tree::new(config(0));
        tree.add_root(100);
        let events = tick(&mut tree, &mut table, 0.0);
        assert!(events.is_empty(), "{events:?}");
        if let Some(p) = table.procs.get_mut(&100) {
            p.command.argv = argv.unwrap_or_default();
        }
        let events = tick(&mut tree, &mut table, 0.1);
        assert_eq!(
            starts(&events),
            [(100, ProcessRole::Main), (101, ProcessRole::Other)]
        );
        assert!(matches!(
            events.first(),
            Some(SamplerEvent::Process(ProcessEvent::Start { command, .. })) if command == "agent --chat"
        ));

        // A child with an empty argv waits a tick too, and is believed on its second sighting.
        table.add(130, 100, MIB, cmd("/usr/bin/tool", &[]));
        assert!(starts(&tick(&mut tree, &mut table, 0.2)).is_empty());
        assert_eq!(
            starts(&tick(&mut tree, &mut table, 0.3)),
            [(130, ProcessRole::Other)]
        );
        // So is a root.
        table.add(140, 1, MIB, cmd("/usr/bin/agent", &[]));
        tree.add_root(140);
        assert!(starts(&tick(&mut tree, &mut table, 0.4)).is_empty());
        assert_eq!(
            starts(&tick(&mut tree, &mut table, 0.5)),
            [(140, ProcessRole::Main)]
        );
    }

    #[test]
    fn a_root_that_execs_is_classified_by_its_new_command() {
        // `claude` via `#!/usr/bin/env node`, caught before env exec'd node.
        let mut table = FakeTable::default();
        let cli = "/usr/lib/node_modules/claude/cli.js";
        table.add(
            100,
            1,
            MIB,
            cmd("/usr/bin/env", &["/usr/bin/env", "node", cli]),
        );
        let mut tree = Tree::new(config(0));
        tree.add_root(100);
        assert_eq!(
            starts(&tick(&mut tree, &mut table, 0.0)),
            [(100, ProcessRole::Main)]
        );
        if let Some(p) = table.procs.get_mut(&100) {
            p.command = cmd("/usr/bin/node", &["node", cli]);
            p.exec_id = 1;
        }
        tick(&mut tree, &mut table, 0.1);
        table.add(101, 100, MIB, cmd("/usr/bin/node", &["node", cli, "--sub"]));
        table.add(
            102,
            100,
            MIB,
            cmd("/usr/bin/node", &["node", "/opt/mcp.js"]),
        );
        assert_eq!(
            starts(&tick(&mut tree, &mut table, 0.2)),
            [(101, ProcessRole::Subagent), (102, ProcessRole::Other)]
        );
    }

    #[test]
    fn pss_is_read_only_every_nth_tick() {
        let mut table = agent_table();
        let mut tree = Tree::new(config(3));
        tree.add_root(100);
        let mut pss_ticks = Vec::new();
        for i in 0..7 {
            let reads_before = table.pss_reads;
            let events = tick(&mut tree, &mut table, f64::from(i));
            let s = sample(&events);
            if s.pss_bytes.is_some() {
                pss_ticks.push(i);
                assert_eq!(table.pss_reads - reads_before, 2);
                assert_eq!(s.pss_bytes, Some(52 * MIB + MIB / 2));
                assert!(s.processes.iter().all(|p| p.pss_bytes.is_some()));
            } else {
                assert_eq!(table.pss_reads, reads_before);
                assert_eq!(s.main.pss_bytes, None);
                assert!(s.processes.iter().all(|p| p.pss_bytes.is_none()));
            }
        }
        assert_eq!(pss_ticks, [0, 3, 6]);

        let mut tree = Tree::new(config(0));
        tree.add_root(100);
        for i in 0..3 {
            tick(&mut tree, &mut table, f64::from(i));
        }
        assert_eq!(table.pss_reads, 6, "pss_every = 0 never reads PSS");
    }

    #[test]
    fn per_role_sums() {
        let mut table = agent_table();
        table.add(
            110,
            100,
            80 * MIB,
            cmd("/usr/bin/agent", &["agent", "--sub"]),
        );
        table.add(
            111,
            100,
            60 * MIB,
            cmd("/usr/bin/agent", &["agent", "--sub2"]),
        );
        table.add(112, 110, 4 * MIB, cmd("/usr/bin/git", &["git", "status"]));
        if let Some(p) = table.procs.get_mut(&112) {
            p.pss = None; // PSS unreadable: left out of the PSS sums, still in RSS
        }
        let mut tree = Tree::new(config(1));
        tree.add_root(100);
        let events = tick(&mut tree, &mut table, 0.0);
        let s = sample(&events);
        let role = |processes, rss: u64, pss: u64| RoleMemory {
            processes,
            rss_bytes: rss * MIB,
            pss_bytes: Some(pss * MIB),
        };
        assert_eq!(s.main, role(1, 100, 50));
        assert_eq!(s.subagent, role(2, 140, 70));
        // git's PSS was unreadable: its RSS counts, its PSS is left out (only bash's 2.5 MiB).
        assert_eq!(
            s.other,
            RoleMemory {
                processes: 2,
                rss_bytes: 9 * MIB,
                pss_bytes: Some(5 * MIB / 2),
            }
        );
        assert_eq!(s.rss_bytes, 249 * MIB);
        assert_eq!(s.pss_bytes, Some(120 * MIB + 5 * MIB / 2));
        assert_eq!(s.role(ProcessRole::Subagent).processes, 2);
        assert_eq!(
            s.processes.iter().map(|p| p.pid).collect::<Vec<_>>(),
            [100, 101, 110, 111, 112]
        );
    }

    #[test]
    fn kernel_threads_threads_and_unreadable_processes_are_skipped() {
        let mut table = agent_table();
        table.add(130, 100, 0, cmd("", &[]));
        table.add(131, 100, MIB, cmd("/usr/bin/agent", &["agent"]));
        table.add(132, 100, MIB, cmd("/usr/bin/secret", &["secret"]));
        if let Some(p) = table.procs.get_mut(&130) {
            p.kind = ProcKind::KernelThread;
        }
        if let Some(p) = table.procs.get_mut(&131) {
            p.kind = ProcKind::Thread;
        }
        if let Some(p) = table.procs.get_mut(&132) {
            p.hidden = true;
        }
        let mut tree = Tree::new(config(1));
        tree.add_root(100);
        tree.add_root(130); // a kernel thread can't be a root either
        let events = tick(&mut tree, &mut table, 0.0);
        assert_eq!(
            starts(&events),
            [(100, ProcessRole::Main), (101, ProcessRole::Other)]
        );
        // The unreadable one joins once it can be read.
        if let Some(p) = table.procs.get_mut(&132) {
            p.hidden = false;
        }
        assert_eq!(
            starts(&tick(&mut tree, &mut table, 0.1)),
            [(132, ProcessRole::Other)]
        );
        // A member whose RSS can't be read this tick is left out of that sample, not exited.
        if let Some(p) = table.procs.get_mut(&101) {
            p.rss_unreadable = true;
        }
        let events = tick(&mut tree, &mut table, 0.2);
        assert!(exits(&events).is_empty());
        let s = sample(&events);
        assert_eq!(
            s.processes.iter().map(|p| p.pid).collect::<Vec<_>>(),
            [100, 132]
        );
        assert_eq!(s.other.processes, 1);
        if let Some(p) = table.procs.get_mut(&101) {
            p.rss_unreadable = false;
        }
        assert_eq!(sample(&tick(&mut tree, &mut table, 0.3)).processes.len(), 3);
    }

    #[test]
    fn orphans_stay_in_the_tree_and_several_roots_work() {
        let mut table = agent_table();
        table.add(200, 1, 30 * MIB, cmd("/usr/bin/agent", &["agent"]));
        table.add(201, 200, 30 * MIB, cmd("/usr/bin/agent", &["agent", "sub"]));
        let mut tree = Tree::new(config(0));
        tree.add_root(100);
        tick(&mut tree, &mut table, 0.0);
        tree.add_root(200);
        let events = tick(&mut tree, &mut table, 0.1);
        assert_eq!(
            starts(&events),
            [(200, ProcessRole::Main), (201, ProcessRole::Subagent)]
        );
        // The shell's parent exits and it is re-parented to init: still ours.
        table.procs.remove(&100);
        if let Some(p) = table.procs.get_mut(&101) {
            p.ppid = 1;
        }
        let events = tick(&mut tree, &mut table, 0.2);
        assert_eq!(exits(&events), [(100, None)]);
        assert_eq!(sample(&events).processes.len(), 3);
    }

    #[test]
    fn full_scan_fallback_is_throttled() {
        let mut table = agent_table();
        table.no_children = true;
        let mut tree = Tree::new(TreeConfig {
            pss_every: 0,
            scan_every: 5,
        });
        tree.add_root(100);
        let events = tick(&mut tree, &mut table, 0.0);
        assert_eq!(starts(&events).len(), 2);
        table.add(102, 101, MIB, cmd("/usr/bin/ls", &["ls"]));
        for i in 1..5 {
            assert!(starts(&tick(&mut tree, &mut table, f64::from(i))).is_empty());
        }
        assert_eq!(
            starts(&tick(&mut tree, &mut table, 5.0)),
            [(102, ProcessRole::Other)]
        );
        assert_eq!(table.parent_map_reads, 2);
        // Adding a root scans at once.
        table.add(400, 1, MIB, cmd("/usr/bin/x", &["x"]));
        table.add(401, 400, MIB, cmd("/usr/bin/y", &["y"]));
        tree.add_root(400);
        assert_eq!(starts(&tick(&mut tree, &mut table, 6.0)).len(), 2);
    }

    #[test]
    fn short_command_form() {
        let c = |argv: &[&str]| short_command(&cmd("/x", argv));
        assert_eq!(
            c(&["/usr/bin/node", "/opt/cli.js", "-p", "hi", "more"]),
            "node /opt/cli.js -p hi"
        );
        assert_eq!(c(&[]), "x");
        assert_eq!(short_command(&cmd("", &[])), "?");
        let long = "a".repeat(100);
        assert_eq!(c(&["prog", &long]), format!("prog {}…", "a".repeat(39)));
        // 40 + 3 × 41 characters: the whole is cut to 120.
        let s = c(&[&long, &long, &long, &long]);
        assert_eq!(s.chars().count(), 120);
        assert!(s.ends_with('…'));
        // Multi-byte characters are cut on character boundaries.
        let s = c(&["é", &"é".repeat(50)]);
        assert_eq!(s.chars().count(), 42);
    }

    #[test]
    fn short_command_redacts_secrets() {
        let c = |argv: &[&str]| short_command(&cmd("/x", argv));
        assert_eq!(
            c(&["curl", "--api-key=abc123", "x"]),
            "curl --api-key=*** x"
        );
        assert_eq!(
            c(&["env", "GITHUB_TOKEN=ghp_xyz", "run"]),
            "env GITHUB_TOKEN=*** run"
        );
        assert_eq!(
            c(&["tool", "--Password", "hunter2", "x"]),
            "tool --Password *** x"
        );
        assert_eq!(c(&["tool", "-k", "x"]), "tool -k x");
        assert_eq!(
            c(&["tool", "--secret-file", "/p"]),
            "tool --secret-file ***"
        );
        assert_eq!(c(&["agent", "sk-ant-api03-zzz"]), "agent ***");
        assert_eq!(c(&["agent", "--x", "sk-live"]), "agent --x ***");
        assert_eq!(c(&["ls", "keys.txt", "a=b"]), "ls keys.txt a=b");
        // The secret is never visible even when it would have been truncated anyway.
        let long_key = format!("sk-{}", "z".repeat(80));
        assert_eq!(c(&["a", &long_key]), "a ***");
        assert!(!c(&["a", "--token", &long_key]).contains("zz"));
    }
}
