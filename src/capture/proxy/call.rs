//! One call's record, from the moment its request arrives to the moment it is handed on.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

use super::headers;
use super::request_body::SharedCapture;
use super::route::{Route, gemini_model_method, redact_query};
use super::server::INSPECT_LIMIT;
use super::{CompletedCall, ProxyContext};
use crate::capture::request::RequestSummary;
use crate::capture::request::coding::decode_zstd;
use crate::capture::usage::ResponseSummary;
use crate::observation::{ApiKind, Call, CallError, CallErrorKind, CapturedBodies};

/// What `--capture-bodies` stores for a compressed response.
const COMPRESSED_NOT_CAPTURED: &str = "(compressed response body: not captured)";

/// How a call's response ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Upstream's body ended normally.
    Complete,
    /// It did not (or there was no response at all).
    Failed(CallErrorKind, String),
}

/// Collects one call's facts while it runs; records it exactly once, when consumed.
pub struct CallTracker {
    ctx: Arc<ProxyContext>,
    call: Call,
    capture: SharedCapture,
    response_copy: Option<Vec<u8>>,
    /// The response copy holds a placeholder, not the body.
    response_copy_frozen: bool,
    headers: Vec<(String, String)>,
    /// The request, when it was inspected before forwarding.
    inspected: Option<RequestSummary>,
    /// Whether the client got every byte read, when the response broke off.
    all_delivered: Option<bool>,
    finished: bool,
}

impl CallTracker {
    /// Starts tracking a call whose request just arrived.
    pub fn new(
        ctx: Arc<ProxyContext>,
        route: &Route,
        method: &Method,
        request_headers: &HeaderMap,
    ) -> CallTracker {
        let id = ctx.next_call_id.fetch_add(1, Ordering::Relaxed) + 1;
        ctx.in_flight.fetch_add(1, Ordering::AcqRel);
        // Stream and status stay unknown until the request and the response say.
        let ids = crate::agents::call_ids(request_headers);
        let call = Call {
            id,
            t_start: ctx.clock.now(),
            provider: route.provider,
            api: route.api,
            method: method.to_string(),
            path: redact_query(&route.api_path),
            stream: false,
            status: None,
            session_id: ids.session_id,
            agent_id: ids.agent_id,
            parent_agent_id: ids.parent_agent_id,
            ..Call::blank()
        };
        ctx.sink.started(&call);
        let response_copy = ctx.capture_bodies.then(Vec::new);
        CallTracker {
            ctx,
            call,
            capture: SharedCapture::default(),
            response_copy,
            response_copy_frozen: false,
            headers: {
                let mut kept = headers::for_classification(request_headers);
                kept.extend(crate::agents::derived_headers(request_headers));
                kept
            },
            inspected: None,
            all_delivered: None,
            finished: false,
        }
    }

    /// The request body's capture, filled while it is forwarded.
    pub fn set_capture(&mut self, capture: SharedCapture) {
        self.capture = capture;
    }

    /// The request was already inspected (so it is not read twice).
    pub fn set_inspected(&mut self, summary: Option<RequestSummary>) {
        self.inspected = summary;
    }

    pub fn api(&self) -> ApiKind {
        self.call.api
    }

    /// The call's id in the trace.
    pub fn id(&self) -> u64 {
        self.call.id
    }

    /// The call came as a message on the WebSocket that upgrade call `upgrade_id` opened; its
    /// status is that connection's `101`.
    pub fn set_via_websocket(&mut self, upgrade_id: u64) {
        self.call.via_websocket = Some(upgrade_id);
        self.call.status = Some(StatusCode::SWITCHING_PROTOCOLS.as_u16());
    }

    /// Counts one server message of a WebSocket call: `wire_len` bytes of frames passed on,
    /// `payload` the event it carried (kept with `--capture-bodies`, one event a line).
    pub fn on_websocket_message(&mut self, wire_len: u64, payload: &[u8]) {
        self.on_passed_through(wire_len);
        if let Some(copy) = self.response_copy.as_mut() {
            copy.extend_from_slice(payload);
            copy.push(b'\n');
        }
    }

    /// Counts bytes passed on without keeping them (a WebSocket connection's traffic).
    pub fn on_passed_through(&mut self, bytes: u64) {
        if self.call.t_first_byte.is_none() {
            self.call.t_first_byte = Some(self.ctx.clock.now());
        }
        self.call.response_bytes += bytes;
    }

    /// Records the response status and headers.
    pub fn on_response_head(&mut self, status: StatusCode, response_headers: &HeaderMap) {
        self.call.status = Some(status.as_u16());
        self.call.upstream_request_id = headers::upstream_request_id(response_headers);
        // A compressed body is not captured: masking cannot see into it.
        let encoded = response_headers
            .get(http::header::CONTENT_ENCODING)
            .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
        if encoded && let Some(copy) = self.response_copy.as_mut() {
            *copy = COMPRESSED_NOT_CAPTURED.as_bytes().to_vec();
            self.response_copy_frozen = true;
        }
    }

    /// Counts one forwarded response frame.
    pub fn on_response_data(&mut self, data: &Bytes) {
        if self.call.t_first_byte.is_none() {
            self.call.t_first_byte = Some(self.ctx.clock.now());
        }
        self.call.response_bytes += data.len() as u64;
        if !self.response_copy_frozen
            && let Some(copy) = self.response_copy.as_mut()
        {
            copy.extend_from_slice(data);
        }
    }

    /// Response body bytes read from upstream so far.
    pub fn response_bytes(&self) -> u64 {
        self.call.response_bytes
    }

    /// How much of the response reached the client: `client_bytes` passed on and, for a
    /// response that broke off, whether that was everything read from upstream.
    pub fn delivered(&mut self, client_bytes: u64, all_delivered: Option<bool>) {
        self.call.client_bytes = Some(client_bytes);
        self.all_delivered = all_delivered;
    }

    /// A call that got no upstream response: the client was answered by agentprof itself,
    /// with `answer_bytes` of body.
    pub fn fail_without_response(
        mut self,
        status: StatusCode,
        answer_bytes: usize,
        kind: CallErrorKind,
        message: String,
    ) {
        self.call.status = Some(status.as_u16());
        self.call.client_bytes = Some(answer_bytes as u64);
        self.finish(None, Ending::Failed(kind, message));
    }

    /// Completes the record and hands it to the sink.
    pub fn finish(mut self, response: Option<ResponseSummary>, ending: Ending) {
        self.complete(response, ending);
    }

    /// Client-side failure of the request body, if the client broke off while sending it.
    pub fn client_body_error(&self) -> Option<String> {
        self.capture.lock().error.clone()
    }

    /// The client's body went past the size limit and forwarding was aborted.
    pub fn client_body_too_large(&self) -> bool {
        self.capture.lock().truncated
    }

    fn complete(&mut self, response: Option<ResponseSummary>, ending: Ending) {
        self.finished = true;
        self.call.t_end = Some(self.ctx.clock.now());
        let ending = match ending {
            Ending::Failed(CallErrorKind::ClientDisconnected, _)
                if self.ctx.cutting_off.load(Ordering::Acquire) =>
            {
                Ending::Failed(
                    CallErrorKind::Shutdown,
                    "agentprof stopped while the call was in flight; recorded as far as it got"
                        .into(),
                )
            }
            other => other,
        };
        let recording = Recording {
            ctx: self.ctx.clone(),
            call: self.call.clone(),
            capture: self.capture.clone(),
            response_copy: self.response_copy.take(),
            inspected: self.inspected.take(),
            headers: std::mem::take(&mut self.headers),
            response,
            ending,
            all_delivered: self.all_delivered,
        };
        // Reading the request body and classifying must not hold up the response's last
        // bytes. What is left to read (a streamed body's skim, or a body buffered
        // whole) of up to a few hundred KB takes well under a millisecond: it is read
        // in a task of its own on this thread, after the response is flushed — handing it to
        // another thread cost more (two wake-ups across threads per call, measured) than the
        // reading itself. A larger body would hold up the other streams on this worker: it
        // goes to the blocking pool. Outside a runtime (tests, teardown) it runs here.
        let parse_bytes = match recording.inspected {
            Some(_) => 0,
            None => recording.capture.lock().bytes_to_read(),
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) if parse_bytes <= RECORD_IN_PLACE_LIMIT => {
                let recording = RecordOnDrop(Some(recording));
                runtime.spawn(async move { drop(recording) });
            }
            Ok(runtime) => {
                runtime.spawn_blocking(move || recording.run());
            }
            Err(_) => recording.run(),
        }
    }
}

/// Request bodies up to this size are read on the proxy's own thread.
const RECORD_IN_PLACE_LIMIT: u64 = 256 << 10;

/// Records the call when dropped: whether its task ran or was dropped unrun by a runtime
/// shutting down, the call is recorded exactly once.
struct RecordOnDrop(Option<Recording>);

impl Drop for RecordOnDrop {
    fn drop(&mut self) {
        if let Some(recording) = self.0.take() {
            recording.run();
        }
    }
}

/// The finishing work of one call, done off the response path.
struct Recording {
    ctx: Arc<ProxyContext>,
    call: Call,
    capture: SharedCapture,
    response_copy: Option<Vec<u8>>,
    inspected: Option<RequestSummary>,
    headers: Vec<(String, String)>,
    response: Option<ResponseSummary>,
    ending: Ending,
    all_delivered: Option<bool>,
}

impl Recording {
    fn run(mut self) {
        let request = self.inspect_request();
        if let Some(request) = &request {
            self.call.model = request.model.clone();
            self.call.stream = request.stream;
        }
        if self.call.api == ApiKind::GenerateContent {
            // Gemini names the model and whether it streams in the path, not the body.
            let path = self.call.path.split('?').next().unwrap_or_default();
            if let Some((model, method)) = gemini_model_method(path) {
                self.call.model = Some(model.to_string());
                self.call.stream = method == "streamGenerateContent";
            }
        }
        if let Some(response) = self.response.take() {
            self.call.usage = response.usage;
            self.call.response_id = response.response_id.clone();
            if self.call.model.is_none() {
                self.call.model = response.model.clone();
            }
            self.response = Some(response);
        }
        let ending = std::mem::replace(&mut self.ending, Ending::Complete);
        self.call.error = error_for(self.call.status, self.response.as_ref(), ending);
        if let Some(error) = self.call.error.as_mut() {
            error.all_delivered = self.all_delivered;
        }
        self.ctx.sink.record(CompletedCall {
            call: self.call,
            request,
            headers: self.headers,
        });
        // Only now: shutdown waits for this count to reach 0 before writing the footer.
        self.ctx.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    fn inspect_request(&mut self) -> Option<RequestSummary> {
        let mut capture = self.capture.lock();
        self.call.request_bytes = capture.bytes;
        // The body is not needed after this; free it now rather than when the last
        // reference to the capture goes.
        let zstd = capture.zstd.take();
        let mut chunks = capture.take_body();
        if let Some(whole) = zstd.filter(|_| !capture.truncated) {
            // What a compressed body says, not how it was sent (the trace keeps its size on
            // the wire in `request_bytes`).
            match decode_zstd(&whole, INSPECT_LIMIT) {
                Ok(decoded) => chunks = vec![Bytes::from(decoded)],
                Err(err) => {
                    tracing::warn!(call = self.call.id, "request body not read: {err}");
                    chunks.clear();
                }
            }
        }
        if let Some(copy) = self.response_copy.take() {
            self.call.bodies = Some(CapturedBodies {
                request: redact_body(&chunks.concat()),
                response: redact_body(&copy),
            });
        }
        let truncated = capture.truncated;
        let skim = capture.skim.take();
        drop(capture);
        if let Some(summary) = self.inspected.take() {
            return Some(summary);
        }
        if truncated {
            return None;
        }
        if let Some(skim) = skim {
            return RequestSummary::from_skim(self.call.api, skim);
        }
        if chunks.is_empty() {
            return None;
        }
        if self.call.api == ApiKind::Other && !looks_like_json(&chunks) {
            return None;
        }
        RequestSummary::inspect(self.call.api, &chunks).ok()
    }
}

fn error_for(
    status: Option<u16>,
    response: Option<&ResponseSummary>,
    ending: Ending,
) -> Option<CallError> {
    if let Ending::Failed(kind, message) = ending {
        return Some(CallError::new(kind, message));
    }
    let status = status.unwrap_or(0);
    let upstream_error = response.and_then(|r| r.stream_error.clone());
    // 101: the connection switched to WebSocket, which judges the call by its messages.
    let switched = status == StatusCode::SWITCHING_PROTOCOLS.as_u16();
    if !(200..300).contains(&status) && !switched {
        let detail = upstream_error.map(|e| format!(": {e}")).unwrap_or_default();
        return Some(CallError::new(
            CallErrorKind::UpstreamStatus,
            format!("upstream answered HTTP {status}{detail}"),
        ));
    }
    if let Some(error) = upstream_error {
        return Some(CallError::new(CallErrorKind::StreamError, error));
    }
    if response.is_some_and(|r| r.torn) {
        return Some(CallError::new(
            CallErrorKind::UpstreamBody,
            "upstream stream ended before its final event",
        ));
    }
    // The agent got its answer; only what it used is unknown, and the trace says why.
    if let Some(why) = response.and_then(|r| r.unreadable_usage.clone()) {
        return Some(CallError::new(CallErrorKind::Unreadable, why));
    }
    None
}

impl Drop for CallTracker {
    fn drop(&mut self) {
        // Dropped unfinished: the handler was cancelled, which hyper does when the client
        // disconnects while the upstream has not answered yet. Record that, once.
        if !self.finished {
            self.complete(
                None,
                Ending::Failed(
                    CallErrorKind::ClientDisconnected,
                    "client disconnected before upstream answered; upstream call cancelled".into(),
                ),
            );
        }
    }
}

fn looks_like_json(chunks: &[Bytes]) -> bool {
    chunks
        .iter()
        .flat_map(|c| c.iter())
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

fn redact_body(bytes: &[u8]) -> String {
    crate::capture::redact::redact_body(&String::from_utf8_lossy(bytes))
}
