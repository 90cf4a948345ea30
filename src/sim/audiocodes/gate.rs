//! The gate every AudioCodes call passes: settle time-based tasks, the bearer check (the
//! Entra token endpoint exempt) and the optional per-second limit (off by default:
//! nothing is documented).

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::super::Shared;
use super::super::control;
use super::{AudiocodesState, UnauthorizedBody, api_err};

#[derive(Clone, Debug, Default)]
pub(crate) struct RateWindow {
    sec: u64,
    count: u32,
}

/// Why a bearer was refused (for the `error_description`).
enum Refusal {
    Missing,
    Unknown,
    Expired,
}

impl AudiocodesState {
    fn check_token(&self, token: Option<&str>, now_ms: u64) -> Result<(), Refusal> {
        let Some(t) = token else {
            return Err(Refusal::Missing);
        };
        if self.static_tokens.iter().any(|s| s == t) {
            return Ok(());
        }
        match self.issued_tokens.get(t) {
            None => Err(Refusal::Unknown),
            Some(exp) if now_ms >= *exp => Err(Refusal::Expired),
            Some(_) => Ok(()),
        }
    }

    fn admit(&mut self, now_ms: u64) -> bool {
        let limit = self.switches.limit_per_second;
        if limit == 0 {
            return true;
        }
        let sec = now_ms / 1000;
        if self.rate.sec != sec {
            self.rate = RateWindow { sec, count: 0 };
        }
        if self.rate.count >= limit {
            return false;
        }
        self.rate.count += 1;
        true
    }
}

fn bearer(req: &Request) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            let rest = rest.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty()).then(|| rest.to_string())
        })
}

pub(super) async fn gate(State(sh): State<Shared>, req: Request, next: Next) -> Response {
    let is_token = control::route_key(&req, "audiocodes").contains("/oauth2/");
    let token = bearer(&req);
    let early = {
        let mut st = sh.lock();
        let now = st.now_ms();
        let a = &mut st.audiocodes;
        a.settle(now);
        if is_token {
            None
        } else if let Err(why) = a.check_token(token.as_deref(), now) {
            Some(unauthorized(a, why))
        } else if !a.admit(now) {
            let mut r = api_err(&a.switches, 429, "Too many requests").into_response();
            let ra = a.switches.rate_limit_retry_after_secs;
            if ra > 0
                && let Ok(v) = HeaderValue::from_str(&ra.to_string())
            {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Some(r)
        } else {
            None
        }
    };
    match early {
        Some(r) => r,
        None => next.run(req).await,
    }
}

fn unauthorized(a: &AudiocodesState, why: Refusal) -> Response {
    let (challenge, description) = match why {
        Refusal::Missing => ("Bearer".to_string(), "No bearer token"),
        Refusal::Unknown => (
            "Bearer error=\"invalid_token\"".to_string(),
            "The signature is invalid",
        ),
        Refusal::Expired => (
            "Bearer error=\"invalid_token\", error_description=\"The token expired\"".to_string(),
            "The token expired",
        ),
    };
    let mut r = match a.switches.unauthorized_body {
        UnauthorizedBody::Empty => StatusCode::UNAUTHORIZED.into_response(),
        UnauthorizedBody::Json => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_token", "error_description": description})),
        )
            .into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}
