//! The fast path of request inspection: a skim over the body, frame by frame as it streams
//! upstream, that shrinks it to what the serde pass reads.
//!
//! A long-context body is mostly its `messages` (megabytes of tool results), of which
//! inspection keeps only the count, the first system message and the last user message; and
//! its `tools`, of which it keeps only whether there are any. Reading all of it with serde
//! costs milliseconds per call at 2 MB, more than forwarding the body; copying it aside to read
//! afterwards costs a `memcpy` and fresh pages per call (both measured, `docs/performance.md`).
//! So the skim reads each frame while it passes, keeps nothing of it but what it needs, and
//! writes a reduced body: the top-level members as they were, `messages` (or `input`) holding
//! only the messages inspection reads, and `tools` only whether it was empty. The serde pass
//! then reads the reduced body, and the message count is the skim's.
//!
//! The skim follows the body's structure only three levels deep (the body, the `messages`
//! array, a message); below that it passes over whole values 64 bytes at a time
//! ([`scan`], [`blocks`]), checking only that strings close and brackets match. Whatever it
//! does not recognise stays in the reduced body for serde to judge: a member name with escapes
//! is copied as it is, and so is a message whose role it cannot read (an escaped role, or an
//! escaped member name). Broken syntax at the levels it follows, a body that does not end
//! where its object does, or a message that names its role again after the skim dropped it
//! (no client does) ends the skim: [`BodySkim::finish`] gives `None`.
//!
//! Nothing is copied that need not be: a message the skim drops is never copied, and one it
//! keeps is taken from its frame when the frame ends (a user message only if no later one
//! ended in the same frame), so a long tool loop costs one copy per frame, not per message.

mod blocks;
mod scan;
#[cfg(test)]
mod tests;

use scan::{ContainerScan, StringScan};

/// The body with its bulk left out.
#[derive(Debug)]
pub struct Reduced {
    /// A JSON object with the body's members, `messages` and `tools` cut down.
    pub body: Vec<u8>,
    /// Elements of the `messages`/`input` arrays that were cut down.
    pub elements: u32,
    /// How many of those elements `body` still holds.
    pub written: u32,
}

/// A skim in progress: fed the body's frames in order, then finished.
#[derive(Debug, Default)]
pub struct BodySkim {
    /// The reduced body so far.
    out: Vec<u8>,
    /// The part of the message being read that came in earlier frames.
    msg: Vec<u8>,
    /// Where in the current frame the rest of that message starts. A message is copied only
    /// if it must be kept and the frame ends before it does (or, for a user message, once the
    /// frame ends and no later one replaced it): most messages are never copied.
    msg_from: usize,
    /// A user message that ended in the current frame (its index and its bytes there): the
    /// last one so far, copied when the frame ends unless a later one comes first.
    pending_user: Option<(u32, std::ops::Range<usize>)>,
    /// A member name or role being read (its first bytes; enough to tell the ones that matter).
    token: Vec<u8>,
    place: Place,
    expect: Expect,
    lex: Lex,
    /// What the value about to be read (or being read) is.
    member: Member,
    /// The string being read is a member name.
    string_is_key: bool,
    /// The role of the message being read, as far as read.
    role: Role,
    /// The message being read is not kept (its role was read, and is none that serde needs):
    /// the rest of it is only passed over.
    dropping: bool,
    strings: StringScan,
    containers: ContainerScan,
    /// Elements of every cut-down array, and how many of them were kept.
    elements: u32,
    written: u32,
    /// Kept messages of the current array, in order, with their index in the array; the last
    /// user message so far is kept apart (a later one replaces it).
    kept: Vec<(u32, Vec<u8>)>,
    last_user: Option<(u32, Vec<u8>)>,
    system_kept: bool,
    /// Buffers of dropped messages, reused.
    spare: Vec<Vec<u8>>,
    failed: bool,
}

/// Where in the body's structure the skim is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Place {
    #[default]
    BeforeBody,
    /// The top-level object.
    Body,
    /// A `messages` or `input` array being cut down.
    Messages,
    /// An object in that array.
    Message,
    /// Just inside a `tools` array: is it empty?
    ToolsStart,
    /// The rest of a non-empty `tools` array, passed over.
    Tools,
    AfterBody,
}

/// The token expected next at the current place.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A member name or the end of an empty object.
    #[default]
    KeyOrEnd,
    Key,
    Colon,
    Value,
    /// An element or the end of an empty array.
    ValueOrEnd,
    CommaOrEnd,
}

/// How the next bytes are read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Lex {
    /// Byte by byte: punctuation, whitespace, the starts of values.
    #[default]
    Tokens,
    /// The rest of a string ([`StringScan`]).
    String,
    /// The rest of an object or array ([`ContainerScan`]).
    Container,
    /// A number or literal, up to the byte that ends it.
    Scalar,
}

/// What a member holds, as far as the skim cares.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Member {
    /// Top-level `messages`, `input` or (Gemini) `contents`.
    Messages,
    /// Top-level `tools`.
    Tools,
    /// A message's `role`.
    Role,
    #[default]
    Other,
}

/// A message's role as far as inspection cares; `Unsure` when the skim cannot read it, so
/// the message is kept for serde to read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Role {
    User,
    System,
    #[default]
    Other,
    Unsure,
}

/// Member names and roles longer than this are none the skim looks for.
const TOKEN_BYTES: usize = 10;

impl BodySkim {
    /// Reads the next frame of the body.
    pub fn feed(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() && !self.failed {
            i = match self.lex {
                Lex::Tokens => self.token_byte(bytes, i),
                Lex::String => self.string_rest(bytes, i),
                Lex::Container => self.container_rest(bytes, i),
                Lex::Scalar => self.scalar_rest(bytes, i),
            };
        }
        if self.failed {
            return;
        }
        // The frame is about to go: keep what must outlive it.
        self.settle_pending_user(bytes);
        if self.place == Place::Message && !self.dropping {
            self.msg.extend_from_slice(&bytes[self.msg_from..]);
            self.msg_from = 0;
        }
    }

    /// The reduced body, or `None` if the body was not one well-formed object (as far as the
    /// skim follows it).
    pub fn finish(self) -> Option<Reduced> {
        (!self.failed && self.place == Place::AfterBody).then_some(Reduced {
            body: self.out,
            elements: self.elements,
            written: self.written,
        })
    }

    /// Bytes held so far: what reading the reduced body will cost.
    pub fn held_bytes(&self) -> usize {
        self.out.len()
            + self.msg.len()
            + self.kept.iter().map(|(_, m)| m.len()).sum::<usize>()
            + self.last_user.as_ref().map_or(0, |(_, m)| m.len())
    }

    /// Where the bytes of the current value go: the reduced body at the top level, nowhere
    /// elsewhere (a message is taken from its frame as a whole, see `msg_from`).
    fn sink(&mut self) -> Option<&mut Vec<u8>> {
        match self.place {
            Place::Body => Some(&mut self.out),
            _ => None,
        }
    }

    fn fail(&mut self) -> usize {
        self.failed = true;
        usize::MAX
    }

    /// One byte read as punctuation or the start of a value.
    fn token_byte(&mut self, bytes: &[u8], i: usize) -> usize {
        let c = bytes[i];
        if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
            return i + 1;
        }
        match (self.place, self.expect, c) {
            (Place::BeforeBody, _, b'{') => {
                self.out.push(b'{');
                self.place = Place::Body;
                self.expect = Expect::KeyOrEnd;
            }
            (Place::Body | Place::Message, Expect::KeyOrEnd | Expect::Key, b'"') => {
                self.token.clear();
                self.string_is_key = true;
                self.start_string();
            }
            (Place::Body | Place::Message, Expect::KeyOrEnd | Expect::CommaOrEnd, b'}') => {
                self.end_object(bytes, i);
            }
            (Place::Body | Place::Message, Expect::Colon, b':') => {
                if let Some(sink) = self.sink() {
                    sink.push(b':');
                }
                self.expect = Expect::Value;
            }
            (Place::Body | Place::Message, Expect::CommaOrEnd, b',') => {
                if let Some(sink) = self.sink() {
                    sink.push(b',');
                }
                self.expect = Expect::Key;
            }
            (Place::Body, Expect::Value, b'[') if self.member == Member::Messages => {
                self.out.push(b'[');
                self.place = Place::Messages;
                self.expect = Expect::ValueOrEnd;
            }
            (Place::Body, Expect::Value, b'[') if self.member == Member::Tools => {
                self.place = Place::ToolsStart;
            }
            (Place::Body | Place::Message, Expect::Value, _) => return self.start_value(bytes, i),
            (Place::Messages, Expect::ValueOrEnd | Expect::CommaOrEnd, b']') => {
                self.end_array(bytes);
            }
            (Place::Messages, Expect::CommaOrEnd, b',') => self.expect = Expect::Value,
            (Place::Messages, Expect::ValueOrEnd | Expect::Value, b'{') => {
                self.elements = self.elements.saturating_add(1);
                self.msg.clear();
                self.msg_from = i;
                self.role = Role::Other;
                self.dropping = false;
                self.place = Place::Message;
                self.expect = Expect::KeyOrEnd;
                return self.message_head(bytes, i);
            }
            (Place::Messages, Expect::ValueOrEnd | Expect::Value, _) => {
                // Not an object: counted, never read (serde files it under no role).
                self.elements = self.elements.saturating_add(1);
                return self.start_value(bytes, i);
            }
            (Place::ToolsStart, _, b']') => {
                self.out.extend_from_slice(b"[]");
                self.place = Place::Body;
                self.expect = Expect::CommaOrEnd;
            }
            (Place::ToolsStart, _, _) => {
                // Not empty: one element stands for all. The rest is passed over from here.
                self.out.extend_from_slice(b"[0]");
                self.place = Place::Tools;
                self.member = Member::Other;
                self.containers.start(b'[');
                self.lex = Lex::Container;
                return i;
            }
            _ => return self.fail(),
        }
        i + 1
    }

    /// A message starts at `i`. Nearly every client writes its first members the same way,
    /// `{"role":"…","content":`: read in one step, that is where the skim spends most of its
    /// time on a long conversation otherwise (a dozen tokens per message). Anything else, or a
    /// head cut by the frame's end, is read token by token.
    fn message_head(&mut self, bytes: &[u8], i: usize) -> usize {
        const ROLE: &[u8] = br#"{"role":""#;
        const CONTENT: &[u8] = br#","content":"#;
        let head = &bytes[i..];
        let Some(word) = head.strip_prefix(ROLE) else {
            return i + 1;
        };
        let Some(n) = word.iter().take(TOKEN_BYTES).position(|&b| b == b'"') else {
            return i + 1;
        };
        let role = match &word[..n] {
            b"user" => Role::User,
            b"system" | b"developer" => Role::System,
            w if w.contains(&b'\\') => return i + 1,
            _ => Role::Other,
        };
        let mut read = ROLE.len() + n + 1;
        self.expect = Expect::CommaOrEnd;
        if head[read..].starts_with(CONTENT) {
            read += CONTENT.len();
            self.expect = Expect::Value;
        }
        self.member = Member::Other;
        self.set_role(role);
        i + read
    }

    /// The first byte of a value that is read as it is (copied to the sink, if any).
    fn start_value(&mut self, bytes: &[u8], i: usize) -> usize {
        let c = bytes[i];
        match c {
            b'"' => {
                self.string_is_key = false;
                self.token.clear();
                self.start_string();
                i + 1
            }
            b'{' | b'[' => {
                if let Some(sink) = self.sink() {
                    sink.push(c);
                }
                self.containers.start(c);
                self.lex = Lex::Container;
                i + 1
            }
            b',' | b':' | b'}' | b']' => self.fail(),
            _ => {
                self.lex = Lex::Scalar;
                i
            }
        }
    }

    fn start_string(&mut self) {
        if let Some(sink) = self.sink() {
            sink.push(b'"');
        }
        self.strings.start();
        self.lex = Lex::String;
    }

    /// The string being read, from `i` to its end or the frame's.
    fn string_rest(&mut self, bytes: &[u8], i: usize) -> usize {
        let rest = &bytes[i..];
        let end = self.strings.find_end(rest);
        let taken = end.unwrap_or(rest.len());
        if let Some(sink) = self.sink() {
            sink.extend_from_slice(&rest[..taken]);
        }
        if self.string_is_key || self.member == Member::Role {
            let text = &rest[..end.map_or(taken, |e| e - 1)];
            let room = (TOKEN_BYTES + 1).saturating_sub(self.token.len());
            self.token.extend_from_slice(&text[..text.len().min(room)]);
        }
        if end.is_some() {
            self.lex = Lex::Tokens;
            if self.string_is_key {
                self.end_key();
            } else {
                self.end_role_value();
                self.expect = Expect::CommaOrEnd;
            }
        }
        i + taken
    }

    /// A member name has been read: what does it name?
    fn end_key(&mut self) {
        let name = self.token.as_slice();
        self.member = match (self.place, name) {
            // Gemini's `contents` holds its messages (roles `user` and `model`).
            (Place::Body, b"messages" | b"input" | b"contents") => Member::Messages,
            (Place::Body, b"tools") => Member::Tools,
            (Place::Message, b"role") => Member::Role,
            _ => Member::Other,
        };
        if self.place == Place::Message && name.contains(&b'\\') {
            // An escaped name might spell `role`: serde reads this message.
            self.set_role(Role::Unsure);
        }
        self.expect = Expect::Colon;
    }

    /// A string value has been read; if it was a message's role, that is the role now (the
    /// last `role` member wins, as in the serde pass).
    fn end_role_value(&mut self) {
        if self.place != Place::Message || self.member != Member::Role {
            return;
        }
        let role = match self.token.as_slice() {
            b"user" => Role::User,
            b"system" | b"developer" => Role::System,
            t if t.contains(&b'\\') => Role::Unsure,
            _ => Role::Other,
        };
        self.set_role(role);
    }

    /// The message's role is now `role` (the last one read wins, as in the serde pass). A
    /// message whose role is none that serde needs is dropped from here on; one that names a
    /// role again after that cannot be kept whole, which ends the skim (the whole body is read
    /// instead where it is at hand).
    fn set_role(&mut self, role: Role) {
        if self.role == Role::Unsure {
            return;
        }
        if self.dropping && role != Role::Other {
            self.fail();
            return;
        }
        self.role = role;
        if role == Role::Other {
            self.dropping = true;
            self.msg.clear();
        }
    }

    /// The object or array being passed over, from `i` to its end or the frame's.
    fn container_rest(&mut self, bytes: &[u8], i: usize) -> usize {
        let rest = &bytes[i..];
        let Ok(end) = self.containers.find_end(rest) else {
            return self.fail();
        };
        self.value_part(i, rest, end)
    }

    /// A number or literal, up to the byte after it.
    fn scalar_rest(&mut self, bytes: &[u8], i: usize) -> usize {
        let rest = &bytes[i..];
        let end = rest
            .iter()
            .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'));
        self.value_part(i, rest, end)
    }

    /// `rest` (from `i`) holds the value being read up to `end`, or to its end if `None`:
    /// copied to the sink, and the value finished if it ended. Where the next read starts.
    fn value_part(&mut self, i: usize, rest: &[u8], end: Option<usize>) -> usize {
        let taken = end.unwrap_or(rest.len());
        if let Some(sink) = self.sink() {
            sink.extend_from_slice(&rest[..taken]);
        }
        if end.is_some() {
            self.lex = Lex::Tokens;
            self.value_read();
        }
        i + taken
    }

    /// A value other than a string has been read.
    fn value_read(&mut self) {
        if self.place == Place::Tools {
            self.place = Place::Body;
        }
        if self.place == Place::Message && self.member == Member::Role {
            self.set_role(Role::Other);
        }
        self.expect = Expect::CommaOrEnd;
    }

    /// `}` (at `i` in `bytes`) of the body or of a message.
    fn end_object(&mut self, bytes: &[u8], i: usize) {
        match self.place {
            Place::Body => {
                self.out.push(b'}');
                self.place = Place::AfterBody;
            }
            _ => {
                self.end_message(bytes, i + 1);
                self.place = Place::Messages;
                self.expect = Expect::CommaOrEnd;
            }
        }
    }

    /// Keeps the message just read (it ends at `end` in `bytes`) if serde needs it: the first
    /// system message, the last user message, and any the skim could not read.
    fn end_message(&mut self, bytes: &[u8], end: usize) {
        let index = self.elements - 1;
        let keep = match self.role {
            Role::User => true,
            Role::System => !std::mem::replace(&mut self.system_kept, true),
            Role::Unsure => true,
            Role::Other => false,
        };
        if !keep || self.dropping {
            return;
        }
        if self.role == Role::User && self.msg.is_empty() {
            // All of it is in this frame: copied when the frame ends, if still the last.
            self.pending_user = Some((index, self.msg_from..end));
            return;
        }
        self.msg.extend_from_slice(&bytes[self.msg_from..end]);
        let fresh = self.spare.pop().unwrap_or_default();
        let msg = std::mem::replace(&mut self.msg, fresh);
        if self.role == Role::User {
            self.pending_user = None;
            self.replace_last_user(index, msg);
        } else {
            self.kept.push((index, msg));
        }
    }

    /// The last user message is now the one at `index`.
    fn replace_last_user(&mut self, index: u32, msg: Vec<u8>) {
        if let Some((_, old)) = self.last_user.replace((index, msg)) {
            self.spare.push(old);
        }
    }

    /// Copies the user message that ended in this frame, if one did.
    fn settle_pending_user(&mut self, bytes: &[u8]) {
        if let Some((index, range)) = self.pending_user.take() {
            let mut msg = self.spare.pop().unwrap_or_default();
            msg.clear();
            msg.extend_from_slice(&bytes[range]);
            self.replace_last_user(index, msg);
        }
    }

    /// `]` of a `messages`/`input` array: its kept messages go out, in their order.
    fn end_array(&mut self, bytes: &[u8]) {
        self.settle_pending_user(bytes);
        if let Some(last) = self.last_user.take() {
            let at = self.kept.partition_point(|(i, _)| *i < last.0);
            self.kept.insert(at, last);
        }
        for (n, (_, msg)) in self.kept.drain(..).enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(&msg);
            self.written = self.written.saturating_add(1);
            self.spare.push(msg);
        }
        self.out.push(b']');
        self.place = Place::Body;
        self.expect = Expect::CommaOrEnd;
    }
}
