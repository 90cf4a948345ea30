//! What every simulator test needs to talk raw HTTP: a local address, a read
//! answer, and header access. Vendor-specific request helpers stay in each file.

use std::net::SocketAddr;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// `127.0.0.1:0`: the simulator picks a free port.
pub fn local() -> SocketAddr {
    "127.0.0.1:0".parse().expect("addr")
}

/// One answer: status, headers, the raw body and the body as JSON (`null` when
/// empty, a JSON string holding the text when it is not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub async fn read(resp: reqwest::Response) -> Resp {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()))
        };
        Resp {
            status,
            headers,
            text,
            body,
        }
    }

    /// A header's value, or "" when absent.
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
}
