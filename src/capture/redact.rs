//! Masking credentials in text that agentprof stores (captured bodies, command lines).
//!
//! Headers are handled structurally (secret headers are never read); this catches keys that
//! travel inside text: API keys and tokens by their well-known prefixes (`sk-…`, `Bearer …`,
//! GitHub, Slack, AWS and Google key shapes), values named as credentials (`"api_key": "…"`,
//! `PASSWORD=…`, `Cookie: …`, see `named`) and command-line arguments (`--api-key VALUE`).

mod named;

/// Token shapes masked wherever they start a word: the prefix kept, then at least `min` key
/// characters (ASCII letters, digits, `-`, `_`, `.`), which are replaced by `***`.
const TOKEN_SHAPES: [(&str, usize); 12] = [
    ("sk-", 8),
    ("Bearer ", 8),
    ("ghp_", 20),
    ("gho_", 20),
    ("ghs_", 20),
    ("ghu_", 20),
    ("ghr_", 20),
    ("github_pat_", 20),
    ("xoxb-", 10),
    ("xoxp-", 10),
    ("AKIA", 16),
    ("AIza", 30),
];

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// Replaces API-key-looking tokens (`TOKEN_SHAPES`: `sk-…`, `sk-ant-…`, `Bearer …`, …) with a
/// mask.
pub fn redact_secrets(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    // Every index below is the position of an ASCII byte, so slicing there is always on a
    // character boundary.
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        let boundary = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
        let shape = boundary
            .then(|| {
                TOKEN_SHAPES
                    .iter()
                    .find(|(prefix, _)| bytes[at..].starts_with(prefix.as_bytes()))
            })
            .flatten();
        let Some((prefix, min)) = shape else {
            at += 1;
            continue;
        };
        let key_start = at + prefix.len();
        let key_len = bytes[key_start..]
            .iter()
            .take_while(|b| is_key_byte(**b))
            .count();
        if key_len >= *min {
            out.push_str(&text[copied..key_start]);
            out.push_str("***");
            copied = key_start + key_len;
            at = copied;
        } else {
            at = key_start;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// A captured request or response body with its credentials masked: values named as
/// credentials first (so a key under `"x-api-key"` goes whatever its shape), then token shapes.
pub fn redact_body(text: &str) -> String {
    redact_secrets(&named::mask_named_values(text))
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
    fn other_token_shapes_are_masked() {
        let text =
            "gh ghp_0123456789abcdefghijKLMN aws AKIAIOSFODNN7EXAMPLE slack xoxb-1234-5678-abcd";
        assert_eq!(
            redact_secrets(text),
            "gh ghp_*** aws AKIA*** slack xoxb-***"
        );
    }

    #[test]
    fn bodies_lose_named_values_and_token_shapes() {
        let body = r#"{"messages":[{"role":"user","content":"key sk-ant-api03-ABCDEFGH1234 and\nAPI_TOKEN=plain-secret-value"}],"metadata":{"x-api-key":"short"}}"#;
        assert_eq!(
            redact_body(body),
            r#"{"messages":[{"role":"user","content":"key sk-*** and\nAPI_TOKEN=***"}],"metadata":{"x-api-key":"***"}}"#
        );
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let text = "task-list and sk-1 and ask-me, Bearer x";
        assert_eq!(redact_secrets(text), text);
    }
}
