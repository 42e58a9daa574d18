//! `agentprof compare A… -- B…`: each trace's report, then B against A.

use std::io::Write;
use std::path::PathBuf;

use super::{html, options};
use crate::attribute::compare::compare;
use crate::attribute::compare::fail_if::FailIf;
use crate::attribute::cost::PriceTable;
use crate::attribute::kv::DEFAULT_PROFILE;
use crate::attribute::rows::RowsSpec;
use crate::attribute::summary::ReportOptions;
use crate::attribute::{Summary, summarize};
use crate::cli::{CompareArgs, ComparisonArgs};
use crate::error::InputError;
use crate::output::compare::{write_json, write_table};
use crate::output::html::{HtmlTarget, write_compare};
use crate::output::trace::ReadTrace;

pub fn run(args: CompareArgs) -> anyhow::Result<i32> {
    let settings = Settings::of(&args.output, args.kv_profile.clone())?;
    compare_traces(&args.a, &args.b, &settings)
}

/// How traces are compared and shown.
pub struct Settings {
    pub prices: PriceTable,
    pub kv_profile: Option<String>,
    pub json: bool,
    /// `--html DIR`, checked before anything runs.
    pub html: Option<HtmlTarget>,
    pub thresholds: Vec<FailIf>,
}

impl Settings {
    /// Checks the flags before anything is read or run: a bad threshold, price file or
    /// `--html DIR` is a usage error now.
    pub fn of(args: &ComparisonArgs, kv_profile: Option<String>) -> anyhow::Result<Settings> {
        Ok(Settings {
            thresholds: fail_ifs(&args.fail_if)?,
            prices: options::prices(args.prices.as_deref())?,
            kv_profile,
            json: args.json,
            html: args.html.as_deref().map(html::target).transpose()?,
        })
    }
}

/// The `--fail-if` thresholds; a bad one is a usage error.
fn fail_ifs(texts: &[String]) -> anyhow::Result<Vec<FailIf>> {
    Ok(texts
        .iter()
        .map(|t| FailIf::parse(t).map_err(|e| InputError::new(format!("--fail-if {e}"))))
        .collect::<Result<Vec<_>, _>>()?)
}

/// Reads, reports and compares A's and B's traces, prints the comparison, and returns the exit
/// code (1 when a threshold is broken).
pub fn compare_traces(
    a_paths: &[PathBuf],
    b_paths: &[PathBuf],
    settings: &Settings,
) -> anyhow::Result<i32> {
    let a = super::report::read_all(a_paths)?;
    let b = super::report::read_all(b_paths)?;
    let prices = &settings.prices;
    let reports = |traces: &[ReadTrace]| -> anyhow::Result<Vec<Summary>> {
        let rows = RowsSpec::by_category();
        traces
            .iter()
            .map(|trace| {
                // Each run under the profile it was recorded with, unless one is asked for.
                let name = settings
                    .kv_profile
                    .clone()
                    .or_else(|| trace.header.kv_profile.clone())
                    .unwrap_or_else(|| DEFAULT_PROFILE.to_string());
                Ok(summarize(
                    std::slice::from_ref(trace),
                    &ReportOptions {
                        prices,
                        kv_profile: options::kv_profile(&name)?,
                        rows: &rows,
                        findings: Default::default(),
                    },
                ))
            })
            .collect()
    };
    let comparison = compare(&reports(&a)?, &reports(&b)?);
    if let Some(target) = &settings.html {
        let index = write_compare(target, a_paths, b_paths, &comparison).map_err(html::error)?;
        html::announce(&index);
    }
    let mut stdout = std::io::stdout().lock();
    if settings.json {
        write_json(a_paths, b_paths, &comparison, &mut stdout)?;
    } else {
        write_table(a_paths, b_paths, &comparison, &mut stdout)?;
    }
    stdout.flush()?;
    let broken: Vec<String> = settings
        .thresholds
        .iter()
        .filter_map(|t| t.broken_by(&comparison))
        .collect();
    for message in &broken {
        eprintln!("agentprof compare: --fail-if {message}");
    }
    Ok(if broken.is_empty() { 0 } else { 1 })
}
