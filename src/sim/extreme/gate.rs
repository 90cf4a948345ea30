//! The gate every ExtremeCloud call passes: bearer token (expiry and idle timeout on
//! the simulator clock; the token endpoint is exempt), read-only administrators limited
//! to GET, the JSON content type on POST/PUT, and the rendering of handler errors in
//! the configured error-body shape.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::super::Shared;
use super::super::control;
use super::{ApiError, ExtremeState, Role, render_error};

/// Why a bearer token was refused.
enum Refusal {
    Missing,
    Unknown,
    Expired,
    Idle,
}

impl ExtremeState {
    /// The role behind a bearer token; a valid issued token counts as used now.
    fn authenticate(&mut self, token: Option<&str>, now_ms: u64) -> Result<Role, Refusal> {
        let Some(token) = token else {
            return Err(Refusal::Missing);
        };
        if self.static_tokens.iter().any(|t| t == token) {
            return Ok(Role::PowerAdmin);
        }
        let idle_ms = self.switches.idle_timeout_secs.saturating_mul(1000);
        let enforce_idle = self.switches.idle_timeout_enforced;
        let Some(a) = self.access.get_mut(token) else {
            return Err(Refusal::Unknown);
        };
        if now_ms >= a.expires_ms {
            self.access.remove(token);
            return Err(Refusal::Expired);
        }
        if enforce_idle && now_ms.saturating_sub(a.last_used_ms) >= idle_ms {
            self.access.remove(token);
            return Err(Refusal::Idle);
        }
        a.last_used_ms = now_ms;
        Ok(a.role)
    }

    /// Counts a call in the `limit_per_hour` window; false when the window is full.
    fn admit_hourly(&mut self, now_ms: u64) -> bool {
        let limit = self.switches.limit_per_hour;
        if limit == 0 {
            return true;
        }
        let hour = now_ms / 3_600_000;
        if self.hour_calls.0 != hour {
            self.hour_calls = (hour, 0);
        }
        if self.hour_calls.1 >= limit {
            return false;
        }
        self.hour_calls.1 += 1;
        true
    }
}

fn bearer(req: &Request) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// Every ExtremeCloud call.
pub(super) async fn gate(State(sh): State<Shared>, req: Request, next: Next) -> Response {
    let is_oauth = control::route_key(&req, "extreme").contains(" /management/v1/oauth2/");
    let method = req.method().clone();
    let writes = !matches!(method, Method::GET | Method::HEAD);
    let resource = req.uri().path().to_string();
    let token = bearer(&req);
    let early: Option<(StatusCode, String, bool)> = {
        let mut st = sh.lock();
        let now = st.now_ms();
        let x = &mut st.extreme;
        let auth = if is_oauth {
            Ok(Role::PowerAdmin)
        } else {
            x.authenticate(token.as_deref(), now)
        };
        match auth {
            Err(why) => {
                let msg = match why {
                    Refusal::Missing => {
                        "Full authentication is required: send Authorization: Bearer <access_token>"
                    }
                    Refusal::Unknown => "Invalid access token",
                    Refusal::Expired => "Access token expired",
                    Refusal::Idle => "Access token expired (idle timeout)",
                };
                Some((StatusCode::UNAUTHORIZED, msg.to_string(), true))
            }
            Ok(_) if !is_oauth && !x.admit_hourly(now) => Some((
                StatusCode::TOO_MANY_REQUESTS,
                "API rate limit exceeded".to_string(),
                false,
            )),
            Ok(Role::ReadOnly) if writes => Some((
                StatusCode::from_u16(x.switches.read_only_write_status)
                    .unwrap_or(StatusCode::FORBIDDEN),
                "MSP Power Admin privileges are required for this operation".to_string(),
                false,
            )),
            Ok(_)
                if x.switches.require_json_content_type
                    && matches!(method, Method::POST | Method::PUT)
                    && !is_json(&req) =>
            {
                Some((
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Content-Type must be application/json".to_string(),
                    false,
                ))
            }
            Ok(_) => None,
        }
    };
    let shape = sh.lock().extreme.switches.error_body;
    let resp = match early {
        Some((status, msg, unauthorized)) => {
            let mut r = render_error(shape, status, &msg, None, &resource);
            if unauthorized {
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            return r;
        }
        None => next.run(req).await,
    };
    match resp.extensions().get::<ApiError>() {
        Some(e) => render_error(
            shape,
            e.status,
            &e.message,
            e.property.as_deref(),
            &resource,
        ),
        None => resp,
    }
}
