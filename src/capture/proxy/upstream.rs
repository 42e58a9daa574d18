//! The upstream HTTP client every proxied call goes through.

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

use super::request_body::UpstreamBody;

/// The client every proxied call goes through.
pub type UpstreamClient = Client<HttpsConnector<HttpConnector>, UpstreamBody>;

/// Builds the shared upstream client.
pub fn build_client() -> UpstreamClient {
    crate::capture::http_client::build()
}
