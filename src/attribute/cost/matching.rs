//! Model-id resolution: from the id a request named to the price entry that bills it.
//!
//! Requests name one model in many spellings — dated snapshots (`…-20260915`, `…@20260915`,
//! `…-2026-09-15`), `-latest` aliases, gateway prefixes (`anthropic/…`,
//! `openrouter/anthropic/…`), Bedrock (`us.anthropic.…-v1:0`) and Vertex (`…@default`) forms —
//! and LiteLLM lists many of them as entries of their own, some at other prices (Bedrock's
//! regional endpoints cost 10 % more). So the ladder, first hit wins, is:
//!
//! 1. the id itself (case-insensitive) — `us.anthropic.claude-opus-5-5` and
//!    `vertex_ai/claude-opus-5-5` get their own entries;
//! 2. the id with its Bedrock version suffix (`-v1:0`) removed, then also its date / `-latest`
//!    / `@default`, each tried as an entry id;
//! 3. the fully normalised id (also gateway and Bedrock vendor prefixes removed), against every
//!    entry's normalised id — where several entries normalise alike, a bare id beats a
//!    decorated one, then the provider's own API beats a cloud's, then the shorter id; the
//!    decorated ids of other resellers (LiteLLM's whole file lists dozens) are left out;
//! 4. the longest normalised entry id that prefixes it at a `-` boundary, unless what follows
//!    names another model or version (`o3-mini` is not `o3`, `claude-opus-5-5` is not
//!    `claude-opus-5`): a wrong price is worse than none, which reports show as unknown.
//!
//! Every step is a hash-map lookup (step 4: one per `-` in the id), so resolving costs the same
//! on a table of twenty ids or of five thousand.

use std::collections::HashMap;

use super::price::ModelPrice;

/// How a model id found its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The id is an entry id.
    Exact,
    /// The id, rewritten to this form, is (or normalises like) an entry id.
    Normalised(String),
    /// No entry for the id; it is a variant of this entry id (a prefix of it).
    Prefix(String),
}

/// Suffix segments that name a different, differently priced model rather than a variant of
/// the prefix (`o3-mini` is not `o3`, `gpt-5-pro` is not `gpt-5`, `…-fast` costs more).
const OTHER_MODEL_WORDS: [&str; 20] = [
    "mini",
    "nano",
    "micro",
    "lite",
    "pro",
    "max",
    "turbo",
    "audio",
    "realtime",
    "search",
    "fast",
    "flash",
    "image",
    "tts",
    "transcribe",
    "research",
    "haiku",
    "sonnet",
    "opus",
    "deep",
];

/// Providers whose entry wins when several decorated ids normalise alike: the APIs agents call
/// directly first, then the clouds that resell them (list prices, then regional uplifts).
const PROVIDER_RANK: [&str; 11] = [
    "anthropic",
    "openai",
    "gemini",
    "vertex_ai-language-models",
    "vertex_ai-anthropic_models",
    "deepseek",
    "xai",
    "mistral",
    "bedrock_converse",
    "bedrock",
    "azure",
];

/// Lookup maps over a table's entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Index {
    /// Lowercased entry id → entry.
    exact: HashMap<String, usize>,
    /// Normalised entry id → the preferred entry among those that normalise to it.
    normalised: HashMap<String, usize>,
}

impl Index {
    pub fn build(models: &[ModelPrice]) -> Index {
        let mut index = Index::default();
        let mut best: HashMap<String, (bool, usize, usize, usize)> = HashMap::new();
        for (i, m) in models.iter().enumerate() {
            let id = m.id.trim().to_ascii_lowercase();
            let name = normalise(&id);
            let rank = PROVIDER_RANK
                .iter()
                .position(|p| *p == m.provider)
                .unwrap_or(PROVIDER_RANK.len());
            // A decorated id of a reseller LiteLLM lists (`kyma/…`, `groq/…`) prices that
            // reseller's requests, not the model's: it answers only to its exact id.
            let known = rank < PROVIDER_RANK.len() || m.provider.is_empty();
            // Lower is better: bare ids first, then provider, then length, then table order.
            let key = (name != id, rank, id.len(), i);
            if (known || name == id) && best.get(&name).is_none_or(|b| key < *b) {
                best.insert(name.clone(), key);
                index.normalised.insert(name, i);
            }
            index.exact.entry(id).or_insert(i);
        }
        index
    }

    /// The entry that prices `model`, and how it was found.
    pub fn find(&self, model: &str) -> Option<(usize, Match)> {
        let id = model.trim().to_ascii_lowercase();
        if id.is_empty() {
            return None;
        }
        if let Some(&i) = self.exact.get(&id) {
            return Some((i, Match::Exact));
        }
        let unversioned = strip_bedrock_version(&id);
        let undated = strip_date(unversioned);
        for form in [unversioned, undated] {
            if form != id
                && let Some(&i) = self.exact.get(form)
            {
                return Some((i, Match::Normalised(form.to_string())));
            }
        }
        let name = normalise(&id);
        if let Some(&i) = self.exact.get(&name).or_else(|| self.normalised.get(&name)) {
            return Some((i, Match::Normalised(name)));
        }
        // Longest prefix first: walk the `-` boundaries from the right.
        let boundaries = name.match_indices('-').map(|(at, _)| at).rev();
        for at in boundaries {
            let (prefix, rest) = (&name[..at], &name[at + 1..]);
            if is_variant_suffix(rest)
                && let Some(&i) = self.normalised.get(prefix)
            {
                return Some((i, Match::Prefix(prefix.to_string())));
            }
        }
        None
    }
}

/// Whether `rest` (what follows a prefix and its `-`) names a variant of the prefix's model,
/// not another model or version.
fn is_variant_suffix(rest: &str) -> bool {
    let first = rest.split('-').next().unwrap_or_default();
    if first.is_empty() || OTHER_MODEL_WORDS.contains(&first) {
        return false;
    }
    // A short number (`4`, `4.5`) is a version (`claude-opus-4-7` is not `claude-opus-4`), as is
    // `v2`; dates, at least four digits (`gpt-4o-2024-08-06`, `gpt-4-0613`), are snapshots.
    let numeric = first.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let version = numeric && (first.contains('.') || first.len() <= 3);
    let v_version = first.strip_prefix('v').is_some_and(is_digits);
    !version && !v_version
}

/// Lowercases and strips what does not change the model (or its list price): gateway and
/// Bedrock vendor/region prefixes, Bedrock version suffix, date, `-latest`, `@default`.
pub(super) fn normalise(model: &str) -> String {
    let mut s = model.trim().to_ascii_lowercase();
    // Gateway prefixes: `anthropic/claude-…`, `openrouter/openai/gpt-…`, `bedrock/us-east-1/…`.
    if let Some(pos) = s.rfind('/') {
        s = s[pos + 1..].to_string();
    }
    let s = strip_vendor_dot_prefix(&s);
    strip_date(strip_bedrock_version(s)).to_string()
}

/// Bedrock ids: `anthropic.claude-…`, or with a region profile, `us.anthropic.claude-…`.
fn strip_vendor_dot_prefix(s: &str) -> &str {
    for vendor in ["anthropic.", "openai."] {
        if let Some(pos) = s.find(vendor) {
            let before = &s[..pos];
            let region_ok = before.is_empty()
                || before.strip_suffix('.').is_some_and(|r| {
                    !r.is_empty() && r.bytes().all(|c| c.is_ascii_lowercase() || c == b'-')
                });
            if region_ok {
                return &s[pos + vendor.len()..];
            }
        }
    }
    s
}

/// `…-v1:0` → `…` (Bedrock's version suffix; the colon keeps `…-v2` model names intact).
fn strip_bedrock_version(s: &str) -> &str {
    let Some(pos) = s.rfind("-v") else { return s };
    let Some((major, minor)) = s[pos + 2..].split_once(':') else {
        return s;
    };
    if is_digits(major) && is_digits(minor) {
        &s[..pos]
    } else {
        s
    }
}

/// `…-20250805`, `…@20250805`, `…-2025-08-05`, `…@default`, `…-latest` → `…`.
fn strip_date(s: &str) -> &str {
    for suffix in ["-latest", "@default", "@latest"] {
        if let Some(head) = s.strip_suffix(suffix) {
            return head;
        }
    }
    let b = s.as_bytes();
    // `-YYYYMMDD` / `@YYYYMMDD` (the boundary checks keep slicing safe on non-ASCII ids).
    if b.len() > 9 && s.is_char_boundary(b.len() - 9) {
        let (head, tail) = s.split_at(b.len() - 9);
        if (tail.starts_with('-') || tail.starts_with('@')) && is_digits(&tail[1..]) {
            return head;
        }
    }
    // OpenAI's `-YYYY-MM-DD`.
    if b.len() > 11 && s.is_char_boundary(b.len() - 11) {
        let (head, tail) = s.split_at(b.len() - 11);
        let t = tail.as_bytes();
        let dashes = t[0] == b'-' && t[5] == b'-' && t[8] == b'-';
        let digits = [1, 2, 3, 4, 6, 7, 9, 10]
            .iter()
            .all(|&i| t[i].is_ascii_digit());
        if dashes && digits {
            return head;
        }
    }
    s
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}
