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

#[test]
fn an_existing_trace_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.jsonl");
    std::fs::write(&path, "precious\n").unwrap();
    let output = agentprof()
        .args(["run", "--trace"])
        .arg(&path)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("exists"), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious\n");
}

#[test]
fn calls_in_flight_when_the_proxy_stops_are_recorded() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let mut proxy = agentprof()
        .args(["proxy", "--quiet", "--no-agent-telemetry", "--trace"])
        .arg(&trace_path)
        .args(["--anthropic-upstream", &mock.url()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(proxy.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first
        .trim()
        .strip_prefix("ANTHROPIC_BASE_URL=")
        .unwrap()
        .to_string();
    // A stream that trickles for ~3 s; the proxy is stopped after 0.7 s.
    let received = dir.path().join("received");
    let mut client = std::process::Command::new("curl")
        .args(["-sS", "-H", "x-mock-fault: slow:400", "-o"])
        .arg(&received)
        .arg("--data")
        .arg(r#"{"model":"claude-sonnet-4-6","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
        .arg(format!("{base}/v1/messages"))
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(proxy.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    assert!(proxy.wait().unwrap().success());
    let _ = client.wait();
    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    assert_eq!(trace.calls.len(), 1, "the call in flight is in the trace");
    let call = &trace.calls[0];
    let error = call.error.as_ref().unwrap();
    assert_eq!(error.kind, agentprof::observation::CallErrorKind::Shutdown);
    assert_eq!(trace.footer.unwrap().calls, 1);
    // Cut off, but only after the client got every byte read until then.
    let received = std::fs::read(&received).unwrap();
    assert!(!received.is_empty(), "message_start came before the cut");
    assert_eq!(call.client_bytes, Some(received.len() as u64), "{error:?}");
    assert_eq!(call.response_bytes, received.len() as u64, "{error:?}");
    assert_eq!(error.all_delivered, Some(true), "{error:?}");
    // Cut off by its connection, after a flush — not dropped with the connection.
    let said = format!(
        "cut it off after {} bytes; all of it reached the client",
        received.len()
    );
    assert!(error.message.contains(&said), "{error:?}");
}
