//! Simulated HPE Aruba Networking Central (Classic, MSP mode), fact sheet §1: the account
//! state (customers, devices, licence pools, sites, tokens, settling work), the shared
//! error/parse helpers and the router. Auth and rate limits live in `gate`, the
//! `[assumed]` switches in `switches`, resource handlers with their wire types in the
//! other submodules. Never imports the client code.

mod bodies;
mod customers;
mod devices;
mod edit;
mod gate;
mod oauth;
mod sites;
mod switches;

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub(crate) use bodies::documented_body;
pub use edit::ArubaEdit;
pub use switches::{
    ArubaSwitches, AssociationConflict, AutolicenseReadShape, CrossTenantMove, ErrorBody,
    MspDeviceCustomerId, NameFilter, RateLimitBody, UnauthorizedBody,
};

use super::Shared;
use super::common::{iso_seconds, splitmix};
use super::control;
use super::inventory::{ArubaInventory, OauthClient};

/// A customer (tenant) as the simulator keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Customer {
    pub customer_id: String,
    pub customer_name: String,
    pub description: String,
    pub lock_msp_ssids: bool,
    pub group: String,
    pub country_code: String,
    pub street_address: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub created_at: u64,
    pub updated_at_ms: u64,
    pub invisible_polls: u32,
    pub visible_at_ms: u64,
    pub application_id: String,
    pub application_instance_id: String,
    pub platform_customer_id: String,
}

impl Customer {
    pub fn visible(&self, now_ms: u64) -> bool {
        self.invisible_polls == 0 && now_ms >= self.visible_at_ms
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Device {
    pub serial: String,
    pub mac: String,
    /// IAP | SWITCH | CONTROLLER
    pub device_type: String,
    pub model: String,
    pub part: String,
    /// None = in the MSP inventory.
    pub customer_id: Option<String>,
    pub services: Vec<String>,
    pub site_id: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Site {
    pub site_id: u64,
    /// The tenant; None = the MSP's own site.
    pub owner: Option<String>,
    pub site_name: String,
    pub address: String,
    pub city: String,
    pub state: String,
    pub country: String,
    pub zipcode: String,
    pub latitude: String,
    pub longitude: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Pool {
    pub tokens: u32,
    pub device_type: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Tokens {
    /// Issued access token → expiry (simulated epoch seconds).
    pub access: BTreeMap<String, u64>,
    /// Valid refresh token → the access token issued with it.
    pub refresh: BTreeMap<String, Option<String>>,
}

/// Work that settles later (device moves, MSP licence jobs, auto-licence).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Pending {
    Move {
        due_ms: u64,
        serials: Vec<String>,
        target: Option<String>,
    },
    /// The tenant's auto-licence services for these devices, as set when it runs.
    AutoLicense {
        due_ms: u64,
        customer_id: String,
        serials: Vec<String>,
    },
    LicenseJob {
        due_ms: u64,
        assign: bool,
        services: Vec<String>,
        include: Vec<String>,
        exclude: Vec<String>,
    },
}

/// The whole simulated Aruba Central MSP account.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ArubaState {
    pub msp_id: String,
    pub msp_name: String,
    pub switches: ArubaSwitches,
    pub static_tokens: Vec<String>,
    pub oauth: OauthClient,
    pub groups: Vec<String>,
    pub pools: BTreeMap<String, Pool>,
    pub customers: Vec<Customer>,
    pub devices: BTreeMap<String, Device>,
    pub sites: Vec<Site>,
    pub next_site_id: u64,
    pub seq: u64,
    pub tokens: Tokens,
    /// Auto-licence services per customer id (the MSP's own id included).
    pub autolicense: BTreeMap<String, BTreeSet<String>>,
    /// Services customers created later inherit.
    pub autolicense_future: BTreeSet<String>,
    pub pending: Vec<Pending>,
    #[serde(skip)]
    pub(super) rate: gate::RateWindows,
}

impl Pending {
    fn due_ms(&self) -> u64 {
        match self {
            Pending::Move { due_ms, .. }
            | Pending::AutoLicense { due_ms, .. }
            | Pending::LicenseJob { due_ms, .. } => *due_ms,
        }
    }
}

impl ArubaState {
    pub fn from_inventory(inv: &ArubaInventory) -> ArubaState {
        let mut tokens = Tokens::default();
        tokens.refresh.insert(inv.oauth.refresh_token.clone(), None);
        ArubaState {
            msp_id: inv.msp_id.clone(),
            msp_name: inv.msp_name.clone(),
            switches: inv.switches.clone(),
            static_tokens: inv.tokens.clone(),
            oauth: inv.oauth.clone(),
            groups: inv.groups.clone(),
            pools: inv
                .licenses
                .iter()
                .map(|(k, p)| {
                    let pool = Pool {
                        tokens: p.tokens,
                        device_type: p.device_type.clone(),
                    };
                    (k.clone(), pool)
                })
                .collect(),
            customers: Vec::new(),
            devices: inv
                .devices
                .iter()
                .map(|d| {
                    let dev = Device {
                        serial: d.serial.clone(),
                        mac: d.mac.clone(),
                        device_type: d.device_type.clone(),
                        model: d.model.clone(),
                        part: d.part.clone(),
                        customer_id: None,
                        services: Vec::new(),
                        site_id: None,
                    };
                    (d.serial.clone(), dev)
                })
                .collect(),
            sites: Vec::new(),
            next_site_id: 1,
            seq: 0,
            tokens,
            autolicense: BTreeMap::new(),
            autolicense_future: BTreeSet::new(),
            pending: Vec::new(),
            rate: gate::RateWindows::default(),
        }
    }

    /// A fresh deterministic 32-lowercase-hex id.
    pub fn new_hex32(&mut self) -> String {
        self.seq += 1;
        let a = splitmix(self.seq ^ 0xA5A5_0000_0000_0001);
        let b = splitmix(a ^ self.seq.rotate_left(17));
        format!("{a:016x}{b:016x}")
    }

    pub fn group_id(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g == name).map(|i| i + 1)
    }

    pub fn customer_index(&self, id: &str) -> Option<usize> {
        self.customers.iter().position(|c| c.customer_id == id)
    }

    pub fn visible_customer(&self, id: &str, now_ms: u64) -> Option<&Customer> {
        self.customers
            .iter()
            .find(|c| c.customer_id == id && c.visible(now_ms))
    }

    /// The tenant a request acts on: `TenantID` header → Some(customer id); none or the
    /// MSP's own id → None.
    pub fn tenant(&self, headers: &HeaderMap, now_ms: u64) -> Result<Option<String>, ApiError> {
        let Some(v) = headers.get("tenantid") else {
            return Ok(None);
        };
        let id = v.to_str().unwrap_or("").trim();
        if id.is_empty() || id == self.msp_id {
            return Ok(None);
        }
        if self.visible_customer(id, now_ms).is_some() {
            return Ok(Some(id.to_string()));
        }
        let status = StatusCode::from_u16(self.switches.unknown_tenant_status)
            .unwrap_or(StatusCode::FORBIDDEN);
        Err(svc_err(
            status,
            format!("TenantID {id} is not a customer of this MSP"),
        ))
    }

    /// The canonical service name (case-insensitive lookup).
    pub fn service(&self, name: &str) -> Option<String> {
        self.pools
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name.trim()))
            .cloned()
    }

    pub fn service_fits(&self, service: &str, device_type: &str) -> bool {
        self.pools
            .get(service)
            .and_then(|p| p.device_type.as_deref())
            .is_none_or(|t| t == device_type)
    }

    pub fn free_tokens(&self, service: &str) -> u32 {
        let total = self.pools.get(service).map_or(0, |p| p.tokens);
        let used = self
            .devices
            .values()
            .filter(|d| d.services.iter().any(|s| s == service))
            .count() as u32;
        total.saturating_sub(used)
    }

    /// Put a device in a tenant (Some) or back in the MSP inventory (None).
    pub fn place_device(&mut self, serial: &str, target: Option<&str>) {
        let Some(d) = self.devices.get_mut(serial) else {
            return;
        };
        if d.customer_id.as_deref() == target {
            return;
        }
        d.site_id = None;
        d.customer_id = target.map(str::to_string);
        if target.is_none() {
            d.services.clear();
        }
    }

    /// Give these devices the tenant's auto-licence services; a service whose free tokens
    /// do not cover every device that needs it is paused (assigned to none).
    pub fn auto_license(&mut self, customer_id: &str, serials: &[String]) {
        let Some(services) = self.autolicense.get(customer_id).cloned() else {
            return;
        };
        for service in services {
            self.assign_all_or_nothing(&service, serials, Some(customer_id));
        }
    }

    /// Assign one service to every fitting, unlicensed device of `serials` that is in a
    /// tenant (and in `only_tenant` when given), or to none if the pool is too small.
    fn assign_all_or_nothing(
        &mut self,
        service: &str,
        serials: &[String],
        only_tenant: Option<&str>,
    ) -> bool {
        let needing: Vec<String> = serials
            .iter()
            .filter_map(|s| self.devices.get(s))
            .filter(|d| d.customer_id.is_some())
            .filter(|d| only_tenant.is_none() || d.customer_id.as_deref() == only_tenant)
            .filter(|d| self.service_fits(service, &d.device_type))
            .filter(|d| !d.services.iter().any(|x| x == service))
            .map(|d| d.serial.clone())
            .collect();
        if needing.len() as u32 > self.free_tokens(service) {
            return false;
        }
        for s in needing {
            if let Some(d) = self.devices.get_mut(&s) {
                d.services.push(service.to_string());
            }
        }
        true
    }

    /// Apply delayed work whose time has come, oldest first; work it queues (auto-licence
    /// after a move) counts from the time the earlier work was due.
    pub fn settle(&mut self, now_ms: u64) {
        // Each round applies everything due; only a move queues more (auto-licence,
        // which queues nothing), so two rounds settle every chain. Bounded anyway.
        for _ in 0..4 {
            let (mut due, later): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.pending)
                .into_iter()
                .partition(|p| p.due_ms() <= now_ms);
            self.pending = later;
            if due.is_empty() {
                return;
            }
            due.sort_by_key(Pending::due_ms);
            for p in due {
                match p {
                    Pending::Move {
                        due_ms,
                        serials,
                        target,
                    } => self.apply_move(&serials, target.as_deref(), due_ms),
                    Pending::AutoLicense {
                        customer_id,
                        serials,
                        ..
                    } => self.auto_license(&customer_id, &serials),
                    Pending::LicenseJob {
                        assign,
                        services,
                        include,
                        exclude,
                        ..
                    } => self.apply_license_job(assign, &services, &include, &exclude),
                }
            }
        }
    }

    /// Land a move at `now_ms`: into a tenant (Some) or back to the MSP inventory (None).
    /// A move into a tenant deleted meanwhile is dropped. The tenant's auto-licence
    /// follows `autolicense_delay_ms` later.
    pub fn apply_move(&mut self, serials: &[String], target: Option<&str>, now_ms: u64) {
        if let Some(t) = target
            && self.customer_index(t).is_none()
        {
            return;
        }
        for s in serials {
            self.place_device(s, target);
        }
        if let Some(t) = target {
            self.queue_auto_license(t, serials.to_vec(), now_ms);
        }
    }

    /// Auto-licence for these devices of a tenant, at once or `autolicense_delay_ms` later.
    pub fn queue_auto_license(&mut self, customer_id: &str, serials: Vec<String>, now_ms: u64) {
        if !self.autolicense.contains_key(customer_id) {
            return;
        }
        match self.switches.autolicense_delay_ms {
            0 => self.auto_license(customer_id, &serials),
            delay => self.pending.push(Pending::AutoLicense {
                due_ms: now_ms.saturating_add(delay),
                customer_id: customer_id.to_string(),
                serials,
            }),
        }
    }

    fn apply_license_job(
        &mut self,
        assign: bool,
        services: &[String],
        include: &[String],
        exclude: &[String],
    ) {
        let in_scope = |cid: &str| {
            if !include.is_empty() {
                include.iter().any(|c| c == cid)
            } else {
                !exclude.iter().any(|c| c == cid)
            }
        };
        let serials: Vec<String> = self
            .devices
            .values()
            .filter(|d| d.customer_id.as_deref().is_some_and(in_scope))
            .map(|d| d.serial.clone())
            .collect();
        for service in services {
            if assign {
                self.assign_all_or_nothing(service, &serials, None);
            } else {
                for s in &serials {
                    if let Some(d) = self.devices.get_mut(s) {
                        d.services.retain(|x| x != service);
                    }
                }
            }
        }
    }
}

/// An error response: status + JSON body.
#[derive(Debug)]
pub(crate) struct ApiError(pub StatusCode, pub Value);

/// The text of a service-level error, kept on the response so the gate can render it
/// in the shape the `error_body` switch selects.
#[derive(Clone, Debug)]
pub(crate) struct ErrorText(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let text = self.1["description"].as_str().map(str::to_string);
        let mut r = (self.0, Json(self.1)).into_response();
        if let Some(t) = text {
            r.extensions_mut().insert(ErrorText(t));
        }
        r
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

/// The (assumed) service-level error body.
pub(crate) fn svc_err(status: StatusCode, description: impl Into<String>) -> ApiError {
    ApiError(
        status,
        json!({
            "description": description.into(),
            "error_code": status.as_u16().to_string(),
            "service_name": "Aruba Central (mspform-sim)",
        }),
    )
}

/// An error with a status taken from a switch (a bad value falls back to `fallback`).
pub(crate) fn switched(
    code: u16,
    fallback: StatusCode,
    description: impl Into<String>,
) -> ApiError {
    svc_err(StatusCode::from_u16(code).unwrap_or(fallback), description)
}

pub(crate) fn bad(description: impl Into<String>) -> ApiError {
    svc_err(StatusCode::BAD_REQUEST, description)
}

pub(crate) fn not_found(description: impl Into<String>) -> ApiError {
    svc_err(StatusCode::NOT_FOUND, description)
}

pub(crate) fn ok_json(v: Value) -> ApiResult {
    Ok(Json(v).into_response())
}

/// Parse a JSON request body into a wire type; 400 with the serde message otherwise.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("a JSON request body is required"));
    }
    serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON body: {e}")))
}

/// An optional non-negative integer query parameter; 400 when malformed.
pub(crate) fn query_u64(
    q: &BTreeMap<String, String>,
    key: &str,
    default: u64,
) -> Result<u64, ApiError> {
    match q.get(key).map(|s| s.trim()) {
        None | Some("") => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            bad(format!(
                "query parameter {key} must be a non-negative integer, got {v:?}"
            ))
        }),
    }
}

/// The Aruba routes; the same router is nested under `/aruba` and served at a root.
pub(crate) fn router(sh: Shared) -> Router<Shared> {
    const AUTOLICENSE: &str = "/platform/licensing/v1/msp/customer/settings/autolicense";
    let routes = Router::new()
        .route("/oauth2/token", post(oauth::token))
        .route("/msp_api/v1/customers", get(customers::list))
        .route(
            "/msp_api/v1/customers/{id}",
            get(customers::get_one).delete(customers::delete),
        )
        .route("/msp_api/v2/customers", post(customers::create))
        .route("/msp_api/v2/customers/{id}", put(customers::update))
        .route("/msp_api/v1/devices", get(devices::msp_list))
        .route(
            "/msp_api/v1/customers/{id}/devices",
            get(devices::tenant_list).put(devices::move_devices),
        )
        .route("/msp_api/v2/{id}/devices", put(devices::unassign_all))
        .route(
            "/platform/licensing/v1/subscriptions/assign",
            post(devices::assign),
        )
        .route(
            "/platform/licensing/v1/subscriptions/unassign",
            post(devices::unassign),
        )
        .route(
            "/platform/licensing/v1/services/config",
            get(devices::services_config),
        )
        .route(
            "/platform/licensing/v1/msp/subscriptions/devices/all",
            post(devices::all_assign).delete(devices::all_unassign),
        )
        .route(
            AUTOLICENSE,
            post(devices::autolicense_enable)
                .get(devices::autolicense_read)
                .delete(devices::autolicense_disable),
        )
        .route("/central/v2/sites", get(sites::list).post(sites::create))
        .route(
            "/central/v2/sites/associations",
            post(sites::associate).delete(sites::unassociate),
        )
        .route(
            "/central/v2/sites/{id}",
            get(sites::get_one)
                .patch(sites::update)
                .delete(sites::delete),
        )
        .method_not_allowed_fallback(control::method_not_allowed);
    control::vendor_layers(routes, &sh, "aruba", |r| {
        r.route_layer(from_fn_with_state(sh.clone(), gate::gate))
    })
    .fallback(control::not_found)
}

/// `2024-01-02T03:04:05.123000`: ISO-8601, no zone, microseconds.
pub(crate) fn iso_micros(ms: u64) -> String {
    format!("{}.{:06}", iso_seconds(ms), (ms % 1000) * 1000)
}
