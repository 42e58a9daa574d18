//! Model-id matching: from the id a request named to the price entry that bills it.
//!
//! Requests name models in many spellings of one id — dated snapshots, `-latest` aliases,
//! gateway prefixes (`anthropic/…`), Bedrock (`us.anthropic.…-v1:0`) and Vertex (`…@date`)
//! forms. They are normalised, then matched exactly, then by the longest table id that is a
//! prefix ending at a `-` boundary. A wrong price is worse than none (an unknown model is
//! reported as such), so prefix matching refuses suffixes that name a different model.

/// Suffix segments that name a different, differently priced model rather than a variant
/// of the prefix (`o3-mini` is not `o3`, `gpt-5-pro` is not `gpt-5`).
const OTHER_MODEL_WORDS: [&str; 10] = [
    "mini", "nano", "micro", "lite", "pro", "max", "turbo", "audio", "realtime", "search",
];

/// Index of the entry of `ids` (already lowercase) that prices `model`, if any.
pub(super) fn find(ids: &[String], model: &str) -> Option<usize> {
    if let Some(i) = ids.iter().position(|id| id == model) {
        return Some(i);
    }
    let name = normalise(model);
    if let Some(i) = ids.iter().position(|id| *id == name) {
        return Some(i);
    }
    ids.iter()
        .enumerate()
        .filter(|(_, id)| is_variant_of(&name, id))
        .max_by_key(|(_, id)| id.len())
        .map(|(i, _)| i)
}

/// Whether `name` is `id` followed by `-suffix` where the suffix does not start a new model.
fn is_variant_of(name: &str, id: &str) -> bool {
    let Some(rest) = name.strip_prefix(id) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('-') else {
        return false;
    };
    let first = rest.split('-').next().unwrap_or_default();
    // A short number is a version (`claude-opus-4-7` is not `claude-opus-4`); dates, which
    // are at least four digits (`gpt-4o-2024-08-06`, `gpt-4-0613`), are snapshots of `id`.
    let is_version = !first.is_empty() && first.len() <= 3 && is_digits(first);
    !first.is_empty() && !is_version && !OTHER_MODEL_WORDS.contains(&first)
}

/// Lowercases and strips the decorations that do not change the model (or its price).
pub(super) fn normalise(model: &str) -> String {
    let mut s = model.trim().to_ascii_lowercase();
    // Gateway prefixes: `anthropic/claude-…`, `openrouter/openai/gpt-…`.
    if let Some(pos) = s.rfind('/') {
        s = s[pos + 1..].to_string();
    }
    s = strip_vendor_dot_prefix(&s).to_string();
    // Bedrock version suffix (`-v1:0`) sits after the date, so it goes first.
    s = strip_bedrock_version(&s).to_string();
    if let Some(rest) = s.strip_suffix("-latest") {
        s = rest.to_string();
    }
    strip_date(&s).to_string()
}

/// Bedrock ids: `anthropic.claude-…` or with a region profile, `us.anthropic.claude-…`.
fn strip_vendor_dot_prefix(s: &str) -> &str {
    for vendor in ["anthropic.", "openai."] {
        if let Some(pos) = s.find(vendor) {
            let before = &s[..pos];
            let region_ok = before.is_empty()
                || before
                    .strip_suffix('.')
                    .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_lowercase()));
            if region_ok {
                return &s[pos + vendor.len()..];
            }
        }
    }
    s
}

/// `…-v1:0`, `…-v2` → `…`.
fn strip_bedrock_version(s: &str) -> &str {
    let Some(pos) = s.rfind("-v") else { return s };
    let tail = &s[pos + 2..];
    let mut parts = tail.split(':');
    let major_ok = parts.next().is_some_and(is_digits);
    let minor_ok = parts.next().is_none_or(is_digits);
    if major_ok && minor_ok && parts.next().is_none() {
        &s[..pos]
    } else {
        s
    }
}

/// `…-20250805` or `…@20250805` → `…`.
fn strip_date(s: &str) -> &str {
    // The boundary check keeps slicing safe on ids with non-ASCII characters.
    if s.len() > 9 && s.is_char_boundary(s.len() - 9) {
        let (head, tail) = s.split_at(s.len() - 9);
        if (tail.starts_with('-') || tail.starts_with('@')) && is_digits(&tail[1..]) {
            return head;
        }
    }
    s
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}
