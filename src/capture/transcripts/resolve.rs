//! From entries per range to one entry per billed response.
//!
//! Per file, first ([`combine`]): the outputs of a file's ranges become the output one read of
//! the whole file would have given — a response whose lines straddle two ranges is one entry,
//! its further lines counted as repeated, its usage the largest. A split file, a transcript
//! read from where the cache stopped, and one read whole give the same figures.
//!
//! Then ([`join`]): each response is joined to its api-request record
//! (`requestRef` → `id`) for the category and the send time, and the first main-loop response
//! after each prompt is marked as starting a turn.
//!
//! Across files ([`dedupe`]): a message id is one billed response, counted once. Its copies —
//! the same response in another file under the same request id, or replayed under another
//! (side questions and sub-agents replay their parent's messages) — are collapsed: the
//! earliest copy, preferring the least nested file, says where and when the call happened, and
//! the largest usage among the copies is what it cost. A sort of fixed-size entries does this
//! in place: no map from ids to anything is ever built.

use std::collections::HashMap;
use std::sync::Mutex;

use super::discover::TranscriptFile;
use super::entry::{Entry, Interner, NO_MESSAGE_ID, SIDECHAIN, STARTS_TURN, UNMATCHED_REF};
use super::problems::Problems;
use super::scan::{ScanStats, UnitOutput};
use crate::attribute::telemetry_join::category_of_query_source;
use crate::observation::Category;

/// One file's entries, joined and marked.
pub struct FileResult {
    pub entries: Vec<Entry>,
    pub problems: Problems,
    pub stats: ScanStats,
}

/// The output one range over the whole file would have given, from its ranges in any order.
pub fn combine(mut units: Vec<UnitOutput>) -> UnitOutput {
    units.sort_by_key(|u| u.start);
    let mut units = units.into_iter();
    let Some(mut whole) = units.next() else {
        return UnitOutput::default();
    };
    let mut index: Option<HashMap<(u64, u64), usize>> = None;
    for unit in units {
        whole.problems.merge(unit.problems, whole.stats.lines);
        whole.stats.add(&unit.stats);
        whole.api_requests.extend(unit.api_requests);
        whole.prompts.extend(unit.prompts);
        if unit.complete_end > whole.complete_end {
            whole.complete_end = unit.complete_end;
            whole.end_hash = unit.end_hash;
        }
        if unit.entries.is_empty() {
            continue;
        }
        let index = index.get_or_insert_with(|| {
            whole
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.flags & NO_MESSAGE_ID == 0)
                .map(|(i, e)| ((e.message, e.request), i))
                .collect()
        });
        let mut records = unit.records;
        records.sort_by_key(|r| r.0);
        for (i, entry) in unit.entries.into_iter().enumerate() {
            let key = (entry.message, entry.request);
            let kept = match index.get(&key) {
                Some(&kept) if entry.flags & NO_MESSAGE_ID == 0 => kept,
                _ => {
                    if entry.flags & NO_MESSAGE_ID == 0 {
                        index.insert(key, whole.entries.len());
                    }
                    whole.entries.push(entry);
                    continue;
                }
            };
            let i = i as u32;
            let from = records.partition_point(|r| r.0 < i);
            let to = records.partition_point(|r| r.0 <= i);
            let own = &records[from..to];
            continue_response(&mut whole.entries[kept], &entry, own, &mut whole.stats);
        }
    }
    // Only a file's first examples can be among the report's first.
    whole.problems.settle();
    whole.records.clear();
    whole
}

/// Merges the lines of a response read in a later range (`later`, whose running maxima are
/// `records`) into the same response read before (`kept`), as one read would have: each of
/// its lines is a repeated line, and a line is a placeholder replaced only where its usage
/// exceeds every earlier line's.
fn continue_response(
    kept: &mut Entry,
    later: &Entry,
    records: &[(u32, u64)],
    stats: &mut ScanStats,
) {
    let before = kept.usage.total();
    stats.merged_lines += 1;
    // The range counted each raise after its first line; one read counts those above `before`.
    let raised = records.iter().filter(|r| r.1 > before).count() as u64;
    let counted = (records.len() as u64).saturating_sub(1);
    stats.placeholders = (stats.placeholders + raised).saturating_sub(counted);
    kept.t_end = kept.t_end.max(later.t_end);
    if later.usage.total() > before {
        kept.usage = later.usage;
    }
    if kept.reference == 0 {
        kept.reference = later.reference;
    }
}

/// Joins a file's responses to its api-request records and marks where turns start.
pub fn join(whole: UnitOutput, interner: &Mutex<Interner>) -> FileResult {
    let UnitOutput {
        mut entries,
        mut api_requests,
        prompts,
        problems,
        stats,
        ..
    } = whole;
    let api = &mut api_requests;
    api.sort_unstable_by_key(|a| a.id);
    let api = &*api;
    let mut categories: HashMap<u32, Category> = HashMap::new();
    for entry in &mut entries {
        if entry.reference != 0 {
            match api.binary_search_by_key(&entry.reference, |a| a.id) {
                Ok(i) => {
                    entry.source = api[i].source;
                    // The request was sent before its answer was written; a clock that says
                    // otherwise is not believed.
                    if let Some(t) = api[i].t.filter(|&t| t <= entry.t_end) {
                        entry.t_start = t;
                    }
                }
                Err(_) => entry.flags |= UNMATCHED_REF,
            }
        }
        entry.category = match entry.source {
            0 if entry.flags & SIDECHAIN != 0 => Category::Subagent,
            0 => Category::UserTurn,
            source => *categories.entry(source).or_insert_with(|| {
                let interner = match interner.lock() {
                    Ok(interner) => interner,
                    Err(poisoned) => poisoned.into_inner(),
                };
                // A query source this version does not know is reported as such, not guessed.
                category_of_query_source(interner.get(source)).unwrap_or(Category::Unknown)
            }),
        };
    }
    mark_turn_starts(&mut entries, &prompts);
    FileResult {
        entries,
        problems,
        stats,
    }
}

/// The first main-loop response after a prompt starts a turn. Both lists are in file order.
fn mark_turn_starts(entries: &mut [Entry], prompts: &[u64]) {
    let mut next_prompt = 0;
    let mut pending = false;
    for entry in entries.iter_mut() {
        while prompts.get(next_prompt).is_some_and(|&p| p < entry.offset) {
            pending = true;
            next_prompt += 1;
        }
        if pending && entry.category == Category::UserTurn {
            entry.flags |= STARTS_TURN;
            pending = false;
        }
    }
}

/// What deduplication across files found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DedupeStats {
    /// Copies of a response under the same request id in another file.
    pub copies: u64,
    /// Copies under another request id: replays of a parent's messages.
    pub replays: u64,
}

/// Collapses every message id to one entry, in place.
pub fn dedupe(entries: &mut Vec<Entry>, files: &[TranscriptFile]) -> DedupeStats {
    let nesting = |e: &Entry| files.get(e.file as usize).map_or(u8::MAX, |f| f.nesting);
    // Sorted by small keys, each entry then moved once: cheaper than sorting 112-byte entries.
    let mut order: Vec<(u64, i64, u8, u32, u64, u32)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.message, e.t_start, nesting(e), e.file, e.offset, i as u32))
        .collect();
    order.sort_unstable();
    let mut sources: Vec<u32> = order.iter().map(|key| key.5).collect();
    drop(order);
    gather_in_place(entries, &mut sources);
    drop(sources);
    let mut stats = DedupeStats::default();
    let mut kept = 0;
    let mut read = 0;
    while read < entries.len() {
        let mut winner = entries[read];
        let mut next = read + 1;
        while next < entries.len()
            && entries[next].message == winner.message
            && winner.flags & NO_MESSAGE_ID == 0
        {
            let copy = &entries[next];
            if copy.request == winner.request {
                stats.copies += 1;
            } else {
                stats.replays += 1;
            }
            if copy.usage.total() > winner.usage.total() {
                winner.usage = copy.usage;
            }
            next += 1;
        }
        entries[kept] = winner;
        kept += 1;
        read = next;
    }
    entries.truncate(kept);
    stats
}

/// Marks a position of [`gather_in_place`]'s `sources` as filled.
const GATHERED: u32 = u32::MAX;

/// Reorders `items` so that position k holds what was at `sources[k]`, in place: each cycle of
/// the permutation is followed once, each item copied once. A sort by small keys then costs no
/// second copy of the items — a long history's entries are megabytes, and an import's peak
/// memory is theirs. `sources` must be a permutation of `0..items.len()`; it is used up.
pub fn gather_in_place<T: Copy>(items: &mut [T], sources: &mut [u32]) {
    debug_assert_eq!(items.len(), sources.len());
    for start in 0..items.len() {
        if sources[start] == GATHERED {
            continue;
        }
        let held = items[start];
        let mut at = start;
        loop {
            let from = sources[at] as usize;
            sources[at] = GATHERED;
            if from == start {
                items[at] = held;
                break;
            }
            items[at] = items[from];
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_in_place_is_indexing_by_the_sources() {
        let items: Vec<u32> = (0..200).map(|i| i * 7 % 200).collect();
        // Permutations with fixed points, one long cycle, many short ones.
        let mut orders: Vec<Vec<u32>> = vec![(0..200).collect(), (0..200).rev().collect()];
        orders.push((0..200).map(|i| (i + 1) % 200).collect());
        orders.push((0..200).map(|i| i ^ 1).collect());
        let mut by_value: Vec<u32> = (0..200).collect();
        by_value.sort_by_key(|&i| items[i as usize]);
        orders.push(by_value);
        for order in orders {
            let expected: Vec<u32> = order.iter().map(|&i| items[i as usize]).collect();
            let mut gathered = items.clone();
            let mut sources = order.clone();
            gather_in_place(&mut gathered, &mut sources);
            assert_eq!(gathered, expected);
        }
        gather_in_place::<u8>(&mut [], &mut []);
    }
    use crate::capture::transcripts::discover::FileRole;
    use crate::capture::transcripts::entry::CompactUsage;
    use crate::capture::transcripts::scan::ApiRequest;

    fn entry(message: u64, request: u64, file: u32, t: i64, output: u32) -> Entry {
        Entry {
            message,
            request,
            reference: 0,
            t_start: t,
            t_end: t,
            offset: t as u64,
            file,
            usage: CompactUsage {
                output,
                ..CompactUsage::default()
            },
            session: 1,
            agent: 0,
            model: 1,
            agent_type: 0,
            source: 0,
            version: 0,
            project: 0,
            ids: 0,
            category: Category::UserTurn,
            flags: 0,
        }
    }

    fn file(nesting: u8) -> TranscriptFile {
        TranscriptFile {
            path: "x".into(),
            size: 0,
            role: FileRole::Main,
            nesting,
            agent_id: None,
            session: None,
            has_meta: false,
            project: None,
            stamp: Default::default(),
        }
    }

    #[test]
    fn a_message_counts_once_with_its_largest_usage_and_earliest_place() {
        let files = [file(0), file(1)];
        let mut entries = vec![
            entry(7, 70, 1, 100, 5), // replay in a sub-agent file, same time
            entry(7, 71, 0, 100, 9), // the original
            entry(7, 71, 0, 100, 9),
            entry(8, 80, 1, 50, 3),
            entry(9, 0, 0, 10, 1),
        ];
        entries[2].file = 1;
        entries[2].request = 71;
        let stats = dedupe(&mut entries, &files);
        assert_eq!(entries.len(), 3);
        let seven = entries.iter().find(|e| e.message == 7).unwrap();
        assert_eq!((seven.file, seven.request, seven.usage.output), (0, 71, 9));
        assert_eq!(
            stats,
            DedupeStats {
                copies: 1,
                replays: 1
            }
        );
    }

    #[test]
    fn lines_without_message_ids_are_never_merged() {
        let files = [file(0)];
        let mut entries = vec![entry(5, 0, 0, 1, 1), entry(5, 0, 0, 2, 1)];
        for e in &mut entries {
            e.flags |= NO_MESSAGE_ID;
        }
        dedupe(&mut entries, &files);
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn the_first_main_call_after_a_prompt_starts_the_turn() {
        let mut entries = vec![
            entry(1, 1, 0, 10, 1),
            entry(2, 2, 0, 20, 1),
            entry(3, 3, 0, 30, 1),
            entry(4, 4, 0, 40, 1),
        ];
        entries[1].category = Category::Subagent;
        mark_turn_starts(&mut entries, &[5, 15, 35, 36]);
        let starts: Vec<bool> = entries.iter().map(|e| e.flags & STARTS_TURN != 0).collect();
        assert_eq!(starts, [true, false, true, true]);
    }

    #[test]
    fn api_requests_give_category_and_send_time() {
        let interner = Mutex::new(Interner::default());
        let compact = interner.lock().unwrap().intern(b"compact");
        let odd = interner.lock().unwrap().intern(b"brand_new_source");
        let mut a = entry(1, 1, 0, 100, 1);
        a.reference = 11;
        let mut b = entry(2, 2, 0, 200, 1);
        b.reference = 12;
        let mut c = entry(3, 3, 0, 300, 1);
        c.reference = 13;
        c.flags = SIDECHAIN;
        let unit = UnitOutput {
            entries: vec![a, b, c],
            api_requests: vec![
                ApiRequest {
                    id: 11,
                    source: compact,
                    t: Some(90),
                },
                ApiRequest {
                    id: 12,
                    source: odd,
                    t: Some(999),
                },
            ],
            ..UnitOutput::default()
        };
        let result = join(combine(vec![unit]), &interner);
        let e = &result.entries;
        assert_eq!((e[0].category, e[0].t_start), (Category::Compaction, 90));
        assert_eq!((e[1].category, e[1].t_start), (Category::Unknown, 200));
        assert_eq!(e[2].category, Category::Subagent);
        assert_ne!(e[2].flags & UNMATCHED_REF, 0);
    }
}
