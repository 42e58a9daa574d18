//! The mock's response body: a fixed list of chunks, optionally paced, optionally ending in an
//! error so hyper aborts the connection mid-body (how the mock simulates a reset).

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// Turns of the connection task an injected abort waits, so hyper flushes the bytes already
/// written — it flushes only when the body is pending, and an error ends the connection without
/// a flush — and no longer: the last bytes and the break leave together, as when a server dies,
/// and reach the proxy in the same read.
const ABORT_FLUSH_YIELDS: u8 = 2;

#[derive(Debug)]
pub(crate) struct MockBody {
    chunks: VecDeque<Bytes>,
    abort_at_end: bool,
    delay: Option<Duration>,
    sleep: Option<Pin<Box<Sleep>>>,
    started: bool,
    abort_yields: u8,
    exact_len: Option<u64>,
}

impl MockBody {
    /// A complete body sent in one piece, with a `Content-Length`.
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        let len = bytes.len() as u64;
        let mut body = Self::chunks(vec![bytes], None, false);
        body.exact_len = Some(len);
        body
    }

    /// A chunked body: `delay` between chunks; `abort_at_end` turns the end into an error.
    pub(crate) fn chunks(chunks: Vec<Bytes>, delay: Option<Duration>, abort_at_end: bool) -> Self {
        MockBody {
            chunks: chunks.into(),
            abort_at_end,
            delay,
            sleep: None,
            started: false,
            abort_yields: 0,
            exact_len: None,
        }
    }

    fn poll_sleep(&mut self, cx: &mut Context<'_>, d: Duration) -> Poll<()> {
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(d)));
        ready!(sleep.as_mut().poll(cx));
        self.sleep = None;
        Poll::Ready(())
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.chunks.is_empty() {
            if !this.abort_at_end {
                return Poll::Ready(None);
            }
            if this.abort_yields < ABORT_FLUSH_YIELDS {
                this.abort_yields += 1;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            this.abort_at_end = false;
            let err = io::Error::new(io::ErrorKind::ConnectionReset, "mock: injected reset");
            return Poll::Ready(Some(Err(err)));
        }
        if let Some(d) = this.delay.filter(|_| this.started) {
            ready!(this.poll_sleep(cx, d));
        }
        this.started = true;
        Poll::Ready(this.chunks.pop_front().map(|c| Ok(Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty() && !self.abort_at_end
    }

    fn size_hint(&self) -> SizeHint {
        self.exact_len.map(SizeHint::with_exact).unwrap_or_default()
    }
}
