//! ExtremeCloud partners, fact sheet §2.2 and checklist items 33–35: list, create, and the
//! PUT that makes `tenants` (and `entitlements`) exactly the submitted lists — a list
//! left out is empty, or refused (switch). Every rule is checked before anything
//! changes, so a refused PUT leaves the account untouched.

use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::super::Shared;
use super::tenants::{Mode, check_unique, created, parse_fields};
use super::validate::{self, FieldError};
use super::{
    ApiError, ApiResult, ExtremeEntitlement, ExtremeState, MissingLists, PARTNER_ID_PREFIX,
    Partner, PartnerPutPath, PutEchoCustId, TenantMove, json_status, parse_object, req_str,
};

fn must_be_array<'a>(
    x: &ExtremeState,
    v: &'a Value,
    property: &'static str,
) -> Result<&'a Vec<Value>, ApiError> {
    v.as_array().ok_or_else(|| {
        ApiError::field(
            x.switches.validation_status,
            FieldError {
                property,
                message: "must be an array".into(),
            },
        )
    })
}

/// The submitted entitlements, each owned by the MSP and (with `entitlement_exclusive`)
/// on no other partner.
fn check_entitlements(
    x: &ExtremeState,
    self_idx: Option<usize>,
    v: &Value,
) -> Result<Vec<ExtremeEntitlement>, ApiError> {
    let status = x.switches.validation_status;
    let mut out: Vec<ExtremeEntitlement> = Vec::new();
    for item in must_be_array(x, v, "entitlements")? {
        let Some(m) = item.as_object() else {
            return Err(ApiError::field(
                status,
                FieldError {
                    property: "entitlements",
                    message: "every entitlement must be an object {entitlementId, serialNumber}"
                        .into(),
                },
            ));
        };
        let entitlement_id = req_str(m, "entitlementId", status)?;
        let serial_number = req_str(m, "serialNumber", status)?;
        for (p, s) in [
            ("entitlementId", &entitlement_id),
            ("serialNumber", &serial_number),
        ] {
            validate::entitlement_text(p, s).map_err(|e| ApiError::field(status, e))?;
        }
        let e = ExtremeEntitlement {
            entitlement_id,
            serial_number,
        };
        let foreign = x.switches.foreign_entitlement_status;
        if !x.entitlements.contains(&e) {
            return Err(ApiError::new(
                foreign,
                format!(
                    "entitlement {} on serial {} is not assigned to the MSP",
                    e.entitlement_id, e.serial_number
                ),
            ));
        }
        if x.switches.entitlement_exclusive
            && let Some((j, other)) = x
                .partners
                .iter()
                .enumerate()
                .find(|(_, p)| p.entitlements.contains(&e))
            && Some(j) != self_idx
        {
            return Err(ApiError::new(
                foreign,
                format!(
                    "entitlement {} is already assigned to partner {}",
                    e.entitlement_id, other.cust_id
                ),
            ));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

/// The submitted tenant ids (duplicates dropped), each a tenant of the MSP; with
/// `tenant_move = "reject"` none may be held by another partner.
fn check_tenants(
    x: &ExtremeState,
    self_idx: Option<usize>,
    v: &Value,
) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for item in must_be_array(x, v, "tenants")? {
        let Some(id) = item.as_str() else {
            return Err(ApiError::field(
                x.switches.validation_status,
                FieldError {
                    property: "tenants",
                    message: "every tenant must be a custId string".into(),
                },
            ));
        };
        if x.tenant_index(id).is_none() {
            return Err(ApiError::new(
                x.switches.foreign_tenant_status,
                format!("tenant {id} does not belong to the MSP"),
            ));
        }
        if x.switches.tenant_move == TenantMove::Reject
            && let Some(j) = x.holder(id)
            && Some(j) != self_idx
        {
            return Err(ApiError::new(
                x.switches.tenant_move_status,
                format!(
                    "tenant {id} is managed by partner {}; remove it there first",
                    x.partners[j].cust_id
                ),
            ));
        }
        if !out.iter().any(|t| t == id) {
            out.push(id.to_string());
        }
    }
    Ok(out)
}

/// Make `tenants` the exact list of partner `idx`, detaching them from any other partner.
fn set_tenants(x: &mut ExtremeState, idx: usize, tenants: Vec<String>) {
    for (j, p) in x.partners.iter_mut().enumerate() {
        if j != idx {
            p.tenants.retain(|t| !tenants.contains(t));
        }
    }
    x.partners[idx].tenants = tenants;
}

fn check_unique_name(
    x: &ExtremeState,
    name: &str,
    self_idx: Option<usize>,
) -> Result<(), ApiError> {
    check_unique(x, "partner", name, || {
        x.partners
            .iter()
            .enumerate()
            .any(|(j, p)| p.account_name == name && Some(j) != self_idx)
    })
}

fn present<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).filter(|v| !v.is_null())
}

/// A list a partner PUT left out (or sent as null): empty, or refused (switch).
fn missing<T>(x: &ExtremeState, property: &'static str) -> Result<Vec<T>, ApiError> {
    match x.switches.partner_put_missing_lists {
        MissingLists::Empty => Ok(Vec::new()),
        MissingLists::Reject => Err(ApiError::field(
            x.switches.validation_status,
            FieldError {
                property,
                message: format!(
                    "is required: a PUT sends the whole partner document, {property} included"
                ),
            },
        )),
    }
}

pub(super) async fn list(State(sh): State<Shared>) -> ApiResult {
    let st = sh.lock();
    let x = &st.extreme;
    let docs: Vec<Value> = x.partners.iter().map(|p| x.partner_wire(p, None)).collect();
    Ok(json_status(200, Value::Array(docs)))
}

pub(super) async fn create(State(sh): State<Shared>, body: Bytes) -> ApiResult {
    let m = parse_object(&body)?;
    let mut st = sh.lock();
    let x = &mut st.extreme;
    let f = parse_fields(x, &m, Mode::Create)?;
    check_unique_name(x, &f.account_name, None)?;
    let entitlements = match present(&m, "entitlements") {
        Some(v) => check_entitlements(x, None, v)?,
        None => Vec::new(),
    };
    let tenants = match present(&m, "tenants") {
        Some(v) => check_tenants(x, None, v)?,
        None => Vec::new(),
    };
    let cust_id = x.new_id(PARTNER_ID_PREFIX);
    x.partners.push(Partner {
        cust_id,
        account_name: f.account_name,
        country: f.country.unwrap_or_default(),
        time_zone: f.time_zone.unwrap_or_default(),
        contact: f.contact,
        user_id: f.user_id.unwrap_or_default(),
        tenants: Vec::new(),
        entitlements,
    });
    let idx = x.partners.len() - 1;
    set_tenants(x, idx, tenants);
    let doc = x.partner_wire(&x.partners[idx], None);
    created(x, doc)
}

pub(super) async fn update(
    State(sh): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let m = parse_object(&body)?;
    let mut st = sh.lock();
    let x = &mut st.extreme;
    let unknown = x.switches.unknown_id_status;
    let partner_id = match x.switches.partner_put_path {
        PartnerPutPath::Partner => id,
        PartnerPutPath::Msp => {
            if id != x.msp_id {
                return Err(ApiError::new(unknown, format!("MSP {id} not found")));
            }
            req_str(&m, "custId", x.switches.validation_status)?
        }
    };
    let Some(idx) = x.partner_index(&partner_id) else {
        return Err(ApiError::new(
            unknown,
            format!("partner {partner_id} not found"),
        ));
    };
    let f = parse_fields(x, &m, Mode::Update)?;
    check_unique_name(x, &f.account_name, Some(idx))?;
    // The PUT replaces the document: a list left out is not "keep the old one".
    let entitlements = match present(&m, "entitlements") {
        Some(v) => check_entitlements(x, Some(idx), v)?,
        None => missing(x, "entitlements")?,
    };
    let tenants = match present(&m, "tenants") {
        Some(v) => check_tenants(x, Some(idx), v)?,
        None => missing(x, "tenants")?,
    };
    // Everything is valid: commit.
    let p = &mut x.partners[idx];
    f.update(
        &mut p.account_name,
        &mut p.country,
        &mut p.time_zone,
        &mut p.contact,
    );
    p.entitlements = entitlements;
    set_tenants(x, idx, tenants);
    let echo_id = match x.switches.put_echo_cust_id {
        PutEchoCustId::Stored => None,
        PutEchoCustId::Msp => Some(x.msp_id.as_str()),
    };
    let doc = x.partner_wire(&x.partners[idx], echo_id);
    Ok(json_status(200, doc))
}
