//! `agentprof report TRACE…`: the figures of one or more traces.

use std::io::Write;

use crate::attribute::summarize;
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
    let summary = summarize(&traces);
    let mut stdout = std::io::stdout().lock();
    if args.json {
        json::write(&summary, &mut stdout)?;
    } else {
        let order = match args.by {
            Breakdown::Category => table::Lead::Category,
            Breakdown::Model => table::Lead::Model,
            Breakdown::Session => table::Lead::Session,
        };
        table::write(&summary, order, &mut stdout)?;
    }
    stdout.flush()?;
    Ok(0)
}
