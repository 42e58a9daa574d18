//! The HTTP side both shapes share: one plain-HTTP client, a POST per call with a timeout, a
//! strict status check, and the body handed to the shape's reader — whole for JSON answers, frame
//! by frame for streams. What goes on the wire and how events are read is the shape's business.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::client::Answer;
use super::error::AgentError;
use crate::observation::Category;

/// Longest any single call may take before the agent gives up.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Reads one response body into an answer; each shape has its own.
pub(crate) trait Reader {
    /// Takes the next bytes of a streamed body.
    fn push(&mut self, bytes: &[u8]) -> Result<(), AgentError>;
    /// The answer once the stream ended; an error when it ended before its final event.
    fn finish(self) -> Result<Answer, AgentError>;
    /// Reads a non-streamed JSON body.
    fn json(&self, bytes: &[u8]) -> Result<Answer, AgentError>;
}

/// `base_url` + `path` as a plain-HTTP URI (the synthetic agent never speaks TLS).
pub(crate) fn endpoint(base_url: &str, path: &str) -> Result<Uri, AgentError> {
    let uri: Uri = format!("{}{path}", base_url.trim_end_matches('/'))
        .parse()
        .map_err(|_| AgentError::BadBaseUrl(base_url.to_string()))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(AgentError::BadBaseUrl(base_url.to_string()));
    }
    Ok(uri)
}

#[derive(Clone)]
pub(crate) struct Transport {
    http: Client<HttpConnector, Full<Bytes>>,
}

impl Transport {
    pub(crate) fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Transport {
            http: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// Sends `req` and reads the answer with `reader` (streamed when `stream`).
    pub(crate) async fn send<R: Reader>(
        &self,
        category: Category,
        req: Request<Full<Bytes>>,
        stream: bool,
        reader: R,
    ) -> Result<Answer, AgentError> {
        let call = self.send_inner(category, req, stream, reader);
        match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Ok(result) => result,
            Err(_) => Err(AgentError::Timeout(category, CALL_TIMEOUT)),
        }
    }

    async fn send_inner<R: Reader>(
        &self,
        cat: Category,
        req: Request<Full<Bytes>>,
        stream: bool,
        mut reader: R,
    ) -> Result<Answer, AgentError> {
        let resp = self
            .http
            .request(req)
            .await
            .map_err(|e| AgentError::Connect(cat, e.to_string()))?;
        let status = resp.status();
        let mut body = resp.into_body();
        if status != StatusCode::OK {
            let bytes = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes).chars().take(300).collect();
            return Err(AgentError::Status(cat, status.as_u16(), text));
        }
        if !stream {
            let bytes = body
                .collect()
                .await
                .map_err(|e| AgentError::Body(cat, e.to_string()))?
                .to_bytes();
            return reader.json(&bytes);
        }
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| AgentError::Body(cat, e.to_string()))?;
            if let Some(data) = frame.data_ref() {
                reader.push(data)?;
            }
        }
        reader.finish()
    }
}
