//! ExtremeCloud login (fact sheet §2.1): `POST /management/v1/oauth2/token` with a JSON
//! password grant, and the `[assumed]` refresh grant. Tokens are JWT-shaped strings
//! (unsigned in any meaningful way: clients must treat them as opaque).

use axum::body::Bytes;
use axum::extract::State;
use serde_json::json;

use super::super::Shared;
use super::{Access, ApiError, ApiResult, ExtremeState, Refresh, Role, json_status, parse_object};

fn b64url(bytes: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

impl ExtremeState {
    fn jwt(&mut self, user: &str, scope: &str, kind: &str, now_ms: u64, exp_ms: u64) -> String {
        let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
        let jti = self.next_rand();
        let claims = json!({
            "sub": user,
            "scope": scope,
            "token_use": kind,
            "iat": now_ms / 1000,
            "exp": exp_ms / 1000,
            "jti": format!("{jti:016x}"),
        });
        let payload = b64url(claims.to_string().as_bytes());
        let sig: Vec<u8> = (0..4)
            .flat_map(|_| self.next_rand().to_be_bytes())
            .collect();
        format!("{header}.{payload}.{}", b64url(&sig))
    }

    /// Issue an access + refresh token pair; the token JSON.
    fn issue(&mut self, user: &str, role: Role, scope: &str, now_ms: u64) -> serde_json::Value {
        let sw = self.switches.clone();
        let exp = now_ms.saturating_add(sw.token_lifetime_secs.saturating_mul(1000));
        let refresh_exp =
            now_ms.saturating_add(sw.refresh_token_lifetime_secs.saturating_mul(1000));
        let access_token = self.jwt(user, scope, "access", now_ms, exp);
        let refresh_token = self.jwt(user, scope, "refresh", now_ms, refresh_exp);
        self.access.insert(
            access_token.clone(),
            Access {
                user_id: user.to_string(),
                role,
                expires_ms: exp,
                last_used_ms: now_ms,
            },
        );
        self.refresh.insert(
            refresh_token.clone(),
            Refresh {
                user_id: user.to_string(),
                expires_ms: refresh_exp,
                access: access_token.clone(),
            },
        );
        json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": sw.token_lifetime_secs,
            "idle_timeout": sw.idle_timeout_secs,
            "refresh_token": refresh_token,
        })
    }
}

pub(super) async fn token(State(sh): State<Shared>, body: Bytes) -> ApiResult {
    let m = parse_object(&body)?;
    let text = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let mut st = sh.lock();
    let now = st.now_ms();
    let x = &mut st.extreme;
    match text("grantType").as_str() {
        "password" => {
            let (user, password) = (text("userId"), text("password"));
            if user.is_empty() || password.is_empty() {
                return Err(ApiError::new(
                    400,
                    "userId and password are required for grantType password",
                ));
            }
            let Some(u) = x
                .users
                .iter()
                .find(|u| u.user_id.eq_ignore_ascii_case(&user))
                .cloned()
            else {
                return Err(ApiError::new(401, "Bad credentials"));
            };
            if u.password != password {
                return Err(ApiError::new(401, "Bad credentials"));
            }
            let token = x.issue(&u.user_id, u.role, &text("scope"), now);
            Ok(json_status(200, token))
        }
        "refresh_token" if x.switches.refresh_supported => {
            let old = text("refreshToken");
            if old.is_empty() {
                return Err(ApiError::new(
                    400,
                    "refreshToken is required for grantType refresh_token",
                ));
            }
            let Some(r) = x.refresh.get(&old).cloned() else {
                return Err(ApiError::new(401, "Invalid refresh token"));
            };
            if now >= r.expires_ms {
                x.refresh.remove(&old);
                return Err(ApiError::new(401, "Refresh token expired"));
            }
            let Some(u) = x.users.iter().find(|u| u.user_id == r.user_id).cloned() else {
                x.refresh.remove(&old);
                return Err(ApiError::new(401, "Invalid refresh token"));
            };
            if x.switches.refresh_token_single_use {
                x.refresh.remove(&old);
            }
            if x.switches.refresh_revokes_access {
                x.access.remove(&r.access);
            }
            let token = x.issue(&u.user_id, u.role, "", now);
            Ok(json_status(200, token))
        }
        "" => Err(ApiError::new(400, "grantType is required")),
        other => Err(ApiError::new(
            400,
            format!("unsupported grantType {other:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::b64url;

    #[test]
    fn base64url_without_padding() {
        assert_eq!(b64url(b""), "");
        assert_eq!(b64url(b"f"), "Zg");
        assert_eq!(b64url(b"fo"), "Zm8");
        assert_eq!(b64url(b"foo"), "Zm9v");
        assert_eq!(b64url(b"foob"), "Zm9vYg");
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }
}
