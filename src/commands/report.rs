//! `agentprof report TRACE…`: the figures of one or more traces.

use std::io::Write;

use super::options;
use crate::attribute::kv::DEFAULT_PROFILE;
use crate::attribute::summarize;
use crate::attribute::summary::ReportOptions;
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
    let mut stdout = std::io::stdout().lock();
    if args.json {
        json::write(&summary, &mut stdout)?;
    } else {
        let lead = match args.by {
            Breakdown::Category => table::Lead::Category,
            Breakdown::Model => table::Lead::Model,
            Breakdown::Session => table::Lead::Session,
            Breakdown::Turn => table::Lead::Turn,
        };
        table::write(&summary, lead, &mut stdout)?;
    }
    stdout.flush()?;
    Ok(0)
}
