//! The Microsoft Entra client-credentials token endpoint the Live Platform API trusts
//! (fact sheet §4.1): `POST /{tenantId}/oauth2/v2.0/token` with a form body
//! `grant_type=client_credentials&client_id&client_secret&scope=api://<app id>/.default`.
//! No refresh token: a client simply asks again.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::super::Shared;
use super::super::common::is_form;
use super::{fnv1a, iso_seconds};

fn entra_err(status: StatusCode, error: &str, code: u32, text: &str, now_ms: u64) -> Response {
    (
        status,
        Json(json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {text}"),
            "error_codes": [code],
            "timestamp": format!("{}Z", iso_seconds(now_ms)),
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
        })),
    )
        .into_response()
}

/// `application/x-www-form-urlencoded` pairs, percent- and `+`-decoded.
pub(super) fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) async fn token(
    State(sh): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.audiocodes;
    let form = if is_form(&headers) {
        parse_form(&body)
    } else {
        Vec::new()
    };
    let param = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    if !tenant.eq_ignore_ascii_case(&a.provider_tenant_id) {
        return entra_err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
            now,
        );
    }
    let grant = param("grant_type");
    if grant.is_empty() {
        return entra_err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
            now,
        );
    }
    if grant != "client_credentials" {
        return entra_err(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant}'."),
            now,
        );
    }
    for k in ["client_id", "scope"] {
        if param(k).is_empty() {
            return entra_err(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                &format!("The request body must contain the following parameter: '{k}'."),
                now,
            );
        }
    }
    let bad_creds =
        StatusCode::from_u16(a.switches.bad_credentials_status).unwrap_or(StatusCode::BAD_REQUEST);
    let client_id = param("client_id");
    if !client_id.eq_ignore_ascii_case(&a.client_id) {
        return entra_err(
            bad_creds,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'.",
                a.provider_tenant_id
            ),
            now,
        );
    }
    let secret = param("client_secret");
    if secret.is_empty() || fnv1a(&secret) != a.client_secret_fnv1a {
        return entra_err(
            bad_creds,
            "unauthorized_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            now,
        );
    }
    let scope = param("scope").to_ascii_lowercase();
    let accepted = [
        format!("api://{}/.default", a.app_id),
        format!("{}/.default", a.app_id),
    ];
    if !accepted.contains(&scope) {
        return entra_err(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            &format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid: expected api://{}/.default.",
                a.app_id
            ),
            now,
        );
    }
    let lifetime = a.switches.token_lifetime_secs;
    let access_token = format!(
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{}.{}",
        a.new_guid().replace('-', ""),
        a.new_guid().replace('-', "")
    );
    a.issued_tokens.retain(|_, exp| *exp > now);
    a.issued_tokens.insert(
        access_token.clone(),
        now.saturating_add(lifetime.saturating_mul(1000)),
    );
    Json(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    }))
    .into_response()
}
