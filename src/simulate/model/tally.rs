//! Token sums: integer counters per category, model slot and price tier, turned into dollars
//! once at the end.
//!
//! Keeping integers (never dollars) in the hot loop makes sums exact and independent of the
//! order in which parallel workers merge, so the same seed gives byte-identical output. The
//! long-context tier is decided per call (the price rule is per request), which is why it is
//! part of the key.

use crate::observation::Category;

/// Which of the scenario's models a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSlot {
    Main = 0,
    Small = 1,
    Sub = 2,
}

pub const SLOTS: usize = 3;
pub const CATEGORIES: usize = 8;

/// Counter positions inside one cell.
pub const REQUESTS: usize = 0;
pub const INPUT: usize = 1;
pub const WRITE_5M: usize = 2;
pub const WRITE_1H: usize = 3;
pub const READ: usize = 4;
pub const OUTPUT: usize = 5;
const FIELDS: usize = 6;

/// Per-slot pricing facts the tally needs while counting.
#[derive(Debug, Clone, Copy)]
pub struct SlotRules {
    /// A call whose prompt exceeds this is long-context (u64::MAX: no such tier).
    pub long_context_above: [u64; SLOTS],
    /// OpenAI bills no cache writes: written tokens count as uncached input.
    pub writes_are_input: [bool; SLOTS],
    /// Cache writes are 1-hour writes.
    pub ttl_1h: bool,
}

/// The tokens of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallTokens {
    pub input: u64,
    pub write: u64,
    pub read: u64,
    pub output: u64,
}

const COUNTERS: usize = CATEGORIES * SLOTS * 2 * FIELDS;
const MAIN_SLOT: usize = CATEGORIES * 2 * FIELDS;

/// The main-model counters of a tally (or a difference of two), in tally order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainSlot([u64; MAIN_SLOT]);

impl MainSlot {
    /// `self − earlier`, counter by counter (a later snapshot minus an earlier one).
    pub fn minus(&self, earlier: &MainSlot) -> MainSlot {
        let mut out = self.0;
        for (o, e) in out.iter_mut().zip(&earlier.0) {
            *o = o.saturating_sub(*e);
        }
        MainSlot(out)
    }

    /// No counter below `earlier`'s.
    pub fn rises_from(&self, earlier: &MainSlot) -> bool {
        self.0.iter().zip(&earlier.0).all(|(b, a)| b >= a)
    }
}

/// Counters indexed `[category][slot][long_context][field]`, flat so that whole-tally
/// operations (merging, the snapshots of `periodic`) are simple vectorised loops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    cells: [u64; COUNTERS],
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            cells: [0; COUNTERS],
        }
    }
}

#[inline]
fn cell(category: Category, slot: usize, long: usize) -> usize {
    ((category as usize * SLOTS + slot) * 2 + long) * FIELDS
}

impl Tally {
    /// Counts `n` identical calls.
    #[inline]
    pub fn add(
        &mut self,
        rules: &SlotRules,
        category: Category,
        slot: ModelSlot,
        n: u64,
        t: CallTokens,
    ) {
        let s = slot as usize;
        let prompt = t.input + t.write + t.read;
        let long = usize::from(prompt > rules.long_context_above[s]);
        let (input, write) = if rules.writes_are_input[s] {
            (t.input + t.write, 0)
        } else {
            (t.input, t.write)
        };
        let at = cell(category, s, long);
        let cell = &mut self.cells[at..at + FIELDS];
        cell[REQUESTS] += n;
        cell[INPUT] += n * input;
        cell[if rules.ttl_1h { WRITE_1H } else { WRITE_5M }] += n * write;
        cell[READ] += n * t.read;
        cell[OUTPUT] += n * t.output;
    }

    pub fn merge(&mut self, other: &Tally) {
        for (a, b) in self.cells.iter_mut().zip(&other.cells) {
            *a += b;
        }
    }

    /// The counters of the main-model slot: all a daemon's batched wake-ups can touch.
    pub fn main_slot(&self) -> MainSlot {
        let mut out = [0; MAIN_SLOT];
        for (category, chunk) in out.chunks_exact_mut(2 * FIELDS).enumerate() {
            let at = category * SLOTS * 2 * FIELDS;
            chunk.copy_from_slice(&self.cells[at..at + 2 * FIELDS]);
        }
        MainSlot(out)
    }

    /// Adds the next `m` terms `b + w·(b − a)`, w = 1..=m, of a series of main-slot counters
    /// whose last two terms were `a` and `b` (which must not fall: see `MainSlot::rises_from`).
    pub fn add_main_series(&mut self, a: &MainSlot, b: &MainSlot, m: u64) {
        let steps = m * (m + 1) / 2;
        for (category, (a, b)) in
            a.0.chunks_exact(2 * FIELDS)
                .zip(b.0.chunks_exact(2 * FIELDS))
                .enumerate()
        {
            let at = category * SLOTS * 2 * FIELDS;
            for ((t, a), b) in self.cells[at..at + 2 * FIELDS].iter_mut().zip(a).zip(b) {
                *t += m * b + steps * (b - a);
            }
        }
    }

    /// One counter of one cell.
    pub fn get(&self, category: Category, slot: ModelSlot, long: bool, field: usize) -> u64 {
        self.cells[cell(category, slot as usize, usize::from(long)) + field]
    }

    /// A counter summed over slots and tiers.
    pub fn category_field(&self, category: Category, field: usize) -> u64 {
        let at = cell(category, 0, 0);
        self.cells[at..at + SLOTS * 2 * FIELDS]
            .chunks_exact(FIELDS)
            .map(|c| c[field])
            .sum()
    }

    /// Every token of a category (input, writes, reads, output).
    pub fn category_tokens(&self, category: Category) -> u64 {
        [INPUT, WRITE_5M, WRITE_1H, READ, OUTPUT]
            .iter()
            .map(|&f| self.category_field(category, f))
            .sum()
    }
}

/// Counts of what happened, for the per-developer-day `events` of the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Events {
    pub turns: u64,
    pub wakes: u64,
    pub sessions: u64,
    /// Calls that re-sent a non-empty cacheable prefix and found nothing cached.
    pub cache_misses: u64,
    pub compactions: u64,
    pub extractions: u64,
    pub dreams: u64,
    pub away_summaries: u64,
    pub subagents: u64,
    pub utility_calls: u64,
    pub processes: u64,
}

impl Events {
    pub fn merge(&mut self, o: &Events) {
        self.turns += o.turns;
        self.wakes += o.wakes;
        self.sessions += o.sessions;
        self.cache_misses += o.cache_misses;
        self.compactions += o.compactions;
        self.extractions += o.extractions;
        self.dreams += o.dreams;
        self.away_summaries += o.away_summaries;
        self.subagents += o.subagents;
        self.utility_calls += o.utility_calls;
        self.processes += o.processes;
    }

    /// Field by field `self − earlier`.
    pub fn minus(&self, e: &Events) -> Events {
        Events {
            turns: self.turns - e.turns,
            wakes: self.wakes - e.wakes,
            sessions: self.sessions - e.sessions,
            cache_misses: self.cache_misses - e.cache_misses,
            compactions: self.compactions - e.compactions,
            extractions: self.extractions - e.extractions,
            dreams: self.dreams - e.dreams,
            away_summaries: self.away_summaries - e.away_summaries,
            subagents: self.subagents - e.subagents,
            utility_calls: self.utility_calls - e.utility_calls,
            processes: self.processes - e.processes,
        }
    }

    /// Adds `e` `times` times.
    pub fn add_times(&mut self, e: &Events, times: u64) {
        let mut scaled = *e;
        scaled.turns *= times;
        scaled.wakes *= times;
        scaled.sessions *= times;
        scaled.cache_misses *= times;
        scaled.compactions *= times;
        scaled.extractions *= times;
        scaled.dreams *= times;
        scaled.away_summaries *= times;
        scaled.subagents *= times;
        scaled.utility_calls *= times;
        scaled.processes *= times;
        self.merge(&scaled);
    }

    /// `(name, count)` in output order.
    pub fn named(&self) -> [(&'static str, u64); 11] {
        [
            ("turns", self.turns),
            ("daemon_wakes", self.wakes),
            ("sessions_started", self.sessions),
            ("cache_misses", self.cache_misses),
            ("compactions", self.compactions),
            ("memory_extractions", self.extractions),
            ("dreams", self.dreams),
            ("away_summaries", self.away_summaries),
            ("subagents", self.subagents),
            ("utility_calls", self.utility_calls),
            ("processes_started", self.processes),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: SlotRules = SlotRules {
        long_context_above: [200_000, u64::MAX, u64::MAX],
        writes_are_input: [false, true, false],
        ttl_1h: false,
    };

    #[test]
    fn calls_land_in_their_tier_and_type() {
        let mut t = Tally::default();
        let call = CallTokens {
            input: 10,
            write: 100,
            read: 200_000,
            output: 5,
        };
        t.add(&RULES, Category::UserTurn, ModelSlot::Main, 2, call);
        assert_eq!(
            t.get(Category::UserTurn, ModelSlot::Main, true, READ),
            400_000
        );
        assert_eq!(t.get(Category::UserTurn, ModelSlot::Main, false, READ), 0);
        assert_eq!(
            t.get(Category::UserTurn, ModelSlot::Main, true, REQUESTS),
            2
        );
        assert_eq!(t.category_tokens(Category::UserTurn), 2 * 200_115);
        // An OpenAI-style slot bills writes as input.
        t.add(&RULES, Category::Utility, ModelSlot::Small, 1, call);
        assert_eq!(t.category_field(Category::Utility, INPUT), 110);
        assert_eq!(t.category_field(Category::Utility, WRITE_5M), 0);
        let mut sum = Tally::default();
        sum.merge(&t);
        sum.merge(&t);
        assert_eq!(sum.category_tokens(Category::Utility), 2 * 200_115);
    }
}
