//! Reading one chat file into its applied records ([`Log`]) — every damaged line named by
//! number and skipped (Gemini CLI skips them silently), the rest of the file still read.

use super::discover::ChatFile;
use super::line::{LineError, Record, read, read_legacy};
use super::records::Log;
use crate::capture::transcripts::history::each_line;
use crate::capture::transcripts::problems::{Damage, Problems};

/// One file, read.
#[derive(Debug, Default)]
pub struct Scanned {
    /// Index into the discovered files.
    pub file: u32,
    pub log: Log,
    pub lines: u64,
    /// Lines that were a record of a known kind.
    pub lines_parsed: u64,
    pub bytes: u64,
    pub problems: Problems,
}

/// Reads one file. An unreadable file is a problem of the result, not an error.
pub fn scan(index: u32, file: &ChatFile) -> Scanned {
    let mut out = Scanned {
        file: index,
        ..Scanned::default()
    };
    let bytes = match std::fs::read(&file.path) {
        Ok(bytes) => bytes,
        Err(err) => {
            out.problems
                .add(index, 0, Damage::UnreadableFile, || err.to_string());
            return out;
        }
    };
    out.bytes = bytes.len() as u64;
    if file.legacy {
        legacy(&bytes, &mut out);
    } else {
        lines(&bytes, &mut out);
    }
    out.log.settle();
    out
}

/// A legacy session: one JSON object (`parseLegacyRecordFallback`).
fn legacy(bytes: &[u8], out: &mut Scanned) {
    if bytes.trim_ascii().is_empty() {
        return;
    }
    out.lines = 1;
    match read_legacy(bytes) {
        Ok(record) => {
            out.lines_parsed = 1;
            out.log.apply(record, 1);
        }
        Err(err) => damaged(out, 1, err, true),
    }
}

fn lines(bytes: &[u8], out: &mut Scanned) {
    each_line(bytes, |number, line, complete| {
        out.lines += 1;
        match read(line) {
            Ok(record) => {
                if record != Record::Other {
                    out.lines_parsed += 1;
                }
                out.log.apply(record, number);
            }
            Err(err) => damaged(out, number, err, complete),
        }
    });
}

fn damaged(out: &mut Scanned, line: u64, err: LineError, complete: bool) {
    let (damage, detail) = match err {
        // A cut-off last line is what a crash or a live writer leaves.
        LineError::NotJson(d) if !complete => (Damage::TornLastLine, d),
        LineError::NotJson(d) => (Damage::NotJson, format!("not a JSON object: {d}")),
        LineError::Unparsable(d) => (Damage::Unparsable, d),
    };
    out.problems.add(out.file, line, damage, || detail);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &std::path::Path, name: &str, text: &str, legacy: bool) -> ChatFile {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        ChatFile {
            size: text.len() as u64,
            path,
            legacy,
            parent: None,
            project: "p".into(),
        }
    }

    #[test]
    fn damaged_lines_are_named_and_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let text = concat!(
            r#"{"sessionId":"s","projectHash":"h","kind":"main"}"#,
            "\n\n",
            "{not json\n",
            r#"{"id":"g","type":"gemini","tokens":{"input":3,"output":1,"total":4}}"#,
            "\n",
            r#"{"id":"#
        );
        let scanned = scan(0, &file(dir.path(), "session-a.jsonl", text, false));
        assert_eq!(scanned.lines, 4);
        assert_eq!(scanned.log.ledger.entries().len(), 1);
        assert_eq!(scanned.problems.counts[&Damage::NotJson], 1);
        assert_eq!(scanned.problems.counts[&Damage::TornLastLine], 1);
        assert_eq!(scanned.problems.examples[0].line, 3);
        assert!(
            scanned.problems.examples[0]
                .detail
                .contains("not a JSON object")
        );
    }

    #[test]
    fn a_legacy_session_is_one_object() {
        let dir = tempfile::tempdir().unwrap();
        let text = r#"{
  "sessionId": "old",
  "projectHash": "h",
  "messages": [
    {"id": "u", "type": "user", "content": "hi"},
    {"id": "g", "type": "gemini", "tokens": {"input": 3, "output": 1, "total": 4}}
  ]
}"#;
        let scanned = scan(0, &file(dir.path(), "session-a.json", text, true));
        assert_eq!(scanned.log.meta.as_ref().unwrap().session_id, "old");
        assert_eq!(scanned.log.ledger.entries().len(), 2);
        assert!(scanned.problems.counts.is_empty());
    }
}
