//! Request bodies the client compressed before sending.
//!
//! Codex logged in with ChatGPT sends its model calls with `Content-Encoding: zstd` (its
//! `enable_request_compression` feature, on by default). The proxy forwards such a body as it
//! came; only the copy it reads to classify the call is decoded, here, and only whole: a
//! compressed body is a tenth of the JSON, so holding it until it has all arrived costs little.

use std::io::Read;

use http::HeaderMap;
use http::header::CONTENT_ENCODING;

/// How a request body is encoded, as far as reading it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestCoding {
    /// Not encoded: read as it passes.
    Identity,
    /// zstd: kept whole, decoded once complete.
    Zstd,
    /// Any other coding: forwarded, not read.
    Unreadable,
}

impl RequestCoding {
    pub fn of(headers: &HeaderMap) -> RequestCoding {
        let mut values = headers.get_all(CONTENT_ENCODING).iter();
        match (values.next(), values.next()) {
            (None, _) => RequestCoding::Identity,
            (Some(value), None) => match value.to_str().map(|v| v.trim().to_ascii_lowercase()) {
                Ok(v) if v.is_empty() || v == "identity" => RequestCoding::Identity,
                Ok(v) if v == "zstd" => RequestCoding::Zstd,
                _ => RequestCoding::Unreadable,
            },
            (Some(_), Some(_)) => RequestCoding::Unreadable,
        }
    }
}

/// Why a zstd body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a valid zstd body: {0}")]
    Invalid(String),
    #[error("decodes to more than {} MiB", .0 >> 20)]
    TooLarge(u64),
}

/// Decodes a whole zstd body (one frame or several), refusing more than `limit` bytes of
/// output: a small body may decode to gigabytes.
pub fn decode_zstd(body: &[u8], limit: u64) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(8).min(limit as usize));
    let mut rest = body;
    while !rest.is_empty() {
        let mut decoder = ruzstd::decoding::StreamingDecoder::new(&mut rest)
            .map_err(|e| DecodeError::Invalid(e.to_string()))?;
        let room = limit + 1 - out.len() as u64;
        (&mut decoder)
            .take(room)
            .read_to_end(&mut out)
            .map_err(|e| DecodeError::Invalid(e.to_string()))?;
        if out.len() as u64 > limit {
            return Err(DecodeError::TooLarge(limit));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{"model":"gpt-6.2-sol","input":"hi"}` compressed by the `zstd` command (level 3).
    const BODY_ZST: &[u8] = &[
        0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x21, 0x01, 0x00, 0x7b, 0x22, 0x6d, 0x6f, 0x64, 0x65,
        0x6c, 0x22, 0x3a, 0x22, 0x67, 0x70, 0x74, 0x2d, 0x36, 0x2e, 0x32, 0x2d, 0x73, 0x6f, 0x6c,
        0x22, 0x2c, 0x22, 0x69, 0x6e, 0x70, 0x75, 0x74, 0x22, 0x3a, 0x22, 0x68, 0x69, 0x22, 0x7d,
        0x4d, 0x09, 0x96, 0x3b,
    ];

    #[test]
    fn zstd_bodies_decode_and_bombs_and_garbage_are_refused() {
        let json = br#"{"model":"gpt-6.2-sol","input":"hi"}"#;
        assert_eq!(decode_zstd(BODY_ZST, 1 << 20).unwrap(), json);
        // Two frames back to back decode to both.
        let twice = [BODY_ZST, BODY_ZST].concat();
        assert_eq!(
            decode_zstd(&twice, 1 << 20).unwrap(),
            [&json[..], &json[..]].concat()
        );
        assert!(matches!(
            decode_zstd(BODY_ZST, 10),
            Err(DecodeError::TooLarge(10))
        ));
        assert!(matches!(
            decode_zstd(b"{\"not\":\"zstd\"}", 1 << 20),
            Err(DecodeError::Invalid(_))
        ));
    }

    #[test]
    fn the_coding_is_read_from_content_encoding() {
        let mut headers = HeaderMap::new();
        assert_eq!(RequestCoding::of(&headers), RequestCoding::Identity);
        headers.insert(CONTENT_ENCODING, "ZSTD".parse().unwrap());
        assert_eq!(RequestCoding::of(&headers), RequestCoding::Zstd);
        headers.insert(CONTENT_ENCODING, "br".parse().unwrap());
        assert_eq!(RequestCoding::of(&headers), RequestCoding::Unreadable);
        headers.append(CONTENT_ENCODING, "zstd".parse().unwrap());
        assert_eq!(RequestCoding::of(&headers), RequestCoding::Unreadable);
    }
}
