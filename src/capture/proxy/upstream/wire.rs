//! HTTP/1.1 on the upstream connection: the request head agentprof writes, the response head
//! it reads, and how the response body is framed (RFC 9112 §6).

use bytes::BytesMut;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Uri};

/// Most headers a response head may have (hyper's limit too).
const MAX_HEADERS: usize = 100;

/// Largest response head read.
pub const MAX_HEAD: usize = 1 << 20;

/// How the request body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFraming {
    /// `Content-Length` (as given, or 0 for an empty body that needs one).
    Length,
    Chunked,
    /// No body, no framing header.
    Empty,
}

/// Writes the request head into `out`, adding `Host` and the framing header.
pub fn request_head(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    framing: RequestFraming,
    out: &mut Vec<u8>,
) {
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(uri.authority().map_or("", |a| a.as_str()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        if name == header::CONTENT_LENGTH && framing != RequestFraming::Length {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    match framing {
        RequestFraming::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        RequestFraming::Length if !headers.contains_key(header::CONTENT_LENGTH) => {
            out.extend_from_slice(b"content-length: 0\r\n");
        }
        _ => {}
    }
    out.extend_from_slice(b"\r\n");
}

/// A parsed response head.
#[derive(Debug)]
pub struct ResponseHead {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// HTTP/1.0 (no keep-alive unless asked).
    pub http10: bool,
}

/// Why a response head could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("malformed response head: {0}")]
    Malformed(String),
    #[error("response head larger than {} KiB", MAX_HEAD >> 10)]
    TooLarge,
}

/// Parses a response head from the front of `buf`, removing it; `None` while incomplete.
pub fn parse_response_head(buf: &mut BytesMut) -> Result<Option<ResponseHead>, HeadError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(err) => return Err(HeadError::Malformed(err.to_string())),
    };
    let malformed = |what: &str| HeadError::Malformed(what.to_string());
    let status = response
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| malformed("bad status code"))?;
    let mut headers = HeaderMap::with_capacity(response.headers.len());
    for h in response.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| malformed(&format!("bad header name {:?}", h.name)))?;
        let value = HeaderValue::from_bytes(h.value)
            .map_err(|_| malformed(&format!("bad value of header {name}")))?;
        headers.append(name, value);
    }
    let http10 = response.version == Some(0);
    let _ = buf.split_to(len);
    Ok(Some(ResponseHead {
        status,
        headers,
        http10,
    }))
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFraming {
    /// No body (HEAD, 1xx, 204, 304).
    Empty,
    Length(u64),
    Chunked,
    /// Until upstream closes the connection.
    UntilClose,
}

/// The framing of a response to `method` (RFC 9112 §6.3).
pub fn response_framing(
    method: &Method,
    head: &ResponseHead,
) -> Result<ResponseFraming, HeadError> {
    let status = head.status;
    if method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok(ResponseFraming::Empty);
    }
    if let Some(te) = head.headers.get(header::TRANSFER_ENCODING) {
        let chunked_last = te
            .to_str()
            .ok()
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        return Ok(if chunked_last {
            ResponseFraming::Chunked
        } else {
            ResponseFraming::UntilClose
        });
    }
    let mut lengths = head.headers.get_all(header::CONTENT_LENGTH).iter();
    match lengths.next() {
        None => Ok(ResponseFraming::UntilClose),
        Some(first) => {
            let parse =
                |v: &HeaderValue| v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok());
            let length =
                parse(first).ok_or_else(|| HeadError::Malformed("bad content-length".into()))?;
            if lengths.any(|v| parse(v) != Some(length)) {
                return Err(HeadError::Malformed("conflicting content-length".into()));
            }
            Ok(if length == 0 {
                ResponseFraming::Empty
            } else {
                ResponseFraming::Length(length)
            })
        }
    }
}

/// Whether the connection may carry another request after this response.
pub fn keeps_alive(head: &ResponseHead) -> bool {
    let connection = |token: &str| {
        head.headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if head.http10 {
        connection("keep-alive")
    } else {
        !connection("close")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> ResponseHead {
        let mut buf = BytesMut::from(text.as_bytes());
        parse_response_head(&mut buf).unwrap().unwrap()
    }

    #[test]
    fn request_head_has_host_and_framing() {
        let uri: Uri = "http://127.0.0.1:8080/v1/messages?beta=true"
            .parse()
            .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_static("k"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("12"));
        let mut out = Vec::new();
        request_head(
            &Method::POST,
            &uri,
            &headers,
            RequestFraming::Length,
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /v1/messages?beta=true HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nx-api-key: k\r\n\
             content-length: 12\r\n\r\n"
        );
        let mut out = Vec::new();
        request_head(
            &Method::POST,
            &uri,
            &headers,
            RequestFraming::Chunked,
            &mut out,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("content-length"), "{text}");
        assert!(
            text.ends_with("transfer-encoding: chunked\r\n\r\n"),
            "{text}"
        );
        let mut out = Vec::new();
        request_head(
            &Method::POST,
            &uri,
            &HeaderMap::new(),
            RequestFraming::Length,
            &mut out,
        );
        assert!(
            String::from_utf8(out)
                .unwrap()
                .ends_with("content-length: 0\r\n\r\n")
        );
    }

    #[test]
    fn response_heads_parse_in_pieces_and_leave_the_body() {
        let wire = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n5\r\n";
        for cut in 0..wire.len() - 4 {
            let mut buf = BytesMut::from(&wire[..cut]);
            assert!(
                parse_response_head(&mut buf).unwrap().is_none(),
                "cut at {cut}"
            );
        }
        let mut buf = BytesMut::from(&wire[..]);
        let head = parse_response_head(&mut buf).unwrap().unwrap();
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(&buf[..], b"5\r\n");
        assert_eq!(
            response_framing(&Method::POST, &head).unwrap(),
            ResponseFraming::Chunked
        );
        assert!(keeps_alive(&head));
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let post = &Method::POST;
        let f = |text: &str| response_framing(post, &head(text));
        assert_eq!(
            f("HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\n").unwrap(),
            ResponseFraming::Length(7)
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").unwrap(),
            ResponseFraming::Empty
        );
        assert_eq!(
            f("HTTP/1.1 204 No Content\r\n\r\n").unwrap(),
            ResponseFraming::Empty
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\n\r\n").unwrap(),
            ResponseFraming::UntilClose
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 5\r\n\r\n")
                .unwrap(),
            ResponseFraming::Chunked
        );
        assert!(f("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n").is_err());
        assert_eq!(
            response_framing(
                &Method::HEAD,
                &head("HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n")
            )
            .unwrap(),
            ResponseFraming::Empty
        );
        assert!(!keeps_alive(&head(
            "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n"
        )));
        assert!(!keeps_alive(&head("HTTP/1.0 200 OK\r\n\r\n")));
        assert!(keeps_alive(&head(
            "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n\r\n"
        )));
    }

    #[test]
    fn too_many_headers_or_garbage_is_an_error() {
        let many: String = (0..MAX_HEADERS + 1)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect();
        let mut buf = BytesMut::from(format!("HTTP/1.1 200 OK\r\n{many}\r\n").as_bytes());
        assert!(parse_response_head(&mut buf).is_err());
        let mut buf = BytesMut::from(&b"garbage\r\n\r\n"[..]);
        assert!(parse_response_head(&mut buf).is_err());
    }
}
