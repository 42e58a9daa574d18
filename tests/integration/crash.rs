//! Crash safety: `agentprof proxy` and `agentprof run` killed with SIGKILL at random moments
//! (a seeded RNG; calls streaming through them), round after round. Every time, `report` must
//! read the trace: at most one torn line, and if there is one it is the last, counted in
//! `source.skipped_lines` and named with its line number.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand::{RngExt, SeedableRng};

use crate::client::{ProxyProcess, client, post, runtime};
use crate::support::{Mock, agentprof, stderr};

const SEED: u64 = 0x5eed_c4a5;
const STREAM: &str = r#"{"model":"claude-sonnet-4-6","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"crash test"}]}"#;

/// Streams calls at `base` from 16 tasks until `stop`: half of them trickle, so calls are in
/// flight whenever the kill comes. Errors (the proxy is gone) only slow the loop down.
fn load(base: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let rt = runtime(1);
        let http = client(16);
        rt.block_on(async move {
            let mut tasks = Vec::new();
            for task in 0..16 {
                let (http, stop, url) = (http.clone(), stop.clone(), format!("{base}/v1/messages"));
                tasks.push(tokio::spawn(async move {
                    let mut done = 0;
                    let mut headers = vec![("x-api-key", "sk-ant-test-SECRETKEY-crash-0123456789")];
                    if task % 2 == 0 {
                        headers.push(("x-mock-fault", "slow:15"));
                    }
                    while !stop.load(Ordering::Relaxed) {
                        match post(&http, &url, &headers, STREAM).await {
                            Ok(_) => done += 1,
                            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                        }
                    }
                    done
                }));
            }
            let mut done = 0;
            for task in tasks {
                done += task.await.unwrap_or(0);
            }
            done
        })
    })
}

/// What `report` made of a killed writer's trace.
struct Read {
    calls: usize,
    torn: bool,
}

/// `report --json` must read the trace; a torn line must be the last one, and be named.
fn check_trace(path: &Path, round: &str) -> Read {
    let output = agentprof()
        .args(["report", "--json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{round}: report failed: {}",
        stderr(&output)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let skipped = report["source"]["skipped_lines"].as_u64().unwrap();
    assert!(skipped <= 1, "{round}: {skipped} lines skipped");
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("no footer"), "{round}: {warnings}");

    let trace = agentprof::output::trace::read_trace(path).unwrap();
    assert!(trace.bad_lines.is_empty(), "{round}: {:?}", trace.bad_lines);
    assert!(
        trace.footer.is_none(),
        "{round}: killed writers write no footer"
    );
    let bytes = std::fs::read(path).unwrap();
    let lines = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count() as u64;
    if let Some(torn) = &trace.torn_last_line {
        assert_eq!(torn.line, lines, "{round}: the torn line is the last one");
        assert_ne!(bytes.last(), Some(&b'\n'), "{round}");
        let named = format!("{}:{}: skipped torn last line", path.display(), torn.line);
        assert!(
            warnings.contains(&named),
            "{round}: {warnings} lacks {named}"
        );
        assert_eq!(skipped, 1);
    } else {
        assert_eq!(skipped, 0, "{round}");
    }
    Read {
        calls: trace.calls.len(),
        torn: trace.torn_last_line.is_some(),
    }
}

/// Waits until the trace file holds its header line (the writer creates it, then writes it).
fn wait_for_header(path: &Path) {
    for _ in 0..500 {
        if std::fs::read(path).is_ok_and(|b| b.contains(&b'\n')) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{} never got its header", path.display());
}

#[test]
fn kill_9_at_random_moments_leaves_a_trace_report_reads() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let (mut calls, mut torn, mut rounds) = (0, 0, 0);

    for round in 0..12 {
        let path = dir.path().join(format!("proxy-{round}.jsonl"));
        let mut proxy = ProxyProcess::start(&path, &["--anthropic-upstream", &mock.url()]);
        let stop = Arc::new(AtomicBool::new(false));
        let loader = load(proxy.base.clone(), stop.clone());
        std::thread::sleep(Duration::from_millis(rng.random_range(20..1200)));
        proxy.child.kill().unwrap();
        proxy.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        loader.join().unwrap();
        let read = check_trace(&path, &format!("proxy round {round}"));
        (calls, torn, rounds) = (
            calls + read.calls,
            torn + usize::from(read.torn),
            rounds + 1,
        );
    }

    for round in 0..8 {
        let path = dir.path().join(format!("run-{round}.jsonl"));
        // The agent: two curls at a time, forever; one trickles.
        let agent = format!(
            "while :; do curl -s -o /dev/null -H 'x-mock-fault: slow:15' --data '{STREAM}' \
             \"$ANTHROPIC_BASE_URL/v1/messages\" & curl -s -o /dev/null --data '{STREAM}' \
             \"$ANTHROPIC_BASE_URL/v1/messages\"; wait; done"
        );
        let mut run = {
            use std::os::unix::process::CommandExt;
            agentprof()
                .arg("run")
                .arg("--trace")
                .arg(&path)
                .args([
                    "--anthropic-upstream",
                    &mock.url(),
                    "--sample-interval",
                    "20ms",
                ])
                .args(["--", "sh", "-c", &agent])
                // Its own process group, so the agent it leaves behind can be killed too.
                .process_group(0)
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        wait_for_header(&path);
        std::thread::sleep(Duration::from_millis(rng.random_range(20..1200)));
        let group = nix::unistd::Pid::from_raw(run.id() as i32);
        nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL).unwrap();
        run.wait().unwrap();
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let read = check_trace(&path, &format!("run round {round}"));
        (calls, torn, rounds) = (
            calls + read.calls,
            torn + usize::from(read.torn),
            rounds + 1,
        );
    }
    eprintln!("crash: {rounds} kills, {calls} calls recorded, {torn} torn last lines");
    assert!(calls > 0, "calls were streaming when the kills came");
}
