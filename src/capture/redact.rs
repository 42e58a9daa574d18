//! Masking credentials in text that agentprof stores (captured bodies, command lines).
//!
//! Headers are handled structurally (secret headers are never read); this catches keys that
//! travel inside text: `sk-…` API keys and `Bearer …` tokens.

/// Replaces API-key-looking tokens (`sk-…`, `sk-ant-…`, `Bearer …`) with a mask.
pub fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = find_secret_start(rest) {
        let (before, candidate) = rest.split_at(pos);
        out.push_str(before);
        let (prefix_len, keep) = if candidate.starts_with("Bearer ") {
            (7, "Bearer ")
        } else {
            (3, "sk-")
        };
        let body_len = candidate[prefix_len..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            .count();
        if body_len >= 8 {
            out.push_str(keep);
            out.push_str("***");
            rest = &candidate[prefix_len + body_len..];
        } else {
            out.push_str(&candidate[..prefix_len]);
            rest = &candidate[prefix_len..];
        }
    }
    out.push_str(rest);
    out
}

fn find_secret_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(offset) = memchr::memchr2(b's', b'B', &bytes[from..]) {
        let at = from + offset;
        let boundary = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
        if boundary && (bytes[at..].starts_with(b"sk-") || bytes[at..].starts_with(b"Bearer ")) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_bearer_tokens_are_masked() {
        assert_eq!(
            redact_secrets(r#"{"key":"sk-ant-api03-abcdefghijkl","n":1}"#),
            r#"{"key":"sk-***","n":1}"#
        );
        assert_eq!(
            redact_secrets("Authorization: Bearer abc.def-ghi_jkl"),
            "Authorization: Bearer ***"
        );
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let text = "task-list and sk-1 and ask-me, Bearer x";
        assert_eq!(redact_secrets(text), text);
    }
}
