//! `agentprof report TRACE…`: the figures of one or more traces.

use std::io::Write;

use super::options;
use crate::attribute::kv::DEFAULT_PROFILE;
use crate::attribute::summary::ReportOptions;
use crate::attribute::{Summary, summarize};
use crate::cli::{Breakdown, ReportArgs};
use crate::error::InputError;
use crate::output::report::{json, table};
use crate::output::trace::read_trace;

/// The `report` command.
pub fn run(args: ReportArgs) -> anyhow::Result<i32> {
    let mut traces = Vec::with_capacity(args.traces.len());
    for path in &args.traces {
        traces.push(read_trace(path).map_err(|e| InputError::new(e.to_string()))?);
    }
    let prices = options::prices(args.prices.as_deref())?;
    // The profile the trace was recorded with, unless the user asks for another.
    let recorded = traces.first().and_then(|t| t.header.kv_profile.clone());
    let profile_name = args
        .kv_profile
        .or(recorded)
        .unwrap_or_else(|| DEFAULT_PROFILE.to_string());
    let kv_profile = options::kv_profile(&profile_name)?;
    let summary = summarize(
        &traces,
        &ReportOptions {
            prices: &prices,
            kv_profile,
        },
    );
    print(&summary, args.json, args.by)?;
    Ok(0)
}

/// Prints a report on stdout: JSON alone, or the tables led by `by`. One write per 64 KiB, not
/// per line: a long history is a report of many lines.
pub(super) fn print(summary: &Summary, as_json: bool, by: Breakdown) -> std::io::Result<()> {
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    if as_json {
        json::write(summary, &mut stdout)?;
    } else {
        let lead = match by {
            Breakdown::Category => table::Lead::Category,
            Breakdown::Model => table::Lead::Model,
            Breakdown::Session => table::Lead::Session,
            Breakdown::Turn => table::Lead::Turn,
        };
        table::write(summary, lead, &mut stdout)?;
    }
    stdout.flush()
}
