//! Every upstream fault the mock can inject, through one `agentprof proxy` process: the client
//! gets exactly the bytes upstream sent (FNV-1a of the body equals the mock's record), or a 502
//! with an error JSON when upstream sent nothing; a normal call right after each fault works
//! (the proxy keeps serving); and the trace records each failure with its kind and status.
//! Bodies are captured throughout (`--capture-bodies`), as they were sent.

use agentprof::demo::mock_upstream::MockRecord;
use agentprof::observation::CallErrorKind;

use crate::client::{ProxyProcess, Reply, client, fnv1a64, post, raw_exchange, runtime};
use crate::support::Mock;

const STREAM: &str = r#"{"model":"claude-sonnet-4-6","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
const PLAIN: &str =
    r#"{"model":"claude-sonnet-4-6","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#;
const KEY: (&str, &str) = ("x-api-key", "sk-ant-test-SECRETKEY-faults-0123456789");

/// What a fault must look like to the client and in the trace.
struct Case {
    fault: &'static str,
    body: &'static str,
    status: u16,
    /// The body breaks off (a reset after the head).
    broken: bool,
    /// agentprof answered itself (upstream sent no response).
    made_up: bool,
    error: Option<CallErrorKind>,
}

const fn case(fault: &'static str, status: u16, error: Option<CallErrorKind>) -> Case {
    Case {
        fault,
        body: STREAM,
        status,
        broken: false,
        made_up: false,
        error,
    }
}

fn cases() -> Vec<Case> {
    use CallErrorKind::*;
    vec![
        Case {
            made_up: true,
            ..case("reset-before-headers", 502, Some(UpstreamBody))
        },
        // The head, then the reset: no body byte to pass on, but the head must reach the
        // client before the break (an error ending hyper's connection drops what it holds).
        Case {
            broken: true,
            ..case("reset-mid-stream:0", 200, Some(UpstreamBody))
        },
        Case {
            broken: true,
            ..case("reset-mid-stream:1", 200, Some(UpstreamBody))
        },
        Case {
            broken: true,
            ..case("reset-mid-stream:3", 200, Some(UpstreamBody))
        },
        Case {
            broken: true,
            body: PLAIN,
            ..case("reset-mid-stream:1", 200, Some(UpstreamBody))
        },
        case("status:429", 429, Some(UpstreamStatus)),
        case("status:529", 529, Some(UpstreamStatus)),
        case("error-event", 200, Some(StreamError)),
        case("slow:60", 200, None),
        case("malformed-sse", 200, None),
        case("gzip", 200, None),
        Case {
            body: PLAIN,
            ..case("gzip", 200, None)
        },
        case("huge-headers:64", 200, None),
        // Past hyper's limit on a response head (100 headers): nothing usable came back.
        Case {
            made_up: true,
            ..case("huge-headers:1024", 502, Some(UpstreamBody))
        },
    ]
}

/// The mock's record of the call with this request id.
fn record_of<'a>(records: &'a [MockRecord], reply: &Reply) -> &'a MockRecord {
    let id = reply
        .header("request-id")
        .expect("upstream's request-id reached the client");
    records
        .iter()
        .find(|r| r.request_id == id)
        .unwrap_or_else(|| panic!("no mock record for {id}"))
}

fn check_passed_through(reply: &Reply, record: &MockRecord, what: &str) {
    assert_eq!(Some(reply.status), record.status, "{what}: status");
    assert_eq!(
        reply.body.len() as u64,
        record.body_bytes,
        "{what}: body length"
    );
    assert_eq!(
        fnv1a64(&reply.body),
        record.body_fnv1a64,
        "{what}: the client got other bytes than upstream sent"
    );
}

#[test]
fn every_fault_passes_through_or_gets_a_502_and_the_proxy_keeps_serving() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    // OpenAI calls go to a port nothing listens on: the refused-connection fault.
    let proxy = ProxyProcess::start(
        &trace_path,
        &[
            "--anthropic-upstream",
            &mock.url(),
            "--openai-upstream",
            "http://127.0.0.1:1",
            "--capture-bodies",
        ],
    );
    let messages = format!("{}/v1/messages", proxy.base);
    let rt = runtime(2);
    let http = client(4);
    // (fault, reply) for the checks against the trace once the proxy has stopped.
    let mut seen: Vec<(&'static str, Reply)> = Vec::new();
    let normal = |seen_after: &str| {
        let reply = rt
            .block_on(post(&http, &messages, &[KEY], STREAM))
            .unwrap_or_else(|e| panic!("normal call after {seen_after}: {e}"));
        assert_eq!(reply.status, 200, "normal call after {seen_after}");
        assert!(!reply.broken, "normal call after {seen_after}");
        check_passed_through(&reply, record_of(&mock.records(), &reply), seen_after);
        reply
    };

    let refused = rt
        .block_on(post(
            &http,
            &format!("{}/openai/v1/chat/completions", proxy.base),
            &[(
                "authorization",
                "Bearer sk-test-SECRETKEY-openai-0123456789",
            )],
            r#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
        ))
        .unwrap();
    assert_eq!(refused.status, 502);
    let error = refused.json();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot connect to upstream"),
        "{error}"
    );
    seen.push(("normal", normal("a refused connection")));

    for case in cases() {
        let what = format!(
            "fault {} ({} body)",
            case.fault,
            if case.body == STREAM {
                "stream"
            } else {
                "json"
            }
        );
        let reply = rt
            .block_on(post(
                &http,
                &messages,
                &[
                    KEY,
                    ("x-mock-fault", case.fault),
                    ("accept-encoding", "gzip"),
                ],
                case.body,
            ))
            .unwrap_or_else(|e| panic!("{what}: the client got no response: {e}"));
        assert_eq!(reply.status, case.status, "{what}");
        assert_eq!(reply.broken, case.broken, "{what}: broken body");
        if case.made_up {
            assert_eq!(reply.header("x-agentprof-error"), Some("1"), "{what}");
            let error = reply.json();
            assert_eq!(error["type"], "error", "{what}: {error}");
            assert!(
                error["error"]["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("agentprof: "),
                "{what}: {error}"
            );
        } else {
            check_passed_through(&reply, record_of(&mock.records(), &reply), &what);
        }
        match case.fault {
            "status:429" => assert_eq!(reply.header("retry-after"), Some("1"), "{what}"),
            "gzip" => assert_eq!(reply.header("content-encoding"), Some("gzip"), "{what}"),
            "huge-headers:64" => assert!(reply.header("x-mock-padding-15").is_some(), "{what}"),
            _ => {}
        }
        seen.push((case.fault, reply));
        seen.push(("normal", normal(&what)));
    }

    // Requests agentprof refuses itself, before any upstream is asked.
    let authority = proxy.authority().to_string();
    let huge = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: {authority}\r\nx-padding: {}\r\nContent-Length: 2\r\n\r\n",
        "p".repeat(600 << 10)
    );
    let (status, _) = raw_exchange(&authority, &huge, b"{}");
    assert_eq!(status, 431, "request headers past hyper's limit");
    seen.push(("normal", normal("huge request headers")));
    let too_large = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        65u64 << 20
    );
    let (status, text) = raw_exchange(&authority, &too_large, b"{\"model\":");
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("64 MiB limit"), "{text}");
    seen.push(("normal", normal("a 413")));

    proxy.stop();
    let records = mock.records();
    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    assert!(trace.torn_last_line.is_none() && trace.bad_lines.is_empty());
    // One call per request that reached the handler: the refused one, every fault, every
    // normal call (the 431 and 413 never became calls).
    assert_eq!(
        trace.calls.len(),
        1 + seen.len(),
        "one trace record per call"
    );

    // Calls are numbered as they arrive, and these arrived one after the other.
    let mut calls = trace.calls.clone();
    calls.sort_by_key(|c| c.id);
    let first = &calls[0];
    assert_eq!(first.status, Some(502));
    assert_eq!(
        first.error.as_ref().unwrap().kind,
        CallErrorKind::UpstreamConnect
    );
    let cases = cases();
    let mut faults = cases.iter();
    for ((fault, reply), call) in seen.iter().zip(&calls[1..]) {
        let request_id = reply.header("request-id");
        assert_eq!(
            call.upstream_request_id.as_deref(),
            request_id,
            "{fault}: {call:?}"
        );
        let record = request_id.map(|id| records.iter().find(|r| r.request_id == id).unwrap());
        let captured = call.bodies.as_ref().expect("--capture-bodies");
        if *fault == "normal" {
            assert!(call.error.is_none(), "{call:?}");
            assert_eq!(call.usage, record.unwrap().usage);
            assert_eq!(
                captured.response.as_bytes(),
                reply.body,
                "the stream as sent"
            );
            continue;
        }
        if *fault == "gzip" {
            assert_eq!(
                captured.response,
                "(compressed response body: not captured)"
            );
        }
        let case = faults.next().unwrap();
        assert_eq!(call.status, Some(case.status), "{fault}");
        assert_eq!(
            call.error.as_ref().map(|e| e.kind),
            case.error,
            "{fault}: {call:?}"
        );
        // What the client got, as the trace says: every byte read from upstream, or
        // agentprof's own error body.
        assert_eq!(call.client_bytes, Some(reply.body.len() as u64), "{fault}");
        if case.broken {
            let error = call.error.as_ref().unwrap();
            assert_eq!(error.all_delivered, Some(true), "{fault}: {error:?}");
            assert_eq!(call.response_bytes, reply.body.len() as u64, "{fault}");
            let said = format!("after {} bytes", reply.body.len());
            assert!(error.message.contains(&said), "{fault}: {error:?}");
        }
        if let Some(record) = record {
            // Usage as far as the client could read it, gzip included.
            assert_eq!(call.usage, record.usage, "{fault}");
            if matches!(*fault, "gzip" | "slow:60" | "malformed-sse") {
                assert!(call.usage.is_some_and(|u| u.output_tokens > 1), "{fault}");
            }
        }
    }
    assert!(
        faults.next().is_none(),
        "every fault was checked against the trace"
    );
}

/// A body sent chunked declares no length, so the 413 cannot come before reading it: the
/// proxy forwards it until it passes the limit, then aborts the upstream request and answers
/// 413 — and keeps serving.
#[test]
fn a_chunked_body_past_the_limit_gets_413_and_the_proxy_keeps_serving() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let proxy = ProxyProcess::start(&trace_path, &["--anthropic-upstream", &mock.url()]);
    let authority = proxy.authority().to_string();

    let head = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let piece = vec![b' '; 1 << 20];
    let mut body = Vec::with_capacity(66 << 20);
    body.extend_from_slice(b"9\r\n{\"model\":\r\n");
    for _ in 0..65 {
        body.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        body.extend_from_slice(&piece);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let (status, text) = raw_exchange(&authority, &head, &body);
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("larger than 64 MiB"), "{text}");

    let rt = runtime(1);
    let http = client(1);
    let messages = format!("{}/v1/messages", proxy.base);
    let reply = rt.block_on(post(&http, &messages, &[KEY], STREAM)).unwrap();
    assert_eq!(reply.status, 200, "a normal call after the 413");

    proxy.stop();
    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    let mut calls = trace.calls.clone();
    calls.sort_by_key(|c| c.id);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0].status, Some(413));
    let error = calls[0].error.as_ref().unwrap();
    assert_eq!(error.kind, CallErrorKind::ClientRequest);
    assert!(error.message.contains("64 MiB"), "{}", error.message);
    assert!(calls[1].error.is_none() && calls[1].usage.is_some());
    assert_eq!(
        mock.records().len(),
        1,
        "upstream answered only the normal call"
    );
}
