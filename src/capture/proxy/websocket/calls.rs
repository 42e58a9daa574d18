//! The model calls of one WebSocket connection, from its messages.
//!
//! Each client text message `{"type":"response.create", …}` (or `response.append`, which
//! continues the previous response's input) is the body of a Responses request: it starts one
//! call. The server answers with the same JSON events an HTTP stream carries, one a message,
//! until a terminal one (`response.completed`, `…incomplete`, `…failed`, `error`) ends it.
//! Calls on a connection are answered in turn, so server events belong to the oldest open call.
//!
//! Per-request identity is not in headers here: Codex puts it in the message's
//! `client_metadata` (`session_id`, `thread_id`, `x-codex-turn-metadata`, …). Classification
//! sees the upgrade request's headers overlaid with those entries, so a call over WebSocket is
//! classified as the same call over HTTP would be.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::Deserialize;

use super::super::ProxyContext;
use super::super::call::{CallTracker, Ending};
use super::super::request_body::SharedCapture;
use super::super::route::Route;
use crate::capture::request::RequestSummary;
use crate::capture::usage::StreamUsageParser;
use crate::observation::{ApiKind, CallErrorKind};

/// `client_metadata` keys spelt otherwise than the headers the agent rooms read.
const METADATA_HEADERS: [(&str, &str); 2] =
    [("session_id", "session-id"), ("thread_id", "thread-id")];

/// One call waiting for its server events.
struct OpenCall {
    tracker: CallTracker,
    usage: StreamUsageParser,
}

/// The calls of one connection.
pub(super) struct Calls {
    ctx: Arc<ProxyContext>,
    /// The upgrade's route, as a Responses call.
    route: Route,
    method: Method,
    /// The upgrade request's headers, credentials removed.
    headers: HeaderMap,
    upgrade_id: u64,
    open: VecDeque<OpenCall>,
}

/// The parts of a client message that decide a call.
#[derive(Deserialize)]
struct ClientMessage {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    client_metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A server event's type.
#[derive(Deserialize)]
struct ServerEvent<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<std::borrow::Cow<'a, str>>,
}

impl Calls {
    pub(super) fn new(
        ctx: Arc<ProxyContext>,
        route: &Route,
        method: &Method,
        request_headers: &HeaderMap,
        upgrade_id: u64,
    ) -> Calls {
        let mut headers = request_headers.clone();
        for name in super::super::headers::SECRET_HEADERS {
            headers.remove(name);
        }
        Calls {
            ctx,
            route: Route {
                api: ApiKind::Responses,
                ..route.clone()
            },
            method: method.clone(),
            headers,
            upgrade_id,
            open: VecDeque::new(),
        }
    }

    /// A whole text message from the client.
    pub(super) fn on_client_text(&mut self, payload: Vec<u8>) {
        let Ok(message) = serde_json::from_slice::<ClientMessage>(&payload) else {
            return;
        };
        if !matches!(
            message.kind.as_deref(),
            Some("response.create" | "response.append")
        ) {
            return;
        }
        let headers = self.headers_for(message.client_metadata.as_ref());
        let mut tracker = CallTracker::new(self.ctx.clone(), &self.route, &self.method, &headers);
        tracker.set_via_websocket(self.upgrade_id);
        let body = vec![Bytes::from(payload)];
        tracker.set_inspected(RequestSummary::inspect(ApiKind::Responses, &body).ok());
        tracker.set_capture(SharedCapture::complete(body));
        self.open.push_back(OpenCall {
            tracker,
            usage: StreamUsageParser::new(ApiKind::Responses),
        });
    }

    /// A whole text message from the server, `wire_len` bytes of frames.
    pub(super) fn on_server_text(&mut self, payload: &[u8], wire_len: u64) {
        let Some(call) = self.open.front_mut() else {
            // Not an answer to a request (nothing is open): nothing to charge it to.
            return;
        };
        call.tracker.on_websocket_message(wire_len, payload);
        call.usage.feed_event(payload);
        let terminal = serde_json::from_slice::<ServerEvent<'_>>(payload)
            .ok()
            .and_then(|e| e.kind)
            .is_some_and(|k| {
                matches!(
                    &*k,
                    "response.completed"
                        | "response.incomplete"
                        | "response.failed"
                        | "response.done"
                        | "error"
                )
            });
        if terminal && let Some(call) = self.open.pop_front() {
            let OpenCall { mut tracker, usage } = call;
            let bytes = tracker.response_bytes();
            tracker.delivered(bytes, None);
            tracker.finish(Some(usage.finish()), Ending::Complete);
        }
    }

    /// Ends every call still open with `kind` and `message`; `all_delivered` says whether
    /// the client got every byte read from upstream.
    pub(super) fn end_open(&mut self, kind: CallErrorKind, message: &str, all_delivered: bool) {
        while let Some(OpenCall { mut tracker, usage }) = self.open.pop_front() {
            let bytes = tracker.response_bytes();
            tracker.delivered(bytes, Some(all_delivered));
            tracker.finish(
                Some(usage.finish()),
                Ending::Failed(kind, message.to_string()),
            );
        }
    }

    /// The upgrade's headers with the message's `client_metadata` strings over them.
    fn headers_for(
        &self,
        metadata: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> HeaderMap {
        let mut headers = self.headers.clone();
        for (key, value) in metadata.into_iter().flatten() {
            let Some(value) = value.as_str() else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            let name = METADATA_HEADERS
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(key.as_str(), |(_, h)| *h);
            if super::super::headers::SECRET_HEADERS.contains(&name) {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        headers
    }
}
