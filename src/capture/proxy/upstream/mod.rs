//! The proxy's HTTP/1.1 client for upstream calls: pooled connections, the request streamed
//! out as it arrives, the response read in bulk.
//!
//! Why its own rather than hyper's client: hyper's client runs each connection in a task of its
//! own and hands a response on one HTTP chunk at a time through a channel, and the model APIs
//! write one SSE event per chunk. A 12 KB answer of 66 events cost 66 frames, channel hops and
//! wake-ups between two tasks: measured, 40 of the 127 µs of CPU a 44 KB call cost the proxy
//! (docs/performance.md). Here the request is written and the response read in the task that
//! serves the client's connection, and each read of the response leaves as one frame.
//!
//! What it does not do, because the proxy does not need it: HTTP/2, request pipelining, and
//! `Expect: 100-continue` (the client's `Expect` is answered on its own hop; see `headers`), and
//! response trailers (the model APIs send none; they are read and dropped). A `101 Switching
//! Protocols` answer is never pooled: [`UpstreamClient::send_upgrade`] hands its connection
//! back, with whatever upstream sent past the head, for the WebSocket pass-through.

mod body;
mod chunked;
mod wire;

use std::collections::HashMap;
use std::io::IoSlice;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Uri};
use http_body::Body;
use http_body_util::BodyExt;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

pub use body::ResponseBody;
pub use wire::ResponseHead;

use super::request_body::{BodyError, UpstreamBody};
use crate::capture::http_client::{POOL_IDLE_TIMEOUT, connector};
use wire::{HeadError, RequestFraming};

/// How long to look for an answer upstream sent before it stopped taking the request body.
const EARLY_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Idle connections kept per upstream.
const MAX_IDLE_PER_UPSTREAM: usize = 32;

/// The connection's stream: TCP, or TLS over TCP.
pub(crate) type Io = TokioIo<MaybeHttpsStream<TokioIo<TcpStream>>>;

/// A connection upstream switched to another protocol with a `101`.
pub(crate) struct Upgraded {
    pub io: Io,
    /// What upstream sent right after the head, already read: the new protocol's first bytes.
    pub read_ahead: Bytes,
}

/// Upstream's answer to an upgrade request.
pub(crate) enum UpgradeAnswer {
    Switched(ResponseHead, Upgraded),
    /// Any other answer, passed on like a normal response.
    Refused(ResponseHead, ResponseBody),
}

/// One connection to an upstream and the bytes read from it but not yet used.
pub(crate) struct Connection {
    io: Io,
    buf: BytesMut,
    key: PoolKey,
}

/// Which upstream a connection reaches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PoolKey {
    scheme: String,
    authority: String,
}

impl PoolKey {
    fn of(uri: &Uri) -> PoolKey {
        PoolKey {
            scheme: uri.scheme_str().unwrap_or("http").to_string(),
            authority: uri
                .authority()
                .map_or_else(String::new, |a| a.as_str().to_string()),
        }
    }
}

/// Idle connections, per upstream.
#[derive(Default)]
pub(crate) struct Pool {
    idle: Mutex<HashMap<PoolKey, Vec<(Connection, Instant)>>>,
}

impl Pool {
    /// An idle connection to `key` that is still open.
    fn checkout(&self, key: &PoolKey) -> Option<Connection> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = idle.get_mut(key)?;
        while let Some((mut conn, since)) = list.pop() {
            if since.elapsed() < POOL_IDLE_TIMEOUT && still_open(&mut conn) {
                return Some(conn);
            }
        }
        None
    }

    fn put(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = idle.entry(conn.key.clone()).or_default();
        if list.len() < MAX_IDLE_PER_UPSTREAM {
            list.push((conn, Instant::now()));
        }
    }
}

/// Whether an idle connection is still usable: reading it must find nothing (an upstream that
/// closed it, or sent anything unasked, makes it unusable).
fn still_open(conn: &mut Connection) -> bool {
    let mut cx = Context::from_waker(Waker::noop());
    conn.buf.reserve(64);
    matches!(
        tokio_util::io::poll_read_buf(std::pin::Pin::new(&mut conn.io), &mut cx, &mut conn.buf),
        Poll::Pending
    )
}

/// Why a call got no usable response head.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Connect(String),
    /// The client's request body broke off or went past the size limit.
    #[error("{0}")]
    ClientBody(BodyError),
    #[error("sending the request failed: {0}")]
    Write(std::io::Error),
    #[error("the connection closed before a response head came")]
    Closed,
    #[error("reading the response failed: {0}")]
    Read(std::io::Error),
    #[error("{0}")]
    Head(#[from] HeadError),
}

impl SendError {
    pub fn is_connect(&self) -> bool {
        matches!(self, SendError::Connect(_))
    }
}

/// The upstream client of one proxy worker.
pub struct UpstreamClient {
    connector: HttpsConnector<HttpConnector>,
    pool: Arc<Pool>,
}

impl UpstreamClient {
    pub fn new() -> UpstreamClient {
        UpstreamClient {
            connector: connector(),
            pool: Arc::default(),
        }
    }

    /// Sends a request and reads the response head; the body streams after.
    pub async fn send(
        &self,
        method: &Method,
        uri: &Uri,
        headers: HeaderMap,
        body: UpstreamBody,
    ) -> Result<(ResponseHead, ResponseBody), SendError> {
        let (head, conn, whole_request_sent) = self.exchange(method, uri, headers, body).await?;
        self.response(method, head, conn, whole_request_sent)
    }

    /// Sends a request asking to upgrade the connection (`Upgrade`, `Connection: upgrade`
    /// among `headers`, no body): a `101` hands the connection back.
    pub(crate) async fn send_upgrade(
        &self,
        method: &Method,
        uri: &Uri,
        headers: HeaderMap,
    ) -> Result<UpgradeAnswer, SendError> {
        let body = UpstreamBody::Chunks(std::collections::VecDeque::new());
        let (head, conn, whole_request_sent) = self.exchange(method, uri, headers, body).await?;
        if head.status == http::StatusCode::SWITCHING_PROTOCOLS {
            let Connection { io, buf, .. } = conn;
            let read_ahead = buf.freeze();
            return Ok(UpgradeAnswer::Switched(head, Upgraded { io, read_ahead }));
        }
        let (head, body) = self.response(method, head, conn, whole_request_sent)?;
        Ok(UpgradeAnswer::Refused(head, body))
    }

    /// The response body that follows `head` on `conn`.
    fn response(
        &self,
        method: &Method,
        head: ResponseHead,
        conn: Connection,
        whole_request_sent: bool,
    ) -> Result<(ResponseHead, ResponseBody), SendError> {
        let framing = wire::response_framing(method, &head)?;
        // After a 101 the connection speaks another protocol: never reused.
        let keep_alive = whole_request_sent
            && head.status != http::StatusCode::SWITCHING_PROTOCOLS
            && wire::keeps_alive(&head);
        Ok((
            head,
            ResponseBody::new(conn, framing, keep_alive, self.pool.clone()),
        ))
    }

    /// Writes the request and reads the response head; says whether the whole request went
    /// out (upstream may answer early).
    async fn exchange(
        &self,
        method: &Method,
        uri: &Uri,
        mut headers: HeaderMap,
        mut body: UpstreamBody,
    ) -> Result<(ResponseHead, Connection, bool), SendError> {
        let framing = request_framing(method, &mut headers, &body);
        let mut head = Vec::with_capacity(1024);
        wire::request_head(method, uri, &headers, framing, &mut head);
        // The head leaves with the first piece of the body, in one write.
        let first = match framing {
            RequestFraming::Empty => None,
            _ => next_frame(&mut body).await?,
        };
        let key = PoolKey::of(uri);
        let mut conn = self
            .start(&key, uri, &head, first.as_ref(), framing)
            .await?;
        let (head, whole_request_sent) =
            match write_rest(&mut conn, &mut body, first.is_some(), framing).await {
                Ok(()) => (read_head(&mut conn).await?, true),
                // Upstream may answer before taking the whole body (a 413 for a context too
                // large, a 401) and close: its answer is then in the connection, to be read.
                Err(err @ SendError::Write(_)) => {
                    match tokio::time::timeout(EARLY_ANSWER_WAIT, read_head(&mut conn)).await {
                        Ok(Ok(head)) => (head, false),
                        _ => return Err(err),
                    }
                }
                Err(err) => return Err(err),
            };
        Ok((head, conn, whole_request_sent))
    }

    /// Writes the head (and the body's first piece) on a pooled connection, or a new one if
    /// there is none or the pooled one turns out closed when written to.
    async fn start(
        &self,
        key: &PoolKey,
        uri: &Uri,
        head: &[u8],
        first: Option<&Bytes>,
        framing: RequestFraming,
    ) -> Result<Connection, SendError> {
        if let Some(mut conn) = self.pool.checkout(key)
            && write_start(&mut conn.io, head, first, framing)
                .await
                .is_ok()
        {
            return Ok(conn);
        }
        let mut conn = self.connect(key, uri).await?;
        write_start(&mut conn.io, head, first, framing)
            .await
            .map_err(SendError::Write)?;
        Ok(conn)
    }

    async fn connect(&self, key: &PoolKey, uri: &Uri) -> Result<Connection, SendError> {
        let mut connector = self.connector.clone();
        let connected = async {
            std::future::poll_fn(|cx| {
                tower_service::Service::<Uri>::poll_ready(&mut connector, cx)
            })
            .await?;
            tower_service::Service::<Uri>::call(&mut connector, uri.clone()).await
        }
        .await
        .map_err(|err| SendError::Connect(error_chain(err.as_ref())))?;
        Ok(Connection {
            io: TokioIo::new(connected),
            buf: BytesMut::with_capacity(16 << 10),
            key: key.clone(),
        })
    }
}

impl Default for UpstreamClient {
    fn default() -> Self {
        Self::new()
    }
}

/// How the body goes on the wire, with `Content-Length` set to match when it is known.
fn request_framing(
    method: &Method,
    headers: &mut HeaderMap,
    body: &UpstreamBody,
) -> RequestFraming {
    let Some(exact) = body.size_hint().exact() else {
        return RequestFraming::Chunked;
    };
    // A GET without a body says nothing about one; a POST says it is empty.
    let says_length = headers.contains_key(header::CONTENT_LENGTH)
        || matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if exact == 0 && !says_length {
        return RequestFraming::Empty;
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(exact));
    RequestFraming::Length
}

/// Writes the rest of the body (after the first piece, if there was one) and its end.
async fn write_rest(
    conn: &mut Connection,
    body: &mut UpstreamBody,
    started: bool,
    framing: RequestFraming,
) -> Result<(), SendError> {
    if started {
        while let Some(data) = next_frame(body).await? {
            write_data(&mut conn.io, b"", &data, framing)
                .await
                .map_err(SendError::Write)?;
        }
    }
    if framing == RequestFraming::Chunked {
        conn.io
            .write_all(b"0\r\n\r\n")
            .await
            .map_err(SendError::Write)?;
    }
    conn.io.flush().await.map_err(SendError::Write)
}

async fn next_frame(body: &mut UpstreamBody) -> Result<Option<Bytes>, SendError> {
    loop {
        match body.frame().await {
            None => return Ok(None),
            Some(Err(err)) => return Err(SendError::ClientBody(err)),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if !data.is_empty() => return Ok(Some(data)),
                // Empty frames and request trailers carry nothing to forward.
                _ => {}
            },
        }
    }
}

/// The head and the first piece of the body, in one write.
async fn write_start(
    io: &mut Io,
    head: &[u8],
    first: Option<&Bytes>,
    framing: RequestFraming,
) -> std::io::Result<()> {
    match first {
        Some(data) => write_data(io, head, data, framing).await,
        None => io.write_all(head).await,
    }
}

/// Writes `data` as the body's next piece, framed as `framing` says, after `prefix` (the
/// head, or nothing), in one write.
async fn write_data(
    io: &mut Io,
    prefix: &[u8],
    data: &[u8],
    framing: RequestFraming,
) -> std::io::Result<()> {
    let chunked = framing == RequestFraming::Chunked;
    let size = if chunked {
        format!("{:x}\r\n", data.len())
    } else {
        String::new()
    };
    let end: &[u8] = if chunked { b"\r\n" } else { b"" };
    let mut parts = [
        IoSlice::new(prefix),
        IoSlice::new(size.as_bytes()),
        IoSlice::new(data),
        IoSlice::new(end),
    ];
    write_all_vectored(io, &mut parts).await
}

async fn write_all_vectored(io: &mut Io, mut parts: &mut [IoSlice<'_>]) -> std::io::Result<()> {
    while !parts.is_empty() {
        let n = io.write_vectored(parts).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut parts, n);
    }
    Ok(())
}

/// Reads the final response head, passing over interim (1xx) ones.
async fn read_head(conn: &mut Connection) -> Result<ResponseHead, SendError> {
    loop {
        if let Some(head) = wire::parse_response_head(&mut conn.buf)? {
            let interim = head.status.is_informational()
                && head.status != http::StatusCode::SWITCHING_PROTOCOLS;
            if !interim {
                return Ok(head);
            }
            continue;
        }
        if conn.buf.capacity() - conn.buf.len() < 4096 {
            conn.buf.reserve(16 << 10);
        }
        let read = std::future::poll_fn(|cx| {
            tokio_util::io::poll_read_buf(std::pin::Pin::new(&mut conn.io), cx, &mut conn.buf)
        })
        .await
        .map_err(SendError::Read)?;
        if read == 0 {
            return Err(SendError::Closed);
        }
    }
}

/// An error and its causes, joined: "tcp connect error: Connection refused (os error 111)".
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
