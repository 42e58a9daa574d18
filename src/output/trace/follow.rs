//! Following a trace while it is written: what `top` and `statusline` read of a live `run`.
//!
//! The writer appends whole lines and flushes after every batch, so a reader at the end of the
//! file may see the start of a line whose end is not written yet. The follower only ever parses
//! complete lines and keeps the rest for the next poll; it never writes, locks or truncates the
//! file, so following cannot disturb the session. A line that does not parse is skipped and
//! counted (with its number, for the user) rather than stopping the view.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::reader::{TraceReadError, is_known, parse_header, trim_line};
use super::record::{TraceHeader, TraceRecord};

/// Why following stopped.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    Open(#[from] TraceReadError),
    #[error("cannot read trace {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} shrank from {was} to {now} bytes while being followed: it was truncated or \
         replaced, not appended to"
    )]
    Shrank { path: PathBuf, was: u64, now: u64 },
}

/// A trace being read as it grows.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    file: File,
    header: TraceHeader,
    /// Bytes of the file consumed as complete lines.
    offset: u64,
    /// The start of a line whose newline has not been written yet.
    partial: Vec<u8>,
    /// Number of the last complete line consumed (the header is line 1).
    line: u64,
    bad_lines: u64,
    last_bad_line: Option<(u64, String)>,
}

/// Bytes read per poll at most, so a view attaching to a large trace stays responsive (it
/// catches up over several polls).
pub const POLL_BYTES: usize = 8 << 20;

impl Follower {
    /// Opens `path` and reads its header: a file that is not a trace is an error now.
    pub fn open(path: &Path) -> Result<Follower, FollowError> {
        let io_err = |source| FollowError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io_err)?;
        // The header is the first line; a trace is never empty once `run` has started.
        let mut first = Vec::with_capacity(4096);
        let mut chunk = [0u8; 4096];
        loop {
            let n = file.read(&mut chunk).map_err(io_err)?;
            if n == 0 {
                break;
            }
            first.extend_from_slice(&chunk[..n]);
            if memchr::memchr(b'\n', &first).is_some() || first.len() > 1 << 20 {
                break;
            }
        }
        let Some(end) = memchr::memchr(b'\n', &first) else {
            return Err(if first.is_empty() {
                TraceReadError::Empty {
                    path: path.to_path_buf(),
                }
            } else {
                TraceReadError::NotATrace {
                    path: path.to_path_buf(),
                    reason: "no complete first line".into(),
                }
            }
            .into());
        };
        let header = parse_header(path, &first[..=end])?;
        let offset = end as u64 + 1;
        Ok(Follower {
            path: path.to_path_buf(),
            file,
            header,
            offset,
            partial: Vec::new(),
            line: 1,
            bad_lines: 0,
            last_bad_line: None,
        })
    }

    pub fn header(&self) -> &TraceHeader {
        &self.header
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes consumed as complete lines (where a later reader could resume).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The number of the last complete line consumed (to resume at, with [`Follower::offset`]).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Lines skipped because they did not parse, and the last of them (number, reason).
    pub fn bad_lines(&self) -> (u64, Option<&(u64, String)>) {
        (self.bad_lines, self.last_bad_line.as_ref())
    }

    /// Continues from `offset` (a previous follower's, at line `line`) instead of the header's
    /// end: the records before it are not read again.
    pub fn resume_at(&mut self, offset: u64, line: u64) {
        self.offset = offset.max(self.offset);
        self.line = line.max(1);
        self.partial.clear();
    }

    /// The records appended since the last poll (at most [`POLL_BYTES`] read); empty when the
    /// writer has added nothing complete.
    pub fn poll(&mut self) -> Result<Vec<TraceRecord>, FollowError> {
        let io_err = |source| FollowError::Io {
            path: self.path.clone(),
            source,
        };
        let len = self.file.metadata().map_err(io_err)?.len();
        let read_from = self.offset + self.partial.len() as u64;
        if len < read_from {
            return Err(FollowError::Shrank {
                path: self.path.clone(),
                was: read_from,
                now: len,
            });
        }
        let want = (len - read_from).min(POLL_BYTES as u64);
        if want == 0 {
            return Ok(Vec::new());
        }
        self.file.seek(SeekFrom::Start(read_from)).map_err(io_err)?;
        (&mut self.file)
            .take(want)
            .read_to_end(&mut self.partial)
            .map_err(io_err)?;
        let Some(last_newline) = memchr::memrchr(b'\n', &self.partial) else {
            return Ok(Vec::new());
        };
        let complete: Vec<u8> = self.partial.drain(..=last_newline).collect();
        self.offset += complete.len() as u64;
        let mut records = Vec::new();
        for line in complete.split_inclusive(|&b| b == b'\n') {
            self.line += 1;
            let text = trim_line(line);
            if text.is_empty() {
                continue;
            }
            match serde_json::from_slice::<TraceRecord>(text) {
                Ok(record) => records.push(record),
                Err(err) => {
                    let newer = serde_json::from_slice::<serde_json::Value>(text).is_ok_and(|v| {
                        v.get("type").is_some_and(|t| t.is_string()) && !is_known(&v)
                    });
                    // A record type from a newer writer is not damage.
                    if !newer {
                        self.bad_lines += 1;
                        self.last_bad_line = Some((self.line, err.to_string()));
                    }
                }
            }
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::observation::Call;
    use crate::output::trace::record::SCHEMA;

    fn header_line() -> String {
        serde_json::to_string(&TraceRecord::Header(TraceHeader::for_tests())).unwrap() + "\n"
    }

    fn call_line(id: u64) -> String {
        let mut call = Call::blank();
        call.id = id;
        serde_json::to_string(&TraceRecord::Call(call)).unwrap() + "\n"
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("agentprof-follow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn reads_only_complete_lines_and_keeps_the_rest_for_later() {
        let path = temp("partial.jsonl");
        let mut file = File::create(&path).unwrap();
        file.write_all(header_line().as_bytes()).unwrap();
        let mut follower = Follower::open(&path).unwrap();
        assert_eq!(follower.header().schema, SCHEMA);
        assert!(follower.poll().unwrap().is_empty());

        let two = call_line(2);
        file.write_all(call_line(1).as_bytes()).unwrap();
        file.write_all(&two.as_bytes()[..10]).unwrap();
        let records = follower.poll().unwrap();
        assert_eq!(records.len(), 1, "the cut line waits for its end");
        file.write_all(&two.as_bytes()[10..]).unwrap();
        let records = follower.poll().unwrap();
        assert!(matches!(&records[..], [TraceRecord::Call(c)] if c.id == 2));
        assert_eq!(follower.offset(), std::fs::metadata(&path).unwrap().len());
        assert_eq!(follower.bad_lines().0, 0);
    }

    #[test]
    fn a_bad_line_is_counted_with_its_number_and_the_rest_still_read() {
        let path = temp("bad.jsonl");
        let text = format!(
            "{}{}{{\"type\":\"call\",\"id\":\"x\"}}\n{{\"type\":\"from_the_future\"}}\n{}",
            header_line(),
            call_line(1),
            call_line(3)
        );
        std::fs::write(&path, text).unwrap();
        let mut follower = Follower::open(&path).unwrap();
        let records = follower.poll().unwrap();
        assert_eq!(records.len(), 2);
        let (count, last) = follower.bad_lines();
        assert_eq!(count, 1, "an unknown record type is not damage");
        assert_eq!(last.unwrap().0, 3);
    }

    #[test]
    fn a_file_that_is_not_a_trace_or_shrinks_is_an_error() {
        let path = temp("not-a-trace.jsonl");
        std::fs::write(&path, "{\"hello\":1}\n").unwrap();
        let err = Follower::open(&path).unwrap_err().to_string();
        assert!(err.contains("not an agentprof trace header"), "{err}");

        let path = temp("shrinks.jsonl");
        std::fs::write(&path, header_line() + &call_line(1)).unwrap();
        let mut follower = Follower::open(&path).unwrap();
        assert_eq!(follower.poll().unwrap().len(), 1);
        std::fs::write(&path, header_line()).unwrap();
        let err = follower.poll().unwrap_err().to_string();
        assert!(err.contains("shrank"), "{err}");
    }

    #[test]
    fn resuming_skips_what_was_read() {
        let path = temp("resume.jsonl");
        std::fs::write(&path, header_line() + &call_line(1) + &call_line(2)).unwrap();
        let mut first = Follower::open(&path).unwrap();
        assert_eq!(first.poll().unwrap().len(), 2);
        let (offset, line) = (first.offset(), 3);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(call_line(3).as_bytes())
            .unwrap();
        let mut second = Follower::open(&path).unwrap();
        second.resume_at(offset, line);
        let records = second.poll().unwrap();
        assert!(matches!(&records[..], [TraceRecord::Call(c)] if c.id == 3));
    }
}
