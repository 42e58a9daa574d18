//! The Gemini API through `agentprof proxy`, bad input: a path agentprof does not know passes
//! through and is an other request; a `usageMetadata` it cannot read reaches the client byte for
//! byte and is recorded as unread usage, never a crash or a made-up count; every fault the mock
//! injects reaches the client as upstream sent it.

use std::io::Write;

use agentprof::observation::{ApiKind, CallErrorKind, Provider};

use crate::client::ProxyProcess;
use crate::support::Mock;

/// A Gemini request body.
const HI: &str = r#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#;

/// `curl` through the proxy, with a key and `--data` `body` if given: the status and the body
/// it received.
fn curl(url: &str, data: Option<&str>) -> (String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body");
    let data = data.map_or_else(Vec::new, |d| {
        vec!["-H", "content-type: application/json", "--data", d]
    });
    let output = std::process::Command::new("curl")
        .args(["-sS", "-o"])
        .arg(&body)
        .args([
            "-w",
            "%{http_code}",
            "-H",
            "x-goog-api-key: AIza-SECRETKEY-x",
        ])
        .args(data)
        .arg(url)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        std::fs::read(&body).unwrap_or_default(),
    )
}

#[test]
fn unknown_gemini_paths_pass_through_as_other_requests() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let proxy = ProxyProcess::start(&trace_path, &["--gemini-upstream", &mock.url()]);
    let (status, _) = curl(
        &format!("{}/gemini/v1beta/models?key=AIza-SECRETKEY-q", proxy.base),
        None,
    );
    assert_eq!(
        status, "404",
        "the mock knows no model list; the client sees its answer"
    );
    let (status, body) = curl(
        &format!(
            "{}/gemini/v1beta/models/gemini-3-flash-preview:countTokens",
            proxy.base
        ),
        Some(HI),
    );
    assert_eq!(status, "200");
    assert!(String::from_utf8_lossy(&body).contains("totalTokens"));
    proxy.stop();
    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    assert_eq!(trace.calls.len(), 2, "{:#?}", trace.calls);
    for call in &trace.calls {
        assert_eq!(call.provider, Provider::Gemini);
        assert_eq!(call.api, ApiKind::Other);
        assert!(!call.is_model_call() && call.usage.is_none());
    }
    assert_eq!(
        trace.calls[0].path, "/v1beta/models?key=***",
        "the key is masked"
    );
    let text = std::fs::read_to_string(&trace_path).unwrap();
    assert!(!text.contains("SECRETKEY"));
}

#[test]
fn an_unreadable_usage_metadata_is_recorded_as_unread_and_the_bytes_pass_untouched() {
    const BODY: &str = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"hi\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": \"many\",\"candidatesTokenCount\": 2},\"modelVersion\": \"gemini-3-flash-preview\",\"responseId\": \"r-bad\"}\r\n\r\n";
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        crate::client::read_request(&stream);
        let mut stream = stream;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n",
            BODY.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(BODY.as_bytes()).unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let proxy = ProxyProcess::start(&trace_path, &["--gemini-upstream", &upstream]);
    let (status, body) = curl(
        &format!(
            "{}/gemini/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse",
            proxy.base
        ),
        Some(HI),
    );
    assert_eq!(status, "200");
    assert_eq!(String::from_utf8(body).unwrap(), BODY);
    proxy.stop();
    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    assert_eq!(trace.calls.len(), 1);
    let call = &trace.calls[0];
    assert_eq!(call.api, ApiKind::GenerateContent);
    assert_eq!(call.model.as_deref(), Some("gemini-3-flash-preview"));
    assert!(call.stream);
    assert_eq!(call.usage, None);
    assert_eq!(call.response_id.as_deref(), Some("r-bad"));
    let error = call.error.as_ref().unwrap();
    assert_eq!(error.kind, CallErrorKind::Unreadable);
    assert!(
        error.message.starts_with("usageMetadata not readable"),
        "{error:?}"
    );
    assert_eq!(call.client_bytes, Some(BODY.len() as u64));
}

/// Every fault the mock can inject into a Gemini answer, through one `agentprof proxy`: the
/// client gets exactly the bytes upstream sent, the trace records each failure with its kind,
/// and the usage counted is what the client could read (a cut stream: its last snapshot).
#[test]
fn every_gemini_fault_passes_through_byte_for_byte() {
    use crate::client::{client, fnv1a64, post, runtime};
    const STREAM_PATH: &str =
        "/gemini/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse";
    const PLAIN_PATH: &str = "/gemini/v1beta/models/gemini-3-flash-preview:generateContent";
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let proxy = ProxyProcess::start(&trace_path, &["--gemini-upstream", &mock.url()]);
    let rt = runtime(2);
    let http = client(4);
    use CallErrorKind::*;
    let cases: &[(&str, &str, u16, Option<CallErrorKind>)] = &[
        ("", STREAM_PATH, 200, None),
        ("", PLAIN_PATH, 200, None),
        ("reset-mid-stream:0", STREAM_PATH, 200, Some(UpstreamBody)),
        ("reset-mid-stream:2", STREAM_PATH, 200, Some(UpstreamBody)),
        ("reset-mid-stream:1", PLAIN_PATH, 200, Some(UpstreamBody)),
        ("status:429", STREAM_PATH, 429, Some(UpstreamStatus)),
        ("status:503", PLAIN_PATH, 503, Some(UpstreamStatus)),
        ("error-event", STREAM_PATH, 200, Some(StreamError)),
        ("slow:40", STREAM_PATH, 200, None),
        ("malformed-sse", STREAM_PATH, 200, None),
        ("gzip", STREAM_PATH, 200, None),
        ("gzip", PLAIN_PATH, 200, None),
    ];
    let key = ("x-goog-api-key", "AIza-SECRETKEY-faults");
    let mut ids = Vec::new();
    for (fault, path, status, _) in cases {
        let mut headers = vec![key, ("accept-encoding", "gzip")];
        if !fault.is_empty() {
            headers.push(("x-mock-fault", fault));
        }
        let url = format!("{}{path}", proxy.base);
        let reply = rt.block_on(post(&http, &url, &headers, HI)).unwrap();
        let what = format!("{fault} {path}");
        assert_eq!(reply.status, *status, "{what}");
        let id = reply.header("x-goog-request-id").unwrap().to_string();
        let record = mock
            .records()
            .into_iter()
            .find(|r| r.request_id == id)
            .unwrap();
        assert_eq!(reply.body.len() as u64, record.body_bytes, "{what}");
        assert_eq!(
            fnv1a64(&reply.body),
            record.body_fnv1a64,
            "{what}: other bytes"
        );
        ids.push(id);
    }
    proxy.stop();
    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    let mut calls = trace.calls.clone();
    calls.sort_by_key(|c| c.id);
    assert_eq!(calls.len(), cases.len());
    let records = mock.records();
    for ((call, (fault, path, _, error)), id) in calls.iter().zip(cases).zip(&ids) {
        let what = format!("{fault} {path}");
        let record = records.iter().find(|r| &r.request_id == id).unwrap();
        assert_eq!(
            call.error.as_ref().map(|e| e.kind),
            *error,
            "{what}: {call:?}"
        );
        assert_eq!(call.response_bytes, record.body_bytes, "{what}");
        assert_eq!(call.client_bytes, Some(record.body_bytes), "{what}");
        if error.is_none() || *error == Some(UpstreamBody) {
            // What the client could read is what agentprof counted (a cut stream: the last
            // snapshot that arrived).
            assert_eq!(call.usage, record.usage, "{what}");
        }
        assert_eq!(call.api, ApiKind::GenerateContent, "{what}");
    }
}
