//! WebSocket frames (RFC 6455 §5.2), read incrementally from one direction of a connection,
//! and written (for the mock upstream and tests).
//!
//! The reader only looks: it gets a copy of bytes already passed on, so anything it rejects is
//! an error for the tap, never for the traffic.

use bytes::{Buf, BytesMut};

/// Largest frame payload the tap reads (a Codex request with a long history is a few MB).
pub const MAX_FRAME: u64 = 64 << 20;

/// Who sent the frames: a client masks every frame, a server none (RFC 6455 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Client,
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// One frame, payload unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    /// RSV1: with permessage-deflate, set on the first frame of a compressed message.
    pub rsv1: bool,
    pub opcode: Opcode,
    pub payload: Vec<u8>,
    /// Bytes the frame took on the wire, header included.
    pub wire_len: u64,
}

/// Why the bytes are not a frame the tap can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame with reserved bits RSV2/RSV3 set (no extension uses them)")]
    ReservedBits,
    #[error("frame with unknown opcode {0:#x}")]
    UnknownOpcode(u8),
    #[error("{0:?} frame {1} masked")]
    Masking(Sender, &'static str),
    #[error("control frame fragmented or longer than 125 bytes")]
    BadControl,
    #[error("frame payload of {0} bytes, past the tap's limit of {MAX_FRAME}")]
    TooLarge(u64),
}

/// Reads the frames of one direction from the bytes it is fed.
#[derive(Debug)]
pub struct FrameReader {
    sender: Sender,
    buf: BytesMut,
}

impl FrameReader {
    pub fn new(sender: Sender) -> FrameReader {
        FrameReader {
            sender,
            buf: BytesMut::new(),
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, `None` until one has arrived whole.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let Some(header) = self.header()? else {
            return Ok(None);
        };
        let total = header.len + header.payload_len as usize;
        if self.buf.len() < total {
            // Room for the rest now, rather than growing by every read.
            self.buf.reserve(total - self.buf.len());
            return Ok(None);
        }
        self.buf.advance(header.len);
        let mut payload = self.buf.split_to(header.payload_len as usize).to_vec();
        if let Some(key) = header.mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        Ok(Some(Frame {
            fin: header.fin,
            rsv1: header.rsv1,
            opcode: header.opcode,
            payload,
            wire_len: total as u64,
        }))
    }

    /// The header at the front of the buffer, checked, if it has arrived whole.
    fn header(&self) -> Result<Option<Header>, FrameError> {
        let b = &self.buf[..];
        if b.len() < 2 {
            return Ok(None);
        }
        if b[0] & 0x30 != 0 {
            return Err(FrameError::ReservedBits);
        }
        let opcode =
            Opcode::from_bits(b[0] & 0x0F).ok_or(FrameError::UnknownOpcode(b[0] & 0x0F))?;
        let fin = b[0] & 0x80 != 0;
        let masked = b[1] & 0x80 != 0;
        match (self.sender, masked) {
            (Sender::Client, false) => return Err(FrameError::Masking(Sender::Client, "not")),
            (Sender::Server, true) => return Err(FrameError::Masking(Sender::Server, "is")),
            _ => {}
        }
        let (payload_len, mut len) = match b[1] & 0x7F {
            126 if b.len() < 4 => return Ok(None),
            126 => (u64::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 if b.len() < 10 => return Ok(None),
            127 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&b[2..10]);
                (u64::from_be_bytes(n), 10)
            }
            n => (u64::from(n), 2),
        };
        if opcode.is_control() && (!fin || payload_len > 125) {
            return Err(FrameError::BadControl);
        }
        if payload_len > MAX_FRAME {
            return Err(FrameError::TooLarge(payload_len));
        }
        let mask = if masked {
            if b.len() < len + 4 {
                return Ok(None);
            }
            let key = [b[len], b[len + 1], b[len + 2], b[len + 3]];
            len += 4;
            Some(key)
        } else {
            None
        };
        Ok(Some(Header {
            fin,
            rsv1: b[0] & 0x40 != 0,
            opcode,
            payload_len,
            mask,
            len,
        }))
    }
}

struct Header {
    fin: bool,
    rsv1: bool,
    opcode: Opcode,
    payload_len: u64,
    mask: Option<[u8; 4]>,
    /// Header bytes.
    len: usize,
}

/// One frame on the wire: masked with `mask` when a client sends it.
pub fn encode(
    opcode: Opcode,
    fin: bool,
    rsv1: bool,
    payload: &[u8],
    mask: Option<[u8; 4]>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(u8::from(fin) << 7 | u8::from(rsv1) << 6 | opcode.bits());
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    #[test]
    fn masked_client_frames_parse_in_any_split() {
        // RFC 6455 §5.7: a masked "Hello".
        let wire = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        assert_eq!(encode(Opcode::Text, true, false, b"Hello", Some(KEY)), wire);
        for cut in 0..wire.len() {
            let mut r = FrameReader::new(Sender::Client);
            r.feed(&wire[..cut]);
            assert_eq!(r.next_frame().unwrap(), None, "cut at {cut}");
            r.feed(&wire[cut..]);
            let frame = r.next_frame().unwrap().unwrap();
            assert_eq!(frame.payload, b"Hello");
            assert_eq!(frame.opcode, Opcode::Text);
            assert!(frame.fin && !frame.rsv1);
            assert_eq!(frame.wire_len, 11);
            assert_eq!(r.next_frame().unwrap(), None);
        }
    }

    #[test]
    fn long_lengths_use_16_and_64_bit_fields() {
        for len in [125usize, 126, 65535, 65536, 200_000] {
            let payload = vec![b'x'; len];
            let wire = encode(Opcode::Binary, true, false, &payload, None);
            let mut r = FrameReader::new(Sender::Server);
            r.feed(&wire);
            let frame = r.next_frame().unwrap().unwrap();
            assert_eq!(frame.payload.len(), len);
            assert_eq!(frame.wire_len, wire.len() as u64);
        }
    }

    #[test]
    fn frames_that_break_the_rules_are_errors() {
        let mut r = FrameReader::new(Sender::Server);
        r.feed(&encode(Opcode::Text, true, false, b"x", Some(KEY)));
        assert!(matches!(r.next_frame(), Err(FrameError::Masking(..))));
        let mut r = FrameReader::new(Sender::Client);
        r.feed(&encode(Opcode::Text, true, false, b"x", None));
        assert!(matches!(r.next_frame(), Err(FrameError::Masking(..))));
        let mut r = FrameReader::new(Sender::Server);
        r.feed(&[0x83, 0x00]);
        assert_eq!(r.next_frame(), Err(FrameError::UnknownOpcode(3)));
        let mut r = FrameReader::new(Sender::Server);
        r.feed(&[0xA1, 0x00]);
        assert_eq!(r.next_frame(), Err(FrameError::ReservedBits));
        let mut r = FrameReader::new(Sender::Server);
        r.feed(&encode(Opcode::Ping, false, false, b"", None));
        assert_eq!(r.next_frame(), Err(FrameError::BadControl));
        let mut r = FrameReader::new(Sender::Server);
        r.feed(&[0x82, 127, 0xff, 0, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(r.next_frame(), Err(FrameError::TooLarge(_))));
    }
}
