//! The proxy's life (start, drain, cut off) and each request: route, forward, answer. How
//! connections are accepted and served is in `connections`.
//!
//! Connections are served on worker threads, each running its own single-threaded tokio
//! runtime with its own pooled upstream client ([`workers`](super::workers)); the accept loop
//! runs on the caller's runtime and hands each connection to the worker serving the fewest.
//! A connection's request, its upstream exchange and its response then stay on one thread: no
//! task is stolen by another core mid-stream and no wake-up crosses threads, which on the
//! proxy's small per-request cost is what decides its speed.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::call::{CallTracker, Ending};
use super::client_link::ClientLink;
use super::connections::accept_loop;
use super::error_response::error_response;
use super::headers;
use super::request_body::{SharedCapture, UpstreamBody};
use super::response_body::{BodyError, ResponseReader, TeeBody};
use super::route::{Upstreams, route};
use super::upstream::{ResponseBody, ResponseHead, SendError, UpgradeAnswer, UpstreamClient};
use super::websocket::{self, wants_websocket};
use super::workers::Workers;
use super::{CallSink, ProxyContext};
use crate::capture::request::coding::RequestCoding;
use crate::capture::request::{RequestSummary, add_include_usage};
use crate::capture::usage::StreamUsageParser;
use crate::capture::usage::strip::IncludeUsageStripper;
use crate::clock::TraceClock;
use crate::guard::Guard;
use crate::observation::{ApiKind, CallErrorKind, Provider};

/// How long upstream may take to send response headers. Generous: a non-streaming call with
/// a long answer sends nothing until it is done.
const RESPONSE_HEAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Request bodies up to this size are kept (by reference) for inspection.
pub(super) const INSPECT_LIMIT: u64 = 64 << 20;

/// Proxy settings.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub listen: SocketAddr,
    pub upstreams: Upstreams,
    pub capture_bodies: bool,
    /// Host names accepted besides this listener's own (`--allow-host`; see `crate::guard`).
    pub allowed_hosts: Vec<String>,
}

/// Errors starting the proxy.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the proxy's worker threads: {0}")]
    Workers(std::io::Error),
}

/// A proxy accepting connections in the background.
pub struct RunningProxy {
    addr: SocketAddr,
    phase: watch::Sender<Phase>,
    stopped: tokio::sync::oneshot::Receiver<()>,
    ctx: Arc<ProxyContext>,
}

/// Where the proxy is in its life; connections watch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Running,
    /// No new connections; open ones finish the request they are serving, idle ones close.
    Draining,
    /// Calls still in flight are cut off (and recorded as such).
    CutOff,
}

impl RunningProxy {
    /// The address it listens on (with the real port when `:0` was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Calls whose record has not been handed on yet.
    pub fn in_flight(&self) -> usize {
        self.ctx.in_flight.load(Ordering::Acquire)
    }

    /// Calls seen so far.
    pub fn calls(&self) -> u64 {
        self.ctx.next_call_id.load(Ordering::Relaxed)
    }

    /// Stops accepting and lets calls in flight finish for up to `grace`; then cuts off the
    /// rest, which are recorded with a `shutdown` error — every call that started ends up in
    /// the trace. Returns the number of calls seen.
    pub async fn shutdown(self, grace: Duration) -> u64 {
        let _ = self.phase.send(Phase::Draining);
        wait_until_recorded(&self.ctx, grace).await;
        if self.in_flight() > 0 {
            self.ctx.cutting_off.store(true, Ordering::Release);
        }
        let _ = self.phase.send(Phase::CutOff);
        // The accept task reports once every connection task has ended; dropping them is what
        // records the calls they were serving.
        let RunningProxy { stopped, ctx, .. } = self;
        let _ = tokio::time::timeout(Duration::from_secs(5), stopped).await;
        wait_until_recorded(&ctx, Duration::from_secs(5)).await;
        ctx.next_call_id.load(Ordering::Relaxed)
    }
}

async fn wait_until_recorded(ctx: &ProxyContext, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while ctx.in_flight.load(Ordering::Acquire) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Binds the listener and starts serving on the current tokio runtime.
pub async fn start(
    config: ProxyConfig,
    clock: TraceClock,
    sink: Arc<dyn CallSink>,
) -> Result<RunningProxy, ProxyError> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ProxyError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ProxyError::Bind {
        addr: config.listen,
        source,
    })?;
    let ctx = Arc::new(ProxyContext {
        clock,
        sink,
        capture_bodies: config.capture_bodies,
        next_call_id: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
        cutting_off: AtomicBool::new(false),
    });
    let workers = Workers::start(|| {
        Arc::new(Handler {
            guard: Guard::new("proxy", addr, &config.allowed_hosts, INSPECT_LIMIT),
            ctx: ctx.clone(),
            client: UpstreamClient::new(),
            upstreams: config.upstreams.clone(),
        })
    })
    .map_err(ProxyError::Workers)?;
    let (phase, phase_rx) = watch::channel(Phase::Running);
    let (stopped_tx, stopped) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        accept_loop(listener, &workers, phase_rx).await;
        // Every connection task has ended; the worker threads finish the calls they are
        // still recording and exit.
        workers.stop();
        let _ = stopped_tx.send(());
    });
    Ok(RunningProxy {
        addr,
        phase,
        stopped,
        ctx,
    })
}

pub(super) struct Handler {
    guard: Guard,
    ctx: Arc<ProxyContext>,
    client: UpstreamClient,
    upstreams: Upstreams,
}

impl Handler {
    pub(super) async fn handle(
        &self,
        mut req: Request<Incoming>,
        link: Arc<ClientLink>,
    ) -> Response<ProxyBody> {
        if let Some(refused) = self.guard.screen(&req) {
            return refused.map(ProxyBody::full);
        }
        let path_and_query = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let mut route = match route(req.method(), path_and_query, req.headers(), &self.upstreams) {
            Ok(route) => route,
            Err(err) => {
                return plain(
                    StatusCode::BAD_REQUEST,
                    format!("agentprof: bad request path: {err}"),
                );
            }
        };
        let provider = route.provider;
        let client_upgrade = wants_websocket(req.headers()).then(|| hyper::upgrade::on(&mut req));
        let calls_route = route.clone();
        if client_upgrade.is_some() {
            // Not a model call in itself: reports count it under other requests. The calls
            // its connection carries are recorded one by one (`websocket`).
            route.api = ApiKind::Other;
        }
        let (parts, body) = req.into_parts();
        let tracker = CallTracker::new(self.ctx.clone(), &route, &parts.method, &parts.headers);
        if let Some(client) = client_upgrade {
            // An upgrade request has no body to forward.
            drop(body);
            let switch = websocket::Switch {
                ctx: self.ctx.clone(),
                route: calls_route,
                method: parts.method.clone(),
                request_headers: parts.headers.clone(),
                tracker,
                client,
                link,
            };
            return self.upgrade(switch, parts.headers).await;
        }
        let mut tracker = tracker;
        let mut upstream_headers = parts.headers;
        headers::to_upstream(&mut upstream_headers);

        let mut strip_usage = false;
        let upstream_body = if route.api == ApiKind::ChatCompletions {
            // The stream flag and stream_options decide whether the body must change, so this
            // one endpoint is read whole before forwarding.
            let chunks = match collect_frames(body).await {
                Ok(chunks) => chunks,
                Err(CollectError::TooLarge) => {
                    let message = format!("request body larger than {} MiB", INSPECT_LIMIT >> 20);
                    return answer_without_upstream(
                        tracker,
                        provider,
                        StatusCode::PAYLOAD_TOO_LARGE,
                        CallErrorKind::ClientRequest,
                        message,
                    );
                }
                Err(CollectError::Broken(err)) => {
                    let message = format!("client request body broke off: {err}");
                    return answer_without_upstream(
                        tracker,
                        provider,
                        StatusCode::BAD_REQUEST,
                        CallErrorKind::ClientRequest,
                        message,
                    );
                }
            };
            tracker.set_capture(SharedCapture::complete(chunks.clone()));
            let summary = RequestSummary::inspect(route.api, &chunks).ok();
            let rewritten = summary
                .as_ref()
                .and_then(|s| add_include_usage(&chunks, s).ok().flatten());
            tracker.set_inspected(summary);
            match rewritten {
                Some(rewritten) => {
                    strip_usage = true;
                    upstream_headers
                        .insert(header::CONTENT_LENGTH, HeaderValue::from(rewritten.len));
                    UpstreamBody::Chunks(rewritten.chunks.into())
                }
                None => UpstreamBody::Chunks(chunks.into()),
            }
        } else {
            let zstd = RequestCoding::of(&upstream_headers) == RequestCoding::Zstd;
            let capture =
                SharedCapture::streaming(self.ctx.capture_bodies, body.is_end_stream(), zstd);
            tracker.set_capture(capture.clone());
            UpstreamBody::Streaming {
                inner: body,
                capture,
                limit: INSPECT_LIMIT,
            }
        };

        let sent = self
            .client
            .send(&parts.method, &route.uri, upstream_headers, upstream_body);
        let (head, body) = match tokio::time::timeout(RESPONSE_HEAD_TIMEOUT, sent).await {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => {
                if tracker.client_body_too_large() {
                    let message = format!(
                        "request body larger than {} MiB (sent chunked, so refused once \
                             that much had been forwarded; upstream got no complete request)",
                        INSPECT_LIMIT >> 20
                    );
                    return answer_without_upstream(
                        tracker,
                        provider,
                        StatusCode::PAYLOAD_TOO_LARGE,
                        CallErrorKind::ClientRequest,
                        message,
                    );
                }
                // The client's own body may be what broke; hyper reports it as a send error.
                let (kind, message) = match tracker.client_body_error() {
                    Some(cause) => (
                        CallErrorKind::ClientRequest,
                        format!("the client's request body broke off: {cause}"),
                    ),
                    None => describe_upstream_error(&err, &route.uri),
                };
                return answer_without_upstream(
                    tracker,
                    provider,
                    StatusCode::BAD_GATEWAY,
                    kind,
                    message,
                );
            }
            Err(_) => {
                let message = format!(
                    "upstream {} sent no response within {}s",
                    authority(&route.uri),
                    RESPONSE_HEAD_TIMEOUT.as_secs()
                );
                return answer_without_upstream(
                    tracker,
                    provider,
                    StatusCode::BAD_GATEWAY,
                    CallErrorKind::UpstreamTimeout,
                    message,
                );
            }
        };

        self.respond(tracker, head, body, strip_usage, link).await
    }

    /// Passes an upgrade request on; a `101` switches the connection to the WebSocket
    /// pass-through, any other answer goes back to the client like a normal response.
    async fn upgrade(
        &self,
        switch: websocket::Switch,
        mut upstream_headers: http::HeaderMap,
    ) -> Response<ProxyBody> {
        websocket::to_upstream(&mut upstream_headers);
        let uri = switch.route.uri.clone();
        let provider = switch.route.provider;
        let sent = self
            .client
            .send_upgrade(&switch.method, &uri, upstream_headers);
        let (head, body) = match tokio::time::timeout(RESPONSE_HEAD_TIMEOUT, sent).await {
            Ok(Ok(UpgradeAnswer::Switched(head, upgraded))) => {
                return websocket::switch(switch, head, upgraded);
            }
            Ok(Ok(UpgradeAnswer::Refused(head, body))) => (head, body),
            Ok(Err(err)) => {
                let (kind, message) = describe_upstream_error(&err, &uri);
                let status = StatusCode::BAD_GATEWAY;
                return answer_without_upstream(switch.tracker, provider, status, kind, message);
            }
            Err(_) => {
                let message = format!(
                    "upstream {} sent no response within {}s",
                    authority(&uri),
                    RESPONSE_HEAD_TIMEOUT.as_secs()
                );
                let (status, kind) = (StatusCode::BAD_GATEWAY, CallErrorKind::UpstreamTimeout);
                return answer_without_upstream(switch.tracker, provider, status, kind, message);
            }
        };
        self.respond(switch.tracker, head, body, false, switch.link)
            .await
    }

    /// Answers the client with upstream's response, read on the way.
    async fn respond(
        &self,
        mut tracker: CallTracker,
        head: ResponseHead,
        body: ResponseBody,
        strip_usage: bool,
        link: Arc<ClientLink>,
    ) -> Response<ProxyBody> {
        let (mut parts, ()) = Response::new(()).into_parts();
        parts.status = head.status;
        parts.headers = head.headers;
        tracker.on_response_head(parts.status, &parts.headers);
        headers::strip_hop_by_hop(&mut parts.headers);
        let is_sse = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let reader = if parts.status.is_success() && is_sse {
            if strip_usage {
                parts.headers.remove(header::CONTENT_LENGTH);
                ResponseReader::Stripped(IncludeUsageStripper::new())
            } else {
                ResponseReader::Sse(StreamUsageParser::new(tracker.api()))
            }
        } else if tracker.api() != ApiKind::Other || !parts.status.is_success() {
            ResponseReader::Json {
                api: tracker.api(),
                body: Vec::new(),
                bytes: 0,
            }
        } else {
            ResponseReader::Ignore
        };
        let reader = super::decoded::wrap(reader, &parts.headers);
        if body.is_end_stream() {
            // hyper will not poll an empty body; record the call now.
            tracker.delivered(0, None);
            tracker.finish(reader_summary_for_empty(reader), Ending::Complete);
            return Response::from_parts(parts, ProxyBody::full(Bytes::new()));
        }
        let mut tee = Box::new(TeeBody::new(body, reader, tracker, link));
        tee.prefill().await;
        Response::from_parts(parts, ProxyBody::Tee(tee))
    }
}

fn reader_summary_for_empty(
    reader: ResponseReader,
) -> Option<crate::capture::usage::ResponseSummary> {
    match reader {
        ResponseReader::Json { api, .. } => Some(crate::capture::usage::parse_json_body(api, b"")),
        // An empty stream is a torn one: it never sent its final event.
        ResponseReader::Sse(parser) => Some(parser.finish()),
        ResponseReader::Stripped(stripper) => Some(stripper.finish(&mut Vec::new())),
        ResponseReader::Ignore => None,
        ResponseReader::Decoded(decoded) => reader_summary_for_empty(decoded.1),
    }
}

/// Why a request body that must be read whole could not be.
enum CollectError {
    Broken(hyper::Error),
    TooLarge,
}

/// Reads a whole request body, refusing past [`INSPECT_LIMIT`] bytes. A body of several
/// frames is joined into one: it is parsed (and maybe rewritten) before forwarding, and a
/// contiguous body parses several times faster than a list of frames.
async fn collect_frames(mut body: Incoming) -> Result<Vec<Bytes>, CollectError> {
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(CollectError::Broken)?.into_data() {
            total += data.len() as u64;
            if total > INSPECT_LIMIT {
                return Err(CollectError::TooLarge);
            }
            chunks.push(data);
        }
    }
    if chunks.len() > 1 {
        chunks = vec![Bytes::from(chunks.concat())];
    }
    Ok(chunks)
}

fn describe_upstream_error(err: &SendError, uri: &http::Uri) -> (CallErrorKind, String) {
    let host = authority(uri);
    let cause = err.to_string();
    if err.is_connect() {
        (
            CallErrorKind::UpstreamConnect,
            format!("cannot connect to upstream {host}: {cause}"),
        )
    } else {
        (
            CallErrorKind::UpstreamBody,
            format!("upstream {host} gave no usable response: {cause}"),
        )
    }
}

fn authority(uri: &http::Uri) -> String {
    format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("http"),
        uri.authority().map_or("", |a| a.as_str())
    )
}

/// Ends a call upstream gave no response to: recorded with its error, answered with a
/// provider-shaped JSON error saying agentprof made it.
fn answer_without_upstream(
    tracker: CallTracker,
    provider: Provider,
    status: StatusCode,
    kind: CallErrorKind,
    message: String,
) -> Response<ProxyBody> {
    let response = error_response(provider, status, &message);
    tracker.fail_without_response(status, response.body().len(), kind, message);
    response.map(ProxyBody::full)
}

fn plain(status: StatusCode, message: String) -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::full(Bytes::from(message)));
    *response.status_mut() = status;
    response
}

/// The body of every response the proxy sends.
pub enum ProxyBody {
    /// Upstream's body, streamed through.
    Tee(Box<TeeBody>),
    /// A body agentprof made (errors).
    Full(Option<Bytes>),
}

impl ProxyBody {
    fn full(bytes: Bytes) -> ProxyBody {
        ProxyBody::Full(Some(bytes))
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            ProxyBody::Tee(tee) => Pin::new(tee.as_mut()).poll_frame(cx),
            ProxyBody::Full(bytes) => Poll::Ready(
                bytes
                    .take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProxyBody::Tee(tee) => tee.is_end_stream(),
            ProxyBody::Full(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Tee(tee) => tee.size_hint(),
            ProxyBody::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}
