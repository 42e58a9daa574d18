//! The request skim's view of 64 bytes at a time: bit masks (bit i = byte i) of where a
//! block's quotes, backslashes and brackets are, which of its quotes are escaped, and which
//! of its bytes lie inside a string.
//!
//! The compares are SIMD — AVX2 where the CPU has it ([`avx2`]), else `wide` (SSE2 on x86-64,
//! NEON on aarch64, plain code elsewhere) — and the rest is arithmetic on the masks, after simdjson's first stage (Langdale and Lemire,
//! "Parsing Gigabytes of JSON per Second"). This is what lets the skim pass over megabytes of
//! message text at close to memory speed: a block that lies inside one string costs a few
//! dozen instructions, however many escapes it holds.

use wide::u8x16;

/// Bytes per block.
pub(super) const BLOCK: usize = 64;

/// Where a block's quotes and backslashes are.
#[inline]
pub(super) fn quotes_and_backslashes(block: &[u8; BLOCK]) -> (u64, u64) {
    let quote = u8x16::splat(b'"');
    let backslash = u8x16::splat(b'\\');
    let (lanes, _) = block.as_chunks::<16>();
    let mut quotes = 0u64;
    let mut backslashes = 0u64;
    for (i, lane) in lanes.iter().enumerate() {
        let v = u8x16::from(*lane);
        quotes |= u64::from(v.simd_eq(quote).to_bitmask()) << (16 * i);
        backslashes |= u64::from(v.simd_eq(backslash).to_bitmask()) << (16 * i);
    }
    (quotes, backslashes)
}

/// Where a block's opening (`{`, `[`) and closing (`}`, `]`) brackets are, strings or not.
#[inline]
pub(super) fn brackets(block: &[u8; BLOCK]) -> (u64, u64) {
    // `[` and `]` differ from `{` and `}` only in bit 5 (0x5B/0x7B, 0x5D/0x7D), and no other
    // byte becomes `{` or `}` when that bit is set: one compare finds both kinds.
    let case = u8x16::splat(0x20);
    let open = u8x16::splat(b'{');
    let close = u8x16::splat(b'}');
    let (lanes, _) = block.as_chunks::<16>();
    let mut opens = 0u64;
    let mut closes = 0u64;
    for (i, lane) in lanes.iter().enumerate() {
        let v = u8x16::from(*lane) | case;
        opens |= u64::from(v.simd_eq(open).to_bitmask()) << (16 * i);
        closes |= u64::from(v.simd_eq(close).to_bitmask()) << (16 * i);
    }
    (opens, closes)
}

/// The same masks with AVX2: two 32-byte compares per kind instead of four 16-byte ones. Safe
/// to call only from code compiled for AVX2 (see `scan`, which checks the CPU once per call).
#[cfg(target_arch = "x86_64")]
pub(super) mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
    };

    use super::BLOCK;

    /// Bit i set where byte i of the two halves equals `byte`.
    #[target_feature(enable = "avx2")]
    fn equal(lo: __m256i, hi: __m256i, byte: u8) -> u64 {
        let b = _mm256_set1_epi8(byte as i8);
        let lo = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, b)) as u32;
        let hi = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, b)) as u32;
        u64::from(lo) | u64::from(hi) << 32
    }

    #[target_feature(enable = "avx2")]
    fn halves(block: &[u8; BLOCK]) -> (__m256i, __m256i) {
        let (halves, _) = block.as_chunks::<32>();
        (bytemuck::cast(halves[0]), bytemuck::cast(halves[1]))
    }

    /// [`super::quotes_and_backslashes`] with AVX2.
    #[target_feature(enable = "avx2")]
    pub(in super::super) fn quotes_and_backslashes(block: &[u8; BLOCK]) -> (u64, u64) {
        let (lo, hi) = halves(block);
        (equal(lo, hi, b'"'), equal(lo, hi, b'\\'))
    }

    /// [`super::brackets`] with AVX2.
    #[target_feature(enable = "avx2")]
    pub(in super::super) fn brackets(block: &[u8; BLOCK]) -> (u64, u64) {
        let (lo, hi) = halves(block);
        let case = _mm256_set1_epi8(0x20);
        let (lo, hi) = (_mm256_or_si256(lo, case), _mm256_or_si256(hi, case));
        (equal(lo, hi, b'{'), equal(lo, hi, b'}'))
    }
}

/// The escaped bytes of a block: those that follow an odd run of backslashes. `carry` says
/// whether the block's first byte is escaped (the previous block ended in an odd run) and is
/// updated for the next block. Runs may cross block boundaries.
#[inline]
pub(super) fn escaped(backslashes: u64, carry: &mut bool) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let prev = u64::from(*carry);
    // An escaped first byte is not the start of a run, even if it is a backslash.
    let backslashes = backslashes & !prev;
    let follows_backslash = (backslashes << 1) | prev;
    // Adding each run's start to the run carries past its end; runs that start on an odd
    // bit are added separately so the parity of each run's length shows in where it ends.
    let odd_starts = backslashes & !EVEN & !follows_backslash;
    let (even_runs, overflow) = odd_starts.overflowing_add(backslashes);
    *carry = overflow;
    let invert = even_runs << 1;
    (EVEN ^ invert) & follows_backslash
}

/// Bit i set when byte i is inside a string (its opening quote counted in, its closing quote
/// out), given the block's unescaped quotes and whether it started inside a string.
#[inline]
pub(super) fn inside_strings(quotes: u64, started_inside: bool) -> u64 {
    // Prefix XOR: each quote flips "inside" for every byte from it on.
    let mut x = quotes;
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    if started_inside { !x } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte by byte, what the masks must say: (escaped, inside string, unescaped quote).
    fn reference(bytes: &[u8]) -> Vec<(bool, bool, bool)> {
        let mut out = Vec::new();
        let mut escape_next = false;
        let mut inside = false;
        for &b in bytes {
            let escaped = escape_next;
            escape_next = !escaped && b == b'\\';
            let quote = b == b'"' && !escaped;
            if quote {
                inside = !inside;
            }
            // The opening quote counts as inside, the closing one as outside.
            out.push((escaped, inside, quote));
        }
        out
    }

    /// Runs the block functions over `bytes` in blocks and compares with [`reference`].
    fn check(bytes: &[u8]) {
        let want = reference(bytes);
        let mut carry = false;
        let mut inside = false;
        for (n, chunk) in bytes.chunks(BLOCK).enumerate() {
            let mut block = [b' '; BLOCK];
            block[..chunk.len()].copy_from_slice(chunk);
            let (quotes, backslashes) = quotes_and_backslashes(&block);
            let esc = escaped(backslashes, &mut carry);
            let real = quotes & !esc;
            let ins = inside_strings(real, inside);
            inside = ins >> 63 & 1 == 1;
            for i in 0..chunk.len() {
                let (e, s, q) = want[n * BLOCK + i];
                let at = format!(
                    "byte {} of {:?}",
                    n * BLOCK + i,
                    String::from_utf8_lossy(bytes)
                );
                assert_eq!(esc >> i & 1 == 1, e, "escaped, {at}");
                assert_eq!(real >> i & 1 == 1, q, "quote, {at}");
                assert_eq!(ins >> i & 1 == 1, s, "inside, {at}");
            }
        }
    }

    #[test]
    fn masks_agree_with_a_byte_by_byte_reading() {
        check(br#"{"a":"b\"c","d":["e\\",{"f":"\\\"g"}]}"#);
        // Runs of backslashes of every length, crossing block boundaries at every offset.
        for pad in 0..BLOCK {
            for run in 0..6 {
                let mut s = vec![b'x'; pad];
                s.insert(0, b'"');
                s.extend(std::iter::repeat_n(b'\\', run));
                s.extend_from_slice(b"\"y\"z\"");
                check(&s);
            }
        }
        // Pseudo-random mixes of the bytes that matter.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..300 {
            let len = (seed % 300) as usize;
            let s: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    b"\"\\\\ab{[]}"[(seed % 9) as usize]
                })
                .collect();
            check(&s);
        }
    }

    #[test]
    fn brackets_of_both_kinds_and_nothing_else() {
        let mut block = [0u8; BLOCK];
        for (i, b) in block.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(4).wrapping_add(0x40);
        }
        block[3] = b'{';
        block[9] = b'[';
        block[20] = b'}';
        block[40] = b']';
        block[41] = b'_';
        block[42] = b'y';
        block[43] = b'Y';
        let (open, close) = brackets(&block);
        let expect_open = block
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b, b'{' | b'['))
            .fold(0u64, |m, (i, _)| m | 1 << i);
        let expect_close = block
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b, b'}' | b']'))
            .fold(0u64, |m, (i, _)| m | 1 << i);
        assert_eq!(open, expect_open);
        assert_eq!(close, expect_close);
        assert!(open & (1 << 3) != 0 && open & (1 << 9) != 0);
        assert!(close & (1 << 20) != 0 && close & (1 << 40) != 0);
    }
}
