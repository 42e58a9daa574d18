//! Tests of tree tracking against the fake table: discovery, exits, pid reuse, roles, deferred
//! processes, PSS ticks, per-role sums and the full-scan fallback.

use super::fake::{FakeTable, cmd};
use super::*;

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
fn unexeced_fork_is_deferred_until_it_settles() {
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

    // A fork that never execs (a subshell) is believed once it has waited SETTLE_TICKS.
    table.add(121, 101, MIB, cmd("/usr/bin/bash", &["bash", "-c", "ls"]));
    for t in [0.3, 0.4, 0.5] {
        assert!(starts(&tick(&mut tree, &mut table, t)).is_empty());
    }
    assert_eq!(
        starts(&tick(&mut tree, &mut table, 0.6)),
        [(121, ProcessRole::Subagent)]
    );
}

#[test]
fn processes_caught_mid_exec_are_deferred_until_they_settle() {
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

    // A child with an empty argv waits too, and is believed once it has waited SETTLE_TICKS.
    table.add(130, 100, MIB, cmd("/usr/bin/tool", &[]));
    for t in [0.2, 0.25, 0.3] {
        assert!(starts(&tick(&mut tree, &mut table, t)).is_empty());
    }
    assert_eq!(
        starts(&tick(&mut tree, &mut table, 0.35)),
        [(130, ProcessRole::Other)]
    );
    // A root waits one tick.
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
    assert_eq!(pss_ticks, [1, 4], "first on tick 1, then every 3rd");

    let mut tree = Tree::new(config(0));
    tree.add_root(100);
    for i in 0..3 {
        tick(&mut tree, &mut table, f64::from(i));
    }
    assert_eq!(
        table.pss_reads, 4,
        "pss_every = 0 never reads PSS (4 = the two PSS ticks above)"
    );
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
fn a_tick_that_reads_no_member_gives_no_sample() {
    // As when the whole tree exits between the listing and the reading: no "0 bytes" sample.
    let mut table = agent_table();
    let mut tree = Tree::new(config(1));
    tree.add_root(100);
    assert_eq!(sample(&tick(&mut tree, &mut table, 0.0)).processes.len(), 2);
    for p in table.procs.values_mut() {
        p.rss_unreadable = true;
    }
    let events = tick(&mut tree, &mut table, 0.1);
    assert!(
        !events.iter().any(|e| matches!(e, SamplerEvent::Sample(_))),
        "{events:?}"
    );
    assert!(exits(&events).is_empty());
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
