//! The accept loop and connection handling agentprof's small loopback servers share (the
//! telemetry receiver, `/metrics`).

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

/// Serves one HTTP/1.1 connection until it ends, or until `stopped` turns true — then the
/// request being served is finished and the connection closed instead of kept alive.
pub async fn serve_until<S, B>(
    stream: TcpStream,
    service: S,
    mut stopped: watch::Receiver<bool>,
    name: &'static str,
) where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let _ = stream.set_nodelay(true);
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = stopping(&mut stopped) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(err) = result {
        tracing::debug!("{name} connection ended: {err}");
    }
}
