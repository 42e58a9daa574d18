//! A JSON skimmer: walks one line's structure, hands out the few values asked for, and skips
//! everything else without building it.
//!
//! serde would build (or at least validate token by token) every content block of every
//! assistant record; a transcript line is mostly one long string (a tool result, a file
//! written), so skipping strings with `memchr` for the closing quote is what makes an import run
//! at memory-copy speed. Escapes are not decoded: ids, model names and timestamps never contain
//! any, and skipped strings only need their end found. A quote is escaped when an odd number of
//! backslashes precedes it.
//!
//! The skimmer is strict where it reads (object syntax, numbers) and only balanced-bracket
//! strict where it skips, so a torn line — the usual damage — always fails: its brackets never
//! close.

use memchr::memchr;

/// Why a line could not be skimmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SkimError {
    #[error("line ends inside a JSON value (torn line?)")]
    Truncated,
    #[error("unexpected byte {byte:?} at column {column}")]
    Unexpected { byte: char, column: usize },
    #[error("JSON nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("trailing bytes after the JSON object at column {0}")]
    Trailing(usize),
}

/// Nesting beyond this is refused: no transcript record comes close, and a cap keeps a
/// hostile line from costing anything.
pub const MAX_DEPTH: u32 = 512;

/// A cursor over one line.
pub struct Skim<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Skim<'a> {
    pub fn new(bytes: &'a [u8]) -> Skim<'a> {
        Skim { bytes, pos: 0 }
    }

    fn unexpected(&self) -> SkimError {
        match self.bytes.get(self.pos) {
            Some(&b) => SkimError::Unexpected {
                byte: char::from(b),
                column: self.pos + 1,
            },
            None => SkimError::Truncated,
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> Result<(), SkimError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// After the top-level value: only whitespace may follow.
    pub fn end(&mut self) -> Result<(), SkimError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(SkimError::Trailing(self.pos + 1)),
        }
    }

    /// Walks an object, calling `field` with each key; `field` must consume the value (with
    /// one of the readers below or [`Skim::skip`]).
    pub fn object(
        &mut self,
        mut field: impl FnMut(&mut Skim<'a>, &'a [u8]) -> Result<(), SkimError>,
    ) -> Result<(), SkimError> {
        self.eat(b'{')?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            field(self, key)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// Walks an array, calling `item` with the index of each element; `item` must consume it.
    pub fn array(
        &mut self,
        mut item: impl FnMut(&mut Skim<'a>, usize) -> Result<(), SkimError>,
    ) -> Result<(), SkimError> {
        self.eat(b'[')?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        let mut index = 0;
        loop {
            item(self, index)?;
            index += 1;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// The next value's first byte, without consuming it.
    pub fn kind(&mut self) -> Option<u8> {
        self.peek()
    }

    /// A string's raw bytes between its quotes (escapes left as written).
    pub fn string(&mut self) -> Result<&'a [u8], SkimError> {
        self.eat(b'"')?;
        let start = self.pos;
        let end = string_end(self.bytes, start).ok_or(SkimError::Truncated)?;
        self.pos = end + 1;
        Ok(&self.bytes[start..end])
    }

    /// A string, or `None` for `null`; anything else is skipped and also gives `None`.
    pub fn opt_string(&mut self) -> Result<Option<&'a [u8]>, SkimError> {
        match self.peek() {
            Some(b'"') => self.string().map(Some),
            _ => self.skip().map(|()| None),
        }
    }

    /// `true`, `false`; anything else is skipped and gives `None`.
    pub fn opt_bool(&mut self) -> Result<Option<bool>, SkimError> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| Some(true)),
            Some(b'f') => self.literal(b"false").map(|()| Some(false)),
            _ => self.skip().map(|()| None),
        }
    }

    /// A non-negative integer; `Ok(None)` for `null`, a fraction, a sign or a non-number (the
    /// value is consumed either way), so callers can tell a missing count from a torn line.
    pub fn opt_u64(&mut self) -> Result<Option<u64>, SkimError> {
        match self.peek() {
            Some(b'0'..=b'9') => {}
            _ => return self.skip().map(|()| None),
        }
        let start = self.pos;
        let mut value: u64 = 0;
        let mut overflow = false;
        while let Some(&b @ b'0'..=b'9') = self.bytes.get(self.pos) {
            match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
            {
                Some(v) => value = v,
                None => overflow = true,
            }
            self.pos += 1;
        }
        // `12.0` or `1e3` is a number but not a token count: consume it, report no count.
        if matches!(self.bytes.get(self.pos), Some(b'.' | b'e' | b'E')) {
            self.pos = start;
            return self.skip().map(|()| None);
        }
        Ok((!overflow).then_some(value))
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), SkimError> {
        match self.bytes.get(self.pos..self.pos + word.len()) {
            Some(found) if found == word => {
                self.pos += word.len();
                Ok(())
            }
            Some(_) => Err(self.unexpected()),
            None => Err(SkimError::Truncated),
        }
    }

    /// Skips one value of any kind.
    pub fn skip(&mut self) -> Result<(), SkimError> {
        match self.peek() {
            None => Err(SkimError::Truncated),
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{' | b'[') => self.skip_container(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') =
                    self.bytes.get(self.pos)
                {
                    self.pos += 1;
                }
                if self.pos == start + 1 && self.bytes[start] == b'-' {
                    return Err(self.unexpected());
                }
                Ok(())
            }
            Some(_) => Err(self.unexpected()),
        }
    }

    /// Skips an object or array by bracket balance, jumping over strings.
    fn skip_container(&mut self) -> Result<(), SkimError> {
        let mut stack: [u8; 64] = [0; 64];
        let mut depth: u32 = 0;
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(SkimError::Truncated);
            };
            match b {
                b'"' => {
                    let end = string_end(self.bytes, self.pos + 1).ok_or(SkimError::Truncated)?;
                    self.pos = end + 1;
                    continue;
                }
                b'{' | b'[' => {
                    if depth >= MAX_DEPTH {
                        return Err(SkimError::TooDeep);
                    }
                    // The opener is remembered for the first 64 levels, enough to catch a
                    // `{ ]` mismatch in anything a transcript holds.
                    if let Some(slot) = stack.get_mut(depth as usize) {
                        *slot = b;
                    }
                    depth += 1;
                }
                b'}' | b']' => {
                    if depth == 0 {
                        return Err(self.unexpected());
                    }
                    depth -= 1;
                    let opener = if b == b'}' { b'{' } else { b'[' };
                    if stack.get(depth as usize).is_some_and(|&o| o != opener) {
                        return Err(self.unexpected());
                    }
                    if depth == 0 {
                        self.pos += 1;
                        return Ok(());
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }
}

/// Index of the quote that closes a string whose contents start at `from`.
fn string_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let quote = at + memchr(b'"', bytes.get(at..)?)?;
        let backslashes = bytes[..quote]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return Some(quote);
        }
        at = quote + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(line: &str) -> Result<Vec<String>, SkimError> {
        let mut skim = Skim::new(line.as_bytes());
        let mut found = Vec::new();
        skim.object(|s, key| {
            found.push(String::from_utf8_lossy(key).into_owned());
            s.skip()
        })?;
        skim.end()?;
        Ok(found)
    }

    #[test]
    fn walks_top_level_keys_and_skips_nested_values() {
        let line = r#"{"a":{"b":[1,{"c":"}]\"{"}],"d":null},"e":"x\\","f":-1.5e3,"g":true,"h":[]}"#;
        assert_eq!(keys(line).unwrap(), ["a", "e", "f", "g", "h"]);
    }

    #[test]
    fn escaped_quotes_do_not_end_a_string_but_escaped_backslashes_do() {
        let mut skim = Skim::new(br#""a\"b\\" "#);
        assert_eq!(skim.string().unwrap(), br#"a\"b\\"#);
        skim.end().unwrap();
    }

    #[test]
    fn torn_and_malformed_lines_fail() {
        for bad in [
            r#"{"a":{"b":"c"}"#,
            r#"{"a":"unterminated"#,
            r#"{"a":[1,2}"#,
            r#"{"a" 1}"#,
            r#"not json"#,
            r#"{"a":1} trailing"#,
            r#"{"a":1,}"#,
            r#"{"a":tru}"#,
            r#"{"a":-}"#,
            "",
        ] {
            assert!(keys(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn numbers_read_as_counts_only_when_they_are_counts() {
        let line = r#"{"a":12,"b":1.5,"c":null,"d":"7","e":99999999999999999999999,"f":3e2}"#;
        let mut skim = Skim::new(line.as_bytes());
        let mut values = Vec::new();
        skim.object(|s, _| {
            values.push(s.opt_u64()?);
            Ok(())
        })
        .unwrap();
        assert_eq!(values, [Some(12), None, None, None, None, None]);
    }

    #[test]
    fn depth_is_capped() {
        let line = format!("{{\"a\":{}{}}}", "[".repeat(600), "]".repeat(600));
        assert_eq!(keys(&line), Err(SkimError::TooDeep));
    }

    #[test]
    fn agrees_with_serde_on_what_is_a_complete_object() {
        // Every prefix of a real-shaped line is torn: the skimmer must reject all of them.
        let line = r#"{"parentUuid":"p","message":{"id":"msg_1","content":[{"type":"text","text":"say \"hi\"\n{"}],"usage":{"input_tokens":3}},"requestId":"req_1","type":"assistant"}"#;
        assert!(serde_json::from_str::<serde_json::Value>(line).is_ok());
        assert!(keys(line).is_ok());
        for cut in 1..line.len() {
            assert!(keys(&line[..cut]).is_err(), "accepted prefix {cut}");
        }
    }
}
