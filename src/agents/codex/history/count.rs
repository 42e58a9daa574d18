//! From a rollout's token counts to calls, the replayed history of a fork left out.
//!
//! Codex 0.171 and later write a `token_usage_record` per response (its id and usage): that
//! ledger is read when a file has one, one call per response id. It is the only place a remote
//! compaction's tokens are written — Codex does not add them to `total_token_usage`, so a count
//! of total changes misses every compaction (a `compacted` line follows its record). Older
//! rollouts have only the token counts: one call per genuine change of the total.
//!
//! Why a plain sum of `last_token_usage` over-counts (openai/codex, see
//! docs/attribution.md "Codex import"):
//! - Codex writes a `token_count` not only after a response but on every rate-limit snapshot,
//!   repeating the current totals: an unchanged total is no call.
//! - When the context window is exceeded it overwrites the total with the window size and
//!   zero components (`last` carries only `total_tokens`); compaction estimates do the same
//!   with `last`: a change without input or output tokens is no call.
//! - A forked or spawned thread's rollout begins with its parent's items copied as they were,
//!   token counts included: those calls belong to the parent and are in its file.

use std::sync::Arc;

use super::line::TokenUsage;
use super::scan::Event;

/// One counted call of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Counted {
    pub line: u64,
    pub t_ms: i64,
    pub usage: TokenUsage,
    pub model: Option<Arc<str>>,
    pub response_id: Option<Box<str>>,
    /// The first call after a prompt.
    pub starts_turn: bool,
    /// A remote compaction (its record is followed by a `compacted` line).
    pub compaction: bool,
}

/// What counting a file found.
#[derive(Debug, Default, PartialEq)]
pub struct Tally {
    pub calls: Vec<Counted>,
    /// Token counts repeating the total before them (rate-limit re-emits).
    pub repeats: u64,
    /// Total changes without a call (context-window rewrite, compaction estimates).
    pub rewrites: u64,
    /// Token counts in the replayed prefix of a fork.
    pub replayed: u64,
    /// The calls came from per-response records (0.164 and later), not from total changes.
    pub from_records: bool,
}

/// The totals of a file's token counts, repeats removed: what a fork of it replays.
pub fn totals(events: &[Event]) -> Vec<TokenUsage> {
    let mut out: Vec<TokenUsage> = Vec::new();
    for event in events {
        if let Event::Count { total, .. } = event
            && out.last() != Some(total)
        {
            out.push(*total);
        }
    }
    out
}

/// How many leading events of a fork replay its parent: the longest prefix whose token
/// counts follow the parent's totals in order (repeats allowed), ending at the last of them.
/// Prompts inside it are the parent's.
pub fn replayed_prefix(events: &[Event], parent_totals: &[TokenUsage]) -> usize {
    let mut next = 0;
    let mut end = 0;
    for (index, event) in events.iter().enumerate() {
        let Event::Count { total, .. } = event else {
            continue;
        };
        if parent_totals.get(next) == Some(total) {
            next += 1;
        } else if next == 0 || parent_totals.get(next - 1) != Some(total) {
            break;
        }
        end = index + 1;
    }
    end
}

/// Counts the calls of `events[skip..]`, totals continuing from those of `events[..skip]`.
pub fn count(events: &[Event], skip: usize) -> Tally {
    let mut tally = Tally::default();
    let mut previous = TokenUsage::default();
    for event in events.iter().take(skip) {
        if let Event::Count { total, .. } = event {
            previous = *total;
            tally.replayed += 1;
        }
    }
    // The per-response ledger, when the file has one, is exact; the totals are then only
    // tallied (repeats, rewrites) for the report's notes.
    let ledger = events
        .iter()
        .skip(skip)
        .any(|e| matches!(e, Event::Response { .. }));
    tally.from_records = ledger;
    let mut ids: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut prompt = false;
    let mut after_response = false;
    for event in events.iter().skip(skip) {
        let follows_response = std::mem::take(&mut after_response);
        match event {
            Event::UserTurn => prompt = true,
            Event::Compacted => {
                if follows_response && let Some(call) = tally.calls.last_mut() {
                    call.compaction = true;
                }
            }
            Event::Response {
                line,
                t_ms,
                usage,
                model,
                response_id,
            } => {
                // A resumed file may write a response again: once is its call.
                if response_id.as_deref().is_some_and(|id| !ids.insert(id)) {
                    tally.repeats += 1;
                    continue;
                }
                after_response = true;
                tally.calls.push(Counted {
                    line: *line,
                    t_ms: *t_ms,
                    usage: *usage,
                    model: model.clone(),
                    response_id: response_id.clone(),
                    starts_turn: std::mem::take(&mut prompt),
                    compaction: false,
                });
            }
            Event::Count {
                line,
                t_ms,
                total,
                last,
                model,
                response_id,
            } => {
                if *total == previous {
                    tally.repeats += 1;
                    continue;
                }
                previous = *total;
                if !last.is_call() {
                    tally.rewrites += 1;
                    continue;
                }
                if ledger {
                    continue;
                }
                tally.calls.push(Counted {
                    line: *line,
                    t_ms: *t_ms,
                    usage: *last,
                    model: model.clone(),
                    response_id: response_id.clone(),
                    starts_turn: std::mem::take(&mut prompt),
                    compaction: false,
                });
            }
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, total: u64) -> TokenUsage {
        TokenUsage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: total,
            ..TokenUsage::default()
        }
    }

    fn at(line: u64, total: TokenUsage, last: TokenUsage) -> Event {
        Event::Count {
            line,
            t_ms: line as i64,
            total,
            last,
            model: None,
            response_id: None,
        }
    }

    #[test]
    fn repeats_and_the_window_rewrite_are_no_calls() {
        let events = vec![
            Event::UserTurn,
            at(1, usage(10, 1, 11), usage(10, 1, 11)),
            at(2, usage(10, 1, 11), usage(10, 1, 11)),
            at(3, usage(30, 3, 33), usage(20, 2, 22)),
            // Context window exceeded: total := window, components 0.
            at(4, usage(0, 0, 1000), usage(0, 0, 967)),
            at(5, usage(0, 0, 1000), usage(0, 0, 967)),
            at(6, usage(5, 1, 1006), usage(5, 1, 6)),
        ];
        let tally = count(&events, 0);
        let lines: Vec<u64> = tally.calls.iter().map(|c| c.line).collect();
        assert_eq!(lines, [1, 3, 6]);
        assert!(tally.calls[0].starts_turn);
        assert!(!tally.calls[1].starts_turn);
        assert_eq!((tally.repeats, tally.rewrites), (2, 1));
    }

    fn response(line: u64, id: &str, usage: TokenUsage) -> Event {
        Event::Response {
            line,
            t_ms: line as i64,
            usage,
            model: None,
            response_id: Some(id.into()),
        }
    }

    #[test]
    fn the_response_ledger_counts_compaction_which_totals_leave_out() {
        // As Codex 0.171 writes a resumed session that compacts before its turn: the
        // compaction's record, `compacted`, an estimate token count, the turn's record and
        // count. The total never includes the compaction.
        let events = vec![
            response(1, "resp_compact", usage(18445, 549, 18994)),
            Event::Compacted,
            at(2, usage(18182, 182, 18364), usage(0, 0, 17640)),
            Event::UserTurn,
            response(3, "resp_turn", usage(18797, 41, 18838)),
            at(4, usage(36979, 223, 37202), usage(18797, 41, 18838)),
            // Written again (a resume): not a second call.
            response(5, "resp_turn", usage(18797, 41, 18838)),
        ];
        let tally = count(&events, 0);
        let calls: Vec<_> = tally
            .calls
            .iter()
            .map(|c| (c.response_id.as_deref(), c.compaction, c.starts_turn))
            .collect();
        assert_eq!(
            calls,
            [
                (Some("resp_compact"), true, false),
                (Some("resp_turn"), false, true)
            ]
        );
        assert_eq!(tally.calls[0].usage, usage(18445, 549, 18994));
        assert_eq!((tally.repeats, tally.rewrites), (1, 1));
    }

    #[test]
    fn a_fork_drops_the_parent_s_counts_it_replays() {
        let parent = vec![
            at(1, usage(10, 1, 11), usage(10, 1, 11)),
            at(2, usage(10, 1, 11), usage(10, 1, 11)),
            at(3, usage(30, 3, 33), usage(20, 2, 22)),
            at(4, usage(60, 4, 64), usage(30, 1, 31)),
        ];
        // Forked after the parent's second call.
        let child = vec![
            Event::UserTurn,
            at(1, usage(10, 1, 11), usage(10, 1, 11)),
            at(2, usage(10, 1, 11), usage(10, 1, 11)),
            at(3, usage(30, 3, 33), usage(20, 2, 22)),
            Event::UserTurn,
            at(4, usage(70, 5, 75), usage(40, 2, 42)),
        ];
        let skip = replayed_prefix(&child, &totals(&parent));
        assert_eq!(skip, 4);
        let tally = count(&child, skip);
        assert_eq!(tally.calls.len(), 1);
        assert_eq!(tally.calls[0].usage, usage(40, 2, 42));
        assert!(tally.calls[0].starts_turn);
        assert_eq!(tally.replayed, 3);
    }
}
