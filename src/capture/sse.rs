//! Incremental Server-Sent Events decoding: bytes in whatever pieces the network delivers them,
//! events out.
//!
//! This module owns the SSE wire format and nothing else: line splitting (LF, CRLF and CR, also
//! when a CRLF pair is torn across two chunks), fields, comments and the blank line that ends an
//! event, following the WHATWG "event stream interpretation" algorithm. What an event *means* is
//! the business of `capture::usage`.
//!
//! The decoder keeps three reusable buffers (the unfinished line, the event's data, its type), so
//! a long stream costs no allocation per event once the buffers have grown to the largest event.
//! A line that lies entirely inside one chunk is parsed in place and never copied into the line
//! buffer; only the piece of a line that straddles a chunk boundary is.

use std::borrow::Cow;

use memchr::{memchr, memchr2};

/// The UTF-8 byte order mark, which the spec strips from the start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event. Both fields borrow the decoder's buffers, valid for the callback only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The `event:` field, or `"message"` when the event had none (or an empty one).
    pub event: &'a str,
    /// The values of all `data:` lines of the event, joined with `\n`.
    pub data: &'a [u8],
}

/// An incremental SSE decoder: feed it chunks, it calls back once per complete event.
///
/// Splitting the same bytes into different chunks never changes the events produced.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of a line whose terminator has not arrived yet.
    line: Vec<u8>,
    /// The event being assembled from the lines seen so far.
    fields: Fields,
    /// The previous chunk ended in CR: an LF opening the next chunk is that CR's partner, not a
    /// second (blank) line.
    skip_lf: bool,
}

/// Per-event state: the spec's data buffer and event type buffer.
#[derive(Debug, Default)]
struct Fields {
    /// Each `data:` value followed by `\n` (the spec's data buffer; the final `\n` is dropped on
    /// dispatch).
    data: Vec<u8>,
    /// The last `event:` value of the current event.
    event: Vec<u8>,
    /// A field line has been seen since the last blank line: an event is under way.
    pending: bool,
    /// The first line has been processed (the BOM can only precede it).
    started: bool,
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `chunk`, calling `on_event` for every event it completes, in stream order.
    pub fn feed(&mut self, chunk: &[u8], mut on_event: impl FnMut(SseEvent<'_>)) {
        let mut pos = 0;
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if chunk[0] == b'\n' {
                pos = 1;
            }
        }
        while pos < chunk.len() {
            let rest = &chunk[pos..];
            let Some(i) = memchr2(b'\n', b'\r', rest) else {
                self.line.extend_from_slice(rest);
                break;
            };
            if self.line.is_empty() {
                // The whole line is in this chunk: parse it in place.
                self.fields.line(&rest[..i], &mut on_event);
            } else {
                self.line.extend_from_slice(&rest[..i]);
                self.fields.line(&self.line, &mut on_event);
                self.line.clear();
            }
            let terminator = rest[i];
            pos += i + 1;
            if terminator == b'\r' {
                match chunk.get(pos) {
                    Some(b'\n') => pos += 1,
                    Some(_) => {}
                    // Whether this CR is half of a CRLF is only known from the next chunk.
                    None => self.skip_lf = true,
                }
            }
        }
    }

    /// Whether the bytes fed so far end inside an event: an unterminated line, or field lines not
    /// yet closed by a blank line. A stream that ends in this state was cut off.
    pub fn has_partial(&self) -> bool {
        !self.line.is_empty() || self.fields.pending
    }

    /// Ends the stream and resets the decoder for reuse. Returns whether a partial event was
    /// discarded (see [`SseDecoder::has_partial`]).
    ///
    /// The WHATWG algorithm discards an event that is not closed by a blank line when the stream
    /// ends, so this never dispatches; the callback is taken so callers are written the same way
    /// as for [`SseDecoder::feed`] and stay correct should that rule ever need an exception.
    pub fn finish(&mut self, _on_event: impl FnMut(SseEvent<'_>)) -> bool {
        let torn = self.has_partial();
        self.line.clear();
        self.fields.data.clear();
        self.fields.event.clear();
        self.fields.pending = false;
        self.fields.started = false;
        self.skip_lf = false;
        torn
    }
}

impl Fields {
    /// Processes one complete line (terminator excluded).
    fn line(&mut self, mut line: &[u8], on_event: &mut impl FnMut(SseEvent<'_>)) {
        if !self.started {
            self.started = true;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(on_event);
            return;
        }
        if line[0] == b':' {
            return; // comment (keep-alives, proxy banners)
        }
        let (field, value) = match memchr(b':', line) {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            b"event" => {
                self.event.clear();
                self.event.extend_from_slice(value);
            }
            // `id`, `retry` and unknown fields carry nothing agentprof needs.
            _ => {}
        }
        self.pending = true;
    }

    /// The blank line: dispatches the event if it has data, then resets for the next one.
    fn dispatch(&mut self, on_event: &mut impl FnMut(SseEvent<'_>)) {
        self.pending = false;
        if let Some((_, data)) = self.data.split_last() {
            let event: Cow<'_, str> = if self.event.is_empty() {
                Cow::Borrowed("message")
            } else {
                // Event names are ASCII in practice; a lossy copy only for broken ones.
                String::from_utf8_lossy(&self.event)
            };
            on_event(SseEvent {
                event: &event,
                data,
            });
        }
        // Per spec an event without data is not dispatched, and its type is forgotten too.
        self.data.clear();
        self.event.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Owned copy of an event, for comparing runs.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Owned {
        event: String,
        data: String,
    }

    fn run(chunks: &[&[u8]]) -> (Vec<Owned>, bool) {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        let mut push = |e: SseEvent<'_>| {
            out.push(Owned {
                event: e.event.to_owned(),
                data: String::from_utf8_lossy(e.data).into_owned(),
            })
        };
        for c in chunks {
            d.feed(c, &mut push);
        }
        let torn = d.finish(&mut push);
        (out, torn)
    }

    /// Decodes `stream` whole, at every two-chunk split, as single bytes and in pseudo-random
    /// chunkings; all must agree. Returns the whole-stream result.
    fn check_all_splits(stream: &[u8]) -> (Vec<Owned>, bool) {
        let whole = run(&[stream]);
        for cut in 0..=stream.len() {
            assert_eq!(
                run(&[&stream[..cut], &stream[cut..]]),
                whole,
                "split at {cut}"
            );
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(run(&bytes), whole, "1-byte chunks");
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..50 {
            let mut chunks = Vec::new();
            let mut pos = 0;
            while pos < stream.len() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let n = (seed % 7) as usize;
                let end = (pos + n).min(stream.len());
                chunks.push(&stream[pos..end]);
                pos = end;
            }
            assert_eq!(run(&chunks), whole, "random chunking");
        }
        whole
    }

    fn ev(event: &str, data: &str) -> Owned {
        Owned {
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn basic_fields_and_defaults() {
        let s =
            b"event: ping\ndata: {\"type\": \"ping\"}\n\ndata:no-space\n\ndata:  two spaces\n\n";
        let (evs, torn) = check_all_splits(s);
        assert!(!torn);
        assert_eq!(
            evs,
            vec![
                ev("ping", "{\"type\": \"ping\"}"),
                ev("message", "no-space"),
                ev("message", " two spaces"),
            ]
        );
    }

    #[test]
    fn multi_line_data_joined_with_lf() {
        let (evs, _) = check_all_splits(b"data: a\ndata: b\ndata\ndata:\n\n");
        assert_eq!(evs, vec![ev("message", "a\nb\n\n")]);
    }

    #[test]
    fn crlf_and_cr_line_endings() {
        let crlf = b"event: x\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n";
        let cr = b"event: x\rdata: 1\r\rdata: 2\r\r";
        let mixed = b"event: x\r\ndata: 1\n\rdata: 2\r\r\n";
        let want = vec![ev("x", "1"), ev("message", "2")];
        for s in [&crlf[..], &cr[..], &mixed[..]] {
            let (evs, torn) = check_all_splits(s);
            assert_eq!(evs, want, "{:?}", String::from_utf8_lossy(s));
            assert!(!torn);
        }
    }

    #[test]
    fn cr_at_chunk_end_then_lf_is_one_terminator() {
        // Split exactly between CR and LF: the LF must not become a blank line.
        let (evs, _) = run(&[b"data: a\r", b"\ndata: b\r\n\r\n"]);
        assert_eq!(evs, vec![ev("message", "a\nb")]);
    }

    #[test]
    fn comments_ids_retry_and_unknown_fields_ignored() {
        let s = b": keep-alive\nid: 7\nretry: 1000\nfoo: bar\nnocolon\ndata: x\n\n:\n\n";
        let (evs, torn) = check_all_splits(s);
        assert_eq!(evs, vec![ev("message", "x")]);
        assert!(!torn);
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_its_type_is_forgotten() {
        let s = b"event: lonely\n\ndata: y\n\n";
        let (evs, _) = check_all_splits(s);
        assert_eq!(evs, vec![ev("message", "y")]);
    }

    #[test]
    fn empty_event_name_means_message() {
        let (evs, _) = check_all_splits(b"event:\ndata: z\n\n");
        assert_eq!(evs, vec![ev("message", "z")]);
    }

    #[test]
    fn incomplete_event_at_eof_is_discarded_and_reported() {
        let (evs, torn) = check_all_splits(b"data: done\n\ndata: half");
        assert_eq!(evs, vec![ev("message", "done")]);
        assert!(torn);
        let (evs, torn) = check_all_splits(b"data: done\n\nevent: x\ndata: no blank line\n");
        assert_eq!(evs, vec![ev("message", "done")]);
        assert!(torn);
        let (_, torn) = check_all_splits(b"data: done\r\n\r\n");
        assert!(!torn);
    }

    #[test]
    fn bom_is_stripped_only_at_start() {
        let (evs, _) = check_all_splits(b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n");
        // The second BOM makes the field name "\u{feff}data", which is unknown: no event.
        assert_eq!(evs, vec![ev("message", "a")]);
    }

    #[test]
    fn large_data_line_across_many_chunks() {
        let big = "x".repeat(40_000);
        let stream = format!("event: big\ndata: {big}\n\n");
        let chunks: Vec<&[u8]> = stream.as_bytes().chunks(1000).collect();
        let (evs, torn) = run(&chunks);
        assert_eq!(evs, vec![ev("big", &big)]);
        assert!(!torn);
    }

    #[test]
    fn decoder_is_reusable_after_finish() {
        let mut d = SseDecoder::new();
        let mut n = 0;
        d.feed(b"data: a", |_| n += 1);
        assert!(d.has_partial());
        assert!(d.finish(|_| n += 1));
        d.feed(b"data: b\n\n", |_| n += 1);
        assert!(!d.has_partial());
        assert_eq!(n, 1);
    }
}
