//! Determinism helpers shared by the mock and the synthetic agent.
//!
//! Both must produce byte-identical behaviour for the same inputs across runs and builds, so
//! they use a fixed, documented hash (FNV-1a 64) and PRNG (SplitMix64) instead of std's
//! `DefaultHasher` (unspecified algorithm) or a `rand` generator (stream may change between
//! versions).

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A running FNV-1a hash; `feed` can be chained to hash a sequence of byte strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fnv(pub(crate) u64);

impl Fnv {
    pub(crate) fn new() -> Self {
        Fnv(FNV_OFFSET)
    }

    /// Hashes `bytes` and a separator, so `["ab","c"]` and `["a","bc"]` differ.
    pub(crate) fn feed(self, bytes: &[u8]) -> Self {
        let mut h = self.0;
        for &b in bytes.iter().chain(&[0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        Fnv(h)
    }

    pub(crate) fn value(self) -> u64 {
        self.0
    }
}

/// Hash of one byte string.
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    Fnv::new().feed(bytes).value()
}

/// SplitMix64: tiny, seedable, and fully specified.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-ish integer in `lo..=hi` (modulo bias is irrelevant here).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// A UUID in v4 layout, from two draws.
    pub(crate) fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }

    /// Between `min` and `max` bytes of `text` repeated from a random start in its first half
    /// (`text` is ASCII).
    pub(crate) fn filler(&mut self, text: &str, min: u64, max: u64) -> String {
        let len = self.range(min, max) as usize;
        let start = self.range(0, text.len() as u64 / 2) as usize;
        let mut out = String::with_capacity(len);
        while out.len() < len {
            out.push_str(&text[start..]);
        }
        out.truncate(len);
        out
    }

    /// Picks one element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        let i = self.range(0, items.len() as u64 - 1);
        items.get(usize::try_from(i).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_and_separates_parts() {
        assert_eq!(hash(b""), Fnv::new().feed(b"").value());
        assert_ne!(
            Fnv::new().feed(b"ab").feed(b"c").value(),
            Fnv::new().feed(b"a").feed(b"bc").value()
        );
    }

    #[test]
    fn rng_is_reproducible_and_in_range() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            let x = a.range(3, 9);
            assert_eq!(x, b.range(3, 9));
            assert!((3..=9).contains(&x));
        }
    }
}
