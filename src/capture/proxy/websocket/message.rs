//! Messages of one direction (RFC 6455 §5.4): data frames joined across continuations, control
//! frames (which may come between the fragments) passed over, compressed messages inflated.

use super::deflate::{DeflateError, Inflater};
use super::frames::{FrameError, FrameReader, Opcode, Sender};

/// Largest message the tap reads, inflated.
pub const MAX_MESSAGE: usize = 64 << 20;

/// A whole data message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `Text` or `Binary`.
    pub opcode: Opcode,
    /// The payload, inflated.
    pub payload: Vec<u8>,
    /// Bytes its frames took on the wire.
    pub wire_len: u64,
}

/// What the next bytes held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Message(Message),
    /// A close frame: nothing after it counts.
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Deflate(#[from] DeflateError),
    #[error("continuation frame without a message to continue")]
    StrayContinuation,
    #[error("new data frame while a fragmented message is unfinished")]
    Interleaved,
    #[error("compressed frame (RSV1) where none may be: {0}")]
    BadRsv1(&'static str),
    #[error("message larger than the tap's limit of {MAX_MESSAGE} bytes")]
    TooLarge,
}

/// A message whose frames are still arriving.
#[derive(Debug)]
struct Partial {
    opcode: Opcode,
    compressed: bool,
    payload: Vec<u8>,
    wire_len: u64,
}

/// Reads the messages of one direction.
#[derive(Debug)]
pub struct MessageReader {
    frames: FrameReader,
    /// Present when permessage-deflate was negotiated.
    inflater: Option<Inflater>,
    partial: Option<Partial>,
}

impl MessageReader {
    pub fn new(sender: Sender, inflater: Option<Inflater>) -> MessageReader {
        MessageReader {
            frames: FrameReader::new(sender),
            inflater,
            partial: None,
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.frames.feed(bytes);
    }

    /// The next whole message or close, `None` until one has arrived.
    pub fn next_item(&mut self) -> Result<Option<Item>, MessageError> {
        while let Some(frame) = self.frames.next_frame()? {
            match frame.opcode {
                Opcode::Close => return Ok(Some(Item::Close)),
                Opcode::Ping | Opcode::Pong if frame.rsv1 => {
                    return Err(MessageError::BadRsv1("control frame"));
                }
                Opcode::Ping | Opcode::Pong => continue,
                Opcode::Continuation => {
                    if frame.rsv1 {
                        return Err(MessageError::BadRsv1("continuation frame"));
                    }
                    let partial = self
                        .partial
                        .as_mut()
                        .ok_or(MessageError::StrayContinuation)?;
                    partial.payload.extend_from_slice(&frame.payload);
                    partial.wire_len += frame.wire_len;
                }
                Opcode::Text | Opcode::Binary => {
                    if self.partial.is_some() {
                        return Err(MessageError::Interleaved);
                    }
                    if frame.rsv1 && self.inflater.is_none() {
                        return Err(MessageError::BadRsv1("permessage-deflate not negotiated"));
                    }
                    self.partial = Some(Partial {
                        opcode: frame.opcode,
                        compressed: frame.rsv1,
                        payload: frame.payload,
                        wire_len: frame.wire_len,
                    });
                }
            }
            if self
                .partial
                .as_ref()
                .is_some_and(|p| p.payload.len() > MAX_MESSAGE)
            {
                return Err(MessageError::TooLarge);
            }
            if frame.fin
                && let Some(partial) = self.partial.take()
            {
                let payload = match (partial.compressed, self.inflater.as_mut()) {
                    (true, Some(inflater)) => inflater.inflate(&partial.payload, MAX_MESSAGE)?,
                    _ => partial.payload,
                };
                return Ok(Some(Item::Message(Message {
                    opcode: partial.opcode,
                    payload,
                    wire_len: partial.wire_len,
                })));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::super::deflate::Deflater;
    use super::super::frames::encode;
    use super::*;

    const KEY: Option<[u8; 4]> = Some([1, 2, 3, 4]);

    fn all(reader: &mut MessageReader) -> Vec<Item> {
        let mut items = Vec::new();
        while let Some(item) = reader.next_item().unwrap() {
            items.push(item);
        }
        items
    }

    fn text(item: &Item) -> &[u8] {
        match item {
            Item::Message(m) => &m.payload,
            Item::Close => b"<close>",
        }
    }

    #[test]
    fn fragments_join_around_control_frames() {
        let mut wire = Vec::new();
        wire.extend(encode(Opcode::Text, false, false, b"{\"type\":", KEY));
        wire.extend(encode(Opcode::Ping, true, false, b"p", KEY));
        wire.extend(encode(
            Opcode::Continuation,
            false,
            false,
            b"\"response",
            KEY,
        ));
        wire.extend(encode(Opcode::Pong, true, false, b"", KEY));
        wire.extend(encode(
            Opcode::Continuation,
            true,
            false,
            b".create\"}",
            KEY,
        ));
        wire.extend(encode(Opcode::Close, true, false, &[0x03, 0xe8], KEY));
        let mut reader = MessageReader::new(Sender::Client, None);
        // One byte at a time: nothing depends on how the bytes were read.
        let mut items = Vec::new();
        for b in &wire {
            reader.feed(std::slice::from_ref(b));
            items.extend(all(&mut reader));
        }
        assert_eq!(items.len(), 2);
        assert_eq!(text(&items[0]), br#"{"type":"response.create"}"#);
        assert_eq!(items[1], Item::Close);
        if let Item::Message(m) = &items[0] {
            let data_frames = wire.len() as u64 - 6 - 7 - 8;
            assert_eq!(m.wire_len, data_frames);
        }
    }

    #[test]
    fn compressed_fragmented_messages_inflate_with_context_takeover() {
        let mut deflater = Deflater::new(false);
        let mut wire = Vec::new();
        let events = [
            br#"{"type":"response.created"}"#.as_slice(),
            br#"{"type":"response.completed"}"#,
            br#"{"type":"response.completed"}"#,
        ];
        for (i, event) in events.iter().enumerate() {
            let compressed = deflater.deflate(event);
            if i == 1 {
                // Split in two frames: RSV1 on the first only.
                let (a, b) = compressed.split_at(compressed.len() / 2);
                wire.extend(encode(Opcode::Text, false, true, a, None));
                wire.extend(encode(Opcode::Continuation, true, false, b, None));
            } else {
                wire.extend(encode(Opcode::Text, true, true, &compressed, None));
            }
        }
        // An uncompressed message in between is allowed too.
        wire.extend(encode(Opcode::Text, true, false, b"plain", None));
        let mut reader = MessageReader::new(Sender::Server, Some(Inflater::new(false)));
        reader.feed(&wire);
        let items = all(&mut reader);
        let texts: Vec<&[u8]> = items.iter().map(text).collect();
        assert_eq!(texts, [events[0], events[1], events[2], b"plain"]);
    }

    #[test]
    fn broken_sequences_are_errors() {
        let mut reader = MessageReader::new(Sender::Server, None);
        reader.feed(&encode(Opcode::Continuation, true, false, b"x", None));
        assert_eq!(reader.next_item(), Err(MessageError::StrayContinuation));

        let mut reader = MessageReader::new(Sender::Server, None);
        reader.feed(&encode(Opcode::Text, false, false, b"x", None));
        reader.feed(&encode(Opcode::Text, true, false, b"y", None));
        assert_eq!(reader.next_item(), Err(MessageError::Interleaved));

        let mut reader = MessageReader::new(Sender::Server, None);
        reader.feed(&encode(Opcode::Text, true, true, b"x", None));
        assert!(matches!(reader.next_item(), Err(MessageError::BadRsv1(_))));

        let mut reader = MessageReader::new(Sender::Server, Some(Inflater::new(false)));
        reader.feed(&encode(Opcode::Text, true, true, &[0xff; 8], None));
        assert!(matches!(reader.next_item(), Err(MessageError::Deflate(_))));
    }
}
