//! Reading traces back: strict about what the file is, lenient about how it ended.
//!
//! A file that is not a v1 trace (no header, another schema) is an error naming the file. Inside
//! a trace, a torn last line — what a killed writer leaves — is skipped and counted; any other
//! line that does not parse is skipped and reported with its line number, so a damaged trace
//! still yields everything it holds. Unknown record types (from newer versions) are counted and
//! ignored.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::record::{SCHEMA, TraceFooter, TraceHeader, TraceRecord};
use crate::observation::{Call, MemorySample, ProcessEvent, TelemetryEvent};

/// Why a trace could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum TraceReadError {
    #[error("cannot read trace {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is empty: not an agentprof trace")]
    Empty { path: PathBuf },
    #[error("{path}:1: not an agentprof trace header ({reason})")]
    NotATrace { path: PathBuf, reason: String },
    #[error("{path}:1: unsupported trace schema {found:?} (this agentprof reads {SCHEMA:?})")]
    Schema { path: PathBuf, found: String },
}

/// A line that was skipped, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    pub line: u64,
    pub reason: String,
}

/// Everything a trace file held.
#[derive(Debug, Clone)]
pub struct ReadTrace {
    pub path: PathBuf,
    pub header: TraceHeader,
    pub calls: Vec<Call>,
    pub samples: Vec<MemorySample>,
    pub process_events: Vec<ProcessEvent>,
    pub telemetry: Vec<TelemetryEvent>,
    pub footer: Option<TraceFooter>,
    /// The last line, when it was cut off mid-write (at most one per file).
    pub torn_last_line: Option<SkippedLine>,
    /// Other lines that did not parse.
    pub bad_lines: Vec<SkippedLine>,
    /// Records of types this version does not know.
    pub unknown_records: u64,
}

impl ReadTrace {
    /// A trace made in memory from an imported history: its calls, no samples, nothing
    /// skipped.
    pub fn of_import(
        path: PathBuf,
        header: TraceHeader,
        footer: TraceFooter,
        calls: Vec<Call>,
    ) -> ReadTrace {
        ReadTrace {
            path,
            header,
            calls,
            samples: Vec::new(),
            process_events: Vec::new(),
            telemetry: Vec::new(),
            footer: Some(footer),
            torn_last_line: None,
            bad_lines: Vec::new(),
            unknown_records: 0,
        }
    }
}

/// Reads a whole trace file.
pub fn read_trace(path: &Path) -> Result<ReadTrace, TraceReadError> {
    read_trace_with_progress(path, &|_| {})
}

/// [`read_trace`], telling `progress` how many bytes each read took from the file (a progress
/// bar over large traces).
pub fn read_trace_with_progress(
    path: &Path,
    progress: &dyn Fn(u64),
) -> Result<ReadTrace, TraceReadError> {
    let io_err = |source| TraceReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let counted = Counted {
        inner: file,
        progress,
    };
    let mut reader = BufReader::with_capacity(256 * 1024, counted);
    let mut line = Vec::with_capacity(4096);

    if reader.read_until(b'\n', &mut line).map_err(io_err)? == 0 {
        return Err(TraceReadError::Empty {
            path: path.to_path_buf(),
        });
    }
    let header = parse_header(path, &line)?;
    let mut trace = ReadTrace {
        path: path.to_path_buf(),
        header,
        calls: Vec::new(),
        samples: Vec::new(),
        process_events: Vec::new(),
        telemetry: Vec::new(),
        footer: None,
        torn_last_line: None,
        bad_lines: Vec::new(),
        unknown_records: 0,
    };

    let mut number = 1u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io_err)? == 0 {
            break;
        }
        number += 1;
        let complete = line.last() == Some(&b'\n');
        let text = trim_line(&line);
        if text.is_empty() {
            continue;
        }
        match serde_json::from_slice::<TraceRecord>(text) {
            Ok(record) => trace.push(record),
            Err(err) if !complete => {
                trace.torn_last_line = Some(SkippedLine {
                    line: number,
                    reason: format!("torn last line ({} bytes, {err})", text.len()),
                });
            }
            Err(err) => match serde_json::from_slice::<serde_json::Value>(text) {
                // Valid JSON with a `type` we do not know: a newer writer, not damage.
                Ok(value)
                    if value.get("type").is_some_and(|t| t.is_string()) && !is_known(&value) =>
                {
                    trace.unknown_records += 1;
                }
                _ => trace.bad_lines.push(SkippedLine {
                    line: number,
                    reason: err.to_string(),
                }),
            },
        }
    }
    Ok(trace)
}

/// A reader that reports the bytes it hands out: one call per buffer refill, not per line.
struct Counted<'a, R> {
    inner: R,
    progress: &'a dyn Fn(u64),
}

impl<R: std::io::Read> std::io::Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(n as u64);
        Ok(n)
    }
}

impl ReadTrace {
    fn push(&mut self, record: TraceRecord) {
        match record {
            TraceRecord::Call(call) => self.calls.push(call),
            TraceRecord::Memory(sample) => self.samples.push(sample),
            TraceRecord::Process(event) => self.process_events.push(event),
            TraceRecord::Telemetry(event) => self.telemetry.push(event),
            TraceRecord::Footer(footer) => self.footer = Some(footer),
            // A second header means two traces were concatenated; keep the first.
            TraceRecord::Header(_) => self.unknown_records += 1,
        }
    }

    /// Seconds from the trace origin to its last observation.
    pub fn duration_s(&self) -> f64 {
        let last_call = self
            .calls
            .iter()
            .map(|c| c.t_end.unwrap_or(c.t_start))
            .fold(0.0, f64::max);
        let last_sample = self.samples.last().map(|s| s.t).unwrap_or(0.0);
        let footer = self.footer.as_ref().map(|f| f.t).unwrap_or(0.0);
        last_call.max(last_sample).max(footer)
    }
}

pub(super) fn is_known(value: &serde_json::Value) -> bool {
    matches!(
        value.get("type").and_then(|t| t.as_str()),
        Some("header" | "call" | "memory" | "process" | "telemetry" | "footer")
    )
}

pub(super) fn parse_header(path: &Path, line: &[u8]) -> Result<TraceHeader, TraceReadError> {
    let text = trim_line(line);
    let value: serde_json::Value =
        serde_json::from_slice(text).map_err(|err| TraceReadError::NotATrace {
            path: path.to_path_buf(),
            reason: err.to_string(),
        })?;
    let schema = value.get("schema").and_then(|s| s.as_str()).unwrap_or("");
    if value.get("type").and_then(|t| t.as_str()) != Some("header") {
        return Err(TraceReadError::NotATrace {
            path: path.to_path_buf(),
            reason: "first line has no \"type\":\"header\"".into(),
        });
    }
    if schema != SCHEMA {
        return Err(TraceReadError::Schema {
            path: path.to_path_buf(),
            found: schema.to_string(),
        });
    }
    match serde_json::from_value::<TraceRecord>(value) {
        Ok(TraceRecord::Header(header)) => Ok(header),
        Ok(_) => Err(TraceReadError::NotATrace {
            path: path.to_path_buf(),
            reason: "first record is not a header".into(),
        }),
        Err(err) => Err(TraceReadError::NotATrace {
            path: path.to_path_buf(),
            reason: err.to_string(),
        }),
    }
}

pub(super) fn trim_line(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::trace::TraceWriter;

    fn header() -> TraceHeader {
        TraceHeader::for_tests()
    }

    fn footer() -> TraceFooter {
        TraceFooter {
            t: 2.0,
            ended_at: "2026-11-21T00:00:02Z".into(),
            calls: 0,
            samples: 0,
            exit_code: Some(0),
            exit_signal: None,
        }
    }

    fn write_sample_trace(path: &Path) {
        let writer = TraceWriter::create(path, header()).unwrap();
        let sender = writer.sender();
        sender.send(TraceRecord::Process(ProcessEvent::Exit {
            t: 1.0,
            pid: 7,
            peak_rss_bytes: None,
        }));
        writer.finish(footer()).unwrap();
    }

    #[test]
    fn round_trip_with_footer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        write_sample_trace(&path);
        let trace = read_trace(&path).unwrap();
        assert_eq!(trace.header, header());
        assert_eq!(trace.process_events.len(), 1);
        assert_eq!(trace.footer, Some(footer()));
        assert!(trace.torn_last_line.is_none() && trace.bad_lines.is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn torn_last_line_is_counted_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        write_sample_trace(&path);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(r#"{"type":"memory","t":3.0,"rss_by"#);
        std::fs::write(&path, text).unwrap();
        let trace = read_trace(&path).unwrap();
        let torn = trace.torn_last_line.unwrap();
        assert_eq!(torn.line, 4);
        assert!(torn.reason.contains("torn"));
        assert_eq!(
            trace.process_events.len(),
            1,
            "nothing before the tear is lost"
        );
    }

    #[test]
    fn damaged_middle_line_is_reported_with_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        write_sample_trace(&path);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(1, "{not json");
        lines.insert(2, r#"{"type":"from_the_future","x":1}"#);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let trace = read_trace(&path).unwrap();
        assert_eq!(trace.bad_lines.len(), 1);
        assert_eq!(trace.bad_lines[0].line, 2);
        assert_eq!(trace.unknown_records, 1);
        assert!(trace.footer.is_some());
    }

    #[test]
    fn not_a_trace_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.jsonl");
        std::fs::write(&path, "{\"type\":\"header\",\"schema\":\"other/v9\"}\n").unwrap();
        let err = read_trace(&path).unwrap_err().to_string();
        assert!(
            err.contains("other.jsonl:1") && err.contains("other/v9"),
            "{err}"
        );
        std::fs::write(&path, "").unwrap();
        assert!(matches!(
            read_trace(&path),
            Err(TraceReadError::Empty { .. })
        ));
    }
}
