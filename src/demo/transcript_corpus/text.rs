//! Text for generated transcripts: a pool of code-and-prose, JSON-escaped once, from which
//! strings of any length are cut at escape boundaries.
//!
//! Real transcript lines are mostly file contents and tool output: many newlines, quotes and
//! backslashes (each written as a two-byte escape) and some non-ASCII. The pool has them in
//! similar proportions, so the reader's string skipping meets what it meets in real history.

use crate::demo::det::Rng;

const WORDS: [&str; 24] = [
    "fn", "let", "mut", "self", "config", "parse", "return", "match", "Some", "None", "impl",
    "struct", "error", "value", "path", "=>", "{", "}", "(", ")", "0", "42", "é", "→",
];

/// The escaped pool and the offsets at which a cut is valid JSON string content.
pub struct Pool {
    escaped: Vec<u8>,
    /// Sorted offsets of token starts: cutting at one never splits an escape or a character.
    cuts: Vec<u32>,
}

impl Pool {
    /// About `size` escaped bytes of text.
    pub fn new(rng: &mut Rng, size: usize) -> Pool {
        let mut escaped = Vec::with_capacity(size + 64);
        let mut cuts = Vec::with_capacity(size / 3);
        while escaped.len() < size {
            cuts.push(escaped.len() as u32);
            match rng.range(0, 15) {
                0 => escaped.extend_from_slice(b"\\n"),
                1 => escaped.extend_from_slice(b"\\n    "),
                2 => escaped.extend_from_slice(b"\\\""),
                3 => escaped.extend_from_slice(b"\\\\"),
                4 => escaped.extend_from_slice(b"\\t"),
                _ => {
                    let word = rng.pick(&WORDS).copied().unwrap_or("x");
                    escaped.extend_from_slice(word.as_bytes());
                    escaped.push(b' ');
                }
            }
        }
        cuts.push(escaped.len() as u32);
        Pool { escaped, cuts }
    }

    /// Roughly `len` bytes of escaped text (never more than the pool holds).
    pub fn text(&self, rng: &mut Rng, len: usize) -> &[u8] {
        let total = self.escaped.len();
        let len = len.min(total / 2);
        let start_at = rng.range(0, (total - len) as u64) as u32;
        let start = self.cuts[self.cuts.partition_point(|&c| c < start_at)] as usize;
        let want = (start + len).min(total) as u32;
        let end = self.cuts[self.cuts.partition_point(|&c| c < want)] as usize;
        &self.escaped[start..end.max(start)]
    }

    /// Writes `len` bytes of escaped text, repeating pool pieces for lengths beyond the pool.
    pub fn write_text(&self, rng: &mut Rng, len: usize, out: &mut Vec<u8>) {
        let mut left = len;
        while left > 0 {
            let piece = self.text(rng, left);
            if piece.is_empty() {
                break;
            }
            out.extend_from_slice(piece);
            left = left.saturating_sub(piece.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cut_is_valid_json_string_content() {
        let mut rng = Rng::new(3);
        let pool = Pool::new(&mut rng, 64 * 1024);
        for len in [0usize, 1, 7, 100, 5000, 100_000] {
            let mut out = b"\"".to_vec();
            pool.write_text(&mut rng, len, &mut out);
            out.push(b'"');
            let text: String = serde_json::from_slice(&out).unwrap();
            assert!(text.len() + 64 >= len / 2, "{len}: {}", text.len());
        }
    }
}
