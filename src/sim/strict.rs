//! What every vendor's request body meets before a handler sees it: a JSON endpoint
//! needs `application/json` (415 otherwise), and a body the fact sheet documents field
//! by field may hold no other field (400 naming it), matched by exact name and case.
//! Each vendor folder owns the table of its documented bodies (`bodies.rs`); this module
//! owns the check, the vendor-shaped refusal and the optional in-memory recording of
//! the bodies clients send (for tests that replay them). Runs after the vendor's gate
//! (authentication first) and before fault injection.

use axum::body::{Body, to_bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::{Shared, aruba, audiocodes, control, extreme, ruckus};

/// Largest body the simulator reads (413 above).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// The documented shape of a JSON value, as far as field names go: the handler checks
/// types and values.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    /// Any value (checked by the handler, or left open by the fact sheet).
    Any,
    /// An object holding only these members (each one optional as far as this goes).
    Object(&'static [(&'static str, Shape)]),
    /// An array of items of one shape.
    List(&'static Shape),
    /// One item or an array of them (AudioCodes `siteLocation`).
    OneOrList(&'static Shape),
}

/// The paths of the members `v` holds that `shape` does not document, e.g.
/// `address.stret_address` or `data[0].nmae`.
pub(crate) fn unknown_fields(shape: &Shape, v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(shape, v, "", &mut out);
    out
}

fn walk(shape: &Shape, v: &Value, at: &str, out: &mut Vec<String>) {
    match (shape, v) {
        (Shape::Object(fields), Value::Object(members)) => {
            for (k, inner) in members {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                match fields.iter().find(|(name, _)| name == k) {
                    Some((_, s)) => walk(s, inner, &path, out),
                    None => out.push(path),
                }
            }
        }
        (Shape::List(item) | Shape::OneOrList(item), Value::Array(items)) => {
            for (i, x) in items.iter().enumerate() {
                walk(item, x, &format!("{at}[{i}]"), out);
            }
        }
        (Shape::OneOrList(item), other) => walk(item, other, at, out),
        _ => {}
    }
}

/// One request body a client sent (recorded only when asked, kept in memory only);
/// writes without a body are recorded with a `null` body.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedBody {
    pub vendor: String,
    /// The route key, e.g. `PUT /msp_api/v2/customers/*`.
    pub route: String,
    pub method: String,
    /// Path and query as received, prefix included (e.g. `/aruba/msp_api/v2/customers`).
    pub path: String,
    /// The request headers that scope or describe the body (`Content-Type`, `TenantID`,
    /// `x-rks-tenantid`).
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || headers.contains_key(header::TRANSFER_ENCODING)
}

/// `application/json` with any parameters; RUCKUS One also takes its vendor media
/// types (`application/vnd.ruckus.v1+json`, fact sheet §3.1).
fn is_json(headers: &HeaderMap, vendor: &str) -> bool {
    let Some(media) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
    else {
        return false;
    };
    media == "application/json"
        || (vendor == "ruckus" && media.starts_with("application/") && media.ends_with("+json"))
}

/// Routes whose body is not JSON: the token endpoints (a query string or a form).
/// ExtremeCloud's login is JSON, and its gate checks the content type itself.
fn not_json_route(vendor: &str, route: &str) -> bool {
    vendor != "extreme" && route.contains("/oauth2/")
}

fn documented(vendor: &str, route: &str) -> Option<&'static Shape> {
    match vendor {
        "aruba" => aruba::documented_body(route),
        "extreme" => extreme::documented_body(route),
        "ruckus" => ruckus::documented_body(route),
        "audiocodes" => audiocodes::documented_body(route),
        _ => None,
    }
}

/// The refusal in the vendor's own error shape.
fn refuse(
    sh: &Shared,
    vendor: &str,
    status: StatusCode,
    message: String,
    field: Option<&str>,
) -> Response {
    match vendor {
        "aruba" => aruba::svc_err(status, message).into_response(),
        "extreme" => {
            let validation = sh.lock().extreme.switches.validation_status;
            let status = if status == StatusCode::BAD_REQUEST {
                validation
            } else {
                status.as_u16()
            };
            let mut e = extreme::ApiError::new(status, message);
            e.property = field.map(str::to_string);
            e.into_response()
        }
        "ruckus" => {
            let code = match status {
                StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
                StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
                _ => "INVALID_REQUEST",
            };
            ruckus::err(status, code, message).into_response()
        }
        _ => {
            let sw = sh.lock().audiocodes.switches.clone();
            if status == StatusCode::BAD_REQUEST {
                audiocodes::invalid(&sw, message).into_response()
            } else {
                audiocodes::api_err(&sw, status.as_u16(), message).into_response()
            }
        }
    }
}

/// Keep a copy of a request body (`null`: none) while recording.
fn record(sh: &Shared, vendor: &str, route: &str, parts: &Parts, body: Value) {
    let mut st = sh.lock();
    let Some(log) = st.recorded.as_mut() else {
        return;
    };
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map(|u| &u.0)
        .unwrap_or(&parts.uri)
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let headers = ["content-type", "tenantid", "x-rks-tenantid"]
        .iter()
        .filter_map(|h| {
            let v = parts.headers.get(*h)?.to_str().ok()?;
            Some((h.to_string(), v.to_string()))
        })
        .collect();
    log.push(RecordedBody {
        vendor: vendor.to_string(),
        route: route.to_string(),
        method: parts.method.to_string(),
        path,
        headers,
        body,
    });
}

/// The body check of one vendor's routes (a route layer, inside the vendor's gate).
pub(crate) async fn layer(
    State((sh, vendor)): State<(Shared, &'static str)>,
    req: Request,
    next: Next,
) -> Response {
    let route = control::route_key(&req, vendor);
    let (parts, body) = req.into_parts();
    if !has_body(&parts.headers) {
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            record(&sh, vendor, &route, &parts, Value::Null);
        }
        return next.run(Request::from_parts(parts, body)).await;
    }
    let json = is_json(&parts.headers, vendor);
    if !json && vendor != "extreme" && !not_json_route(vendor, &route) {
        let got = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
            .to_string();
        return refuse(
            &sh,
            vendor,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{route} takes a JSON body: send Content-Type: application/json (got {got})"),
            None,
        );
    }
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return refuse(
            &sh,
            vendor,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {MAX_BODY} bytes"),
            None,
        );
    };
    // Malformed JSON is the handler's to refuse, in its own words.
    let parsed = serde_json::from_slice::<Value>(&bytes).ok();
    if let (Some(shape), Some(v)) = (documented(vendor, &route), &parsed) {
        let unknown = unknown_fields(shape, v);
        if !unknown.is_empty() {
            let list = unknown
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let noun = if unknown.len() == 1 {
                "field"
            } else {
                "fields"
            };
            return refuse(
                &sh,
                vendor,
                StatusCode::BAD_REQUEST,
                format!("unknown {noun} {list} in the body of {route} (names are case-sensitive)"),
                unknown.first().map(String::as_str),
            );
        }
    }
    if json && let Some(body) = parsed {
        record(&sh, vendor, &route, &parts, body);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Shape, unknown_fields};

    const ITEM: Shape = Shape::Object(&[("a", Shape::Any), ("b", Shape::Any)]);
    const BODY: Shape = Shape::Object(&[
        ("data", Shape::List(&ITEM)),
        ("one", Shape::OneOrList(&ITEM)),
        ("open", Shape::Any),
    ]);

    #[test]
    fn unknown_members_are_named_by_path_and_case_matters() {
        let v = json!({"data": [{"a": 1}, {"b": 2, "c": 3}], "one": {"A": 1}, "open": {"x": 1}, "Data": []});
        assert_eq!(unknown_fields(&BODY, &v), ["Data", "data[1].c", "one.A"]);
        let v = json!({"one": [{"a": 1}, {"z": 1}]});
        assert_eq!(unknown_fields(&BODY, &v), ["one[1].z"]);
        assert!(unknown_fields(&BODY, &json!({"data": [], "open": [1]})).is_empty());
        // Types are the handler's business.
        assert!(unknown_fields(&BODY, &json!({"data": "text"})).is_empty());
    }
}
