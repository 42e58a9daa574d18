//! Why a synthetic agent run failed. Both shapes share these: any failed call ends the run.

use std::time::Duration;

use crate::observation::Category;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{0} is not set; point it at the agentprof proxy or a mock upstream")]
    MissingBaseUrl(&'static str),
    #[error(
        "base URL `{0}` is not a usable http:// URL (the synthetic agent speaks plain HTTP only)"
    )]
    BadBaseUrl(String),
    #[error("{0} call could not be sent: {1}")]
    Connect(Category, String),
    #[error("{0} call failed with HTTP {1}: {2}")]
    Status(Category, u16, String),
    #[error("{0} call: the response body broke off: {1}")]
    Body(Category, String),
    #[error("{0} call: the stream carried an error event: {1}")]
    StreamError(Category, String),
    #[error("{0} call: the stream ended before {1}")]
    Truncated(Category, &'static str),
    #[error("{0} call: unreadable response: {1}")]
    Json(Category, String),
    #[error("{0} call timed out after {1:?}")]
    Timeout(Category, Duration),
    #[error("sub-agent process failed: {0}")]
    Subagent(String),
}
