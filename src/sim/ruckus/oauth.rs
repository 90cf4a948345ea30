//! RUCKUS One token endpoint (fact sheet §3.1): `POST /oauth2/token/{tenantId}` with a
//! form body `grant_type=client_credentials&client_id=…&client_secret=…`. No refresh
//! token: a client asks again when its token expires.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::Shared;
use super::super::common::{is_form, oauth_error};
use super::dates::{base64url, parse_form};
use super::{IssuedToken, TokenFormat, status_or};

pub(super) async fn token(
    State(sh): State<Shared>,
    Path(tenant_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = sh.lock();
    let now = st.now_ms();
    let r = &mut st.ruckus;
    let bad_request = status_or(r.switches.token_bad_request_status, StatusCode::BAD_REQUEST);
    let bad_secret = status_or(r.switches.token_bad_secret_status, StatusCode::UNAUTHORIZED);
    if !is_form(&headers) {
        return oauth_error(
            bad_request,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        );
    }
    let Some(form) = parse_form(&body) else {
        return oauth_error(bad_request, "invalid_request", "malformed form body");
    };
    let param = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    for k in ["grant_type", "client_id", "client_secret"] {
        if param(k).is_empty() {
            return oauth_error(
                bad_request,
                "invalid_request",
                &format!("form field {k} is required"),
            );
        }
    }
    if param("grant_type") != "client_credentials" {
        return oauth_error(
            bad_request,
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        );
    }
    if param("client_id") != r.oauth.client_id
        || param("client_secret") != r.oauth.client_secret
        || tenant_id != r.msp_id
    {
        return oauth_error(
            bad_secret,
            "invalid_client",
            "client authentication failed for this tenant",
        );
    }
    let lifetime = r.switches.token_lifetime_secs;
    let expires_ms = now.saturating_add(lifetime.saturating_mul(1000));
    let jti = r.new_hex32();
    let access_token = match r.switches.token_format {
        TokenFormat::Opaque => jti.clone(),
        TokenFormat::Jwt => {
            let header = base64url(br#"{"alg":"RS256","typ":"JWT"}"#);
            let payload = json!({
                "iss": "mspform-sim",
                "sub": param("client_id"),
                "tenantId": tenant_id,
                "iat": now / 1000,
                "exp": expires_ms / 1000,
                "jti": jti,
            });
            let sig = format!("{}{}", r.new_hex32(), r.new_hex32());
            format!(
                "{header}.{}.{}",
                base64url(payload.to_string().as_bytes()),
                base64url(sig.as_bytes())
            )
        }
    };
    r.tokens.retain(|_, t| t.expires_ms > now);
    r.tokens.insert(
        access_token.clone(),
        IssuedToken {
            tenant_id,
            expires_ms,
        },
    );
    let mut body = json!({"access_token": access_token, "token_type": "Bearer"});
    if r.switches.token_expires_in
        && let Value::Object(m) = &mut body
    {
        m.insert("expires_in".into(), json!(lifetime));
    }
    Json(body).into_response()
}
