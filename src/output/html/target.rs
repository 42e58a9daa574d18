//! Where an HTML report goes, and the rule for what may be replaced there.
//!
//! The policy: DIR is created if missing (mode 0700: a report describes a user's work). Inside
//! it, `index.html` is written (mode 0600) through a temporary file renamed into place, so a
//! reader never sees half a page. An existing `index.html` is replaced only if agentprof wrote
//! it — its head carries [`GENERATOR`] — so a report can be regenerated in place but a page of
//! anyone else's is never silently overwritten. Nothing else in DIR is touched.
//!
//! [`HtmlTarget::check`] applies the rule without writing anything, so commands can refuse a bad
//! DIR before minutes of work; [`HtmlTarget::write`] applies it again when writing.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::output::private_file::create_private;

/// The tag every agentprof page carries in its first lines: what makes it replaceable.
pub const GENERATOR: &str = r#"<meta name="generator" content="agentprof">"#;

/// The page's file name inside DIR.
pub const INDEX: &str = "index.html";

/// How far into an existing `index.html` the generator tag is looked for.
const HEAD_BYTES: u64 = 1024;

/// Why a report cannot be written to DIR. Each names the path; all are the user's to fix.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("HTML report directory {dir}: exists and is not a directory")]
    NotADirectory { dir: PathBuf },
    #[error(
        "HTML report {file}: exists and was not written by agentprof; not overwriting it (remove it or choose another directory)"
    )]
    Foreign { file: PathBuf },
    #[error("HTML report directory {dir}: cannot create it: {source}")]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("HTML report {file}: cannot write it: {source}")]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
}

/// A directory an HTML report may be written to.
#[derive(Debug, Clone)]
pub struct HtmlTarget {
    dir: PathBuf,
}

impl HtmlTarget {
    /// Checks DIR against the policy without creating or writing anything.
    pub fn check(dir: &Path) -> Result<HtmlTarget, TargetError> {
        let target = HtmlTarget {
            dir: dir.to_path_buf(),
        };
        match std::fs::metadata(dir) {
            Ok(meta) if !meta.is_dir() => {
                return Err(TargetError::NotADirectory {
                    dir: dir.to_path_buf(),
                });
            }
            Ok(_) => target.check_index()?,
            // Missing: created when writing. Other errors (a parent that is a file, no
            // permission) surface there with the OS's reason.
            Err(_) => {}
        }
        Ok(target)
    }

    /// `DIR/index.html`.
    pub fn index(&self) -> PathBuf {
        self.dir.join(INDEX)
    }

    /// Creates DIR if needed and writes the page; returns the path of `index.html`.
    pub fn write(&self, html: &str) -> Result<PathBuf, TargetError> {
        if !self.dir.is_dir() {
            if self.dir.exists() {
                return Err(TargetError::NotADirectory {
                    dir: self.dir.clone(),
                });
            }
            create_dir_private(&self.dir).map_err(|source| TargetError::CreateDir {
                dir: self.dir.clone(),
                source,
            })?;
        }
        // Again: something may have appeared in DIR while the report was being computed.
        self.check_index()?;
        let index = self.index();
        let temporary = self
            .dir
            .join(format!(".{INDEX}.{}.tmp", std::process::id()));
        let write_err = |source| TargetError::Write {
            file: index.clone(),
            source,
        };
        // A temporary file left by a killed earlier run with the same pid is ours to replace.
        let _ = std::fs::remove_file(&temporary);
        let written = create_private(&temporary)
            .and_then(|mut file| {
                file.write_all(html.as_bytes())
                    .and_then(|()| file.sync_all())
            })
            .and_then(|()| std::fs::rename(&temporary, &index));
        if let Err(source) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(write_err(source));
        }
        Ok(index)
    }

    /// An existing `index.html` must be agentprof's.
    fn check_index(&self) -> Result<(), TargetError> {
        let index = self.index();
        match std::fs::symlink_metadata(&index) {
            Err(_) => Ok(()),
            Ok(meta) if meta.is_file() && written_by_agentprof(&index) => Ok(()),
            Ok(_) => Err(TargetError::Foreign { file: index }),
        }
    }
}

/// Whether a file starts like a page agentprof wrote.
fn written_by_agentprof(path: &Path) -> bool {
    let mut head = Vec::with_capacity(HEAD_BYTES as usize);
    let read = File::open(path).and_then(|f| f.take(HEAD_BYTES).read_to_end(&mut head));
    read.is_ok() && String::from_utf8_lossy(&head).contains(GENERATOR)
}

fn create_dir_private(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> String {
        format!("<!DOCTYPE html>\n<html><head>{GENERATOR}</head><body>x</body></html>\n")
    }

    #[test]
    fn creates_the_directory_and_a_private_page() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        let target = HtmlTarget::check(&dir).unwrap();
        assert!(!dir.exists(), "check writes nothing");
        let index = target.write(&page()).unwrap();
        assert_eq!(std::fs::read_to_string(&index).unwrap(), page());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&index).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Only index.html is left: the temporary file was renamed.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn replaces_its_own_page_but_never_someone_elses() {
        let tmp = tempfile::tempdir().unwrap();
        let target = HtmlTarget::check(tmp.path()).unwrap();
        target.write(&page()).unwrap();
        let newer = page().replace(">x<", ">y<");
        target.write(&newer).unwrap();
        assert_eq!(std::fs::read_to_string(target.index()).unwrap(), newer);

        std::fs::write(target.index(), "<html>my own page</html>").unwrap();
        let err = HtmlTarget::check(tmp.path()).unwrap_err();
        assert!(matches!(err, TargetError::Foreign { .. }), "{err}");
        assert!(err.to_string().contains("index.html"), "{err}");
        let err = target.write(&page()).unwrap_err();
        assert!(matches!(err, TargetError::Foreign { .. }));
        assert_eq!(
            std::fs::read_to_string(target.index()).unwrap(),
            "<html>my own page</html>"
        );
    }

    #[test]
    fn a_file_in_place_of_the_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("report");
        std::fs::write(&file, "data").unwrap();
        let err = HtmlTarget::check(&file).unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
        let under = file.join("sub");
        let err = HtmlTarget::check(&under)
            .unwrap()
            .write(&page())
            .unwrap_err();
        assert!(matches!(err, TargetError::CreateDir { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");
    }
}
