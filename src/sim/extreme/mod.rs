//! Simulated ExtremeCloud (legacy, MSP REST API), fact sheet §2: the account state
//! (administrators, tokens, owned entitlements, tenants, partners), the error and body
//! helpers, and the router. Auth lives in `gate`, the token endpoint in `oauth`, the
//! `[assumed]` switches in `switches`, field rules in `validate`, resources in `tenants`
//! and `partners`, portal edits and the `/_sim/extreme/` handlers in `edit`. Never
//! imports the client code.

mod bodies;
mod edit;
mod gate;
mod inventory;
mod oauth;
mod partners;
mod switches;
mod tenants;
mod validate;

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub(crate) use bodies::documented_body;
pub use edit::ExtremeEdit;
pub use inventory::{
    ExtremeEntitlement, ExtremeInventory, ExtremeInventoryPartner, ExtremeInventoryTenant,
    ExtremeUser, Role,
};
pub use switches::{
    CreateBody, DuplicateNames, ErrorBody, ExtremeSwitches, MissingLists, NameToIdShape,
    PartnerPutPath, PutEchoCustId, TenantMove,
};

use super::Shared;
use super::common::splitmix;
use super::control;
use validate::FieldError;

pub(crate) const MSP_ID_PREFIX: &str = "Msp-tenantid-";
pub(crate) const TENANT_ID_PREFIX: &str = "MspEndCustomer-tenantid-";
pub(crate) const PARTNER_ID_PREFIX: &str = "MspPartner-tenantid-";
/// The prefix the MSP routes are registered under; `msp_prefix` is rewritten to it.
const CANONICAL_PREFIX: &str = "/v1";

/// `mspContact`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Contact {
    pub email: String,
    pub name: String,
    pub phone: String,
}

/// An end-customer tenant of the MSP.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Tenant {
    pub cust_id: String,
    pub account_name: String,
    pub country: String,
    pub time_zone: String,
    pub contact: Option<Contact>,
    pub user_id: String,
}

/// A partner of the MSP and the tenants/entitlements it manages.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Partner {
    pub cust_id: String,
    pub account_name: String,
    pub country: String,
    pub time_zone: String,
    pub contact: Option<Contact>,
    pub user_id: String,
    pub tenants: Vec<String>,
    pub entitlements: Vec<ExtremeEntitlement>,
}

/// An issued access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Access {
    pub user_id: String,
    pub role: Role,
    pub expires_ms: u64,
    pub last_used_ms: u64,
}

/// An issued refresh token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Refresh {
    pub user_id: String,
    pub expires_ms: u64,
    /// The access token issued with it.
    pub access: String,
}

/// The whole simulated ExtremeCloud MSP account.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ExtremeState {
    pub msp_id: String,
    pub msp_name: String,
    pub switches: ExtremeSwitches,
    pub static_tokens: Vec<String>,
    pub users: Vec<ExtremeUser>,
    pub foreign_user_ids: Vec<String>,
    pub entitlements: Vec<ExtremeEntitlement>,
    pub tenants: Vec<Tenant>,
    pub partners: Vec<Partner>,
    pub access: BTreeMap<String, Access>,
    pub refresh: BTreeMap<String, Refresh>,
    pub seq: u64,
    /// The `limit_per_hour` window: (hour on the simulator clock, calls in it).
    #[serde(skip)]
    pub hour_calls: (u64, u32),
}

fn contact_of(name: &str, email: &str, phone: &str) -> Option<Contact> {
    Some(Contact {
        email: email.to_string(),
        name: name.to_string(),
        phone: phone.to_string(),
    })
}

impl ExtremeState {
    pub fn from_inventory(inv: &ExtremeInventory) -> ExtremeState {
        ExtremeState {
            msp_id: inv.msp_id.clone(),
            msp_name: inv.msp_name.clone(),
            switches: inv.switches.clone(),
            static_tokens: inv.tokens.clone(),
            users: inv.users.clone(),
            foreign_user_ids: inv.foreign_user_ids.clone(),
            entitlements: inv.entitlements.clone(),
            tenants: inv
                .tenants
                .iter()
                .map(|t| Tenant {
                    cust_id: t.cust_id.clone(),
                    account_name: t.account_name.clone(),
                    country: t.country.clone(),
                    time_zone: t.time_zone.clone(),
                    contact: contact_of(&t.contact_name, &t.contact_email, &t.contact_phone),
                    user_id: t.user_id.clone(),
                })
                .collect(),
            partners: inv
                .partners
                .iter()
                .map(|p| Partner {
                    cust_id: p.cust_id.clone(),
                    account_name: p.account_name.clone(),
                    country: p.country.clone(),
                    time_zone: p.time_zone.clone(),
                    contact: contact_of(&p.contact_name, &p.contact_email, &p.contact_phone),
                    user_id: p.user_id.clone(),
                    tenants: p.tenants.clone(),
                    entitlements: p.entitlements.clone(),
                })
                .collect(),
            access: BTreeMap::new(),
            refresh: BTreeMap::new(),
            seq: 0,
            hour_calls: (0, 0),
        }
    }

    fn next_rand(&mut self) -> u64 {
        self.seq += 1;
        splitmix(self.seq ^ 0x5EED_E47E_0000_0001)
    }

    /// `<prefix><16 alnum>`, unused so far.
    pub fn new_id(&mut self, prefix: &str) -> String {
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        loop {
            let mut x = self.next_rand();
            let mut y = self.next_rand();
            let id: String = (0..16)
                .map(|i| {
                    let src = if i < 8 { &mut x } else { &mut y };
                    let c = ALNUM[(*src % 62) as usize] as char;
                    *src /= 62;
                    c
                })
                .collect();
            let id = format!("{prefix}{id}");
            if !self.tenants.iter().any(|t| t.cust_id == id)
                && !self.partners.iter().any(|p| p.cust_id == id)
                && id != self.msp_id
            {
                return id;
            }
        }
    }

    pub fn tenant_index(&self, id: &str) -> Option<usize> {
        self.tenants.iter().position(|t| t.cust_id == id)
    }

    pub fn partner_index(&self, id: &str) -> Option<usize> {
        self.partners.iter().position(|p| p.cust_id == id)
    }

    /// The partner that holds a tenant, if any.
    pub fn holder(&self, tenant: &str) -> Option<usize> {
        self.partners
            .iter()
            .position(|p| p.tenants.iter().any(|t| t == tenant))
    }

    /// Is this administrator id taken anywhere in (simulated) ExtremeCloud?
    pub fn user_id_taken(&self, id: &str) -> bool {
        let same = |u: &str| u.eq_ignore_ascii_case(id);
        self.users.iter().any(|u| same(&u.user_id))
            || self.foreign_user_ids.iter().any(|u| same(u))
            || self.tenants.iter().any(|t| same(&t.user_id))
            || self.partners.iter().any(|p| same(&p.user_id))
    }

    /// Remove a tenant everywhere (partners included).
    pub fn remove_tenant(&mut self, id: &str) {
        self.tenants.retain(|t| t.cust_id != id);
        for p in &mut self.partners {
            p.tenants.retain(|t| t != id);
        }
    }

    fn user_id_wire(&self, id: &str) -> Value {
        if self.switches.echo_user_id {
            json!(id)
        } else {
            Value::Null
        }
    }

    /// The Tenant document.
    pub fn tenant_wire(&self, t: &Tenant) -> Value {
        json!({
            "custId": t.cust_id,
            "id": null,
            "accountName": t.account_name,
            "country": t.country,
            "timeZone": t.time_zone,
            "mspContact": contact_wire(t.contact.as_ref()),
            "userId": self.user_id_wire(&t.user_id),
        })
    }

    /// The Partner document (`cust_id` overrides the stored id, for the PUT echo).
    pub fn partner_wire(&self, p: &Partner, cust_id: Option<&str>) -> Value {
        let entitlements: Vec<Value> = p
            .entitlements
            .iter()
            .map(|e| json!({"entitlementId": e.entitlement_id, "serialNumber": e.serial_number}))
            .collect();
        json!({
            "custId": cust_id.unwrap_or(&p.cust_id),
            "id": null,
            "accountName": p.account_name,
            "country": p.country,
            "timeZone": p.time_zone,
            "mspContact": contact_wire(p.contact.as_ref()),
            "userId": self.user_id_wire(&p.user_id),
            "tenants": p.tenants,
            "entitlements": entitlements,
        })
    }
}

impl Default for ExtremeState {
    fn default() -> Self {
        ExtremeState::from_inventory(&ExtremeInventory::default())
    }
}

fn contact_wire(c: Option<&Contact>) -> Value {
    match c {
        None => Value::Null,
        Some(c) => json!({
            "custId": null,
            "id": null,
            "contactEmail": c.email,
            "contactName": c.name,
            "contactPhoneNumber": c.phone,
        }),
    }
}

/// An error from a handler. Rendered by the gate in the shape `error_body` selects, so
/// handlers need not know it.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub property: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            message: message.into(),
            property: None,
        }
    }

    pub fn field(status: u16, e: FieldError) -> ApiError {
        ApiError {
            property: Some(e.property.to_string()),
            ..ApiError::new(status, e.message)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(json!({"message": self.message}))).into_response();
        r.extensions_mut().insert(self);
        r
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

/// An error body in the configured shape.
pub(crate) fn render_error(
    shape: ErrorBody,
    status: StatusCode,
    message: &str,
    property: Option<&str>,
    resource: &str,
) -> Response {
    let body = match shape {
        ErrorBody::Errors => json!({"errors": [{
            "errorMessage": message,
            "resource": resource,
            "propertyName": property,
        }]}),
        ErrorBody::Spring => json!({
            "status": status.as_u16(),
            "error": status.canonical_reason().unwrap_or(""),
            "message": match property {
                Some(p) => format!("{p}: {message}"),
                None => message.to_string(),
            },
            "path": resource,
        }),
    };
    (status, axum::Json(body)).into_response()
}

/// The request body as a JSON object; 400 for an empty, malformed or non-object body.
pub(crate) fn parse_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(400, "a JSON request body is required"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::new(400, "the request body must be a JSON object")),
        Err(e) => Err(ApiError::new(400, format!("malformed JSON: {e}"))),
    }
}

/// An optional string member (absent or null → None; any other type → 400).
pub(crate) fn opt_str(
    m: &Map<String, Value>,
    key: &'static str,
    status: u16,
) -> Result<Option<String>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::field(
            status,
            FieldError {
                property: key,
                message: "must be a string".into(),
            },
        )),
    }
}

/// A required string member.
pub(crate) fn req_str(
    m: &Map<String, Value>,
    key: &'static str,
    status: u16,
) -> Result<String, ApiError> {
    opt_str(m, key, status)?.ok_or_else(|| {
        ApiError::field(
            status,
            FieldError {
                property: key,
                message: "is required".into(),
            },
        )
    })
}

pub(crate) fn json_status(status: u16, v: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, axum::Json(v)).into_response()
}

/// An answer to a request no route takes, in the configured error shape.
fn routing_error(sh: &Shared, status: StatusCode, message: &str, path: &str) -> Response {
    let shape = sh.lock().extreme.switches.error_body;
    render_error(shape, status, message, None, path)
}

/// 404 for a path no route serves.
async fn not_found(State(sh): State<Shared>, method: Method, uri: Uri) -> Response {
    let message = format!("no route for {method} {}", uri.path());
    routing_error(&sh, StatusCode::NOT_FOUND, &message, uri.path())
}

async fn method_not_allowed(State(sh): State<Shared>, method: Method, uri: Uri) -> Response {
    let message = format!("{method} is not supported on {}", uri.path());
    routing_error(&sh, StatusCode::METHOD_NOT_ALLOWED, &message, uri.path())
}

/// The MSP resources, registered under the canonical `/v1` prefix.
fn msp_router(sh: Shared) -> Router {
    let routes = Router::new()
        .route("/v1/msptenants", get(tenants::list).post(tenants::create))
        .route("/v1/msptenants/nametoidmap", get(tenants::name_to_id))
        .route(
            "/v1/msptenants/{id}",
            get(tenants::get_one)
                .put(tenants::update)
                .delete(tenants::delete),
        )
        .route(
            "/v1/msppartners",
            get(partners::list).post(partners::create),
        )
        .route("/v1/msppartners/{id}", put(partners::update))
        .method_not_allowed_fallback(method_not_allowed);
    control::vendor_layers(routes, &sh, "extreme", |r| {
        r.route_layer(from_fn_with_state(sh.clone(), gate::gate))
    })
    .fallback(not_found)
    .with_state(sh)
}

/// Hand a request to a router (any `tower` service). A generic bound reaches
/// `Service::call` through `axum::ServiceExt` without a direct `tower` dependency.
async fn call_service<S>(mut svc: S, req: Request) -> Response
where
    S: axum::ServiceExt<Request, Response = Response, Error = Infallible>,
{
    if let Err(never) = std::future::poll_fn(|cx| svc.poll_ready(cx)).await {
        match never {}
    }
    match svc.call(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

/// Everything but the token endpoint: strip the current `msp_prefix` and route the rest
/// under the canonical prefix; a path outside the prefix is unknown (404).
async fn dispatch(sh: Shared, msp: Router, mut req: Request) -> Response {
    let prefix = {
        let st = sh.lock();
        st.extreme
            .switches
            .msp_prefix
            .trim_end_matches('/')
            .to_string()
    };
    let path = req.uri().path().to_string();
    let rest = if prefix.is_empty() {
        Some(path.as_str())
    } else {
        path.strip_prefix(prefix.as_str())
            .filter(|r| r.is_empty() || r.starts_with('/'))
    };
    let Some(rest) = rest else {
        let msg = format!("no route for {} {path}", req.method());
        return routing_error(&sh, StatusCode::NOT_FOUND, &msg, &path);
    };
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    match format!("{CANONICAL_PREFIX}{rest}{query}").parse::<Uri>() {
        Ok(uri) => *req.uri_mut() = uri,
        Err(e) => {
            let msg = format!("invalid path: {e}");
            return routing_error(&sh, StatusCode::BAD_REQUEST, &msg, &path);
        }
    }
    call_service(msp, req).await
}

/// The ExtremeCloud routes; the same router is nested under `/extreme` and served at a
/// root. It carries its own fallback (the MSP-prefix dispatcher): do not replace it.
pub(crate) fn router(sh: Shared) -> Router<Shared> {
    let msp = msp_router(sh.clone());
    let dispatch_sh = sh.clone();
    let routes = Router::new()
        .route("/management/v1/oauth2/token", post(oauth::token))
        .method_not_allowed_fallback(method_not_allowed);
    control::vendor_layers(routes, &sh, "extreme", |r| {
        r.route_layer(from_fn_with_state(sh.clone(), gate::gate))
    })
    .fallback(move |req: Request| dispatch(dispatch_sh.clone(), msp.clone(), req))
}
