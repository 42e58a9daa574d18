//! Streaming lines out of a byte range of a file through one reusable buffer.
//!
//! Each worker owns one [`LineReader`]: a fixed buffer the file is read into with positioned
//! reads, newlines found with `memchr`, and every complete line handed out as a slice of the
//! buffer — no per-line allocation, no whole-file load. A line longer than the buffer (tool
//! results run to megabytes) is routed from its pieces as they stream past and read whole
//! only when it must be parsed, into a buffer freed right after.
//!
//! A range `[start, end)` owns the lines that *start* in it, so a big file can be split among
//! workers at any byte offsets: each skips the partial line it lands in, and finishes the line
//! that crosses its end.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};

use memchr::memchr;

use super::route::{Flags, Prefilter, Route};

/// Read size: big enough that syscalls cost nothing, small enough to stay in L2.
pub const CHUNK: usize = 128 * 1024;

/// Lines longer than this are reported, not parsed: no transcript record is this big, and
/// reading one would cost its size in memory.
pub const MAX_PARSED_LINE: u64 = 256 * 1024 * 1024;

/// Where a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAt {
    /// Byte offset of the line's first byte in the file.
    pub offset: u64,
    /// 1-based among the lines of this range.
    pub number: u64,
    /// Length without the newline.
    pub len: u64,
    /// Ended with a newline (a last line without one may be torn).
    pub complete: bool,
}

/// A line as handed to the sink: its bytes when it is to be parsed (or was short enough to
/// be in the buffer anyway), else `None`.
pub type LineBytes<'a> = Option<&'a [u8]>;

/// One worker's reader.
pub struct LineReader {
    buf: Vec<u8>,
    prefilter: Prefilter,
}

impl Default for LineReader {
    fn default() -> Self {
        LineReader {
            buf: vec![0; CHUNK],
            prefilter: Prefilter::default(),
        }
    }
}

impl LineReader {
    /// Hands every line starting in `[start, end)` of `file` to `sink`, with its route.
    /// Returns the number of lines. `progress` is advanced by the bytes read.
    pub fn read_range(
        &mut self,
        file: &File,
        start: u64,
        end: u64,
        progress: &AtomicU64,
        sink: &mut dyn FnMut(LineAt, LineBytes<'_>, Route),
    ) -> std::io::Result<u64> {
        // Start one byte early: if that byte is a newline, a line starts exactly at `start`.
        let mut base = start.saturating_sub(1);
        let mut skipping = start > 0;
        let mut filled = 0usize;
        let mut line_start = 0usize;
        let mut search_from = 0usize;
        let mut number = 0u64;
        loop {
            let read = read_at_retry(file, &mut self.buf[filled..], base + filled as u64)?;
            progress.fetch_add(read as u64, Ordering::Relaxed);
            filled += read;
            let eof = read == 0;
            while let Some(found) = memchr(b'\n', &self.buf[search_from..filled]) {
                let newline = search_from + found;
                search_from = newline + 1;
                if skipping {
                    skipping = false;
                    line_start = newline + 1;
                    continue;
                }
                let offset = base + line_start as u64;
                if offset >= end {
                    return Ok(number);
                }
                number += 1;
                let line = &self.buf[line_start..newline];
                let at = LineAt {
                    offset,
                    number,
                    len: line.len() as u64,
                    complete: true,
                };
                sink(at, Some(line), self.prefilter.route(line));
                line_start = newline + 1;
            }
            if eof {
                let offset = base + line_start as u64;
                if !skipping && line_start < filled && offset < end {
                    number += 1;
                    let line = &self.buf[line_start..filled];
                    let at = LineAt {
                        offset,
                        number,
                        len: line.len() as u64,
                        complete: false,
                    };
                    sink(at, Some(line), self.prefilter.route(line));
                }
                return Ok(number);
            }
            if line_start > 0 {
                // Keep the partial line, drop what was handed out.
                self.buf.copy_within(line_start..filled, 0);
                base += line_start as u64;
                filled -= line_start;
                search_from = filled;
                line_start = 0;
                continue;
            }
            if filled < self.buf.len() {
                continue;
            }
            // The buffer holds one unfinished line: follow it piece by piece.
            let offset = base;
            let long = self.follow_long_line(file, base, progress)?;
            if !skipping && offset < end {
                number += 1;
                let at = LineAt {
                    offset,
                    number,
                    len: long.len,
                    complete: long.complete,
                };
                let route = long.flags.route(&self.prefilter, long.last_byte);
                if route == Route::Parse && long.len <= MAX_PARSED_LINE {
                    let mut whole = vec![0u8; usize::try_from(long.len).unwrap_or(0)];
                    file.read_exact_at(&mut whole, offset)?;
                    sink(at, Some(&whole), route);
                } else {
                    sink(at, None, route);
                }
            } else if offset >= end {
                return Ok(number);
            }
            skipping = false;
            if !long.complete {
                return Ok(number);
            }
            // Continue after the newline; the buffer holds what followed it.
            base = offset + long.len + 1;
            filled = long.rest;
            search_from = 0;
            line_start = 0;
        }
    }

    /// Streams through a line that starts at `offset` and fills the buffer, to its newline.
    /// Leaves the bytes after the newline at the start of the buffer.
    fn follow_long_line(
        &mut self,
        file: &File,
        offset: u64,
        progress: &AtomicU64,
    ) -> std::io::Result<LongLine> {
        let mut flags = Flags::default();
        let mut last_byte = None;
        let mut len = 0u64;
        let mut piece = self.buf.len();
        loop {
            let chunk = &self.buf[..piece];
            if let Some(newline) = memchr(b'\n', chunk) {
                flags.feed(&self.prefilter, &chunk[..newline]);
                last_byte = last_non_blank(&chunk[..newline]).or(last_byte);
                len += newline as u64;
                let rest = piece - newline - 1;
                self.buf.copy_within(newline + 1..piece, 0);
                return Ok(LongLine {
                    len,
                    complete: true,
                    rest,
                    flags,
                    last_byte,
                });
            }
            flags.feed(&self.prefilter, chunk);
            last_byte = last_non_blank(chunk).or(last_byte);
            len += piece as u64;
            piece = read_at_retry(file, &mut self.buf, offset + len)?;
            progress.fetch_add(piece as u64, Ordering::Relaxed);
            if piece == 0 {
                return Ok(LongLine {
                    len,
                    complete: false,
                    rest: 0,
                    flags,
                    last_byte,
                });
            }
        }
    }
}

struct LongLine {
    len: u64,
    complete: bool,
    /// Bytes after the newline now at the start of the buffer.
    rest: usize,
    flags: Flags,
    last_byte: Option<u8>,
}

fn last_non_blank(bytes: &[u8]) -> Option<u8> {
    bytes
        .iter()
        .rev()
        .find(|b| !b.is_ascii_whitespace())
        .copied()
}

fn read_at_retry(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &[u8], start: u64, end: u64) -> Vec<(u64, Option<Vec<u8>>, bool, Route)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, text).unwrap();
        let file = File::open(&path).unwrap();
        let mut out = Vec::new();
        let progress = AtomicU64::new(0);
        LineReader::default()
            .read_range(&file, start, end, &progress, &mut |at, bytes, route| {
                out.push((at.offset, bytes.map(<[u8]>::to_vec), at.complete, route))
            })
            .unwrap();
        out
    }

    #[test]
    fn ranges_split_anywhere_hand_out_every_line_once() {
        let mut text = Vec::new();
        for i in 0..2000 {
            text.extend_from_slice(
                format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "x".repeat(i % 700)).as_bytes(),
            );
        }
        text.extend_from_slice(b"{\"torn\":");
        let all = lines_of(&text, 0, text.len() as u64);
        assert_eq!(all.len(), 2001);
        assert!(!all[2000].2, "the last line has no newline");
        for cuts in [
            vec![1u64, 5000, 5001, 300_000],
            vec![262_143, 262_144, 262_145],
        ] {
            let mut bounds = vec![0];
            bounds.extend(cuts);
            bounds.push(text.len() as u64);
            let mut pieces = Vec::new();
            for pair in bounds.windows(2) {
                pieces.extend(lines_of(&text, pair[0], pair[1]));
            }
            assert_eq!(pieces, all);
        }
    }

    #[test]
    fn long_lines_are_streamed_and_read_whole_only_when_parsed() {
        let big_skip = format!(
            "{{\"type\":\"user\",\"x\":[{{\"type\":\"tool_result\",\"c\":\"{}\"}}]}}",
            "y".repeat(3 * CHUNK)
        );
        let big_parse = format!(
            "{{\"message\":{{\"content\":\"{}\",\"usage\":{{}}}}}}",
            "z".repeat(2 * CHUNK + 17)
        );
        let text = format!(
            "{{\"a\":1}}\n{big_skip}\n{big_parse}\n{{\"b\":2}}\n{}",
            "w".repeat(CHUNK + 5)
        );
        let lines = lines_of(text.as_bytes(), 0, text.len() as u64);
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[1].1, None);
        assert_eq!(lines[1].3, Route::Skip);
        assert_eq!(lines[2].1.as_deref(), Some(big_parse.as_bytes()));
        assert_eq!(lines[2].3, Route::Parse);
        assert_eq!(lines[3].1.as_deref(), Some(&b"{\"b\":2}"[..]));
        assert_eq!((lines[4].2, lines[4].3), (false, Route::NotJson));
        // Split inside the long lines: still each line once.
        let mid = (text.len() / 2) as u64;
        let mut halves = lines_of(text.as_bytes(), 0, mid);
        halves.extend(lines_of(text.as_bytes(), mid, text.len() as u64));
        assert_eq!(halves, lines);
    }
}
