//! `run` as a process wrapper: exit codes, signals, the memory of the whole tree, the trace.

use std::time::Duration;

use agentprof::observation::{ProcessEvent, ProcessRole};

use crate::support::{Mock, agentprof, run_under_agentprof, stderr, trace};

#[test]
fn exit_code_of_the_child_is_passed_through() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let output = run_under_agentprof(&mock, dir.path(), &["sh", "-c", "exit 7"]);
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    let trace = trace(dir.path());
    assert_eq!(trace.footer.unwrap().exit_code, Some(7));
}

#[test]
fn a_child_killed_by_a_signal_gives_128_plus_signal() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let output = run_under_agentprof(&mock, dir.path(), &["sh", "-c", "kill -TERM $$"]);
    assert_eq!(output.status.code(), Some(128 + 15), "{}", stderr(&output));
    assert_eq!(trace(dir.path()).footer.unwrap().exit_signal, Some(15));
}

#[test]
fn sigterm_to_agentprof_reaches_the_child_and_the_trace_is_finished() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = agentprof()
        .arg("run")
        .arg("--trace")
        .arg(dir.path().join("trace.jsonl"))
        .args(["--quiet", "--", "sleep", "30"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15));
    let footer = trace(dir.path())
        .footer
        .expect("footer written after the signal");
    assert_eq!(footer.exit_signal, Some(15));
    assert!(footer.t < 10.0, "sleep 30 was cut short");
}

#[test]
fn the_whole_process_tree_is_sampled() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    // A shell whose grandchild allocates and touches 96 MiB.
    let script = "python3 -c 'b = bytearray(96 << 20); import time; time.sleep(1.2)' & wait";
    let output = run_under_agentprof(&mock, dir.path(), &["sh", "-c", script]);
    assert!(output.status.success(), "{}", stderr(&output));
    let trace = trace(dir.path());
    assert!(trace.samples.len() >= 5, "{} samples", trace.samples.len());
    let peak = trace.samples.iter().map(|s| s.rss_bytes).max().unwrap();
    assert!(
        peak >= 96 << 20,
        "peak tree RSS {peak} should include the 96 MiB grandchild"
    );
    let started: Vec<_> = trace
        .process_events
        .iter()
        .filter_map(|e| match e {
            ProcessEvent::Start { role, command, .. } => Some((*role, command.clone())),
            _ => None,
        })
        .collect();
    assert!(started.iter().any(|(role, _)| *role == ProcessRole::Main));
    assert!(
        started
            .iter()
            .any(|(role, cmd)| *role == ProcessRole::Other && cmd.contains("python3")),
        "{started:?}"
    );
    assert!(
        trace
            .process_events
            .iter()
            .any(|e| matches!(e, ProcessEvent::Exit { .. }))
    );
    assert!(
        trace.samples.iter().any(|s| s.pss_bytes.is_some()),
        "PSS read every Nth tick"
    );
}

#[test]
fn report_tolerates_and_counts_a_torn_last_line() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let output = run_under_agentprof(&mock, dir.path(), &["sh", "-c", "sleep 0.3"]);
    assert!(output.status.success());
    let path = dir.path().join("trace.jsonl");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(br#"{"type":"call","id":99,"t_start":1.0,"provid"#);
    std::fs::write(&path, bytes).unwrap();
    let output = agentprof()
        .args(["report", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["source"]["skipped_lines"], 1);
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("torn last line"), "{warnings}");
}
