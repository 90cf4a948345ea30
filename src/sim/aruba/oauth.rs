//! Aruba OAuth (fact sheet §1.2): `POST /oauth2/token` with everything in the query
//! string. Refresh rotates both tokens and kills the previous access token; the
//! authorization-code grant (step 3 of the credential flow) is not simulated.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::super::Shared;
use super::super::common::oauth_error;

/// The token JSON.
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
    token_type: &'static str,
}

pub(super) async fn token(
    State(sh): State<Shared>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let param = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    for k in ["client_id", "client_secret", "grant_type"] {
        if param(k).is_empty() {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!(
                    "query parameter {k} is required (send all parameters in the query string)"
                ),
            );
        }
    }
    if param("client_id") != a.oauth.client_id || param("client_secret") != a.oauth.client_secret {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client_id or client_secret",
        );
    }
    if param("grant_type") != "refresh_token" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type=refresh_token is simulated",
        );
    }
    let old = param("refresh_token").to_string();
    let Some(paired) = a.tokens.refresh.get(&old).cloned() else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid refresh token",
        );
    };
    if let Some(prev) = paired {
        a.tokens.access.remove(&prev);
    }
    let access_token = a.new_hex32();
    let refresh_token = a.new_hex32();
    let lifetime = a.switches.token_lifetime_secs;
    a.tokens
        .access
        .insert(access_token.clone(), (now / 1000).saturating_add(lifetime));
    if a.switches.refresh_token_single_use {
        a.tokens.refresh.remove(&old);
    } else {
        a.tokens.refresh.insert(old, Some(access_token.clone()));
    }
    a.tokens
        .refresh
        .insert(refresh_token.clone(), Some(access_token.clone()));
    Json(TokenResponse {
        access_token,
        refresh_token,
        expires_in: lifetime,
        token_type: "bearer",
    })
    .into_response()
}
