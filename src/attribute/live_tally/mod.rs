//! The running totals of a session being watched (`agentprof top`): fed one trace record at a
//! time, asked for a [`LiveView`] whenever the screen is redrawn.
//!
//! Everything kept is bounded, so a view attached to a day-long daemon stays small: per
//! category sums; the calls of the last burn-rate window; the last [`LAST_CALLS`] calls; the
//! current turn's sums; a memory history thinned to at most [`memory::HISTORY`] points; the
//! live findings' own bounded record. Categories are the proxy's rules' (what the trace
//! records); a report may still refine some with the agent's telemetry.

pub mod memory;
pub mod session;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use crate::attribute::cost::PriceTable;
use crate::attribute::findings::live::LiveJudge;
use crate::attribute::findings::{Finding, Thresholds, most_severe_first};
use crate::attribute::kv::live::ResidentKv;
use crate::observation::{Call, Category, NOT_A_MODEL_CALL, Usage};
use crate::output::trace::{TraceFooter, TraceHeader, TraceRecord};

use memory::{MemoryTally, MemoryView};

/// Findings are judged at most this often, and at most 1/[`FINDINGS_DUTY`] of the time: the
/// view must cost under 1 % of a core, and leaks are judged over minutes anyway.
pub const FINDINGS_EVERY: Duration = Duration::from_secs(30);
pub const FINDINGS_DUTY: u32 = 200;
/// Calls the findings judged from calls (idle spend, category jumps, cache rewrites, memory
/// kept per turn) look at: the newest, about a working day of an agent's calls. The report
/// judges them all.
pub const FINDINGS_CALLS: usize = 4_096;

/// Calls kept for the "last calls" list (and to settle a turn's early calls).
pub const LAST_CALLS: usize = 200;

/// Sums over a set of calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sums {
    pub calls: u64,
    pub errors: u64,
    pub usage: Usage,
    /// Of the priced calls only.
    pub cost_usd: f64,
    pub priced_calls: u64,
    /// Calls with usage whose model has no known price: their cost is unknown, not 0.
    pub unpriced_calls: u64,
}

impl Sums {
    fn add(&mut self, call: &CallLine) {
        self.calls += 1;
        if call.failed {
            self.errors += 1;
        }
        if let Some(usage) = &call.usage {
            self.usage.add(usage);
            match call.cost_usd {
                Some(cost) => {
                    self.cost_usd += cost;
                    self.priced_calls += 1;
                }
                None => self.unpriced_calls += 1,
            }
        }
    }

    /// The cost of the priced calls; `None` when there were calls with usage and none was
    /// priced (an unknown cost is never shown as 0). Partly priced: see `unpriced_calls`.
    pub fn known_cost(&self) -> Option<f64> {
        (self.priced_calls > 0 || self.unpriced_calls == 0).then_some(self.cost_usd)
    }
}

/// One finished model call, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct CallLine {
    pub id: u64,
    pub t_start: f64,
    pub t_end: f64,
    pub category: Category,
    pub model: Option<String>,
    pub usage: Option<Usage>,
    /// `None`: no usage, or the model's price is unknown.
    pub cost_usd: Option<f64>,
    pub status: Option<u16>,
    pub failed: bool,
    pub starts_turn: bool,
}

impl CallLine {
    /// A finished call, priced with `prices`.
    pub fn of(call: &Call, prices: &PriceTable) -> CallLine {
        CallLine {
            id: call.id,
            t_start: call.t_start,
            t_end: call.t_end.unwrap_or(call.t_start),
            category: call.category,
            model: call.model.clone(),
            usage: call.usage,
            cost_usd: call
                .usage
                .as_ref()
                .and_then(|usage| prices.cost(call.model.as_deref(), usage)),
            status: call.status,
            failed: call.error.is_some() || call.status.is_none_or(|s| s >= 400),
            starts_turn: call.starts_turn,
        }
    }

    pub fn latency_s(&self) -> f64 {
        (self.t_end - self.t_start).max(0.0)
    }
}

/// One category's row.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryRow {
    pub category: Category,
    pub sums: Sums,
    /// Dollars per hour over the burn-rate window (`None`: nothing priced in it, unpriced
    /// calls in it).
    pub usd_per_hour: Option<f64>,
    pub tokens_per_minute: f64,
    /// Server KV bytes its cached prefixes hold now (live approximation, see
    /// `attribute::kv::live`).
    pub kv_bytes: u64,
}

/// The turn in progress: calls that started since the latest user prompt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnView {
    /// 1 for the first prompt; 0 before any.
    pub number: u64,
    pub started_t: f64,
    pub user: Sums,
    pub overhead: Sums,
}

/// What the screen shows at one instant.
#[derive(Debug, Clone)]
pub struct LiveView {
    /// Seconds since the trace started.
    pub now_t: f64,
    /// When the latest record (call end, sample, footer) was taken.
    pub latest_t: f64,
    pub ended: Option<TraceFooter>,
    /// The burn-rate window actually used (shorter than asked for early in a session).
    pub window_s: f64,
    /// Every category, in report order, with calls or not.
    pub categories: Vec<CategoryRow>,
    pub total: Sums,
    pub overhead: Sums,
    pub usd_per_hour: Option<f64>,
    pub tokens_per_minute: f64,
    pub turn: TurnView,
    /// Most recent first.
    pub last_calls: Vec<CallLine>,
    pub memory: MemoryView,
    pub findings: Vec<Finding>,
    pub unpriced_models: Vec<String>,
    pub other_requests: u64,
}

/// The running totals.
pub struct LiveTally {
    prices: PriceTable,
    window_s: f64,
    header: Option<TraceHeader>,
    footer: Option<TraceFooter>,
    categories: [Sums; 8],
    /// Calls that ended within the window, oldest first.
    recent: VecDeque<CallLine>,
    last_calls: VecDeque<CallLine>,
    turn: TurnView,
    memory: MemoryTally,
    kv: ResidentKv,
    /// Trace offset 0 for the KV residency's clock (trace seconds are mapped onto it).
    kv_origin: Instant,
    findings: LiveJudge,
    unpriced_models: BTreeSet<String>,
    other_requests: u64,
    latest_t: f64,
}

impl LiveTally {
    /// Pricing with `prices`, burn rates over the last `window`, findings judged with
    /// `thresholds`, server KV under `bytes_per_token`.
    pub fn new(
        prices: PriceTable,
        window: Duration,
        thresholds: Thresholds,
        bytes_per_token: u64,
    ) -> LiveTally {
        LiveTally {
            findings: LiveJudge::new(thresholds, prices.clone())
                .paced(FINDINGS_EVERY, FINDINGS_DUTY)
                .keeping_calls(FINDINGS_CALLS),
            prices,
            window_s: window.as_secs_f64().max(1.0),
            header: None,
            footer: None,
            categories: [Sums::default(); 8],
            recent: VecDeque::new(),
            last_calls: VecDeque::with_capacity(LAST_CALLS),
            turn: TurnView::default(),
            memory: MemoryTally::default(),
            kv: ResidentKv::new(bytes_per_token),
            kv_origin: Instant::now(),
            unpriced_models: BTreeSet::new(),
            other_requests: 0,
            latest_t: 0.0,
        }
    }

    /// The trace's header (a follower reads it before any record).
    pub fn on_header(&mut self, header: &TraceHeader) {
        if let Ok(origin) = header.started_at.parse::<jiff::Timestamp>() {
            self.findings.on_start(origin);
        }
        self.header = Some(header.clone());
    }

    pub fn header(&self) -> Option<&TraceHeader> {
        self.header.as_ref()
    }

    pub fn apply(&mut self, record: TraceRecord) {
        match record {
            TraceRecord::Header(header) if self.header.is_none() => self.on_header(&header),
            TraceRecord::Call(call) => self.on_call(&call),
            TraceRecord::Memory(sample) => {
                self.latest_t = self.latest_t.max(sample.t);
                self.findings.on_memory(&sample);
                self.memory.push(&sample);
            }
            TraceRecord::Footer(footer) => {
                self.latest_t = self.latest_t.max(footer.t);
                self.footer = Some(footer);
            }
            TraceRecord::Header(_) | TraceRecord::Process(_) | TraceRecord::Telemetry(_) => {}
        }
    }

    fn on_call(&mut self, call: &Call) {
        if call.classified_by == NOT_A_MODEL_CALL {
            self.other_requests += 1;
            return;
        }
        self.findings.on_call(call);
        let t_end = call.t_end.unwrap_or(call.t_start);
        self.latest_t = self.latest_t.max(t_end);
        if let Some(end) = call.t_end {
            self.kv
                .on_call(call, self.kv_origin + Duration::from_secs_f64(end.max(0.0)));
        }
        let line = CallLine::of(call, &self.prices);
        if call.usage.is_some() && line.cost_usd.is_none() {
            self.unpriced_models
                .insert(call.model.clone().unwrap_or_else(|| "(no model)".into()));
        }
        self.categories[category_index(call.category)].add(&line);
        self.add_to_turn(&line);
        // The window's calls only need figures: no model string for each.
        self.recent.push_back(CallLine {
            model: None,
            ..line.clone()
        });
        if self.last_calls.len() == LAST_CALLS {
            self.last_calls.pop_front();
        }
        self.last_calls.push_back(line);
    }

    /// A call belongs to the turn it started in, and calls before the first prompt to the
    /// first turn (as the report charges them: a title call sent just before the prompt it
    /// names). Calls arrive as they finish, so a prompt's call can arrive after calls that
    /// started after it (a title, a quick utility call): a new turn takes those back from the
    /// calls kept.
    fn add_to_turn(&mut self, line: &CallLine) {
        if line.starts_turn && line.t_start >= self.turn.started_t {
            let first = self.turn.number == 0;
            self.turn = TurnView {
                number: self.turn.number + 1,
                started_t: line.t_start,
                ..TurnView::default()
            };
            let earlier: Vec<CallLine> = self
                .last_calls
                .iter()
                .filter(|c| first || c.t_start >= line.t_start)
                .cloned()
                .collect();
            for call in &earlier {
                self.turn_sums(call.category).add(call);
            }
        }
        if self.turn.number > 0 && line.t_start >= self.turn.started_t {
            self.turn_sums(line.category).add(line);
        }
    }

    fn turn_sums(&mut self, category: Category) -> &mut Sums {
        if category.is_overhead() {
            &mut self.turn.overhead
        } else {
            &mut self.turn.user
        }
    }

    /// Seconds since the trace started at wall-clock `now` (the trace's end once it has one).
    pub fn trace_time_at(&self, now: jiff::Timestamp) -> f64 {
        if let Some(footer) = &self.footer {
            return footer.t.max(self.latest_t);
        }
        let since_start = self
            .header
            .as_ref()
            .and_then(|h| h.started_at.parse::<jiff::Timestamp>().ok())
            .map(|started| (now.as_millisecond() - started.as_millisecond()) as f64 / 1000.0);
        since_start.unwrap_or(0.0).max(self.latest_t)
    }

    /// The view at trace time `now_t` (evaluating the findings if they are due).
    pub fn view(&mut self, now_t: f64) -> LiveView {
        while self
            .recent
            .front()
            .is_some_and(|c| c.t_end < now_t - self.window_s)
        {
            self.recent.pop_front();
        }
        let window_s = self.window_s.min(now_t).max(1.0);
        let mut in_window = [Sums::default(); 8];
        for call in &self.recent {
            in_window[category_index(call.category)].add(call);
        }
        let kv = self
            .kv
            .by_category(self.kv_origin + Duration::from_secs_f64(now_t.max(0.0)));
        let categories: Vec<CategoryRow> = Category::ALL
            .iter()
            .enumerate()
            .map(|(i, &category)| CategoryRow {
                category,
                sums: self.categories[i],
                usd_per_hour: rate_per_hour(&in_window[i], window_s),
                tokens_per_minute: in_window[i].usage.total_tokens() as f64 * 60.0 / window_s,
                kv_bytes: kv[i].1,
            })
            .collect();
        let mut total = Sums::default();
        let mut overhead = Sums::default();
        let mut window_total = Sums::default();
        for (i, sums) in self.categories.iter().enumerate() {
            merge(&mut total, sums);
            if Category::ALL[i].is_overhead() {
                merge(&mut overhead, sums);
            }
            merge(&mut window_total, &in_window[i]);
        }
        // A new judgement replaces the kept one; `findings()` is the latest either way.
        let _ = self.findings.refresh(Instant::now());
        let findings = self.findings.findings();
        LiveView {
            now_t,
            latest_t: self.latest_t,
            ended: self.footer.clone(),
            window_s,
            categories,
            total,
            overhead,
            usd_per_hour: rate_per_hour(&window_total, window_s),
            tokens_per_minute: window_total.usage.total_tokens() as f64 * 60.0 / window_s,
            turn: self.turn.clone(),
            last_calls: self.last_calls.iter().rev().cloned().collect(),
            memory: self.memory.view(now_t, self.window_s),
            findings: most_severe_first(&findings).into_iter().cloned().collect(),
            unpriced_models: self.unpriced_models.iter().cloned().collect(),
            other_requests: self.other_requests,
        }
    }
}

fn category_index(category: Category) -> usize {
    Category::ALL
        .iter()
        .position(|&c| c == category)
        .unwrap_or(Category::ALL.len() - 1)
}

fn merge(into: &mut Sums, from: &Sums) {
    into.calls += from.calls;
    into.errors += from.errors;
    into.usage.add(&from.usage);
    into.cost_usd += from.cost_usd;
    into.priced_calls += from.priced_calls;
    into.unpriced_calls += from.unpriced_calls;
}

fn rate_per_hour(sums: &Sums, window_s: f64) -> Option<f64> {
    sums.known_cost().map(|cost| cost * 3600.0 / window_s)
}
