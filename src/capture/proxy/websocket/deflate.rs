//! permessage-deflate (RFC 7692): inflating a compressed message, and deflating one (for the
//! mock upstream).
//!
//! A compressed message is raw DEFLATE with its final empty stored block's `00 00 ff ff`
//! removed: it is put back before inflating. Unless the sender negotiated "no context
//! takeover", its compressor keeps its window across messages, so the inflater must too — one
//! lost byte of an earlier message makes every later one unreadable. A window of 2^15 bytes
//! reads any `max_window_bits`, so that parameter needs no setting here.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The tail every compressed message lost (RFC 7692 §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeflateError {
    #[error("compressed message does not inflate: {0}")]
    Corrupt(String),
    #[error("message inflates past the tap's limit of {0} bytes")]
    TooLarge(usize),
}

/// The inflater of one direction of a connection.
pub struct Inflater {
    raw: Decompress,
    /// The sender resets its compressor for every message.
    no_context_takeover: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("no_context_takeover", &self.no_context_takeover)
            .finish()
    }
}

impl Inflater {
    pub fn new(no_context_takeover: bool) -> Inflater {
        Inflater {
            raw: Decompress::new(false),
            no_context_takeover,
        }
    }

    /// Inflates one message's payload (all its frames joined), up to `limit` bytes.
    pub fn inflate(&mut self, compressed: &[u8], limit: usize) -> Result<Vec<u8>, DeflateError> {
        if self.no_context_takeover {
            self.raw.reset(false);
        }
        let mut input = Vec::with_capacity(compressed.len() + TAIL.len());
        input.extend_from_slice(compressed);
        input.extend_from_slice(&TAIL);
        let mut out = Vec::with_capacity((compressed.len() * 4).clamp(256, limit.max(256)));
        let mut at = 0;
        loop {
            if out.len() == out.capacity() {
                if out.len() >= limit {
                    return Err(DeflateError::TooLarge(limit));
                }
                out.reserve(out.capacity());
            }
            let (in_before, out_before) = (self.raw.total_in(), out.len());
            let status = self
                .raw
                .decompress_vec(&input[at..], &mut out, FlushDecompress::Sync)
                .map_err(|e| DeflateError::Corrupt(e.to_string()))?;
            at += (self.raw.total_in() - in_before) as usize;
            if status == Status::StreamEnd {
                // A final block ends the sender's stream: the next message starts a new one.
                self.raw.reset(false);
                break;
            }
            let room_left = out.len() < out.capacity();
            if at >= input.len() && room_left {
                break;
            }
            if self.raw.total_in() == in_before && out.len() == out_before && room_left {
                return Err(DeflateError::Corrupt("inflating made no progress".into()));
            }
        }
        if out.len() > limit {
            return Err(DeflateError::TooLarge(limit));
        }
        Ok(out)
    }
}

/// The compressor of one sender (the mock upstream's side of a connection).
pub struct Deflater {
    raw: Compress,
    no_context_takeover: bool,
}

impl Deflater {
    pub fn new(no_context_takeover: bool) -> Deflater {
        Deflater {
            raw: Compress::new(Compression::fast(), false),
            no_context_takeover,
        }
    }

    /// One message's compressed payload, its `00 00 ff ff` tail removed.
    pub fn deflate(&mut self, data: &[u8]) -> Vec<u8> {
        if self.no_context_takeover {
            self.raw.reset();
        }
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut at = 0;
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(64));
            }
            let before = self.raw.total_in();
            // Compressing into memory cannot fail; a status error would be a flate2 bug.
            let _ = self
                .raw
                .compress_vec(&data[at..], &mut out, FlushCompress::Sync);
            at += (self.raw.total_in() - before) as usize;
            if at >= data.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 20;

    #[test]
    fn rfc_7692_example_inflates() {
        // §7.2.3.1: "Hello" compressed, and the same again with the window of the first.
        let mut inflater = Inflater::new(false);
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflater.inflate(&hello, LIMIT).unwrap(), b"Hello");
        let again = [0xf2, 0x00, 0x11, 0x00, 0x00];
        assert_eq!(inflater.inflate(&again, LIMIT).unwrap(), b"Hello");
    }

    #[test]
    fn context_takeover_on_and_off() {
        let text = br#"{"type":"response.output_text.delta","delta":"hello there"}"#;
        for reset in [false, true] {
            let mut deflater = Deflater::new(reset);
            let mut inflater = Inflater::new(reset);
            let first = deflater.deflate(text);
            let second = deflater.deflate(text);
            if reset {
                assert_eq!(first, second, "no context: each message alone");
            } else {
                assert!(
                    second.len() < first.len(),
                    "the window of the first is used"
                );
            }
            assert_eq!(inflater.inflate(&first, LIMIT).unwrap(), text);
            assert_eq!(inflater.inflate(&second, LIMIT).unwrap(), text);
        }
        // An inflater that resets cannot read a message that refers to an earlier one.
        let mut deflater = Deflater::new(false);
        let _ = deflater.deflate(text);
        let second = deflater.deflate(text);
        assert!(
            Inflater::new(true)
                .inflate(&second, LIMIT)
                .map_or(true, |out| out != text)
        );
    }

    #[test]
    fn large_messages_grow_the_output_and_the_limit_holds() {
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let compressed = Deflater::new(false).deflate(&big);
        assert_eq!(
            Inflater::new(false).inflate(&compressed, LIMIT).unwrap(),
            big
        );
        assert_eq!(
            Inflater::new(false).inflate(&compressed, 1000),
            Err(DeflateError::TooLarge(1000))
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(matches!(
            Inflater::new(false).inflate(&[0xff, 0xff, 0xff, 0xff], LIMIT),
            Err(DeflateError::Corrupt(_))
        ));
    }
}
