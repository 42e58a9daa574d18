//! Moving the bytes of an upgraded connection both ways, untouched, each direction handing the
//! tap a copy of what it has written.
//!
//! Each read is written whole before the next read, and handed to the tap only once written:
//! what the tap sees is what the other end got. When one side ends (closes, breaks), the other
//! side's write half is shut after everything read has been written — the client of an
//! upstream that broke off gets every byte upstream sent, then the end of the connection, as
//! it would have without the proxy.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::tap::Tap;

/// How long the other direction may still run once one has ended: a client answering a close
/// frame, or an upstream answering the client's.
pub(super) const OTHER_SIDE_GRACE: Duration = Duration::from_secs(10);

/// Which way bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Way {
    ClientToUpstream,
    UpstreamToClient,
}

/// How one direction ended.
#[derive(Debug)]
pub(super) enum End {
    /// The sending side closed its connection.
    Closed,
    /// Reading from the sending side failed (a reset).
    ReadFailed(std::io::Error),
    /// Writing to the receiving side failed: it went away.
    WriteFailed(std::io::Error),
}

/// What one direction did.
#[derive(Debug)]
pub(super) struct Pumped {
    pub end: End,
    pub read: u64,
    pub written: u64,
}

/// Copies `from` into `to` until either ends, `first` (bytes already read) before the rest.
pub(super) async fn pump<R, W>(
    mut from: R,
    mut to: W,
    first: Bytes,
    way: Way,
    tap: &Mutex<Tap>,
) -> Pumped
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut pumped = Pumped {
        end: End::Closed,
        read: first.len() as u64,
        written: 0,
    };
    let mut pending = first;
    let mut buf = BytesMut::with_capacity(16 << 10);
    loop {
        if !pending.is_empty() {
            if let Err(err) = write(&mut to, &pending).await {
                pumped.end = End::WriteFailed(err);
                return pumped;
            }
            pumped.written += pending.len() as u64;
            let mut tap = tap.lock().unwrap_or_else(PoisonError::into_inner);
            match way {
                Way::ClientToUpstream => tap.read_client(&pending),
                Way::UpstreamToClient => tap.read_server(&pending),
            }
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(16 << 10);
        }
        match from.read_buf(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                pumped.read += n as u64;
                pending = buf.split().freeze();
            }
            Err(err) => {
                pumped.end = End::ReadFailed(err);
                break;
            }
        }
    }
    // Everything read has been written: pass the end on.
    let _ = to.shutdown().await;
    pumped
}

async fn write<W: AsyncWrite + Unpin>(to: &mut W, bytes: &[u8]) -> std::io::Result<()> {
    to.write_all(bytes).await?;
    to.flush().await
}
