//! Every `x-mock-fault` mode, and the records the mock keeps.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::openai::chat;
use super::*;

#[tokio::test]
async fn status_faults() {
    let mock = start(MockConfig::default()).await;
    let body = request(json!([user("x")]), true);
    for (fault, status, kind) in [
        ("status:529", 529, "overloaded_error"),
        ("status:429", 429, "rate_limit_error"),
        ("status:500", 500, "api_error"),
    ] {
        let mut h = ANTHROPIC.to_vec();
        h.push(("x-mock-fault", fault));
        let got = send(&mock, "POST", "/v1/messages", &h, Some(&body))
            .await
            .unwrap();
        assert_eq!(got.status, status);
        assert_eq!(got.json()["error"]["type"], kind);
        assert_eq!(got.headers.contains_key("retry-after"), status == 429);
    }
    let got = send(
        &mock,
        "POST",
        "/v1/chat/completions",
        &[("x-mock-fault", "status:429")],
        Some(&chat(true, None)),
    )
    .await
    .unwrap();
    assert_eq!(got.json()["error"]["code"], "rate_limit_exceeded");
    let bad = send(
        &mock,
        "POST",
        "/v1/messages",
        &[("x-mock-fault", "nonsense")],
        Some(&body),
    )
    .await
    .unwrap();
    assert_eq!(bad.status, 400);
    let recs = mock.records();
    assert_eq!(recs[0].status, Some(529));
    assert_eq!(recs[0].usage, None);
    assert_eq!(recs[0].fault.as_deref(), Some("status:529"));
}

#[tokio::test]
async fn reset_faults() {
    let mock = start(MockConfig::default()).await;
    let body = request(json!([user("x")]), true);
    let err = send(
        &mock,
        "POST",
        "/v1/messages",
        &[("x-mock-fault", "reset-before-headers")],
        Some(&body),
    )
    .await;
    assert!(err.is_err(), "no response at all");
    let got = send(
        &mock,
        "POST",
        "/v1/messages",
        &[("x-mock-fault", "reset-mid-stream:3")],
        Some(&body),
    )
    .await
    .unwrap();
    assert_eq!(got.status, 200);
    assert!(got.broken, "body must end in an error");
    assert_eq!(
        got.names(),
        ["message_start", "content_block_start", "ping"]
    );
    let recs = mock.records();
    assert_eq!(recs[0].status, None);
    // Cut before message_delta: the record holds message_start's usage (output 1).
    assert_eq!(recs[1].usage.map(|u| u.output_tokens), Some(1));
    let plain = send(
        &mock,
        "POST",
        "/v1/messages",
        &[("x-mock-fault", "reset-mid-stream:1")],
        Some(&request(json!([user("x")]), false)),
    )
    .await
    .unwrap();
    assert!(plain.broken && !plain.body.is_empty());
}

#[tokio::test]
async fn stream_content_faults() {
    let mock = start(MockConfig::default()).await;
    let body = request(json!([user("x")]), true);
    let err = send(
        &mock,
        "POST",
        "/v1/messages",
        &[("x-mock-fault", "error-event")],
        Some(&body),
    )
    .await
    .unwrap();
    assert_eq!(err.names(), ["message_start", "error"]);
    assert!(!err.broken);
    assert_eq!(
        serde_json::from_str::<Value>(&err.events()[1].data).unwrap()["error"]["type"],
        "overloaded_error"
    );

    let bad = send(
        &mock,
        "POST",
        "/v1/messages",
        &[("x-mock-fault", "malformed-sse")],
        Some(&body),
    )
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&bad.body).to_string();
    assert!(text.contains("this line is not an sse field"));
    let names = bad.names();
    assert_eq!(&names[names.len() - 2..], ["message_delta", "message_stop"]);
    let unparsable = bad
        .events()
        .iter()
        .filter(|e| serde_json::from_str::<Value>(&e.data).is_err())
        .count();
    assert!(unparsable >= 2);
    assert!(mock.records()[1].usage.unwrap().output_tokens > 1);

    let started = Instant::now();
    let slow = send(
        &mock,
        "POST",
        "/v1/messages",
        &[("x-mock-fault", "slow:20")],
        Some(&body),
    )
    .await
    .unwrap();
    let gaps = slow.events().len() as u32 - 1;
    assert!(started.elapsed() >= Duration::from_millis(20) * gaps);
    assert_eq!(
        slow.names().last().map(String::as_str),
        Some("message_stop")
    );
}

#[tokio::test]
async fn records_carry_headers_and_are_served() {
    let dir = std::env::temp_dir().join(format!("mock-rec-{}", std::process::id()));
    let mock = start(MockConfig {
        record_path: Some(dir.clone()),
        ..Default::default()
    })
    .await;
    let h = [
        ("x-agentprof-truth-category", "dream"),
        ("x-claude-code-session-id", "s-1"),
        ("x-claude-code-agent-id", "a-1"),
    ];
    send(
        &mock,
        "POST",
        "/v1/messages?beta=true",
        &h,
        Some(&request(json!([user("x")]), true)),
    )
    .await
    .unwrap();
    let served = send(&mock, "GET", "/__mock/records", &[], None)
        .await
        .unwrap()
        .json();
    let recs: Vec<MockRecord> = serde_json::from_value(served).unwrap();
    assert_eq!(recs, mock.records());
    let r = &recs[0];
    assert_eq!(
        (
            r.truth_category.as_deref(),
            r.session_id.as_deref(),
            r.agent_id.as_deref()
        ),
        (Some("dream"), Some("s-1"), Some("a-1"))
    );
    assert_eq!(r.path, "/v1/messages?beta=true");
    assert!(r.stream);
    let line = std::fs::read_to_string(&dir).unwrap();
    assert_eq!(serde_json::from_str::<MockRecord>(line.trim()).unwrap(), *r);
    let _ = std::fs::remove_file(dir);
    mock.shutdown().await;
}
