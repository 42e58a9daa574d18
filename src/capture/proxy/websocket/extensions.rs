//! What the server's `101` agreed to in `Sec-WebSocket-Extensions` (RFC 6455 §9.1): the tap
//! must know whether messages are compressed (permessage-deflate, RFC 7692 §7.1) and whether
//! each side keeps its compression window across messages.

use http::HeaderMap;

/// The negotiated permessage-deflate parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor for every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor for every message.
    pub client_no_context_takeover: bool,
    /// The windows agreed on (8–15); recorded for the log, inflating needs no setting.
    pub server_max_window_bits: Option<u8>,
    pub client_max_window_bits: Option<u8>,
}

/// What the connection's frames mean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Negotiated {
    pub deflate: Option<DeflateParams>,
}

/// Why the tap cannot read a connection at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtensionError {
    #[error("the server agreed to WebSocket extension `{0}`, which the tap cannot read")]
    Unknown(String),
    #[error("bad permessage-deflate parameter `{0}`")]
    BadParameter(String),
}

/// Reads the server's `Sec-WebSocket-Extensions`.
pub fn negotiated(response: &HeaderMap) -> Result<Negotiated, ExtensionError> {
    let mut out = Negotiated::default();
    let elements = response
        .get_all("sec-websocket-extensions")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty());
    for element in elements {
        let mut parts = element.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        if !name.eq_ignore_ascii_case("permessage-deflate") || out.deflate.is_some() {
            return Err(ExtensionError::Unknown(name.to_string()));
        }
        let mut params = DeflateParams::default();
        for param in parts.filter(|p| !p.is_empty()) {
            let (key, value) = match param.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim().trim_matches('"'))),
                None => (param, None),
            };
            let bits = || {
                value
                    .and_then(|v| v.parse::<u8>().ok())
                    .filter(|b| (8..=15).contains(b))
                    .ok_or_else(|| ExtensionError::BadParameter(param.to_string()))
            };
            match key.to_ascii_lowercase().as_str() {
                "server_no_context_takeover" => params.server_no_context_takeover = true,
                "client_no_context_takeover" => params.client_no_context_takeover = true,
                "server_max_window_bits" => params.server_max_window_bits = Some(bits()?),
                "client_max_window_bits" => params.client_max_window_bits = Some(bits()?),
                _ => return Err(ExtensionError::BadParameter(param.to_string())),
            }
        }
        out.deflate = Some(params);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(value: &str) -> Result<Negotiated, ExtensionError> {
        let mut h = HeaderMap::new();
        h.insert("sec-websocket-extensions", value.parse().unwrap());
        negotiated(&h)
    }

    #[test]
    fn permessage_deflate_and_its_parameters() {
        assert_eq!(negotiated(&HeaderMap::new()).unwrap().deflate, None);
        assert_eq!(
            of("permessage-deflate").unwrap().deflate,
            Some(DeflateParams::default())
        );
        assert_eq!(
            of("permessage-deflate; server_no_context_takeover; client_max_window_bits=12")
                .unwrap()
                .deflate,
            Some(DeflateParams {
                server_no_context_takeover: true,
                client_max_window_bits: Some(12),
                ..DeflateParams::default()
            })
        );
        assert!(of("x-webkit-deflate-frame").is_err());
        assert!(of("permessage-deflate; server_max_window_bits=40").is_err());
    }
}
