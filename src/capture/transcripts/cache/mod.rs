//! The import's cache: what each transcript file yielded, kept on disk so the next import of
//! the same history reads only what changed.
//!
//! Users import again and again (cron, status lines) a history that mostly only grows: old
//! sessions never change, an active one gains lines at its end. A file's record holds the
//! output of one read of its first `end` bytes ([`UnitOutput`], before the per-file join) and
//! what identifies the file as it was (size, mtime, inode, device — its [`Stamp`] — and
//! whether a sub-agent `meta.json` sat beside it). On the next import each file found is:
//!
//! - **reused** when its stamp is unchanged: nothing is read (but for a last line that was cut
//!   off, which a record never holds: it is read again each time until it is finished);
//! - **grown** when it is the same file (inode, device), larger, and the last 4 KiB before
//!   `end` are still the bytes cached: only from `end` on is read, and the cached part is one
//!   more range of the file, combined with the new one as any split file's ranges are
//!   ([`super::resolve::combine`]) — the figures are those of a read of the whole file;
//! - **read** whole otherwise: new, shrunk, replaced, rewritten in place, or with a `meta.json`
//!   come or gone.
//!
//! Records of files no longer found are dropped. The cache is rewritten (atomically, mode
//! 0600: it holds session ids and model names) only when something changed.
//!
//! A cache is never trusted blindly: the [`container`] checks its magic, format, the code that
//! wrote it, length and checksum, and a record that does not decode discards the whole cache.
//! Any of those costs only speed — the history is read whole and the cache rewritten — and
//! one warning; a cache that cannot be written costs one warning and the next run's speed.
//! Deleting it at any time is safe. A trace (`--trace`) needs the message and request id
//! strings, which the cache does not hold: such an import does not use it.

mod codec;
mod container;
mod location;
mod version;

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub use container::CacheError;
pub use location::{cache_file, default_dir};

use super::discover::{Found, TranscriptFile};
use super::entry::Interner;
use super::scan::UnitOutput;
use super::stats::CacheReport;
use codec::{Head, In, Strings};

/// How many bytes before a record's end must be unchanged for an appended file to be read
/// only from there.
pub const CHECKED_BYTES: u64 = 4096;

/// What the cache lets an import do with one file found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Read it whole.
    Read,
    /// Unchanged: its first `end` bytes are cached; anything after is a cut-off last line.
    Reuse { end: u64 },
    /// Appended to: its first `end` bytes are cached and checked; read on from there.
    Grown { end: u64 },
}

impl Plan {
    /// Where reading the file starts; `None` when it is cached to its end.
    pub fn read_from(self, size: u64) -> Option<u64> {
        match self {
            Plan::Read => Some(0),
            Plan::Reuse { end } | Plan::Grown { end } => (end < size).then_some(end),
        }
    }
}

/// A cache file read, checked and decoded — what can be done before the files are found, on
/// another thread while they are.
#[derive(Debug)]
pub struct Stored {
    path: PathBuf,
    loaded: Result<Option<Loaded>, CacheError>,
}

#[derive(Debug)]
struct Loaded {
    bytes: Vec<u8>,
    /// Where the payload is in `bytes` (after the header).
    payload: std::ops::Range<usize>,
    strings: Strings,
    heads: Vec<Head>,
    /// Each record's body, in the cache's string ids.
    bodies: Vec<UnitOutput>,
}

impl Stored {
    /// Reads `path`: nothing there is no cache yet; anything that does not check or decode is
    /// an error, kept to be told.
    pub fn load(path: PathBuf) -> Stored {
        let loaded = Self::decode(&path);
        Stored { path, loaded }
    }

    fn decode(path: &Path) -> Result<Option<Loaded>, CacheError> {
        let Some(bytes) = container::read(path)? else {
            return Ok(None);
        };
        let payload = container::open(&bytes, version::FORMAT, version::code())?;
        let mut input = In::new(payload);
        let strings = Strings::read(&mut input)?;
        let records = input.count()?;
        let mut heads = Vec::with_capacity(records.min(payload.len() / 64));
        for _ in 0..records {
            heads.push(codec::read_head(&mut input)?);
        }
        if !input.is_done() {
            return Err(CacheError::Malformed(input.position()));
        }
        let bodies = heads
            .iter()
            .map(|head| codec::read_body(payload, head, &strings))
            .collect::<Result<Vec<_>, _>>()?;
        let payload = container::HEADER_LEN..bytes.len();
        Ok(Some(Loaded {
            bytes,
            payload,
            strings,
            heads,
            bodies,
        }))
    }
}

/// One import's use of its cache file.
#[derive(Debug)]
pub struct Cache {
    pub path: PathBuf,
    /// Per file found, in order.
    pub plans: Vec<Plan>,
    /// Per file found: the cached output of its first `end` bytes (reused and grown files).
    pub priors: Vec<Option<UnitOutput>>,
    pub report: CacheReport,
    /// There was no usable cache file: write one whatever happens.
    rewrite: bool,
}

impl Cache {
    /// Decides what to do with each file `found` from what the cache `stored`, the cached
    /// outputs made this run's (`interner`'s ids). Never fails: a cache that cannot be used is
    /// set aside with a warning (none when there is none yet, or it is another version's) and
    /// every file is read.
    pub fn open(stored: Stored, found: &Found, interner: &mut Interner) -> Cache {
        let mut cache = Cache {
            path: stored.path,
            plans: vec![Plan::Read; found.files.len()],
            priors: vec![None; found.files.len()],
            report: CacheReport::default(),
            rewrite: false,
        };
        match stored.loaded {
            Ok(Some(loaded)) => cache.reuse(loaded, found, interner),
            Ok(None) => cache.rewrite = true,
            Err(err) => {
                if !err.is_expected() {
                    tracing::warn!(
                        "ignoring the import cache {}: {err}; reading the history whole",
                        cache.path.display()
                    );
                }
                cache.rewrite = true;
            }
        }
        let report = &mut cache.report;
        for plan in &cache.plans {
            match plan {
                Plan::Read => report.files_read += 1,
                Plan::Reuse { .. } => report.files_reused += 1,
                Plan::Grown { .. } => report.files_grown += 1,
            }
        }
        cache
    }

    fn reuse(&mut self, loaded: Loaded, found: &Found, interner: &mut Interner) {
        let Loaded {
            bytes,
            payload,
            mut strings,
            heads,
            bodies,
        } = loaded;
        let payload = bytes.get(payload).unwrap_or_default();
        let matched = match_heads(payload, &heads, found);
        self.report.files_dropped = (heads.len() - matched.iter().flatten().count()) as u64;
        let mut bodies: Vec<Option<UnitOutput>> = bodies.into_iter().map(Some).collect();
        for (index, (file, record)) in found.files.iter().zip(&matched).enumerate() {
            let Some(record) = *record else {
                continue;
            };
            let plan = plan(&heads[record], file);
            if plan == Plan::Read {
                continue;
            }
            let Some(mut body) = bodies.get_mut(record).and_then(Option::take) else {
                continue;
            };
            codec::adopt(&mut body, index as u32, payload, &mut strings, interner);
            self.plans[index] = plan;
            self.priors[index] = Some(body);
        }
    }

    /// Whether the cache must be written: anything but reused files, or a record to drop.
    pub fn must_write(&self) -> bool {
        let r = &self.report;
        self.rewrite || r.files_grown + r.files_read + r.files_dropped > 0
    }

    /// Writes the cache — the string table of `interner` and each file's record, `None` for a
    /// file not to cache — on a thread of its own, so the report is made meanwhile. A failure
    /// costs only the next run's speed: it is warned about.
    pub fn save(&self, records: Vec<Option<Vec<u8>>>, interner: &Interner) -> Writing {
        let size: usize = records.iter().flatten().map(Vec::len).sum();
        let mut strings = Vec::with_capacity(64 * interner.len());
        codec::put_strings(&mut strings, interner);
        let path = self.path.clone();
        let write = move || {
            let mut bytes = container::buffer(strings.len() + 4 + size);
            bytes.extend_from_slice(&strings);
            drop(strings);
            let count = records.iter().flatten().count() as u32;
            bytes.extend_from_slice(&count.to_le_bytes());
            for record in records.iter().flatten() {
                bytes.extend_from_slice(record);
            }
            drop(records);
            container::seal(&mut bytes, version::FORMAT, version::code());
            match container::write(&path, &bytes) {
                Err(err) => tracing::warn!(
                    "cannot write the import cache: {err} (the next import reads the history whole again)"
                ),
                Ok(()) => tracing::debug!(
                    "import cache {} written: {count} files, {} bytes",
                    path.display(),
                    bytes.len()
                ),
            }
        };
        let spawned = std::thread::Builder::new()
            .name("agentprof-cache-write".into())
            .spawn(write);
        match spawned {
            Ok(handle) => Writing(Some(handle)),
            Err(err) => {
                // The records went with the thread that never started.
                tracing::warn!(
                    "cannot write the import cache: no thread ({err}); the next import reads the history whole again"
                );
                Writing(None)
            }
        }
    }
}

/// A cache file being written by [`Cache::save`]. Dropping it waits for the write to end, so
/// the file is whole before whoever imported moves on (or the process exits).
#[derive(Debug, Default)]
pub struct Writing(Option<std::thread::JoinHandle<()>>);

impl Drop for Writing {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            // A write that panicked has nothing left to lose: the old cache is untouched.
            let _ = handle.join();
        }
    }
}

/// One file's record for the cache, from the output of its complete lines; `None` when the
/// file could not be read to its end (it is read again next time).
pub fn record(root: &Path, file: &TranscriptFile, body: &mut UnitOutput) -> Option<Vec<u8>> {
    use super::problems::Damage;
    if body.problems.counts.contains_key(&Damage::UnreadableFile) {
        return None;
    }
    let end = body.complete_end;
    if body.end_hash.map(|(at, _)| at) != Some(end) {
        // The last range did not see where the lines end (it held none of them): look again.
        let hash = File::open(&file.path)
            .and_then(|f| end_hash(&f, end))
            .ok()?;
        body.end_hash = Some((end, hash));
    }
    let relative = file.path.strip_prefix(root).ok()?;
    let mut bytes = Vec::with_capacity(256 + body.entries.len() * 96);
    codec::put_record(
        &mut bytes,
        relative.as_os_str().as_encoded_bytes(),
        file,
        body,
    );
    Some(bytes)
}

/// Hash of the [`CHECKED_BYTES`] before `end` (fewer at the start of a file).
pub fn end_hash(file: &File, end: u64) -> io::Result<u64> {
    let start = end.saturating_sub(CHECKED_BYTES);
    let mut bytes = vec![0u8; (end - start) as usize];
    file.read_exact_at(&mut bytes, start)?;
    Ok(container::checksum(&bytes))
}

/// For each file found, the record of the same relative path. Both lists are in path byte
/// order, so one merge pass pairs them.
fn match_heads(payload: &[u8], heads: &[Head], found: &Found) -> Vec<Option<usize>> {
    let mut matched = vec![None; found.files.len()];
    let mut h = 0;
    for (index, file) in found.files.iter().enumerate() {
        let Ok(relative) = file.path.strip_prefix(&found.root) else {
            continue;
        };
        let relative = relative.as_os_str().as_encoded_bytes();
        while let Some(head) = heads.get(h) {
            let path = payload.get(head.path.clone()).unwrap_or_default();
            match path.cmp(relative) {
                std::cmp::Ordering::Less => h += 1,
                std::cmp::Ordering::Equal => {
                    matched[index] = Some(h);
                    h += 1;
                    break;
                }
                std::cmp::Ordering::Greater => break,
            }
        }
    }
    matched
}

/// What a file's record lets an import do with it.
fn plan(head: &Head, file: &TranscriptFile) -> Plan {
    let same_file = head.stamp.inode == file.stamp.inode
        && head.stamp.device == file.stamp.device
        && head.has_meta == file.has_meta;
    if !same_file || file.size < head.size || file.size < head.end {
        return Plan::Read;
    }
    if file.size == head.size {
        return match head.stamp.modified_ns == file.stamp.modified_ns {
            true => Plan::Reuse { end: head.end },
            // Same size, written since: rewritten in place.
            false => Plan::Read,
        };
    }
    let unchanged = File::open(&file.path)
        .and_then(|f| end_hash(&f, head.end))
        .is_ok_and(|hash| hash == head.end_hash);
    match unchanged {
        true => Plan::Grown { end: head.end },
        false => Plan::Read,
    }
}

#[cfg(test)]
mod tests;
