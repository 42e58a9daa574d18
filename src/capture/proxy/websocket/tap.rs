//! The tap: reads a copy of both directions of a WebSocket connection, after the bytes have
//! been passed on, and turns the messages into calls.
//!
//! It never touches the traffic. A frame or message it cannot read stops it for the rest of
//! the connection — later frames cannot be trusted to start where it thinks — with the error
//! logged once and written into the records: the calls open at that point, and the upgrade's
//! own record.

use super::calls::Calls;
use super::deflate::Inflater;
use super::extensions::Negotiated;
use super::frames::{Opcode, Sender};
use super::message::{Item, MessageReader};
use crate::observation::CallErrorKind;

/// The two directions' readers, while the tap still reads.
struct Readers {
    client: MessageReader,
    server: MessageReader,
}

pub(super) struct Tap {
    readers: Option<Readers>,
    calls: Calls,
    /// Why the tap stopped reading, if it did.
    failed: Option<String>,
}

impl Tap {
    /// A tap for a connection with `negotiated` extensions, or one that fails at once when the
    /// extensions could not be read.
    pub(super) fn new(negotiated: Result<Negotiated, String>, calls: Calls) -> Tap {
        let mut tap = Tap {
            readers: None,
            calls,
            failed: None,
        };
        match negotiated {
            Ok(negotiated) => {
                let inflater = |no_context_takeover| Inflater::new(no_context_takeover);
                let deflate = negotiated.deflate;
                tap.readers = Some(Readers {
                    client: MessageReader::new(
                        Sender::Client,
                        deflate.map(|d| inflater(d.client_no_context_takeover)),
                    ),
                    server: MessageReader::new(
                        Sender::Server,
                        deflate.map(|d| inflater(d.server_no_context_takeover)),
                    ),
                });
            }
            Err(err) => tap.fail(err),
        }
        tap
    }

    /// Bytes the client sent, already passed upstream.
    pub(super) fn read_client(&mut self, bytes: &[u8]) {
        self.read(Sender::Client, bytes);
    }

    /// Bytes upstream sent, already passed to the client.
    pub(super) fn read_server(&mut self, bytes: &[u8]) {
        self.read(Sender::Server, bytes);
    }

    /// Why the tap stopped reading, if it did.
    pub(super) fn failure(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// The connection ended: calls still open end with `kind` and `message`.
    pub(super) fn end(&mut self, kind: CallErrorKind, message: &str, all_delivered: bool) {
        self.calls.end_open(kind, message, all_delivered);
    }

    fn read(&mut self, sender: Sender, bytes: &[u8]) {
        let Some(readers) = self.readers.as_mut() else {
            return;
        };
        let reader = match sender {
            Sender::Client => &mut readers.client,
            Sender::Server => &mut readers.server,
        };
        reader.feed(bytes);
        loop {
            match reader.next_item() {
                Ok(None) | Ok(Some(Item::Close)) => return,
                Ok(Some(Item::Message(message))) => {
                    if message.opcode != Opcode::Text {
                        continue;
                    }
                    match sender {
                        Sender::Client => self.calls.on_client_text(message.payload),
                        Sender::Server => {
                            self.calls
                                .on_server_text(&message.payload, message.wire_len);
                        }
                    }
                }
                Err(err) => {
                    let who = match sender {
                        Sender::Client => "client",
                        Sender::Server => "upstream",
                    };
                    self.fail(format!("cannot read the {who}'s WebSocket frames: {err}"));
                    return;
                }
            }
        }
    }

    /// Stops reading for good; the calls open now cannot be followed to their end.
    fn fail(&mut self, err: String) {
        tracing::warn!(
            "WebSocket tap stopped ({err}); the connection's bytes still pass through untouched"
        );
        self.readers = None;
        let message = format!(
            "{err}; agentprof stopped reading this WebSocket (its bytes went on untouched)"
        );
        self.calls
            .end_open(CallErrorKind::Unreadable, &message, true);
        self.failed = Some(message);
    }
}
