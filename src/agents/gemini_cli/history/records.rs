//! A chat file's records applied in order, two ways.
//!
//! [`Conversation`] is the conversation exactly as Gemini CLI 0.61.0 loads it
//! (`loadConversationRecord` in `services/chatRecordingService.js`): messages in a JS `Map`
//! keyed by id, so a record of an id already there replaces it **in place** (the last record
//! wins, at the position of the first); `$rewindTo` deletes that id and every id after it (all
//! of them when the id is not there); `$set.messages` clears the map and fills it from the
//! list; a metadata line's `messages` (a rewritten or converted file) are added without
//! clearing.
//!
//! [`Ledger`] is what was billed: every id ever recorded, in order of first appearance, at its
//! last record. A rewind or a `$set.messages` (an abort rolling history back, a compression
//! replacing it) changes the conversation, not the calls already made: an import counts the
//! ledger, and uses the conversation only to say how many counted calls it no longer holds.

use std::collections::HashMap;

use super::line::{Message, Meta, Record};

/// The conversation as Gemini CLI would resume it.
#[derive(Debug, Default)]
pub struct Conversation {
    messages: Vec<Message>,
    index: HashMap<String, usize>,
}

impl Conversation {
    /// `Map.set`: replaces in place, else appends.
    fn set(&mut self, message: Message) {
        match self.index.get(&message.id) {
            Some(&at) => self.messages[at] = message,
            None => {
                self.index.insert(message.id.clone(), self.messages.len());
                self.messages.push(message);
            }
        }
    }

    /// Drops `id` and everything after it; everything when `id` is not there.
    fn rewind(&mut self, id: &str) {
        let at = self.index.get(id).copied().unwrap_or(0);
        for message in self.messages.drain(at..) {
            self.index.remove(&message.id);
        }
    }

    fn clear(&mut self) {
        self.messages.clear();
        self.index.clear();
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }
}

/// One id of the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The last record of the id — with the tokens of the last record that had any.
    pub message: Message,
    /// The line of the record the tokens came from (else of the last record).
    pub line: u64,
    /// Still in the conversation once the whole file was read (set by [`Log::settle`]).
    pub in_conversation: bool,
}

/// Every message id ever recorded, first appearance first.
#[derive(Debug, Default)]
pub struct Ledger {
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    /// Records of an id already seen (Gemini CLI appends a message again on every update).
    pub repeats: u64,
}

impl Ledger {
    fn record(&mut self, message: Message, line: u64) {
        let Some(&at) = self.index.get(&message.id) else {
            self.index.insert(message.id.clone(), self.entries.len());
            self.entries.push(Entry {
                message,
                line,
                in_conversation: false,
            });
            return;
        };
        self.repeats += 1;
        let entry = &mut self.entries[at];
        if message.tokens.is_some() || entry.message.tokens.is_none() {
            entry.line = line;
            entry.message = message;
        } else {
            // A copy without tokens (a history rewrite) keeps the tokens already recorded.
            let tokens = entry.message.tokens;
            entry.message = message;
            entry.message.tokens = tokens;
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

/// A file's records, applied.
#[derive(Debug, Default)]
pub struct Log {
    pub meta: Option<Meta>,
    pub conversation: Conversation,
    pub ledger: Ledger,
    pub rewinds: u64,
    /// `$set.messages` records: the list replaced.
    pub replaced_lists: u64,
}

impl Log {
    /// Applies one record read at `line`.
    pub fn apply(&mut self, record: Record, line: u64) {
        match record {
            Record::Rewind(id) => {
                self.rewinds += 1;
                self.conversation.rewind(&id);
            }
            Record::Message(message) => self.message(message, line),
            Record::Set { messages } => {
                if let Some(messages) = messages {
                    self.replaced_lists += 1;
                    self.conversation.clear();
                    for message in messages {
                        self.message(message, line);
                    }
                }
            }
            Record::Meta { meta, messages } => {
                // Later metadata is merged over earlier (`{...metadata, ...record}`).
                let kind = meta
                    .kind
                    .clone()
                    .or_else(|| self.meta.as_ref()?.kind.clone());
                self.meta = Some(Meta { kind, ..meta });
                for message in messages.into_iter().flatten() {
                    self.message(message, line);
                }
            }
            Record::Other => {}
        }
    }

    /// The file is read: marks which ledger entries the conversation still holds, then frees
    /// the conversation and the indexes, which only reading needed (a history of thousands of
    /// files is held until its calls are built, so each file keeps only its ledger).
    pub fn settle(&mut self) {
        let conversation = std::mem::take(&mut self.conversation);
        for entry in &mut self.ledger.entries {
            entry.in_conversation = conversation.contains(&entry.message.id);
        }
        self.ledger.index = HashMap::new();
        self.ledger.entries.shrink_to_fit();
    }

    fn message(&mut self, message: Message, line: u64) {
        self.ledger.record(message.clone(), line);
        self.conversation.set(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::gemini_cli::history::line::{Kind, Tokens};

    fn message(id: &str, input: Option<u64>) -> Message {
        Message {
            id: id.into(),
            kind: Kind::Gemini,
            t_ms: Some(1),
            tokens: input.map(|input| Tokens {
                input,
                total: input,
                ..Tokens::default()
            }),
            model: None,
            spawned: Vec::new(),
        }
    }

    fn ids(messages: &[Message]) -> Vec<&str> {
        messages.iter().map(|m| m.id.as_str()).collect()
    }

    fn ledger_ids(log: &Log) -> Vec<(&str, Option<u64>)> {
        log.ledger
            .entries()
            .iter()
            .map(|e| (e.message.id.as_str(), e.message.tokens.map(|t| t.input)))
            .collect()
    }

    #[test]
    fn the_last_record_of_an_id_wins_at_its_first_position() {
        let mut log = Log::default();
        log.apply(Record::Message(message("a", None)), 1);
        log.apply(Record::Message(message("b", Some(5))), 2);
        log.apply(Record::Message(message("a", Some(7))), 3);
        assert_eq!(ids(log.conversation.messages()), ["a", "b"]);
        assert_eq!(log.conversation.messages()[0].tokens.unwrap().input, 7);
        assert_eq!(ledger_ids(&log), [("a", Some(7)), ("b", Some(5))]);
        assert_eq!(log.ledger.entries()[0].line, 3);
        assert_eq!(log.ledger.repeats, 1);
    }

    #[test]
    fn a_rewind_drops_the_id_and_after_from_the_conversation_not_the_ledger() {
        let mut log = Log::default();
        for (line, id) in ["a", "b", "c"].into_iter().enumerate() {
            log.apply(Record::Message(message(id, Some(1))), line as u64);
        }
        log.apply(Record::Rewind("b".into()), 4);
        assert_eq!(ids(log.conversation.messages()), ["a"]);
        log.apply(Record::Message(message("d", Some(1))), 5);
        // A record of a rewound id comes back at the end, as in a JS Map after delete.
        log.apply(Record::Message(message("b", Some(2))), 6);
        assert_eq!(ids(log.conversation.messages()), ["a", "d", "b"]);
        assert_eq!(
            ledger_ids(&log),
            [
                ("a", Some(1)),
                ("b", Some(2)),
                ("c", Some(1)),
                ("d", Some(1))
            ]
        );
        // An id that is not there clears everything.
        log.apply(Record::Rewind("zzz".into()), 7);
        assert!(log.conversation.messages().is_empty());
        assert_eq!(log.rewinds, 2);
        assert_eq!(log.ledger.entries().len(), 4);
    }

    #[test]
    fn settling_marks_what_the_conversation_still_holds_and_frees_it() {
        let mut log = Log::default();
        for (line, id) in ["a", "b", "c"].into_iter().enumerate() {
            log.apply(Record::Message(message(id, Some(1))), line as u64);
        }
        log.apply(Record::Rewind("b".into()), 4);
        log.settle();
        let held: Vec<(&str, bool)> = log
            .ledger
            .entries()
            .iter()
            .map(|e| (e.message.id.as_str(), e.in_conversation))
            .collect();
        assert_eq!(held, [("a", true), ("b", false), ("c", false)]);
        assert!(log.conversation.messages().is_empty());
    }

    #[test]
    fn set_messages_replaces_the_list_and_metadata_messages_add_to_it() {
        let mut log = Log::default();
        log.apply(Record::Message(message("a", Some(1))), 1);
        log.apply(Record::Message(message("b", Some(2))), 2);
        log.apply(
            Record::Set {
                messages: Some(vec![message("s", None), message("b", None)]),
            },
            3,
        );
        assert_eq!(ids(log.conversation.messages()), ["s", "b"]);
        // The copy without tokens keeps the ledger's tokens.
        assert_eq!(
            ledger_ids(&log),
            [("a", Some(1)), ("b", Some(2)), ("s", None)]
        );
        assert_eq!(log.ledger.entries()[1].line, 2);
        log.apply(
            Record::Meta {
                meta: Meta {
                    session_id: "x".into(),
                    kind: None,
                },
                messages: Some(vec![message("c", Some(3))]),
            },
            4,
        );
        assert_eq!(ids(log.conversation.messages()), ["s", "b", "c"]);
        assert_eq!(log.replaced_lists, 1);
        // A `$set` without messages changes no message.
        log.apply(Record::Set { messages: None }, 5);
        assert_eq!(log.conversation.messages().len(), 3);
    }
}
