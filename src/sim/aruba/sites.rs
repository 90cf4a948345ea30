//! Aruba sites and site ↔ device associations, fact sheet §1.8–1.9: tenant-scoped by the
//! `TenantID` header (none = the MSP's own sites), with their wire types.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::super::Shared;
use super::{
    ApiError, ApiResult, ArubaState, AssociationConflict, Site, bad, not_found, ok_json,
    parse_body, query_u64, svc_err, switched,
};
use crate::sim::inventory::DEVICE_TYPES;

const MAX_ASSOCIATION_IDS: usize = 5000;

#[derive(Serialize)]
struct SiteWire {
    site_id: u64,
    site_name: String,
    address: String,
    city: String,
    state: String,
    country: String,
    zipcode: String,
    latitude: String,
    longitude: String,
    associated_device_count: usize,
    tags: Option<Value>,
}

fn wire(a: &ArubaState, s: &Site) -> SiteWire {
    SiteWire {
        site_id: s.site_id,
        site_name: s.site_name.clone(),
        address: s.address.clone(),
        city: s.city.clone(),
        state: s.state.clone(),
        country: s.country.clone(),
        zipcode: s.zipcode.clone(),
        latitude: s.latitude.clone(),
        longitude: s.longitude.clone(),
        associated_device_count: a
            .devices
            .values()
            .filter(|d| d.site_id == Some(s.site_id))
            .count(),
        tags: None,
    }
}

#[derive(Deserialize)]
struct SiteBody {
    site_name: Option<String>,
    site_address: Option<SiteAddress>,
    geolocation: Option<Geolocation>,
}

#[derive(Deserialize)]
struct SiteAddress {
    address: Option<String>,
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
    zipcode: Option<String>,
}

#[derive(Deserialize)]
struct Geolocation {
    latitude: Option<Value>,
    longitude: Option<Value>,
}

/// A validated site body: everything but the id and owner.
struct SiteFields {
    site_name: String,
    address: String,
    city: String,
    state: String,
    country: String,
    zipcode: String,
    latitude: String,
    longitude: String,
}

fn required(v: Option<String>, field: &str) -> Result<String, ApiError> {
    match v {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(bad(format!("{field} is required"))),
    }
}

fn coordinate(v: Option<Value>, field: &str) -> Result<String, ApiError> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(bad(format!("geolocation.{field} is required"))),
    }
}

/// Deterministic fake geocoding: a stable point per address.
fn geocode(text: &str) -> (String, String) {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let lat = (h % 120_000_000) as f64 / 1_000_000.0 - 60.0;
    let lon = ((h >> 32) % 360_000_000) as f64 / 1_000_000.0 - 180.0;
    (format!("{lat:.7}"), format!("{lon:.7}"))
}

fn validate(
    a: &ArubaState,
    owner: &Option<String>,
    body: &Bytes,
    self_id: Option<u64>,
) -> Result<SiteFields, ApiError> {
    let b: SiteBody = parse_body(body)?;
    let site_name = required(b.site_name, "site_name")?;
    let f = match (b.site_address, b.geolocation) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(bad("give exactly one of site_address and geolocation"));
        }
        (Some(ad), None) => {
            let address = required(ad.address, "site_address.address")?;
            let city = required(ad.city, "site_address.city")?;
            let state = required(ad.state, "site_address.state")?;
            let country = required(ad.country, "site_address.country")?;
            let zipcode = ad.zipcode.unwrap_or_default();
            let (latitude, longitude) =
                geocode(&format!("{address}|{city}|{state}|{country}|{zipcode}"));
            SiteFields {
                site_name,
                address,
                city,
                state,
                country,
                zipcode,
                latitude,
                longitude,
            }
        }
        (None, Some(g)) => SiteFields {
            site_name,
            address: String::new(),
            city: String::new(),
            state: String::new(),
            country: String::new(),
            zipcode: String::new(),
            latitude: coordinate(g.latitude, "latitude")?,
            longitude: coordinate(g.longitude, "longitude")?,
        },
    };
    if !a.switches.allow_duplicate_site_names
        && a.sites
            .iter()
            .any(|s| &s.owner == owner && s.site_name == f.site_name && Some(s.site_id) != self_id)
    {
        return Err(bad(format!("site name {:?} already exists", f.site_name)));
    }
    Ok(f)
}

fn find<'a>(a: &'a ArubaState, owner: &Option<String>, id: &str) -> Result<&'a Site, ApiError> {
    id.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| a.sites.iter().find(|s| s.site_id == n && &s.owner == owner))
        .ok_or_else(|| {
            switched(
                a.switches.unknown_site_status,
                StatusCode::NOT_FOUND,
                format!("site {id} not found"),
            )
        })
}

pub(super) async fn list(
    State(sh): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let st = sh.lock();
    let now = st.now_ms();
    let a = &st.aruba;
    let owner = a.tenant(&headers, now)?;
    let offset = query_u64(&q, "offset", 0)? as usize;
    let limit = query_u64(&q, "limit", 100)?;
    if limit > u64::from(a.switches.sites_max_limit) {
        return Err(bad(format!(
            "limit must be at most {}",
            a.switches.sites_max_limit
        )));
    }
    let mut sites: Vec<&Site> = a.sites.iter().filter(|s| s.owner == owner).collect();
    // An unencoded `+` arrives as a space.
    match q.get("sort").map(|s| s.trim()) {
        None | Some("") => {}
        Some("+site_name") | Some("site_name") => {
            sites.sort_by(|x, y| x.site_name.cmp(&y.site_name))
        }
        Some("-site_name") => sites.sort_by(|x, y| y.site_name.cmp(&x.site_name)),
        Some(other) => {
            return Err(bad(format!(
                "sort must be +site_name or -site_name, got {other:?}"
            )));
        }
    }
    let total = sites.len();
    let page: Vec<SiteWire> = sites
        .into_iter()
        .skip(offset)
        .take(limit as usize)
        .map(|s| wire(a, s))
        .collect();
    ok_json(json!({"count": page.len(), "sites": page, "total": total}))
}

pub(super) async fn get_one(
    State(sh): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let st = sh.lock();
    let now = st.now_ms();
    let a = &st.aruba;
    let owner = a.tenant(&headers, now)?;
    let s = find(a, &owner, &id)?;
    ok_json(json!(wire(a, s)))
}

pub(super) async fn create(State(sh): State<Shared>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    let owner = a.tenant(&headers, now)?;
    let f = validate(a, &owner, &body, None)?;
    let site = Site {
        site_id: a.next_site_id,
        owner,
        site_name: f.site_name,
        address: f.address,
        city: f.city,
        state: f.state,
        country: f.country,
        zipcode: f.zipcode,
        latitude: f.latitude,
        longitude: f.longitude,
    };
    a.next_site_id += 1;
    let out = json!(wire(a, &site));
    a.sites.push(site);
    ok_json(out)
}

pub(super) async fn update(
    State(sh): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    let owner = a.tenant(&headers, now)?;
    let site_id = find(a, &owner, &id)?.site_id;
    let f = validate(a, &owner, &body, Some(site_id))?;
    let Some(s) = a.sites.iter_mut().find(|s| s.site_id == site_id) else {
        return Err(not_found(format!("site {id} not found")));
    };
    s.site_name = f.site_name;
    s.address = f.address;
    s.city = f.city;
    s.state = f.state;
    s.country = f.country;
    s.zipcode = f.zipcode;
    s.latitude = f.latitude;
    s.longitude = f.longitude;
    let s = s.clone();
    ok_json(json!(wire(a, &s)))
}

pub(super) async fn delete(
    State(sh): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    let owner = a.tenant(&headers, now)?;
    let site_id = find(a, &owner, &id)?.site_id;
    remove_site(a, site_id);
    ok_json(json!({"status": "success"}))
}

pub(super) fn remove_site(a: &mut ArubaState, site_id: u64) {
    a.sites.retain(|s| s.site_id != site_id);
    for d in a.devices.values_mut() {
        if d.site_id == Some(site_id) {
            d.site_id = None;
        }
    }
}

#[derive(Deserialize)]
struct AssociationBody {
    site_id: Option<u64>,
    device_type: Option<String>,
    device_ids: Option<Vec<String>>,
}

#[derive(Serialize)]
struct Failed {
    device_id: String,
    reason: String,
}

#[derive(Serialize)]
struct Succeeded {
    device_id: String,
}

async fn associations(sh: Shared, headers: HeaderMap, body: Bytes, add: bool) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.aruba;
    let owner = a.tenant(&headers, now)?;
    let b: AssociationBody = parse_body(&body)?;
    let site_id = b
        .site_id
        .ok_or_else(|| bad("site_id (integer) is required"))?;
    let dtype = b.device_type.unwrap_or_default();
    if !DEVICE_TYPES.contains(&dtype.as_str()) {
        return Err(bad(format!(
            "device_type must be IAP, SWITCH or CONTROLLER, got {dtype:?}"
        )));
    }
    let ids = b.device_ids.unwrap_or_default();
    if ids.is_empty() {
        return Err(bad("device_ids must list at least one serial"));
    }
    if ids.len() > MAX_ASSOCIATION_IDS {
        let status = StatusCode::from_u16(a.switches.association_overflow_status)
            .unwrap_or(StatusCode::PAYLOAD_TOO_LARGE);
        return Err(svc_err(
            status,
            format!("Request-size limit exceeded: at most {MAX_ASSOCIATION_IDS} device_ids"),
        ));
    }
    find(a, &owner, &site_id.to_string())?;
    let conflict = a.switches.association_conflict;
    let mut failed = Vec::new();
    let mut success = Vec::new();
    for id in ids {
        let reason = match a.devices.get_mut(&id) {
            None => Some("device not found".to_string()),
            Some(d) if d.customer_id != owner => {
                Some("device does not belong to this customer".into())
            }
            Some(d) if d.device_type != dtype => {
                Some(format!("device is a {}, not a {dtype}", d.device_type))
            }
            Some(d) if add => match d.site_id {
                Some(s) if s == site_id => None,
                Some(_) if conflict == AssociationConflict::Fail => {
                    Some("device is already associated with another site".into())
                }
                _ => {
                    d.site_id = Some(site_id);
                    None
                }
            },
            Some(d) => {
                if d.site_id == Some(site_id) {
                    d.site_id = None;
                    None
                } else {
                    Some("device is not associated with this site".into())
                }
            }
        };
        match reason {
            Some(reason) => failed.push(Failed {
                device_id: id,
                reason,
            }),
            None => success.push(Succeeded { device_id: id }),
        }
    }
    ok_json(json!({"failed": failed, "success": success}))
}

pub(super) async fn associate(
    State(sh): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    associations(sh, headers, body, true).await
}

pub(super) async fn unassociate(
    State(sh): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    associations(sh, headers, body, false).await
}
