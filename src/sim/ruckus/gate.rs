//! The gate every RUCKUS call passes (token endpoint exempt): settle due activities,
//! bearer-token check, the per-tenant token bucket (§3.3), `x-rks-tenantid` scoping
//! (§3.1), and the rendering of every error in the switched body format — fault
//! responses included.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::super::Shared;
use super::super::control::{self, FaultMarker};
use super::{
    ApiError, Ctx, ErrInfo, ErrorFormat, RateLimitScope, RuckusState, body_a, body_b, err,
    status_or,
};

/// A call passes when the bucket holds at least this much: half a token of slack absorbs
/// arrival jitter, so a client pacing itself at the refill rate is never refused.
const ADMIT_AT: f64 = 0.5;

#[derive(Clone, Debug, Default)]
pub(crate) struct Buckets {
    map: BTreeMap<String, Bucket>,
}

#[derive(Clone, Debug)]
struct Bucket {
    tokens: f64,
    last_ms: u64,
}

impl RuckusState {
    /// Take one token from a tenant's bucket; Err(seconds until a call would pass).
    fn admit(&mut self, key: &str, now: u64) -> Result<(), u64> {
        let max = f64::from(self.switches.rate_bucket_max);
        if max <= 0.0 {
            return Ok(());
        }
        let rate = f64::from(self.switches.rate_refill_per_sec);
        let b = self.buckets.map.entry(key.to_string()).or_insert(Bucket {
            tokens: max,
            last_ms: now,
        });
        let elapsed = now.saturating_sub(b.last_ms) as f64;
        b.tokens = (b.tokens + elapsed * rate / 1000.0).min(max);
        b.last_ms = b.last_ms.max(now);
        if b.tokens >= ADMIT_AT {
            b.tokens -= 1.0;
            Ok(())
        } else if rate <= 0.0 {
            Err(60)
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    /// The tenant a bearer token acts as, if it is valid now.
    pub(super) fn token_tenant(&self, token: &str, now: u64) -> Option<String> {
        if self.static_tokens.iter().any(|t| t == token) {
            return Some(self.msp_id.clone());
        }
        self.tokens
            .get(token)
            .filter(|t| now < t.expires_ms)
            .map(|t| t.tenant_id.clone())
    }

    /// Authenticate, rate-limit and scope one call.
    fn admit_call(
        &mut self,
        token: Option<&str>,
        tenant_header: Option<&str>,
        now: u64,
    ) -> Result<Ctx, Box<Response>> {
        let Some(caller) = token.and_then(|t| self.token_tenant(t, now)) else {
            return Err(Box::new(
                err(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHORIZED",
                    "missing, unknown or expired bearer token",
                )
                .into_response(),
            ));
        };
        let acting: Result<String, ApiError> = match tenant_header {
            None => Ok(caller.clone()),
            Some(h) if h.is_empty() || h == caller => Ok(caller.clone()),
            Some(h)
                if caller == self.msp_id && self.ec(h).is_some_and(|ec| ec.delegated_to_msp) =>
            {
                Ok(h.to_string())
            }
            Some(h) => Err(err(
                status_or(
                    self.switches.undelegated_tenant_status,
                    StatusCode::FORBIDDEN,
                ),
                "FORBIDDEN",
                format!("tenant {h} is not delegated to the caller"),
            )),
        };
        let bucket = match (&acting, self.switches.rate_limit_scope) {
            (Ok(a), RateLimitScope::Acting) => a.clone(),
            _ => caller.clone(),
        };
        if let Err(wait) = self.admit(&bucket, now) {
            return Err(Box::new(too_many(
                self.switches.retry_after.then_some(wait),
            )));
        }
        let acting = acting.map_err(|e| Box::new(e.into_response()))?;
        Ok(Ctx {
            caller,
            acting,
            now,
        })
    }
}

fn too_many(retry_after: Option<u64>) -> Response {
    let mut r = err(
        StatusCode::TOO_MANY_REQUESTS,
        "TOO_MANY_REQUESTS",
        "API rate limit exceeded for this tenant",
    )
    .into_response();
    if let Some(secs) = retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_string())
}

/// Every RUCKUS call (the token endpoint only gets its faults rendered).
pub(super) async fn gate(State(sh): State<Shared>, mut req: Request, next: Next) -> Response {
    let is_oauth = control::route_key(&req, "ruckus").contains(" /oauth2/");
    let token = bearer(req.headers());
    let tenant_header = req
        .headers()
        .get("x-rks-tenantid")
        .map(|v| v.to_str().unwrap_or("<non-ascii>").trim().to_string());
    let (early, format, retry_after, now) = {
        let mut st = sh.lock();
        let now = st.now_ms();
        let r = &mut st.ruckus;
        r.settle(now);
        let early = if is_oauth {
            Ok(None)
        } else {
            r.admit_call(token.as_deref(), tenant_header.as_deref(), now)
                .map(Some)
        };
        (early, r.switches.error_format, r.switches.retry_after, now)
    };
    let resp = match early {
        Err(r) => *r,
        Ok(ctx) => {
            if let Some(c) = ctx {
                req.extensions_mut().insert(c);
            }
            next.run(req).await
        }
    };
    finish(resp, is_oauth, format, retry_after, now)
}

/// Injected faults get a RUCKUS error body; errors get the switched format.
fn finish(
    resp: Response,
    is_oauth: bool,
    format: ErrorFormat,
    retry_after: bool,
    now: u64,
) -> Response {
    if resp.extensions().get::<FaultMarker>().is_some() {
        return too_many(retry_after.then_some(1));
    }
    let status = resp.status();
    if !status.is_client_error() && !status.is_server_error() {
        return resp;
    }
    let info = match resp.extensions().get::<ErrInfo>() {
        Some(i) => i.clone(),
        None if is_oauth => return resp,
        None => ErrInfo {
            code: format!("HTTP_{}", status.as_u16()),
            message: format!("the request failed: {status}"),
        },
    };
    let had_info = resp.extensions().get::<ErrInfo>().is_some();
    if had_info && format == ErrorFormat::A {
        return resp;
    }
    let body = match format {
        ErrorFormat::A => body_a(&info.code, &info.message),
        ErrorFormat::B => body_b(status, &info.code, &info.message, now),
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let rebuilt = (status, Json(body)).into_response();
    let (new_parts, new_body) = rebuilt.into_parts();
    if let Some(ct) = new_parts.headers.get(header::CONTENT_TYPE) {
        parts.headers.insert(header::CONTENT_TYPE, ct.clone());
    }
    let mut out = Response::from_parts(parts, Body::new(new_body));
    out.extensions_mut().insert(info);
    out
}
