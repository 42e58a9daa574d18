//! Routing: which upstream a request goes to, and which API shape it has.
//!
//! Everything under `/openai/` goes to the OpenAI upstream with that prefix removed (so the agent
//! can be given `OPENAI_BASE_URL=http://<proxy>/openai/v1`), everything under `/gemini/` to the
//! Gemini upstream (`GOOGLE_GEMINI_BASE_URL=http://<proxy>/gemini`: Google's SDK adds
//! `/v1beta/models/…` itself); every other path goes to the Anthropic upstream. An upstream URL
//! may carry a base path, which is prepended.
//!
//! One exception: a request under `/openai/v1/` that carries `ChatGPT-Account-ID` comes from
//! Codex logged in with ChatGPT, whose model calls go to the ChatGPT backend
//! (`https://chatgpt.com/backend-api/codex/responses`, no `/v1`), not to the API. Codex has one
//! base URL setting for both logins (`openai_base_url`), so the proxy tells them apart by that
//! header, which only ChatGPT logins send.

use http::Uri;

use crate::observation::{ApiKind, Provider};

/// The `/openai` prefix that selects the OpenAI upstream.
pub const OPENAI_PREFIX: &str = "/openai";
/// The `/gemini` prefix that selects the Gemini upstream.
pub const GEMINI_PREFIX: &str = "/gemini";

/// A parsed upstream base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    /// Base path without a trailing slash ("" for none).
    base_path: String,
}

/// An upstream URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamUrlError {
    #[error("invalid upstream URL {url:?}: {reason}")]
    Invalid { url: String, reason: String },
}

impl Upstream {
    /// Parses `http(s)://host[:port][/base/path]`. Credentials in the URL are refused: they
    /// would end up in logs and traces.
    pub fn parse(url: &str) -> Result<Upstream, UpstreamUrlError> {
        let invalid = |reason: &str| UpstreamUrlError::Invalid {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
        let scheme = uri.scheme().cloned().ok_or_else(|| invalid("no scheme"))?;
        if scheme != http::uri::Scheme::HTTP && scheme != http::uri::Scheme::HTTPS {
            return Err(invalid("scheme must be http or https"));
        }
        let authority = uri.authority().cloned().ok_or_else(|| invalid("no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("credentials in the URL are not allowed"));
        }
        if uri.query().is_some() {
            return Err(invalid("a query string is not allowed"));
        }
        let base_path = uri.path().trim_end_matches('/').to_string();
        Ok(Upstream {
            scheme,
            authority,
            base_path,
        })
    }

    /// The URL as given, normalised (no trailing slash).
    pub fn display(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.base_path)
    }

    pub fn is_https(&self) -> bool {
        self.scheme == http::uri::Scheme::HTTPS
    }

    /// The full upstream URI for a request path (with query).
    fn join(&self, path_and_query: &str) -> Result<Uri, http::Error> {
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(format!("{}{}", self.base_path, path_and_query))
            .build()
    }
}

/// The upstreams requests are routed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstreams {
    pub anthropic: Upstream,
    pub openai: Upstream,
    /// The ChatGPT backend Codex uses when logged in with ChatGPT.
    pub chatgpt: Upstream,
    /// Google's Gemini API.
    pub gemini: Upstream,
}

/// The header a ChatGPT login adds to every request (see the module docs).
pub const CHATGPT_ACCOUNT_HEADER: &str = "chatgpt-account-id";

/// Where one request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub provider: Provider,
    pub api: ApiKind,
    /// Path and query as the upstream API sees it (without the `/openai` prefix).
    pub api_path: String,
    pub uri: Uri,
}

/// Routes a request.
pub fn route(
    method: &http::Method,
    path_and_query: &str,
    headers: &http::HeaderMap,
    upstreams: &Upstreams,
) -> Result<Route, http::Error> {
    let chatgpt = headers.contains_key(CHATGPT_ACCOUNT_HEADER);
    let (provider, api_path, upstream) = match (
        strip_prefix(path_and_query, OPENAI_PREFIX),
        strip_prefix(path_and_query, GEMINI_PREFIX),
    ) {
        (Some(rest), _) => match rest
            .strip_prefix("/v1")
            .filter(|r| r.starts_with('/') && chatgpt)
        {
            Some(backend_path) => (Provider::OpenAi, backend_path, &upstreams.chatgpt),
            None => (Provider::OpenAi, rest, &upstreams.openai),
        },
        (None, Some(rest)) => (Provider::Gemini, rest, &upstreams.gemini),
        (None, None) => (Provider::Anthropic, path_and_query, &upstreams.anthropic),
    };
    let api_path = if api_path.is_empty() { "/" } else { api_path };
    let path = api_path.split('?').next().unwrap_or("");
    let api = api_kind(method, provider, path);
    Ok(Route {
        provider,
        api,
        api_path: api_path.to_string(),
        uri: upstream.join(api_path)?,
    })
}

/// The path after `prefix`, when `prefix` is its whole first segment.
fn strip_prefix<'a>(path_and_query: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path_and_query.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')).then_some(rest)
}

/// A Gemini method call in a path: `…/models/{model}:{method}` (also `tunedModels/`, and
/// Vertex's `…/publishers/google/models/…`), as `(model, method)`. The query is not part of
/// `path`.
pub fn gemini_model_method(path: &str) -> Option<(&str, &str)> {
    let at = path
        .rfind("/models/")
        .map(|i| i + "/models/".len())
        .or_else(|| {
            path.rfind("/tunedModels/")
                .map(|i| i + "/tunedModels/".len())
        })?;
    let (model, method) = path[at..].split_once(':')?;
    (!model.is_empty() && !model.contains('/') && !method.contains('/')).then_some((model, method))
}

/// Whether a Gemini method streams (`streamGenerateContent`).
pub fn gemini_streams(path: &str) -> bool {
    gemini_model_method(path).is_some_and(|(_, m)| m == "streamGenerateContent")
}

fn api_kind(method: &http::Method, provider: Provider, path: &str) -> ApiKind {
    if method != http::Method::POST {
        return ApiKind::Other;
    }
    let path = path.trim_end_matches('/');
    match provider {
        Provider::Anthropic if path.ends_with("/v1/messages") => ApiKind::Messages,
        Provider::OpenAi if path.ends_with("/chat/completions") => ApiKind::ChatCompletions,
        // `/responses/compact` is billed like a response and answers with the same usage.
        Provider::OpenAi
            if path.ends_with("/responses") || path.ends_with("/responses/compact") =>
        {
            ApiKind::Responses
        }
        // `countTokens` and the rest (model lists, caches, files) carry no usage: other requests.
        Provider::Gemini
            if gemini_model_method(path)
                .is_some_and(|(_, m)| m == "generateContent" || m == "streamGenerateContent") =>
        {
            ApiKind::GenerateContent
        }
        _ => ApiKind::Other,
    }
}

/// Masks the values of query parameters that look like credentials (`?key=…`, `api_key`, `token`).
pub fn redact_query(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_string();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if looks_secret(name) => format!("{name}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", params.join("&"))
}

fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["key", "token", "secret", "password", "auth"]
        .iter()
        .any(|word| name.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstreams() -> (Upstreams, Upstreams) {
        let all = Upstreams {
            anthropic: Upstream::parse("https://api.anthropic.com").unwrap(),
            openai: Upstream::parse("http://127.0.0.1:9000/base/").unwrap(),
            chatgpt: Upstream::parse("https://chatgpt.com/backend-api/codex").unwrap(),
            gemini: Upstream::parse("https://generativelanguage.googleapis.com").unwrap(),
        };
        (all.clone(), all)
    }

    fn route(
        method: &http::Method,
        path_and_query: &str,
        upstreams: &Upstreams,
        _: &Upstreams,
    ) -> Result<Route, http::Error> {
        super::route(method, path_and_query, &http::HeaderMap::new(), upstreams)
    }

    #[test]
    fn chatgpt_logins_go_to_the_chatgpt_backend_without_v1() {
        let (u, _) = upstreams();
        let mut headers = http::HeaderMap::new();
        headers.insert(CHATGPT_ACCOUNT_HEADER, "acc-1".parse().unwrap());
        let r = super::route(&http::Method::POST, "/openai/v1/responses", &headers, &u).unwrap();
        assert_eq!(r.provider, Provider::OpenAi);
        assert_eq!(r.api, ApiKind::Responses);
        assert_eq!(r.api_path, "/responses");
        assert_eq!(
            r.uri.to_string(),
            "https://chatgpt.com/backend-api/codex/responses"
        );
        let r = super::route(
            &http::Method::GET,
            "/openai/v1/models?client_version=1",
            &headers,
            &u,
        )
        .unwrap();
        assert_eq!(
            r.uri.to_string(),
            "https://chatgpt.com/backend-api/codex/models?client_version=1"
        );
        // Without the header, or outside /openai/v1/, nothing changes.
        let r = super::route(
            &http::Method::POST,
            "/openai/v1/responses",
            &http::HeaderMap::new(),
            &u,
        )
        .unwrap();
        assert_eq!(r.uri.to_string(), "http://127.0.0.1:9000/base/v1/responses");
        let r = super::route(&http::Method::POST, "/v1/messages", &headers, &u).unwrap();
        assert_eq!(r.provider, Provider::Anthropic);
        let r = super::route(&http::Method::POST, "/openai/v1x", &headers, &u).unwrap();
        assert_eq!(r.uri.to_string(), "http://127.0.0.1:9000/base/v1x");
    }

    #[test]
    fn anthropic_messages_keeps_query() {
        let (a, o) = upstreams();
        let r = route(&http::Method::POST, "/v1/messages?beta=true", &a, &o).unwrap();
        assert_eq!(r.provider, Provider::Anthropic);
        assert_eq!(r.api, ApiKind::Messages);
        assert_eq!(
            r.uri.to_string(),
            "https://api.anthropic.com/v1/messages?beta=true"
        );
    }

    #[test]
    fn count_tokens_and_models_are_other() {
        let (a, o) = upstreams();
        let r = route(&http::Method::POST, "/v1/messages/count_tokens", &a, &o).unwrap();
        assert_eq!(r.api, ApiKind::Other);
        let r = route(&http::Method::GET, "/v1/models", &a, &o).unwrap();
        assert_eq!(r.api, ApiKind::Other);
    }

    #[test]
    fn openai_prefix_is_stripped_and_base_path_prepended() {
        let (a, o) = upstreams();
        let r = route(&http::Method::POST, "/openai/v1/chat/completions", &a, &o).unwrap();
        assert_eq!(r.provider, Provider::OpenAi);
        assert_eq!(r.api, ApiKind::ChatCompletions);
        assert_eq!(r.api_path, "/v1/chat/completions");
        assert_eq!(
            r.uri.to_string(),
            "http://127.0.0.1:9000/base/v1/chat/completions"
        );
        let r = route(&http::Method::POST, "/openai/v1/responses", &a, &o).unwrap();
        assert_eq!(r.api, ApiKind::Responses);
        let r = route(&http::Method::POST, "/openai/v1/responses/compact", &a, &o).unwrap();
        assert_eq!(r.api, ApiKind::Responses);
    }

    #[test]
    fn gemini_prefix_goes_to_the_gemini_upstream() {
        let (a, o) = upstreams();
        let r = route(
            &http::Method::POST,
            "/gemini/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse",
            &a,
            &o,
        )
        .unwrap();
        assert_eq!(r.provider, Provider::Gemini);
        assert_eq!(r.api, ApiKind::GenerateContent);
        assert_eq!(
            r.api_path,
            "/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            r.uri.to_string(),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse"
        );
        for (path, api) in [
            (
                "/gemini/v1/models/gemini-2.5-pro:generateContent",
                ApiKind::GenerateContent,
            ),
            (
                "/gemini/v1beta/models/gemini-2.5-pro:countTokens",
                ApiKind::Other,
            ),
            ("/gemini/v1beta/models", ApiKind::Other),
            ("/gemini/v1beta/models/x:unknownMethod", ApiKind::Other),
        ] {
            let r = route(&http::Method::POST, path, &a, &o).unwrap();
            assert_eq!((r.provider, r.api), (Provider::Gemini, api), "{path}");
        }
        let r = route(
            &http::Method::POST,
            "/geminiX/v1beta/models/m:generateContent",
            &a,
            &o,
        )
        .unwrap();
        assert_eq!(r.provider, Provider::Anthropic);
    }

    #[test]
    fn gemini_paths_name_their_model_and_method() {
        assert_eq!(
            gemini_model_method("/v1beta/models/gemini-3.5-flash-lite:generateContent"),
            Some(("gemini-3.5-flash-lite", "generateContent"))
        );
        assert_eq!(
            gemini_model_method(
                "/v1/projects/p/locations/us/publishers/google/models/gemini-3-pro:streamGenerateContent"
            ),
            Some(("gemini-3-pro", "streamGenerateContent"))
        );
        assert_eq!(
            gemini_model_method("/v1beta/tunedModels/mine-1:generateContent"),
            Some(("mine-1", "generateContent"))
        );
        assert_eq!(gemini_model_method("/v1beta/models"), None);
        assert_eq!(gemini_model_method("/v1beta/models/:generateContent"), None);
        assert!(gemini_streams("/v1beta/models/m:streamGenerateContent"));
        assert!(!gemini_streams("/v1beta/models/m:generateContent"));
    }

    #[test]
    fn openai_prefix_must_be_a_whole_segment() {
        let (a, o) = upstreams();
        let r = route(&http::Method::POST, "/openaiX/v1/messages", &a, &o).unwrap();
        assert_eq!(r.provider, Provider::Anthropic);
    }

    #[test]
    fn upstream_urls_are_validated() {
        assert!(Upstream::parse("ftp://x").is_err());
        assert!(Upstream::parse("https://user:pw@host").is_err());
        assert!(Upstream::parse("not a url").is_err());
        assert_eq!(
            Upstream::parse("https://host:8443/x/").unwrap().display(),
            "https://host:8443/x"
        );
    }

    #[test]
    fn secret_query_values_are_masked() {
        assert_eq!(
            redact_query("/v1/x?beta=true&api_key=abc"),
            "/v1/x?beta=true&api_key=***"
        );
        assert_eq!(redact_query("/v1/x"), "/v1/x");
    }
}
