//! Requests that are not model calls: counted apart, never in a category.
//!
//! Agents send more than model calls through the proxy: Claude Code's connectivity probe
//! (`HEAD /api/hello`) before its first call, model lists (`GET /v1/models`), token counting
//! (`POST /v1/messages/count_tokens`), auth endpoints. None of them is work anybody asked a model
//! to do, so none belongs to a category's calls, tokens or errors; a report shows them on one
//! line ("other requests: N (errors M)") with a count per endpoint, so a probe the upstream
//! refused is visible without reading as a failed call of the session.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::observation::Call;

/// The report's `other_requests` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherRequests {
    pub requests: u64,
    /// Those that got a non-2xx status or were cut off.
    pub errors: u64,
    /// Requests per `METHOD /path` (query string removed).
    pub by_path: BTreeMap<String, u64>,
    /// Errors per `METHOD /path`, only for endpoints that had any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors_by_path: BTreeMap<String, u64>,
}

impl OtherRequests {
    /// Counts one request.
    pub fn add(&mut self, request: &Call) {
        let endpoint = request.endpoint();
        self.requests += 1;
        if request.is_error() {
            self.errors += 1;
            *self.errors_by_path.entry(endpoint.clone()).or_default() += 1;
        }
        *self.by_path.entry(endpoint).or_default() += 1;
    }

    /// The report line: `3 (errors 1): HEAD /api/hello 1, GET /v1/models 2 (1 error)`, the
    /// busiest endpoints first, at most `shown` of them.
    pub fn describe(&self, shown: usize) -> String {
        let mut endpoints: Vec<(&String, &u64)> = self.by_path.iter().collect();
        endpoints.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut parts: Vec<String> = endpoints
            .iter()
            .take(shown)
            .map(|(endpoint, n)| match self.errors_by_path.get(*endpoint) {
                Some(1) => format!("{endpoint} {n} (1 error)"),
                Some(e) => format!("{endpoint} {n} ({e} errors)"),
                None => format!("{endpoint} {n}"),
            })
            .collect();
        if endpoints.len() > shown {
            parts.push(format!("{} more endpoints", endpoints.len() - shown));
        }
        format!(
            "{} (errors {}): {}",
            self.requests,
            self.errors,
            parts.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::ApiKind;

    fn request(method: &str, path: &str, status: Option<u16>) -> Call {
        Call {
            api: ApiKind::Other,
            method: method.into(),
            path: path.into(),
            stream: false,
            status,
            classified_by: crate::observation::NOT_A_MODEL_CALL.into(),
            ..Call::blank()
        }
    }

    #[test]
    fn counts_by_endpoint_without_the_query() {
        let mut other = OtherRequests::default();
        other.add(&request("HEAD", "/api/hello", Some(404)));
        other.add(&request("GET", "/v1/models?client_version=1", Some(200)));
        other.add(&request("GET", "/v1/models", Some(200)));
        other.add(&request("POST", "/v1/messages/count_tokens", None));
        assert_eq!(other.requests, 4);
        assert_eq!(other.errors, 2);
        assert_eq!(other.by_path["GET /v1/models"], 2);
        assert_eq!(other.by_path["HEAD /api/hello"], 1);
        assert_eq!(other.errors_by_path.len(), 2);
        assert_eq!(
            other.describe(2),
            "4 (errors 2): GET /v1/models 2, HEAD /api/hello 1 (1 error), 1 more endpoints"
        );
    }
}
