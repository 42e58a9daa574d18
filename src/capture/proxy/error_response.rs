//! Responses agentprof makes up itself, when the upstream gave nothing to pass on.
//!
//! They are shaped like the provider's own errors so the agent's SDK reports them sensibly (and
//! retries where it would retry a gateway error), and they say that agentprof produced them.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use crate::observation::Provider;

/// A provider-shaped JSON error response.
pub fn error_response(provider: Provider, status: StatusCode, message: &str) -> Response<Bytes> {
    let body = match provider {
        Provider::Anthropic => serde_json::json!({
            "type": "error",
            "error": {"type": "api_error", "message": format!("agentprof: {message}")},
        }),
        Provider::OpenAi => serde_json::json!({
            "error": {
                "message": format!("agentprof: {message}"),
                "type": "upstream_error",
                "param": null,
                "code": status.as_u16().to_string(),
            }
        }),
        // Google's error shape (`google.rpc.Status`).
        Provider::Gemini => serde_json::json!({
            "error": {
                "code": status.as_u16(),
                "message": format!("agentprof: {message}"),
                "status": "UNAVAILABLE",
            }
        }),
    };
    let mut response = Response::new(Bytes::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("x-agentprof-error", HeaderValue::from_static("1"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_and_openai_shapes() {
        let a = error_response(Provider::Anthropic, StatusCode::BAD_GATEWAY, "refused");
        assert_eq!(a.status(), 502);
        let v: serde_json::Value = serde_json::from_slice(a.body()).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["message"], "agentprof: refused");
        let o = error_response(Provider::OpenAi, StatusCode::BAD_GATEWAY, "refused");
        let v: serde_json::Value = serde_json::from_slice(o.body()).unwrap();
        assert_eq!(v["error"]["code"], "502");
    }
}
