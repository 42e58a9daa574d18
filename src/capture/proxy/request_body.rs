//! The request body on its way upstream: streamed frame by frame, skimmed as it passes.
//!
//! Each frame is forwarded as soon as it arrives — a 2 MB long-context body is never held up
//! waiting for the model name — and fed to a [`BodySkim`] on its way, which keeps only the
//! little that inspection reads. Nothing else of the body is kept: measured with
//! `scripts/bench-proxy`, parsing a list of frames afterwards took over half the proxy's CPU
//! on 2 MB bodies, copying them into one buffer to parse it cost a `memcpy` and fresh pages per
//! call, and keeping references to hyper's frames would pin its read buffers, so every request
//! would allocate (and fault in) new ones. Only `--capture-bodies` copies the body, to store it.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use crate::capture::request::BodySkim;

/// What was seen of a request body.
#[derive(Debug, Default)]
pub struct RequestCapture {
    /// Frames of a body read before forwarding, kept by reference.
    pub chunks: Vec<Bytes>,
    /// A streamed body, read as it is forwarded.
    pub skim: Option<BodySkim>,
    /// Copy the streamed body into `copied` (`--capture-bodies`, which stores it).
    pub keep_copy: bool,
    /// A streamed body, copied as it is forwarded while it stays under the size limit.
    pub copied: Vec<u8>,
    /// A zstd-compressed body (Codex with a ChatGPT login), kept whole instead of skimmed:
    /// it is read once complete (`crate::capture::request::coding`).
    pub zstd: Option<Vec<u8>>,
    pub bytes: u64,
    /// The body went past the size limit: forwarding was aborted (the client gets a 413).
    pub truncated: bool,
    /// The body was read to its end.
    pub complete: bool,
    /// The client's body broke off.
    pub error: Option<String>,
}

/// Shared between the body being forwarded and the call that inspects it afterwards.
#[derive(Debug, Clone, Default)]
pub struct SharedCapture(Arc<Mutex<RequestCapture>>);

impl RequestCapture {
    /// The body as seen so far, handed over (the capture keeps nothing of it).
    pub fn take_body(&mut self) -> Vec<Bytes> {
        let mut chunks = std::mem::take(&mut self.chunks);
        if !self.copied.is_empty() {
            chunks.push(Bytes::from(std::mem::take(&mut self.copied)));
        }
        chunks
    }

    /// Bytes the recording will still read: the skim's reduced body, or the whole body when
    /// it was not skimmed.
    pub fn bytes_to_read(&self) -> u64 {
        let stored = self.copied.len() as u64;
        match &self.skim {
            Some(skim) => skim.held_bytes() as u64 + stored,
            None => self.bytes + stored,
        }
    }
}

impl SharedCapture {
    pub fn lock(&self) -> MutexGuard<'_, RequestCapture> {
        // A panic while holding this lock cannot leave the capture inconsistent in a way that
        // matters (it only appends), so a poisoned lock is still used.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A capture for a body that streams upstream; `keep_copy` stores it (`--capture-bodies`);
    /// a `zstd` body is kept whole to be decoded.
    pub fn streaming(keep_copy: bool, complete: bool, zstd: bool) -> SharedCapture {
        SharedCapture(Arc::new(Mutex::new(RequestCapture {
            keep_copy,
            complete,
            zstd: zstd.then(Vec::new),
            ..RequestCapture::default()
        })))
    }

    /// A capture already holding a complete body (for bodies buffered before forwarding).
    pub fn complete(chunks: Vec<Bytes>) -> SharedCapture {
        let bytes = chunks.iter().map(|c| c.len() as u64).sum();
        SharedCapture(Arc::new(Mutex::new(RequestCapture {
            chunks,
            skim: None,
            keep_copy: false,
            copied: Vec::new(),
            zstd: None,
            bytes,
            truncated: false,
            complete: true,
            error: None,
        })))
    }
}

/// Why forwarding a body failed: the client's body broke off, or went past the size limit.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// A streamed body grew past the limit. A body that declares its length is refused before a
/// byte is read (`crate::guard`); this catches the chunked ones, which declare nothing.
#[derive(Debug, thiserror::Error)]
#[error("request body larger than {} MiB", .limit >> 20)]
pub struct BodyTooLarge {
    pub limit: u64,
}

/// The upstream request body.
pub enum UpstreamBody {
    /// The client's body, forwarded as it arrives and remembered in the capture; aborted past
    /// `limit` bytes.
    Streaming {
        inner: Incoming,
        capture: SharedCapture,
        limit: u64,
    },
    /// A body assembled before forwarding (possibly rewritten), sent as a few frames.
    Chunks(std::collections::VecDeque<Bytes>),
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            UpstreamBody::Chunks(chunks) => {
                Poll::Ready(chunks.pop_front().map(|c| Ok(Frame::data(c))))
            }
            UpstreamBody::Streaming {
                inner,
                capture,
                limit,
            } => {
                let polled = Pin::new(&mut *inner).poll_frame(cx);
                match &polled {
                    Poll::Ready(Some(Ok(frame))) => {
                        if let Some(data) = frame.data_ref() {
                            let mut capture = capture.lock();
                            capture.bytes += data.len() as u64;
                            if capture.bytes <= *limit {
                                match capture.zstd.as_mut() {
                                    Some(whole) => whole.extend_from_slice(data),
                                    None => capture.skim.get_or_insert_default().feed(data),
                                }
                                if capture.keep_copy {
                                    if capture.copied.capacity() == 0 {
                                        // Sized once from Content-Length (bounded by the limit).
                                        let expected =
                                            inner.size_hint().lower() + data.len() as u64;
                                        let reserve = expected.min(*limit);
                                        capture.copied.reserve_exact(reserve as usize);
                                    }
                                    capture.copied.extend_from_slice(data);
                                }
                            } else {
                                // Aborting the upstream request is what stops the body: without
                                // it, a chunked body would be forwarded without end.
                                let too_large = BodyTooLarge { limit: *limit };
                                capture.truncated = true;
                                capture.error = Some(too_large.to_string());
                                return Poll::Ready(Some(Err(Box::new(too_large))));
                            }
                        }
                    }
                    Poll::Ready(Some(Err(err))) => capture.lock().error = Some(err.to_string()),
                    Poll::Ready(None) => capture.lock().complete = true,
                    Poll::Pending => {}
                }
                polled.map_err(|err| Box::new(err) as BodyError)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            UpstreamBody::Chunks(chunks) => chunks.is_empty(),
            UpstreamBody::Streaming { inner, .. } => inner.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            UpstreamBody::Chunks(chunks) => {
                SizeHint::with_exact(chunks.iter().map(|c| c.len() as u64).sum())
            }
            UpstreamBody::Streaming { inner, .. } => inner.size_hint(),
        }
    }
}
