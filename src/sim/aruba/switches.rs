//! Aruba behaviour switches: one named field for every behaviour the fact sheet marks
//! `[assumed]`, with the defaults the simulator starts with. Data only. The defaults are
//! as slow as the cloud, only shorter: provisioning, device moves, licence jobs and
//! auto-licence settle after tens to hundreds of milliseconds, so every client meets
//! the asynchronous paths; a test that needs instant answers sets them to 0.

use serde::{Deserialize, Serialize};

/// Every behaviour the fact sheet only assumes, as a switch. Set them in the inventory's
/// `[aruba.switches]`, with `POST /_sim/aruba/switches` or [`crate::sim::Simulator::aruba_switches`].
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
    /// Device moves become visible this long after the PUT (the real cloud settles
    /// moves asynchronously; until then licensing or associating the device is refused).
    pub device_move_delay_ms: u64,
    /// The MSP "all devices" licence jobs apply this long after the call.
    pub license_job_delay_ms: u64,
    /// Auto-licence assigns its services this long after a device lands in the tenant
    /// (or after it is enabled, for the tenant's existing devices).
    pub autolicense_delay_ms: u64,
    /// Assigning a service to a device of another type (e.g. ADVANCED_AP to a switch) → 400.
    pub license_device_type_check: bool,
    /// Shape of `GET …/autolicense?customer_id=`.
    pub autolicense_read_shape: AutolicenseReadShape,
    /// Enabling auto-licence also licenses the tenant's existing unlicensed devices.
    pub autolicense_applies_existing: bool,
    /// `device_type` label for access points in the device lists ("IAP"; the seed sample shows "AP").
    pub ap_device_type_label: String,
    /// `customer_id`/`customer_name` of devices in the MSP inventory: the MSP's own id
    /// and name, null, or "".
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
    /// Body of the 401 for a missing, unknown or expired token (it always holds the text
    /// `invalid_token`, the only part the fact sheet confirms).
    pub unauthorized_body: UnauthorizedBody,
    /// Body of a 429 (the headers say which window ran out).
    pub rate_limit_body: RateLimitBody,
    /// Shape of every other error body (service-level errors).
    pub error_body: ErrorBody,
    /// Status for a serial that is not in the MSP inventory (device move, licences).
    pub unknown_serial_status: u16,
    /// Status for a licence assignment without enough free tokens.
    pub no_free_license_status: u16,
    /// Most serials one licence assign/unassign call takes (the real limit is
    /// undocumented beyond 413/417); 0: no limit.
    pub license_max_serials: u32,
    /// Status for a licence call over `license_max_serials` (413 or 417).
    pub license_overflow_status: u16,
    /// Status for a site id that is not a site of the tenant.
    pub unknown_site_status: u16,
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
            provision_delay_ms: 50,
            devices_max_limit: 1000,
            cross_tenant_move: CrossTenantMove::Allow,
            device_move_delay_ms: 100,
            license_job_delay_ms: 100,
            autolicense_delay_ms: 50,
            license_device_type_check: true,
            autolicense_read_shape: AutolicenseReadShape::Object,
            autolicense_applies_existing: true,
            ap_device_type_label: "IAP".into(),
            msp_device_customer_id: MspDeviceCustomerId::MspId,
            allow_duplicate_site_names: false,
            sites_max_limit: 1000,
            association_conflict: AssociationConflict::Fail,
            association_overflow_status: 413,
            unknown_tenant_status: 403,
            unauthorized_body: UnauthorizedBody::Oauth,
            rate_limit_body: RateLimitBody::Kong,
            error_body: ErrorBody::Service,
            unknown_serial_status: 400,
            no_free_license_status: 409,
            license_max_serials: 0,
            license_overflow_status: 413,
            unknown_site_status: 404,
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

/// What the device lists say about a device that sits in the MSP inventory. The fact
/// sheet is silent (§1.6). It does treat the MSP as a customer with its own id (seed 000's
/// "MSP Customer ID"): moving a device back is a move *into* that id through the same
/// per-customer endpoint, so the default lists such a device under the MSP's own id and
/// name, as a real account was seen doing; `null` and `""` are the alternatives.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MspDeviceCustomerId {
    /// `customer_id` = the MSP's own customer id, `customer_name` = the MSP's name.
    MspId,
    /// Both null.
    Null,
    /// Both "".
    Empty,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AssociationConflict {
    Fail,
    Move,
}

/// The 401 body.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UnauthorizedBody {
    /// `{"error":"invalid_token","error_description":"Invalid access token"}`.
    Oauth,
    /// `{"error":"invalid_token"}`.
    ErrorOnly,
    /// `text/plain` `invalid_token: Invalid access token`.
    Text,
}

/// The 429 body.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitBody {
    /// `{"message":"API rate limit exceeded"}` (the API gateway's default).
    Kong,
    /// No body at all.
    Empty,
    /// `text/plain` `API rate limit exceeded`.
    Text,
}

/// The shape of service-level error bodies.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorBody {
    /// `{"description","error_code","service_name"}`.
    Service,
    /// `{"message"}`.
    Message,
    /// The MSP API's in-band form with the HTTP status kept:
    /// `{"errorcode","message","status":"failure","status_code"}`.
    InBand,
}
