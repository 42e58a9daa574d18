//! The OTLP/HTTP server: accepting connections, checking each request, decoding, answering.

use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use prost::Message;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::extract::{LogRecordView, is_call_event, to_event};
use super::forward::{Forwarder, Outgoing, Signal};
use super::otlp_proto::Status;
use super::{
    Counters, MAX_BODY_BYTES, ReceiverConfig, ReceiverError, ReceiverStats, otlp_json, otlp_proto,
};
use crate::observation::TelemetryEvent;

type Clock = Arc<dyn Fn() -> f64 + Send + Sync>;
type Sink = Arc<dyn Fn(TelemetryEvent) + Send + Sync>;

/// A receiver serving in the background. Dropping it stops accepting (like
/// [`RunningReceiver::shutdown`] without waiting).
pub struct RunningReceiver {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    state: Arc<State>,
}

impl std::fmt::Debug for RunningReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningReceiver")
            .field("addr", &self.addr)
            .field("stats", &self.stats())
            .finish()
    }
}

impl RunningReceiver {
    /// The address it listens on (with the real port when `:0` was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Counts so far.
    pub fn stats(&self) -> ReceiverStats {
        self.state.counters.snapshot()
    }

    /// Stops accepting, lets open connections finish their current request, and waits up to
    /// `grace` for them and for forwards still in flight. Returns the final counts.
    pub async fn shutdown(self, grace: Duration) -> ReceiverStats {
        let _ = self.shutdown.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        while self.state.busy() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.stats()
    }
}

struct State {
    counters: Arc<Counters>,
    clock: Clock,
    sink: Sink,
    forwarder: Option<Arc<Forwarder>>,
    connections: AtomicUsize,
    guard: crate::guard::Guard,
}

impl State {
    fn busy(&self) -> bool {
        self.connections.load(Ordering::Acquire) > 0
            || self.forwarder.as_ref().is_some_and(|f| f.in_flight() > 0)
    }
}

pub(super) async fn start(
    config: ReceiverConfig,
    clock: Clock,
    sink: Sink,
) -> Result<RunningReceiver, ReceiverError> {
    if !config.listen.ip().is_loopback() {
        return Err(ReceiverError::NotLoopback(config.listen));
    }
    let bind_error = |source| ReceiverError::Bind {
        addr: config.listen,
        source,
    };
    let listener = TcpListener::bind(config.listen).await.map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let counters = Arc::new(Counters::default());
    let forwarder = config.forward_to.and_then(|mut target| {
        target.remove_loops(addr);
        (!target.is_empty()).then(|| Arc::new(Forwarder::new(target, counters.clone())))
    });
    let state = Arc::new(State {
        counters,
        clock,
        sink,
        forwarder,
        connections: AtomicUsize::new(0),
        // Only the agent, started by `run` with this address, talks to the receiver.
        guard: crate::guard::Guard::new("telemetry receiver", addr, &[], MAX_BODY_BYTES as u64),
    });
    let (shutdown, stopped) = watch::channel(false);
    let accept_state = state.clone();
    tokio::spawn(crate::net::accept_until(
        listener,
        stopped.clone(),
        "telemetry receiver",
        move |stream| serve(stream, accept_state.clone(), stopped.clone()),
    ));
    Ok(RunningReceiver {
        addr,
        shutdown,
        state,
    })
}

/// Counts a connection while it is open.
struct Open(Arc<State>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

fn serve(stream: TcpStream, state: Arc<State>, stopped: watch::Receiver<bool>) {
    state.connections.fetch_add(1, Ordering::AcqRel);
    let open = Open(state.clone());
    tokio::spawn(async move {
        let service = service_fn(move |req| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(handle(&state, req).await) }
        });
        crate::net::serve_until(stream, service, stopped, "telemetry").await;
        drop(open);
    });
}

/// The two OTLP/HTTP body encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Protobuf,
}

impl Format {
    fn of(headers: &HeaderMap) -> Option<Format> {
        let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
        let media = value.split(';').next()?.trim();
        if media.eq_ignore_ascii_case("application/json") {
            Some(Format::Json)
        } else if media.eq_ignore_ascii_case("application/x-protobuf")
            || media.eq_ignore_ascii_case("application/protobuf")
        {
            Some(Format::Protobuf)
        } else {
            None
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Protobuf => "application/x-protobuf",
        }
    }
}

/// Why a body was not read.
enum Refusal {
    TooLarge,
    Undecodable(String),
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let counters = &state.counters;
    Counters::add(&counters.requests, 1);
    if let Some(refused) = state.guard.screen(&req) {
        Counters::add(&counters.rejected, 1);
        return refused.map(Full::new);
    }
    let reject = |status, message: &str| {
        Counters::add(&counters.rejected, 1);
        plain(status, message)
    };
    let Some(signal) = Signal::from_path(req.uri().path()) else {
        return reject(StatusCode::NOT_FOUND, "not an OTLP/HTTP path");
    };
    if req.method() != Method::POST {
        let mut response = reject(StatusCode::METHOD_NOT_ALLOWED, "use POST");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let Some(format) = Format::of(req.headers()) else {
        return reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json or application/x-protobuf",
        );
    };
    let gzip = match req.headers().get(CONTENT_ENCODING).map(HeaderValue::to_str) {
        None => false,
        Some(Ok(e)) if e.trim().eq_ignore_ascii_case("identity") => false,
        Some(Ok(e))
            if ["gzip", "x-gzip"]
                .iter()
                .any(|g| e.trim().eq_ignore_ascii_case(g)) =>
        {
            true
        }
        Some(_) => {
            return reject(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Encoding must be gzip or identity",
            );
        }
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return reject(StatusCode::PAYLOAD_TOO_LARGE, "body over 16 MiB");
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => {
            return reject(StatusCode::PAYLOAD_TOO_LARGE, "body over 16 MiB");
        }
        Err(err) => {
            return reject(StatusCode::BAD_REQUEST, &format!("body broke off: {err}"));
        }
    };
    if let Some(forwarder) = state.forwarder.as_ref().filter(|f| f.handles(signal)) {
        forwarder.send(Outgoing {
            signal,
            headers: parts.headers,
            body: body.clone(),
        });
    }
    match read_body(state, signal, format, gzip, &body) {
        Ok(()) => ok(format),
        Err(Refusal::TooLarge) => reject(StatusCode::PAYLOAD_TOO_LARGE, "body over 16 MiB"),
        Err(Refusal::Undecodable(message)) => {
            Counters::add(&counters.decode_errors, 1);
            tracing::debug!("undecodable OTLP {} body: {message}", signal.path());
            status(format, StatusCode::BAD_REQUEST, &message)
        }
    }
}

fn read_body(
    state: &State,
    signal: Signal,
    format: Format,
    gzip: bool,
    body: &Bytes,
) -> Result<(), Refusal> {
    let body = if gzip { gunzip(body)? } else { body.clone() };
    let counters = &state.counters;
    let undecodable = |e: &dyn std::fmt::Display| Refusal::Undecodable(e.to_string());
    match (signal, format) {
        (Signal::Logs, Format::Json) => {
            let records = otlp_json::decode_logs(&body).map_err(|e| undecodable(&e))?;
            deliver(state, &records);
        }
        (Signal::Logs, Format::Protobuf) => {
            let records = otlp_proto::decode_logs(&body).map_err(|e| undecodable(&e))?;
            deliver(state, &records);
        }
        (Signal::Metrics, Format::Json) => {
            otlp_json::check_metrics(&body).map_err(|e| undecodable(&e))?;
            Counters::add(&counters.metric_requests, 1);
        }
        (Signal::Metrics, Format::Protobuf) => {
            otlp_proto::check_metrics(&body).map_err(|e| undecodable(&e))?;
            Counters::add(&counters.metric_requests, 1);
        }
        (Signal::Traces, Format::Json) => {
            otlp_json::check_traces(&body).map_err(|e| undecodable(&e))?;
            Counters::add(&counters.trace_requests, 1);
        }
        (Signal::Traces, Format::Protobuf) => {
            otlp_proto::check_traces(&body).map_err(|e| undecodable(&e))?;
            Counters::add(&counters.trace_requests, 1);
        }
    }
    Ok(())
}

/// Turns the wanted records into events and hands them to the sink.
fn deliver(state: &State, records: &[LogRecordView]) {
    let counters = &state.counters;
    Counters::add(&counters.log_records, records.len() as u64);
    let mut t = None;
    for record in records {
        let now = *t.get_or_insert_with(|| (state.clock)());
        if let Some(event) = to_event(record, now) {
            let counter = if is_call_event(&event.event) {
                &counters.api_requests
            } else {
                &counters.user_prompts
            };
            Counters::add(counter, 1);
            (state.sink)(event);
        }
    }
}

/// Decompresses a gzip body (all members), refusing more than [`MAX_BODY_BYTES`] of output.
fn gunzip(body: &[u8]) -> Result<Bytes, Refusal> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(MAX_BODY_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| Refusal::Undecodable(format!("bad gzip: {e}")))?;
    if out.len() > MAX_BODY_BYTES {
        return Err(Refusal::TooLarge);
    }
    Ok(Bytes::from(out))
}

/// 200 with an empty `Export*ServiceResponse` (`{}` or zero protobuf bytes).
fn ok(format: Format) -> Response<Full<Bytes>> {
    let body = match format {
        Format::Json => Bytes::from_static(b"{}"),
        Format::Protobuf => Bytes::new(),
    };
    response(StatusCode::OK, format.content_type(), body)
}

/// An error answered with a `google.rpc.Status` (code 3, `INVALID_ARGUMENT`), as OTLP/HTTP asks.
fn status(format: Format, code: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let status = Status {
        code: 3,
        message: message.to_owned(),
    };
    let body = match format {
        Format::Json => Bytes::from(
            serde_json::json!({ "code": status.code, "message": status.message }).to_string(),
        ),
        Format::Protobuf => Bytes::from(status.encode_to_vec()),
    };
    response(code, format.content_type(), body)
}

fn plain(code: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let body = Bytes::from(format!("agentprof telemetry receiver: {message}\n"));
    response(code, "text/plain; charset=utf-8", body)
}

fn response(code: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = code;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
