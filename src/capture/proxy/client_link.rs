//! How far the response bytes got on their way to the client.
//!
//! hyper writes a response body into its own buffer and flushes that buffer to the socket only
//! when the body has nothing ready. A body that hands over its last bytes and then an error (the
//! upstream broke off) loses those bytes: hyper ends the connection on the error without
//! flushing. So a body that must end in an error waits until its bytes have left — which only the
//! connection's I/O can tell: [`ClientIo`] wraps the client's socket and notes every flush, and
//! how many body bytes had been handed to hyper by then. hyper flushes its socket only once its
//! buffer is empty, so every byte handed over before a flush — the response head included — has
//! reached the kernel after it.
//!
//! One [`ClientLink`] per client connection. HTTP/1 answers one request at a time, so the
//! counts are kept for the whole connection and each response compares against its own marks.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

/// The shared counts of one client connection.
#[derive(Debug, Default)]
pub struct ClientLink {
    /// Response body bytes handed to hyper on this connection, in total.
    handed: AtomicU64,
    /// Of those, the bytes known to have been written to the socket.
    written: AtomicU64,
    /// Flushes of the socket so far.
    flushes: AtomicU64,
    /// A body is waiting for a flush (spares the lock on every other flush).
    has_waiting: AtomicBool,
    /// The body waiting for a flush.
    waiting: Mutex<Option<Waker>>,
    /// The proxy is cutting off calls in flight (shutdown).
    cut_off: AtomicBool,
    /// The task splicing the connection after a WebSocket upgrade: the connection lives on in
    /// it once hyper has let go, and is served until it ends.
    upgraded: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl ClientLink {
    pub fn new() -> Arc<ClientLink> {
        Arc::default()
    }

    /// Counts bytes handed to hyper; returns the total so far on this connection.
    pub fn hand(&self, bytes: usize) -> u64 {
        // One task handles the connection: ordering between the counts does not matter.
        self.handed.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64
    }

    /// The total handed so far on this connection.
    pub fn handed(&self) -> u64 {
        self.handed.load(Ordering::Relaxed)
    }

    /// The total known to be written to the socket.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Flushes of the socket so far: a mark for [`ClientLink::poll_flushed_since`].
    pub fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::Acquire)
    }

    /// `Ready` once the socket has been flushed after `mark` was taken; otherwise wakes `cx`
    /// at the next flush.
    pub fn poll_flushed_since(&self, mark: u64, cx: &mut Context<'_>) -> Poll<()> {
        if self.flushes() > mark {
            return Poll::Ready(());
        }
        *self.waiting.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
        self.has_waiting.store(true, Ordering::Release);
        // A flush between the check and the registration would have found no waker.
        if self.flushes() > mark {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// hyper's buffer is empty: everything handed to it is in the socket.
    fn flushed(&self) {
        self.written.store(self.handed(), Ordering::Relaxed);
        self.flushes.fetch_add(1, Ordering::AcqRel);
        if !self.has_waiting.swap(false, Ordering::AcqRel) {
            return;
        }
        let waiting = self
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(waker) = waiting {
            waker.wake();
        }
    }

    /// Asks the response in flight to end (after passing on what it read).
    pub fn cut_off(&self) {
        self.cut_off.store(true, Ordering::Release);
    }

    pub fn is_cut_off(&self) -> bool {
        self.cut_off.load(Ordering::Acquire)
    }

    /// The connection was upgraded; `task` now serves it.
    pub fn set_upgraded(&self, task: tokio::task::JoinHandle<()>) {
        *self.upgraded.lock().unwrap_or_else(PoisonError::into_inner) = Some(task);
    }

    /// The task serving the upgraded connection, if it was upgraded.
    pub fn take_upgraded(&self) -> Option<tokio::task::JoinHandle<()>> {
        self.upgraded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// The client connection's I/O, reporting flushes to its [`ClientLink`].
pub struct ClientIo<T> {
    inner: T,
    link: Arc<ClientLink>,
}

impl<T> ClientIo<T> {
    pub fn new(inner: T, link: Arc<ClientLink>) -> ClientIo<T> {
        ClientIo { inner, link }
    }
}

impl<T: hyper::rt::Read + Unpin> hyper::rt::Read for ClientIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: hyper::rt::Write + Unpin> hyper::rt::Write for ClientIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let flushed = Pin::new(&mut this.inner).poll_flush(cx);
        if let Poll::Ready(Ok(())) = flushed {
            this.link.flushed();
        }
        flushed
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Wake;

    struct Count(AtomicU64);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn bytes_count_as_written_only_after_a_flush_and_the_waiting_body_is_woken() {
        let link = ClientLink::new();
        let wakes = Arc::new(Count(AtomicU64::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        assert_eq!(link.hand(436), 436);
        let mark = link.flushes();
        assert_eq!(link.written(), 0);
        assert!(link.poll_flushed_since(mark, &mut cx).is_pending());
        link.flushed();
        assert_eq!(wakes.0.load(Ordering::Relaxed), 1);
        assert!(link.poll_flushed_since(mark, &mut cx).is_ready());
        assert_eq!(link.written(), 436);
        // Handed later: not written by the earlier flush.
        assert_eq!(link.hand(10), 446);
        let mark = link.flushes();
        assert_eq!(link.written(), 436);
        assert!(link.poll_flushed_since(mark, &mut cx).is_pending());
        // A flush nobody waits for wakes nobody.
        link.flushed();
        link.flushed();
        assert_eq!(wakes.0.load(Ordering::Relaxed), 2);
        assert_eq!(link.written(), 446);
    }
}
