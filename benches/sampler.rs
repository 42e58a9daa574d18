//! Cost of one memory-sampler tick over a real 51-process tree (`sh` + 50 `sleep`s), with and
//! without PSS, and what that is as a share of one core at 10 Hz (budget: < 0.5 %, 500 µs).

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use agentprof::capture::sampler::{LinuxProcessTable, Tree, TreeConfig};
use criterion::{Criterion, criterion_group, criterion_main};

const CHILDREN: usize = 50;

/// A shell with 50 sleeping children, as its own process group so it can be killed whole.
fn spawn_tree() -> Option<Child> {
    let script = format!("for i in $(seq {CHILDREN}); do sleep 60 & done; wait");
    Command::new("sh")
        .args(["-c", &script])
        .process_group(0)
        .spawn()
        .ok()
}

fn kill_tree(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.wait();
}

/// A tree over `root` that has discovered all of it (fork-deferral needs a couple of ticks).
fn ready_tree(root: u32, pss_every: u32) -> Option<(Tree, LinuxProcessTable)> {
    let mut table = LinuxProcessTable::new().ok()?;
    let mut tree = Tree::new(TreeConfig {
        pss_every,
        scan_every: 10,
    });
    tree.add_root(root);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tree.len() < CHILDREN + 1 && Instant::now() < deadline {
        tree.tick(&mut table, 0.0, &mut |_| {});
        std::thread::sleep(Duration::from_millis(20));
    }
    (tree.len() == CHILDREN + 1).then_some((tree, table))
}

/// Mean time of one tick, measured outside criterion for the summary line.
fn mean_tick(tree: &mut Tree, table: &mut LinuxProcessTable, n: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        tree.tick(table, 0.0, &mut |_| {});
    }
    start.elapsed() / n
}

fn bench(c: &mut Criterion) {
    let Some(mut child) = spawn_tree() else {
        eprintln!("cannot spawn sh; skipping the sampler bench");
        return;
    };
    let root = child.id();
    let mut summary = Vec::new();
    let mut group = c.benchmark_group("sampler_tick_51_processes");
    for (name, pss_every) in [("rss_only", 0), ("rss_and_pss", 1)] {
        let Some((mut tree, mut table)) = ready_tree(root, pss_every) else {
            eprintln!("the sampler did not find all {} processes", CHILDREN + 1);
            kill_tree(&mut child);
            return;
        };
        group.bench_function(name, |b| {
            b.iter(|| tree.tick(&mut table, 0.0, &mut |_| {}));
        });
        summary.push((name, mean_tick(&mut tree, &mut table, 500)));
        assert_eq!(tree.len(), CHILDREN + 1, "processes lost during the bench");
    }
    group.finish();
    kill_tree(&mut child);

    let at_10hz = |tick: Duration| tick.as_secs_f64() * 10.0 * 100.0;
    for (name, tick) in &summary {
        println!(
            "{name}: {:.0} µs/tick = {:.3} % of a core at 10 Hz",
            tick.as_secs_f64() * 1e6,
            at_10hz(*tick)
        );
    }
    if let [(_, rss), (_, pss)] = summary[..] {
        // The default configuration: PSS on every 10th tick.
        let blended = (rss * 9 + pss) / 10;
        println!(
            "default (pss_every = 10): {:.0} µs/tick = {:.3} % of a core at 10 Hz",
            blended.as_secs_f64() * 1e6,
            at_10hz(blended)
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
