//! The trace file (`agentprof.trace/v1`): JSON Lines, append-only, one record a line.
//!
//! The first line is a [`TraceHeader`]; then calls, memory samples and process events in the
//! order they were observed; a [`TraceFooter`] last when the run ended cleanly. The format is
//! documented in `docs/trace-format.md` with a JSON Schema (`docs/trace.schema.json`).
//!
//! Writing happens on one thread that owns a buffered file and flushes after every batch (and
//! gathers records for a few milliseconds between batches), so a process killed with SIGKILL
//! loses at most the records of those last milliseconds and a torn line; [`reader`] skips and
//! counts such a torn last line.

pub mod follow;
pub mod reader;
mod record;
pub mod writer;

pub use follow::{FollowError, Follower};
pub use reader::{ReadTrace, TraceReadError, read_trace, read_trace_with_progress};
pub use record::{HostInfo, SCHEMA, TraceFooter, TraceHeader, TraceRecord, Upstreams};
pub use writer::{TraceSender, TraceWriteError, TraceWriter, write_trace_file};
