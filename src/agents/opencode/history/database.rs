//! Reading opencode's SQLite database read-only: a `file:…?mode=ro` URI (not `immutable=1`,
//! which would miss the rows still in the write-ahead log), one read transaction for one
//! consistent snapshot, a short busy timeout. Nothing is ever written or locked for writing:
//! in WAL mode a reader does not block opencode, even mid-turn.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::discover::OpencodeError;
use super::message::parse;
use super::store::{Row, Store};
use crate::capture::transcripts::problems::Damage;

/// How long to wait for a lock before saying the database is busy.
const BUSY: Duration = Duration::from_millis(500);

/// Opens `path` read-only.
pub fn open(path: &Path) -> Result<Connection, rusqlite::Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(uri(path), flags)?;
    connection.busy_timeout(BUSY)?;
    Ok(connection)
}

/// `file:<path>?mode=ro`, the path percent-encoded where a URI needs it.
fn uri(path: &Path) -> String {
    let mut out = String::from("file:");
    for byte in path.to_string_lossy().bytes() {
        match byte {
            b'?' | b'#' | b'%' | b' ' | 0x80.. => out.push_str(&format!("%{byte:02X}")),
            _ => out.push(char::from(byte)),
        }
    }
    format!("{out}?mode=ro")
}

/// Reads sessions (parent, directory) and messages of the database at `path` into `store`. A
/// message whose `data` is not a JSON object is damage, named by its row; the rest is read.
pub fn read(path: &Path, store: &mut Store) -> Result<(), OpencodeError> {
    let fail = |source| OpencodeError::Database {
        path: path.to_path_buf(),
        source,
    };
    let connection = open(path).map_err(fail)?;
    let source = store.source(path.to_path_buf());
    store.bytes += std::fs::metadata(path).map_or(0, |m| m.len());
    // One snapshot for both tables (rolled back when dropped: nothing is written).
    let snapshot = connection.unchecked_transaction().map_err(fail)?;
    let mut sessions = snapshot
        .prepare("SELECT id, parent_id, directory FROM session")
        .map_err(fail)?;
    let rows = sessions
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })
        .map_err(fail)?;
    for row in rows {
        let (id, parent, directory) = row.map_err(fail)?;
        if let Some(directory) = directory.filter(|d| !d.is_empty()) {
            store.directories.insert(id.clone(), directory);
        }
        store.sessions.insert(id, parent);
    }
    let mut messages = snapshot
        .prepare("SELECT rowid, id, session_id, time_created, data FROM message")
        .map_err(fail)?;
    let mut rows = messages.query([]).map_err(fail)?;
    while let Some(row) = rows.next().map_err(fail)? {
        let rowid: i64 = row.get(0).map_err(fail)?;
        let id: String = row.get(1).map_err(fail)?;
        let session: String = row.get(2).map_err(fail)?;
        let time_created: i64 = row.get(3).map_err(fail)?;
        let data = match row.get_ref(4).map_err(fail)? {
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => bytes,
            _ => b"",
        };
        let place = u64::try_from(rowid).unwrap_or(0);
        match parse(data) {
            Ok(message) => store.messages.push(Row {
                source,
                place,
                id,
                session,
                time_created,
                message,
            }),
            Err(why) => store.problems.add(source, 0, Damage::NotJson, || {
                format!("message row {rowid} ({id}): data is not a message object: {why}")
            }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_escaped_in_the_uri() {
        assert_eq!(
            uri(Path::new("/a b/x?y#z%.db")),
            "file:/a%20b/x%3Fy%23z%25.db?mode=ro"
        );
    }
}
