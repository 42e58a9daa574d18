//! Outgoing HTTP: the connector every outgoing connection is opened with (TCP, then TLS through
//! rustls with embedded roots for `https`; plain HTTP for loopback), and the pooled hyper client
//! that forwards telemetry. The proxy's upstream calls use their own client on the same
//! connector (`capture::proxy::upstream`).

use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// How long to wait for a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an idle pooled connection is kept.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// A pooled client sending bodies of type `B`.
pub fn build<B>() -> Client<HttpsConnector<HttpConnector>, B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
{
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build(connector())
}

/// Opens connections: TCP with TCP_NODELAY (without it small frames wait for Nagle's algorithm
/// and tail latency grows by milliseconds), then TLS for `https` URLs.
pub fn connector() -> HttpsConnector<HttpConnector> {
    // Installing fails only when a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.set_keepalive(Some(Duration::from_secs(60)));
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}
