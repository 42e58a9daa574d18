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
//! * `gzip` — the body gzip-encoded (`content-encoding: gzip`) whatever the request's
//!   `accept-encoding` says, as some gateways do; a stream is flushed event by event, so it
//!   still arrives as it is produced.
//! * `huge-headers:KIB` — KIB KiB of extra response headers (`x-mock-padding-N`, 4 KiB each).
//!
//! Gemini's streamed JSON array (`:streamGenerateContent` without `alt=sse`) takes the stream
//! faults element by element; its `error-event` closes the array with an error element.
//!
//! Stream-only faults leave non-streaming replies unchanged (the record still names the fault).
//! An abort is delivered as a body error, on which hyper drops the connection without the
//! terminating chunk: the client sees the bytes sent so far, then a broken body.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use serde_json::json;

use super::reply::{Payload, Reply, SseChunk, sse};
use super::{anthropic, gemini, openai};
use crate::observation::{Provider, Usage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Status(u16),
    ResetBeforeHeaders,
    ResetMidStream(usize),
    ErrorEvent,
    Slow(Duration),
    MalformedSse,
    Gzip,
    HugeHeaders(u32),
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
            "gzip" => Ok(Fault::Gzip),
            "huge-headers" => Ok(Fault::HugeHeaders(
                u32::try_from(num(arg)?).map_err(|e| e.to_string())?,
            )),
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
        Provider::Gemini => {
            let (status, msg) = match code {
                400 => ("INVALID_ARGUMENT", "Injected invalid request"),
                403 => ("PERMISSION_DENIED", "Injected permission error"),
                404 => ("NOT_FOUND", "Injected not found"),
                429 => ("RESOURCE_EXHAUSTED", "Injected quota exhausted"),
                503 => ("UNAVAILABLE", "The model is overloaded."),
                _ => ("INTERNAL", "Internal error encountered."),
            };
            gemini::error_body(code, status, msg)
        }
    };
    Reply::json(status, body)
}

/// A reply as it will go on the wire.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) status: StatusCode,
    pub(crate) sse: bool,
    /// A non-SSE body sent in pieces (Gemini's streamed JSON array).
    pub(crate) chunked: bool,
    pub(crate) chunks: Vec<Bytes>,
    /// End the body with an error (connection abort) after the chunks.
    pub(crate) abort: bool,
    /// Pause between chunks.
    pub(crate) pace: Option<Duration>,
    /// Pause before the response head (non-streaming `slow`).
    pub(crate) pre_delay: Option<Duration>,
    pub(crate) retry_after: bool,
    /// The chunks are gzip-encoded.
    pub(crate) gzip: bool,
    /// KiB of padding headers to add.
    pub(crate) padding_kib: u32,
    /// Usage a client could read from what is sent.
    pub(crate) usage: Option<Usage>,
}

/// Applies `fault` to `reply`.
pub(crate) fn deliver(reply: Reply, fault: Option<Fault>, provider: Provider) -> Delivery {
    let mut d = Delivery {
        status: reply.status,
        sse: matches!(reply.payload, Payload::Sse(_)),
        chunked: matches!(reply.payload, Payload::Chunked(_)),
        chunks: Vec::new(),
        abort: false,
        pace: None,
        pre_delay: None,
        retry_after: fault == Some(Fault::Status(429)),
        gzip: false,
        padding_kib: match fault {
            Some(Fault::HugeHeaders(kib)) => kib,
            _ => 0,
        },
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
        Payload::Sse(mut events) | Payload::Chunked(mut events) => {
            let error = if d.chunked {
                gemini::json_array_error(&gemini_overloaded())
            } else {
                error_event(provider)
            };
            match fault {
                Some(Fault::ResetMidStream(n)) => {
                    events.truncate(n);
                    d.abort = true;
                }
                Some(Fault::ErrorEvent) => {
                    events.truncate(1);
                    let usage = events.first().and_then(|e| e.usage);
                    events.push(SseChunk {
                        bytes: error,
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
    if fault == Some(Fault::Gzip) {
        d.chunks = gzip_chunks(&d.chunks);
        d.gzip = true;
    }
    d
}

/// The chunks gzip-encoded as one stream, one output chunk per input chunk (a sync flush after
/// each, so every piece is decodable as it arrives), the gzip trailer in the last.
fn gzip_chunks(chunks: &[Bytes]) -> Vec<Bytes> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut out = Vec::with_capacity(chunks.len());
    // Writing to a Vec cannot fail; should it, the chunk is simply sent short.
    for chunk in chunks {
        let _ = encoder.write_all(chunk).and_then(|()| encoder.flush());
        out.push(Bytes::from(std::mem::take(encoder.get_mut())));
    }
    let tail = encoder.finish().unwrap_or_default();
    match out.last_mut() {
        Some(last) => *last = Bytes::from([last.as_ref(), &tail].concat()),
        None => out.push(Bytes::from(tail)),
    }
    out
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
        // Gemini streams carry an error as a data line holding Google's error object.
        Provider::Gemini => gemini::sse_event(&gemini_overloaded()),
    }
}

fn gemini_overloaded() -> serde_json::Value {
    gemini::error_body(503, "UNAVAILABLE", "The model is overloaded.")
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
        assert_eq!(Fault::parse("gzip"), Ok(Fault::Gzip));
        assert_eq!(Fault::parse("huge-headers:64"), Ok(Fault::HugeHeaders(64)));
        assert!(Fault::parse("status:200").is_err());
        assert!(Fault::parse("slow").is_err());
        assert!(Fault::parse("explode").is_err());
    }

    #[test]
    fn gzip_chunks_decode_to_the_original_piece_by_piece() {
        use std::io::Write;
        let chunks = [
            Bytes::from_static(b"event: a\n\n"),
            Bytes::from_static(b"data: b\n\n"),
        ];
        let packed = gzip_chunks(&chunks);
        assert_eq!(packed.len(), 2);
        let mut decoder = flate2::write::GzDecoder::new(Vec::new());
        decoder.write_all(&packed[0]).unwrap();
        decoder.flush().unwrap();
        assert_eq!(
            decoder.get_ref().as_slice(),
            b"event: a\n\n",
            "first piece alone"
        );
        decoder.write_all(&packed[1]).unwrap();
        assert_eq!(decoder.finish().unwrap(), b"event: a\n\ndata: b\n\n");
    }
}
