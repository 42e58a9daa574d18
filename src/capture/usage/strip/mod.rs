//! Hiding a proxy-added `stream_options.include_usage` from an OpenAI Chat Completions client.
//!
//! When the client did not ask for usage, the proxy asks on its behalf (usage is the whole point
//! of agentprof) and must then give the client exactly the bytes it would have had otherwise.
//! `include_usage` changes a stream in two ways, both undone here:
//!
//! 1. one extra chunk before `[DONE]` with `"choices":[]` and a usage object — dropped whole,
//!    blank line included;
//! 2. a `"usage":null` member in every other chunk — removed with its comma, the rest of the
//!    chunk left byte-for-byte as it was (no JSON re-formatting).
//!
//! [`IncludeUsageStripper`] owns that rewrite and also feeds every original byte to a
//! [`StreamUsageParser`], so the proxy calls one method per frame and still gets the usage.
//!
//! Output is re-framed only at event boundaries: bytes of an unfinished event are held until its
//! blank line arrives, because whether an event must change is only known once it is complete.
//! Unchanged bytes go out as zero-copy [`Bytes::slice`]s of the upstream frame; only events that
//! are edited are copied (and long unchanged stretches inside an edited frame are still sliced).
//!
//! Layout: the stripper and the per-event decision are here; finding event boundaries and
//! building the forwarded `Bytes` are in `framing`, the top-level JSON member scanner in `json`.

mod framing;
mod json;
#[cfg(test)]
mod tests;

use std::ops::Range;
use std::sync::LazyLock;

use bytes::Bytes;
use memchr::memchr2;
use memchr::memmem::Finder;

use super::{ResponseSummary, StreamUsageParser};
use crate::observation::ApiKind;
use framing::{BoundaryScanner, Emitter};
use json::{Chunk, inspect_chunk};

/// Rewrites an OpenAI chat stream as if `include_usage` had not been set, while capturing usage.
///
/// Use it only for a 2xx `text/event-stream` Chat Completions response to a request where the
/// proxy itself added `include_usage` (see `capture::request::add_include_usage`).
#[derive(Debug)]
pub struct IncludeUsageStripper {
    parser: StreamUsageParser,
    scanner: BoundaryScanner,
    /// Pieces of the event under way (not yet closed by a blank line), as received.
    pending: Vec<Bytes>,
    /// A contiguous copy of an event that spanned frames, for inspecting it.
    scratch: Vec<u8>,
    /// The joined data of a multi-line event, for inspecting it.
    decoded: Vec<u8>,
    /// The previous frame ended with the CR that closed an event; `Some(dropped)` says whether
    /// that event was dropped, so an LF opening the next frame (the rest of its CRLF) shares its
    /// fate.
    cr_closed_event: Option<bool>,
}

/// The searcher for `"usage"`, the cheap test that lets most events through untouched; built
/// once per process.
static USAGE_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"usage\""));

impl Default for IncludeUsageStripper {
    fn default() -> Self {
        Self::new()
    }
}

impl IncludeUsageStripper {
    /// A stripper at the start of a Chat Completions stream.
    pub fn new() -> Self {
        Self {
            parser: StreamUsageParser::new(ApiKind::ChatCompletions),
            scanner: BoundaryScanner::default(),
            pending: Vec::new(),
            scratch: Vec::new(),
            decoded: Vec::new(),
            cr_closed_event: None,
        }
    }

    /// Takes the next upstream frame and appends to `out` the bytes to forward to the client now
    /// (possibly none, while an event is incomplete).
    pub fn push(&mut self, frame: Bytes, out: &mut Vec<Bytes>) {
        self.parser.feed(&frame);
        if frame.is_empty() {
            return;
        }
        let mut em = Emitter::new(&frame, out);
        let mut pos = 0;
        if let Some(dropped) = self.cr_closed_event.take()
            && frame[0] == b'\n'
        {
            if !dropped {
                em.keep(0..1);
            }
            pos = 1;
        }
        while let Some(end) = self.scanner.next_event_end(&frame, pos) {
            let action = if self.pending.is_empty() {
                let action = classify(&frame[pos..end], &USAGE_KEY, &mut self.decoded);
                match &action {
                    Action::Keep => em.keep(pos..end),
                    Action::Drop => {}
                    Action::Remove(r) => {
                        em.keep(pos..pos + r.start);
                        em.keep(pos + r.end..end);
                    }
                }
                action
            } else {
                // The event began in an earlier frame: inspect a contiguous copy, but forward
                // the original pieces when it needs no edit.
                self.scratch.clear();
                for piece in &self.pending {
                    self.scratch.extend_from_slice(piece);
                }
                self.scratch.extend_from_slice(&frame[pos..end]);
                let action = classify(&self.scratch, &USAGE_KEY, &mut self.decoded);
                match &action {
                    Action::Keep => {
                        for piece in self.pending.drain(..) {
                            em.shared(piece);
                        }
                        em.keep(pos..end);
                    }
                    Action::Drop => self.pending.clear(),
                    Action::Remove(r) => {
                        self.pending.clear();
                        em.copy(&self.scratch[..r.start]);
                        em.copy(&self.scratch[r.end..]);
                    }
                }
                action
            };
            if end == frame.len() && frame[end - 1] == b'\r' {
                self.cr_closed_event = Some(action == Action::Drop);
            }
            pos = end;
        }
        if pos < frame.len() {
            self.pending.push(frame.slice(pos..));
        }
        em.finish();
    }

    /// Ends the stream: forwards any bytes of an unfinished event unchanged (a torn stream must
    /// reach the client as torn as it was) and returns the usage summary of the whole stream.
    pub fn finish(mut self, out: &mut Vec<Bytes>) -> ResponseSummary {
        out.append(&mut self.pending);
        self.parser.finish()
    }
}

/// What to do with one complete event.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    /// Forward unchanged.
    Keep,
    /// The usage-only chunk: forward nothing.
    Drop,
    /// Forward all but this byte range (the `"usage":null` member and its comma).
    Remove(Range<usize>),
}

/// Decides what `include_usage` did to this event (`ev` is the whole event, blank line
/// included).
fn classify(ev: &[u8], usage_key: &Finder<'_>, decoded: &mut Vec<u8>) -> Action {
    if usage_key.find(ev).is_none() {
        return Action::Keep; // the common case with no usage member at all, e.g. `[DONE]`
    }
    let mut data_lines = 0;
    let mut payload = 0..0;
    for line in Lines::new(ev) {
        if let Some(value) = data_value(ev, line) {
            data_lines += 1;
            payload = value;
        }
    }
    match data_lines {
        0 => Action::Keep,
        1 => match inspect_chunk(&ev[payload.clone()]) {
            Chunk::UsageOnly => Action::Drop,
            Chunk::UsageNull(r) => Action::Remove(payload.start + r.start..payload.start + r.end),
            Chunk::Other => Action::Keep,
        },
        _ => {
            // JSON split over several `data:` lines (OpenAI never does this). The usage-only
            // chunk can still be recognised and dropped; a `"usage":null` spread over lines is
            // left alone rather than risk corrupting the event.
            decoded.clear();
            for line in Lines::new(ev) {
                if let Some(value) = data_value(ev, line) {
                    decoded.extend_from_slice(&ev[value]);
                    decoded.push(b'\n');
                }
            }
            match inspect_chunk(decoded) {
                Chunk::UsageOnly => Action::Drop,
                _ => Action::Keep,
            }
        }
    }
}

/// The value range of a `data` field line (SSE rules: one optional space after the colon).
fn data_value(ev: &[u8], line: Range<usize>) -> Option<Range<usize>> {
    let text = &ev[line.clone()];
    if text == b"data" {
        return Some(line.end..line.end);
    }
    let rest = text.strip_prefix(b"data:")?;
    let skip = usize::from(rest.first() == Some(&b' '));
    Some(line.start + 5 + skip..line.end)
}

/// The content ranges of the lines of one event (terminators excluded).
struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
}

impl Iterator for Lines<'_> {
    type Item = Range<usize>;
    fn next(&mut self) -> Option<Range<usize>> {
        let rest = self.buf.get(self.pos..).filter(|r| !r.is_empty())?;
        let start = self.pos;
        let end = memchr2(b'\n', b'\r', rest).map_or(self.buf.len(), |i| start + i);
        self.pos = match (self.buf.get(end), self.buf.get(end + 1)) {
            (Some(b'\r'), Some(b'\n')) => end + 2,
            _ => end + 1,
        };
        Some(start..end)
    }
}
