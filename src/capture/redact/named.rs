//! Values that are credentials because of their name, whatever they look like.
//!
//! Three shapes cover what travels in model-call bodies: JSON members (`"api_key": "…"`, also
//! escaped inside a JSON string, as a tool result holding JSON is: `\"token\": \"…\"`),
//! assignments (`OPENAI_API_KEY=…`, `?access_token=…&`) and header-like lines
//! (`Cookie: a=b; c=d`, `x-api-key: …`). A name counts when, lower-cased and without `-`, `_`
//! and `.`, it contains one of [`CREDENTIAL_WORDS`] or ends in `key`. Numbers are never masked
//! (`"max_tokens": 64`, `Input tokens: 1234` are counts, not secrets), nor are JSON values that
//! are not strings. Masking errs on the side of hiding: a captured body is for reading what was
//! asked, not for replaying it.

/// Words that make a name a credential's.
const CREDENTIAL_WORDS: [&str; 9] = [
    "apikey",
    "authorization",
    "cookie",
    "password",
    "passwd",
    "secret",
    "token",
    "credential",
    "privatekey",
];

/// Whether `name` names a credential.
fn names_credential(name: &str) -> bool {
    let squashed: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    !squashed.is_empty()
        && (squashed.ends_with("key") || CREDENTIAL_WORDS.iter().any(|w| squashed.contains(w)))
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// The name before a `:` or `=` at `sep`: `(start, end, quoted)`. A quoted name (a JSON key,
/// plain `"name"` or escaped `\"name\"`) may have blanks before the separator; a bare one
/// must touch it.
fn name_before(bytes: &[u8], sep: usize) -> (usize, usize, bool) {
    let mut end = sep;
    while end > 0 && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    let quoted = end > 0 && bytes[end - 1] == b'"';
    if quoted {
        end -= 1;
        if end > 0 && bytes[end - 1] == b'\\' {
            end -= 1;
        }
    } else if end != sep {
        return (sep, sep, false);
    }
    let mut start = end;
    while start > 0 && is_name_byte(bytes[start - 1]) {
        start -= 1;
    }
    (start, end, quoted)
}

/// The end of a JSON string's contents starting at `start` (the index of its closing quote,
/// or the end of the text when it has none). `escaped`: the string sits inside another JSON
/// string, so its quotes are `\"`.
fn string_end(bytes: &[u8], start: usize, escaped: bool) -> usize {
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escaped && bytes.get(i + 1) == Some(&b'"') => return i,
            // An escape sequence: skip the escaped byte (an escaped string's own escapes
            // are doubled, `\\\"`, and skipping pairs handles them too).
            b'\\' => i += 2,
            b'"' if !escaped => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Where a bare value ends: at a blank or quote after `=`; at the end of the line after `:`
/// (header values such as cookies contain blanks). A backslash ends both: inside JSON text it
/// starts the `\n` that ends the line.
fn bare_end(bytes: &[u8], start: usize, sep: u8) -> usize {
    let stops: &[u8] = if sep == b'=' {
        b" \t\r\n\"'\\&;,"
    } else {
        b"\r\n\"\\"
    };
    bytes[start..]
        .iter()
        .position(|b| stops.contains(b))
        .map_or(bytes.len(), |n| start + n)
}

fn is_count(value: &[u8]) -> bool {
    let value = value.trim_ascii();
    !value.is_empty()
        && value
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b','))
}

/// `text` with the value of every credential-named member, assignment or header replaced by
/// `***`.
pub fn mask_named_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    // All indices are positions of ASCII bytes (separators, quotes, name bytes, stops) or the
    // text's end, hence character boundaries.
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = memchr::memchr2(b':', b'=', &bytes[from..]) {
        let sep = from + found;
        from = sep + 1;
        let (name_start, name_end, quoted) = name_before(bytes, sep);
        if name_start >= name_end || name_start < copied {
            continue;
        }
        if !names_credential(&text[name_start..name_end]) {
            continue;
        }
        let mut v = sep + 1;
        while v < bytes.len() && matches!(bytes[v], b' ' | b'\t') {
            v += 1;
        }
        let (start, end) = match (bytes.get(v), bytes.get(v + 1)) {
            (Some(b'"'), _) => (v + 1, string_end(bytes, v + 1, false)),
            (Some(b'\\'), Some(b'"')) => (v + 2, string_end(bytes, v + 2, true)),
            // A JSON member whose value is a number, object, … holds no text to mask.
            _ if quoted => continue,
            _ => (v, bare_end(bytes, v, bytes[sep])),
        };
        if start >= end || is_count(&bytes[start..end]) {
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str("***");
        copied = end;
        from = end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_members_named_as_credentials_are_masked() {
        assert_eq!(
            mask_named_values(r#"{"api_key": "abc123", "n": 1, "max_tokens": 64}"#),
            r#"{"api_key": "***", "n": 1, "max_tokens": 64}"#
        );
        assert_eq!(
            mask_named_values(r#"{"x-api-key":"k\"q","authorization":"Basic dXNlcjpwYXNz"}"#),
            r#"{"x-api-key":"***","authorization":"***"}"#
        );
        // Inside a JSON string (a tool result holding JSON).
        assert_eq!(
            mask_named_values(r#"{"content":"{\"token\": \"t0k3n\", \"ok\": 1}"}"#),
            r#"{"content":"{\"token\": \"***\", \"ok\": 1}"}"#
        );
    }

    #[test]
    fn assignments_and_header_lines_are_masked() {
        assert_eq!(
            mask_named_values(r#"{"text":"export DB_PASSWORD=hunter2\nls"}"#),
            r#"{"text":"export DB_PASSWORD=***\nls"}"#
        );
        assert_eq!(
            mask_named_values("GET /x?access_token=abc&page=2"),
            "GET /x?access_token=***&page=2"
        );
        assert_eq!(
            mask_named_values("Cookie: session=abc; theme=dark\nAccept: */*"),
            "Cookie: ***\nAccept: */*"
        );
        assert_eq!(
            mask_named_values("OPENAI_KEY=xyz more"),
            "OPENAI_KEY=*** more"
        );
    }

    #[test]
    fn counts_and_ordinary_text_are_kept() {
        for text in [
            r#"{"input_tokens": 12, "output_tokens": 3}"#,
            "Input tokens: 1234",
            "a: b = c, ratio=3",
            r#"{"keys": {"a": 1}}"#,
            "",
            ":=:=",
        ] {
            assert_eq!(mask_named_values(text), text);
        }
    }

    #[test]
    fn unterminated_values_are_masked_to_the_end() {
        assert_eq!(
            mask_named_values(r#"{"secret": "abc"#),
            r#"{"secret": "***"#
        );
        assert_eq!(mask_named_values("token=é€x"), "token=***");
    }
}
