//! Reading `/proc` files for the Linux table: held files re-read with `pread` under a budget,
//! and the parsers for `/proc/PID/stat` and the `Name:   1234 kB` key-value files.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// Most `/proc` files the table keeps open at once. Past it, files are opened per read: slower,
/// but a huge tree can't exhaust the descriptors the rest of agentprof (the proxy) needs.
const MAX_HELD_FILES: usize = 256;

/// The fields of `/proc/PID/stat` the sampler uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct StatFields {
    pub(super) state: u8,
    pub(super) ppid: u32,
    pub(super) flags: u64,
    pub(super) num_threads: u64,
    /// Clock ticks after boot.
    pub(super) start_time: u64,
    pub(super) rss_pages: u64,
    /// Hash of `comm`, the executable name the kernel sets on exec.
    pub(super) comm_hash: u64,
}

/// Parses `/proc/PID/stat`. The command name in parentheses may itself contain spaces and
/// parentheses, so fields are counted from the *last* `)`.
pub(super) fn parse_stat(text: &[u8]) -> Option<StatFields> {
    let open = text.iter().position(|&b| b == b'(')?;
    let close = text.iter().rposition(|&b| b == b')')?;
    let comm_hash = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        text.get(open + 1..close)?.hash(&mut hasher);
        hasher.finish()
    };
    let rest = std::str::from_utf8(text.get(close + 2..)?).ok()?;
    // Field 3 (state) is index 0 here; field N is index N - 3.
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    let mut next_num = |skip: usize| -> Option<u64> { fields.nth(skip)?.parse().ok() };
    let ppid = next_num(0)?; // 4
    let flags = next_num(4)?; // 9
    let num_threads = next_num(10)?; // 20
    let start_time = next_num(1)?; // 22
    let rss_pages = next_num(1)?; // 24
    Some(StatFields {
        state,
        ppid: u32::try_from(ppid).ok()?,
        flags,
        num_threads,
        start_time,
        rss_pages,
        comm_hash,
    })
}
/// Reads all of `file` from offset 0 into `buf`.
fn read_whole(file: &File, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        match file.read_at(&mut chunk, buf.len() as u64) {
            Ok(n) => {
                buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
                // These are seq_files: a read fills the buffer unless the content ran out, so a
                // short read is the end and the usual extra read returning 0 can be skipped.
                if n < chunk.len() {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
}

/// Reads a `/proc` file through `slot` if it is held, else opens `path` and, budget allowing,
/// keeps it in `slot`. False if it could not be read.
pub(super) fn read_proc_file(
    slot: &mut Option<File>,
    path: impl FnOnce() -> String,
    buf: &mut Vec<u8>,
    held: &mut usize,
) -> bool {
    if let Some(file) = slot {
        return read_whole(file, buf);
    }
    let Ok(file) = File::open(path()) else {
        return false;
    };
    let ok = read_whole(&file, buf);
    if ok && *held < MAX_HELD_FILES {
        *slot = Some(file);
        *held += 1;
    }
    ok
}

/// Drops a held file that stopped reading.
pub(super) fn release(slot: &mut Option<File>, held: &mut usize) {
    if slot.take().is_some() {
        *held -= 1;
    }
}

/// The value in bytes of a `Name:   1234 kB` line of a `/proc` key-value file.
pub(super) fn kib_field(text: &[u8], name: &str) -> Option<u64> {
    text.split(|&b| b == b'\n').find_map(|line| {
        let rest = line.strip_prefix(name.as_bytes())?.strip_prefix(b":")?;
        let value = std::str::from_utf8(rest).ok()?.trim().strip_suffix("kB")?;
        value.trim().parse::<u64>().ok()?.checked_mul(1024)
    })
}
