//! Server KV-cache bytes: what the traced calls made an inference server hold.
//!
//! A call occupies `prompt tokens × bytes/token` of KV memory while it is in flight. Bytes per
//! token come from an architecture profile (Claude's architecture is not public, so any figure
//! is an assumption, and reports say which profile they used).

use std::collections::BTreeMap;

use super::summary::KvReport;
use crate::output::trace::ReadTrace;

/// The profile used when none is given.
pub const DEFAULT_PROFILE: &str = "llama-3.1-405b";

/// Bytes of KV cache per token for a known profile: 2 × layers × kv_heads × head_dim × bytes.
pub fn bytes_per_token(profile: &str) -> Option<u64> {
    match profile {
        "llama-3.1-405b" => Some(2 * 126 * 8 * 128 * 2),
        _ => None,
    }
}

/// In-flight KV occupancy of every call in the traces: peak and byte-seconds per category.
pub fn summarize(traces: &[ReadTrace], profile: &str) -> KvReport {
    let bpt = bytes_per_token(profile).unwrap_or(0);
    // (time, +/- bytes) edges, so overlapping calls add up.
    let mut edges: Vec<(f64, i128)> = Vec::new();
    let mut byte_seconds = 0.0;
    let mut by_category: BTreeMap<String, f64> = BTreeMap::new();
    for call in traces.iter().flat_map(|t| t.calls.iter()) {
        let (Some(usage), Some(end)) = (call.usage, call.t_end) else {
            continue;
        };
        let bytes = usage.prompt_tokens() as u128 * bpt as u128;
        let seconds = (end - call.t_start).max(0.0);
        byte_seconds += bytes as f64 * seconds;
        *by_category
            .entry(call.category.as_str().to_string())
            .or_default() += bytes as f64 * seconds;
        edges.push((call.t_start, bytes as i128));
        edges.push((end, -(bytes as i128)));
    }
    // Ends sort before starts at the same instant: back-to-back calls do not overlap.
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut level, mut peak) = (0i128, 0i128);
    for (_, delta) in edges {
        level += delta;
        peak = peak.max(level);
    }
    KvReport {
        profile: profile.to_string(),
        bytes_per_token: bpt,
        peak_bytes: peak.max(0) as u64,
        byte_seconds,
        by_category_byte_seconds: by_category,
    }
}
