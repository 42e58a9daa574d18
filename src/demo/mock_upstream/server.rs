//! The mock's HTTP server: accept loop, routing, and turning replies into hyper responses.
//! Everything that decides *what* to answer lives in the provider modules; this file only moves
//! bytes and keeps the shared state (arrival counter, prompt cache, records) consistent.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::body::MockBody;
use super::cache::{Clock, PromptCache};
use super::faults::{Delivery, Fault, deliver, status_reply};
use super::record::{MockRecord, RecordLog};
use super::reply::{Env, Ids, Reply};
use super::script::Script;
use super::{anthropic, gemini, openai, responses};
use crate::capture::request::coding::{RequestCoding, decode_zstd};
use crate::demo::det;
use crate::observation::Provider;

pub(crate) struct Shared {
    /// Never agree to permessage-deflate on a WebSocket.
    pub(crate) refuse_websocket_deflate: bool,
    /// Answer WebSocket upgrades 426.
    pub(crate) refuse_websocket: bool,
    /// The WebSocket sessions still running, ended with the mock.
    pub(crate) sessions: Mutex<Vec<tokio::task::AbortHandle>>,
    /// The fixed answer of the lean benchmark mode, when on.
    pub(crate) canned: Option<Vec<Bytes>>,
    pub(crate) script: Option<Script>,
    pub(crate) clock: Clock,
    pub(crate) state: Mutex<State>,
}

pub(crate) struct State {
    pub(crate) seq: u64,
    pub(crate) cache: PromptCache,
    pub(crate) log: RecordLog,
}

impl Shared {
    /// The state lock; a panic elsewhere must not take the mock down with it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps a WebSocket session's task, to end it with the mock.
    pub(crate) fn track_session(&self, task: tokio::task::AbortHandle) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|s| !s.is_finished());
        sessions.push(task);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Messages,
    CountTokens,
    AnthropicModels,
    OpenAiModels,
    ChatCompletions,
    Responses,
    ResponsesCompact,
    /// `…/models/{model}:{method}`; the model is read from the path again when answering.
    Gemini(gemini::Method),
}

impl Endpoint {
    fn provider(self) -> Provider {
        match self {
            Endpoint::Messages | Endpoint::CountTokens | Endpoint::AnthropicModels => {
                Provider::Anthropic
            }
            Endpoint::Gemini(_) => Provider::Gemini,
            _ => Provider::OpenAi,
        }
    }
}

enum Route {
    Records,
    /// Claude Code's connectivity probes — `HEAD /api/hello` (2.1.328 and later), `HEAD /`
    /// (earlier) — answered 200 with no body: the mock stands for an API that is up. Recorded
    /// like every request, with no usage.
    Hello,
    Api(Endpoint),
    /// The Responses API over WebSocket (`websocket`).
    ResponsesWebSocket,
    NotFound,
}

fn route(method: &Method, path: &str, headers: &HeaderMap) -> Route {
    let upgrade = headers
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    match (method.as_str(), path) {
        ("GET", "/v1/responses") if upgrade => Route::ResponsesWebSocket,
        ("GET", "/__mock/records") => Route::Records,
        ("HEAD" | "GET", "/api/hello") | ("HEAD", "/") => Route::Hello,
        ("POST", "/v1/messages") => Route::Api(Endpoint::Messages),
        ("POST", "/v1/messages/count_tokens") => Route::Api(Endpoint::CountTokens),
        // Both APIs list models at the same path; Anthropic clients always send a version.
        ("GET", "/v1/models") if headers.contains_key("anthropic-version") => {
            Route::Api(Endpoint::AnthropicModels)
        }
        ("GET", "/v1/models") => Route::Api(Endpoint::OpenAiModels),
        ("POST", "/v1/chat/completions") => Route::Api(Endpoint::ChatCompletions),
        ("POST", "/v1/responses") => Route::Api(Endpoint::Responses),
        ("POST", "/v1/responses/compact") => Route::Api(Endpoint::ResponsesCompact),
        // Gemini's paths end in `/models/{model}:{method}` under any prefix: no other API's do.
        ("POST", _) => match gemini::parse_path(path) {
            Some((_, method)) => Route::Api(Endpoint::Gemini(method)),
            None => Route::NotFound,
        },
        _ => Route::NotFound,
    }
}

/// Serves until `shutdown` fires; then drops every open connection.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Streams are many small writes; Nagle would batch and delay them.
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!("mock: TCP_NODELAY failed: {e}");
                    }
                    let shared = shared.clone();
                    conns.spawn(async move {
                        let svc = service_fn(move |req| handle(shared.clone(), req));
                        if let Err(e) = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .with_upgrades()
                            .await
                        {
                            tracing::debug!("mock: connection ended: {e}");
                        }
                    });
                }
                Err(e) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!("mock: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.shutdown().await;
    let sessions = std::mem::take(&mut *shared.sessions.lock().unwrap_or_else(|p| p.into_inner()));
    for session in sessions {
        session.abort();
    }
}

pub(crate) fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn json_response(status: StatusCode, body: &Value) -> Response<MockBody> {
    let mut resp = Response::new(MockBody::full(super::wire::to_wire(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// One request. An `Err` makes hyper close the connection without answering.
async fn handle(
    shared: Arc<Shared>,
    mut req: Request<Incoming>,
) -> Result<Response<MockBody>, io::Error> {
    let upgrade = hyper::upgrade::on(&mut req);
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let endpoint = match route(&parts.method, &path, &parts.headers) {
        Route::Records => {
            // Records serialize in their struct's field order, not the wire ranking.
            let records = shared.lock().log.all();
            let body = serde_json::to_string(&records).map_err(io::Error::other)?;
            let mut resp = Response::new(MockBody::full(body));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Ok(resp);
        }
        Route::Hello => {
            record_unrouted(&shared, &parts, StatusCode::OK);
            return Ok(Response::new(MockBody::full(Bytes::new())));
        }
        Route::NotFound => {
            record_unrouted(&shared, &parts, StatusCode::NOT_FOUND);
            let body = anthropic::error_body(
                "not_found_error",
                &format!("{} {path} not found", parts.method),
            );
            return Ok(json_response(StatusCode::NOT_FOUND, &body));
        }
        Route::ResponsesWebSocket => {
            return Ok(super::websocket::upgrade(shared.clone(), &parts, upgrade));
        }
        Route::Api(_) if parts.method == Method::POST && shared.canned.is_some() => {
            let stream = shared.canned.as_deref().unwrap_or_default();
            return super::canned::answer(body, stream).await;
        }
        Route::Api(e) => e,
    };
    let bytes: Bytes = body.collect().await.map_err(io::Error::other)?.to_bytes();
    let provider = endpoint.provider();
    // The ChatGPT backend takes zstd bodies (Codex sends them with a ChatGPT login).
    let json: Option<Value> = match RequestCoding::of(&parts.headers) {
        RequestCoding::Zstd => decode_zstd(&bytes, 64 << 20)
            .ok()
            .and_then(|decoded| serde_json::from_slice(&decoded).ok()),
        _ => serde_json::from_slice(&bytes).ok(),
    };
    let fault_raw = header_str(&parts.headers, "x-mock-fault");

    let outcome = process(&shared, &parts, endpoint, &bytes, json, fault_raw);
    match outcome {
        Outcome::Reset => Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "mock: injected reset before headers",
        )),
        Outcome::Deliver(delivery, request_id) => {
            if let Some(pause) = delivery.pre_delay {
                tokio::time::sleep(pause).await;
            }
            Ok(respond(delivery, provider, &request_id))
        }
    }
}

/// Records a request that is no API call (a probe, an unknown path): what was asked and the
/// status sent, so the records stay one per request the mock answered.
fn record_unrouted(shared: &Shared, parts: &http::request::Parts, status: StatusCode) {
    // Which API a stray request meant is a guess: Anthropic clients always send a version
    // header, and the probe is Claude Code's.
    let anthropic =
        parts.headers.contains_key("anthropic-version") || parts.uri.path().starts_with("/api/");
    let gemini = parts.headers.contains_key("x-goog-api-key")
        || parts.headers.contains_key("x-goog-api-client");
    let provider = if anthropic {
        Provider::Anthropic
    } else if gemini {
        Provider::Gemini
    } else {
        Provider::OpenAi
    };
    let mut state = shared.lock();
    state.seq += 1;
    let record = MockRecord {
        session_id: header_str(&parts.headers, "x-claude-code-session-id"),
        ..MockRecord::without_reply(state.seq, provider.as_str(), parts, status)
    };
    state.log.push(record);
}

/// The request's path and query as received, credential-looking query values (Gemini's
/// `?key=`) masked as agentprof's proxy masks them: records never hold a secret.
pub(crate) fn path_and_query(parts: &http::request::Parts) -> String {
    let raw = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string());
    crate::capture::proxy::route::redact_query(&raw)
}

enum Outcome {
    Reset,
    Deliver(Delivery, String),
}

/// Decides the answer and records it, all under the state lock so that arrival order, cache
/// updates and records agree.
fn process(
    shared: &Shared,
    parts: &http::request::Parts,
    endpoint: Endpoint,
    bytes: &[u8],
    json: Option<Value>,
    fault_raw: Option<String>,
) -> Outcome {
    let provider = endpoint.provider();
    let gemini_path = match endpoint {
        Endpoint::Gemini(_) => gemini::parse_path(parts.uri.path()),
        _ => None,
    };
    let stream = match endpoint {
        Endpoint::Gemini(method) => method == gemini::Method::Stream,
        _ => {
            json.as_ref()
                .and_then(|j| j.get("stream"))
                .and_then(Value::as_bool)
                == Some(true)
        }
    };
    let fault = fault_raw.as_deref().map(Fault::parse).transpose();
    let mut state = shared.lock();
    state.seq += 1;
    let seq = state.seq;
    let request_id = Ids {
        seq,
        hash: det::hash(bytes),
    }
    .request();
    let mut record = MockRecord {
        seq,
        provider: provider.as_str().to_string(),
        method: parts.method.to_string(),
        path: path_and_query(parts),
        model: match &gemini_path {
            Some((model, _)) => Some(model.clone()),
            None => json
                .as_ref()
                .and_then(|j| j.get("model"))
                .and_then(Value::as_str)
                .map(str::to_string),
        },
        stream,
        status: None,
        usage: None,
        request_id: request_id.clone(),
        response_id: None,
        truth_category: header_str(&parts.headers, "x-agentprof-truth-category"),
        session_id: header_str(&parts.headers, "x-claude-code-session-id"),
        agent_id: header_str(&parts.headers, "x-claude-code-agent-id"),
        fault: fault_raw,
        tools: match (endpoint, json.as_ref()) {
            (Endpoint::Gemini(_), Some(j)) => gemini::tool_count(j),
            (_, j) => j
                .and_then(|j| j.get("tools"))
                .and_then(Value::as_array)
                .map_or(0, |t| t.len() as u32),
        },
        compaction: endpoint_asks_compaction(endpoint, json.as_ref()),
        body_bytes: 0,
        body_fnv1a64: String::new(),
    };
    let (fault, reply, delay) = match fault {
        Err(msg) => (None, bad_request(provider, &msg), None),
        Ok(Some(Fault::ResetBeforeHeaders)) => {
            state.log.push(record);
            return Outcome::Reset;
        }
        Ok(Some(Fault::Status(code))) => (
            Some(Fault::Status(code)),
            status_reply(code, provider),
            None,
        ),
        Ok(fault) => {
            let mut delay = None;
            let reply = match json {
                None if parts.method == Method::POST => {
                    bad_request(provider, "request body is not valid JSON")
                }
                json => {
                    let req = json.unwrap_or(Value::Null);
                    let State { cache, .. } = &mut *state;
                    let mut env = Env {
                        seq,
                        now: shared.clock.now(),
                        cache,
                        script: shared.script.as_ref(),
                        headers: &parts.headers,
                        delay: None,
                    };
                    let reply = match endpoint {
                        Endpoint::Messages => anthropic::messages(&req, stream, &mut env),
                        Endpoint::CountTokens => anthropic::count_tokens(&req),
                        Endpoint::AnthropicModels => anthropic::models(),
                        Endpoint::OpenAiModels => openai::models(),
                        Endpoint::ChatCompletions => {
                            openai::chat_completions(&req, stream, &mut env)
                        }
                        Endpoint::Responses => responses::responses(&req, stream, &mut env),
                        Endpoint::ResponsesCompact => responses::compact(&req, &mut env),
                        Endpoint::Gemini(method) => {
                            let model = gemini_path.as_ref().map_or("", |(m, _)| m.as_str());
                            match method {
                                gemini::Method::CountTokens => gemini::count_tokens(&req, model),
                                _ => {
                                    let framing = gemini::Framing::of(method, parts.uri.query());
                                    gemini::generate_content(&req, model, framing, &mut env)
                                }
                            }
                        }
                    };
                    delay = env.delay;
                    reply
                }
            };
            (fault, reply, delay)
        }
    };
    record.response_id = reply.response_id.clone();
    let mut delivery = deliver(reply, fault, provider);
    delivery.pre_delay = delivery.pre_delay.or(delay);
    record.status = Some(delivery.status.as_u16());
    record.usage = delivery.usage;
    record.body_bytes = delivery.chunks.iter().map(|c| c.len() as u64).sum();
    record.body_fnv1a64 = super::record::body_fnv1a64(&delivery.chunks);
    state.log.push(record);
    Outcome::Deliver(delivery, request_id)
}

/// A 400 in the provider's error shape.
fn bad_request(provider: Provider, message: &str) -> Reply {
    match provider {
        Provider::Gemini => gemini::bad_request(message),
        _ => Reply::json(
            StatusCode::BAD_REQUEST,
            anthropic::error_body("invalid_request_error", message),
        ),
    }
}

/// Whether the request asks for compaction (see [`MockRecord::compaction`]).
fn endpoint_asks_compaction(endpoint: Endpoint, json: Option<&Value>) -> bool {
    match endpoint {
        Endpoint::ResponsesCompact => true,
        Endpoint::Responses => json.is_some_and(responses::asks_compaction),
        _ => false,
    }
}

fn respond(d: Delivery, provider: Provider, request_id: &str) -> Response<MockBody> {
    let body = if d.sse || d.chunked || d.abort || d.pace.is_some() {
        MockBody::chunks(d.chunks, d.pace, d.abort)
    } else {
        MockBody::full(d.chunks.concat())
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = d.status;
    let h = resp.headers_mut();
    let content_type = if d.sse {
        "text/event-stream"
    } else {
        "application/json"
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if d.sse {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let id_header = match provider {
        Provider::Anthropic => "request-id",
        Provider::OpenAi => "x-request-id",
        Provider::Gemini => "x-goog-request-id",
    };
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert(id_header, v);
    }
    if d.retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if d.gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    let padding = HeaderValue::from_str(&"a".repeat(4096)).ok();
    for n in 0..d.padding_kib.div_ceil(4) {
        if let (Ok(name), Some(value)) = (
            http::HeaderName::from_bytes(format!("x-mock-padding-{n}").as_bytes()),
            padding.clone(),
        ) {
            h.insert(name, value);
        }
    }
    resp
}
