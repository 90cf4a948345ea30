//! Aruba device assignment and licences, fact sheet §1.6–1.7: the MSP and tenant device
//! lists, moves between the MSP inventory and tenants, per-device licence assign /
//! unassign, the MSP-wide licence jobs and auto-licence settings, with their wire types.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::super::Shared;
use super::{
    ApiResult, ArubaState, AutolicenseReadShape, CrossTenantMove, Device, MspDeviceCustomerId,
    Pending, bad, not_found, ok_json, parse_body, query_u64, switched,
};
use crate::sim::inventory::normalize_mac;

/// A device in either device list.
#[derive(Serialize)]
struct DeviceWire {
    aruba_part_no: String,
    customer_id: Option<String>,
    customer_name: Option<String>,
    device_type: String,
    imei: &'static str,
    macaddr: String,
    model: String,
    serial: String,
    services: Vec<String>,
    tier_type: &'static str,
}

fn wire(a: &ArubaState, d: &Device) -> DeviceWire {
    let (customer_id, customer_name) = match &d.customer_id {
        Some(id) => {
            let name = a
                .customers
                .iter()
                .find(|c| &c.customer_id == id)
                .map(|c| c.customer_name.clone());
            (Some(id.clone()), name)
        }
        None => match a.switches.msp_device_customer_id {
            MspDeviceCustomerId::MspId => (Some(a.msp_id.clone()), Some(a.msp_name.clone())),
            MspDeviceCustomerId::Null => (None, None),
            MspDeviceCustomerId::Empty => (Some(String::new()), Some(String::new())),
        },
    };
    let device_type = if d.device_type == "IAP" {
        a.switches.ap_device_type_label.clone()
    } else {
        d.device_type.clone()
    };
    DeviceWire {
        aruba_part_no: d.part.clone(),
        customer_id,
        customer_name,
        device_type,
        imei: "",
        macaddr: d.mac.clone(),
        model: d.model.clone(),
        serial: d.serial.clone(),
        services: d.services.clone(),
        tier_type: "",
    }
}

/// `device_type` query values → internal type.
fn type_filter(q: &BTreeMap<String, String>) -> Result<Option<&'static str>, super::ApiError> {
    match q
        .get("device_type")
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("all") => Ok(None),
        Some("iap") => Ok(Some("IAP")),
        Some("switch") => Ok(Some("SWITCH")),
        Some("all_controller") | Some("controller") => Ok(Some("CONTROLLER")),
        Some(other) => Err(bad(format!(
            "device_type must be iap, switch or all_controller, got {other:?}"
        ))),
    }
}

fn device_list(a: &ArubaState, devices: Vec<&Device>, q: &BTreeMap<String, String>) -> ApiResult {
    let offset = query_u64(q, "offset", 0)? as usize;
    let max = u64::from(a.switches.devices_max_limit.max(1));
    let limit = query_u64(q, "limit", max)?.min(max) as usize;
    let total = devices.len();
    let page: Vec<DeviceWire> = devices
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|d| wire(a, d))
        .collect();
    ok_json(json!({
        "status": "success",
        "deviceList": {
            "activate_credentials_used": false,
            "devices": page,
            "enable_device_sync": false,
            "enable_hardware_sync": false,
            "license_expired": false,
            "next_sync_available": 0,
            "total_devices": total,
        }
    }))
}

pub(super) async fn msp_list(
    State(sh): State<Shared>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let st = sh.lock();
    let a = &st.aruba;
    let dtype = type_filter(&q)?;
    let alloc = query_u64(&q, "device_allocation_status", 0)?;
    if alloc > 2 {
        return Err(bad("device_allocation_status must be 0, 1 or 2"));
    }
    let cname = q.get("customer_name").filter(|s| !s.is_empty());
    let cid = cname.map(|n| {
        a.customers
            .iter()
            .find(|c| &c.customer_name == n)
            .map(|c| c.customer_id.clone())
    });
    let devices = a
        .devices
        .values()
        .filter(|d| dtype.is_none_or(|t| d.device_type == t))
        .filter(|d| match alloc {
            1 => d.customer_id.is_some(),
            2 => d.customer_id.is_none(),
            _ => true,
        })
        .filter(|d| match &cid {
            None => true,
            Some(id) => id.is_some() && d.customer_id == *id,
        })
        .collect();
    device_list(a, devices, &q)
}

pub(super) async fn tenant_list(
    State(sh): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let st = sh.lock();
    let now = st.now_ms();
    let a = &st.aruba;
    let owner = if id == a.msp_id {
        None
    } else if a.visible_customer(&id, now).is_some() {
        Some(id)
    } else {
        return Err(not_found(format!("customer {id} not found")));
    };
    let dtype = type_filter(&q)?;
    let devices = a
        .devices
        .values()
        .filter(|d| d.customer_id == owner)
        .filter(|d| dtype.is_none_or(|t| d.device_type == t))
        .collect();
    device_list(a, devices, &q)
}

#[derive(Deserialize)]
struct MoveBody {
    devices: Option<Vec<MoveDevice>>,
    group: Option<String>,
}

#[derive(Deserialize)]
struct MoveDevice {
    serial: Option<String>,
    mac: Option<String>,
}

fn msp_ok() -> ApiResult {
    ok_json(json!({"errorcode": null, "status": "success", "status_code": 200}))
}

pub(super) async fn move_devices(
    State(sh): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    let target = if id == a.msp_id {
        None
    } else if a.visible_customer(&id, now).is_some() {
        Some(id)
    } else {
        return Err(not_found(format!("customer {id} not found")));
    };
    let b: MoveBody = parse_body(&body)?;
    if let Some(g) = &b.group
        && a.group_id(g).is_none()
    {
        return Err(bad(format!("group {g:?} does not exist")));
    }
    let list = b.devices.unwrap_or_default();
    if list.is_empty() {
        return Err(bad("devices must list at least one {serial, mac}"));
    }
    let mut serials = Vec::new();
    for item in list {
        let serial = item.serial.unwrap_or_default();
        let Some(d) = a.devices.get(&serial) else {
            return Err(switched(
                a.switches.unknown_serial_status,
                StatusCode::BAD_REQUEST,
                format!("device {serial:?} is not in the MSP inventory"),
            ));
        };
        let mac = item.mac.unwrap_or_default();
        if normalize_mac(&mac).is_none() || normalize_mac(&mac) != normalize_mac(&d.mac) {
            return Err(bad(format!("MAC {mac:?} does not match device {serial}")));
        }
        if let (Some(from), Some(to)) = (&d.customer_id, &target)
            && from != to
            && a.switches.cross_tenant_move == CrossTenantMove::Reject
        {
            return Err(bad(format!(
                "device {serial} belongs to another customer; move it to the MSP first"
            )));
        }
        serials.push(serial);
    }
    if a.switches.device_move_delay_ms == 0 {
        a.apply_move(&serials, target.as_deref(), now);
    } else {
        a.pending.push(Pending::Move {
            due_ms: now.saturating_add(a.switches.device_move_delay_ms),
            serials,
            target,
        });
    }
    msp_ok()
}

pub(super) async fn unassign_all(State(sh): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    if a.visible_customer(&id, now).is_none() {
        return Err(not_found(format!("customer {id} not found")));
    }
    let serials: Vec<String> = a
        .devices
        .values()
        .filter(|d| d.customer_id.as_deref() == Some(id.as_str()))
        .map(|d| d.serial.clone())
        .collect();
    a.apply_move(&serials, None, now);
    msp_ok()
}

#[derive(Deserialize)]
struct LicenseBody {
    serials: Option<Vec<String>>,
    services: Option<Vec<String>>,
}

/// Validated serials and canonical services of an assign/unassign call.
fn license_targets(
    a: &ArubaState,
    headers: &HeaderMap,
    now: u64,
    body: &Bytes,
    assigning: bool,
) -> Result<(Vec<String>, Vec<String>), super::ApiError> {
    let tenant = a.tenant(headers, now)?;
    let b: LicenseBody = parse_body(body)?;
    let serials = b.serials.unwrap_or_default();
    let services = b.services.unwrap_or_default();
    let max = a.switches.license_max_serials as usize;
    if max > 0 && serials.len() > max {
        return Err(switched(
            a.switches.license_overflow_status,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Request-size limit exceeded: {} serials, at most {max}",
                serials.len()
            ),
        ));
    }
    if serials.is_empty() || services.is_empty() {
        return Err(bad(
            "serials and services are required and must not be empty",
        ));
    }
    let services = canonical_services(a, &services)?;
    for s in &serials {
        let Some(d) = a.devices.get(s) else {
            return Err(switched(
                a.switches.unknown_serial_status,
                StatusCode::BAD_REQUEST,
                format!("device {s:?} is not in the MSP inventory"),
            ));
        };
        if assigning && d.customer_id.is_none() {
            return Err(bad(format!(
                "device {s} is in the MSP inventory; move it to a customer before licensing"
            )));
        }
        if tenant.is_some() && d.customer_id != tenant {
            return Err(bad(format!(
                "device {s} does not belong to the TenantID customer"
            )));
        }
        if assigning && a.switches.license_device_type_check {
            for svc in &services {
                if !a.service_fits(svc, &d.device_type) {
                    return Err(bad(format!(
                        "service {svc} cannot be assigned to {s} ({})",
                        d.device_type
                    )));
                }
            }
        }
    }
    Ok((serials, services))
}

fn canonical_services(a: &ArubaState, names: &[String]) -> Result<Vec<String>, super::ApiError> {
    names
        .iter()
        .map(|n| {
            a.service(n)
                .ok_or_else(|| bad(format!("unknown service {n:?}")))
        })
        .collect()
}

pub(super) async fn assign(State(sh): State<Shared>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    let (serials, services) = license_targets(a, &headers, now, &body, true)?;
    let mut unique = serials.clone();
    unique.sort();
    unique.dedup();
    for svc in &services {
        let needing = unique
            .iter()
            .filter(|s| a.devices.get(*s).is_some_and(|d| !d.services.contains(svc)))
            .count() as u32;
        let free = a.free_tokens(svc);
        if needing > free {
            return Err(switched(
                a.switches.no_free_license_status,
                StatusCode::CONFLICT,
                format!(
                    "Request Unsuccessful: {needing} devices need {svc} but only {free} tokens are free"
                ),
            ));
        }
    }
    for s in &unique {
        if let Some(d) = a.devices.get_mut(s) {
            for svc in &services {
                if !d.services.contains(svc) {
                    d.services.push(svc.clone());
                }
            }
        }
    }
    ok_json(json!({"response": "success"}))
}

pub(super) async fn unassign(
    State(sh): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    let (serials, services) = license_targets(a, &headers, now, &body, false)?;
    for s in &serials {
        if let Some(d) = a.devices.get_mut(s) {
            d.services.retain(|x| !services.contains(x));
        }
    }
    ok_json(json!({"response": "success"}))
}

pub(super) async fn services_config(
    State(sh): State<Shared>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let st = sh.lock();
    let a = &st.aruba;
    let dtype = type_filter(&q)?;
    let services: Vec<Value> = a
        .pools
        .iter()
        .filter(|(_, p)| dtype.is_none_or(|t| p.device_type.as_deref().is_none_or(|pt| pt == t)))
        .map(|(name, p)| {
            json!({
                "service_name": name,
                "service_category": "network",
                "device_type": p.device_type.as_deref().map(str::to_ascii_lowercase),
                "total_tokens": p.tokens,
                "available_tokens": a.free_tokens(name),
            })
        })
        .collect();
    ok_json(json!({"services": services, "total": services.len()}))
}

#[derive(Deserialize)]
struct ScopeBody {
    services: Option<Vec<String>>,
    include_customers: Option<Vec<String>>,
    exclude_customers: Option<Vec<String>>,
}

struct Scope {
    services: Vec<String>,
    include: Vec<String>,
    exclude: Vec<String>,
}

fn parse_scope(a: &ArubaState, body: &Bytes) -> Result<Scope, super::ApiError> {
    let b: ScopeBody = parse_body(body)?;
    let services = b.services.unwrap_or_default();
    if services.is_empty() {
        return Err(bad("services is required and must not be empty"));
    }
    let include = b.include_customers.unwrap_or_default();
    let exclude = b.exclude_customers.unwrap_or_default();
    if !include.is_empty() && !exclude.is_empty() {
        return Err(bad("give include_customers or exclude_customers, not both"));
    }
    Ok(Scope {
        services: canonical_services(a, &services)?,
        include,
        exclude,
    })
}

async fn license_job(sh: Shared, body: Bytes, assign: bool) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    let s = parse_scope(a, &body)?;
    a.pending.push(Pending::LicenseJob {
        due_ms: now.saturating_add(a.switches.license_job_delay_ms),
        assign,
        services: s.services,
        include: s.include,
        exclude: s.exclude,
    });
    a.settle(now);
    ok_json(json!({"response": "success"}))
}

pub(super) async fn all_assign(State(sh): State<Shared>, body: Bytes) -> ApiResult {
    license_job(sh, body, true).await
}

pub(super) async fn all_unassign(State(sh): State<Shared>, body: Bytes) -> ApiResult {
    license_job(sh, body, false).await
}

/// The customer ids a scope names (the MSP's own id included when no include list), and
/// whether customers created later are covered.
fn scope_ids(a: &ArubaState, s: &Scope) -> (Vec<String>, bool) {
    if !s.include.is_empty() {
        return (s.include.clone(), false);
    }
    let mut ids: Vec<String> = a.customers.iter().map(|c| c.customer_id.clone()).collect();
    ids.push(a.msp_id.clone());
    ids.retain(|id| !s.exclude.contains(id));
    (ids, true)
}

pub(super) async fn autolicense_enable(State(sh): State<Shared>, body: Bytes) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    let s = parse_scope(a, &body)?;
    let (ids, future) = scope_ids(a, &s);
    for id in &ids {
        a.autolicense
            .entry(id.clone())
            .or_default()
            .extend(s.services.iter().cloned());
    }
    if future {
        a.autolicense_future.extend(s.services.iter().cloned());
    }
    if a.switches.autolicense_applies_existing {
        let msp_id = a.msp_id.clone();
        for id in ids.iter().filter(|id| **id != msp_id) {
            let serials: Vec<String> = a
                .devices
                .values()
                .filter(|d| d.customer_id.as_deref() == Some(id.as_str()))
                .map(|d| d.serial.clone())
                .collect();
            a.queue_auto_license(id, serials, now);
        }
    }
    ok_json(json!({"response": "success"}))
}

pub(super) async fn autolicense_disable(State(sh): State<Shared>, body: Bytes) -> ApiResult {
    let mut st = sh.lock();
    let a = &mut st.aruba;
    let s = parse_scope(a, &body)?;
    let (ids, future) = scope_ids(a, &s);
    for id in &ids {
        if let Some(set) = a.autolicense.get_mut(id) {
            set.retain(|x| !s.services.contains(x));
        }
    }
    a.autolicense.retain(|_, set| !set.is_empty());
    if future {
        a.autolicense_future.retain(|x| !s.services.contains(x));
    }
    ok_json(json!({"response": "success"}))
}

pub(super) async fn autolicense_read(
    State(sh): State<Shared>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let st = sh.lock();
    let a = &st.aruba;
    let id = q
        .get("customer_id")
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| a.msp_id.clone());
    if id != a.msp_id && a.customer_index(&id).is_none() {
        return Err(not_found(format!("customer {id} not found")));
    }
    let services: Vec<String> = a
        .autolicense
        .get(&id)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    match a.switches.autolicense_read_shape {
        AutolicenseReadShape::Object => ok_json(json!({"customer_id": id, "services": services})),
        AutolicenseReadShape::List => ok_json(json!(
            services
                .iter()
                .map(|s| json!({"service": s}))
                .collect::<Vec<_>>()
        )),
    }
}
