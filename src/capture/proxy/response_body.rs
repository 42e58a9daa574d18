//! The response body on its way to the client: forwarded frame by frame, read on the side.
//!
//! [`TeeBody`] hands upstream's bytes to the client as soon as they arrive and feeds the same
//! bytes (no copy) to the usage reader. The call is recorded exactly once: when the stream ends,
//! when it breaks, or — if the client goes away first — when hyper drops the body, which also
//! drops the upstream connection and so cancels the upstream call.
//!
//! Bytes that arrive together leave together: the upstream body hands over everything a read
//! brought in (see `upstream`), and hyper's server writes to the socket whenever the body it
//! sends has nothing more ready. [`Batch`] joins what is ready — the stripper's output pieces,
//! several reads that came in at once — up to [`BATCH_LIMIT`]; a frame that arrives alone still
//! leaves at once.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};

use std::sync::Arc;

use super::call::{CallTracker, Ending};
use super::client_link::ClientLink;
use super::decoded::Decoding;
use super::upstream::ResponseBody;
use crate::capture::usage::strip::IncludeUsageStripper;
use crate::capture::usage::{ResponseSummary, StreamUsageParser, parse_json_body};
use crate::observation::{ApiKind, CallErrorKind};

/// Largest non-streaming body (or error body) read for usage; beyond it the body still flows
/// to the client untouched, only its usage is not read.
const JSON_READ_LIMIT: usize = 16 << 20;

/// A batch is passed on once it holds this much, whatever else is ready: large bodies still
/// stream, and memory per call stays small.
const BATCH_LIMIT: usize = 64 << 10;

/// How the response is read for usage.
pub enum ResponseReader {
    /// An SSE stream passed through as is.
    Sse(StreamUsageParser),
    /// An OpenAI stream where agentprof asked for usage on the client's behalf: the usage chunk
    /// is removed from what the client sees.
    Stripped(IncludeUsageStripper),
    /// A JSON body, collected (by reference) and parsed at the end.
    Json {
        api: ApiKind,
        body: Vec<Bytes>,
        bytes: usize,
    },
    /// Nothing to read (other endpoints).
    Ignore,
    /// A compressed body: the reader gets a decoded copy (see `decoded`).
    Decoded(Box<(Decoding, ResponseReader)>),
}

impl ResponseReader {
    /// Reads one upstream frame and adds what the client gets of it to `out`.
    fn feed(&mut self, data: Bytes, out: &mut Batch) {
        if let ResponseReader::Stripped(stripper) = self {
            let mut ready = Vec::new();
            stripper.push(data, &mut ready);
            ready.into_iter().for_each(|b| out.push(b));
            return;
        }
        self.observe(&data);
        out.push(data);
    }

    /// Reads a frame without changing what the client gets.
    fn observe(&mut self, data: &Bytes) {
        match self {
            ResponseReader::Sse(parser) => parser.feed(data),
            ResponseReader::Json { body, bytes, .. } => {
                *bytes += data.len();
                if *bytes <= JSON_READ_LIMIT {
                    body.push(data.clone());
                }
            }
            ResponseReader::Decoded(decoded) => {
                let (decoding, inner) = &mut **decoded;
                let plain = decoding.decode(data);
                if !plain.is_empty() {
                    inner.observe(&plain);
                }
            }
            // `decoded::wrap` never puts the re-framing stripper behind a decoder, and `feed`
            // handles it before this.
            ResponseReader::Stripped(_) | ResponseReader::Ignore => {}
        }
    }

    fn finish(self, out: &mut Batch) -> Option<ResponseSummary> {
        match self {
            ResponseReader::Sse(parser) => Some(parser.finish()),
            ResponseReader::Stripped(stripper) => {
                let mut ready = Vec::new();
                let summary = stripper.finish(&mut ready);
                ready.into_iter().for_each(|b| out.push(b));
                Some(summary)
            }
            ResponseReader::Json { api, body, bytes } if bytes <= JSON_READ_LIMIT => {
                let whole: Vec<u8> = body.concat();
                Some(parse_json_body(api, &whole))
            }
            ResponseReader::Json { .. } | ResponseReader::Ignore => None,
            ResponseReader::Decoded(decoded) => decoded.1.finish(out),
        }
    }
}

/// Bytes ready for the client. A single frame is passed on as it is; more are joined into one
/// buffer (a copy of a few KB costs far less than a write to the socket each).
#[derive(Default)]
pub struct Batch {
    first: Option<Bytes>,
    joined: BytesMut,
}

impl Batch {
    fn push(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        if self.first.is_none() && self.joined.is_empty() {
            self.first = Some(data);
            return;
        }
        if let Some(first) = self.first.take() {
            self.joined.reserve(first.len() + data.len());
            self.joined.extend_from_slice(&first);
        }
        self.joined.extend_from_slice(&data);
    }

    fn len(&self) -> usize {
        self.first.as_ref().map_or(self.joined.len(), Bytes::len)
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn take(&mut self) -> Option<Bytes> {
        self.first
            .take()
            .or_else(|| (!self.joined.is_empty()).then(|| self.joined.split().freeze()))
    }
}

/// What a response body hands hyper when it fails.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// A response that broke off (upstream's fault, or agentprof cutting calls off at shutdown),
/// recorded and passed on as an error once everything read before it has reached the client.
struct Fault {
    kind: CallErrorKind,
    /// What happened, e.g. "upstream broke off the body after 436 bytes (…)".
    message: String,
    error: BodyError,
    summary: Option<ResponseSummary>,
}

/// agentprof itself ended the response (shutdown).
#[derive(Debug, thiserror::Error)]
#[error("agentprof stopped while the response was in flight")]
struct CutOff;

/// The body the client receives.
pub struct TeeBody {
    inner: ResponseBody,
    reader: Option<ResponseReader>,
    tracker: Option<CallTracker>,
    link: Arc<ClientLink>,
    /// `link.handed()` when this response began: its own bytes are counted from there.
    start: u64,
    /// `link.flushes()` when a frame was last handed to hyper (or hyper first asked for one,
    /// its head then written): a fault waits for a flush after it.
    flush_mark: Option<u64>,
    /// Bytes read from upstream, not yet handed to the client.
    batch: Batch,
    upstream_done: bool,
    /// Trailers to pass on once the batch is out.
    trailers: Option<Frame<Bytes>>,
    /// A fault to pass on once the batch is out and flushed.
    fault: Option<Fault>,
    /// The first batch, gathered before the response head was handed to hyper.
    prefilled: Option<Bytes>,
}

impl TeeBody {
    pub fn new(
        inner: ResponseBody,
        reader: ResponseReader,
        tracker: CallTracker,
        link: Arc<ClientLink>,
    ) -> TeeBody {
        TeeBody {
            inner,
            reader: Some(reader),
            tracker: Some(tracker),
            start: link.handed(),
            link,
            flush_mark: None,
            batch: Batch::default(),
            upstream_done: false,
            trailers: None,
            fault: None,
            prefilled: None,
        }
    }

    /// Takes what upstream has already sent (usually its first events came in the read that
    /// brought the head), so that the response head leaves in the same write as the first
    /// bytes of the body: one write and one wake-up of the client instead of two.
    pub async fn prefill(&mut self) {
        std::future::poll_fn(|cx| {
            if let Poll::Ready(data) = self.poll_batch(cx) {
                self.prefilled = data;
            }
            Poll::Ready(())
        })
        .await;
    }

    /// Bytes of this response handed to hyper so far.
    fn handed(&self) -> u64 {
        self.link.handed().saturating_sub(self.start)
    }

    /// Bytes of this response known to be in the client's socket.
    fn written(&self) -> u64 {
        self.link
            .written()
            .min(self.link.handed())
            .saturating_sub(self.start)
    }

    /// Upstream's body ended normally: the call is recorded now, with the bytes the client is
    /// about to get.
    fn complete(&mut self) {
        self.upstream_done = true;
        let summary = self.reader.take().and_then(|r| r.finish(&mut self.batch));
        if let Some(mut tracker) = self.tracker.take() {
            tracker.delivered(self.handed() + self.batch.len() as u64, None);
            tracker.finish(summary, Ending::Complete);
        }
    }

    /// The response breaks off: what was read (and what the stripper held back) still goes to
    /// the client, then the error — recorded once those bytes are out. `describe` says what
    /// happened, given the bytes read from upstream.
    fn break_off(
        &mut self,
        kind: CallErrorKind,
        describe: impl FnOnce(u64) -> String,
        error: BodyError,
    ) {
        self.upstream_done = true;
        let summary = self.reader.take().and_then(|r| r.finish(&mut self.batch));
        let read = self.tracker.as_ref().map_or(0, CallTracker::response_bytes);
        self.fault = Some(Fault {
            kind,
            message: describe(read),
            error,
            summary,
        });
    }

    /// Hands data to hyper, counting it.
    fn hand(&mut self, data: Bytes) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.link.hand(data.len());
        self.flush_mark = Some(self.link.flushes());
        Poll::Ready(Some(Ok(Frame::data(data))))
    }

    /// After the last data: trailers, or the fault once everything before it is flushed, or
    /// the end.
    fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        if let Some(trailers) = self.trailers.take() {
            return Poll::Ready(Some(Ok(trailers)));
        }
        if self.fault.is_none() {
            return Poll::Ready(None);
        }
        // An error makes hyper drop the connection without flushing what it holds: the head
        // and the last bytes must be out first.
        let mark = self.flush_mark.unwrap_or_else(|| self.link.flushes());
        std::task::ready!(self.link.poll_flushed_since(mark, cx));
        let Some(fault) = self.fault.take() else {
            return Poll::Ready(None);
        };
        if let Some(mut tracker) = self.tracker.take() {
            let sent = self.handed();
            tracker.delivered(sent, Some(true));
            let message = format!("{}; all of it reached the client", fault.message);
            tracker.finish(fault.summary, Ending::Failed(fault.kind, message));
        }
        Poll::Ready(Some(Err(fault.error)))
    }
}

impl Body for TeeBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        // hyper asks for the body only once the head is in its buffer.
        if this.flush_mark.is_none() {
            this.flush_mark = Some(this.link.flushes());
        }
        if let Some(data) = this.prefilled.take() {
            return this.hand(data);
        }
        match std::task::ready!(this.poll_batch(cx)) {
            Some(data) => this.hand(data),
            None => this.poll_end(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.prefilled.is_none()
            && self.upstream_done
            && self.batch.is_empty()
            && self.trailers.is_none()
            && self.fault.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        if let Some(ResponseReader::Stripped(_)) = self.reader {
            return SizeHint::default();
        }
        // What is held here is still to come: hyper takes an exact hint for the length of a
        // body whose head it has not written yet (a prefilled body would otherwise be sent
        // with `Content-Length: 0`).
        let held = self.batch.len() as u64 + self.prefilled.as_ref().map_or(0, |d| d.len() as u64);
        let inner = self.inner.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(inner.lower() + held);
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper + held);
        }
        hint
    }
}

impl TeeBody {
    /// The next batch for the client (see the module docs); `None` once upstream's data has
    /// all been passed on.
    fn poll_batch(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = self;
        loop {
            if this.upstream_done {
                return Poll::Ready(this.batch.take());
            }
            if this.link.is_cut_off() {
                this.break_off(
                    CallErrorKind::Shutdown,
                    |read| {
                        format!(
                            "agentprof stopped while the call was in flight and cut it off \
                             after {read} bytes"
                        )
                    },
                    Box::new(CutOff),
                );
                continue;
            }
            if this.batch.len() >= BATCH_LIMIT {
                return Poll::Ready(this.batch.take());
            }
            let polled = match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(polled) => polled,
                Poll::Pending if this.batch.is_empty() => return Poll::Pending,
                Poll::Pending => return Poll::Ready(this.batch.take()),
            };
            match polled {
                Some(Ok(frame)) => {
                    let data = match frame.into_data() {
                        Ok(data) => data,
                        Err(trailers) => {
                            // Trailers end the body: after whatever is batched.
                            this.complete();
                            this.trailers = Some(trailers);
                            continue;
                        }
                    };
                    if let Some(tracker) = this.tracker.as_mut() {
                        tracker.on_response_data(&data);
                    }
                    match this.reader.as_mut() {
                        Some(reader) => reader.feed(data, &mut this.batch),
                        None => this.batch.push(data),
                    }
                    // A body of known length ends with its last byte: hyper will not poll
                    // again once the client has it all, so the call is complete now.
                    if this.inner.is_end_stream() {
                        this.complete();
                    }
                }
                Some(Err(err)) => {
                    let cause = err.to_string();
                    this.break_off(
                        CallErrorKind::UpstreamBody,
                        |read| format!("upstream broke off the body after {read} bytes: {cause}"),
                        Box::new(err),
                    );
                }
                None => this.complete(),
            }
        }
    }
}

impl Drop for TeeBody {
    fn drop(&mut self) {
        let Some(mut tracker) = self.tracker.take() else {
            return;
        };
        // hyper let go of the body before its end: the client went away (or agentprof's
        // shutdown dropped the connection).
        let (summary, fault) = match self.fault.take() {
            Some(fault) => (fault.summary, Some((fault.kind, fault.message))),
            None => (
                self.reader.take().and_then(|r| r.finish(&mut self.batch)),
                None,
            ),
        };
        let written = self.written();
        // Everything read was handed over (nothing batched, nothing held back by a reader)
        // and written out.
        let all = self.batch.is_empty() && self.prefilled.is_none() && written >= self.handed();
        tracker.delivered(written, Some(all));
        let (kind, message) = match fault {
            Some((kind, message)) => (
                kind,
                format!("{message}; the client's connection ended after {written} bytes of it"),
            ),
            None => {
                let read = tracker.response_bytes();
                (
                    CallErrorKind::ClientDisconnected,
                    format!(
                        "client disconnected after receiving {written} bytes ({read} read so \
                         far); upstream call cancelled"
                    ),
                )
            }
        };
        tracker.finish(summary, Ending::Failed(kind, message));
    }
}
