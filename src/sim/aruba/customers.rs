//! Aruba customers (tenants), fact sheet §1.5: list / get / create (no id returned,
//! provisioned asynchronously) / update / delete, with the request and response wire types.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::super::Shared;
use super::super::common::is_iso_alpha2;
use super::{
    ApiError, ApiResult, ArubaState, Customer, NameFilter, bad, iso_micros, not_found, ok_json,
    parse_body, query_u64,
};

pub(crate) fn valid_country(code: &str) -> Option<String> {
    let up = code.trim().to_ascii_uppercase();
    is_iso_alpha2(&up).then_some(up)
}

/// Create / update body.
#[derive(Deserialize)]
struct CustomerBody {
    customer_name: Option<String>,
    country_name: Option<String>,
    address: Option<AddressBody>,
    zip_postal_code: Option<String>,
    group: Option<GroupBody>,
    description: Option<String>,
    lock_msp_ssids: Option<bool>,
}

#[derive(Deserialize)]
struct AddressBody {
    street_address: Option<String>,
    city: Option<String>,
    state: Option<String>,
}

#[derive(Deserialize)]
struct GroupBody {
    name: Option<String>,
}

/// The customer object of §1.5.
#[derive(Serialize)]
struct CustomerWire {
    account_status: &'static str,
    account_type: &'static str,
    ap_config_diff: Option<Value>,
    hppc_config_diff: Option<Value>,
    switch_config_diff: Option<Value>,
    application_id: String,
    application_instance_id: String,
    created_at: u64,
    customer_id: String,
    customer_name: String,
    description: String,
    device_quota: u32,
    group: GroupWire,
    lock_msp_ssids: bool,
    msp_conversion_status: Option<Value>,
    msp_id: String,
    platform_customer_details: PlatformDetails,
    platform_customer_id: String,
    provision_status: &'static str,
    region: &'static str,
    updated_at: String,
    username: String,
}

#[derive(Serialize)]
struct GroupWire {
    id: usize,
    name: String,
}

#[derive(Serialize)]
struct PlatformDetails {
    address: PlatformAddress,
    company_name: String,
    created_by: &'static str,
    customer_logo: Value,
    defaulted_country_code: String,
    description: String,
    email: &'static str,
    phone_number: &'static str,
}

#[derive(Serialize)]
struct PlatformAddress {
    city: String,
    country_code: String,
    state_or_region: String,
    street_address: String,
    zip: String,
}

fn wire(a: &ArubaState, c: &Customer) -> CustomerWire {
    CustomerWire {
        account_status: "NO_SUBSCRIPTION_PRESENT",
        account_type: "TENANT",
        ap_config_diff: None,
        hppc_config_diff: None,
        switch_config_diff: None,
        application_id: c.application_id.clone(),
        application_instance_id: c.application_instance_id.clone(),
        created_at: c.created_at,
        customer_id: c.customer_id.clone(),
        customer_name: c.customer_name.clone(),
        description: c.description.clone(),
        device_quota: 10_000,
        group: GroupWire {
            id: a.group_id(&c.group).unwrap_or(0),
            name: c.group.clone(),
        },
        lock_msp_ssids: c.lock_msp_ssids,
        msp_conversion_status: None,
        msp_id: a.msp_id.clone(),
        platform_customer_details: PlatformDetails {
            address: PlatformAddress {
                city: c.city.clone(),
                country_code: c.country_code.clone(),
                state_or_region: c.state.clone(),
                street_address: c.street_address.clone(),
                zip: c.zip.clone(),
            },
            company_name: c.customer_name.clone(),
            created_by: "mspform-sim",
            customer_logo: json!({"logo": null, "logo_filename": null}),
            defaulted_country_code: c.country_code.clone(),
            description: c.description.clone(),
            email: "",
            phone_number: "",
        },
        platform_customer_id: c.platform_customer_id.clone(),
        provision_status: "PROVISIONED",
        region: "us-west",
        updated_at: iso_micros(c.updated_at_ms),
        username: String::new(),
    }
}

/// A validated create/update body.
struct Valid {
    name: String,
    country: String,
    street: String,
    city: String,
    state: String,
    zip: String,
    group: Option<String>,
    description: Option<String>,
    lock_msp_ssids: Option<bool>,
}

fn required(v: Option<String>, field: &str) -> Result<String, ApiError> {
    match v {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(bad(format!("{field} is required"))),
    }
}

fn validate(a: &ArubaState, body: &Bytes, self_id: Option<&str>) -> Result<Valid, ApiError> {
    let b: CustomerBody = parse_body(body)?;
    let name = required(b.customer_name, "customer_name")?;
    let country_raw = required(b.country_name, "country_name")?;
    let country = valid_country(&country_raw).ok_or_else(|| {
        bad(format!(
            "country_name {country_raw:?} is not an ISO 3166-1 alpha-2 country code"
        ))
    })?;
    let addr = b.address.ok_or_else(|| bad("address is required"))?;
    let street = required(addr.street_address, "address.street_address")?;
    let city = required(addr.city, "address.city")?;
    let state = required(addr.state, "address.state")?;
    let zip = required(b.zip_postal_code, "zip_postal_code")?;
    let group = match b.group {
        None => None,
        Some(g) => {
            let g = required(g.name, "group.name")?;
            if a.group_id(&g).is_none() {
                return Err(bad(format!("group {g:?} does not exist")));
            }
            Some(g)
        }
    };
    if !a.switches.allow_duplicate_names
        && a.customers
            .iter()
            .any(|c| c.customer_name == name && Some(c.customer_id.as_str()) != self_id)
    {
        return Err(bad(format!("customer name {name:?} already exists")));
    }
    Ok(Valid {
        name,
        country,
        street,
        city,
        state,
        zip,
        group,
        description: b.description,
        lock_msp_ssids: b.lock_msp_ssids,
    })
}

pub(super) async fn list(
    State(sh): State<Shared>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    let offset = query_u64(&q, "offset", 0)? as usize;
    let max = u64::from(a.switches.customers_max_limit.max(1));
    let limit = query_u64(&q, "limit", max)?.min(max) as usize;
    let filter = q
        .get("customer_name")
        .map(|s| s.as_str())
        .filter(|s| !s.is_empty());
    let mode = a.switches.customer_name_filter;
    let matching: Vec<&Customer> = a
        .customers
        .iter()
        .filter(|c| c.visible(now))
        .filter(|c| match (filter, mode) {
            (None, _) => true,
            (Some(f), NameFilter::Exact) => c.customer_name == f,
            (Some(f), NameFilter::Substring) => {
                c.customer_name.to_lowercase().contains(&f.to_lowercase())
            }
        })
        .collect();
    let total = matching.len();
    let page: Vec<CustomerWire> = matching
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|c| wire(a, c))
        .collect();
    let body = json!({"customers": page, "total": total});
    // Every list call brings provisioning customers one poll closer to appearing.
    for c in &mut a.customers {
        c.invisible_polls = c.invisible_polls.saturating_sub(1);
    }
    ok_json(body)
}

pub(super) async fn get_one(State(sh): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let st = sh.lock();
    let now = st.now_ms();
    let a = &st.aruba;
    match a.visible_customer(&id, now) {
        Some(c) => ok_json(json!(wire(a, c))),
        None => Err(not_found(format!("customer {id} not found"))),
    }
}

pub(super) async fn create(State(sh): State<Shared>, body: Bytes) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    let v = validate(a, &body, None)?;
    let customer_id = a.new_hex32();
    let c = Customer {
        customer_id: customer_id.clone(),
        customer_name: v.name,
        description: v.description.unwrap_or_default(),
        lock_msp_ssids: v.lock_msp_ssids.unwrap_or(false),
        group: v
            .group
            .unwrap_or_else(|| a.groups.first().cloned().unwrap_or_default()),
        country_code: v.country,
        street_address: v.street,
        city: v.city,
        state: v.state,
        zip: v.zip,
        created_at: now / 1000,
        updated_at_ms: now,
        invisible_polls: a.switches.provision_invisible_polls,
        visible_at_ms: now.saturating_add(a.switches.provision_delay_ms),
        application_id: a.new_hex32(),
        application_instance_id: a.new_hex32(),
        platform_customer_id: a.new_hex32(),
    };
    a.customers.push(c);
    let inherited = a.autolicense_future.clone();
    if !inherited.is_empty() {
        a.autolicense.insert(customer_id, inherited);
    }
    let status = StatusCode::from_u16(a.switches.create_status).unwrap_or(StatusCode::OK);
    Ok((status, Json(json!({"status": "success"}))).into_response())
}

pub(super) async fn update(
    State(sh): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    if a.visible_customer(&id, now).is_none() {
        return Err(not_found(format!("customer {id} not found")));
    }
    let v = validate(a, &body, Some(&id))?;
    let Some(i) = a.customer_index(&id) else {
        return Err(not_found(format!("customer {id} not found")));
    };
    let c = &mut a.customers[i];
    c.customer_name = v.name;
    c.country_code = v.country;
    c.street_address = v.street;
    c.city = v.city;
    c.state = v.state;
    c.zip = v.zip;
    if let Some(g) = v.group {
        c.group = g;
    }
    if let Some(d) = v.description {
        c.description = d;
    }
    if let Some(l) = v.lock_msp_ssids {
        c.lock_msp_ssids = l;
    }
    c.updated_at_ms = now;
    ok_json(json!({"status": "success"}))
}

pub(super) async fn delete(
    State(sh): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    if a.visible_customer(&id, now).is_none() {
        return Err(not_found(format!("customer {id} not found")));
    }
    remove_customer(a, &id);
    ok_json(json!({"status": "success"}))
}

/// Remove a customer, its sites and auto-licence settings; its devices go back to the
/// MSP inventory unlicensed.
pub(super) fn remove_customer(a: &mut ArubaState, id: &str) {
    a.customers.retain(|c| c.customer_id != id);
    a.sites.retain(|s| s.owner.as_deref() != Some(id));
    a.autolicense.remove(id);
    let serials: Vec<String> = a
        .devices
        .values()
        .filter(|d| d.customer_id.as_deref() == Some(id))
        .map(|d| d.serial.clone())
        .collect();
    for s in serials {
        a.place_device(&s, None);
    }
}
