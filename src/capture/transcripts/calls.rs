//! An imported history as calls: the report computed straight from the compact entries, and
//! the trace that gives `report` the same figures.
//!
//! The report here follows [`crate::attribute::summary`] step for step — same order of calls,
//! same turn rule, same cost and KV code — but one call at a time, so an import never holds
//! tens of thousands of [`Call`]s. A test checks that `report` on the written trace gives the
//! same report.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::by_id::ById;
use super::cache::Writing;
use super::entry::{CompactUsage, Entry, Interner, STARTS_TURN};
use super::history::Found;
use super::stats::ImportReport;
use crate::attribute::attribution::subagent_type_of;
use crate::attribute::cost::ModelPrice;
use crate::attribute::kv::{KvCall, KvFigures, server_kv_of};
use crate::attribute::rows::{RowFact, RowsBuilder};
use crate::attribute::summary::{
    IMPORT_LIMITS, ReportOptions, Source, Summary, TurnReport, classification_method, empty,
    finish, merge_kv,
};
use crate::attribute::{Buckets, UsageTotals};
use crate::clock::offset_to_timestamp;
use crate::observation::{ApiKind, Call, Category, Provider};
use crate::output::trace::{
    ReadTrace, TraceFooter, TraceHeader, TraceRecord, TraceWriteError, write_trace_file,
};

/// The agent of every call here.
const AGENT: &str = "claude-code";

/// One billed call of an imported history: what its report and trace record need, in 64
/// bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedCall {
    /// Milliseconds since the epoch: request sent (api-request), else first line written.
    pub t_start: i64,
    /// Milliseconds from `t_start` to the response's last line.
    pub duration_ms: u32,
    pub usage: CompactUsage,
    pub session: u32,
    pub agent: u32,
    pub model: u32,
    /// The `projects/<dir>` the call's transcript is under; 0: none.
    pub project: u32,
    /// The interned `classified_by` (`transcript:<querySource>` or `transcript:isSidechain…`).
    pub decider: u32,
    /// 1-based index into [`Imported::ids`]; 0 when ids were not kept.
    pub ids: u32,
    pub category: Category,
    pub flags: u8,
}

impl ImportedCall {
    /// The call an entry stands for, its classification interned.
    pub fn of(entry: &Entry, interner: &mut Interner) -> ImportedCall {
        let decider = decider_of(entry, interner);
        ImportedCall::with_decider(entry, decider)
    }

    /// The call an entry stands for, its `classified_by` interned already
    /// ([`decider_of`]: the same for every entry of one source, category and agent type).
    pub fn with_decider(entry: &Entry, decider: u32) -> ImportedCall {
        ImportedCall {
            t_start: entry.t_start,
            // Never negative (a send time after the answer is not believed), at most 49 days.
            duration_ms: (entry.t_end - entry.t_start).clamp(0, i64::from(u32::MAX)) as u32,
            usage: entry.usage,
            session: entry.session,
            agent: entry.agent,
            model: entry.model,
            project: entry.project,
            decider,
            ids: entry.ids,
            category: entry.category,
            flags: entry.flags,
        }
    }

    /// The key of [`decider_of`]: entries alike in it share a decider.
    pub fn decider_key(entry: &Entry) -> (u32, Category, u32) {
        (entry.source, entry.category, entry.agent_type)
    }

    pub fn t_end(&self) -> i64 {
        self.t_start + i64::from(self.duration_ms)
    }
}

/// The interned `classified_by` of an entry's call: the api-request's `querySource`, else
/// `isSidechain` (with the sub-agent's type when known).
pub fn decider_of(entry: &Entry, interner: &mut Interner) -> u32 {
    let decider = match (entry.source, entry.category, entry.agent_type) {
        (0, Category::Subagent, t) if t != 0 => {
            format!("transcript:isSidechain:{}", interner.get(t))
        }
        (0, _, _) => "transcript:isSidechain".to_string(),
        (source, _, _) => format!("transcript:{}", interner.get(source)),
    };
    interner.intern(decider.as_bytes())
}

/// A whole imported history, one call per billed response, in call-id order.
#[derive(Debug)]
pub struct Imported {
    /// The `projects` directory read.
    pub dir: PathBuf,
    pub calls: Vec<ImportedCall>,
    pub interner: Interner,
    /// Message and request id strings (only when kept for a trace); `ImportedCall::ids` is
    /// 1-based.
    pub ids: Vec<(Box<str>, Box<str>)>,
    /// Milliseconds since the epoch of offset 0: the earliest call.
    pub origin_ms: i64,
    pub report: ImportReport,
    /// Sentences about damaged input, for the report's warnings.
    pub warnings: Vec<String>,
    /// Sentences about what was read, for the report's assumptions.
    pub notes: Vec<String>,
    /// The history cache being written meanwhile; dropping the import waits for it.
    pub cache_write: Writing,
}

impl Imported {
    /// Names each call's project by the directory it stands for (`paths`: by `projects/`
    /// name, see `project_paths`); a project not in `paths` keeps its `projects/` name.
    pub fn name_projects(&mut self, paths: &HashMap<String, String>) {
        let mut renamed: HashMap<u32, u32> = HashMap::new();
        for call in &mut self.calls {
            if call.project == 0 {
                continue;
            }
            call.project = *renamed.entry(call.project).or_insert_with(|| {
                match paths.get(self.interner.get(call.project)) {
                    Some(path) => self.interner.intern(path.as_bytes()),
                    None => call.project,
                }
            });
        }
    }

    fn offset(&self, ms: i64) -> f64 {
        (ms - self.origin_ms) as f64 / 1000.0
    }

    fn origin(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.origin_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// Seconds from offset 0 to the last call's end (a trace's `duration_s`).
    pub fn duration_s(&self) -> f64 {
        self.calls
            .iter()
            .map(|c| self.offset(c.t_end()).max(self.offset(c.t_start)))
            .fold(0.0, f64::max)
    }

    /// Call `index` as the trace's call record (id `index + 1`).
    pub fn call(&self, index: usize) -> Option<Call> {
        let entry = self.calls.get(index)?;
        let ids = (entry.ids as usize)
            .checked_sub(1)
            .and_then(|i| self.ids.get(i));
        let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Some(Call {
            id: index as u64 + 1,
            t_start: self.offset(entry.t_start),
            t_first_byte: None,
            t_end: Some(self.offset(entry.t_end())),
            provider: Provider::Anthropic,
            api: ApiKind::Messages,
            method: "POST".into(),
            path: "/v1/messages".into(),
            model: self.interner.opt(entry.model).map(str::to_string),
            // Claude Code streams every model call.
            stream: true,
            status: Some(200),
            usage: Some(entry.usage.usage()),
            upstream_request_id: ids.and_then(|(_, request)| text(request)),
            response_id: ids.and_then(|(message, _)| text(message)),
            session_id: self.interner.opt(entry.session).map(str::to_string),
            agent_id: self.interner.opt(entry.agent).map(str::to_string),
            parent_agent_id: None,
            request_bytes: 0,
            response_bytes: 0,
            client_bytes: None,
            category: entry.category,
            classified_by: self.interner.get(entry.decider).to_string(),
            starts_turn: entry.flags & STARTS_TURN != 0,
            error: None,
            bodies: None,
            via_websocket: None,
            project: self.interner.opt(entry.project).map(str::to_string),
        })
    }

    /// The trace header an import writes.
    pub fn header(&self) -> TraceHeader {
        TraceHeader::for_import(AGENT, &self.dir, self.origin())
    }

    /// Writes the history as a trace (`mode: "import"`).
    pub fn write_trace(&self, path: &Path) -> Result<u64, TraceWriteError> {
        let footer =
            TraceFooter::for_import(self.origin(), self.duration_s(), self.calls.len() as u64);
        let calls = (0..self.calls.len()).filter_map(|i| self.call(i).map(TraceRecord::Call));
        write_trace_file(path, self.header(), calls, footer)
    }

    /// The calls as a trace (what [`Imported::write_trace`] writes), and what the import found:
    /// for a report of several agents' histories at once.
    pub fn into_trace(self) -> (ReadTrace, Found) {
        let calls = (0..self.calls.len()).filter_map(|i| self.call(i)).collect();
        let footer =
            TraceFooter::for_import(self.origin(), self.duration_s(), self.calls.len() as u64);
        let trace = ReadTrace::of_import(self.dir.clone(), self.header(), footer, calls);
        let found = Found {
            dir: self.dir,
            report: self.report,
            warnings: self.warnings,
            notes: self.notes,
        };
        (trace, found)
    }

    /// The report, as `report` would compute it from the written trace, plus what the import
    /// itself found (`import`, damage warnings, versions).
    pub fn summarize(&self, options: &ReportOptions<'_>) -> Summary {
        let origin = self.origin();
        let duration = self.duration_s();
        let end = offset_to_timestamp(origin, duration);
        let source = Source {
            traces: vec![self.dir.display().to_string()],
            started_at: Some(origin.to_string()),
            ended_at: Some(end.to_string()),
            duration_s: end.duration_since(origin).as_secs_f64().max(0.0),
            skipped_lines: 0,
        };
        let mut summary = empty(source, options);
        // KV first: its per-call working set is gone before the turns are built.
        merge_kv(&mut summary.kv, self.server_kv(options, duration));
        let mut unpriced: BTreeMap<String, u64> = BTreeMap::new();
        let mut turns = TurnState::default();
        let mut prices: HashMap<u32, Option<&ModelPrice>> = HashMap::new();
        let mut rows = RowsBuilder::new(options.rows);
        // Buckets by interned id, named once each (see `by_id`); categories by position.
        let mut categories: [UsageTotals; 8] = Default::default();
        let mut models: ById<UsageTotals> = ById::default();
        let mut sessions: ById<UsageTotals> = ById::default();
        let mut subagent_types: ById<UsageTotals> = ById::default();
        let mut by_method: ById<u64> = ById::default();
        let mut by_decider: ById<u64> = ById::default();
        // One scratch call: `UsageTotals::add_call` reads only its usage and status.
        let mut scratch = Call::blank();
        for entry in &self.calls {
            let usage = entry.usage.usage();
            scratch.usage = Some(usage);
            let model = self.interner.opt(entry.model);
            let session = self.interner.opt(entry.session);
            // Model names repeat: look each up once (matching a name is string work).
            let price = *prices
                .entry(entry.model)
                .or_insert_with(|| model.and_then(|m| options.prices.lookup(m)));
            let cost = price.and_then(|p| p.cost(&usage));
            if cost.is_none() {
                *unpriced
                    .entry(model.unwrap_or("(none)").to_string())
                    .or_default() += 1;
            }
            let decided_by = || self.interner.get(entry.decider);
            let add = |bucket: &mut UsageTotals| bucket.add_call(&scratch, cost);
            add(&mut summary.totals);
            let category = Category::ALL
                .iter()
                .position(|c| *c == entry.category)
                .unwrap_or(0);
            add(&mut categories[category]);
            add(models.get(entry.model, || model.unwrap_or("(none)").to_string()));
            add(sessions.get(entry.session, || session.unwrap_or("(none)").to_string()));
            if entry.category == Category::Subagent {
                add(subagent_types.get(entry.decider, || subagent_type_of(None, decided_by())));
            }
            *by_method.get(entry.decider, || {
                classification_method(decided_by()).to_string()
            }) += 1;
            *by_decider.get(entry.decider, || decided_by().to_string()) += 1;

            if entry.category == Category::UserTurn && entry.flags & STARTS_TURN != 0 {
                turns.start(entry.session, summary.turns.len());
                summary.turns.push(TurnReport {
                    index: summary.turns.len() as u32 + 1,
                    session: session.map(str::to_string),
                    started_at: offset_to_timestamp(origin, self.offset(entry.t_start)).to_string(),
                    user: UsageTotals::default(),
                    overhead: UsageTotals::default(),
                    by_category: Buckets::default(),
                    rss_growth_bytes: None,
                });
            }
            let turn_index = turns.of(entry.session);
            rows.add(
                &RowFact {
                    t_ms: entry.t_start,
                    agent: AGENT,
                    project: self.interner.opt(entry.project),
                    session,
                    model,
                    category: entry.category,
                    turn: turn_index,
                },
                &scratch,
                cost,
            );
            if let Some(turn) = turn_index.and_then(|t| summary.turns.get_mut(t)) {
                if entry.category == Category::UserTurn {
                    add(&mut turn.user);
                } else {
                    add(&mut turn.overhead);
                }
                add(turn.by_category.entry_static(entry.category.as_str()));
            }
        }
        for (category, bucket) in Category::ALL.iter().zip(categories) {
            summary
                .categories
                .insert(category.as_str().to_string(), bucket);
        }
        models.into_map(&mut summary.models);
        sessions.into_map(&mut summary.sessions);
        subagent_types.into_map(&mut summary.subagent_types);
        by_method.into_map(&mut summary.classification.by_method);
        by_decider.into_map(&mut summary.classification.by_decider);
        summary.rows = rows.finish(|t| summary.turns.get(t).map(|turn| turn.started_at.clone()));
        finish(&mut summary, unpriced, Some(&IMPORT_LIMITS));
        summary.source.skipped_lines = self.report.skipped_lines();
        summary.warnings.extend(self.warnings.iter().cloned());
        summary.assumptions.extend(self.notes.iter().cloned());
        summary.import = Some(self.report.clone());
        summary
    }
}

impl Imported {
    /// Server KV under `options`' profile, with cache keys ranked in the strings' order (the
    /// order `report` sees them in), so the figures equal those of the written trace.
    fn server_kv(&self, options: &ReportOptions<'_>, duration: f64) -> KvFigures {
        let rank = self.interner.ranks();
        let rank_of = |id: u32| rank.get(id as usize).copied().unwrap_or(0);
        let held = self
            .calls
            .iter()
            .enumerate()
            .map(|(index, e)| {
                KvCall::new(
                    index as u64 + 1,
                    self.offset(e.t_start),
                    self.offset(e.t_end()),
                    &e.usage.usage(),
                    e.category,
                    (rank_of(e.session), rank_of(e.agent), rank_of(e.model)),
                )
            })
            .collect();
        server_kv_of(held, options.kv_profile, duration, false)
    }
}

/// Which turn each session is in: a call joins its session's latest turn, or the latest turn
/// of all when its session has none yet (the rule of [`crate::attribute::turns::assign`]).
#[derive(Default)]
struct TurnState {
    by_session: HashMap<u32, usize>,
    latest: Option<usize>,
}

impl TurnState {
    fn start(&mut self, session: u32, turn: usize) {
        self.by_session.insert(session, turn);
        self.latest = Some(turn);
    }

    fn of(&self, session: u32) -> Option<usize> {
        self.by_session.get(&session).copied().or(self.latest)
    }
}
