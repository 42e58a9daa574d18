//! Tests of the mock over real HTTP: formats, caching, usage, scripts (`formats`, `openai`),
//! faults and records (`faults`). Helpers here send raw requests and keep broken bodies visible.

mod faults;
mod formats;
mod gemini;
mod gemini_answers;
mod openai;

use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use super::*;
use crate::demo::sse::{SseEvent, SseParser};

pub(super) struct Got {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
    /// The body ended in an error (aborted connection) rather than cleanly.
    pub(super) broken: bool,
}

impl Got {
    pub(super) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub(super) fn events(&self) -> Vec<SseEvent> {
        SseParser::new().push(&self.body)
    }
    pub(super) fn names(&self) -> Vec<String> {
        self.events().into_iter().filter_map(|e| e.event).collect()
    }
}

pub(super) async fn start(config: MockConfig) -> MockUpstream {
    MockUpstream::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap()
}

pub(super) async fn send(
    mock: &MockUpstream,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Result<Got, String> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut req = Request::builder()
        .method(method)
        .uri(format!("{}{path}", mock.base_url()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let resp = client
        .request(req.body(Full::new(bytes)).unwrap())
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut body = resp.into_body();
    let mut out = Vec::new();
    let mut broken = false;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => out.extend_from_slice(f.data_ref().map(|d| &d[..]).unwrap_or_default()),
            Err(_) => {
                broken = true;
                break;
            }
        }
    }
    Ok(Got {
        status,
        headers,
        body: out,
        broken,
    })
}

pub(super) const ANTHROPIC: [(&str, &str); 2] = [
    ("anthropic-version", "2023-06-01"),
    ("content-type", "application/json"),
];

pub(super) fn request(messages: Value, stream: bool) -> Value {
    json!({
        "model": "claude-sonnet-4-6", "max_tokens": 4096, "stream": stream,
        "system": [{"type": "text", "text": "S".repeat(4000), "cache_control": {"type": "ephemeral"}}],
        "tools": [{"name": "Read", "description": "read a file", "input_schema": {"type": "object"}}],
        "messages": messages,
    })
}

pub(super) fn user(text: &str) -> Value {
    json!({"role": "user", "content": [{"type": "text", "text": text}]})
}

pub(super) fn usage_of(mock: &MockUpstream, seq: u64) -> crate::observation::Usage {
    mock.records()
        .into_iter()
        .find(|r| r.seq == seq)
        .and_then(|r| r.usage)
        .unwrap()
}
