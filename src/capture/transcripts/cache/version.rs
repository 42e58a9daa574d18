//! Which code a cache was written by. A record is what this agentprof's scan made of a file's
//! lines, so a cache is used only by the code that wrote it: the header carries the format
//! number and a hash of agentprof's version and of the source of every module whose change
//! could change a record (computed at compile time, so a rebuilt agentprof with a changed
//! scan never reads an old cache, with no number to remember to bump) — and of what this
//! build's id hash makes of a fixed id, since cached entries hold id hashes.

use super::super::entry::id_hash;

/// The payload layout ([`super::codec`]); the code hash below covers it too.
pub const FORMAT: u32 = 1;

/// Everything a record's content depends on.
const SOURCES: &[&[u8]] = &[
    include_bytes!("codec.rs"),
    include_bytes!("../discover.rs"),
    include_bytes!("../entry.rs"),
    include_bytes!("../problems.rs"),
    include_bytes!("../reader.rs"),
    include_bytes!("../record.rs"),
    include_bytes!("../resolve.rs"),
    include_bytes!("../route.rs"),
    include_bytes!("../scan.rs"),
    include_bytes!("../skim.rs"),
    include_bytes!("../timestamp.rs"),
    // The prompt markers (AGENT_AUTHORED) and the cache-write split (cache_split).
    include_bytes!("../../../attribute/turns.rs"),
    include_bytes!("../../usage/anthropic.rs"),
    env!("CARGO_PKG_VERSION").as_bytes(),
];

/// A 64-bit hash of the sources, eight bytes a step (cheap enough for compile time).
const fn hash_sources(sources: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut s = 0;
    while s < sources.len() {
        let bytes = sources[s];
        let mut i = 0;
        while i < bytes.len() {
            let word = if i + 8 <= bytes.len() {
                u64::from_le_bytes([
                    bytes[i],
                    bytes[i + 1],
                    bytes[i + 2],
                    bytes[i + 3],
                    bytes[i + 4],
                    bytes[i + 5],
                    bytes[i + 6],
                    bytes[i + 7],
                ])
            } else {
                let mut word = 0u64;
                let mut k = 0;
                while i + k < bytes.len() {
                    word |= (bytes[i + k] as u64) << (8 * k);
                    k += 1;
                }
                word
            };
            hash = (hash ^ word).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
            i += 8;
        }
        hash = (hash ^ bytes.len() as u64).wrapping_mul(0xff51_afd7_ed55_8ccd);
        s += 1;
    }
    hash
}

const SOURCE_HASH: u64 = hash_sources(SOURCES);

/// The code hash of this build.
pub fn code() -> u64 {
    SOURCE_HASH ^ id_hash(b"agentprof import cache").rotate_left(17)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_hash_sees_every_byte() {
        let a: &[&[u8]] = &[b"fn scan() {}", b"x"];
        let b: &[&[u8]] = &[b"fn scan() {]", b"x"];
        let c: &[&[u8]] = &[b"fn scan() {}x"];
        assert_ne!(hash_sources(a), hash_sources(b));
        assert_ne!(hash_sources(a), hash_sources(c));
        assert_eq!(code(), code());
    }
}
