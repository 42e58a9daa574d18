//! From a rollout's token counts to calls: one call per genuine change of
//! `total_token_usage`, the replayed history of a fork left out.
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
    let mut prompt = false;
    for event in events.iter().skip(skip) {
        match event {
            Event::UserTurn => prompt = true,
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
                tally.calls.push(Counted {
                    line: *line,
                    t_ms: *t_ms,
                    usage: *last,
                    model: model.clone(),
                    response_id: response_id.clone(),
                    starts_turn: std::mem::take(&mut prompt),
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
