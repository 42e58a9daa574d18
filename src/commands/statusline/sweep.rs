//! Keeps `statusline`'s caches from growing without end.
//!
//! Every trace a status bar showed leaves a kept-totals file (`statusline-v1/<hash>.json`), and
//! every transcript session one import cache (`history-v1/claude-code-session-<hash>.bin`);
//! nothing else ever removes them. Once a day, at most, a refresh removes those nobody has
//! written for [`STALE_AFTER`]. Removing one costs only speed: the next refresh of that trace or
//! session reads it again from the start.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// A cache file untouched this long belongs to a session nobody watches any more.
pub const STALE_AFTER: Duration = Duration::from_secs(30 * 24 * 3600);

/// How often the caches are swept. Why not on every refresh: a refresh is a few milliseconds,
/// and a directory listing of every session ever shown would be most of it.
pub const SWEEP_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Sweeps `cache_dir` if the last sweep was [`SWEEP_EVERY`] ago or never; one `stat` when not.
/// Returns how many files were removed. Errors are ignored: a cache that cannot be swept still
/// works.
pub fn sweep_if_due(cache_dir: &Path, now: SystemTime) -> usize {
    let kept_dir = cache_dir.join("statusline-v1");
    let marker = kept_dir.join(".swept");
    let due = match std::fs::metadata(&marker).and_then(|meta| meta.modified()) {
        Ok(swept) => now
            .duration_since(swept)
            .is_ok_and(|since| since >= SWEEP_EVERY),
        Err(_) => true,
    };
    if !due {
        return 0;
    }
    // Kept totals, and the asides of a refresh that died between writing and renaming.
    let removed = remove_stale(&kept_dir, now, |name| {
        name.ends_with(".json") || (name.starts_with('.') && name.ends_with(".tmp"))
    }) + remove_stale(&cache_dir.join("history-v1"), now, |name| {
        // Only the per-session caches statusline made; `import`'s whole-history ones are its own.
        name.starts_with("claude-code-session-") && name.ends_with(".bin")
    });
    if std::fs::create_dir_all(&kept_dir).is_ok() {
        let _ = std::fs::write(&marker, b"");
    }
    removed
}

fn remove_stale(dir: &Path, now: SystemTime, ours: impl Fn(&str) -> bool) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_str().is_some_and(&ours) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .is_ok_and(|written| {
                now.duration_since(written)
                    .is_ok_and(|age| age >= STALE_AFTER)
            });
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn file_written(path: &Path, at: SystemTime) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        File::create(path).unwrap().set_modified(at).unwrap();
    }

    #[test]
    fn stale_statusline_files_go_and_everything_else_stays() {
        let cache = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let old = now - STALE_AFTER - DAY;
        let recent = now - STALE_AFTER + DAY;
        let path = |name: &str| cache.path().join(name);
        file_written(&path("statusline-v1/aaaa.json"), old);
        file_written(&path("statusline-v1/.123.tmp"), old);
        file_written(&path("statusline-v1/bbbb.json"), recent);
        file_written(&path("history-v1/claude-code-session-cccc.bin"), old);
        file_written(&path("history-v1/claude-code-session-dddd.bin"), recent);
        // The whole history's import cache and anything unknown are not statusline's.
        file_written(&path("history-v1/claude-code-eeee.bin"), old);
        file_written(&path("statusline-v1/notes.txt"), old);

        assert_eq!(sweep_if_due(cache.path(), now), 3);
        for gone in [
            "statusline-v1/aaaa.json",
            "statusline-v1/.123.tmp",
            "history-v1/claude-code-session-cccc.bin",
        ] {
            assert!(!path(gone).exists(), "{gone} was kept");
        }
        for kept in [
            "statusline-v1/bbbb.json",
            "history-v1/claude-code-session-dddd.bin",
            "history-v1/claude-code-eeee.bin",
            "statusline-v1/notes.txt",
        ] {
            assert!(path(kept).exists(), "{kept} was removed");
        }
    }

    #[test]
    fn it_sweeps_at_most_once_a_day() {
        let cache = tempfile::tempdir().unwrap();
        let stale = cache.path().join("statusline-v1/aaaa.json");
        let now = SystemTime::now();
        assert_eq!(sweep_if_due(cache.path(), now), 0, "nothing to sweep yet");
        file_written(&stale, now - STALE_AFTER - DAY);
        assert_eq!(sweep_if_due(cache.path(), now), 0, "swept a moment ago");
        assert!(stale.exists());
        // The marker was written a moment after `now`.
        let next_day = now + SWEEP_EVERY + Duration::from_secs(60);
        assert_eq!(sweep_if_due(cache.path(), next_day), 1);
        assert!(!stale.exists());
    }

    #[test]
    fn a_missing_cache_dir_is_not_an_error() {
        let cache = tempfile::tempdir().unwrap();
        let missing = cache.path().join("no/such/dir");
        assert_eq!(sweep_if_due(&missing, SystemTime::now()), 0);
    }
}
