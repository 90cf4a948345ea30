//! Simulated HPE Aruba Networking Central (Classic, MSP mode), fact sheet §1: the state
//! (customers, devices, licence pools, sites, tokens), the behaviour switches for every
//! `[assumed]` behaviour, the router, and the gate every call passes (bearer auth,
//! `X-RateLimit-*` headers, 429s). Resource handlers live in the submodules; this module
//! owns its own wire types and never imports the client code.

mod customers;
mod devices;
mod edit;
mod oauth;
mod sites;

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use edit::ArubaEdit;

use super::Shared;
use super::control::{self, FaultMarker};
use super::inventory::{ArubaInventory, OauthClient};

/// Every behaviour the fact sheet only assumes, as a switch. Set them in the inventory's
/// `[aruba.switches]`, with `POST /_sim/aruba/switches` or [`super::Simulator::aruba_switches`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ArubaSwitches {
    /// Calls per wall-clock second (fixed window); 0 turns the limit off.
    pub limit_per_second: u32,
    /// Calls per GMT day; 0 turns the limit off.
    pub limit_per_day: u32,
    /// A refresh token works once.
    pub refresh_token_single_use: bool,
    /// Lifetime of issued access tokens (the real cloud: 7200).
    pub token_lifetime_secs: u64,
    /// Largest `limit` the customer list honours (larger values are capped).
    pub customers_max_limit: u32,
    /// How `customer_name` filters the customer list.
    pub customer_name_filter: NameFilter,
    /// Status of a successful customer create: 200 or 201.
    pub create_status: u16,
    /// Accept a second customer with the same name.
    pub allow_duplicate_names: bool,
    /// A new customer is missing from this many customer-list calls ...
    pub provision_invisible_polls: u32,
    /// ... and from every read for this long.
    pub provision_delay_ms: u64,
    /// Largest `limit` the MSP device list honours.
    pub devices_max_limit: u32,
    /// Moving a device that is in tenant A straight into tenant B.
    pub cross_tenant_move: CrossTenantMove,
    /// Device moves become visible this long after the PUT.
    pub device_move_delay_ms: u64,
    /// The MSP "all devices" licence jobs apply this long after the call.
    pub license_job_delay_ms: u64,
    /// Assigning a service to a device of another type (e.g. ADVANCED_AP to a switch) → 400.
    pub license_device_type_check: bool,
    /// Shape of `GET …/autolicense?customer_id=`.
    pub autolicense_read_shape: AutolicenseReadShape,
    /// Enabling auto-licence also licenses the tenant's existing unlicensed devices.
    pub autolicense_applies_existing: bool,
    /// `device_type` label for access points in the device lists ("IAP"; the seed sample shows "AP").
    pub ap_device_type_label: String,
    /// `customer_id`/`customer_name` of devices in the MSP inventory: null or "".
    pub msp_device_customer_id: MspDeviceCustomerId,
    /// Accept two sites with the same name in one tenant.
    pub allow_duplicate_site_names: bool,
    /// Largest site-list `limit`; above → 400.
    pub sites_max_limit: u32,
    /// A device already in another site of the tenant: listed in `failed`, or moved.
    pub association_conflict: AssociationConflict,
    /// Status for more than 5000 serials in one association call (413 or 400).
    pub association_overflow_status: u16,
    /// Status for a `TenantID` header naming no customer of the MSP.
    pub unknown_tenant_status: u16,
}

impl Default for ArubaSwitches {
    fn default() -> Self {
        ArubaSwitches {
            limit_per_second: 7,
            limit_per_day: 5000,
            refresh_token_single_use: true,
            token_lifetime_secs: 7200,
            customers_max_limit: 100,
            customer_name_filter: NameFilter::Substring,
            create_status: 200,
            allow_duplicate_names: false,
            provision_invisible_polls: 1,
            provision_delay_ms: 0,
            devices_max_limit: 1000,
            cross_tenant_move: CrossTenantMove::Allow,
            device_move_delay_ms: 0,
            license_job_delay_ms: 0,
            license_device_type_check: true,
            autolicense_read_shape: AutolicenseReadShape::Object,
            autolicense_applies_existing: true,
            ap_device_type_label: "IAP".into(),
            msp_device_customer_id: MspDeviceCustomerId::Null,
            allow_duplicate_site_names: false,
            sites_max_limit: 1000,
            association_conflict: AssociationConflict::Fail,
            association_overflow_status: 413,
            unknown_tenant_status: 403,
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NameFilter {
    /// Case-insensitive substring.
    Substring,
    /// Exact, case-sensitive.
    Exact,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CrossTenantMove {
    /// Drop the old tenant's site association, keep the licences.
    Allow,
    /// 400, nothing moved.
    Reject,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AutolicenseReadShape {
    /// `{"customer_id": id, "services": [name]}`
    Object,
    /// `[{"service": name}]`
    List,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MspDeviceCustomerId {
    Null,
    Empty,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AssociationConflict {
    Fail,
    Move,
}

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

/// Work that settles later (device moves, MSP licence jobs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Pending {
    Move {
        due_ms: u64,
        serials: Vec<String>,
        target: Option<String>,
    },
    LicenseJob {
        due_ms: u64,
        assign: bool,
        services: Vec<String>,
        include: Vec<String>,
        exclude: Vec<String>,
    },
}

#[derive(Clone, Debug, Default)]
pub(crate) struct RateWindows {
    sec: u64,
    sec_count: u32,
    day: u64,
    day_count: u32,
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
    rate: RateWindows,
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
            rate: RateWindows::default(),
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
        let status =
            StatusCode::from_u16(self.switches.unknown_tenant_status).unwrap_or(StatusCode::FORBIDDEN);
        Err(svc_err(status, format!("TenantID {id} is not a customer of this MSP")))
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
        let Some(d) = self.devices.get_mut(serial) else { return };
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
        let Some(services) = self.autolicense.get(customer_id).cloned() else { return };
        for service in services {
            self.assign_all_or_nothing(&service, serials, Some(customer_id));
        }
    }

    /// Assign one service to every fitting, unlicensed device of `serials` that is in a
    /// tenant (and in `only_tenant` when given), or to none if the pool is too small.
    fn assign_all_or_nothing(&mut self, service: &str, serials: &[String], only_tenant: Option<&str>) -> bool {
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

    /// Apply delayed work whose time has come.
    pub fn settle(&mut self, now_ms: u64) {
        if self.pending.is_empty() {
            return;
        }
        let (due, later): (Vec<Pending>, Vec<Pending>) =
            std::mem::take(&mut self.pending).into_iter().partition(|p| match p {
                Pending::Move { due_ms, .. } | Pending::LicenseJob { due_ms, .. } => *due_ms <= now_ms,
            });
        self.pending = later;
        for p in due {
            match p {
                Pending::Move { serials, target, .. } => self.apply_move(&serials, target.as_deref()),
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

    pub fn apply_move(&mut self, serials: &[String], target: Option<&str>) {
        for s in serials {
            self.place_device(s, target);
        }
        if let Some(t) = target
            && self.customer_index(t).is_some()
        {
            self.auto_license(t, serials);
        }
    }

    fn apply_license_job(&mut self, assign: bool, services: &[String], include: &[String], exclude: &[String]) {
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

    /// Per-second and per-day windows: Ok(()) and counted, or the window that is exhausted.
    fn admit(&mut self, now_ms: u64) -> Result<(), FaultMarker> {
        let (sec, day) = (now_ms / 1000, now_ms / 86_400_000);
        if self.rate.sec != sec {
            self.rate.sec = sec;
            self.rate.sec_count = 0;
        }
        if self.rate.day != day {
            self.rate.day = day;
            self.rate.day_count = 0;
        }
        let (ls, ld) = (self.switches.limit_per_second, self.switches.limit_per_day);
        if ld > 0 && self.rate.day_count >= ld {
            return Err(FaultMarker::RateLimitDay);
        }
        if ls > 0 && self.rate.sec_count >= ls {
            return Err(FaultMarker::RateLimitSecond);
        }
        self.rate.sec_count += 1;
        self.rate.day_count += 1;
        Ok(())
    }

    /// (limit-day, remaining-day, limit-second, remaining-second) as reported in headers.
    fn rate_headers(&self) -> (u32, u32, u32, u32) {
        const OFF: u32 = 1_000_000;
        let (ls, ld) = (self.switches.limit_per_second, self.switches.limit_per_day);
        let day = if ld == 0 { (OFF, OFF) } else { (ld, ld.saturating_sub(self.rate.day_count)) };
        let sec = if ls == 0 { (OFF, OFF) } else { (ls, ls.saturating_sub(self.rate.sec_count)) };
        (day.0, day.1, sec.0, sec.1)
    }

    fn token_valid(&self, token: &str, now_ms: u64) -> bool {
        self.static_tokens.iter().any(|t| t == token)
            || self
                .tokens
                .access
                .get(token)
                .is_some_and(|exp| now_ms / 1000 < *exp)
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// An error response: status + JSON body.
#[derive(Debug)]
pub(crate) struct ApiError(pub StatusCode, pub Value);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
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
pub(crate) fn query_u64(q: &BTreeMap<String, String>, key: &str, default: u64) -> Result<u64, ApiError> {
    match q.get(key).map(|s| s.trim()) {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| bad(format!("query parameter {key} must be a non-negative integer, got {v:?}"))),
    }
}

/// The Aruba routes; the same router is nested under `/aruba` and served at a root.
pub(crate) fn router(sh: Shared) -> Router<Shared> {
    const AUTOLICENSE: &str = "/platform/licensing/v1/msp/customer/settings/autolicense";
    Router::new()
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
        .route("/platform/licensing/v1/subscriptions/assign", post(devices::assign))
        .route("/platform/licensing/v1/subscriptions/unassign", post(devices::unassign))
        .route("/platform/licensing/v1/services/config", get(devices::services_config))
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
            get(sites::get_one).patch(sites::update).delete(sites::delete),
        )
        .route_layer(from_fn_with_state((sh.clone(), "aruba"), control::fault_layer))
        .route_layer(from_fn_with_state(sh.clone(), gate))
        .route_layer(from_fn_with_state((sh, "aruba"), control::count_layer))
        .fallback(control::not_found)
}

/// Every Aruba call: bearer auth (OAuth exempt), rate limits, and the rate-limit headers
/// on every response.
async fn gate(State(sh): State<Shared>, req: Request, next: Next) -> Response {
    let is_oauth = control::route_key(&req, "aruba").contains(" /oauth2/");
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_string())
        });
    let early = {
        let mut st = sh.lock();
        let now = st.now_ms();
        let a = &mut st.aruba;
        a.settle(now);
        if is_oauth {
            None
        } else if !token.as_deref().is_some_and(|t| a.token_valid(t, now)) {
            Some(
                (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({"error": "invalid_token", "error_description": "Invalid access token"})),
                )
                    .into_response(),
            )
        } else {
            a.admit(now).err().map(|marker| {
                let mut r = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({"message": "API rate limit exceeded"})),
                )
                    .into_response();
                r.extensions_mut().insert(marker);
                r
            })
        }
    };
    let mut resp = match early {
        Some(r) => r,
        None => next.run(req).await,
    };
    let (mut ld, mut rd, mut ls, mut rs, now) = {
        let st = sh.lock();
        let (ld, rd, ls, rs) = st.aruba.rate_headers();
        (ld, rd, ls, rs, st.now_ms())
    };
    match resp.extensions().get::<FaultMarker>() {
        Some(FaultMarker::RateLimitSecond) => rs = 0,
        Some(FaultMarker::RateLimitDay) => rd = 0,
        None => {}
    }
    if ld == 0 {
        ld = 1;
    }
    if ls == 0 {
        ls = 1;
    }
    let h = resp.headers_mut();
    let mut set = |name: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(name, v);
        }
    };
    set("x-ratelimit-limit-day", ld.to_string());
    set("x-ratelimit-remaining-day", rd.to_string());
    set("x-ratelimit-limit-second", ls.to_string());
    set("x-ratelimit-remaining-second", rs.to_string());
    set("x-request-start", format!("t={}.{:03}", now / 1000, now % 1000));
    resp
}

/// `2024-01-02T03:04:05.123000`: ISO-8601, no zone, microseconds.
pub(crate) fn iso_micros(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        (ms % 1000) * 1000
    )
}
