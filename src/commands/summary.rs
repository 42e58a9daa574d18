//! The short summary `run` and `proxy` print on stderr once the agent is done.

use std::path::Path;

use crate::attribute::cost::PriceTable;
use crate::attribute::findings::{Thresholds, most_severe_first};
use crate::attribute::kv::KvProfile;
use crate::attribute::rows::RowsSpec;
use crate::attribute::summarize;
use crate::attribute::summary::ReportOptions;
use crate::observation::Category;
use crate::output::report::table::bytes;
use crate::output::trace::read_trace;

/// `eprintln!` that never panics: stderr may be a closed pipe (`2>&1 | head -1`) or a hung-up
/// terminal, and the summary must not cost the agent's exit code.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Reads the finished trace back and prints a few lines about it, priced with `prices`, its
/// findings raised at `findings` (the finding flags of `run` and `proxy`).
pub fn print_after_run(trace: &Path, prices: &PriceTable, findings: Thresholds) {
    let read = match read_trace(trace) {
        Ok(read) => read,
        Err(err) => {
            say!("agentprof: could not read back the trace: {err}");
            return;
        }
    };
    let kv_profile = read
        .header
        .kv_profile
        .as_deref()
        .and_then(KvProfile::by_name)
        .unwrap_or_else(KvProfile::default_profile);
    let summary = summarize(
        std::slice::from_ref(&read),
        &ReportOptions {
            prices,
            kv_profile,
            rows: &RowsSpec::by_category(),
            findings,
        },
    );
    let totals = &summary.totals;
    let reasoning = match totals.reasoning_output_tokens {
        0 => String::new(),
        n => format!(" of which {n} reasoning"),
    };
    let tool_use = match totals.tool_use_input_tokens {
        0 => String::new(),
        n => format!(" of which {n} tool-use prompt"),
    };
    say!(
        "agentprof: {} model calls ({} errors), {} tokens ({} input{tool_use}, {} cache write, {} cache read, {} output{reasoning})",
        totals.requests,
        totals.errors,
        totals.total_tokens(),
        totals.input_tokens,
        totals.cache_creation_input_tokens,
        totals.cache_read_input_tokens,
        totals.output_tokens
    );
    if summary.other_requests.requests > 0 {
        say!(
            "agentprof: other requests (not model calls): {}",
            summary.other_requests.describe(3)
        );
    }
    if let Some(cost) = totals.cost_usd {
        say!(
            "agentprof: cost ${cost:.4} (prices as of {})",
            summary.prices.as_of
        );
    }
    let grand = totals.total_tokens().max(1) as f64;
    let shares: Vec<String> = Category::ALL
        .iter()
        .filter_map(|c| {
            let bucket = summary.categories.get(c.as_str())?;
            (bucket.requests > 0).then(|| {
                format!(
                    "{} {:.1} %",
                    c,
                    bucket.total_tokens() as f64 * 100.0 / grand
                )
            })
        })
        .collect();
    if !shares.is_empty() {
        say!("agentprof: tokens by category: {}", shares.join(", "));
    }
    if let Some(peak) = summary.memory.peak_rss_bytes {
        say!(
            "agentprof: agent process tree peak RSS {}{}",
            bytes(peak),
            summary
                .memory
                .peak_pss_bytes
                .map(|p| format!(", peak PSS {}", bytes(p)))
                .unwrap_or_default()
        );
    }
    for finding in most_severe_first(&summary.findings) {
        say!(
            "agentprof: finding ({}): {}",
            finding.severity,
            finding.headline()
        );
    }
    for warning in &summary.warnings {
        say!("agentprof: warning: {warning}");
    }
    say!(
        "agentprof: trace {} — details: agentprof report {}",
        trace.display(),
        trace.display()
    );
}
