//! Header handling: what is forwarded, what is dropped, and the few values agentprof reads.
//!
//! Hop-by-hop headers belong to one connection and are never forwarded (RFC 9110 §7.6.1).
//! Secret-bearing headers are forwarded to the upstream — the agent needs them to authenticate
//! — but are never read into any record.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// Headers that only concern one hop.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers that carry credentials: forwarded upstream, never recorded anywhere.
pub const SECRET_HEADERS: [&str; 6] = [
    "x-api-key",
    // Gemini's API key.
    "x-goog-api-key",
    "authorization",
    "cookie",
    "proxy-authorization",
    "set-cookie",
];

/// Removes hop-by-hop headers, including any the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Prepares the client's headers for the upstream: no hop-by-hop headers, no `Host` (the client
/// sets the upstream's), no `Expect` (the `100 Continue` handshake happened on the client's hop:
/// hyper answered it when the proxy started reading the body), and `Accept-Encoding: identity`
/// so the usage parser reads plain bytes.
pub fn to_upstream(headers: &mut HeaderMap) {
    strip_hop_by_hop(headers);
    headers.remove(header::HOST);
    headers.remove(header::EXPECT);
    headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
}

/// A header's value as text, bounded in length, for the few ids agentprof records.
pub fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    debug_assert!(!SECRET_HEADERS.contains(&name), "never read secret headers");
    let value = headers.get(name)?.to_str().ok()?.trim();
    if value.is_empty() {
        return None;
    }
    Some(value.chars().take(200).collect())
}

/// The request headers classification may look at: everything but credentials and cookies,
/// at most 64 of them, values cut at 256 bytes.
pub fn for_classification(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| !SECRET_HEADERS.contains(&name.as_str()))
        .filter_map(|(name, value)| {
            let value = value.to_str().ok()?;
            let mut end = value.len().min(256);
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            Some((name.as_str().to_string(), value[..end].to_string()))
        })
        .take(64)
        .collect()
}

/// The upstream's request id (`request-id` from Anthropic, `x-request-id` from OpenAI).
pub fn upstream_request_id(headers: &HeaderMap) -> Option<String> {
    text(headers, "request-id").or_else(|| text(headers, "x-request-id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_connection_named_headers_are_removed() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, x-private"),
        );
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("x-api-key", HeaderValue::from_static("sk-secret"));
        h.insert("host", HeaderValue::from_static("127.0.0.1:1"));
        h.insert("accept-encoding", HeaderValue::from_static("gzip"));
        h.insert("expect", HeaderValue::from_static("100-continue"));
        to_upstream(&mut h);
        assert!(h.get("expect").is_none());
        assert!(h.get("connection").is_none());
        assert!(h.get("x-private").is_none());
        assert!(h.get("transfer-encoding").is_none());
        assert!(h.get("host").is_none());
        assert_eq!(h.get("accept-encoding").unwrap(), "identity");
        assert_eq!(
            h.get("x-api-key").unwrap(),
            "sk-secret",
            "credentials still reach upstream"
        );
    }

    #[test]
    fn classification_never_sees_secrets() {
        let mut h = HeaderMap::new();
        h.insert("x-api-key", HeaderValue::from_static("sk-secret"));
        h.insert(
            "authorization",
            HeaderValue::from_static("Bearer sk-secret"),
        );
        h.insert("cookie", HeaderValue::from_static("a=b"));
        h.insert("user-agent", HeaderValue::from_static("claude-cli/2.1.0"));
        let kept = for_classification(&h);
        assert_eq!(
            kept,
            vec![("user-agent".to_string(), "claude-cli/2.1.0".to_string())]
        );
    }

    #[test]
    fn request_id_from_either_header() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("req_1"));
        assert_eq!(upstream_request_id(&h).as_deref(), Some("req_1"));
        h.insert("request-id", HeaderValue::from_static("req_2"));
        assert_eq!(upstream_request_id(&h).as_deref(), Some("req_2"));
    }
}
