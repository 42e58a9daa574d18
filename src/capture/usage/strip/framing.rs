//! Framing: finding where SSE events end across upstream frames ([`BoundaryScanner`]), and
//! cutting the bytes to forward into zero-copy slices or coalesced copies ([`Emitter`]).

use std::ops::Range;

use bytes::Bytes;
use memchr::memchr2;

/// Unchanged stretches at least this long are forwarded as slices even inside an edited frame;
/// shorter ones are coalesced into one copied buffer so the client gets one write, not many.
const SLICE_MIN: usize = 512;

/// Finds where SSE events end in a byte stream delivered in frames: after the line terminator
/// of a blank line. Line terminators are LF, CRLF or CR, as for the decoder.
#[derive(Debug, Default)]
pub(super) struct BoundaryScanner {
    /// The current line has content (so its terminator does not end the event).
    in_line: bool,
    /// The previous frame ended with a CR inside an event: an LF opening this one belongs to it.
    after_cr: bool,
}

impl BoundaryScanner {
    /// The end (exclusive) of the first event ending at or after `pos` in `buf`, or `None` if the
    /// event under way does not end in `buf` (state is kept for the next frame).
    pub(super) fn next_event_end(&mut self, buf: &[u8], mut pos: usize) -> Option<usize> {
        if self.after_cr && pos < buf.len() {
            self.after_cr = false;
            if buf[pos] == b'\n' {
                pos += 1;
            }
        }
        loop {
            if !self.in_line {
                match buf.get(pos)? {
                    b'\n' => return Some(pos + 1),
                    b'\r' => {
                        return Some(if buf.get(pos + 1) == Some(&b'\n') {
                            pos + 2
                        } else {
                            pos + 1
                        });
                    }
                    _ => self.in_line = true,
                }
            }
            let k = memchr2(b'\n', b'\r', buf.get(pos..)?)?;
            let p = pos + k;
            self.in_line = false;
            pos = p + 1;
            if buf[p] == b'\r' {
                match buf.get(pos) {
                    Some(b'\n') => pos += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
    }
}

/// Collects the bytes to forward for one frame, coalescing where that is cheaper than slicing.
pub(super) struct Emitter<'a> {
    frame: &'a Bytes,
    out: &'a mut Vec<Bytes>,
    /// A stretch of `frame` to forward, not yet emitted (it may still grow).
    run: Option<Range<usize>>,
    /// Small pieces copied together into one buffer.
    copy: Vec<u8>,
}

impl<'a> Emitter<'a> {
    pub(super) fn new(frame: &'a Bytes, out: &'a mut Vec<Bytes>) -> Self {
        Self {
            frame,
            out,
            run: None,
            copy: Vec::new(),
        }
    }

    /// Forwards `r` of the frame.
    pub(super) fn keep(&mut self, r: Range<usize>) {
        if r.is_empty() {
            return;
        }
        match &mut self.run {
            Some(run) if run.end == r.start => run.end = r.end,
            _ => {
                self.commit_run();
                self.run = Some(r);
            }
        }
    }

    /// Forwards a held piece of an earlier frame, zero-copy.
    pub(super) fn shared(&mut self, piece: Bytes) {
        self.commit_run();
        self.flush_copy();
        self.out.push(piece);
    }

    /// Forwards edited bytes (copied).
    pub(super) fn copy(&mut self, bytes: &[u8]) {
        self.commit_run();
        self.copy.extend_from_slice(bytes);
    }

    /// A run that cannot grow any more: slice it if long, else coalesce it.
    fn commit_run(&mut self) {
        if let Some(run) = self.run.take() {
            if run.len() >= SLICE_MIN {
                self.flush_copy();
                self.out.push(self.frame.slice(run));
            } else {
                self.copy.extend_from_slice(&self.frame[run]);
            }
        }
    }

    fn flush_copy(&mut self) {
        if !self.copy.is_empty() {
            self.out.push(Bytes::from(std::mem::take(&mut self.copy)));
        }
    }

    /// Emits everything. A frame that needed no edit becomes one zero-copy slice.
    pub(super) fn finish(mut self) {
        if let Some(run) = self.run.take() {
            if self.copy.is_empty() || run.len() >= SLICE_MIN {
                self.flush_copy();
                self.out.push(self.frame.slice(run));
            } else {
                self.copy.extend_from_slice(&self.frame[run]);
            }
        }
        self.flush_copy();
    }
}
