//! Secrets and exposure, end to end: a full `run` session (the official SDKs with an
//! `x-api-key`, a bearer token and a cookie; `--prometheus`; `--otlp-endpoint` to a collector;
//! `report` after) must leave no credential in any output; bodies appear only with
//! `--capture-bodies`, and then with their secrets masked; every file written is 0600; and the
//! servers refuse requests addressed to another host (DNS rebinding) or too large to read.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use crate::client::{ProxyProcess, raw_exchange};
use crate::otlp_export::sink::Sink;
use crate::prometheus::harness::free_port;
use crate::support::{Mock, agentprof, all_outputs, python, python_script, stderr, trace};
use crate::trace_schema::{validate_file, validator};

/// Every credential the session below sends, each a distinctive substring.
const SECRETS: [&str; 8] = [
    "SECRETKEY",
    "BEARERSECRET",
    "COOKIESECRET",
    "OPENAISECRET",
    "QUERYSECRET",
    "PROMPTSECRET",
    "NAMEDSECRET",
    "GHSECRET",
];

/// A prompt that carries credentials of its own (a user pasting an env file).
const PROMPT: &str = r#"capture marker 42: my key is sk-ant-api03-PROMPTSECRET0123456789, config {"api_key": "NAMEDSECRET-abc"}, and export GITHUB_TOKEN=ghp_GHSECRET0123456789abcdefghij"#;

/// The agent: both SDKs with credentials in every place, a query-string key, and (with a
/// Prometheus port) a scrape of /metrics into the output directory.
fn agent_script(dir: &Path, prometheus: Option<u16>) -> String {
    let d = dir.display();
    let mut script = r#""$0" "$1" "$PROMPT" && curl -sS -o /dev/null -H 'anthropic-version: 2023-06-01' "$ANTHROPIC_BASE_URL/v1/models?api_key=QUERYSECRET-0123456789""#.to_string();
    if let Some(port) = prometheus {
        script.push_str(&format!(
            " && curl -sS -o {d}/metrics.txt http://127.0.0.1:{port}/metrics"
        ));
    }
    script
}

fn run_session(mock: &Mock, dir: &Path, extra: &[&str], prometheus: Option<u16>) -> Output {
    let mut cmd = agentprof();
    cmd.arg("run")
        .arg("--trace")
        .arg(dir.join("trace.jsonl"))
        .args(["--anthropic-upstream", &mock.url()])
        .args(["--openai-upstream", &mock.url()])
        .args(["--sample-interval", "50ms"])
        .args(extra);
    if let Some(port) = prometheus {
        cmd.args(["--prometheus", &format!("127.0.0.1:{port}")]);
    }
    cmd.env("PROMPT", PROMPT)
        .env("OTEL_METRIC_EXPORT_INTERVAL", "300")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .arg("--")
        .args(["sh", "-c", &agent_script(dir, prometheus)])
        .arg(python())
        .arg(python_script("secret_client.py"));
    cmd.output().unwrap()
}

fn assert_no_secret(text: &str, what: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} leaked into {what}");
    }
}

fn assert_private(path: &Path) {
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} has mode {mode:o}", path.display());
}

/// `report --json` and the table report, saved beside the trace, and the HTML report in
/// `html/` (checked here to be private, read into the grep by the caller).
fn reports(dir: &Path) {
    let html = agentprof()
        .args(["report", "--html"])
        .arg(dir.join("html"))
        .arg(dir.join("trace.jsonl"))
        .output()
        .unwrap();
    assert!(html.status.success(), "{}", stderr(&html));
    assert_private(&dir.join("html/index.html"));
    assert_no_secret(&stderr(&html), "report --html's stderr");
    for (args, name) in [
        (&["report", "--json"][..], "report.json"),
        (&["report"][..], "report.txt"),
    ] {
        let output = agentprof()
            .args(args)
            .arg(dir.join("trace.jsonl"))
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        std::fs::write(dir.join(name), &output.stdout).unwrap();
        assert_no_secret(&stderr(&output), name);
    }
}

#[test]
fn no_credential_reaches_trace_log_metrics_otlp_or_reports() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(dir.path());
    let port = free_port();
    let output = run_session(
        &mock,
        dir.path(),
        &["--otlp-endpoint", &sink.url()],
        Some(port),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    reports(dir.path());

    let trace = trace(dir.path());
    assert!(!trace.header.capture_bodies);
    assert!(trace.calls.len() >= 4, "{} calls", trace.calls.len());
    assert!(
        trace.calls.iter().all(|c| c.bodies.is_none()),
        "no bodies without the flag"
    );
    let query = trace
        .calls
        .iter()
        .find(|c| c.path.contains("models"))
        .unwrap();
    assert!(query.path.contains("api_key="), "{}", query.path);

    let metrics = std::fs::read_to_string(dir.path().join("metrics.txt")).unwrap();
    assert!(
        metrics.contains("agentprof_requests_total"),
        "the scrape worked"
    );
    let otlp = std::fs::read_to_string(dir.path().join("otlp.jsonl")).unwrap();
    assert!(
        otlp.contains("gen_ai.usage.input_tokens"),
        "the collector got spans"
    );
    let report = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    assert!(report.contains("agentprof.report/v1"));

    // trace, its log, the scrape, the collector's payloads, the three reports, stdout and stderr.
    let mut everything = all_outputs(dir.path(), &output);
    let html = std::fs::read_to_string(dir.path().join("html/index.html")).unwrap();
    assert!(html.contains("<svg"), "the HTML report has its charts");
    everything.push_str(&html);
    assert_no_secret(&everything, "the session's outputs");
    let log = dir.path().join("trace.jsonl.log");
    assert!(log.exists(), "run logs beside the trace");
    assert_private(&dir.path().join("trace.jsonl"));
    assert_private(&log);
}

#[test]
fn captured_bodies_keep_the_conversation_but_not_its_secrets() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let output = run_session(&mock, dir.path(), &["--capture-bodies"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    reports(dir.path());

    let trace = trace(dir.path());
    assert!(trace.header.capture_bodies);
    let prompted: Vec<_> = trace
        .calls
        .iter()
        .filter_map(|c| c.bodies.as_ref())
        .filter(|b| b.request.contains("capture marker 42"))
        .collect();
    assert_eq!(prompted.len(), 3, "the three model calls carry the prompt");
    for bodies in &prompted {
        assert!(bodies.request.contains("sk-***"), "{}", bodies.request);
        assert!(
            bodies.request.contains("GITHUB_TOKEN=***"),
            "{}",
            bodies.request
        );
        assert!(!bodies.response.is_empty(), "the response is captured too");
    }
    assert!(
        prompted
            .iter()
            .any(|b| b.response.contains("message_start")),
        "a stream is captured as it was sent"
    );
    assert_no_secret(
        &all_outputs(dir.path(), &output),
        "a session with --capture-bodies",
    );
    assert!(validate_file(&validator(), &dir.path().join("trace.jsonl")) > 3);
    assert_private(&dir.path().join("trace.jsonl"));
}

#[test]
fn requests_to_another_host_or_too_large_are_refused_by_every_server() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let proxy = ProxyProcess::start(
        &dir.path().join("trace.jsonl"),
        &[
            "--anthropic-upstream",
            &mock.url(),
            "--allow-host",
            "agentprof.test",
            "--prometheus",
            &format!("127.0.0.1:{port}"),
        ],
    );
    let body = r#"{"model":"claude-sonnet-4-6","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}"#;
    let post = |host: &str| {
        format!(
            "POST /v1/messages HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
    };
    let authority = proxy.authority().to_string();
    for host in ["evil.example", "evil.example:80", "127.0.0.1.evil.example"] {
        let (status, text) = raw_exchange(&authority, &post(host), body.as_bytes());
        assert_eq!(status, 421, "{host}: {text}");
        assert!(text.contains("DNS rebinding"), "{text}");
    }
    for host in [authority.as_str(), "localhost:9", "agentprof.test:8080"] {
        let (status, text) = raw_exchange(&authority, &post(host), body.as_bytes());
        assert_eq!(status, 200, "{host}: {text}");
    }
    let metrics = format!("127.0.0.1:{port}");
    let scrape =
        |host: &str| format!("GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    assert_eq!(
        raw_exchange(&metrics, &scrape("evil.example:9464"), b"").0,
        421
    );
    assert_eq!(raw_exchange(&metrics, &scrape(&metrics), b"").0, 200);
    let (status, text) = raw_exchange(
        &metrics,
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n",
        b"",
    );
    assert_eq!(status, 413, "{text}");
    proxy.stop();
}

#[test]
fn the_telemetry_receiver_refuses_other_hosts_and_large_bodies() {
    // The receiver's address is only known inside `run`: the agent probes it with curl.
    let dir = tempfile::tempdir().unwrap();
    let big = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let script = format!(
        "head -c 17000000 /dev/zero > {b}/big.json; \
         curl -s -o {d}/rebind.json -w '%{{http_code}}' -H 'Host: evil.example:4318' \
           -H 'content-type: application/json' --data '{{}}' \"$OTEL_EXPORTER_OTLP_ENDPOINT/v1/logs\" > {d}/rebind.status; \
         curl -s -o {d}/big.json -w '%{{http_code}}' -H 'content-type: application/json' \
           --data-binary @{b}/big.json \"$OTEL_EXPORTER_OTLP_ENDPOINT/v1/logs\" > {d}/big.status; \
         curl -s -o /dev/null -w '%{{http_code}}' -H 'content-type: application/json' \
           --data '{{}}' \"$OTEL_EXPORTER_OTLP_ENDPOINT/v1/logs\" > {d}/ok.status; true",
        b = big.path().display()
    );
    let output = agentprof()
        .arg("run")
        .arg("--trace")
        .arg(dir.path().join("trace.jsonl"))
        .args(["--", "sh", "-c", &script])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert_eq!(read("rebind.status"), "421", "{}", read("rebind.json"));
    assert!(read("rebind.json").contains("DNS rebinding"));
    assert_eq!(read("big.status"), "413", "{}", read("big.json"));
    assert!(read("big.json").contains("16 MiB limit"));
    assert_eq!(
        read("ok.status"),
        "200",
        "the agent's own requests still get through"
    );
}

#[test]
fn imported_traces_are_private_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imported.jsonl");
    let history = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/claude_code_2.1.328/transcripts");
    let output = agentprof()
        .args(["import", "claude-code"])
        .arg(&history)
        .arg("--trace")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_private(&out);
}
