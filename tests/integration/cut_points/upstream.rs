//! A loopback upstream that writes a scripted response and breaks it off exactly where told:
//! plain blocking sockets, so what it writes is what the kernel got, byte for byte.
//!
//! Each request names its script by the `x-cut-case` header. A script's response is complete,
//! or stops after so many bytes of its head or of its body (mid-event or on an event's boundary),
//! and then the connection is reset (RST, `SO_LINGER` 0) or closed (FIN). Pieces are written
//! all at once — the bytes and the break reach the proxy together, as when a server dies — or
//! one at a time with a pause between (a slow trickle).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the response stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Sent whole; the connection stays open for the next request.
    None,
    /// After this many bytes of the response head (fewer than all of it).
    Head(usize),
    /// After this many bytes of the body (chunked bodies: without their last, empty chunk
    /// even when every data byte went out).
    Body(usize),
}

/// How the connection ends after a cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Break {
    Reset,
    Close,
}

#[derive(Debug, Clone)]
pub struct Script {
    pub sse: bool,
    /// `Transfer-Encoding: chunked` (one chunk per piece) rather than `Content-Length`.
    pub chunked: bool,
    pub pieces: Vec<Vec<u8>>,
    pub cut: Cut,
    pub how: Break,
    pub paced: bool,
    /// After a complete response, close the connection anyway (as servers do with idle
    /// keep-alive connections), without saying so in the response.
    pub close_after: bool,
}

impl Script {
    pub fn body(&self) -> Vec<u8> {
        self.pieces.concat()
    }

    fn head(&self, case: u64) -> Vec<u8> {
        let framing = if self.chunked {
            "transfer-encoding: chunked".to_string()
        } else {
            format!("content-length: {}", self.body().len())
        };
        let content_type = if self.sse {
            "text/event-stream; charset=utf-8"
        } else {
            "application/json"
        };
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\nrequest-id: case-{case}\r\n\
             {framing}\r\n\r\n"
        )
        .into_bytes()
    }

    /// The writes this script makes, in order, up to its cut.
    fn writes(&self, case: u64) -> Vec<Vec<u8>> {
        let head = self.head(case);
        if let Cut::Head(n) = self.cut {
            return vec![head[..n.min(head.len() - 1)].to_vec()];
        }
        let limit = match self.cut {
            Cut::Body(n) => n,
            _ => usize::MAX,
        };
        let mut writes = vec![head];
        let mut sent = 0;
        for piece in &self.pieces {
            let take = piece.len().min(limit.saturating_sub(sent));
            if take == 0 {
                break;
            }
            let data = &piece[..take];
            writes.push(if self.chunked {
                let mut framed = format!("{:x}\r\n", piece.len()).into_bytes();
                framed.extend_from_slice(data);
                if take == piece.len() {
                    framed.extend_from_slice(b"\r\n");
                }
                framed
            } else {
                data.to_vec()
            });
            sent += take;
        }
        if self.chunked && self.cut == Cut::None {
            writes.push(b"0\r\n\r\n".to_vec());
        }
        writes
    }
}

/// The upstream, serving until the test ends.
pub struct Upstream {
    pub port: u16,
    scripts: Arc<Mutex<HashMap<u64, Script>>>,
}

impl Upstream {
    pub fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let scripts: Arc<Mutex<HashMap<u64, Script>>> = Arc::default();
        let shared = scripts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let scripts = shared.clone();
                std::thread::spawn(move || serve(stream, &scripts));
            }
        });
        Upstream { port, scripts }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn script(&self, case: u64, script: Script) {
        self.scripts.lock().unwrap().insert(case, script);
    }
}

fn serve(stream: TcpStream, scripts: &Mutex<HashMap<u64, Script>>) {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    // Requests on this connection, one after another, until a script breaks it.
    while let Some(case) = read_request(&mut reader) {
        let Some(script) = scripts.lock().unwrap().get(&case).cloned() else {
            let _ = stream
                .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n");
            return;
        };
        let writes = script.writes(case);
        if script.paced {
            for write in &writes {
                if stream.write_all(write).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        } else if stream.write_all(&writes.concat()).is_err() {
            return;
        }
        if script.cut == Cut::None && !script.close_after {
            continue;
        }
        match script.how {
            Break::Reset => {
                let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            }
            Break::Close => {
                let _ = stream.shutdown(Shutdown::Write);
            }
        }
        return;
    }
}

/// Reads one request (head and body, by length or chunked) and returns its `x-cut-case`.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<u64> {
    let mut case = None;
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "x-cut-case" => case = value.parse().ok(),
            "content-length" => length = value.parse().ok()?,
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut data = vec![0; size + 2];
            reader.read_exact(&mut data).ok()?;
            if size == 0 {
                break;
            }
        }
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
    }
    case
}
