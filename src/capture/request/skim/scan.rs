//! Fast passes over the bulk of a body, resumable from one frame to the next: to the end of
//! a string, and to the end of an object or array (brackets balanced and matched, strings
//! skipped). Both look at 64-byte blocks through [`super::blocks`]; a frame's last, shorter
//! block is padded with spaces, which are neither quotes, backslashes nor brackets.

use super::blocks::{BLOCK, escaped, inside_strings};

/// Deepest nesting followed inside a skipped value: serde_json refuses bodies nested past 128
/// levels, so a skim that went deeper would only accept what a full read rejects.
const MAX_DEPTH: usize = 120;

/// Strings looked at byte by byte before blocks are used.
const SHORT: usize = 16;

/// The block at `at`: borrowed when 64 bytes remain, else copied into `pad`.
#[inline]
fn block_at<'a>(bytes: &'a [u8], at: usize, pad: &'a mut [u8; BLOCK]) -> (&'a [u8; BLOCK], usize) {
    let rest = &bytes[at..];
    match rest.first_chunk::<BLOCK>() {
        Some(block) => (block, BLOCK),
        None => {
            *pad = [b' '; BLOCK];
            pad[..rest.len()].copy_from_slice(rest);
            (pad, rest.len())
        }
    }
}

/// The escaped bytes of a block of `len` valid bytes; `carry` becomes whether the byte after
/// them is escaped.
#[inline]
fn escaped_in(backslashes: u64, len: usize, carry: &mut bool) -> u64 {
    let esc = escaped(backslashes, carry);
    if len < BLOCK {
        *carry = esc >> len & 1 == 1;
    }
    esc
}

/// The quotes of a block of `len` valid bytes that are not escaped (`carry` as in
/// [`escaped_in`]). Most blocks of a body have no backslash: they skip the arithmetic.
#[inline]
fn unescaped(quotes: u64, backslashes: u64, len: usize, carry: &mut bool) -> u64 {
    if backslashes == 0 && !*carry {
        quotes
    } else {
        quotes & !escaped_in(backslashes, len, carry)
    }
}

/// Mask of the first `len` bits.
#[inline]
fn valid(len: usize) -> u64 {
    if len >= BLOCK {
        u64::MAX
    } else {
        (1u64 << len) - 1
    }
}

/// The rest of a string whose opening quote has been read.
#[derive(Debug, Default)]
pub(super) struct StringScan {
    /// The next byte is escaped (the last frame ended inside an escape).
    carry: bool,
}

impl StringScan {
    /// Starts a string: its first byte is not escaped.
    pub(super) fn start(&mut self) {
        self.carry = false;
    }

    /// Where in `bytes` the string ends (the index past its closing quote), if it does.
    #[allow(unsafe_code)]
    pub(super) fn find_end(&mut self, bytes: &[u8]) -> Option<usize> {
        // Most strings the skim reads through are member names and roles, a few bytes long:
        // a plain loop finds their end before a block could be loaded.
        if !self.carry {
            for (i, &b) in bytes.iter().take(SHORT).enumerate() {
                match b {
                    b'"' => return Some(i + 1),
                    b'\\' => break,
                    _ => {}
                }
            }
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just now: the one condition for calling a
            // function compiled to use it.
            return unsafe { avx2::string_end(self, bytes) };
        }
        portable::string_end(self, bytes)
    }
}

/// The rest of an object or array whose opening bracket has been read.
#[derive(Debug, Default)]
pub(super) struct ContainerScan {
    /// The closing bracket each open container expects, innermost last.
    open: Vec<u8>,
    /// The last frame ended inside a string.
    inside: bool,
    /// The last frame ended inside an escape.
    carry: bool,
}

/// A skipped value's brackets do not match, or nest too deep.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Malformed;

impl ContainerScan {
    /// Starts a container that `opening` (`{` or `[`) opened.
    pub(super) fn start(&mut self, opening: u8) {
        self.open.clear();
        self.open.push(closing(opening));
        self.inside = false;
        self.carry = false;
    }

    /// Where in `bytes` the container ends (the index past its closing bracket), if it does.
    #[allow(unsafe_code)]
    pub(super) fn find_end(&mut self, bytes: &[u8]) -> Result<Option<usize>, Malformed> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as in `StringScan::find_end`.
            return unsafe { avx2::container_end(self, bytes) };
        }
        portable::container_end(self, bytes)
    }

    /// One open bracket more, or `Malformed` past [`MAX_DEPTH`].
    #[inline]
    fn open(&mut self, byte: u8) -> Result<(), Malformed> {
        if self.open.len() >= MAX_DEPTH {
            return Err(Malformed);
        }
        self.open.push(closing(byte));
        Ok(())
    }

    /// One closing bracket: does it match, and does it close the container?
    #[inline]
    fn close(&mut self, byte: u8) -> Result<bool, Malformed> {
        match self.open.pop() {
            Some(expected) if expected == byte => Ok(self.open.is_empty()),
            _ => Err(Malformed),
        }
    }
}

/// The block loops, once per instruction set: `$masks` is the module whose compares they use,
/// `$attr` what they are compiled for.
macro_rules! block_loops {
    ($(#[$attr:meta])* $name:ident, $masks:path) => {
        mod $name {
            use super::{
                BLOCK, ContainerScan, Malformed, StringScan, block_at, inside_strings, unescaped,
                valid,
            };
            use $masks as masks;

            /// The block at `at`, its length, and where its unescaped quotes are.
            $(#[$attr])*
            fn quotes_at<'a>(
                bytes: &'a [u8],
                at: usize,
                pad: &'a mut [u8; BLOCK],
                carry: &mut bool,
            ) -> (&'a [u8; BLOCK], usize, u64) {
                let (block, len) = block_at(bytes, at, pad);
                let (quotes, backslashes) = masks::quotes_and_backslashes(block);
                (block, len, unescaped(quotes, backslashes, len, carry))
            }

            $(#[$attr])*
            pub(super) fn string_end(scan: &mut StringScan, bytes: &[u8]) -> Option<usize> {
                // The carry stays in a register while the loop runs: kept in `scan`, every
                // block waited for a store and a load.
                let mut carry = scan.carry;
                let mut pad = [b' '; BLOCK];
                let mut at = 0;
                while at < bytes.len() {
                    let (_, len, quotes) = quotes_at(bytes, at, &mut pad, &mut carry);
                    if quotes != 0 {
                        return Some(at + quotes.trailing_zeros() as usize + 1);
                    }
                    at += len;
                }
                scan.carry = carry;
                None
            }

            $(#[$attr])*
            pub(super) fn container_end(
                scan: &mut ContainerScan,
                bytes: &[u8],
            ) -> Result<Option<usize>, Malformed> {
                // As in `string_end`, the carries stay in registers while the loop runs.
                let (mut carry, mut inside) = (scan.carry, scan.inside);
                let mut pad = [b' '; BLOCK];
                let mut at = 0;
                while at < bytes.len() {
                    let (block, len, quotes) = quotes_at(bytes, at, &mut pad, &mut carry);
                    let outside = if quotes == 0 {
                        // No string starts or ends here: all inside one, or all outside.
                        if inside { 0 } else { valid(len) }
                    } else {
                        let mask = inside_strings(quotes, inside);
                        inside = mask >> (len - 1) & 1 == 1;
                        !mask & valid(len)
                    };
                    if outside != 0 {
                        let (opens, closes) = masks::brackets(block);
                        let mut events = (opens | closes) & outside;
                        while events != 0 {
                            let p = events.trailing_zeros() as usize;
                            events &= events - 1;
                            if opens >> p & 1 == 1 {
                                scan.open(block[p])?;
                            } else if scan.close(block[p])? {
                                return Ok(Some(at + p + 1));
                            }
                        }
                    }
                    at += len;
                }
                (scan.carry, scan.inside) = (carry, inside);
                Ok(None)
            }
        }
    };
}

block_loops!(portable, super::super::blocks);
#[cfg(target_arch = "x86_64")]
block_loops!(
    #[target_feature(enable = "avx2")]
    avx2,
    super::super::blocks::avx2
);

/// The bracket that closes `opening`.
fn closing(opening: u8) -> u8 {
    if opening == b'{' { b'}' } else { b']' }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `bytes` at `cuts` and feeds the pieces to `find`, returning the end found.
    fn in_pieces(
        bytes: &[u8],
        cuts: &[usize],
        mut find: impl FnMut(&[u8]) -> Option<usize>,
    ) -> Option<usize> {
        let mut from = 0;
        for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
            let cut = cut.clamp(from, bytes.len());
            if let Some(end) = find(&bytes[from..cut]) {
                return Some(from + end);
            }
            from = cut;
        }
        None
    }

    #[test]
    fn strings_end_at_their_first_unescaped_quote_however_the_frames_fall() {
        let body = br#"ab\"c\\\"d\\"tail""#;
        let end = 13; // past the quote after `\\`: the ones before it are escaped
        for a in 0..body.len() {
            for b in a..body.len() {
                let mut scan = StringScan::default();
                scan.start();
                let got = in_pieces(body, &[a, b], |p| scan.find_end(p));
                assert_eq!(got, Some(end), "cuts {a} {b}");
            }
        }
        let long: Vec<u8> = [&b"x\\\""[..]; 100]
            .concat()
            .into_iter()
            .chain(*b"\\\\\"")
            .collect();
        for cut in [1, 63, 64, 65, 150, 299, 300, 301] {
            let mut scan = StringScan::default();
            scan.start();
            assert_eq!(
                in_pieces(&long, &[cut], |p| scan.find_end(p)),
                Some(long.len()),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn containers_balance_matched_brackets_outside_strings() {
        let body = br#"{"a":[1,{"b":"]}\"}"},[]],"c":"\\"} tail"#;
        let end = body.len() - 5;
        for a in 0..body.len() {
            let mut scan = ContainerScan::default();
            scan.start(b'{');
            let got = in_pieces(&body[1..], &[a], |p| scan.find_end(p).expect("well formed"));
            assert_eq!(got.map(|e| e + 1), Some(end), "cut {a}");
        }
        let mut scan = ContainerScan::default();
        scan.start(b'[');
        assert_eq!(scan.find_end(b"{]"), Err(Malformed));
        scan.start(b'[');
        let deep = vec![b'['; MAX_DEPTH + 1];
        assert_eq!(scan.find_end(&deep), Err(Malformed));
    }

    /// The portable loops and the ones `find_end` picks for this CPU (AVX2 where it has it)
    /// find the same ends on the same frames: the portable ones run only where AVX2 is
    /// missing, so without this they would go untested on the machines that build this.
    #[test]
    fn portable_and_dispatched_loops_agree() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2_000 {
            let len = (next() % 400) as usize;
            let body: Vec<u8> = (0..len)
                .map(|_| b"\"\\\\{}[]ab "[(next() % 10) as usize])
                .collect();
            let cut = (next() as usize) % (len + 1);
            let (a, b) = body.split_at(cut);
            let (mut fast, mut portable) = (StringScan::default(), StringScan::default());
            fast.start();
            portable.start();
            // `find_end` tries its short-string loop first; the ends must agree all the same.
            let fast_end = fast
                .find_end(a)
                .or_else(|| fast.find_end(b).map(|e| e + a.len()));
            let slow_end = super::portable::string_end(&mut portable, a)
                .or_else(|| super::portable::string_end(&mut portable, b).map(|e| e + a.len()));
            assert_eq!(
                fast_end,
                slow_end,
                "string in {:?}",
                String::from_utf8_lossy(&body)
            );
            let (mut fast, mut portable) = (ContainerScan::default(), ContainerScan::default());
            fast.start(b'[');
            portable.start(b'[');
            let run = |scan: &mut ContainerScan, portable_loop: bool| {
                let mut find = |p: &[u8]| {
                    if portable_loop {
                        super::portable::container_end(scan, p)
                    } else {
                        scan.find_end(p)
                    }
                };
                match find(a) {
                    Ok(None) => find(b).map(|e| e.map(|e| e + a.len())),
                    other => other,
                }
            };
            assert_eq!(
                run(&mut fast, false),
                run(&mut portable, true),
                "container in {:?}",
                String::from_utf8_lossy(&body)
            );
        }
    }
}
