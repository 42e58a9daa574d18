//! A scripted [`ProcessTable`] for tests: processes are edited between ticks, every read is
//! answered from the script, and PSS and full-scan reads are counted.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::capture::sampler::table::{
    CommandLine, ProcInfo, ProcKind, ProcState, ProcessTable, PssReading,
};

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
