//! What every agentprof HTTP server checks before it handles a request: whose name the request
//! was sent to (`Host`), and how large a body it declares.
//!
//! **DNS rebinding.** A web page the user visits can point `evil.example` at 127.0.0.1 and make
//! their browser send requests to `http://evil.example:PORT/`: the browser then talks to
//! agentprof's loopback servers. It could spend the user's quota through an upstream that
//! trusts the network (a local model, a gateway), read `/metrics`, or feed the telemetry
//! receiver fake records. The browser cannot forge `Host`: it names the attacker's domain. So a
//! request is served only when `Host` names this listener: `localhost`, a loopback address, the address
//! it is bound to, or a name the user allowed (`--allow-host`). The port is not compared (an
//! SSH tunnel or a port forward changes it, and it says nothing about rebinding). A request
//! without `Host` (HTTP/1.0) is served: browsers always send one.
//!
//! When a server is bound to a non-loopback address (`--allow-remote`), remote clients reach it
//! by an IP address or by the machine's name: IP literals (which no DNS answer can rebind) and
//! the host name are allowed too; any other name (a load balancer's, an alias) needs
//! `--allow-host`.
//!
//! **Size.** A body declared (`Content-Length`) larger than the server's limit is refused with
//! `413` before a byte of it is read. Headers are limited by hyper (`431` past ~400 KiB or 100
//! headers).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderValue, Request, Response, StatusCode};

/// Refusals logged at `warn` per server before the rest go to `debug` (a page in a loop must
/// not fill the log).
const LOUD_REFUSALS: u32 = 10;

/// The checks of one listener.
#[derive(Debug)]
pub struct Guard {
    server: &'static str,
    bound: SocketAddr,
    /// Names allowed besides the built-in ones, lower-case, without a trailing dot.
    names: Vec<String>,
    /// Bound to a non-loopback address: IP literals and the machine's name are allowed.
    remote: bool,
    max_body: u64,
    refusals: AtomicU32,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `Host` names something else (the value, shortened).
    Host(String),
    /// The declared body is larger than the limit.
    TooLarge { declared: u64, limit: u64 },
}

impl Guard {
    /// The guard of a server `server` (named in messages) bound to `bound`, accepting bodies
    /// up to `max_body` bytes and the extra host names `allowed` (`--allow-host`).
    pub fn new(
        server: &'static str,
        bound: SocketAddr,
        allowed: &[String],
        max_body: u64,
    ) -> Guard {
        let remote = !bound.ip().is_loopback();
        let mut names: Vec<String> = allowed.iter().map(|n| normalize(n)).collect();
        if remote && let Ok(host) = sysinfo::System::host_name() {
            names.push(normalize(&host));
        }
        Guard {
            server,
            bound,
            names,
            remote,
            max_body,
            refusals: AtomicU32::new(0),
        }
    }

    /// Checks a request's head; the body is not touched.
    pub fn check<B>(&self, request: &Request<B>) -> Result<(), Refusal> {
        let headers = request.headers();
        if let Some(host) = headers.get(HOST)
            && !self.allows(host)
        {
            let shown: String = String::from_utf8_lossy(host.as_bytes())
                .chars()
                .take(100)
                .collect();
            return Err(self.refused(Refusal::Host(shown)));
        }
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
        if let Some(declared) = declared.filter(|n| *n > self.max_body) {
            return Err(self.refused(Refusal::TooLarge {
                declared,
                limit: self.max_body,
            }));
        }
        Ok(())
    }

    fn refused(&self, refusal: Refusal) -> Refusal {
        let n = self.refusals.fetch_add(1, Ordering::Relaxed);
        let message = refusal.message(self.server, self.bound);
        if n < LOUD_REFUSALS {
            tracing::warn!("{}: refused a request: {message}", self.server);
        } else {
            tracing::debug!("{}: refused a request: {message}", self.server);
        }
        refusal
    }

    /// Whether `host` names this listener. No allocation: this runs for every request.
    fn allows(&self, host: &HeaderValue) -> bool {
        let Ok(host) = host.to_str() else {
            return false;
        };
        let name = strip_port(host.trim());
        let name = name.strip_suffix('.').unwrap_or(name);
        if name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        let literal = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name);
        if let Ok(ip) = literal.parse::<IpAddr>() {
            return ip.is_loopback() || ip == self.bound.ip() || self.remote;
        }
        self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }
}

/// `host` without a `:port` suffix (`[::1]:80` → `[::1]`; a bare IPv6 address stays whole).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

fn normalize(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            // "Misdirected Request": this server is not the one the request was meant for.
            Refusal::Host(_) => StatusCode::MISDIRECTED_REQUEST,
            Refusal::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// What went wrong and what to do about it.
    pub fn message(&self, server: &str, bound: SocketAddr) -> String {
        match self {
            Refusal::Host(host) => format!(
                "agentprof {server}: Host {host:?} is not this server's address; requests must be \
                 sent to http://{bound} or http://localhost:{port} (a guard against DNS \
                 rebinding); name another host with --allow-host",
                port = bound.port()
            ),
            Refusal::TooLarge { declared, limit } => format!(
                "agentprof {server}: request body of {declared} bytes is larger than the \
                 {limit_mib} MiB limit",
                limit_mib = limit >> 20
            ),
        }
    }

    /// A JSON error response, shaped like Anthropic's errors (which OpenAI's SDKs report
    /// sensibly too): `{"type":"error","error":{"type":…,"message":…}}`.
    pub fn response(&self, server: &str, bound: SocketAddr) -> Response<Bytes> {
        let kind = match self {
            Refusal::Host(_) => "misdirected_request",
            Refusal::TooLarge { .. } => "request_too_large",
        };
        let body = serde_json::json!({
            "type": "error",
            "error": {"type": kind, "message": self.message(server, bound)},
        });
        let mut response = Response::new(Bytes::from(body.to_string()));
        *response.status_mut() = self.status();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
            .headers_mut()
            .insert("x-agentprof-error", HeaderValue::from_static("1"));
        response
    }
}

impl Guard {
    /// Checks `request`; on refusal, the response to send instead.
    pub fn screen<B>(&self, request: &Request<B>) -> Option<Response<Bytes>> {
        self.check(request)
            .err()
            .map(|refusal| refusal.response(self.server, self.bound))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(host: Option<&str>, length: Option<u64>) -> Request<()> {
        let mut builder = Request::builder().uri("/v1/messages");
        if let Some(host) = host {
            builder = builder.header(HOST, host);
        }
        if let Some(length) = length {
            builder = builder.header(CONTENT_LENGTH, length);
        }
        builder.body(()).unwrap()
    }

    fn loopback() -> Guard {
        Guard::new("proxy", "127.0.0.1:4100".parse().unwrap(), &[], 1 << 20)
    }

    #[test]
    fn loopback_names_pass_any_port() {
        let guard = loopback();
        for host in [
            "127.0.0.1:4100",
            "localhost:4100",
            "LOCALHOST",
            "localhost.:9999",
            "127.0.0.2",
            "[::1]:4100",
            "::1",
        ] {
            assert_eq!(guard.check(&request(Some(host), None)), Ok(()), "{host}");
        }
        assert_eq!(guard.check(&request(None, None)), Ok(()), "no Host at all");
    }

    #[test]
    fn other_names_are_refused_with_421() {
        let guard = loopback();
        for host in [
            "evil.example:4100",
            "localhost.evil.example",
            "192.168.1.10:4100",
            "",
            "127.0.0.1.nip.io",
        ] {
            let refusal = guard.check(&request(Some(host), None)).unwrap_err();
            assert_eq!(refusal.status(), StatusCode::MISDIRECTED_REQUEST, "{host}");
        }
        let response = guard.screen(&request(Some("evil.example"), None)).unwrap();
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("DNS rebinding"), "{message}");
        assert!(message.contains("--allow-host"), "{message}");
    }

    #[test]
    fn allowed_names_and_remote_binds() {
        let named = Guard::new(
            "proxy",
            "127.0.0.1:4100".parse().unwrap(),
            &["Proxy.Internal.".to_string()],
            1 << 20,
        );
        assert_eq!(
            named.check(&request(Some("proxy.internal:8080"), None)),
            Ok(())
        );
        let remote = Guard::new("proxy", "0.0.0.0:4100".parse().unwrap(), &[], 1 << 20);
        assert_eq!(
            remote.check(&request(Some("192.168.1.10:4100"), None)),
            Ok(())
        );
        assert_eq!(remote.check(&request(Some("[fe80::1]:4100"), None)), Ok(()));
        assert!(remote.check(&request(Some("evil.example"), None)).is_err());
    }

    #[test]
    fn declared_bodies_over_the_limit_get_413() {
        let guard = loopback();
        assert_eq!(guard.check(&request(None, Some(1 << 20))), Ok(()));
        let refusal = guard
            .check(&request(None, Some((1 << 20) + 1)))
            .unwrap_err();
        assert_eq!(refusal.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let message = refusal.message("proxy", "127.0.0.1:1".parse().unwrap());
        assert!(message.contains("1 MiB limit"), "{message}");
    }
}
