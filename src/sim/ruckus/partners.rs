//! RUCKUS One tech partners (integrators / installers) and their delegations, fact
//! sheet §3.5. The assignment body is a documented gap; the simulator uses the web UI's
//! payload `{"delegation_type", "number_of_days", "mspec_list"}` with replace semantics
//! (the partner's ECs of that type become exactly `mspec_list`).

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::super::Shared;
use super::dates::iso_millis;
use super::inventory::PARTNER_TYPES;
use super::query::delegation_view;
use super::{
    ApiError, ApiResult, Ctx, Delegation, Op, RuckusState, TechPartner, accepted, bad, err,
    forbidden, not_found, ok_json, parse_json,
};

fn require_msp(r: &RuckusState, ctx: &Ctx) -> Result<(), ApiError> {
    if ctx.in_msp(r) {
        Ok(())
    } else {
        Err(forbidden(
            "tech partners are managed by the MSP, not in an EC",
        ))
    }
}

fn partner<'a>(r: &'a RuckusState, id: &str) -> Result<&'a TechPartner, ApiError> {
    r.partner(id)
        .ok_or_else(|| not_found(format!("tech partner {id} not found")))
}

fn delegation<'a>(r: &'a RuckusState, ctx: &Ctx, id: &str) -> Result<&'a Delegation, ApiError> {
    let in_msp = ctx.in_msp(r);
    r.delegations
        .iter()
        .find(|d| d.id == id && (in_msp || d.ec_id == ctx.acting))
        .ok_or_else(|| not_found(format!("delegation {id} not found")))
}

/// `GET /mspIntegrators/{id}?delegationType=…` (and `GET /tenants/{id}/tenantDelegations`)
/// → `{"delegated_to", "delegation_type", "mspec_list", "expiry_date"}`.
pub(super) async fn get_assigned(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let st = sh.lock();
    let r = &st.ruckus;
    require_msp(r, &ctx)?;
    let p = partner(r, &id)?;
    let dtype = match q.get("delegationType").map(|s| s.trim()) {
        None | Some("") => p.partner_type.clone(),
        Some(t) if PARTNER_TYPES.contains(&t) => t.to_string(),
        Some(t) => {
            return Err(bad(format!(
                "delegationType {t:?} must be MSP_INTEGRATOR or MSP_INSTALLER"
            )));
        }
    };
    let mut list: Vec<&str> = Vec::new();
    let mut expiry = None;
    for d in &r.delegations {
        if d.partner_id == id && d.delegation_type == dtype && d.active() {
            if !list.contains(&d.ec_id.as_str()) {
                list.push(&d.ec_id);
            }
            expiry = expiry.or(d.expiry_ms);
        }
    }
    ok_json(json!({
        "delegated_to": id,
        "delegation_type": dtype,
        "mspec_list": list,
        "expiry_date": expiry.map(iso_millis),
    }))
}

fn number_of_days(v: Option<&Value>) -> Result<Option<u32>, ApiError> {
    let n = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        Some(_) => None,
    };
    match n {
        Some(d @ 1..=60) => Ok(Some(d as u32)),
        _ => Err(bad(
            "number_of_days must be null or a whole number from 1 to 60",
        )),
    }
}

/// `PATCH /mspIntegrators/{id}` (and `PUT /tenants/{id}/tenantDelegations`)
/// `{"delegation_type", "number_of_days", "mspec_list"}` → 202 `{requestId}`.
pub(super) async fn assign(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let v = parse_json(&body)?;
    let mut st = sh.lock();
    let r = &mut st.ruckus;
    require_msp(r, &ctx)?;
    let p = partner(r, &id)?.clone();
    let obj = v
        .as_object()
        .ok_or_else(|| bad("the body must be a JSON object"))?;
    let dtype = match obj.get("delegation_type") {
        Some(Value::String(t)) if PARTNER_TYPES.contains(&t.as_str()) => t.clone(),
        Some(Value::String(t)) => {
            return Err(bad(format!(
                "delegation_type {t:?} must be MSP_INTEGRATOR or MSP_INSTALLER"
            )));
        }
        _ => return Err(bad("delegation_type is required")),
    };
    if dtype != p.partner_type {
        return Err(bad(format!(
            "tech partner {id} is an {}, not an {dtype}",
            p.partner_type
        )));
    }
    let raw = match obj.get("mspec_list") {
        Some(Value::Array(a)) => a,
        _ => return Err(bad("mspec_list must be an array of MSP-EC tenant ids")),
    };
    let mut list: Vec<String> = Vec::new();
    for item in raw {
        let s = item
            .as_str()
            .ok_or_else(|| bad("mspec_list must be an array of MSP-EC tenant ids"))?;
        if !list.iter().any(|x| x == s) {
            list.push(s.to_string());
        }
    }
    let foreign: Vec<&str> = list
        .iter()
        .filter(|e| r.ec(e).is_none())
        .map(String::as_str)
        .collect();
    if !foreign.is_empty() {
        return Err(bad(format!(
            "not MSP-ECs of this MSP: {}",
            foreign.join(", ")
        )));
    }
    let days = number_of_days(obj.get("number_of_days"))?;
    let request_id = r.start_activity(
        Op::AssignPartner {
            partner_id: id,
            delegation_type: dtype,
            mspec_list: list,
            number_of_days: days,
        },
        &ctx.acting,
        ctx.now,
    );
    accepted(json!({"requestId": request_id}))
}

/// `GET /tenants/delegations/{id}`.
pub(super) async fn get_delegation(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ApiResult {
    let st = sh.lock();
    let r = &st.ruckus;
    let d = delegation(r, &ctx, &id)?;
    ok_json(delegation_view(r, d, ctx.now))
}

/// Run a delegation write: 202 + activity, or at once (switch) → 200 + the delegation.
fn delegation_write(r: &mut RuckusState, ctx: &Ctx, id: &str, op: Op) -> ApiResult {
    if r.switches.delegation_writes_async {
        let request_id = r.start_activity(op, &ctx.acting, ctx.now);
        return accepted(json!({"requestId": request_id}));
    }
    r.apply_now(&op, ctx.now)
        .map_err(|m| err(StatusCode::BAD_REQUEST, "INVALID_STATE", m))?;
    let d = delegation(r, ctx, id)?;
    ok_json(delegation_view(r, d, ctx.now))
}

/// `PUT /tenants/delegations/{id}` `{"accept": bool}`: INVITED → ACCEPTED / REJECTED.
pub(super) async fn respond(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let v = parse_json(&body)?;
    let accept = v
        .get("accept")
        .and_then(Value::as_bool)
        .ok_or_else(|| bad("accept must be true or false"))?;
    let mut st = sh.lock();
    let r = &mut st.ruckus;
    let d = delegation(r, &ctx, &id)?;
    if d.status != "INVITED" {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "INVALID_STATE",
            format!(
                "delegation {id} is {}, only an INVITED one can be answered",
                d.status
            ),
        ));
    }
    let op = Op::RespondDelegation {
        delegation_id: id.clone(),
        accept,
    };
    delegation_write(r, &ctx, &id, op)
}

/// `DELETE /tenants/delegations/{id}`: → REVOKED (idempotent).
pub(super) async fn revoke(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ApiResult {
    let mut st = sh.lock();
    let r = &mut st.ruckus;
    delegation(r, &ctx, &id)?;
    let op = Op::RevokeDelegation {
        delegation_id: id.clone(),
    };
    delegation_write(r, &ctx, &id, op)
}
