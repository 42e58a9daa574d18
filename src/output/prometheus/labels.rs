//! Label sets of the exported metrics, and the one label whose values come from outside: the
//! model id.
//!
//! Every other label has a fixed set of values (categories, roles, token types, providers,
//! HTTP status codes). Model ids are whatever the agent put in its requests, so they are capped:
//! the first [`MAX_MODELS`] distinct ids are exported as they are, later ones as `other`. That
//! keeps the number of series bounded however a client misbehaves.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::encoding::EncodeLabelSet;

/// Distinct model ids exported before the rest are folded into [`OTHER_MODELS`].
pub const MAX_MODELS: usize = 32;
/// The model label of calls whose model id came after the cap.
pub const OTHER_MODELS: &str = "other";
/// The model label of calls that named no model (`GET /v1/models`, unreadable bodies).
pub const NO_MODEL: &str = "none";
/// Longest model id kept; longer ids are cut (real ids are far shorter).
const MAX_MODEL_LEN: usize = 128;

/// Hands out model label values, at most [`MAX_MODELS`] distinct ones.
#[derive(Debug, Default)]
pub struct ModelLabels {
    seen: Mutex<HashSet<Arc<str>>>,
}

impl ModelLabels {
    /// The label value for a call's model.
    pub fn label(&self, model: Option<&str>) -> Arc<str> {
        let Some(model) = model.filter(|m| !m.is_empty()) else {
            return Arc::from(NO_MODEL);
        };
        let model = truncate(model, MAX_MODEL_LEN);
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = seen.get(model) {
            return known.clone();
        }
        if seen.len() >= MAX_MODELS {
            return Arc::from(OTHER_MODELS);
        }
        let label: Arc<str> = Arc::from(model);
        seen.insert(label.clone());
        label
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a char boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `agentprof_tokens_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct TokenLabels {
    pub r#type: &'static str,
    pub category: &'static str,
    pub model: Arc<str>,
    pub provider: &'static str,
}

/// `agentprof_requests_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    pub category: &'static str,
    pub model: Arc<str>,
    pub provider: &'static str,
    /// The HTTP status code as text, or `error` when the call got none.
    pub status: Arc<str>,
}

/// `agentprof_request_errors_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ErrorLabels {
    pub category: &'static str,
    pub model: Arc<str>,
    pub provider: &'static str,
    /// The error kind (`upstream_status`, `stream_error`, `client_disconnected`, …).
    pub kind: &'static str,
}

/// Cost and latency metrics: `{category, model}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct CategoryModel {
    pub category: &'static str,
    pub model: Arc<str>,
}

/// `agentprof_kv_bytes`: `{category}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct CategoryOnly {
    pub category: &'static str,
}

/// `agentprof_unpriced_requests_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ModelOnly {
    pub model: Arc<str>,
}

/// Memory gauges: `{role}` with `main`, `subagent`, `other` or `total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RoleLabel {
    pub role: &'static str,
}

/// Byte counters: `{provider}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ProviderLabel {
    pub provider: &'static str,
}

/// `agentprof_other_requests_total`: `{provider, status}` — requests that are not model calls.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ProviderStatus {
    pub provider: &'static str,
    /// The HTTP status code as text, or `error` when the request got none.
    pub status: Arc<str>,
}

/// `agentprof_kv_bytes_per_token`: which profile the KV figures assume.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ProfileLabel {
    pub profile: &'static str,
}

/// `agentprof_findings`: `{kind, severity, scope}`, each from a fixed set in the code that
/// makes findings (never a pid, a path or a model id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct FindingLabels {
    pub kind: String,
    pub severity: String,
    pub scope: String,
}

/// `agentprof_memory_leak_bytes_per_hour`: `{scope}` (`tree` or `process`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ScopeLabel {
    pub scope: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_labels_are_capped_and_stable() {
        let labels = ModelLabels::default();
        assert_eq!(&*labels.label(None), NO_MODEL);
        assert_eq!(&*labels.label(Some("")), NO_MODEL);
        for i in 0..MAX_MODELS {
            let model = format!("model-{i}");
            assert_eq!(&*labels.label(Some(&model)), model.as_str());
        }
        assert_eq!(&*labels.label(Some("one-too-many")), OTHER_MODELS);
        // Models admitted before the cap keep their own label.
        assert_eq!(&*labels.label(Some("model-0")), "model-0");
    }

    #[test]
    fn long_model_ids_are_cut_on_a_char_boundary() {
        let labels = ModelLabels::default();
        let long = "é".repeat(100);
        let label = labels.label(Some(&long));
        assert!(label.len() <= MAX_MODEL_LEN);
        assert!(long.starts_with(&*label));
    }
}
