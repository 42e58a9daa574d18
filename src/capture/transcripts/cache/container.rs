//! The cache file as bytes on disk: a fixed header that says which code wrote it and vouches
//! for the payload, the payload after it; written whole under a temporary name, then renamed.
//!
//! ```text
//! offset  size  field
//!      0     8  magic        b"agprofHC"
//!      8     4  format       FORMAT (u32, little-endian, as every number here)
//!     12     4  reserved     0
//!     16     8  code         a hash of agentprof's version and the code behind the figures
//!     24     8  length       payload bytes
//!     32     8  checksum     XXH3-64 of the payload
//!     40     …  payload
//! ```
//!
//! A file is trusted only when all of it checks: a wrong magic, format or code, a length that
//! is not the file's, or a checksum that differs is refused with its reason, and the import
//! reads the history as if there were no cache. A crash mid-write leaves at most a temporary
//! file beside the cache (no `fsync`: a cache that did not reach the disk is only a cold run
//! later, and the checksum catches one that reached it in part).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Bytes before the payload.
pub const HEADER_LEN: usize = 40;

const MAGIC: &[u8; 8] = b"agprofHC";

/// Why a cache file was not used (or not written).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not an agentprof history cache")]
    NotACache,
    #[error("written by another version of agentprof")]
    OtherVersion,
    #[error("truncated: {have} bytes where the header says {want}")]
    Truncated { have: u64, want: u64 },
    #[error("checksum mismatch")]
    Checksum,
    #[error("malformed payload at byte {0}")]
    Malformed(usize),
}

impl CacheError {
    /// A cache another agentprof wrote is replaced without a word; anything else is worth one.
    pub fn is_expected(&self) -> bool {
        matches!(self, CacheError::OtherVersion)
    }
}

/// A buffer for a payload, with room for the header in front.
pub fn buffer(capacity: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + capacity);
    bytes.resize(HEADER_LEN, 0);
    bytes
}

/// Fills in the header of a [`buffer`] whose payload is written.
pub fn seal(bytes: &mut [u8], format: u32, code: u64) {
    if bytes.len() < HEADER_LEN {
        return;
    }
    let (header, payload) = bytes.split_at_mut(HEADER_LEN);
    header[0..8].copy_from_slice(MAGIC);
    header[8..12].copy_from_slice(&format.to_le_bytes());
    header[12..16].copy_from_slice(&0u32.to_le_bytes());
    header[16..24].copy_from_slice(&code.to_le_bytes());
    header[24..32].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    header[32..40].copy_from_slice(&checksum(payload).to_le_bytes());
}

/// The payload of a sealed file, if every check passes.
pub fn open(bytes: &[u8], format: u32, code: u64) -> Result<&[u8], CacheError> {
    let have = bytes.len() as u64;
    if bytes.len() < HEADER_LEN {
        return match bytes.starts_with(&MAGIC[..bytes.len().min(MAGIC.len())]) {
            true => Err(CacheError::Truncated {
                have,
                want: HEADER_LEN as u64,
            }),
            false => Err(CacheError::NotACache),
        };
    }
    let (header, payload) = bytes.split_at(HEADER_LEN);
    let word = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().unwrap_or([0; 8]));
    if &header[0..8] != MAGIC {
        return Err(CacheError::NotACache);
    }
    let their_format = u32::from_le_bytes(header[8..12].try_into().unwrap_or([0; 4]));
    if their_format != format || header[12..16] != [0; 4] || word(16) != code {
        return Err(CacheError::OtherVersion);
    }
    let want = word(24);
    if want != payload.len() as u64 {
        return Err(CacheError::Truncated {
            have,
            want: want.saturating_add(HEADER_LEN as u64),
        });
    }
    if checksum(payload) != word(32) {
        return Err(CacheError::Checksum);
    }
    Ok(payload)
}

/// XXH3-64: the whole cache is checked on every load, at memory speed.
pub fn checksum(bytes: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(bytes)
}

/// The file's bytes, or `None` when there is none.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>, CacheError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        // No cache yet (or no directory for one: writing it will say why).
        Err(err)
            if matches!(
                err.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(source) => Err(CacheError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes `bytes` to `path` atomically, readable by the user only: into a new temporary file
/// beside it (mode 0600), renamed over it. Missing directories are made (mode 0700).
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CacheError::Io { path, source }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(source) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(CacheError::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const FORMAT: u32 = 3;
    const CODE: u64 = 0x1234_5678_9abc_def0;

    fn sealed(payload: &[u8]) -> Vec<u8> {
        let mut bytes = buffer(payload.len());
        bytes.extend_from_slice(payload);
        seal(&mut bytes, FORMAT, CODE);
        bytes
    }

    #[test]
    fn a_sealed_payload_round_trips_through_the_disk_private_to_the_user() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/cache.bin");
        let payload: Vec<u8> = (0..10_000u32).flat_map(|i| i.to_le_bytes()).collect();
        write(&path, &sealed(&payload)).unwrap();
        let bytes = read(&path).unwrap().unwrap();
        assert_eq!(open(&bytes, FORMAT, CODE).unwrap(), &payload[..]);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        // Rewritten in place, no temporary file left behind.
        write(&path, &sealed(b"second")).unwrap();
        let bytes = read(&path).unwrap().unwrap();
        assert_eq!(open(&bytes, FORMAT, CODE).unwrap(), b"second");
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
        assert!(read(&dir.path().join("none.bin")).unwrap().is_none());
        assert!(open(&sealed(b""), FORMAT, CODE).unwrap().is_empty());
    }

    #[test]
    fn any_flipped_byte_is_refused() {
        let good = sealed(b"some payload, long enough to matter");
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x20;
            let refused = open(&bad, FORMAT, CODE);
            assert!(refused.is_err(), "byte {at} flipped was accepted");
            if at >= HEADER_LEN {
                assert!(matches!(refused, Err(CacheError::Checksum)), "{refused:?}");
            }
        }
    }

    #[test]
    fn a_truncated_file_is_refused() {
        let good = sealed(b"0123456789abcdef");
        for len in 0..good.len() {
            let refused = open(&good[..len], FORMAT, CODE);
            assert!(
                matches!(refused, Err(CacheError::Truncated { .. })),
                "{len}: {refused:?}"
            );
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(matches!(
            open(&longer, FORMAT, CODE),
            Err(CacheError::Truncated { .. })
        ));
    }

    #[test]
    fn another_format_or_code_is_refused_quietly() {
        let good = sealed(b"payload");
        for refused in [open(&good, FORMAT + 1, CODE), open(&good, FORMAT, CODE ^ 1)] {
            let err = refused.unwrap_err();
            assert!(matches!(err, CacheError::OtherVersion) && err.is_expected());
        }
        assert!(matches!(
            open(
                b"{\"not\": \"a cache file at all, but long\"}",
                FORMAT,
                CODE
            ),
            Err(CacheError::NotACache)
        ));
    }

    #[test]
    fn an_unwritable_directory_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "x").unwrap();
        let err = write(&blocker.join("cache.bin"), &sealed(b"x")).unwrap_err();
        assert!(err.to_string().contains("file"), "{err}");
    }
}
