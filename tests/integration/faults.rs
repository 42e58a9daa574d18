//! Upstream faults through `agentprof run`, with curl as the client.

use agentprof::observation::CallErrorKind;

use crate::support::{Mock, agentprof, run_under_agentprof, stderr, trace};

const BODY: &str = r#"{"model":"claude-sonnet-4-6","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;

/// A shell command that posts BODY with curl to the proxy and saves status and body.
fn curl(extra_header: &str, dir: &std::path::Path) -> String {
    format!(
        "curl -sS -o {out} -w '%{{http_code}}' -H 'content-type: application/json' \
         -H 'x-api-key: sk-ant-test-SECRETKEY-fault-0123456789' {extra_header} \
         --data '{BODY}' \"$ANTHROPIC_BASE_URL/v1/messages\" > {status}; echo $? > {code}",
        out = dir.join("body").display(),
        status = dir.join("status").display(),
        code = dir.join("curl_exit").display(),
    )
}

fn read(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn refused_upstream_gives_502_json_and_a_trace_record() {
    // Port 1 on loopback: nothing listens there.
    let dir = tempfile::tempdir().unwrap();
    let script = curl("", dir.path());
    let output = agentprof()
        .args(["run", "--trace"])
        .arg(dir.path().join("trace.jsonl"))
        .args([
            "--anthropic-upstream",
            "http://127.0.0.1:1",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(read(dir.path(), "status"), "502");
    let body: serde_json::Value = serde_json::from_str(&read(dir.path(), "body")).unwrap();
    assert_eq!(body["type"], "error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot connect to upstream")
    );
    let trace = trace(dir.path());
    assert_eq!(trace.calls.len(), 1);
    let call = &trace.calls[0];
    assert_eq!(call.status, Some(502));
    assert_eq!(
        call.error.as_ref().unwrap().kind,
        CallErrorKind::UpstreamConnect
    );
    assert!(call.usage.is_none());
}

#[test]
fn reset_mid_stream_passes_the_bytes_sent_and_marks_the_error() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let script = curl("-H 'x-mock-fault: reset-mid-stream:3'", dir.path());
    let output = run_under_agentprof(&mock, dir.path(), &["sh", "-c", &script]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(read(dir.path(), "status"), "200");
    assert_ne!(
        read(dir.path(), "curl_exit"),
        "0",
        "curl must see a broken body"
    );
    let body = read(dir.path(), "body");
    assert!(
        body.contains("event: message_start"),
        "bytes before the cut reach the client: {body}"
    );
    assert!(!body.contains("message_stop"));

    let trace = trace(dir.path());
    assert_eq!(trace.calls.len(), 1);
    let call = &trace.calls[0];
    assert_eq!(
        call.error.as_ref().unwrap().kind,
        CallErrorKind::UpstreamBody
    );
    // What was sent before the cut is still counted: message_start's usage.
    let records = mock.records();
    assert_eq!(call.usage, records[0].usage);
    assert!(call.usage.unwrap().input_tokens > 0);
}

#[test]
fn status_529_passes_through_unchanged() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let script = curl("-H 'x-mock-fault: status:529'", dir.path());
    let output = run_under_agentprof(&mock, dir.path(), &["sh", "-c", &script]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(read(dir.path(), "status"), "529");
    let body = std::fs::read(dir.path().join("body")).unwrap();
    let records = mock.records();
    assert_eq!(records[0].body_bytes, body.len() as u64);
    assert_eq!(
        records[0].body_fnv1a64,
        fnv1a64(&body),
        "error body byte-identical"
    );
    let trace = trace(dir.path());
    assert_eq!(trace.calls[0].status, Some(529));
    assert_eq!(
        trace.calls[0].error.as_ref().unwrap().kind,
        CallErrorKind::UpstreamStatus
    );
}

fn fnv1a64(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

#[test]
fn a_client_that_disconnects_cancels_the_call_and_it_is_recorded() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    // A stream that trickles for ~3 s; the client gives up after 0.8 s.
    let script = format!(
        "curl -sS --max-time 0.8 -o /dev/null -H 'x-mock-fault: slow:400' --data '{BODY}' \"$ANTHROPIC_BASE_URL/v1/messages\"; exit 0"
    );
    let output = run_under_agentprof(&mock, dir.path(), &["sh", "-c", &script]);
    assert!(output.status.success(), "{}", stderr(&output));
    let trace = trace(dir.path());
    assert_eq!(trace.calls.len(), 1);
    let call = &trace.calls[0];
    assert_eq!(
        call.error.as_ref().unwrap().kind,
        CallErrorKind::ClientDisconnected
    );
    // The events trickled out one by one, each written before the next was read.
    let error = call.error.as_ref().unwrap();
    assert_eq!(call.client_bytes, Some(call.response_bytes), "{error:?}");
    assert_eq!(error.all_delivered, Some(true), "{error:?}");
    let lasted = call.t_end.unwrap() - call.t_start;
    assert!(
        lasted < 2.0,
        "the call ended when the client left, not when upstream finished ({lasted} s)"
    );
    assert!(
        call.usage.is_some(),
        "message_start's usage arrived before the cut"
    );
}

#[test]
fn https_upstreams_are_verified_against_the_embedded_roots() {
    // A real TLS server (openssl s_server) with a self-signed certificate: the handshake runs
    // through rustls, which must refuse a certificate no embedded root vouches for.
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("k.pem"), dir.path().join("c.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed by scripts/test");
    assert!(made.status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new("openssl")
        .args([
            "s_server",
            "-www",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
        ])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ready = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(ready, "openssl s_server did not start");
    let script = curl("", dir.path());
    let output = agentprof()
        .args(["run", "--trace"])
        .arg(dir.path().join("trace.jsonl"))
        .args([
            "--anthropic-upstream",
            &format!("https://127.0.0.1:{port}"),
            "--",
            "sh",
            "-c",
            &script,
        ])
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(read(dir.path(), "status"), "502");
    let trace = trace(dir.path());
    let error = trace.calls[0].error.as_ref().unwrap();
    assert_eq!(error.kind, CallErrorKind::UpstreamConnect);
    assert!(error.message.contains("certificate"), "{}", error.message);
}

/// An upstream that refuses a request from its head alone (a 413 for a context too large) and
/// closes without reading the body: the proxy's writes of the rest fail, and the client must
/// still get upstream's answer, byte for byte, not a 502 of agentprof's.
#[test]
fn an_answer_sent_before_the_body_was_read_reaches_the_client() {
    use std::io::{BufRead, BufReader, Write};

    const ANSWER: &str = r#"{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}}"#;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 2 {
            line.clear();
        }
        let mut stream = stream;
        let head = format!(
            "HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\n\
             request-id: req_early\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            ANSWER.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(ANSWER.as_bytes()).unwrap();
        // Closing with the body unread resets the connection under the proxy's writes.
    });
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let proxy =
        crate::client::ProxyProcess::start(&trace_path, &["--anthropic-upstream", &upstream]);
    // 24 MB: more than loopback's socket buffers take, so the proxy's writes must fail.
    let padding = "x".repeat(24 << 20);
    let request = dir.path().join("request.json");
    std::fs::write(
        &request,
        format!(r#"{{"model":"claude-sonnet-4-6","max_tokens":64,"messages":[{{"role":"user","content":"{padding}"}}]}}"#),
    )
    .unwrap();
    let answer = dir.path().join("answer");
    let output = std::process::Command::new("curl")
        .args(["-sS", "-o"])
        .arg(&answer)
        .args([
            "-w",
            "%{http_code}",
            "-H",
            "content-type: application/json",
            "--data-binary",
        ])
        .arg(format!("@{}", request.display()))
        .arg(format!("{}/v1/messages", proxy.base))
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(
        status,
        "413",
        "curl: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(std::fs::read_to_string(&answer).unwrap(), ANSWER);
    proxy.stop();
    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    assert_eq!(trace.calls.len(), 1);
    let call = &trace.calls[0];
    assert_eq!(call.status, Some(413));
    assert_eq!(call.upstream_request_id.as_deref(), Some("req_early"));
    assert_eq!(call.client_bytes, Some(ANSWER.len() as u64));
    assert_eq!(
        call.error.as_ref().unwrap().kind,
        CallErrorKind::UpstreamStatus
    );
}

/// A WebSocket upgrade upstream refuses (here 403) reaches the client as upstream answered it,
/// and is recorded as an other request, not a model call.
#[test]
fn a_refused_websocket_upgrade_passes_through_untouched() {
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let proxy =
        crate::client::ProxyProcess::start(&trace_path, &["--openai-upstream", &mock.url()]);
    let head = format!(
        "GET /openai/v1/responses HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade, close\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nx-mock-fault: status:403\r\n\r\n",
        proxy.authority()
    );
    let (status, text) = crate::client::raw_exchange(proxy.authority(), &head, b"");
    assert_eq!(status, 403, "{text}");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(
        body.contains("Injected refusal of the WebSocket upgrade"),
        "{text}"
    );
    proxy.stop();
    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    assert_eq!(trace.calls.len(), 1);
    let call = &trace.calls[0];
    assert!(!call.is_model_call(), "{call:?}");
    assert_eq!(call.status, Some(403));
    assert_eq!(call.client_bytes, Some(body.len() as u64));
    assert_eq!(
        call.error.as_ref().unwrap().kind,
        CallErrorKind::UpstreamStatus
    );
    let records = mock.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].status, Some(403));
    // Byte for byte what the mock sent.
    assert_eq!(records[0].body_bytes, body.len() as u64);
    assert_eq!(
        crate::client::fnv1a64(body.as_bytes()),
        records[0].body_fnv1a64
    );
}

/// A raw WebSocket client through the proxy at `authority`, permessage-deflate offered, with
/// `extra` header lines: returns the socket and upstream's 101 head as the client got it.
fn open_websocket(authority: &str, extra: &str) -> (std::net::TcpStream, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "GET /openai/v1/responses HTTP/1.1\r\nHost: {authority}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Extensions: permessage-deflate\r\n{extra}\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut received = Vec::new();
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "no 101 head");
        received.push(byte[0]);
    }
    let answer = String::from_utf8_lossy(&received).to_lowercase();
    assert!(answer.starts_with("http/1.1 101"), "{answer}");
    (stream, answer)
}

/// One masked, final text frame (RFC 6455 §5.2) as a client sends it; RSV1 set when
/// `compressed` (permessage-deflate's mark).
fn client_frame(payload: &[u8], compressed: bool) -> Vec<u8> {
    let key = [0x12, 0x34, 0x56, 0x78];
    let first = if compressed { 0xC1 } else { 0x81 };
    let mut frame = vec![first, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

/// Upstream's WebSocket dies in the middle of a response (three events sent, then the
/// connection drops, no close frame): the client gets exactly the bytes upstream sent and then
/// the end of the connection; the call is recorded with the break, nothing it read lost.
#[test]
fn upstream_cutting_a_websocket_mid_response_reaches_the_client_byte_for_byte() {
    use std::io::{Read, Write};
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let proxy =
        crate::client::ProxyProcess::start(&trace_path, &["--openai-upstream", &mock.url()]);
    let (mut stream, answer) =
        open_websocket(proxy.authority(), "x-mock-fault: reset-mid-stream:3\r\n");
    // upstream's accept for the key of RFC 6455 §1.3, and its extension answer, passed on.
    assert!(
        answer.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{answer}"
    );
    assert!(
        answer.contains("sec-websocket-extensions: permessage-deflate"),
        "{answer}"
    );
    let request = br#"{"type":"response.create","model":"gpt-test","input":"hi","stream":true}"#;
    stream.write_all(&client_frame(request, false)).unwrap();
    let mut frames = Vec::new();
    stream.read_to_end(&mut frames).unwrap();
    drop(stream);

    let records = mock.records();
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record.method, "GET");
    assert_eq!(record.usage, None, "cut before response.completed");
    assert_eq!(frames.len() as u64, record.body_bytes);
    assert_eq!(crate::client::fnv1a64(&frames), record.body_fnv1a64);
    proxy.stop();
    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    assert_eq!(trace.calls.len(), 2, "{:?}", trace.calls);
    let upgrade = trace.calls.iter().find(|c| !c.is_model_call()).unwrap();
    assert_eq!(upgrade.status, Some(101));
    assert!(upgrade.error.is_none(), "{upgrade:?}");
    assert_eq!(upgrade.client_bytes, Some(record.body_bytes));
    let call = trace.calls.iter().find(|c| c.is_model_call()).unwrap();
    assert_eq!(call.via_websocket, Some(upgrade.id));
    assert_eq!(call.response_id, record.response_id);
    assert_eq!(call.usage, None);
    assert_eq!(call.response_bytes, record.body_bytes);
    assert_eq!(call.client_bytes, Some(record.body_bytes));
    let error = call.error.as_ref().unwrap();
    assert_eq!(error.kind, CallErrorKind::UpstreamBody, "{error:?}");
    assert!(error.message.contains("closed the WebSocket"), "{error:?}");
    assert_eq!(error.all_delivered, Some(true));
}

/// A client frame agentprof cannot read (compressed, but not deflate): agentprof stops reading
/// that connection and says so in the trace, keeps what it had recorded, and passes the bytes
/// on untouched — upstream gets the frame (and, unable to read it either, ends the connection).
#[test]
fn a_websocket_frame_agentprof_cannot_read_passes_through_and_the_trace_says_so() {
    use std::io::{Read, Write};
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let proxy =
        crate::client::ProxyProcess::start(&trace_path, &["--openai-upstream", &mock.url()]);
    let (mut stream, answer) = open_websocket(proxy.authority(), "");
    assert!(answer.contains("sec-websocket-extensions: permessage-deflate"));
    // One good call first, answered whole.
    let request = br#"{"type":"response.create","model":"gpt-test","input":"hi","stream":true}"#;
    stream.write_all(&client_frame(request, false)).unwrap();
    let mut answered = Vec::new();
    let mut buf = [0u8; 65536];
    while mock
        .records()
        .first()
        .is_none_or(|r| answered.len() as u64 != r.body_bytes)
    {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "connection ended before the first answer");
        answered.extend_from_slice(&buf[..n]);
    }
    // Then a frame that says it is compressed but is no deflate stream.
    stream
        .write_all(&client_frame(b"\xff\xfe\xfd not deflate at all", true))
        .unwrap();
    // Upstream got it and ended the connection: the client sees the end, nothing else.
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    drop(stream);

    let records = mock.records();
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert!(record.usage.is_some());
    assert_eq!(crate::client::fnv1a64(&answered), record.body_fnv1a64);
    proxy.stop();
    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    // The first call kept as it was read, exact.
    let call = trace.calls.iter().find(|c| c.is_model_call()).unwrap();
    assert_eq!(call.usage, record.usage);
    assert!(call.error.is_none(), "{call:?}");
    // The connection's own record says why reading stopped, and that the bytes went on.
    let upgrade = trace.calls.iter().find(|c| !c.is_model_call()).unwrap();
    let error = upgrade
        .error
        .as_ref()
        .expect("the upgrade record names the failure");
    assert_eq!(error.kind, CallErrorKind::Unreadable, "{error:?}");
    assert!(
        error
            .message
            .contains("cannot read the client's WebSocket frames")
            && error.message.contains("its bytes went on untouched"),
        "{error:?}"
    );
}
