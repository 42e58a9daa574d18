//! Files only their owner can read: traces, logs and reports describe a user's work.

use std::fs::{File, OpenOptions};
use std::path::Path;

/// Creates `path` with mode 0600. It must not exist yet: a trace is never written over another
/// one (two runs started in the same instant, or a `--trace` naming an old trace).
pub fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // Created new, the file has exactly the mode asked for (less the umask, which can only
    // remove permissions).
    options.open(path)
}

/// Opens `path` for appending (creating it with mode 0600): logs keep what earlier runs wrote.
pub fn append_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}
