//! The client's side, on a raw socket: send one request, keep every byte that comes back until
//! the connection ends however it ends, and read the response out of them leniently — a body
//! that breaks off is kept as far as it got.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// What the client got.
#[derive(Debug)]
pub struct Received {
    pub status: u16,
    pub body: Vec<u8>,
    /// The body reached its end by its own framing (length reached or last chunk seen).
    pub complete: bool,
}

/// Sends `body` to `path` on `authority` with `Connection: close` and reads to the end; `Err`
/// holds what came back when it was not even a response head.
pub fn exchange(
    authority: &str,
    path: &str,
    case: u64,
    auth: (&str, &str),
    body: &str,
) -> Result<Received, String> {
    let mut stream = TcpStream::connect(authority).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\n\
         {}: {}\r\nx-cut-case: {case}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        auth.0,
        auth.1,
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    // A reset ends the read with an error; what came before it is in `raw` all the same.
    let _ = stream.read_to_end(&mut raw);
    parse(&raw).ok_or_else(|| {
        format!(
            "no HTTP response head in {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

fn parse(raw: &[u8]) -> Option<Received> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let rest = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let (body, complete) = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(rest)
    } else if let Some(length) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        let body = rest[..rest.len().min(length)].to_vec();
        let complete = body.len() == length;
        (body, complete)
    } else {
        (rest.to_vec(), false)
    };
    Some(Received {
        status,
        body,
        complete,
    })
}

/// The data of a chunked body as far as it goes, and whether its last chunk came.
fn dechunk(mut rest: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return (body, false);
        };
        let size = std::str::from_utf8(&rest[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size else {
            panic!(
                "bad chunk size line {:?}",
                String::from_utf8_lossy(&rest[..line_end])
            );
        };
        rest = &rest[line_end + 2..];
        if size == 0 {
            return (body, rest.starts_with(b"\r\n"));
        }
        let take = size.min(rest.len());
        body.extend_from_slice(&rest[..take]);
        if take < size || rest.len() < size + 2 {
            return (body, false);
        }
        assert_eq!(&rest[size..size + 2], b"\r\n", "chunk not followed by CRLF");
        rest = &rest[size + 2..];
    }
}
