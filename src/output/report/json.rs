//! The report as `agentprof.report/v1` JSON.

use std::io::Write;

use crate::attribute::Summary;

/// Writes the report as pretty JSON followed by a newline.
pub fn write(summary: &Summary, out: &mut impl Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, summary).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}
