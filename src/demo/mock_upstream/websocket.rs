//! The Responses API over WebSocket (`GET /v1/responses` with `Upgrade: websocket`), as Codex
//! speaks it: each client message `{"type":"response.create", …}` is a Responses request body;
//! the answer is the events the HTTP stream would carry (built by the same `responses`), each
//! event's data as one text message. permessage-deflate is negotiated when the client offers
//! it (unless the mock is told to refuse it), so clients and the proxy read compressed
//! messages as they would from the real API.
//!
//! Each call is recorded as an SSE call is, with method `GET` (the upgrade's) and the path
//! the upgrade asked for; its `response_id` is what a test joins to the proxy's trace (the
//! messages carry no request id). `body_bytes` / `body_fnv1a64` are over the call's frames as
//! sent on the wire. `x-mock-fault` on the upgrade applies to every call on the connection:
//! `status:N` refuses the upgrade with N, `reset-mid-stream:N` sends N events of the first
//! call, then drops the connection.
//!
//! `generate: false` (a prewarm: the request is sent only to set up the conversation) is
//! answered `response.created` and `response.completed` with no output and zero usage.

use std::sync::Arc;

use base64::Engine;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::body::MockBody;
use super::faults::{Fault, deliver};
use super::record::{MockRecord, body_fnv1a64};
use super::reply::{Env, Ids};
use super::server::{Shared, State, header_str, path_and_query};
use crate::capture::proxy::websocket::deflate::{Deflater, Inflater};
use crate::capture::proxy::websocket::frames::{Opcode, Sender, encode};
use crate::capture::proxy::websocket::message::{Item, MessageReader};
use crate::demo::det;
use crate::observation::{Provider, Usage};

/// RFC 6455 §1.3: the key is hashed with this to accept it.
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// What the connection agreed on.
#[derive(Debug, Clone, Copy, Default)]
struct Deflate {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
}

/// Answers an upgrade request: `101` and a session on the upgraded connection, or an error.
pub(crate) fn upgrade(
    shared: Arc<Shared>,
    parts: &http::request::Parts,
    client: OnUpgrade,
) -> Response<MockBody> {
    let fault_raw = header_str(&parts.headers, "x-mock-fault");
    let fault = fault_raw.as_deref().map(Fault::parse).transpose();
    let refuse = |status: StatusCode, message: &str| {
        let body = super::openai::error_body("invalid_request_error", None, message);
        let body = Bytes::from(super::wire::to_wire(&body));
        record_upgrade(&shared, parts, status, fault_raw.clone(), &body);
        let mut resp = Response::new(MockBody::full(body));
        *resp.status_mut() = status;
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        resp
    };
    if shared.refuse_websocket {
        return refuse(
            StatusCode::UPGRADE_REQUIRED,
            "WebSocket is not offered here; use HTTP streaming",
        );
    }
    let fault = match fault {
        Err(message) => return refuse(StatusCode::BAD_REQUEST, &message),
        Ok(Some(Fault::Status(code))) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
            return refuse(status, "Injected refusal of the WebSocket upgrade");
        }
        Ok(fault) => fault,
    };
    let Some(key) = parts.headers.get("sec-websocket-key") else {
        return refuse(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key");
    };
    let accept = {
        let mut input = key.as_bytes().to_vec();
        input.extend_from_slice(ACCEPT_GUID.as_bytes());
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    };
    let deflate = if shared.refuse_websocket_deflate {
        None
    } else {
        negotiate(&parts.headers)
    };
    let mut resp = Response::new(MockBody::full(Bytes::new()));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert("sec-websocket-accept", v);
    }
    if let Some(d) = deflate {
        let mut value = "permessage-deflate".to_string();
        if d.server_no_context_takeover {
            value.push_str("; server_no_context_takeover");
        }
        if d.client_no_context_takeover {
            value.push_str("; client_no_context_takeover");
        }
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert("sec-websocket-extensions", v);
        }
    }
    let path = path_and_query(parts);
    let session = Session {
        shared: shared.clone(),
        path,
        fault,
        fault_raw,
        deflate,
    };
    let task = tokio::spawn(async move {
        match client.await {
            Ok(io) => session.run(TokioIo::new(io)).await,
            Err(e) => tracing::debug!("mock: WebSocket upgrade failed: {e}"),
        }
    });
    shared.track_session(task.abort_handle());
    resp
}

/// The client's permessage-deflate offer, if one is acceptable: the first offer that does not
/// ask for a smaller server window (the mock always compresses with the full one).
fn negotiate(headers: &HeaderMap) -> Option<Deflate> {
    let offers = headers
        .get_all("sec-websocket-extensions")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    for offer in offers {
        let mut params = offer.split(';').map(str::trim);
        if params.next() != Some("permessage-deflate") {
            continue;
        }
        let mut d = Deflate::default();
        let mut acceptable = true;
        for p in params {
            let (key, value) = p.split_once('=').map_or((p, None), |(k, v)| (k, Some(v)));
            match key.trim() {
                "server_no_context_takeover" => d.server_no_context_takeover = true,
                "client_no_context_takeover" => d.client_no_context_takeover = true,
                "client_max_window_bits" => {}
                "server_max_window_bits" => {
                    acceptable &= value.map(|v| v.trim().trim_matches('"')) == Some("15");
                }
                _ => acceptable = false,
            }
        }
        if acceptable {
            return Some(d);
        }
    }
    None
}

/// One upgraded connection.
struct Session {
    shared: Arc<Shared>,
    path: String,
    fault: Option<Fault>,
    fault_raw: Option<String>,
    deflate: Option<Deflate>,
}

impl Session {
    async fn run<T: AsyncRead + AsyncWrite + Unpin>(self, mut io: T) {
        let inflater = self
            .deflate
            .map(|d| Inflater::new(d.client_no_context_takeover));
        let mut deflater = self
            .deflate
            .map(|d| Deflater::new(d.server_no_context_takeover));
        let mut reader = MessageReader::new(Sender::Client, inflater);
        let mut buf = BytesMut::with_capacity(64 << 10);
        loop {
            buf.clear();
            match io.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => reader.feed(&buf),
            }
            loop {
                let item = match reader.next_item() {
                    Ok(Some(item)) => item,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::debug!("mock: bad WebSocket frames from the client: {e}");
                        return;
                    }
                };
                match item {
                    Item::Close => {
                        // Answer the close, then end the connection (RFC 6455 §5.5.1).
                        let _ = io
                            .write_all(&encode(Opcode::Close, true, false, &[0x03, 0xe8], None))
                            .await;
                        let _ = io.shutdown().await;
                        return;
                    }
                    Item::Message(m) if m.opcode == Opcode::Text => {
                        let Some(answer) = self.answer(&m.payload, deflater.as_mut()) else {
                            continue;
                        };
                        if let Some(delay) = answer.delay {
                            tokio::time::sleep(delay).await;
                        }
                        for frame in answer.frames {
                            if io.write_all(&frame).await.is_err() {
                                return;
                            }
                            let _ = io.flush().await;
                        }
                        if answer.abort {
                            // The connection dies mid-response, without a close frame.
                            return;
                        }
                    }
                    Item::Message(_) => {}
                }
            }
        }
    }

    /// The answer to one client message; `None` for a message that asks nothing.
    fn answer(&self, payload: &[u8], deflater: Option<&mut Deflater>) -> Option<Answer> {
        let req: Value = serde_json::from_slice(payload).ok()?;
        if req.get("type").and_then(Value::as_str) != Some("response.create") {
            return None;
        }
        let prewarm = req.get("generate").and_then(Value::as_bool) == Some(false);
        let mut state = self.shared.lock();
        state.seq += 1;
        let seq = state.seq;
        let ids = Ids {
            seq,
            hash: det::hash(payload),
        };
        let (reply, delay) = {
            let State { cache, .. } = &mut *state;
            let headers = HeaderMap::new();
            let mut env = Env {
                seq,
                now: self.shared.clock.now(),
                cache,
                script: self.shared.script.as_ref(),
                headers: &headers,
                delay: None,
            };
            let reply = super::responses::responses(&req, true, &mut env);
            (reply, env.delay)
        };
        let response_id = reply.response_id.clone();
        let delivery = deliver(reply, self.fault, Provider::OpenAi);
        let mut events: Vec<Value> = delivery
            .chunks
            .iter()
            .filter_map(|chunk| sse_data(chunk))
            .collect();
        let mut usage = delivery.usage;
        if delivery.status != StatusCode::OK {
            // A refused request: the API's `error` event, with the status it would have had.
            let body = events.pop().unwrap_or(Value::Null);
            events = vec![json!({"type": "error", "status": delivery.status.as_u16(),
                                 "error": body.get("error").cloned().unwrap_or(body)})];
        } else if prewarm {
            events = prewarm_events(&events);
            usage = Some(Usage::default());
        }
        let mut deflater = deflater;
        let frames: Vec<Vec<u8>> = events
            .iter()
            .map(|event| {
                let text = super::wire::to_wire(event);
                match deflater.as_deref_mut() {
                    Some(d) => encode(Opcode::Text, true, true, &d.deflate(text.as_bytes()), None),
                    None => encode(Opcode::Text, true, false, text.as_bytes(), None),
                }
            })
            .collect();
        let sent: Vec<Bytes> = frames.iter().map(|f| Bytes::copy_from_slice(f)).collect();
        let record = MockRecord {
            seq,
            provider: Provider::OpenAi.as_str().to_string(),
            method: "GET".to_string(),
            path: self.path.clone(),
            model: req.get("model").and_then(Value::as_str).map(str::to_string),
            stream: true,
            status: Some(delivery.status.as_u16()),
            usage,
            request_id: ids.request(),
            response_id,
            truth_category: None,
            session_id: None,
            agent_id: None,
            fault: self.fault_raw.clone(),
            tools: req
                .get("tools")
                .and_then(Value::as_array)
                .map_or(0, |t| t.len() as u32),
            compaction: super::responses::asks_compaction(&req),
            body_bytes: sent.iter().map(|f| f.len() as u64).sum(),
            body_fnv1a64: body_fnv1a64(&sent),
        };
        state.log.push(record);
        Some(Answer {
            frames,
            abort: delivery.abort,
            delay,
        })
    }
}

/// The frames answering one client message.
struct Answer {
    frames: Vec<Vec<u8>>,
    /// Drop the connection after them (a fault).
    abort: bool,
    /// A scripted wait before the first of them.
    delay: Option<std::time::Duration>,
}

/// The `data:` of one SSE event, as JSON.
fn sse_data(chunk: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(chunk).ok()?;
    let data: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| d.strip_prefix(' ').unwrap_or(d))
        .collect();
    if data.is_empty() {
        // A non-streaming body (an error reply) is the JSON itself.
        return serde_json::from_str(text).ok();
    }
    serde_json::from_str(&data.join("\n")).ok()
}

/// A prewarm's answer: the stream's first and last events, with no output and zero usage.
fn prewarm_events(events: &[Value]) -> Vec<Value> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Vec::new();
    };
    let mut last = last.clone();
    if let Some(response) = last.get_mut("response").and_then(Value::as_object_mut) {
        response.insert("output".into(), json!([]));
        response.insert(
            "usage".into(),
            json!({"input_tokens": 0, "input_tokens_details": {"cached_tokens": 0},
                   "output_tokens": 0, "output_tokens_details": {"reasoning_tokens": 0},
                   "total_tokens": 0}),
        );
    }
    if let Some(seq) = last.get_mut("sequence_number") {
        *seq = json!(1);
    }
    vec![first.clone(), last]
}

/// Records an upgrade that was refused, like any request the mock answered.
fn record_upgrade(
    shared: &Shared,
    parts: &http::request::Parts,
    status: StatusCode,
    fault: Option<String>,
    body: &Bytes,
) {
    let mut state = shared.lock();
    state.seq += 1;
    let record = MockRecord {
        fault,
        body_bytes: body.len() as u64,
        body_fnv1a64: body_fnv1a64(std::slice::from_ref(body)),
        ..MockRecord::without_reply(state.seq, Provider::OpenAi.as_str(), parts, status)
    };
    state.log.push(record);
}
