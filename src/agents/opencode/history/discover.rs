//! Finding opencode's history: the SQLite database (`$OPENCODE_DB`, else
//! `$XDG_DATA_HOME/opencode/opencode.db`, default `~/.local/share/opencode/opencode.db`) and
//! the legacy JSON storage beside it (`storage/`, written by opencode 1.1.x and before).

use std::path::{Path, PathBuf};

/// Why no history could be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OpencodeError {
    #[error(
        "no opencode directory: set XDG_DATA_HOME or OPENCODE_DB, or give the directory (HOME is not set)"
    )]
    NoHome,
    #[error(
        "{path}: not an opencode data directory (looked for opencode.db and storage/message/ in {path} and {path}/opencode; the default is $XDG_DATA_HOME/opencode, else ~/.local/share/opencode, or $OPENCODE_DB)"
    )]
    NotFound { path: PathBuf },
    #[error("{path}: cannot read opencode's database: {source}")]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

/// Where the history is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The directory given, or the data directory.
    pub root: PathBuf,
    /// The database, when there is one.
    pub database: Option<PathBuf>,
    /// The legacy `storage/` directory, when it holds messages.
    pub storage: Option<PathBuf>,
}

/// The history at `given` (a data directory, its parent, or the database file), else at
/// opencode's own default.
pub fn locate(given: Option<&Path>) -> Result<Location, OpencodeError> {
    let (root, database) = match given {
        Some(path) => (path.to_path_buf(), None),
        None => {
            let database = std::env::var_os("OPENCODE_DB")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from);
            (data_dir()?, database)
        }
    };
    if root.is_file() {
        return Ok(Location {
            database: Some(root.clone()),
            storage: None,
            root,
        });
    }
    let dir = [root.clone(), root.join("opencode")]
        .into_iter()
        .find(|d| d.join("opencode.db").is_file() || has_legacy(d))
        .unwrap_or_else(|| root.clone());
    let database = database.or_else(|| Some(dir.join("opencode.db")).filter(|p| p.is_file()));
    let storage = Some(dir.join("storage")).filter(|_| has_legacy(&dir));
    if database.is_none() && storage.is_none() {
        return Err(OpencodeError::NotFound { path: root });
    }
    Ok(Location {
        root,
        database,
        storage,
    })
}

fn has_legacy(dir: &Path) -> bool {
    dir.join("storage/message").is_dir()
}

/// `$XDG_DATA_HOME/opencode`, else `~/.local/share/opencode`.
fn data_dir() -> Result<PathBuf, OpencodeError> {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("opencode"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|home| PathBuf::from(home).join(".local/share/opencode"))
        .ok_or(OpencodeError::NoHome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_dir_its_parent_or_the_file_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("opencode");
        std::fs::create_dir_all(data.join("storage/message/ses_a")).unwrap();
        std::fs::write(data.join("opencode.db"), b"").unwrap();
        for given in [dir.path().to_path_buf(), data.clone()] {
            let found = locate(Some(&given)).unwrap();
            assert_eq!(found.database, Some(data.join("opencode.db")));
            assert_eq!(found.storage, Some(data.join("storage")));
        }
        let file = locate(Some(&data.join("opencode.db"))).unwrap();
        assert_eq!(file.storage, None);
    }

    #[test]
    fn a_directory_without_history_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = locate(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        assert!(err.contains("OPENCODE_DB"), "{err}");
    }
}
