//! The mock's lean mode for benchmarks (`mock-upstream --canned`): every `POST` is answered
//! with one fixed, realistic Anthropic stream, and nothing is parsed, hashed or recorded.
//!
//! The normal mock parses every request into a `serde_json::Value` and keeps a prompt cache —
//! on a 2 MB request that costs more than the proxy being measured, so a benchmark would
//! measure the mock. Here the request body is read frame by frame and dropped (so the upstream
//! still takes the whole body, as a real API does) and the answer is a list of pre-built frames
//! shared by reference: the upstream costs as little as hyper itself.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::json;

use super::anthropic::usage_json;
use super::body::MockBody;
use super::reply::sse;
use crate::observation::Usage;

/// The usage every canned answer reports: what a benchmark checks the trace against.
pub const CANNED_USAGE: Usage = Usage {
    input_tokens: 3,
    output_tokens: 312,
    cache_creation_input_tokens: 1_204,
    cache_read_input_tokens: 10_850,
    cache_creation_5m_input_tokens: 1_204,
    cache_creation_1h_input_tokens: 0,
    reasoning_output_tokens: 0,
    tool_use_input_tokens: 0,
};

/// The model the canned answer names.
pub const CANNED_MODEL: &str = "claude-sonnet-4-5-20250929";

/// Text deltas in the answer: about 12 KB of stream, a short answer of a coding turn.
const DELTAS: usize = 60;

/// The frames of the canned answer, one SSE event each (as the real API writes them).
pub(crate) fn canned_stream() -> Vec<Bytes> {
    let usage = |output_tokens: u64| {
        usage_json(&Usage {
            output_tokens,
            ..CANNED_USAGE
        })
    };
    let mut out = vec![
        sse(
            Some("message_start"),
            &json!({"type": "message_start", "message": {
                "id": "msg_01BenchCannedAnswer0000001", "type": "message", "role": "assistant",
                "model": CANNED_MODEL, "content": [], "stop_reason": null,
                "stop_sequence": null, "usage": usage(1)}}),
        ),
        sse(
            Some("content_block_start"),
            &json!({"type": "content_block_start", "index": 0,
                    "content_block": {"type": "text", "text": ""}}),
        ),
        sse(Some("ping"), &json!({"type": "ping"})),
    ];
    for i in 0..DELTAS {
        let text = format!(
            "Line {i}: the failing test reads `config.toml` before the fixture writes it, so "
        );
        out.push(sse(
            Some("content_block_delta"),
            &json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": text}}),
        ));
    }
    out.push(sse(
        Some("content_block_stop"),
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    out.push(sse(
        Some("message_delta"),
        &json!({"type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                "usage": {
                    "input_tokens": CANNED_USAGE.input_tokens,
                    "cache_creation_input_tokens": CANNED_USAGE.cache_creation_input_tokens,
                    "cache_read_input_tokens": CANNED_USAGE.cache_read_input_tokens,
                    "output_tokens": CANNED_USAGE.output_tokens}}),
    ));
    out.push(sse(Some("message_stop"), &json!({"type": "message_stop"})));
    out
}

/// Reads the request body to its end without keeping it, then answers with `stream`.
pub(crate) async fn answer(
    mut body: Incoming,
    stream: &[Bytes],
) -> Result<Response<MockBody>, std::io::Error> {
    while let Some(frame) = body.frame().await {
        frame.map_err(std::io::Error::other)?;
    }
    let mut resp = Response::new(MockBody::chunks(stream.to_vec(), None, false));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        "request-id",
        HeaderValue::from_static("req_01BenchCannedAnswer000001"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::usage::StreamUsageParser;
    use crate::observation::ApiKind;

    #[test]
    fn the_canned_stream_parses_to_its_usage() {
        let mut parser = StreamUsageParser::new(ApiKind::Messages);
        let stream = canned_stream();
        let len: usize = stream.iter().map(Bytes::len).sum();
        for frame in &stream {
            parser.feed(frame);
        }
        let summary = parser.finish();
        assert!(summary.is_complete(), "{summary:?}");
        assert_eq!(summary.usage, Some(CANNED_USAGE));
        assert_eq!(summary.model.as_deref(), Some(CANNED_MODEL));
        assert!((8_000..16_000).contains(&len), "{len} bytes");
    }
}
