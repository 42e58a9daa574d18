//! The accept loop agentprof's small loopback servers share (the telemetry receiver, `/metrics`).

use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Hands every accepted connection to `on_stream` until `stop` turns true (or its sender goes).
pub async fn accept_until(
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
    name: &'static str,
    mut on_stream: impl FnMut(TcpStream),
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => on_stream(stream),
                Err(err) => {
                    // Usually EMFILE: back off instead of spinning.
                    tracing::warn!("{name}: accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = stopping(&mut stop) => break,
        }
    }
}

/// Resolves once shutdown is asked for (or the sender is dropped).
pub async fn stopping(stopped: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it before resolving.
    let _ = stopped.wait_for(|&s| s).await.map(drop);
}
