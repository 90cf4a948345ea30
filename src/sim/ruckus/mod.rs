//! Simulated RUCKUS One MSP Services + Tenant Management, fact sheet §3: the MSP account
//! (ECs and their administrators, tech partners, delegations, invitations, issued tokens), the asynchronous
//! activities every write goes through, the error helpers and the router. Auth, tenant
//! scoping and the token bucket live in `gate`, the `[assumed]` switches in `switches`,
//! resource handlers with their wire types in the other submodules. Never imports the
//! client code.

mod activities;
mod bodies;
mod dates;
mod edit;
mod gate;
mod inventory;
mod oauth;
mod partners;
mod query;
mod switches;
mod tenants;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub(crate) use bodies::documented_body;
pub use edit::RuckusEdit;
pub use inventory::{EcInventory, RuckusInventory, RuckusOauth, TechPartnerInventory};
pub use switches::{
    AdminsRead, DuplicateNames, ErrorFormat, NewDelegationStatus, RateLimitScope, RuckusSwitches,
    TokenFormat, TotalKey, UpdateSemantics,
};

pub(crate) use activities::{Activity, Op};

use super::Shared;
use super::control;

/// A managed tenant (MSP-EC) as the simulator keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Ec {
    pub tenant_id: String,
    pub name: String,
    pub street_address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub phone_number: Option<String>,
    pub fax_number: Option<String>,
    pub mapping_url: Option<String>,
    /// Normalized `YYYY-MM-DD HH:MM:SSZ`.
    pub service_effective_date: Option<String>,
    pub service_expiration_date: Option<String>,
    pub is_active: bool,
    /// MSP_EC (or MSP_REC).
    pub tenant_type: String,
    pub account_id: String,
    pub tier: Option<String>,
    pub logo_url: Option<String>,
    pub privacy_features: Vec<Value>,
    pub licenses: Option<Value>,
    pub admin_email: Option<String>,
    pub admin_firstname: Option<String>,
    pub admin_lastname: Option<String>,
    pub admin_role: Option<String>,
    pub created_ms: u64,
    pub updated_ms: u64,
    /// The EC's account is delegated to the MSP that created it, so the MSP may act in
    /// it with `x-rks-tenantid` (item 44); the EC's administrator can revoke that.
    #[serde(default = "delegated")]
    pub delegated_to_msp: bool,
}

fn delegated() -> bool {
    true
}

/// A tech partner (integrator / installer) tenant of the MSP.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TechPartner {
    pub id: String,
    pub name: String,
    /// MSP_INTEGRATOR | MSP_INSTALLER
    pub partner_type: String,
    pub created_ms: u64,
}

/// One (EC, tech partner) assignment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Delegation {
    pub id: String,
    pub ec_id: String,
    pub partner_id: String,
    /// MSP_INTEGRATOR | MSP_INSTALLER
    pub delegation_type: String,
    /// INVITED | ACCEPTED | REJECTED | REVOKED
    pub status: String,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub expiry_ms: Option<u64>,
}

impl Delegation {
    /// INVITED or ACCEPTED: the EC counts as assigned to the partner.
    pub fn active(&self) -> bool {
        matches!(self.status.as_str(), "INVITED" | "ACCEPTED")
    }
}

/// One administrator invitation sent through the invitations route.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Invitation {
    pub tenant_id: String,
    pub admin_email: String,
    pub resend: bool,
    /// "POST" or "GET".
    pub method: String,
    pub at_ms: u64,
}

/// A token issued by the token endpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct IssuedToken {
    pub tenant_id: String,
    pub expires_ms: u64,
}

/// Make the next `remaining` activities (of one use case, or any) fail.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct FailRule {
    pub use_case: Option<String>,
    pub remaining: u32,
}

/// The whole simulated RUCKUS One MSP account.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct RuckusState {
    pub msp_id: String,
    pub msp_name: String,
    pub msp_label: String,
    pub switches: RuckusSwitches,
    pub static_tokens: Vec<String>,
    pub oauth: RuckusOauth,
    pub tokens: BTreeMap<String, IssuedToken>,
    pub ecs: Vec<Ec>,
    pub tech_partners: Vec<TechPartner>,
    pub delegations: Vec<Delegation>,
    pub activities: Vec<Activity>,
    pub invitations: Vec<Invitation>,
    pub fail_rules: Vec<FailRule>,
    pub seq: u64,
    #[serde(skip)]
    pub(super) buckets: gate::Buckets,
}

impl RuckusState {
    pub fn from_inventory(inv: &RuckusInventory) -> RuckusState {
        let now = crate::clock::now_unix() * 1000;
        let mut st = RuckusState {
            msp_id: inv.msp_tenant_id.clone(),
            msp_name: inv.msp_name.clone(),
            msp_label: inv.msp_label.clone(),
            switches: inv.switches.clone(),
            static_tokens: inv.tokens.clone(),
            oauth: inv.oauth.clone(),
            tokens: BTreeMap::new(),
            ecs: Vec::new(),
            tech_partners: inv
                .tech_partners
                .iter()
                .map(|p| TechPartner {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    partner_type: p.partner_type.clone(),
                    created_ms: now,
                })
                .collect(),
            delegations: Vec::new(),
            activities: Vec::new(),
            invitations: Vec::new(),
            fail_rules: Vec::new(),
            seq: 0,
            buckets: gate::Buckets::default(),
        };
        for e in &inv.ecs {
            let account_id = st.new_account_id();
            let norm = |d: &Option<String>| d.as_deref().and_then(dates::normalize_date);
            st.ecs.push(Ec {
                tenant_id: e.id.clone(),
                name: e.name.clone(),
                street_address: e.street_address.clone(),
                city: e.city.clone(),
                state: e.state.clone(),
                country: e.country.clone(),
                postal_code: e.postal_code.clone(),
                phone_number: e.phone_number.clone(),
                fax_number: None,
                mapping_url: None,
                service_effective_date: norm(&e.service_effective_date),
                service_expiration_date: norm(&e.service_expiration_date),
                is_active: true,
                tenant_type: "MSP_EC".into(),
                account_id,
                tier: e.tier.clone(),
                logo_url: None,
                privacy_features: Vec::new(),
                licenses: None,
                admin_email: e.admin_email.clone(),
                admin_firstname: None,
                admin_lastname: None,
                admin_role: None,
                created_ms: now,
                updated_ms: now,
                delegated_to_msp: true,
            });
            for p in &e.tech_partners {
                if let Some(dtype) = st.partner(p).map(|x| x.partner_type.clone()) {
                    st.add_delegation(&e.id, p, &dtype, "ACCEPTED", None, now);
                }
            }
        }
        st
    }

    fn next(&mut self) -> u64 {
        self.seq += 1;
        splitmix(self.seq ^ 0x5EED_0000_0000_0001 ^ self.msp_id.len() as u64)
    }

    /// A fresh deterministic 32-lowercase-hex id.
    pub fn new_hex32(&mut self) -> String {
        let a = self.next();
        let b = splitmix(a ^ self.seq.rotate_left(23));
        format!("{a:016x}{b:016x}")
    }

    /// A fresh UUID-shaped id (activities' `requestId`).
    pub fn new_uuid(&mut self) -> String {
        let h = self.new_hex32();
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    fn new_account_id(&mut self) -> String {
        let u = self.new_uuid();
        let tail = self.new_hex32();
        format!("_{u}_{}", &tail[..8])
    }

    pub fn ec(&self, id: &str) -> Option<&Ec> {
        self.ecs.iter().find(|e| e.tenant_id == id)
    }

    pub fn ec_index(&self, id: &str) -> Option<usize> {
        self.ecs.iter().position(|e| e.tenant_id == id)
    }

    pub fn partner(&self, id: &str) -> Option<&TechPartner> {
        self.tech_partners.iter().find(|p| p.id == id)
    }

    pub fn add_delegation(
        &mut self,
        ec_id: &str,
        partner_id: &str,
        dtype: &str,
        status: &str,
        expiry_ms: Option<u64>,
        now: u64,
    ) -> String {
        let id = self.new_hex32();
        self.delegations.push(Delegation {
            id: id.clone(),
            ec_id: ec_id.to_string(),
            partner_id: partner_id.to_string(),
            delegation_type: dtype.to_string(),
            status: status.to_string(),
            created_ms: now,
            updated_ms: now,
            expiry_ms,
        });
        id
    }

    /// Remove an EC and everything hanging off it (its delegations are revoked).
    pub fn remove_ec(&mut self, id: &str, now: u64) {
        self.ecs.retain(|e| e.tenant_id != id);
        for d in self.delegations.iter_mut() {
            if d.ec_id == id && d.status != "REVOKED" {
                d.status = "REVOKED".into();
                d.updated_ms = now;
            }
        }
    }

    /// Is a name taken by another EC, or by an EC still being created?
    pub fn name_taken(&self, name: &str, except: Option<&str>) -> bool {
        let key = name.trim().to_lowercase();
        let committed = self
            .ecs
            .iter()
            .any(|e| Some(e.tenant_id.as_str()) != except && e.name.trim().to_lowercase() == key);
        committed
            || self.activities.iter().any(|a| {
                a.pending()
                    && matches!(&a.op, Op::CreateEc { ec } if ec.name.trim().to_lowercase() == key)
            })
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Who is calling and in which tenant the call executes (set by the gate).
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    /// The tenant of the bearer token (the MSP).
    #[allow(dead_code)]
    pub caller: String,
    /// `x-rks-tenantid` when it names a delegated EC, else the caller.
    pub acting: String,
    pub now: u64,
}

impl Ctx {
    pub fn in_msp(&self, st: &RuckusState) -> bool {
        self.acting == st.msp_id
    }
}

/// The code and message of an error response, kept on the response so the gate can
/// render it in the switched error format.
#[derive(Clone, Debug)]
pub(crate) struct ErrInfo {
    pub code: String,
    pub message: String,
}

/// An error response.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

static ERROR_SEQ: AtomicU64 = AtomicU64::new(1);

/// Error body (A): `{"requestId", "errors":[{"code","message"}]}`.
pub(crate) fn body_a(code: &str, message: &str) -> Value {
    let n = splitmix(ERROR_SEQ.fetch_add(1, Ordering::Relaxed) ^ 0xE1);
    json!({
        "requestId": format!("{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            n >> 32, (n >> 16) & 0xffff, (n >> 4) & 0xfff, n & 0xfff, splitmix(n) & 0xffff_ffff_ffff),
        "errors": [{"code": code, "message": message}],
    })
}

/// Error body (B): `{"status","message","detailedMessage","timestamp","validationErrors"}`.
pub(crate) fn body_b(status: StatusCode, code: &str, message: &str, now: u64) -> Value {
    json!({
        "status": status.as_u16(),
        "message": message,
        "detailedMessage": format!("{code}: {message}"),
        "timestamp": dates::iso_millis(now),
        "validationErrors": [],
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(body_a(&self.code, &self.message))).into_response();
        r.extensions_mut().insert(ErrInfo {
            code: self.code,
            message: self.message,
        });
        r
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

pub(crate) fn err(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code: code.to_string(),
        message: message.into(),
    }
}

pub(crate) fn bad(message: impl Into<String>) -> ApiError {
    err(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
}

pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
    err(StatusCode::NOT_FOUND, "NOT_FOUND", message)
}

pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
    err(StatusCode::FORBIDDEN, "FORBIDDEN", message)
}

pub(crate) fn status_or(code: u16, fallback: StatusCode) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(fallback)
}

/// Parse a JSON body (any shape); 400 when empty or malformed.
pub(crate) fn parse_json(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("a JSON request body is required"));
    }
    serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON body: {e}")))
}

/// 202 with a JSON body.
pub(crate) fn accepted(v: Value) -> ApiResult {
    Ok((StatusCode::ACCEPTED, Json(v)).into_response())
}

pub(crate) fn ok_json(v: Value) -> ApiResult {
    Ok(Json(v).into_response())
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    err(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("{method} is not supported on {}", uri.path()),
    )
    .into_response()
}

async fn route_not_found(method: Method, uri: Uri) -> Response {
    err(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("no route for {method} {}", uri.path()),
    )
    .into_response()
}

/// The RUCKUS routes; the same router is nested under `/ruckus` and served at a root.
pub(crate) fn router(sh: Shared) -> Router<Shared> {
    let ec = || {
        get(tenants::get_one)
            .put(tenants::update)
            .delete(tenants::delete)
    };
    let invite = || post(tenants::invite).get(tenants::invite_get);
    let assign = || get(partners::get_assigned);
    let routes = Router::new()
        .route("/oauth2/token/{tenant_id}", post(oauth::token))
        .route("/activities/{id}", get(activities::get))
        .route(
            "/api/tenant/{tenant_id}/activity/{id}",
            get(activities::get_legacy),
        )
        .route("/tenants", post(tenants::create))
        .route(
            "/mspCustomers",
            post(tenants::create).get(tenants::list_legacy),
        )
        .route("/tenants/{id}", ec())
        .route("/mspCustomers/{id}", ec())
        .route("/tenants/{id}/invitations", invite())
        .route("/mspCustomers/{id}/invitations", invite())
        .route("/tenants/{id}/admins", get(tenants::admins))
        .route("/mspCustomers/{id}/admins", get(tenants::admins))
        .route("/tenants/query", post(query::tenants))
        .route("/mspecs/query", post(query::mspecs))
        .route("/techpartners/mspecs/query", post(query::techpartner_ecs))
        .route("/delegations/query", post(query::delegations))
        .route(
            "/tenants/delegations/{id}",
            get(partners::get_delegation)
                .put(partners::respond)
                .delete(partners::revoke),
        )
        .route("/mspIntegrators/{id}", assign().patch(partners::assign))
        .route(
            "/tenants/{id}/tenantDelegations",
            assign().put(partners::assign),
        )
        .method_not_allowed_fallback(method_not_allowed);
    control::vendor_layers(routes, &sh, "ruckus", |r| {
        r.route_layer(from_fn_with_state(sh.clone(), gate::gate))
    })
    .fallback(route_not_found)
}
