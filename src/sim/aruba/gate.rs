//! The gate every Aruba call passes: bearer-token check (OAuth exempt), the per-second
//! and per-day rate-limit windows, and the `X-RateLimit-*` / `X-Request-Start` headers
//! on every response, fault responses included; 401, 429 and service-error bodies in
//! the shapes the switches select.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::super::Shared;
use super::super::control::{self, FaultMarker};
use super::{ArubaState, ArubaSwitches, ErrorBody, ErrorText, RateLimitBody, UnauthorizedBody};

fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn unauthorized(sw: &ArubaSwitches) -> Response {
    let status = StatusCode::UNAUTHORIZED;
    match sw.unauthorized_body {
        UnauthorizedBody::Oauth => (
            status,
            Json(json!({"error": "invalid_token", "error_description": "Invalid access token"})),
        )
            .into_response(),
        UnauthorizedBody::ErrorOnly => {
            (status, Json(json!({"error": "invalid_token"}))).into_response()
        }
        UnauthorizedBody::Text => text(status, "invalid_token: Invalid access token"),
    }
}

fn too_many(sw: &ArubaSwitches) -> Response {
    let status = StatusCode::TOO_MANY_REQUESTS;
    match sw.rate_limit_body {
        RateLimitBody::Kong => {
            (status, Json(json!({"message": "API rate limit exceeded"}))).into_response()
        }
        RateLimitBody::Empty => status.into_response(),
        RateLimitBody::Text => text(status, "API rate limit exceeded"),
    }
}

/// A service-level error in the `error_body` shape (the default shape is as built).
fn reshaped(sw: &ArubaSwitches, resp: Response) -> Response {
    let Some(ErrorText(message)) = resp.extensions().get::<ErrorText>().cloned() else {
        return resp;
    };
    let status = resp.status();
    let body = match sw.error_body {
        ErrorBody::Service => return resp,
        ErrorBody::Message => json!({"message": message}),
        ErrorBody::InBand => json!({
            "errorcode": status.as_u16().to_string(),
            "message": message,
            "status": "failure",
            "status_code": status.as_u16(),
        }),
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let (_, fresh) = (status, Json(body)).into_response().into_parts();
    Response::from_parts(parts, fresh)
}

#[derive(Clone, Debug, Default)]
pub(crate) struct RateWindows {
    sec: u64,
    sec_count: u32,
    day: u64,
    day_count: u32,
}

impl ArubaState {
    /// Per-second and per-day windows: Ok(()) and counted, or the window that is exhausted.
    fn admit(&mut self, now_ms: u64) -> Result<(), FaultMarker> {
        let (sec, day) = (now_ms / 1000, now_ms / 86_400_000);
        if self.rate.sec != sec {
            self.rate.sec = sec;
            self.rate.sec_count = 0;
        }
        if self.rate.day != day {
            self.rate.day = day;
            self.rate.day_count = 0;
        }
        let (ls, ld) = (self.switches.limit_per_second, self.switches.limit_per_day);
        if ld > 0 && self.rate.day_count >= ld {
            return Err(FaultMarker::RateLimitDay);
        }
        if ls > 0 && self.rate.sec_count >= ls {
            return Err(FaultMarker::RateLimitSecond);
        }
        self.rate.sec_count += 1;
        self.rate.day_count += 1;
        Ok(())
    }

    /// (limit-day, remaining-day, limit-second, remaining-second) as reported in headers.
    fn rate_headers(&self) -> (u32, u32, u32, u32) {
        const OFF: u32 = 1_000_000;
        let (ls, ld) = (self.switches.limit_per_second, self.switches.limit_per_day);
        let day = if ld == 0 {
            (OFF, OFF)
        } else {
            (ld, ld.saturating_sub(self.rate.day_count))
        };
        let sec = if ls == 0 {
            (OFF, OFF)
        } else {
            (ls, ls.saturating_sub(self.rate.sec_count))
        };
        (day.0, day.1, sec.0, sec.1)
    }

    fn token_valid(&self, token: &str, now_ms: u64) -> bool {
        self.static_tokens.iter().any(|t| t == token)
            || self
                .tokens
                .access
                .get(token)
                .is_some_and(|exp| now_ms / 1000 < *exp)
    }
}

/// Every Aruba call: bearer auth (OAuth exempt), rate limits, and the rate-limit headers
/// on every response.
pub(super) async fn gate(State(sh): State<Shared>, req: Request, next: Next) -> Response {
    let is_oauth = control::route_key(&req, "aruba").contains(" /oauth2/");
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim().to_string())
        });
    let early = {
        let mut st = sh.lock();
        let now = st.now_ms();
        let a = &mut st.aruba;
        a.settle(now);
        if is_oauth {
            None
        } else if !token.as_deref().is_some_and(|t| a.token_valid(t, now)) {
            Some(unauthorized(&a.switches))
        } else {
            a.admit(now).err().map(|marker| {
                let mut r = too_many(&a.switches);
                r.extensions_mut().insert(marker);
                r
            })
        }
    };
    let resp = match early {
        Some(r) => r,
        None => next.run(req).await,
    };
    let (mut ld, mut rd, mut ls, mut rs, now, sw) = {
        let st = sh.lock();
        let (ld, rd, ls, rs) = st.aruba.rate_headers();
        (ld, rd, ls, rs, st.now_ms(), st.aruba.switches.clone())
    };
    let marker = resp.extensions().get::<FaultMarker>().copied();
    let mut resp = match marker {
        // An injected 429 gets the switched body too.
        Some(m) => {
            let mut r = too_many(&sw);
            r.extensions_mut().insert(m);
            r
        }
        None => reshaped(&sw, resp),
    };
    match marker {
        Some(FaultMarker::RateLimitSecond) => rs = 0,
        Some(FaultMarker::RateLimitDay) => rd = 0,
        None => {}
    }
    if ld == 0 {
        ld = 1;
    }
    if ls == 0 {
        ls = 1;
    }
    let h = resp.headers_mut();
    let mut set = |name: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(name, v);
        }
    };
    set("x-ratelimit-limit-day", ld.to_string());
    set("x-ratelimit-remaining-day", rd.to_string());
    set("x-ratelimit-limit-second", ls.to_string());
    set("x-ratelimit-remaining-second", rs.to_string());
    set(
        "x-request-start",
        format!("t={}.{:03}", now / 1000, now % 1000),
    );
    resp
}
