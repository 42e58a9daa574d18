//! Memory each turn keeps: the process tree's RSS from a turn's start to the next turn's start
//! (what the turn allocated and did not give back before the user's next prompt).
//!
//! An agent holds its conversation in memory, so a turn keeping some is expected: a long
//! 1M-token context is a few MB of text. Tens of MB kept by turn after turn is the other kind —
//! a session that will not fit in RAM by its hundredth turn. A verdict needs all of:
//! enough turns with samples, most of them growing, and a median growth per turn above a
//! limit (a median: one turn that loaded a big file is not a trend).

use super::{Context, Finding, severity};
use crate::attribute::attribution::AttributedTrace;
use crate::attribute::memory_growth;

/// When growth per turn is a finding. Defaults: [`TurnGrowthThresholds::default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TurnGrowthThresholds {
    /// Turns with samples needed before judging.
    pub min_turns: usize,
    /// The median turn kept at least this many bytes…
    pub min_bytes_per_turn: f64,
    /// …and at least this share of the turns grew.
    pub min_growing_share: f64,
}

impl Default for TurnGrowthThresholds {
    fn default() -> Self {
        TurnGrowthThresholds {
            min_turns: 5,
            min_bytes_per_turn: 50.0 * MIB,
            min_growing_share: 0.8,
        }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// Critical from this median growth per turn: ten turns keep 2.5 GiB.
const CRITICAL_BYTES_PER_TURN: f64 = 256.0 * MIB;

/// The finding on one trace's turns, if their growth passes `limits`.
pub fn find(
    attributed: &AttributedTrace<'_>,
    context: &Context,
    limits: &TurnGrowthThresholds,
) -> Option<Finding> {
    let samples = &attributed.trace.samples;
    let growths: Vec<(usize, f64, f64)> = attributed
        .turn_spans()
        .into_iter()
        .enumerate()
        .filter_map(|(k, (start, end))| {
            memory_growth::growth(samples, start, end).map(|g| (k, start, g as f64))
        })
        .collect();
    let (first_turn, since_t) = growths.first().map(|&(k, t, _)| (k, t))?;
    let verdict = judge(&growths.iter().map(|g| g.2).collect::<Vec<_>>(), limits)?;
    let mut place = context.place("tree");
    place.turn = Some(context.turn_number(first_turn));
    Some(Finding {
        kind: "turn_growth".into(),
        severity: severity(verdict.median >= CRITICAL_BYTES_PER_TURN),
        place,
        rate: verdict.median,
        rate_unit: "bytes_per_turn".into(),
        rate_percent_per_hour: None,
        cost_usd: None,
        since: context.at(since_t),
        confidence: verdict.growing_share,
        detail: format!(
            "the agent's process tree kept {:.0} MiB per turn (median of {} turns; {} of them grew, {:.0} MiB in all) and did not give it back before the next prompt",
            verdict.median / MIB,
            verdict.turns,
            verdict.growing,
            verdict.total / MIB
        ),
    })
}

/// What the turns' growths say.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Verdict {
    median: f64,
    turns: usize,
    growing: usize,
    growing_share: f64,
    total: f64,
}

/// Judges the growths (bytes) of consecutive turns.
fn judge(growths: &[f64], limits: &TurnGrowthThresholds) -> Option<Verdict> {
    if growths.len() < limits.min_turns.max(1) {
        return None;
    }
    let mut sorted = growths.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let growing = growths.iter().filter(|g| **g > 0.0).count();
    let growing_share = growing as f64 / growths.len() as f64;
    (median >= limits.min_bytes_per_turn && growing_share >= limits.min_growing_share).then(|| {
        Verdict {
            median,
            turns: growths.len(),
            growing,
            growing_share,
            total: growths.iter().sum(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_that_each_keep_a_lot_are_a_finding_and_one_big_turn_is_not() {
        let limits = TurnGrowthThresholds::default();
        let kept = [60.0, 70.0, 55.0, 80.0, 65.0, 58.0].map(|m| m * MIB);
        let verdict = judge(&kept, &limits).unwrap();
        assert_eq!(verdict.median, 65.0 * MIB);
        assert_eq!((verdict.turns, verdict.growing), (6, 6));
        // One turn loaded 2 GB; the others kept a few MB.
        let one_big = [2.0, 2048.0, 3.0, 1.0, 4.0, 2.0].map(|m| m * MIB);
        assert_eq!(judge(&one_big, &limits), None);
    }

    #[test]
    fn growth_given_back_or_too_few_turns_is_no_finding() {
        let limits = TurnGrowthThresholds::default();
        // Grows a lot on some turns, frees it on others: the median may pass, the share not.
        let sawtooth = [300.0, -280.0, 310.0, -300.0, 290.0, 305.0].map(|m| m * MIB);
        assert_eq!(judge(&sawtooth, &limits), None);
        let few = [500.0, 500.0, 500.0, 500.0].map(|m| m * MIB);
        assert_eq!(judge(&few, &limits), None);
        assert!(
            judge(
                &few,
                &TurnGrowthThresholds {
                    min_turns: 4,
                    ..limits
                }
            )
            .is_some()
        );
    }
}
