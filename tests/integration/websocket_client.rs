//! A real WebSocket client other than Codex — Python's `websockets`, offering
//! permessage-deflate — through `agentprof proxy` to the mock's Responses API over WebSocket:
//! every call's frames reach the client byte for byte as the mock sent them, and the trace
//! holds each call with the usage the mock sent. Run with the mock agreeing to compression
//! (the tap inflates, keeping the window across messages) and refusing it.

use agentprof::demo::mock_upstream::MockConfig;
use agentprof::observation::ApiKind;

use crate::client::ProxyProcess;
use crate::support::{Mock, python, python_script};

const CALLS: usize = 3;

fn relay_through_the_proxy(refuse_deflate: bool) {
    let mock = Mock::start_with(MockConfig {
        refuse_websocket_deflate: refuse_deflate,
        ..MockConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let proxy = ProxyProcess::start(&trace_path, &["--openai-upstream", &mock.url()]);
    let url = format!("ws://{}/openai/v1/responses", proxy.authority());
    let output = std::process::Command::new(python())
        .arg(python_script("websocket_client.py"))
        .arg(&url)
        .arg(CALLS.to_string())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "websocket client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let client: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    proxy.stop();

    let extensions = client["extensions"].as_str();
    if refuse_deflate {
        assert_eq!(extensions, None);
    } else {
        assert_eq!(extensions, Some("permessage-deflate"), "{client}");
    }
    let records = mock.records();
    assert_eq!(records.len(), CALLS, "{records:?}");
    let trace = agentprof::output::trace::read_trace(&trace_path).unwrap();
    let upgrade = trace.calls.iter().find(|c| !c.is_model_call()).unwrap();
    assert_eq!(upgrade.status, Some(101));
    assert!(upgrade.error.is_none(), "{upgrade:?}");
    let calls: Vec<_> = trace.calls.iter().filter(|c| c.is_model_call()).collect();
    assert_eq!(calls.len(), CALLS);
    for (got, record) in client["calls"].as_array().unwrap().iter().zip(&records) {
        // The client received exactly the frames the mock sent for this call.
        assert_eq!(got["response_id"].as_str(), record.response_id.as_deref());
        assert_eq!(got["bytes"].as_u64(), Some(record.body_bytes));
        assert_eq!(got["fnv1a64"].as_str(), Some(record.body_fnv1a64.as_str()));
        let call = calls
            .iter()
            .find(|c| c.response_id == record.response_id)
            .unwrap_or_else(|| panic!("no trace record for {:?}", record.response_id));
        assert_eq!(call.usage, record.usage);
        assert!(call.usage.is_some_and(|u| u.output_tokens > 0));
        assert!(call.error.is_none(), "{call:?}");
        assert_eq!(call.api, ApiKind::Responses);
        assert_eq!(call.model.as_deref(), Some("gpt-test"));
        assert_eq!(call.via_websocket, Some(upgrade.id));
        assert_eq!(call.response_bytes, record.body_bytes);
        assert_eq!(call.client_bytes, Some(record.body_bytes));
        // Identity from the message's client_metadata (`session_id` read as `session-id`).
        assert_eq!(call.session_id.as_deref(), Some("ws-session-1"));
    }
    // The key went upstream on the upgrade and nowhere into the trace.
    let text = std::fs::read_to_string(&trace_path).unwrap();
    assert!(!text.contains("SECRETKEY"));
}

#[test]
fn a_websocket_client_gets_every_frame_and_the_trace_every_call_with_deflate() {
    relay_through_the_proxy(false);
}

#[test]
fn a_websocket_client_gets_every_frame_and_the_trace_every_call_without_deflate() {
    relay_through_the_proxy(true);
}
