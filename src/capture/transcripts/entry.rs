//! The compact form of one billed response while an import runs, and the string table its
//! small integer ids point into.
//!
//! A history of hundreds of megabytes holds tens of thousands of calls; keeping each as a
//! [`Call`](crate::observation::Call) (a dozen heap strings) would cost more memory than the
//! whole rest of the import. An [`Entry`] is fixed-size and `Copy`: ids are 64-bit hashes (a
//! collision among a million ids has odds of about 1 in 10^7) and strings are interned once.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};
use std::sync::Mutex;

use crate::observation::{Category, Usage};

/// The entry's call is a sub-agent's (`isSidechain`).
pub const SIDECHAIN: u8 = 1;
/// The entry's call is the first main-loop call after a prompt: it starts a turn.
pub const STARTS_TURN: u8 = 2;
/// The entry named an api-request record (`requestRef`) that its file does not hold.
pub const UNMATCHED_REF: u8 = 4;
/// The line had no message id: it is counted on its own, deduplication impossible.
pub const NO_MESSAGE_ID: u8 = 8;

/// One response (a message id) as seen in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Hash of `message.id`: what a billed response is, and the deduplication key.
    pub message: u64,
    /// Hash of `requestId` (0: none): a replay repeats the message under another request id.
    pub request: u64,
    /// Hash of `requestRef` (0: none), the api-request record this response answers.
    pub reference: u64,
    /// Milliseconds since the epoch: request sent (api-request) or first line written.
    pub t_start: i64,
    /// Milliseconds since the epoch: last line of the response written.
    pub t_end: i64,
    /// Byte offset of the response's first line.
    pub offset: u64,
    pub file: u32,
    pub usage: CompactUsage,
    pub session: u32,
    pub agent: u32,
    pub model: u32,
    /// The sub-agent's type (meta.json `agentType`, else `attributionAgent`); 0: unknown.
    pub agent_type: u32,
    /// The api-request's `querySource`; 0: none.
    pub source: u32,
    pub version: u32,
    /// The `projects/<dir>` the response's file is under; 0: none.
    pub project: u32,
    /// Index into the kept id strings (only when a trace is written), else 0.
    pub ids: u32,
    pub category: Category,
    pub flags: u8,
}

/// Token counts of one call; 32 bits each is four billion tokens per call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactUsage {
    pub input: u32,
    pub output: u32,
    pub cache_read: u32,
    pub creation_5m: u32,
    pub creation_1h: u32,
}

impl CompactUsage {
    /// `None` when a count does not fit (reported as a damaged line, never truncated).
    pub fn from_usage(usage: &Usage) -> Option<CompactUsage> {
        let fit = |v: u64| u32::try_from(v).ok();
        Some(CompactUsage {
            input: fit(usage.input_tokens)?,
            output: fit(usage.output_tokens)?,
            cache_read: fit(usage.cache_read_input_tokens)?,
            creation_5m: fit(usage.cache_creation_5m_input_tokens)?,
            creation_1h: fit(usage.cache_creation_1h_input_tokens)?,
        })
    }

    pub fn usage(&self) -> Usage {
        let (m5, h1) = (u64::from(self.creation_5m), u64::from(self.creation_1h));
        Usage {
            input_tokens: u64::from(self.input),
            output_tokens: u64::from(self.output),
            cache_creation_input_tokens: m5 + h1,
            cache_read_input_tokens: u64::from(self.cache_read),
            cache_creation_5m_input_tokens: m5,
            cache_creation_1h_input_tokens: h1,
            reasoning_output_tokens: 0,
            tool_use_input_tokens: 0,
        }
    }

    /// Every token: what "the larger usage" of two lines of one response compares.
    pub fn total(&self) -> u64 {
        self.usage().total_tokens()
    }
}

/// Message and request id strings kept for a trace, indexed by `Entry::ids - 1`.
pub type IdStore = Mutex<Vec<(Box<str>, Box<str>)>>;

/// A 64-bit hash of an id (SipHash with fixed keys: stable within a run, well mixed).
pub fn id_hash(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(bytes);
    // 0 means "none" in an entry; an id hashing to 0 is moved aside.
    hasher.finish().max(1)
}

/// The message key of a line without a message id: its place, so it is never merged.
pub fn unnamed_message(file: u32, offset: u64) -> u64 {
    id_hash(&[&file.to_le_bytes()[..], &offset.to_le_bytes()].concat())
}

/// Strings by small id; id 0 is "none".
#[derive(Debug)]
pub struct Interner {
    ids: HashMap<Box<[u8]>, u32>,
    strings: Vec<Box<str>>,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            ids: HashMap::new(),
            strings: vec!["".into()],
        }
    }
}

impl Interner {
    pub fn intern(&mut self, bytes: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(bytes) {
            return id;
        }
        let id = u32::try_from(self.strings.len()).unwrap_or(u32::MAX);
        self.strings
            .push(String::from_utf8_lossy(bytes).into_owned().into_boxed_str());
        self.ids.insert(bytes.into(), id);
        id
    }

    /// The string of an id (`""` for 0 or an unknown id).
    pub fn get(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    /// `None` for id 0.
    pub fn opt(&self, id: u32) -> Option<&str> {
        (id != 0).then(|| self.get(id))
    }

    /// Ids in use: every id is below this.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Only "none" so far.
    pub fn is_empty(&self) -> bool {
        self.strings.len() <= 1
    }

    /// For each id, its rank in string order; id 0 ("none") ranks first, as `None` sorts
    /// before every string.
    pub fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (1..self.strings.len() as u32).collect();
        order.sort_by(|&a, &b| self.get(a).cmp(self.get(b)));
        let mut rank = vec![0u32; self.strings.len()];
        for (position, id) in order.into_iter().enumerate() {
            rank[id as usize] = position as u32 + 1;
        }
        rank
    }
}

/// The interner shared by the workers, with a per-worker memo so the lock is taken once per
/// distinct string per file range, not once per line.
pub struct SharedInterner<'a> {
    shared: &'a Mutex<Interner>,
    memo: HashMap<Vec<u8>, u32>,
}

impl<'a> SharedInterner<'a> {
    pub fn new(shared: &'a Mutex<Interner>) -> Self {
        SharedInterner {
            shared,
            memo: HashMap::new(),
        }
    }

    pub fn intern(&mut self, bytes: &[u8]) -> u32 {
        if let Some(&id) = self.memo.get(bytes) {
            return id;
        }
        let id = match self.shared.lock() {
            Ok(mut interner) => interner.intern(bytes),
            Err(poisoned) => poisoned.into_inner().intern(bytes),
        };
        // The memo only needs the strings of the current range; a worker meeting thousands
        // of agent ids over a whole history starts over instead of growing without bound.
        if self.memo.len() > 4096 {
            self.memo.clear();
        }
        self.memo.insert(bytes.to_vec(), id);
        id
    }

    pub fn opt(&mut self, bytes: Option<&[u8]>) -> u32 {
        bytes.map_or(0, |b| self.intern(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_zero_is_none() {
        let shared = Mutex::new(Interner::default());
        let mut a = SharedInterner::new(&shared);
        let mut b = SharedInterner::new(&shared);
        let x = a.intern(b"claude-sonnet-4-6");
        assert_eq!(b.intern(b"claude-sonnet-4-6"), x);
        assert_ne!(a.intern(b"other"), x);
        assert_eq!(a.opt(None), 0);
        let interner = shared.lock().unwrap();
        assert_eq!(interner.get(x), "claude-sonnet-4-6");
        assert_eq!(interner.opt(0), None);
        let rank = interner.ranks();
        assert_eq!(
            (rank[0], rank[x as usize]),
            (0, 1),
            "none, then claude…, then other"
        );
        assert!(rank[x as usize] < rank[interner.ids[&b"other"[..]] as usize]);
    }

    #[test]
    fn usage_round_trips_and_refuses_what_does_not_fit() {
        let usage = Usage {
            input_tokens: 5,
            output_tokens: 7,
            cache_creation_input_tokens: 30,
            cache_read_input_tokens: 11,
            cache_creation_5m_input_tokens: 10,
            cache_creation_1h_input_tokens: 20,
            reasoning_output_tokens: 0,
            tool_use_input_tokens: 0,
        };
        let compact = CompactUsage::from_usage(&usage).unwrap();
        assert_eq!(compact.usage(), usage);
        assert_eq!(compact.total(), 53);
        let huge = Usage {
            input_tokens: u64::from(u32::MAX) + 1,
            ..usage
        };
        assert_eq!(CompactUsage::from_usage(&huge), None);
    }

    #[test]
    fn entries_stay_small() {
        assert!(
            std::mem::size_of::<Entry>() <= 112,
            "{}",
            std::mem::size_of::<Entry>()
        );
    }
}
