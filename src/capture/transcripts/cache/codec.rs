//! The payload, byte by byte: hand-rolled little-endian, fixed-size rows, so a load is a
//! bounds-checked walk over one buffer — no serde, no allocation per entry.
//!
//! ```text
//! payload   strings: u32 count, then count × (u32 length, UTF-8 bytes)   id n = string n-1
//!           files:   u32 count, then count × record
//! record    head:    path (u32 length, bytes, relative to the projects root),
//!                    size u64, modified_ns i64, inode u64, device u64, has_meta u8,
//!                    end u64 (where the cached lines end), end_hash u64
//!           body:    u64 length, then
//!                    7 × u64 scan stats,
//!                    u8 count × (u8 damage, u64 count), u8 count × (u64 line, u8 damage,
//!                    u32 length, detail bytes),
//!                    u32 count × entry (93 bytes), u32 count × api-request (21 bytes),
//!                    u32 count × u64 prompt offset
//! ```
//!
//! A record holds what one read of the file's first `end` bytes yields before it is joined
//! (a [`UnitOutput`] starting at 0): the cached part of a file is then one more range to
//! combine with what was appended. String ids in it index the payload's string table; a
//! load interns only the strings of the records it decodes, so a dropped file's strings leave
//! the cache with it.

use std::ops::Range;

use super::super::discover::{Stamp, TranscriptFile};
use super::super::entry::{
    CompactUsage, Entry, Interner, NO_MESSAGE_ID, SIDECHAIN, unnamed_message,
};
use super::super::problems::{Damage, Example, Problems};
use super::super::scan::{ApiRequest, ScanStats, UnitOutput};
use super::container::CacheError;
use crate::observation::Category;

const ENTRY_LEN: usize = 93;
const API_LEN: usize = 21;

/// Appends little-endian numbers and length-prefixed bytes.
pub struct Out<'a>(pub &'a mut Vec<u8>);

impl Out<'_> {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn count(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    fn bytes(&mut self, v: &[u8]) {
        self.count(v.len());
        self.0.extend_from_slice(v);
    }
}

/// Reads what [`Out`] wrote; every read is checked against the end of the buffer.
pub struct In<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> In<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        In { bytes, at: 0 }
    }

    pub fn position(&self) -> usize {
        self.at
    }

    pub fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CacheError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(CacheError::Malformed(self.at))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }
    fn u8(&mut self) -> Result<u8, CacheError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, CacheError> {
        Ok(le32(self.take(4)?, 0))
    }
    fn u64(&mut self) -> Result<u64, CacheError> {
        Ok(le64(self.take(8)?, 0))
    }
    fn i64(&mut self) -> Result<i64, CacheError> {
        Ok(le64(self.take(8)?, 0) as i64)
    }
    pub fn count(&mut self) -> Result<usize, CacheError> {
        Ok(self.u32()? as usize)
    }
    fn bytes(&mut self) -> Result<&'a [u8], CacheError> {
        let n = self.count()?;
        self.take(n)
    }
    /// `n` rows of `len` bytes.
    fn rows(&mut self, len: usize) -> Result<std::slice::ChunksExact<'a, u8>, CacheError> {
        let n = self.count()?;
        let size = n.checked_mul(len).ok_or(CacheError::Malformed(self.at))?;
        Ok(self.take(size)?.chunks_exact(len))
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn le64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// The string table: every interned string, id `n` as the `n`-th.
pub fn put_strings(out: &mut Vec<u8>, interner: &Interner) {
    let mut out = Out(out);
    out.count(interner.len().saturating_sub(1));
    for id in 1..interner.len() {
        out.bytes(interner.get(id as u32).as_bytes());
    }
}

/// A loaded string table, turned into this run's ids on first use.
#[derive(Debug)]
pub struct Strings {
    table: Vec<Range<usize>>,
    ids: Vec<u32>,
}

const UNRESOLVED: u32 = u32::MAX;

impl Strings {
    pub fn read(input: &mut In<'_>) -> Result<Self, CacheError> {
        let n = input.count()?;
        let mut table = Vec::with_capacity(n.min(input.bytes.len() / 4));
        for _ in 0..n {
            let len = input.count()?;
            let start = input.position();
            input.take(len)?;
            table.push(start..input.position());
        }
        Ok(Strings {
            ids: vec![UNRESOLVED; table.len()],
            table,
        })
    }

    /// Ids a record may hold: 0 (none) and 1 to the table's length.
    fn holds(&self, cached: u32) -> bool {
        cached as usize <= self.table.len()
    }

    /// This run's id of a cached id [`Self::holds`], interning the string on first use.
    pub fn id(&mut self, cached: u32, payload: &[u8], interner: &mut Interner) -> u32 {
        let Some(index) = cached.checked_sub(1).map(|i| i as usize) else {
            return 0;
        };
        match self.ids.get(index) {
            Some(&UNRESOLVED) => {
                let bytes = payload.get(self.table[index].clone()).unwrap_or_default();
                let id = interner.intern(bytes);
                self.ids[index] = id;
                id
            }
            Some(&id) => id,
            None => 0,
        }
    }
}

/// What says which file a record is of and how far it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Byte range of the path (relative to the root) in the payload.
    pub path: Range<usize>,
    pub size: u64,
    pub stamp: Stamp,
    pub has_meta: bool,
    /// Where the cached lines end: past the last complete line read.
    pub end: u64,
    /// Hash of the bytes before `end` (the last few KiB), to check an appended file's start.
    pub end_hash: u64,
    /// Byte range of the body in the payload.
    pub body: Range<usize>,
}

/// Appends one file's record.
pub fn put_record(out: &mut Vec<u8>, relative: &[u8], file: &TranscriptFile, body: &UnitOutput) {
    let (end, end_hash) = body.end_hash.unwrap_or((0, 0));
    let mut o = Out(out);
    o.bytes(relative);
    o.u64(file.size);
    o.i64(file.stamp.modified_ns);
    o.u64(file.stamp.inode);
    o.u64(file.stamp.device);
    o.u8(u8::from(file.has_meta));
    o.u64(end);
    o.u64(end_hash);
    let length_at = o.0.len();
    o.u64(0);
    let start = o.0.len();
    put_body(&mut o, body);
    let length = (o.0.len() - start) as u64;
    o.0[length_at..start].copy_from_slice(&length.to_le_bytes());
}

fn put_body(o: &mut Out<'_>, body: &UnitOutput) {
    let s = &body.stats;
    for v in [
        s.lines,
        s.parsed,
        s.merged_lines,
        s.placeholders,
        s.synthetic,
        s.no_message_id,
        s.prompts,
    ] {
        o.u64(v);
    }
    let kind = |d: Damage| Damage::ALL.iter().position(|&k| k == d).unwrap_or(0) as u8;
    o.u8(body.problems.counts.len() as u8);
    for (&damage, &count) in &body.problems.counts {
        o.u8(kind(damage));
        o.u64(count);
    }
    o.u8(body.problems.examples.len() as u8);
    for example in &body.problems.examples {
        o.u64(example.line);
        o.u8(kind(example.damage));
        o.bytes(example.detail.as_bytes());
    }
    o.count(body.entries.len());
    for e in &body.entries {
        for v in [e.message, e.request, e.reference] {
            o.u64(v);
        }
        o.i64(e.t_start);
        o.i64(e.t_end);
        o.u64(e.offset);
        let u = &e.usage;
        for v in [
            u.input,
            u.output,
            u.cache_read,
            u.creation_5m,
            u.creation_1h,
        ] {
            o.u32(v);
        }
        for v in [
            e.session,
            e.agent,
            e.model,
            e.agent_type,
            e.version,
            e.project,
        ] {
            o.u32(v);
        }
        o.u8(e.flags);
    }
    o.count(body.api_requests.len());
    for a in &body.api_requests {
        o.u64(a.id);
        o.u32(a.source);
        o.u8(u8::from(a.t.is_some()));
        o.i64(a.t.unwrap_or(0));
    }
    o.count(body.prompts.len());
    for &p in &body.prompts {
        o.u64(p);
    }
}

/// Reads one record's head, leaving its body for [`read_body`].
pub fn read_head(input: &mut In<'_>) -> Result<Head, CacheError> {
    let path_len = input.count()?;
    let path_start = input.position();
    input.take(path_len)?;
    let path = path_start..input.position();
    let size = input.u64()?;
    let stamp = Stamp {
        modified_ns: input.i64()?,
        inode: input.u64()?,
        device: input.u64()?,
    };
    let has_meta = input.u8()? != 0;
    let end = input.u64()?;
    let end_hash = input.u64()?;
    let length = usize::try_from(input.u64()?).map_err(|_| CacheError::Malformed(input.at))?;
    let body_start = input.position();
    input.take(length)?;
    Ok(Head {
        path,
        size,
        stamp,
        has_meta,
        end,
        end_hash,
        body: body_start..input.position(),
    })
}

/// A record's body as the output of its file's first `head.end` bytes, its string ids still
/// the cache's (each checked against the table) and its file index 0: [`adopt`] makes it this
/// run's.
pub fn read_body(payload: &[u8], head: &Head, strings: &Strings) -> Result<UnitOutput, CacheError> {
    let bytes = payload
        .get(head.body.clone())
        .ok_or(CacheError::Malformed(head.body.start))?;
    let base = head.body.start;
    let mut input = In::new(bytes);
    let malformed = |input: &In<'_>| CacheError::Malformed(base + input.position());
    let mut v = [0u64; 7];
    for slot in &mut v {
        *slot = input.u64()?;
    }
    let stats = ScanStats {
        lines: v[0],
        parsed: v[1],
        merged_lines: v[2],
        placeholders: v[3],
        synthetic: v[4],
        no_message_id: v[5],
        prompts: v[6],
    };
    let damage = |input: &mut In<'_>| -> Result<Damage, CacheError> {
        let k = input.u8()?;
        Damage::ALL
            .get(k as usize)
            .copied()
            .ok_or_else(|| malformed(input))
    };
    let mut problems = Problems::default();
    for _ in 0..input.u8()? {
        let kind = damage(&mut input)?;
        problems.counts.insert(kind, input.u64()?);
    }
    for _ in 0..input.u8()? {
        let line = input.u64()?;
        let kind = damage(&mut input)?;
        let detail = String::from_utf8_lossy(input.bytes()?).into_owned();
        problems.examples.push(Example {
            file: 0,
            line,
            damage: kind,
            detail,
        });
    }
    let rows = input.rows(ENTRY_LEN)?;
    let at = base + input.position();
    let mut entries = Vec::with_capacity(rows.len());
    for r in rows {
        let id = |k: usize| {
            let id = le32(r, 68 + 4 * k);
            match strings.holds(id) {
                true => Ok(id),
                false => Err(CacheError::Malformed(at)),
            }
        };
        let flags = r[92];
        entries.push(Entry {
            message: le64(r, 0),
            request: le64(r, 8),
            reference: le64(r, 16),
            t_start: le64(r, 24) as i64,
            t_end: le64(r, 32) as i64,
            offset: le64(r, 40),
            file: 0,
            usage: CompactUsage {
                input: le32(r, 48),
                output: le32(r, 52),
                cache_read: le32(r, 56),
                creation_5m: le32(r, 60),
                creation_1h: le32(r, 64),
            },
            session: id(0)?,
            agent: id(1)?,
            model: id(2)?,
            agent_type: id(3)?,
            version: id(4)?,
            project: id(5)?,
            // As a scan leaves them: the join sets the source, category and turn marks.
            source: 0,
            ids: 0,
            category: match flags & SIDECHAIN {
                0 => Category::UserTurn,
                _ => Category::Subagent,
            },
            flags,
        });
    }
    let rows = input.rows(API_LEN)?;
    let at = base + input.position();
    let mut api_requests = Vec::with_capacity(rows.len());
    for r in rows {
        let source = le32(r, 8);
        if !strings.holds(source) {
            return Err(CacheError::Malformed(at));
        }
        api_requests.push(ApiRequest {
            id: le64(r, 0),
            source,
            t: (r[12] != 0).then(|| le64(r, 13) as i64),
        });
    }
    let prompts: Vec<u64> = input.rows(8)?.map(|r| le64(r, 0)).collect();
    if !input.is_done() {
        return Err(malformed(&input));
    }
    Ok(UnitOutput {
        file: 0,
        start: 0,
        entries,
        api_requests,
        prompts,
        problems,
        stats,
        records: Vec::new(),
        complete_end: head.end,
        end_hash: Some((head.end, head.end_hash)),
    })
}

/// Makes a decoded body file `file`'s in this run: its index, and its string ids interned.
pub fn adopt(
    body: &mut UnitOutput,
    file: u32,
    payload: &[u8],
    strings: &mut Strings,
    interner: &mut Interner,
) {
    body.file = file;
    for e in &mut body.entries {
        e.file = file;
        if e.flags & NO_MESSAGE_ID != 0 {
            // Keyed by its place, which names the file by this run's index.
            e.message = unnamed_message(file, e.offset);
        }
        for id in [
            &mut e.session,
            &mut e.agent,
            &mut e.model,
            &mut e.agent_type,
            &mut e.version,
            &mut e.project,
        ] {
            *id = strings.id(*id, payload, interner);
        }
    }
    for a in &mut body.api_requests {
        a.source = strings.id(a.source, payload, interner);
    }
    for example in &mut body.problems.examples {
        example.file = file;
    }
}
