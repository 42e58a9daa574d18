//! A plain HTTP client for the reliability tests (hyper, pooled keep-alive connections, no
//! decompression: the bytes a test sees are the bytes on the wire), and `agentprof proxy` as a
//! child process.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::support::agentprof;

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A client keeping up to `connections` idle connections per host.
pub fn client(connections: usize) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .build(connector)
}

/// What a client received.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
    /// The body broke off before its end.
    pub broken: bool,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// POSTs `body` with `headers`; the body is read to its end (or its break).
pub async fn post(
    client: &HttpClient,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Reply, hyper_util::client::legacy::Error> {
    let mut request = http::Request::post(url).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("a valid request");
    let response = client.request(request).await?;
    let (parts, mut incoming) = response.into_parts();
    let mut reply = Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: Vec::new(),
        broken: false,
    };
    while let Some(frame) = incoming.frame().await {
        match frame {
            Ok(frame) => {
                if let Some(data) = frame.data_ref() {
                    reply.body.extend_from_slice(data);
                }
            }
            Err(_) => {
                reply.broken = true;
                break;
            }
        }
    }
    Ok(reply)
}

/// FNV-1a 64 as the mock computes it over what it sent.
pub fn fnv1a64(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A raw HTTP/1.1 exchange over one connection: `head` is sent as is (plus `body`), and the
/// response's status and whole text are returned once the server closes or `Connection: close`
/// ends it. For requests no well-behaved client would send.
pub fn raw_exchange(addr: &str, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer and close before reading all of it.
    let _ = stream.write_all(body);
    let mut text = Vec::new();
    let _ = stream.read_to_end(&mut text);
    let text = String::from_utf8_lossy(&text).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    (status, text)
}

/// Reads one HTTP/1.1 request from a server's side of a connection: its path and its body
/// (`Content-Length` bodies only), for small servers a test writes by hand.
pub fn read_request(stream: &TcpStream) -> (String, Vec<u8>) {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let path = line.split(' ').nth(1).unwrap_or_default().to_string();
    let mut length = 0;
    line.clear();
    while reader.read_line(&mut line).unwrap() > 2 {
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
        line.clear();
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (path, body)
}

/// `agentprof proxy` as a child process; killed on drop if still running.
pub struct ProxyProcess {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl ProxyProcess {
    /// Starts `agentprof proxy --quiet --no-agent-telemetry --trace TRACE ARGS…` and waits for
    /// its base URL.
    pub fn start(trace: &Path, args: &[&str]) -> ProxyProcess {
        let mut child = agentprof()
            .args(["proxy", "--quiet", "--no-agent-telemetry", "--trace"])
            .arg(trace)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let base = first
            .trim()
            .strip_prefix("ANTHROPIC_BASE_URL=")
            .unwrap_or_else(|| panic!("proxy printed {first:?}"))
            .to_string();
        ProxyProcess { child, base }
    }

    /// `127.0.0.1:PORT`
    pub fn authority(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// SIGINT, then waits: the trace gets its footer.
    pub fn stop(mut self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "proxy exited with {status}");
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A multi-threaded runtime for a test's client side.
pub fn runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap()
}
