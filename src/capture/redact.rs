//! Masking credentials in text that agentprof stores (captured bodies, command lines).
//!
//! Headers are handled structurally (secret headers are never read); this catches keys that
//! travel inside text (`sk-…` API keys, `Bearer …` tokens) and inside command lines
//! (`--api-key VALUE`, `TOKEN=VALUE`).

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

/// Names that mark a value as a credential, matched case-insensitively.
const SECRET_WORDS: [&str; 4] = ["key", "token", "secret", "password"];

fn names_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| name.contains(word))
}

/// `arg` with any credential replaced by `***`. `prev` is the argument before it.
///
/// Redacted: `NAME=value` where NAME names a secret (→ `NAME=***`), the value following a flag
/// named so (`--api-key sk…` → `***`), and anything starting with `sk-` (API keys).
pub fn redact_arg(arg: &str, prev: Option<&str>) -> String {
    if arg.starts_with("sk-") {
        return "***".to_owned();
    }
    if let Some((name, _)) = arg.split_once('=')
        && names_secret(name)
    {
        return format!("{name}=***");
    }
    if let Some(flag) = prev
        && flag.starts_with('-')
        && !flag.contains('=')
        && names_secret(flag)
    {
        return "***".to_owned();
    }
    arg.to_owned()
}

/// A command line with every credential-looking argument masked ([`redact_arg`]).
pub fn redact_command(argv: &[String]) -> Vec<String> {
    argv.iter()
        .enumerate()
        .map(|(i, arg)| {
            let prev = i.checked_sub(1).map(|p| argv[p].as_str());
            redact_secrets(&redact_arg(arg, prev))
        })
        .collect()
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
    fn command_lines_lose_their_credentials() {
        let argv: Vec<String> = [
            "claude",
            "--api-key",
            "abc123",
            "TOKEN=xyz",
            "-p",
            "hi sk-ant-abcdefghijk",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            redact_command(&argv),
            ["claude", "--api-key", "***", "TOKEN=***", "-p", "hi sk-***"]
        );
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let text = "task-list and sk-1 and ask-me, Bearer x";
        assert_eq!(redact_secrets(text), text);
    }
}
