//! Reading usage from a compressed response without touching what the client gets.
//!
//! The proxy asks upstream for `Accept-Encoding: identity`, but a gateway may compress anyway.
//! The client must still get exactly the bytes upstream sent (they are labelled
//! `Content-Encoding: gzip` and its HTTP library decodes them), so the usage reader works on a
//! decoded *copy*: each compressed frame goes to the client as it came and through a streaming
//! decoder to the reader. gzip (`x-gzip`) and `deflate` are decoded; any other coding (`br`,
//! `zstd`, a list of codings) is passed through with its usage unread.
//!
//! An OpenAI stream whose usage chunk agentprof asked for is not stripped when compressed:
//! removing it would mean re-encoding upstream's bytes, and an extra chunk with empty
//! `choices` is what the client's SDK sees when it asks for usage itself.

use std::io::Write;

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_ENCODING;

use super::response_body::ResponseReader;
use crate::capture::usage::StreamUsageParser;
use crate::observation::ApiKind;

/// Decoded bytes beyond this are not read for usage: a body that inflates this far is not a
/// model response (or is a compression bomb), and the client still gets it untouched.
const DECODED_LIMIT: u64 = 256 << 20;

/// A streaming decoder for one response body.
pub struct Decoding {
    decoder: Decoder,
    decoded: u64,
    /// The encoded bytes were not valid, or decoded past the limit: nothing more is read.
    stopped: bool,
}

enum Decoder {
    Gzip(flate2::write::MultiGzDecoder<Vec<u8>>),
    Deflate(flate2::write::ZlibDecoder<Vec<u8>>),
}

/// How a response body is encoded, from its `Content-Encoding`.
enum Coding {
    Identity,
    Decodable(Box<Decoder>),
    Unsupported,
}

fn coding(headers: &HeaderMap) -> Coding {
    let mut values = headers.get_all(CONTENT_ENCODING).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return if headers.contains_key(CONTENT_ENCODING) {
            Coding::Unsupported
        } else {
            Coding::Identity
        };
    };
    let Ok(value) = value.to_str() else {
        return Coding::Unsupported;
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "identity" => Coding::Identity,
        "gzip" | "x-gzip" => Coding::Decodable(Box::new(Decoder::Gzip(
            flate2::write::MultiGzDecoder::new(Vec::new()),
        ))),
        "deflate" => Coding::Decodable(Box::new(Decoder::Deflate(
            flate2::write::ZlibDecoder::new(Vec::new()),
        ))),
        _ => Coding::Unsupported,
    }
}

/// The reader for a response with these headers: `reader` itself for an unencoded body, the
/// same reader behind a decoder for gzip and deflate, none for other codings.
pub fn wrap(reader: ResponseReader, headers: &HeaderMap) -> ResponseReader {
    match coding(headers) {
        Coding::Identity => reader,
        Coding::Unsupported => ResponseReader::Ignore,
        Coding::Decodable(decoder) => {
            let inner = match reader {
                // The client gets upstream's encoded bytes as they are: nothing can be stripped.
                ResponseReader::Stripped(_) => {
                    ResponseReader::Sse(StreamUsageParser::new(ApiKind::ChatCompletions))
                }
                ResponseReader::Ignore => return ResponseReader::Ignore,
                other => other,
            };
            ResponseReader::Decoded(Box::new((
                Decoding {
                    decoder: *decoder,
                    decoded: 0,
                    stopped: false,
                },
                inner,
            )))
        }
    }
}

impl Decoding {
    /// Decodes the next encoded bytes; returns what they decoded to (possibly nothing yet).
    pub fn decode(&mut self, data: &[u8]) -> Bytes {
        if self.stopped {
            return Bytes::new();
        }
        let result = match &mut self.decoder {
            Decoder::Gzip(d) => d.write_all(data).and_then(|()| d.flush()),
            Decoder::Deflate(d) => d.write_all(data).and_then(|()| d.flush()),
        };
        let out = match &mut self.decoder {
            Decoder::Gzip(d) => std::mem::take(d.get_mut()),
            Decoder::Deflate(d) => std::mem::take(d.get_mut()),
        };
        self.decoded += out.len() as u64;
        if let Err(err) = result {
            tracing::debug!("compressed response body could not be decoded: {err}");
            self.stopped = true;
        } else if self.decoded > DECODED_LIMIT {
            tracing::debug!("compressed response body decodes past {DECODED_LIMIT} bytes");
            self.stopped = true;
            return Bytes::new();
        }
        Bytes::from(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(encoding: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for e in encoding {
            h.append(CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        h
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn codings_are_told_apart() {
        assert!(matches!(coding(&headers(&[])), Coding::Identity));
        assert!(matches!(coding(&headers(&["identity"])), Coding::Identity));
        assert!(matches!(coding(&headers(&["GZIP"])), Coding::Decodable(_)));
        assert!(matches!(
            coding(&headers(&["deflate"])),
            Coding::Decodable(_)
        ));
        assert!(matches!(coding(&headers(&["br"])), Coding::Unsupported));
        assert!(matches!(
            coding(&headers(&["gzip", "br"])),
            Coding::Unsupported
        ));
    }

    #[test]
    fn a_gzip_body_decodes_byte_by_byte() {
        let plain = b"event: ping\ndata: {\"type\":\"ping\"}\n\n".repeat(50);
        let packed = gzip(&plain);
        let ResponseReader::Decoded(mut decoded) = wrap(
            ResponseReader::Sse(StreamUsageParser::new(ApiKind::Messages)),
            &headers(&["gzip"]),
        ) else {
            panic!("not wrapped");
        };
        let mut out = Vec::new();
        for byte in &packed {
            out.extend_from_slice(&decoded.0.decode(std::slice::from_ref(byte)));
        }
        assert_eq!(out, plain);
    }

    #[test]
    fn garbage_stops_decoding_without_failing() {
        let mut decoding = Decoding {
            decoder: Decoder::Gzip(flate2::write::MultiGzDecoder::new(Vec::new())),
            decoded: 0,
            stopped: false,
        };
        let _ = decoding.decode(b"this is not gzip at all, not even close");
        assert!(decoding.stopped);
        assert!(decoding.decode(&gzip(b"late")).is_empty());
    }
}
