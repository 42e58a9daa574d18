//! Accepting connections, serving each on a worker, and ending them when the proxy stops:
//! idle ones close, a call in flight finishes, or — when calls are cut off — ends after what was
//! read has reached its client.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::client_link::{ClientIo, ClientLink};
use super::server::{Handler, Phase};
use super::workers::{Assignment, Workers};

/// How long, at shutdown, a response cut off may take to hand its last bytes to the client.
const CUT_OFF_FLUSH_LIMIT: Duration = Duration::from_secs(2);

/// Hands each accepted connection to the least busy worker until the proxy stops running; then
/// waits for the open connections to end, and at cut-off drops those that do not in time.
pub(super) async fn accept_loop(
    listener: TcpListener,
    workers: &Workers<Arc<Handler>>,
    mut phase: watch::Receiver<Phase>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted.and_then(|(s, _)| s.into_std()) {
                Ok(stream) => {
                    if let Some(worker) = workers.least_busy() {
                        let runtime = worker.runtime.clone();
                        connections.spawn_on(on_worker(stream, worker, phase.clone()), &runtime);
                    }
                }
                Err(err) => {
                    // Usually EMFILE: back off instead of spinning.
                    tracing::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            // Reap finished connections so the set does not grow with every one ever served.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            changed = phase.changed() => {
                if changed.is_err() || *phase.borrow() != Phase::Running {
                    break;
                }
            }
        }
    }
    drop(listener);
    loop {
        tokio::select! {
            next = connections.join_next() => if next.is_none() { break },
            changed = phase.changed() => {
                if changed.is_err() || *phase.borrow() == Phase::CutOff {
                    // Each connection cuts its call off itself, once what was read has reached
                    // its client (`serve_connection`); only the ones that cannot are dropped.
                    let ended = async { while connections.join_next().await.is_some() {} };
                    let _ = tokio::time::timeout(CUT_OFF_FLUSH_LIMIT, ended).await;
                    connections.shutdown().await;
                    break;
                }
            }
        }
    }
}

/// Serves a connection on the worker it was handed to (registering it with that worker's
/// runtime), counting it as open meanwhile.
async fn on_worker(
    stream: std::net::TcpStream,
    worker: Assignment<Arc<Handler>>,
    phase: watch::Receiver<Phase>,
) {
    match tokio::net::TcpStream::from_std(stream) {
        Ok(stream) => serve_connection(stream, worker.state.clone(), phase).await,
        Err(err) => tracing::warn!("cannot serve a connection: {err}"),
    }
    drop(worker);
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    handler: Arc<Handler>,
    mut phase: watch::Receiver<Phase>,
) {
    let _ = stream.set_nodelay(true);
    let link = ClientLink::new();
    let service_link = link.clone();
    let service = service_fn(move |req| {
        let handler = handler.clone();
        let link = service_link.clone();
        async move { Ok::<_, Infallible>(handler.handle(req, link).await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(ClientIo::new(TokioIo::new(stream), link.clone()), service)
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = draining(&mut phase) => {
            // Finish the request being served, then close instead of keeping alive.
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => result,
                () = cutting_off(&mut phase) => {
                    // The response in flight ends here, after what was read has gone out;
                    // a client that reads nothing more is dropped with the connection.
                    link.cut_off();
                    tokio::time::timeout(CUT_OFF_FLUSH_LIMIT, connection)
                        .await
                        .unwrap_or(Ok(()))
                }
            }
        }
    };
    if let Err(err) = result {
        tracing::debug!("client connection ended: {err}");
    }
    // An upgraded connection lives on in its splice: served until it ends, or cut off with
    // the calls in flight (dropping the splice records its open calls as cut off).
    if let Some(mut splice) = link.take_upgraded() {
        tokio::select! {
            _ = &mut splice => {}
            () = cutting_off(&mut phase) => splice.abort(),
        }
    }
}

/// Resolves once the proxy stops running.
async fn draining(phase: &mut watch::Receiver<Phase>) {
    while *phase.borrow_and_update() == Phase::Running {
        if phase.changed().await.is_err() {
            return;
        }
    }
}

/// Resolves once calls still in flight are to be cut off.
async fn cutting_off(phase: &mut watch::Receiver<Phase>) {
    while *phase.borrow_and_update() != Phase::CutOff {
        if phase.changed().await.is_err() {
            return;
        }
    }
}
