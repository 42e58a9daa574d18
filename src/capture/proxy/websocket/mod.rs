//! WebSocket pass-through (the OpenAI Responses API over WebSocket, which Codex speaks).
//!
//! The upgrade request goes upstream as it came (`server`); when upstream answers `101`, the
//! client gets that `101` with upstream's headers, and from then on the bytes of both
//! directions are passed on untouched ([`splice`]) while a tap ([`tap`]) reads a copy: frames
//! ([`frames`]), messages and permessage-deflate ([`message`], [`deflate`], [`extensions`]), and
//! from those the model calls ([`calls`]). The upgrade itself is recorded as an other request
//! spanning the connection; each call it carried as a Responses call of its own.

mod calls;
pub(crate) mod deflate;
pub(crate) mod extensions;
pub(crate) mod frames;
pub(crate) mod message;
mod splice;
mod tap;

use std::sync::{Arc, Mutex, PoisonError};

use http::header::{self, HeaderValue};
use http::{Method, Response, StatusCode};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::ProxyContext;
use super::call::{CallTracker, Ending};
use super::client_link::ClientLink;
use super::headers;
use super::route::Route;
use super::server::ProxyBody;
use super::upstream::{ResponseHead, Upgraded};
use crate::observation::CallErrorKind;
use splice::{End, OTHER_SIDE_GRACE, Pumped, Way, pump};
use tap::Tap;

/// A request asking to upgrade the connection to WebSocket.
pub fn wants_websocket(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("websocket"))
        })
}

/// The client's upgrade headers made ready for upstream: as for any request, but asking for
/// the upgrade again on the upstream's hop (`Upgrade` and `Connection` are hop-by-hop).
pub fn to_upstream(headers: &mut http::HeaderMap) {
    let upgrade = headers.get(header::UPGRADE).cloned();
    headers::to_upstream(headers);
    headers.insert(
        header::UPGRADE,
        upgrade.unwrap_or(HeaderValue::from_static("websocket")),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
}

/// What the switch needs of the request.
pub(super) struct Switch {
    pub ctx: Arc<ProxyContext>,
    pub route: Route,
    pub method: Method,
    pub request_headers: http::HeaderMap,
    pub tracker: CallTracker,
    pub client: OnUpgrade,
    pub link: Arc<ClientLink>,
}

/// Upstream switched: answers the client `101` with upstream's headers, and splices the two
/// connections once hyper has handed the client's over.
pub(super) fn switch(s: Switch, head: ResponseHead, upstream: Upgraded) -> Response<ProxyBody> {
    let Switch {
        ctx,
        route,
        method,
        request_headers,
        mut tracker,
        client,
        link,
    } = s;
    tracker.on_response_head(head.status, &head.headers);
    let negotiated = extensions::negotiated(&head.headers).map_err(|e| e.to_string());
    let calls = calls::Calls::new(ctx, &route, &method, &request_headers, tracker.id());
    // Only a Responses endpoint carries calls; anything else is passed through unread.
    let tap = Tap::new(negotiated, calls);
    let mut answer = Response::new(ProxyBody::Full(None));
    *answer.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let mut out = head.headers;
    let upgrade = out.get(header::UPGRADE).cloned();
    headers::strip_hop_by_hop(&mut out);
    out.insert(
        header::UPGRADE,
        upgrade.unwrap_or(HeaderValue::from_static("websocket")),
    );
    out.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    *answer.headers_mut() = out;
    let task = tokio::spawn(async move {
        match client.await {
            Ok(client) => splice_all(TokioIo::new(client), upstream, tap, tracker).await,
            Err(err) => {
                let message = format!("the client's connection was lost at the switch: {err}");
                tracker.finish(
                    None,
                    Ending::Failed(CallErrorKind::ClientDisconnected, message),
                );
            }
        }
    });
    link.set_upgraded(task);
    answer
}

/// Runs both directions to their end and records how the connection ended.
async fn splice_all<C>(client: C, upstream: Upgraded, tap: Tap, mut tracker: CallTracker)
where
    C: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let tap = Mutex::new(tap);
    let (client_read, client_write) = tokio::io::split(client);
    let (upstream_read, upstream_write) = tokio::io::split(upstream.io);
    let down = pump(
        upstream_read,
        client_write,
        upstream.read_ahead,
        Way::UpstreamToClient,
        &tap,
    );
    let up = pump(
        client_read,
        upstream_write,
        bytes::Bytes::new(),
        Way::ClientToUpstream,
        &tap,
    );
    tokio::pin!(down, up);
    // Whichever side ends first decides what the calls still open are told.
    let (down, upstream_ended_first) = tokio::select! {
        down = &mut down => {
            let _ = tokio::time::timeout(OTHER_SIDE_GRACE, &mut up).await;
            (down, true)
        }
        _ = &mut up => {
            match tokio::time::timeout(OTHER_SIDE_GRACE, &mut down).await {
                Ok(down) => (down, false),
                Err(_) => (Pumped { end: End::Closed, read: 0, written: 0 }, false),
            }
        }
    };
    let all_delivered = down.read == down.written;
    let (kind, message) = match (&down.end, upstream_ended_first) {
        (End::WriteFailed(err), _) => (
            CallErrorKind::ClientDisconnected,
            format!("the client's connection broke before the response ended: {err}"),
        ),
        (End::ReadFailed(err), true) => (
            CallErrorKind::UpstreamBody,
            format!("upstream's WebSocket broke off before the response's final event: {err}"),
        ),
        (End::Closed, true) => (
            CallErrorKind::UpstreamBody,
            "upstream closed the WebSocket before the response's final event".to_string(),
        ),
        (_, false) => (
            CallErrorKind::ClientDisconnected,
            "the client closed the WebSocket before the response ended".to_string(),
        ),
    };
    let mut tap = tap.lock().unwrap_or_else(PoisonError::into_inner);
    tap.end(kind, &message, all_delivered);
    tracker.on_passed_through(down.written);
    tracker.delivered(down.written, None);
    let ending = match tap.failure() {
        Some(failure) => Ending::Failed(CallErrorKind::Unreadable, failure.to_string()),
        None => Ending::Complete,
    };
    tracker.finish(None, ending);
}
