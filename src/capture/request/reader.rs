//! [`ChunksReader`]: a `Read` over a body's chunks, so serde_json parses it without joining them.

use std::io::{self, Read};

use bytes::Bytes;

/// A `Read` over a list of chunks, so serde_json can parse a body without it being joined.
pub(super) struct ChunksReader<'a> {
    rest: &'a [Bytes],
    current: &'a [u8],
}

impl<'a> ChunksReader<'a> {
    pub(super) fn new(chunks: &'a [Bytes]) -> Self {
        Self {
            rest: chunks,
            current: &[],
        }
    }
}

impl Read for ChunksReader<'_> {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // serde_json reads one byte at a time: keep that path short.
        loop {
            if let Some((&first, tail)) = self.current.split_first() {
                if buf.len() == 1 {
                    buf[0] = first;
                    self.current = tail;
                    return Ok(1);
                }
                let n = buf.len().min(self.current.len());
                buf[..n].copy_from_slice(&self.current[..n]);
                self.current = &self.current[n..];
                return Ok(n);
            }
            match self.rest.split_first() {
                Some((next, rest)) if !buf.is_empty() => {
                    self.current = next;
                    self.rest = rest;
                }
                _ => return Ok(0),
            }
        }
    }
}
