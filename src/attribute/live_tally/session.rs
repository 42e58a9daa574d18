//! Cost by agent session, split into the user's work and overhead: what `statusline` shows of
//! a live trace. Small and serializable, so a status command run on every refresh can keep it
//! between runs and only read what the trace gained since.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{CallLine, Sums};
use crate::attribute::cost::PriceTable;
use crate::observation::NOT_A_MODEL_CALL;
use crate::output::trace::TraceRecord;

/// One session's (or the whole trace's) calls: all of them, and those that were overhead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CostSplit {
    pub total: Sums,
    pub overhead: Sums,
}

impl CostSplit {
    fn add(&mut self, line: &CallLine) {
        self.total.add(line);
        if line.category.is_overhead() {
            self.overhead.add(line);
        }
    }

    /// Overhead's share of the known cost (`None` before any cost).
    pub fn overhead_share(&self) -> Option<f64> {
        (self.total.cost_usd > 0.0).then(|| self.overhead.cost_usd / self.total.cost_usd)
    }
}

/// A trace's calls by session, and its memory now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceTotals {
    pub all: CostSplit,
    /// By the agent's session id (calls without one are only in `all`).
    pub by_session: BTreeMap<String, CostSplit>,
    /// The latest memory sample's tree RSS, and when (trace seconds).
    pub rss: Option<(f64, u64)>,
    /// The trace has its footer: the session is over.
    pub ended: bool,
}

impl TraceTotals {
    pub fn apply(&mut self, record: &TraceRecord, prices: &PriceTable) {
        match record {
            TraceRecord::Call(call) if call.classified_by != NOT_A_MODEL_CALL => {
                let line = CallLine::of(call, prices);
                self.all.add(&line);
                if let Some(session) = &call.session_id {
                    self.by_session
                        .entry(session.clone())
                        .or_default()
                        .add(&line);
                }
            }
            TraceRecord::Memory(sample) => self.rss = Some((sample.t, sample.rss_bytes)),
            TraceRecord::Footer(_) => self.ended = true,
            _ => {}
        }
    }
}
