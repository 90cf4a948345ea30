//! RUCKUS One managed tenants (MSP-EC), fact sheet §3.4: create (1–100 per call), get,
//! update, delete, admin invitations, the EC's administrators and the legacy list, under `/tenants…` and the
//! deprecated `/mspCustomers…` aliases, with the EC request parsing and the EC view.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde_json::{Map, Value, json};

use super::super::Shared;
use super::dates::normalize_date;
use super::{
    AdminsRead, ApiError, ApiResult, Ctx, DuplicateNames, Ec, Invitation, Op, RuckusState,
    UpdateSemantics, accepted, bad, err, forbidden, not_found, ok_json, parse_json, status_or,
};

/// Fields an update sets (with `replace` semantics, absent ones are cleared); a
/// create item may set them too.
const UPDATE_FIELDS: [&str; 14] = [
    "name",
    "street_address",
    "city",
    "state",
    "country",
    "postal_code",
    "phone_number",
    "fax_number",
    "mapping_url",
    "service_effective_date",
    "service_expiration_date",
    "licenses",
    "tier",
    "privacyFeatures",
];

/// Fields only a create item may set besides [`UPDATE_FIELDS`] (the other documented
/// ones, e.g. `delegations`, are accepted and ignored; undocumented ones never get
/// here: `strict::layer` refuses them).
const CREATE_ONLY_FIELDS: [&str; 5] = [
    "admin_email",
    "admin_firstname",
    "admin_lastname",
    "admin_role",
    "tenant_type",
];

const UPDATE_REQUIRED: [&str; 3] = ["name", "service_effective_date", "service_expiration_date"];

/// A 0–255 character string field; numbers are accepted and kept as their text.
fn text(key: &str, v: &Value) -> Result<Option<String>, String> {
    let s = match v {
        Value::Null => return Ok(None),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(format!("{key} must be a string")),
    };
    if s.chars().count() > 255 {
        return Err(format!("{key} must be at most 255 characters"));
    }
    Ok(Some(s))
}

/// Set one EC field from its wire name and JSON value (null clears optional fields).
pub(crate) fn set_field(ec: &mut Ec, key: &str, v: &Value) -> Result<(), String> {
    let slot = match key {
        "name" => {
            let name = text(key, v)?.unwrap_or_default();
            if name.trim().is_empty() {
                return Err("name is required".into());
            }
            ec.name = name;
            return Ok(());
        }
        "street_address" => &mut ec.street_address,
        "city" => &mut ec.city,
        "state" => &mut ec.state,
        "country" => &mut ec.country,
        "postal_code" => &mut ec.postal_code,
        "phone_number" => &mut ec.phone_number,
        "fax_number" => &mut ec.fax_number,
        "mapping_url" => &mut ec.mapping_url,
        "tier" => &mut ec.tier,
        "admin_email" => &mut ec.admin_email,
        "admin_firstname" => &mut ec.admin_firstname,
        "admin_lastname" => &mut ec.admin_lastname,
        "admin_role" => &mut ec.admin_role,
        "logo_url" => &mut ec.logo_url,
        "service_effective_date" | "service_expiration_date" => {
            let date = match v {
                Value::Null => None,
                Value::String(s) => Some(normalize_date(s).ok_or_else(|| {
                    format!("{key} {s:?} is not a date like \"2019-09-14 01:12:51.805Z\"")
                })?),
                _ => return Err(format!("{key} must be a string")),
            };
            if key == "service_effective_date" {
                ec.service_effective_date = date;
            } else {
                ec.service_expiration_date = date;
            }
            return Ok(());
        }
        "privacyFeatures" => {
            ec.privacy_features = match v {
                Value::Null => Vec::new(),
                Value::Array(a) if a.len() <= 1 && a.iter().all(Value::is_object) => a.clone(),
                _ => return Err("privacyFeatures must be an array of at most 1 object".into()),
            };
            return Ok(());
        }
        "licenses" => {
            ec.licenses = match v {
                Value::Null => None,
                Value::Object(_) => Some(v.clone()),
                _ => return Err("licenses must be an object".into()),
            };
            return Ok(());
        }
        "is_active" => {
            ec.is_active = match v {
                Value::Bool(b) => *b,
                Value::String(s) if s.eq_ignore_ascii_case("true") => true,
                Value::String(s) if s.eq_ignore_ascii_case("false") => false,
                _ => return Err("is_active must be true or false".into()),
            };
            return Ok(());
        }
        "tenant_type" => {
            let t = text(key, v)?.unwrap_or_else(|| "MSP_EC".into());
            if t != "MSP_EC" && t != "MSP_REC" {
                return Err(format!(
                    "tenant_type {t:?} cannot be created here; use MSP_EC"
                ));
            }
            ec.tenant_type = t;
            return Ok(());
        }
        other => return Err(format!("unknown MSP-EC field {other:?}")),
    };
    *slot = text(key, v)?;
    Ok(())
}

fn blank_ec() -> Ec {
    Ec {
        tenant_id: String::new(),
        name: String::new(),
        street_address: None,
        city: None,
        state: None,
        country: None,
        postal_code: None,
        phone_number: None,
        fax_number: None,
        mapping_url: None,
        service_effective_date: None,
        service_expiration_date: None,
        is_active: true,
        tenant_type: "MSP_EC".into(),
        account_id: String::new(),
        tier: None,
        logo_url: None,
        privacy_features: Vec::new(),
        licenses: None,
        admin_email: None,
        admin_firstname: None,
        admin_lastname: None,
        admin_role: None,
        created_ms: 0,
        updated_ms: 0,
        delegated_to_msp: true,
    }
}

/// A field counts as given when present, not null and (for strings) not blank.
fn given(obj: &Map<String, Value>, key: &str) -> bool {
    match obj.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

/// All-digit text without a leading zero renders as a JSON number under the quirk switch.
fn maybe_number(st: &RuckusState, v: &Option<String>) -> Value {
    match v {
        Some(s)
            if st.switches.numbers_in_string_fields
                && !s.is_empty()
                && s.len() <= 15
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s == "0" || !s.starts_with('0')) =>
        {
            s.parse::<u64>().map_or_else(|_| json!(s), |n| json!(n))
        }
        other => json!(other),
    }
}

/// The EC view of §3.4.
pub(crate) fn view(st: &RuckusState, ec: &Ec) -> Value {
    let is_active = if st.switches.is_active_as_string {
        json!(ec.is_active.to_string())
    } else {
        json!(ec.is_active)
    };
    json!({
        "msp_label": st.msp_label,
        "name": ec.name,
        "street_address": maybe_number(st, &ec.street_address),
        "state": ec.state,
        "country": ec.country,
        "postal_code": maybe_number(st, &ec.postal_code),
        "phone_number": ec.phone_number,
        "fax_number": ec.fax_number,
        "city": ec.city,
        "mapping_url": ec.mapping_url,
        "service_effective_date": ec.service_effective_date,
        "service_expiration_date": ec.service_expiration_date,
        "is_active": is_active,
        "tenant_id": ec.tenant_id,
        "parent_tenant_id": st.msp_id,
        "tenant_type": ec.tenant_type,
        "account_id": ec.account_id,
        "tier": ec.tier,
        "logo_url": ec.logo_url,
        "privacyFeatures": ec.privacy_features,
    })
}

/// The EC a `{tenantId}` path names, as the call's tenant context may see it.
fn visible<'a>(st: &'a RuckusState, ctx: &Ctx, id: &str) -> Result<&'a Ec, ApiError> {
    if !ctx.in_msp(st) && id != ctx.acting {
        return Err(forbidden(format!(
            "path tenant {id} is not the tenant the call executes in ({})",
            ctx.acting
        )));
    }
    st.ec(id)
        .ok_or_else(|| not_found(format!("MSP-EC {id} not found")))
}

fn check_admin_email(v: &Option<String>, field: &str) -> Result<(), String> {
    match v {
        Some(e) if !e.contains('@') => Err(format!("{field} {e:?} is not an email address")),
        _ => Ok(()),
    }
}

/// `POST /tenants` (`POST /mspCustomers`): `{"data":[EC, …]}` → 202, one activity per item.
pub(super) async fn create(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    let v = parse_json(&body)?;
    let mut st = sh.lock();
    let r = &mut st.ruckus;
    if !ctx.in_msp(r) {
        return Err(forbidden("only the MSP can create MSP-EC accounts"));
    }
    let items = v
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("data must be an array of 1 to 100 MSP-EC objects"))?;
    if items.is_empty() || items.len() > 100 {
        return Err(bad(format!(
            "data must hold 1 to 100 items, got {}",
            items.len()
        )));
    }
    for (i, a) in items.iter().enumerate() {
        if let Some(j) = items[i + 1..].iter().position(|b| b == a) {
            return Err(bad(format!(
                "data items must be unique: items {i} and {} are identical",
                i + 1 + j
            )));
        }
    }
    let mut required: BTreeSet<String> =
        r.switches.create_required_fields.iter().cloned().collect();
    required.insert("name".into());
    let mut ecs = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let obj = item
            .as_object()
            .ok_or_else(|| bad(format!("data[{i}] must be an object")))?;
        if let Some(f) = required.iter().find(|f| !given(obj, f)) {
            return Err(bad(format!("data[{i}].{f} is required")));
        }
        let mut ec = blank_ec();
        for (k, val) in obj {
            if UPDATE_FIELDS.contains(&k.as_str()) || CREATE_ONLY_FIELDS.contains(&k.as_str()) {
                set_field(&mut ec, k, val).map_err(|m| bad(format!("data[{i}]: {m}")))?;
            }
        }
        check_admin_email(&ec.admin_email, "admin_email")
            .map_err(|m| bad(format!("data[{i}]: {m}")))?;
        ecs.push(ec);
    }
    if r.switches.duplicate_names == DuplicateNames::Reject {
        let mut seen = BTreeSet::new();
        for ec in &ecs {
            let key = ec.name.trim().to_lowercase();
            if r.name_taken(&ec.name, None) || !seen.insert(key) {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "DUPLICATE_NAME",
                    format!(
                        "an MSP-EC named {:?} already exists or is being created",
                        ec.name
                    ),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for mut ec in ecs {
        ec.tenant_id = r.new_hex32();
        ec.account_id = r.new_account_id();
        let id = ec.tenant_id.clone();
        let request_id = r.start_activity(Op::CreateEc { ec: Box::new(ec) }, &ctx.acting, ctx.now);
        out.push(json!({"requestId": request_id, "tenantId": id}));
    }
    accepted(json!({"data": out}))
}

/// `GET /tenants/{id}` (`GET /mspCustomers/{id}`).
pub(super) async fn get_one(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ApiResult {
    let st = sh.lock();
    let ec = visible(&st.ruckus, &ctx, &id)?;
    ok_json(view(&st.ruckus, ec))
}

/// `GET /mspCustomers`: bare array of EC views.
pub(super) async fn list_legacy(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> ApiResult {
    let st = sh.lock();
    let r = &st.ruckus;
    let list: Vec<Value> = if ctx.in_msp(r) {
        r.ecs.iter().map(|e| view(r, e)).collect()
    } else {
        Vec::new()
    };
    ok_json(Value::Array(list))
}

/// `PUT /tenants/{id}` (`PUT /mspCustomers/{id}`) → 202 `{requestId, tenantId}`.
pub(super) async fn update(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let v = parse_json(&body)?;
    let mut st = sh.lock();
    let r = &mut st.ruckus;
    let current = visible(r, &ctx, &id)?.clone();
    let obj = v
        .as_object()
        .ok_or_else(|| bad("the body must be a JSON object of MSP-EC fields"))?;
    if let Some(f) = UPDATE_REQUIRED.iter().find(|f| !given(obj, f)) {
        return Err(bad(format!("{f} is required")));
    }
    let mut fields = BTreeMap::new();
    for f in UPDATE_FIELDS {
        match obj.get(f) {
            Some(val) => {
                fields.insert(f.to_string(), val.clone());
            }
            None if r.switches.update_semantics == UpdateSemantics::Replace => {
                fields.insert(f.to_string(), Value::Null);
            }
            None => {}
        }
    }
    let mut probe = current;
    for (k, val) in &fields {
        set_field(&mut probe, k, val).map_err(bad)?;
    }
    if r.switches.duplicate_names == DuplicateNames::Reject
        && (r
            .ecs
            .iter()
            .any(|e| e.tenant_id != id && e.name.trim().eq_ignore_ascii_case(probe.name.trim()))
            || r.name_taken(&probe.name, Some(&id)))
    {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "DUPLICATE_NAME",
            format!("an MSP-EC named {:?} already exists", probe.name),
        ));
    }
    let request_id = r.start_activity(
        Op::UpdateEc {
            tenant_id: id.clone(),
            fields,
        },
        &ctx.acting,
        ctx.now,
    );
    accepted(json!({"requestId": request_id, "tenantId": id}))
}

/// `DELETE /tenants/{id}` (`DELETE /mspCustomers/{id}`) → 200 `{requestId, tenantId}`.
pub(super) async fn delete(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ApiResult {
    let mut st = sh.lock();
    let r = &mut st.ruckus;
    if !ctx.in_msp(r) {
        return Err(forbidden("only the MSP can delete MSP-EC accounts"));
    }
    visible(r, &ctx, &id)?;
    let status = status_or(r.switches.delete_status, StatusCode::OK);
    let request_id = r.start_activity(
        Op::DeleteEc {
            tenant_id: id.clone(),
        },
        &ctx.acting,
        ctx.now,
    );
    Ok((
        status,
        Json(json!({"requestId": request_id, "tenantId": id})),
    )
        .into_response())
}

fn record_invitation(
    sh: &Shared,
    ctx: &Ctx,
    id: &str,
    email: Option<&Value>,
    resend: Option<&Value>,
    method: &str,
) -> ApiResult {
    let admin_email = match email {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::String(_)) | Some(Value::Null) | None => {
            return Err(bad("admin_email is required"));
        }
        Some(_) => return Err(bad("admin_email must be a string")),
    };
    if admin_email.chars().count() > 255 {
        return Err(bad("admin_email must be at most 255 characters"));
    }
    let resend = match resend {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
        Some(_) => return Err(bad("resend must be true or false")),
    };
    {
        let mut st = sh.lock();
        let r = &mut st.ruckus;
        visible(r, ctx, id)?;
        r.invitations.push(Invitation {
            tenant_id: id.to_string(),
            admin_email,
            resend,
            method: method.to_string(),
            at_ms: ctx.now,
        });
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /tenants/{id}/invitations` `{"admin_email", "resend"}` → 204.
pub(super) async fn invite(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let v = parse_json(&body)?;
    let obj = v
        .as_object()
        .ok_or_else(|| bad("the body must be a JSON object"))?;
    record_invitation(
        &sh,
        &ctx,
        &id,
        obj.get("admin_email"),
        obj.get("resend"),
        "POST",
    )
}

/// `GET /tenants/{id}/invitations?admin_email=…&resend=…` (the web UI's method) → 204.
pub(super) async fn invite_get(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> ApiResult {
    if !sh.lock().ruckus.switches.invitations_get {
        return Err(err(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "GET is not supported on the invitations route",
        ));
    }
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(parse_json(&body)?)
    };
    let email = q
        .get("admin_email")
        .map(|s| Value::String(s.clone()))
        .or_else(|| {
            from_body
                .as_ref()
                .and_then(|b| b.get("admin_email"))
                .cloned()
        });
    let resend = q
        .get("resend")
        .map(|s| Value::String(s.clone()))
        .or_else(|| from_body.as_ref().and_then(|b| b.get("resend")).cloned());
    let result = record_invitation(&sh, &ctx, &id, email.as_ref(), resend.as_ref(), "GET");
    if result.is_ok() {
        sh.persist();
    }
    result
}

/// One row of an EC's administrator list (fact sheet §3.4: `email`, `user_name`,
/// `full_name`, `first_name`, `last_name`; `id` and `role` as the admin routes carry them).
fn admin_row(email: &str, first: Option<&str>, last: Option<&str>, role: Option<&str>) -> Value {
    // A stable id per address (FNV-1a), so repeated reads agree.
    let hash = |seed: u64| {
        email.to_lowercase().bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let full: Vec<&str> = [first, last].into_iter().flatten().collect();
    json!({
        "id": format!("{:016x}{:016x}", hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4)),
        "email": email,
        "user_name": email,
        "full_name": if full.is_empty() { Value::Null } else { json!(full.join(" ")) },
        "first_name": first,
        "last_name": last,
        "role": role,
    })
}

/// `GET /tenants/{id}/admins` (`GET /mspCustomers/{id}/admins`): the EC's
/// administrators: the one named when it was created and (switch
/// `admins_list_invited`) everyone invited through the invitations route, once
/// each. Shape per `admins_read`; `absent` → 404.
pub(super) async fn admins(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    Path(id): Path<String>,
) -> ApiResult {
    let st = sh.lock();
    let r = &st.ruckus;
    if r.switches.admins_read == AdminsRead::Absent {
        return Err(not_found(format!("no route for {method} {}", uri.path())));
    }
    let ec = visible(r, &ctx, &id)?;
    let mut seen = BTreeSet::new();
    let mut rows = Vec::new();
    if let Some(email) = &ec.admin_email {
        seen.insert(email.to_lowercase());
        rows.push(admin_row(
            email,
            ec.admin_firstname.as_deref(),
            ec.admin_lastname.as_deref(),
            ec.admin_role.as_deref(),
        ));
    }
    if r.switches.admins_list_invited {
        for i in r.invitations.iter().filter(|i| i.tenant_id == id) {
            if seen.insert(i.admin_email.to_lowercase()) {
                rows.push(admin_row(&i.admin_email, None, None, None));
            }
        }
    }
    match r.switches.admins_read {
        AdminsRead::Data => ok_json(json!({"totalCount": rows.len(), "data": rows})),
        _ => ok_json(Value::Array(rows)),
    }
}
