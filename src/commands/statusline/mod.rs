//! `agentprof statusline`: Claude Code's JSON on stdin → one line on stdout.
//!
//! Claude Code runs the status command on every refresh, so it must be quick and must never
//! leave the bar blank or break the agent. Under `agentprof run` the figures come from the
//! live trace (`$AGENTPROF_TRACE`, which `run` gives the agent and the agent gives its status
//! command): running totals are kept in a small cache file and only the records appended since
//! the last refresh are read. Without a run, they come from the session's transcript through
//! the import and its cache. A problem is printed as the line itself (`agentprof: …`) and the
//! exit code is still 0: Claude Code blanks the bar when its status command fails (it drops
//! the output of a non-zero exit), and the user must see what went wrong where they looked.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod sweep;

use super::options;
use crate::attribute::cost::PriceTable;
use crate::attribute::kv::KvProfile;
use crate::attribute::live_tally::session::{CostSplit, TraceTotals};
use crate::attribute::rows::RowsSpec;
use crate::attribute::summary::ReportOptions;
use crate::capture::transcripts::{self, ImportOptions, OnlySession, Progress, cache};
use crate::cli::StatuslineArgs;
use crate::observation::Category;
use crate::output::statusline::{Scope, Source, Status, StatusInput};
use crate::output::trace::Follower;

/// Stdin read at most: Claude Code's JSON is a few hundred bytes.
const MAX_INPUT: u64 = 1 << 20;

pub fn run(args: StatuslineArgs) -> anyhow::Result<i32> {
    match status(&args) {
        Ok(status) => {
            println!("{}", status.line());
            Ok(0)
        }
        Err(err) => {
            // The bar is where the user looks; stderr is for whoever runs it by hand.
            println!("agentprof: {err:#}");
            eprintln!("agentprof statusline: {err:#}");
            Ok(0)
        }
    }
}

fn status(args: &StatuslineArgs) -> anyhow::Result<Status> {
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_INPUT)
        .read_to_string(&mut text)
        .map_err(|e| anyhow::anyhow!("cannot read the status JSON on stdin: {e}"))?;
    let input: StatusInput = if text.trim().is_empty() {
        anyhow::bail!("no status JSON on stdin (Claude Code's statusLine gives it)");
    } else {
        serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("stdin is not Claude Code's status JSON: {e}"))?
    };
    let prices = options::prices(args.prices.as_deref())?;
    let cache_dir = match args.no_cache {
        true => None,
        false => args.cache_dir.clone().or_else(cache::default_dir),
    };
    if let Some(dir) = &cache_dir {
        sweep::sweep_if_due(dir, std::time::SystemTime::now());
    }
    if let Some(trace) = &args.trace {
        return live(
            trace,
            input.session_id.as_deref(),
            &prices,
            cache_dir.as_deref(),
        );
    }
    let (Some(transcript), Some(session)) = (&input.transcript_path, &input.session_id) else {
        anyhow::bail!(
            "the status JSON names no transcript_path and session_id, and no run is live"
        );
    };
    from_transcript(Path::new(transcript), session, &prices, cache_dir)
}

/// Running totals of a trace kept between refreshes, and where in the trace they stop.
#[derive(Debug, Serialize, Deserialize)]
struct Kept {
    format: u32,
    /// The trace file these are of (device, inode): a new trace at the same path starts over.
    file: (u64, u64),
    /// Which prices they were computed with.
    prices: String,
    offset: u64,
    line: u64,
    totals: TraceTotals,
}

const KEPT_FORMAT: u32 = 1;

fn live(
    trace: &Path,
    session: Option<&str>,
    prices: &PriceTable,
    cache_dir: Option<&Path>,
) -> anyhow::Result<Status> {
    let mut follower = Follower::open(trace)
        .map_err(|e| anyhow::anyhow!("{e} (from AGENTPROF_TRACE or --trace)"))?;
    let file = file_id(trace)?;
    let prices_label = format!("{}|{:?}", prices.as_of(), prices.override_file());
    let kept_path = cache_dir.map(|dir| kept_file(dir, trace));
    let kept = kept_path
        .as_deref()
        .and_then(load)
        .filter(|k| k.format == KEPT_FORMAT && k.file == file && k.prices == prices_label);
    let resumed = kept.is_some();
    let mut totals = match kept {
        Some(kept) => {
            follower.resume_at(kept.offset, kept.line);
            kept.totals
        }
        None => TraceTotals::default(),
    };
    let start = follower.offset();
    if let Err(err) = read_on(&mut follower, &mut totals, prices) {
        if !resumed {
            return Err(err.into());
        }
        // The trace was rewritten in place since the totals were kept: read it all again.
        follower = Follower::open(trace)?;
        totals = TraceTotals::default();
        read_on(&mut follower, &mut totals, prices)?;
    }
    let (scope, split) = match session {
        Some(id) if totals.by_session.contains_key(id) => (Scope::Session, totals.by_session[id]),
        // No session named, or calls that carry none (an agent that sends no session id): the
        // whole run.
        None => (Scope::Run, totals.all),
        _ if totals.by_session.is_empty() && totals.all.total.calls > 0 => (Scope::Run, totals.all),
        // This session has made no call yet.
        Some(_) => (Scope::Session, CostSplit::default()),
    };
    if let Some(path) = kept_path.filter(|_| follower.offset() != start || !resumed) {
        // A cache that cannot be written costs speed, not figures.
        let _ = store(
            &path,
            &Kept {
                format: KEPT_FORMAT,
                file,
                prices: prices_label,
                offset: follower.offset(),
                line: follower.line(),
                totals: totals.clone(),
            },
        );
    }
    Ok(Status {
        source: Source::LiveRun,
        scope,
        cost_usd: split.total.known_cost(),
        partly_unpriced: split.total.unpriced_calls > 0,
        overhead_usd: split.overhead.known_cost(),
        rss_bytes: totals.rss.filter(|_| !totals.ended).map(|(_, rss)| rss),
    })
}

fn read_on(
    follower: &mut Follower,
    totals: &mut TraceTotals,
    prices: &PriceTable,
) -> Result<(), crate::output::trace::FollowError> {
    loop {
        let records = follower.poll()?;
        if records.is_empty() {
            return Ok(());
        }
        for record in &records {
            totals.apply(record, prices);
        }
    }
}

fn from_transcript(
    transcript: &Path,
    session: &str,
    prices: &PriceTable,
    cache_dir: Option<PathBuf>,
) -> anyhow::Result<Status> {
    // <claude dir>/projects/<project>/<session>.jsonl
    let project_dir = transcript.parent();
    let (Some(projects), Some(project)) = (
        project_dir.and_then(Path::parent),
        project_dir.and_then(Path::file_name),
    ) else {
        anyhow::bail!("{}: not a transcript path", transcript.display());
    };
    let imported = transcripts::import(
        &ImportOptions {
            dir: Some(projects.to_path_buf()),
            threads: 1,
            cache_dir,
            session: Some(OnlySession {
                project: project.to_string_lossy().into_owned(),
                session: session.to_string(),
            }),
            ..ImportOptions::default()
        },
        &Progress::default(),
    )?;
    let rows = RowsSpec::by_category();
    let summary = imported.summarize(&ReportOptions {
        prices,
        kv_profile: KvProfile::default_profile(),
        rows: &rows,
        findings: Default::default(),
    });
    let user = summary
        .categories
        .get(Category::UserTurn.as_str())
        .and_then(|u| u.cost_usd);
    let total = summary.totals.cost_usd;
    Ok(Status {
        source: Source::Transcript,
        scope: Scope::Session,
        cost_usd: total,
        partly_unpriced: false,
        overhead_usd: total.zip(user).map(|(t, u)| t - u),
        rss_bytes: None,
    })
}

fn file_id(path: &Path) -> anyhow::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("cannot read trace {}: {e}", path.display()))?;
    Ok((meta.dev(), meta.ino()))
}

/// `<cache>/statusline-v1/<hash of the canonical trace path>.json`.
fn kept_file(dir: &Path, trace: &Path) -> PathBuf {
    let trace = std::fs::canonicalize(trace).unwrap_or_else(|_| trace.to_path_buf());
    let hash = twox_hash::XxHash3_64::oneshot(trace.as_os_str().as_encoded_bytes());
    dir.join("statusline-v1").join(format!("{hash:016x}.json"))
}

fn load(path: &Path) -> Option<Kept> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Written aside and renamed: two status commands refreshing at once never read half a file.
fn store(path: &Path, kept: &Kept) -> std::io::Result<()> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    std::fs::create_dir_all(dir)?;
    let aside = dir.join(format!(".{}.tmp", std::process::id()));
    {
        use std::io::Write;
        let mut file = crate::output::private_file::create_private(&aside).or_else(|_| {
            std::fs::remove_file(&aside)?;
            crate::output::private_file::create_private(&aside)
        })?;
        file.write_all(&serde_json::to_vec(kept)?)?;
    }
    std::fs::rename(&aside, path)
}
