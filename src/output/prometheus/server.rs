//! The HTTP side: `GET /metrics` on a listener of its own, served on the current tokio runtime.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::metrics::Metrics;
use crate::guard::Guard;

/// What `/metrics` answers with: the OpenMetrics text format, which prometheus-client writes
/// and Prometheus asks for first in its `Accept` header.
pub const CONTENT_TYPE_OPENMETRICS: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Accepts connections until `stopped` turns true.
pub fn spawn(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    guard: Arc<Guard>,
    stopped: watch::Receiver<bool>,
) {
    tokio::spawn(crate::net::accept_until(
        listener,
        stopped.clone(),
        "prometheus exporter",
        move |stream| serve(stream, metrics.clone(), guard.clone(), stopped.clone()),
    ));
}

fn serve(
    stream: TcpStream,
    metrics: Arc<Metrics>,
    guard: Arc<Guard>,
    stopped: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let service = service_fn(move |req| {
            let metrics = metrics.clone();
            let guard = guard.clone();
            async move {
                let response = match guard.screen(&req) {
                    None => {
                        refresh_findings(&metrics, &req).await;
                        handle(&metrics, &req)
                    }
                    Some(refused) => refused.map(Full::new),
                };
                Ok::<_, Infallible>(response)
            }
        });
        crate::net::serve_until(stream, service, stopped, "prometheus scrape").await;
    });
}

/// Re-evaluates the findings before a scrape when they are due, on tokio's blocking pool: an
/// evaluation takes milliseconds to a few hundred of them (a day of samples), too long for an
/// async worker the proxy's tasks share. The scrape waits for it, so it gets fresh findings.
async fn refresh_findings(metrics: &Arc<Metrics>, req: &Request<Incoming>) {
    if req.uri().path() != "/metrics" || !metrics.findings().due(Instant::now()) {
        return;
    }
    let metrics = metrics.clone();
    let refreshed =
        tokio::task::spawn_blocking(move || metrics.findings().refresh(Instant::now())).await;
    if let Err(err) = refreshed {
        tracing::warn!("prometheus exporter: evaluating the findings failed: {err}");
    }
}

fn handle(metrics: &Metrics, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.uri().path() != "/metrics" {
        return plain(StatusCode::NOT_FOUND, "agentprof serves GET /metrics\n");
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "use GET\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match metrics.encode() {
        Ok(text) => {
            let mut response = Response::new(Full::new(Bytes::from(text)));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(CONTENT_TYPE_OPENMETRICS),
            );
            response
        }
        Err(err) => {
            tracing::warn!("prometheus exporter: encoding failed: {err}");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "encoding failed\n")
        }
    }
}

fn plain(status: StatusCode, message: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(message.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
