//! The response body on its way to the client: forwarded frame by frame, read on the side.
//!
//! [`TeeBody`] hands every upstream frame to the client the moment it arrives and feeds the same
//! bytes (no copy) to the usage reader. The call is recorded exactly once: when the stream ends,
//! when it breaks, or — if the client goes away first — when hyper drops the body, which also
//! drops the upstream connection and so cancels the upstream call.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use super::call::{CallTracker, Ending};
use super::decoded::Decoding;
use crate::capture::usage::strip::IncludeUsageStripper;
use crate::capture::usage::{ResponseSummary, StreamUsageParser, parse_json_body};
use crate::observation::{ApiKind, CallErrorKind};

/// Largest non-streaming body (or error body) read for usage; beyond it the body still flows
/// to the client untouched, only its usage is not read.
const JSON_READ_LIMIT: usize = 16 << 20;

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
    fn feed(&mut self, data: &Bytes, out: &mut VecDeque<Bytes>) -> bool {
        match self {
            ResponseReader::Sse(parser) => {
                parser.feed(data);
                false
            }
            ResponseReader::Stripped(stripper) => {
                let mut ready = Vec::new();
                stripper.push(data.clone(), &mut ready);
                out.extend(ready);
                true
            }
            ResponseReader::Json { body, bytes, .. } => {
                *bytes += data.len();
                if *bytes <= JSON_READ_LIMIT {
                    body.push(data.clone());
                }
                false
            }
            ResponseReader::Ignore => false,
            ResponseReader::Decoded(decoded) => {
                let (decoding, inner) = &mut **decoded;
                let plain = decoding.decode(data);
                // `decoded::wrap` never puts a re-framing reader behind a decoder.
                if !plain.is_empty() {
                    inner.feed(&plain, out);
                }
                false
            }
        }
    }

    fn finish(self, out: &mut VecDeque<Bytes>) -> Option<ResponseSummary> {
        match self {
            ResponseReader::Sse(parser) => Some(parser.finish()),
            ResponseReader::Stripped(stripper) => {
                let mut ready = Vec::new();
                let summary = stripper.finish(&mut ready);
                out.extend(ready);
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

/// The body the client receives.
pub struct TeeBody {
    inner: Incoming,
    reader: Option<ResponseReader>,
    tracker: Option<CallTracker>,
    /// Frames ready for the client (only used when the stripper re-frames the stream).
    pending: VecDeque<Bytes>,
    upstream_done: bool,
    /// An upstream error to pass on once `pending` is drained.
    deferred_error: Option<hyper::Error>,
}

impl TeeBody {
    pub fn new(inner: Incoming, reader: ResponseReader, tracker: CallTracker) -> TeeBody {
        TeeBody {
            inner,
            reader: Some(reader),
            tracker: Some(tracker),
            pending: VecDeque::new(),
            upstream_done: false,
            deferred_error: None,
        }
    }

    fn end(&mut self, ending: Ending) {
        let summary = self.reader.take().and_then(|r| r.finish(&mut self.pending));
        if let Some(tracker) = self.tracker.take() {
            tracker.finish(summary, ending);
        }
    }
}

impl Body for TeeBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        loop {
            if let Some(ready) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(Frame::data(ready))));
            }
            if let Some(err) = this.deferred_error.take() {
                return Poll::Ready(Some(Err(err)));
            }
            if this.upstream_done {
                return Poll::Ready(None);
            }
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    let data = match frame.into_data() {
                        Ok(data) => data,
                        Err(trailers) => return Poll::Ready(Some(Ok(trailers))),
                    };
                    if let Some(tracker) = this.tracker.as_mut() {
                        tracker.on_response_data(&data);
                    }
                    let reframed = match this.reader.as_mut() {
                        Some(reader) => reader.feed(&data, &mut this.pending),
                        None => false,
                    };
                    // A body of known length ends with its last byte: hyper will not poll
                    // again once the client has it all, so the call is complete now.
                    if this.inner.is_end_stream() {
                        this.upstream_done = true;
                        this.end(Ending::Complete);
                    }
                    if !reframed {
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                }
                Some(Err(err)) => {
                    this.upstream_done = true;
                    let message = format!("upstream body broke off: {err}");
                    this.end(Ending::Failed(CallErrorKind::UpstreamBody, message));
                    // What the stripper held back still reaches the client, then the error,
                    // which makes hyper abort the client connection just as upstream's broke.
                    this.deferred_error = Some(err);
                }
                None => {
                    this.upstream_done = true;
                    this.end(Ending::Complete);
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.upstream_done && self.pending.is_empty() && self.deferred_error.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.reader {
            Some(ResponseReader::Stripped(_)) => SizeHint::default(),
            _ => self.inner.size_hint(),
        }
    }
}

impl Drop for TeeBody {
    fn drop(&mut self) {
        if self.tracker.is_some() {
            self.end(Ending::Failed(
                CallErrorKind::ClientDisconnected,
                "client disconnected before the response ended; upstream call cancelled".into(),
            ));
        }
    }
}
