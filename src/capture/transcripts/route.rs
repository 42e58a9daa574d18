//! The prefilter: which lines are worth skimming, decided from a few byte searches.
//!
//! Most bytes of a transcript are tool results, attachments and request snapshots that say
//! nothing about cost. A line is read only when it can matter:
//! - bookkeeping records start with their type (`{"type":"queue-operation",…`): the type alone
//!   decides (`api-request` is read, the rest skipped);
//! - a user record of tool results — the bulk of a transcript — is told by its first kilobyte
//!   (`"user"` and `"tool_result"`, no `"role":"assistant"`) and skipped unsearched;
//! - other message records are read when they mention `"usage"` (an assistant response; the
//!   search starts in the last two kilobytes, where a response's usage sits after its
//!   content, so a long response is not searched through), or are a
//!   `"user"` record without a `"tool_result"` (a prompt, which starts a turn).
//!
//! The searched strings are quoted, and a quote inside a JSON string is always escaped, so
//! text that merely talks about usage never matches. A line that is not `{…}` is damage (torn
//! or foreign) and is reported, not skipped. Lines longer than the read buffer are searched
//! chunk by chunk ([`Flags`]) and only read whole when they must be parsed.

use memchr::memmem::Finder;

/// What to do with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Empty or whitespace only.
    Blank,
    /// Nothing an import needs.
    Skip,
    /// Skim it.
    Parse,
    /// Not a JSON object: torn, or not a transcript line.
    NotJson,
}

const USAGE: &[u8] = b"\"usage\"";
const USER: &[u8] = b"\"user\"";
const TOOL_RESULT: &[u8] = b"\"tool_result\"";
const ASSISTANT_ROLE: &[u8] = b"\"role\":\"assistant\"";
const TYPE_FIRST: &[u8] = b"{\"type\":\"";

/// How much of a line's start is searched to tell a tool-result record: its type, role and
/// first content block come within the first few hundred bytes in every known version.
const HEAD: usize = 1024;

/// How much of a line's end is searched first for `"usage"`: a response's usage and the
/// envelope after it fill less than a kilobyte.
const TAIL: usize = 2048;

/// Longest needle, for the overlap kept between chunks of a long line.
const OVERLAP: usize = 13;

/// The searchers, built once per worker.
pub struct Prefilter {
    usage: Finder<'static>,
    user: Finder<'static>,
    tool_result: Finder<'static>,
    assistant_role: Finder<'static>,
}

impl Default for Prefilter {
    fn default() -> Self {
        Prefilter {
            usage: Finder::new(USAGE),
            user: Finder::new(USER),
            tool_result: Finder::new(TOOL_RESULT),
            assistant_role: Finder::new(ASSISTANT_ROLE),
        }
    }
}

impl Prefilter {
    /// A user record of tool results, told by its head alone.
    fn is_tool_results(&self, line: &[u8]) -> bool {
        let head = &line[..line.len().min(HEAD)];
        self.user.find(head).is_some()
            && self.tool_result.find(head).is_some()
            && self.assistant_role.find(head).is_none()
    }
}

impl Prefilter {
    /// Routes a whole line (newline excluded).
    pub fn route(&self, line: &[u8]) -> Route {
        let line = trim(line);
        let (Some(&first), Some(&last)) = (line.first(), line.last()) else {
            return Route::Blank;
        };
        if first != b'{' || last != b'}' {
            return Route::NotJson;
        }
        if let Some(route) = leading_type(line).and_then(by_type) {
            return route;
        }
        if self.is_tool_results(line) {
            return Route::Skip;
        }
        // The tail first, then the rest (the needle may straddle the boundary: overlap it).
        let tail_start = line.len().saturating_sub(TAIL);
        if self.usage.find(&line[tail_start..]).is_some()
            || self
                .usage
                .find(&line[..(tail_start + USAGE.len()).min(line.len())])
                .is_some()
        {
            return Route::Parse;
        }
        if self.user.find(line).is_some() && self.tool_result.find(line).is_none() {
            return Route::Parse;
        }
        Route::Skip
    }
}

/// The same decision, for a line read in pieces.
#[derive(Debug, Default)]
pub struct Flags {
    head: Vec<u8>,
    tail: Vec<u8>,
    usage: bool,
    user: bool,
    tool_result: bool,
}

impl Flags {
    /// Feeds the next piece of the line.
    pub fn feed(&mut self, prefilter: &Prefilter, chunk: &[u8]) {
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        // Search the seam too: the previous piece's tail joined to this piece's start.
        let mut seam = std::mem::take(&mut self.tail);
        seam.extend_from_slice(&chunk[..chunk.len().min(OVERLAP)]);
        for window in [&seam[..], chunk] {
            self.usage |= prefilter.usage.find(window).is_some();
            self.user |= prefilter.user.find(window).is_some();
            self.tool_result |= prefilter.tool_result.find(window).is_some();
        }
        // The stream's last bytes: the seam itself when this piece was short.
        let source: &[u8] = if chunk.len() <= OVERLAP { &seam } else { chunk };
        let keep = source.len().min(OVERLAP - 1);
        self.tail = source[source.len() - keep..].to_vec();
    }

    /// The route, given the line's last non-blank byte.
    pub fn route(&self, prefilter: &Prefilter, last_byte: Option<u8>) -> Route {
        let head = trim_start(&self.head);
        match (head.first(), last_byte) {
            (None, _) => Route::Blank,
            (Some(b'{'), Some(b'}')) => {
                if let Some(route) = leading_type(head).and_then(by_type) {
                    route
                } else if prefilter.is_tool_results(head) {
                    Route::Skip
                } else if self.usage || (self.user && !self.tool_result) {
                    Route::Parse
                } else {
                    Route::Skip
                }
            }
            _ => Route::NotJson,
        }
    }
}

/// The value of a leading `"type"` key, when the record starts with it.
fn leading_type(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(TYPE_FIRST)?;
    let end = memchr::memchr(b'"', rest)?;
    Some(&rest[..end])
}

/// The route a leading type decides alone; `None` for `user`, which needs the content checks.
fn by_type(kind: &[u8]) -> Option<Route> {
    match kind {
        b"assistant" | b"api-request" => Some(Route::Parse),
        b"user" => None,
        _ => Some(Route::Skip),
    }
}

fn trim(line: &[u8]) -> &[u8] {
    let line = trim_start(line);
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &line[..end]
}

fn trim_start(line: &[u8]) -> &[u8] {
    let start = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(line.len());
    &line[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(line: &str) -> Route {
        Prefilter::default().route(line.as_bytes())
    }

    #[test]
    fn routes_real_record_shapes() {
        assert_eq!(route(r#"{"type":"api-request","id":"x"}"#), Route::Parse);
        assert_eq!(
            route(r#"{"type":"api-request-shape","id":"x"}"#),
            Route::Skip
        );
        assert_eq!(
            route(r#"{"type":"queue-operation","usage":{}}"#),
            Route::Skip
        );
        assert_eq!(
            route(
                r#"{"parentUuid":"p","message":{"usage":{"input_tokens":1}},"type":"assistant"}"#
            ),
            Route::Parse
        );
        assert_eq!(
            route(r#"{"parentUuid":"p","type":"user","message":{"role":"user","content":"hi"}}"#),
            Route::Parse
        );
        assert_eq!(
            route(
                r#"{"parentUuid":"p","type":"user","message":{"content":[{"type":"tool_result"}]}}"#
            ),
            Route::Skip
        );
        assert_eq!(
            route(
                r#"{"parentUuid":"p","type":"attachment","attachment":{"text":"the \"usage\" word"}}"#
            ),
            Route::Skip,
            "escaped quotes never match"
        );
        assert_eq!(
            route(
                r#"{"parentUuid":"p","type":"user","message":{"role":"user","content":[{"tool_use_id":"t","type":"tool_result"}]},"toolUseResult":{"usage":{"input_tokens":1}}}"#
            ),
            Route::Skip,
            "a sub-agent's result repeats its usage; it is not a call"
        );
        assert_eq!(
            route(
                r#"{"parentUuid":"p","message":{"id":"m","role":"assistant","content":[{"type":"tool_use","input":{"type":"user","x":"tool_result"}}],"usage":{"input_tokens":1}},"type":"assistant"}"#
            ),
            Route::Parse,
            "an assistant record is read whatever its content holds"
        );
        assert_eq!(route("  \r"), Route::Blank);
        assert_eq!(
            route(r#"{"parentUuid":"p","message":{"usage":{"#),
            Route::NotJson
        );
        assert_eq!(route("garbage"), Route::NotJson);
    }

    #[test]
    fn pieces_route_like_the_whole_line() {
        let prefilter = Prefilter::default();
        let lines = [
            r#"{"parentUuid":"p","message":{"content":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","usage":{"input_tokens":1}},"type":"assistant"}"#,
            r#"{"parentUuid":"p","type":"user","message":{"role":"user","content":"bbbbbbbbbbbbbbbbbbbbbbbbbb"}}"#,
            r#"{"parentUuid":"p","type":"user","message":{"content":[{"type":"tool_result","content":"cccccc"}]}}"#,
            r#"{"type":"api-request","id":"dddddddddddddddddddddddddddddddddddddd"}"#,
            r#"{"parentUuid":"p","type":"attachment","x":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}"#,
        ];
        for line in lines {
            let whole = prefilter.route(line.as_bytes());
            for piece in 1..line.len() {
                let mut flags = Flags::default();
                for chunk in line.as_bytes().chunks(piece) {
                    flags.feed(&prefilter, chunk);
                }
                assert_eq!(
                    flags.route(&prefilter, line.as_bytes().last().copied()),
                    whole,
                    "{line} in pieces of {piece}"
                );
            }
        }
    }
}
