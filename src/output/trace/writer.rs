//! The trace writer: one thread, one buffered file, a flush after every batch.
//!
//! Producers (proxy tasks, the sampler thread) send records over a channel and never block on
//! disk. The writer drains whatever is queued, writes it, flushes, and then pauses for
//! `BATCH_WINDOW` before waiting again. A record that arrives while the writer is idle reaches
//! the kernel at once; under load the pause gathers the records of many calls into one `write`
//! and one wake-up of this thread (without it, every call woke it: measured with
//! `scripts/bench-proxy`). A SIGKILL loses at most the records of the last few milliseconds.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use super::record::{TraceFooter, TraceHeader, TraceRecord};
use crate::output::private_file::create_private;

/// After writing a batch the writer lets records gather this long before it takes them.
const BATCH_WINDOW: Duration = Duration::from_millis(5);

/// Errors opening or writing a trace.
#[derive(Debug, thiserror::Error)]
pub enum TraceWriteError {
    #[error("cannot create trace directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "trace file {path} exists already; name another with --trace (traces are never overwritten)"
    )]
    Exists { path: PathBuf },
    #[error("cannot create trace file {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write trace file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("trace writer thread failed")]
    Thread,
}

/// A cheap, cloneable handle producers use to append records.
#[derive(Debug, Clone)]
pub struct TraceSender {
    tx: Sender<TraceRecord>,
}

impl TraceSender {
    /// Queues a record. Records sent after the writer finished are dropped: by then the
    /// footer is written and nothing may follow it.
    pub fn send(&self, record: TraceRecord) {
        let _ = self.tx.send(record);
    }
}

/// Owns the writer thread; [`TraceWriter::finish`] writes the footer and closes the file.
#[derive(Debug)]
pub struct TraceWriter {
    path: PathBuf,
    sender: TraceSender,
    thread: JoinHandle<Result<u64, TraceWriteError>>,
}

impl TraceWriter {
    /// Creates the trace file (parents too, mode 0600), writes the header line and starts the
    /// writer thread.
    pub fn create(path: &Path, header: TraceHeader) -> Result<TraceWriter, TraceWriteError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| TraceWriteError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let file = create_private(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => TraceWriteError::Exists {
                path: path.to_path_buf(),
            },
            _ => TraceWriteError::Create {
                path: path.to_path_buf(),
                source,
            },
        })?;
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        write_line(&mut out, &TraceRecord::Header(header))
            .and_then(|()| out.flush())
            .map_err(|source| TraceWriteError::Write {
                path: path.to_path_buf(),
                source,
            })?;

        let (tx, rx) = mpsc::channel();
        let thread_path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("agentprof-trace".into())
            .spawn(move || write_loop(out, rx, &thread_path))
            .map_err(|source| TraceWriteError::Create {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(TraceWriter {
            path: path.to_path_buf(),
            sender: TraceSender { tx },
            thread,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A handle for producers.
    pub fn sender(&self) -> TraceSender {
        self.sender.clone()
    }

    /// Appends the footer, flushes, and waits for the thread. Returns the number of records
    /// written after the header. Producers still holding senders may keep them; what they send
    /// later is dropped.
    pub fn finish(self, footer: TraceFooter) -> Result<u64, TraceWriteError> {
        self.sender.send(TraceRecord::Footer(footer));
        drop(self.sender);
        self.thread.join().map_err(|_| TraceWriteError::Thread)?
    }
}

/// Writes a whole trace in one go — header, records, footer — under the same file rules
/// (parent directories created, mode 0600). For `import`, whose records exist before writing
/// starts: no thread, no queue, so memory stays that of one record. Returns the number of
/// records written after the header.
pub fn write_trace_file(
    path: &Path,
    header: TraceHeader,
    records: impl Iterator<Item = TraceRecord>,
    footer: TraceFooter,
) -> Result<u64, TraceWriteError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| TraceWriteError::CreateDir {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let file = create_private(path).map_err(|source| TraceWriteError::Create {
        path: path.to_path_buf(),
        source,
    })?;
    let wrap = |source| TraceWriteError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut out = BufWriter::with_capacity(64 * 1024, file);
    write_line(&mut out, &TraceRecord::Header(header)).map_err(wrap)?;
    let mut written = 0u64;
    for record in records {
        write_line(&mut out, &record).map_err(wrap)?;
        written += 1;
    }
    write_line(&mut out, &TraceRecord::Footer(footer)).map_err(wrap)?;
    out.flush().map_err(wrap)?;
    Ok(written + 1)
}

fn write_loop(
    mut out: BufWriter<File>,
    rx: Receiver<TraceRecord>,
    path: &Path,
) -> Result<u64, TraceWriteError> {
    let wrap = |source: std::io::Error| {
        // Logged here, when it happens: producers keep sending into a closed channel.
        tracing::error!(
            "writing the trace {} failed, recording stops: {source}",
            path.display()
        );
        TraceWriteError::Write {
            path: path.to_path_buf(),
            source,
        }
    };
    let mut written = 0u64;
    // Block for the first record of a batch, then take whatever else is already queued.
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(record) = next {
            let is_footer = matches!(record, TraceRecord::Footer(_));
            write_line(&mut out, &record).map_err(wrap)?;
            written += 1;
            if is_footer {
                out.flush().map_err(wrap)?;
                return Ok(written);
            }
            next = rx.try_recv().ok();
        }
        out.flush().map_err(wrap)?;
        std::thread::sleep(BATCH_WINDOW);
    }
    out.flush().map_err(wrap)?;
    Ok(written)
}

fn write_line(out: &mut impl Write, record: &TraceRecord) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, record).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}
