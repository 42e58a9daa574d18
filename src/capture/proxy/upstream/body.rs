//! The upstream response body, read straight from the upstream connection in bulk.
//!
//! Each poll hands on everything the connection has delivered, chunk framing stripped: an
//! answer that arrived in one read leaves as one frame. The body is read in the task of the
//! client's connection (no task of its own, no channel between them), and when it ends cleanly
//! its connection goes back to the pool.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};

use super::chunked::{ChunkError, ChunkedDecoder};
use super::wire::ResponseFraming;
use super::{Connection, Pool};

/// Spare room asked of the read buffer before each read: a typical answer in one read, and
/// large bodies in 64 KiB steps.
const READ_ROOM: usize = 64 << 10;

/// Why the body could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum ResponseBodyError {
    #[error("upstream closed the connection before the body's end")]
    Closed,
    #[error("reading from upstream failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("upstream sent a malformed chunked body: {0}")]
    Chunked(#[from] ChunkError),
}

/// Where the body is.
#[derive(Debug)]
enum Decode {
    Length(u64),
    Chunked(ChunkedDecoder),
    UntilClose,
    Done,
}

/// An upstream response body.
pub struct ResponseBody {
    conn: Option<Connection>,
    decode: Decode,
    /// The connection may serve another request once this body has ended.
    keep_alive: bool,
    pool: Arc<Pool>,
}

impl ResponseBody {
    pub(super) fn new(
        conn: Connection,
        framing: ResponseFraming,
        keep_alive: bool,
        pool: Arc<Pool>,
    ) -> ResponseBody {
        let decode = match framing {
            ResponseFraming::Empty => Decode::Done,
            ResponseFraming::Length(n) => Decode::Length(n),
            ResponseFraming::Chunked => Decode::Chunked(ChunkedDecoder::default()),
            ResponseFraming::UntilClose => Decode::UntilClose,
        };
        let mut body = ResponseBody {
            conn: Some(conn),
            decode,
            keep_alive: keep_alive && framing != ResponseFraming::UntilClose,
            pool,
        };
        if matches!(body.decode, Decode::Done) {
            body.end();
        }
        body
    }

    /// The body has ended cleanly: its connection goes back to the pool if it can serve
    /// another request (nothing unread left on it).
    fn end(&mut self) {
        self.decode = Decode::Done;
        if let Some(conn) = self.conn.take()
            && self.keep_alive
            && conn.buf.is_empty()
        {
            self.pool.put(conn);
        }
    }

    /// Takes what the buffer holds of the body, if anything.
    fn take_buffered(&mut self) -> Result<Option<Bytes>, ResponseBodyError> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(None);
        };
        let (data, ended) = match &mut self.decode {
            Decode::Done => (None, false),
            Decode::Length(remaining) => {
                if conn.buf.is_empty() {
                    return Ok(None);
                }
                let take = conn
                    .buf
                    .len()
                    .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                *remaining -= take as u64;
                (Some(conn.buf.split_to(take).freeze()), *remaining == 0)
            }
            Decode::Chunked(decoder) => {
                let mut out = BytesMut::with_capacity(conn.buf.len());
                decoder.decode(&mut conn.buf, &mut out)?;
                ((!out.is_empty()).then(|| out.freeze()), decoder.is_done())
            }
            Decode::UntilClose => (
                (!conn.buf.is_empty()).then(|| conn.buf.split().freeze()),
                false,
            ),
        };
        if ended {
            self.end();
        }
        Ok(data)
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = ResponseBodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ResponseBodyError>>> {
        let this = self.get_mut();
        loop {
            match this.take_buffered() {
                Ok(Some(data)) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                Ok(None) => {}
                // A broken body keeps its state: a body of declared length still declares it
                // (hyper has written it into the client's head).
                Err(err) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(err)));
                }
            }
            if matches!(this.decode, Decode::Done) {
                return Poll::Ready(None);
            }
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            if conn.buf.capacity() - conn.buf.len() < READ_ROOM / 4 {
                conn.buf.reserve(READ_ROOM);
            }
            let read = ready!(tokio_util::io::poll_read_buf(
                Pin::new(&mut conn.io),
                cx,
                &mut conn.buf
            ));
            match read {
                Ok(0) => {
                    this.conn = None;
                    if matches!(this.decode, Decode::UntilClose) {
                        this.decode = Decode::Done;
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Err(ResponseBodyError::Closed)));
                }
                Ok(_) => {}
                Err(err) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(err.into())));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.decode, Decode::Done)
    }

    fn size_hint(&self) -> SizeHint {
        match self.decode {
            Decode::Done => SizeHint::with_exact(0),
            Decode::Length(n) => SizeHint::with_exact(n),
            _ => SizeHint::default(),
        }
    }
}
