//! Injected faults, chosen per request by the `x-mock-fault` header, and how they reshape a
//! reply on the wire.
//!
//! * `status:N` — answer N (400–599) with the provider's error body (429 adds
//!   `retry-after: 1`); the request is not processed (no cache update).
//! * `reset-before-headers` — close the connection without any response.
//! * `reset-mid-stream:N` — send the first N SSE events, then abort the connection
//!   (non-streaming: half the JSON body, then abort).
//! * `error-event` — a 200 stream: the first event, then an `error` event (overloaded).
//! * `slow:MS` — sleep MS between events (non-streaming: before the response).
//! * `malformed-sse` — after the first event, a torn JSON data line and garbage lines, then the
//!   rest of the normal stream (ending in `message_delta`/`message_stop` for Anthropic).
//!
//! Stream-only faults leave non-streaming replies unchanged (the record still names the fault).
//! An abort is delivered as a body error, on which hyper drops the connection without the
//! terminating chunk: the client sees the bytes sent so far, then a broken body.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use serde_json::json;

use super::reply::{Payload, Reply, SseChunk, sse};
use super::{anthropic, openai};
use crate::observation::{Provider, Usage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Status(u16),
    ResetBeforeHeaders,
    ResetMidStream(usize),
    ErrorEvent,
    Slow(Duration),
    MalformedSse,
}

impl Fault {
    pub(crate) fn parse(s: &str) -> Result<Fault, String> {
        let (name, arg) = match s.trim().split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s.trim(), None),
        };
        let num = |a: Option<&str>| -> Result<u64, String> {
            a.and_then(|a| a.trim().parse().ok())
                .ok_or_else(|| format!("x-mock-fault `{s}` needs a number after `:`"))
        };
        match name {
            "status" => match u16::try_from(num(arg)?) {
                Ok(code @ 400..=599) => Ok(Fault::Status(code)),
                _ => Err(format!("x-mock-fault `{s}`: status must be 400..=599")),
            },
            "reset-before-headers" => Ok(Fault::ResetBeforeHeaders),
            "reset-mid-stream" => Ok(Fault::ResetMidStream(
                usize::try_from(num(arg)?).map_err(|e| e.to_string())?,
            )),
            "error-event" => Ok(Fault::ErrorEvent),
            "slow" => Ok(Fault::Slow(Duration::from_millis(num(arg)?))),
            "malformed-sse" => Ok(Fault::MalformedSse),
            _ => Err(format!("unknown x-mock-fault `{s}`")),
        }
    }
}

/// The error reply for a `status:N` fault.
pub(crate) fn status_reply(code: u16, provider: Provider) -> Reply {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match provider {
        Provider::Anthropic => {
            let (kind, msg) = match code {
                400 => ("invalid_request_error", "Injected invalid request"),
                401 => ("authentication_error", "invalid x-api-key"),
                403 => ("permission_error", "Injected permission error"),
                404 => ("not_found_error", "Injected not found"),
                413 => (
                    "request_too_large",
                    "Request exceeds the maximum allowed size",
                ),
                429 => (
                    "rate_limit_error",
                    "Number of request tokens has exceeded your per-minute rate limit",
                ),
                529 => ("overloaded_error", "Overloaded"),
                _ => ("api_error", "Internal server error"),
            };
            anthropic::error_body(kind, msg)
        }
        Provider::OpenAi => {
            let (kind, code_s, msg) = match code {
                429 => (
                    "requests",
                    "rate_limit_exceeded",
                    "Rate limit reached for requests",
                ),
                400..=499 => ("invalid_request_error", "injected", "Injected client error"),
                _ => (
                    "server_error",
                    "server_error",
                    "The server had an error while processing your request.",
                ),
            };
            openai::error_body(kind, Some(code_s), msg)
        }
    };
    Reply::json(status, body)
}

/// A reply as it will go on the wire.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) status: StatusCode,
    pub(crate) sse: bool,
    pub(crate) chunks: Vec<Bytes>,
    /// End the body with an error (connection abort) after the chunks.
    pub(crate) abort: bool,
    /// Pause between chunks.
    pub(crate) pace: Option<Duration>,
    /// Pause before the response head (non-streaming `slow`).
    pub(crate) pre_delay: Option<Duration>,
    pub(crate) retry_after: bool,
    /// Usage a client could read from what is sent.
    pub(crate) usage: Option<Usage>,
}

/// Applies `fault` to `reply`.
pub(crate) fn deliver(reply: Reply, fault: Option<Fault>, provider: Provider) -> Delivery {
    let mut d = Delivery {
        status: reply.status,
        sse: matches!(reply.payload, Payload::Sse(_)),
        chunks: Vec::new(),
        abort: false,
        pace: None,
        pre_delay: None,
        retry_after: fault == Some(Fault::Status(429)),
        usage: None,
    };
    match reply.payload {
        Payload::Json(body, usage) => {
            let bytes = Bytes::from(super::wire::to_wire(&body));
            match fault {
                Some(Fault::ResetMidStream(_)) => {
                    d.chunks.push(bytes.slice(..bytes.len() / 2));
                    d.abort = true;
                }
                Some(Fault::Slow(ms)) => {
                    d.pre_delay = Some(ms);
                    (d.chunks, d.usage) = (vec![bytes], usage);
                }
                _ => (d.chunks, d.usage) = (vec![bytes], usage),
            }
        }
        Payload::Sse(mut events) => {
            match fault {
                Some(Fault::ResetMidStream(n)) => {
                    events.truncate(n);
                    d.abort = true;
                }
                Some(Fault::ErrorEvent) => {
                    events.truncate(1);
                    let usage = events.first().and_then(|e| e.usage);
                    events.push(SseChunk {
                        bytes: error_event(provider),
                        usage,
                    });
                }
                Some(Fault::Slow(ms)) => d.pace = Some(ms),
                Some(Fault::MalformedSse) => {
                    let junk = malformed(events.get(1));
                    let at = events.len().min(1);
                    events.splice(
                        at..at,
                        junk.into_iter()
                            .map(|bytes| SseChunk { bytes, usage: None }),
                    );
                    // Junk carries no usage; the client still knows what the previous event told it.
                    let mut known = None;
                    for e in &mut events {
                        known = e.usage.or(known);
                        e.usage = known;
                    }
                }
                _ => {}
            }
            d.usage = events.last().and_then(|e| e.usage);
            d.chunks = events.into_iter().map(|e| e.bytes).collect();
        }
    }
    d
}

fn error_event(provider: Provider) -> Bytes {
    match provider {
        Provider::Anthropic => sse(
            Some("error"),
            &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ),
        Provider::OpenAi => sse(
            None,
            &openai::error_body("server_error", Some("server_error"), "Overloaded"),
        ),
    }
}

/// A torn copy of `model_event` (its data line cut mid-JSON) and some lines that are not SSE.
fn malformed(model_event: Option<&SseChunk>) -> Vec<Bytes> {
    let text = model_event.map_or_else(String::new, |e| {
        String::from_utf8_lossy(&e.bytes).into_owned()
    });
    let torn = text.trim_end();
    let cut = torn
        .char_indices()
        .map(|(i, _)| i)
        .nth(torn.chars().count() * 2 / 3)
        .unwrap_or(0);
    vec![
        Bytes::from(format!("{}\n\n", &torn[..cut])),
        Bytes::from_static(b"this line is not an sse field\n{\"neither\": is this\n\n"),
        Bytes::from_static(b"data: {\"type\": \"content_block_delta\", \"index\": \n\n"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_fault() {
        assert_eq!(Fault::parse("status:529"), Ok(Fault::Status(529)));
        assert_eq!(
            Fault::parse("reset-before-headers"),
            Ok(Fault::ResetBeforeHeaders)
        );
        assert_eq!(
            Fault::parse("reset-mid-stream:3"),
            Ok(Fault::ResetMidStream(3))
        );
        assert_eq!(Fault::parse("error-event"), Ok(Fault::ErrorEvent));
        assert_eq!(
            Fault::parse("slow:25"),
            Ok(Fault::Slow(Duration::from_millis(25)))
        );
        assert_eq!(Fault::parse("malformed-sse"), Ok(Fault::MalformedSse));
        assert!(Fault::parse("status:200").is_err());
        assert!(Fault::parse("slow").is_err());
        assert!(Fault::parse("explode").is_err());
    }
}
