//! RUCKUS One query endpoints (fact sheet §3.4–3.5): `POST /tenants/query`,
//! `/mspecs/query`, `/techpartners/mspecs/query` (tech partners' tenant rows) and
//! `/delegations/query` with the R1
//! query body (`page`, `pageSize`, `sortField`, `sortOrder`, `searchString`,
//! `searchTargetFields`, `filters`, `fields`) → `{"data":[camelCase rows], <total>, "page"}`.

use std::cmp::Ordering;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use serde_json::{Map, Value, json};

use super::super::Shared;
use super::dates::iso_millis;
use super::{
    ApiError, ApiResult, Ctx, Delegation, Ec, RuckusState, TechPartner, TotalKey, bad, ok_json,
};

/// A parsed query body.
struct QueryBody {
    page: u64,
    page_size: u64,
    sort_field: Option<String>,
    descending: bool,
    search: Option<String>,
    search_fields: Vec<String>,
    /// `searchTargetFields` was in the body (else `search_fields` is the default).
    search_fields_given: bool,
    filters: Vec<(String, Vec<Value>)>,
    fields: Vec<String>,
}

fn int_field(obj: &Map<String, Value>, key: &str) -> Result<Option<u64>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(format!("{key} must be a non-negative integer"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bad(format!("{key} must be a non-negative integer"))),
        Some(_) => Err(bad(format!("{key} must be a non-negative integer"))),
    }
}

fn str_list(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad(format!("{key} must be an array of strings")))
            })
            .collect(),
        Some(_) => Err(bad(format!("{key} must be an array of strings"))),
    }
}

fn parse_query(st: &RuckusState, body: &Bytes) -> Result<QueryBody, ApiError> {
    let v: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON body: {e}")))?
    };
    let obj = v
        .as_object()
        .ok_or_else(|| bad("the query body must be a JSON object"))?;
    let sw = &st.switches;
    let base = u64::from(sw.query_page_base);
    let page = int_field(obj, "page")?.unwrap_or(base);
    if page < base {
        return Err(bad(format!("page must be at least {base}")));
    }
    let page_size = int_field(obj, "pageSize")?.unwrap_or(u64::from(sw.query_default_page_size));
    if page_size == 0 {
        return Err(bad("pageSize must be at least 1"));
    }
    let page_size = page_size.min(u64::from(sw.query_max_page_size.max(1)));
    let sort_field = match obj.get("sortField") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => return Err(bad("sortField must be a field name")),
    };
    let descending = match obj.get("sortOrder") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "ASC" => false,
        Some(Value::String(s)) if s == "DESC" => true,
        Some(_) => return Err(bad("sortOrder must be \"ASC\" or \"DESC\"")),
    };
    let search = match obj.get("searchString") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim().to_lowercase()),
        Some(_) => return Err(bad("searchString must be a string")),
    };
    let mut search_fields = str_list(obj, "searchTargetFields")?;
    let search_fields_given = !search_fields.is_empty();
    if !search_fields_given {
        search_fields.push("name".into());
    }
    let mut filters = Vec::new();
    match obj.get("filters") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, val) in m {
                let values = match val {
                    Value::Null => continue,
                    Value::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                if !values.is_empty() {
                    filters.push((k.clone(), values));
                }
            }
        }
        Some(_) => return Err(bad("filters must be an object of field → [values]")),
    }
    let fields = str_list(obj, "fields")?;
    Ok(QueryBody {
        page,
        page_size,
        sort_field,
        descending,
        search,
        search_fields,
        search_fields_given,
        filters,
        fields,
    })
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn matches_filter(row: &Map<String, Value>, key: &str, wanted: &[Value]) -> bool {
    let Some(have) = row.get(key) else {
        // Filters on fields the rows do not carry (e.g. mspTenantId) do not narrow.
        return true;
    };
    let wanted: Vec<String> = wanted.iter().filter_map(as_text).collect();
    match have {
        Value::Array(a) => a.iter().filter_map(as_text).any(|h| wanted.contains(&h)),
        other => as_text(other).is_some_and(|h| wanted.contains(&h)),
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Some(x), Some(y)) => match (as_text(x), as_text(y)) {
            (Some(x), Some(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
            (Some(_), None) => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (None, None) => Ordering::Equal,
        },
        (Some(x), None) => {
            if x.is_null() {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        (None, Some(y)) => {
            if y.is_null() {
                Ordering::Equal
            } else {
                Ordering::Less
            }
        }
        (None, None) => Ordering::Equal,
    }
}

/// Filter, search, sort, page and project rows into the R1 page shape.
fn run(
    st: &RuckusState,
    rows: Vec<Map<String, Value>>,
    q: &QueryBody,
    default_sort: Option<&str>,
) -> Value {
    let mut rows: Vec<Map<String, Value>> = rows
        .into_iter()
        .filter(|r| q.filters.iter().all(|(k, v)| matches_filter(r, k, v)))
        .filter(|r| {
            q.search.as_ref().is_none_or(|s| {
                q.search_fields.iter().any(|f| {
                    r.get(f)
                        .and_then(as_text)
                        .is_some_and(|t| t.to_lowercase().contains(s))
                })
            })
        })
        .collect();
    if let Some(field) = q.sort_field.as_deref().or(default_sort) {
        rows.sort_by(|a, b| {
            let o =
                compare(a.get(field), b.get(field)).then_with(|| compare(a.get("id"), b.get("id")));
            if q.descending { o.reverse() } else { o }
        });
    } else if q.descending {
        rows.reverse();
    }
    let total = rows.len();
    let index = q.page - u64::from(st.switches.query_page_base);
    let start = index.saturating_mul(q.page_size).min(total as u64) as usize;
    let end = (start as u64).saturating_add(q.page_size).min(total as u64) as usize;
    let data: Vec<Value> = rows[start..end]
        .iter()
        .map(|r| {
            if q.fields.is_empty() {
                Value::Object(r.clone())
            } else {
                Value::Object(
                    r.iter()
                        .filter(|(k, _)| *k == "id" || q.fields.iter().any(|f| f == *k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )
            }
        })
        .collect();
    let mut out = Map::new();
    out.insert("data".into(), Value::Array(data));
    match st.switches.query_total_key {
        TotalKey::TotalCount => {
            out.insert("totalCount".into(), json!(total));
        }
        TotalKey::Total => {
            out.insert("total".into(), json!(total));
        }
        TotalKey::Both => {
            out.insert("totalCount".into(), json!(total));
            out.insert("total".into(), json!(total));
        }
    }
    out.insert("page".into(), json!(q.page));
    Value::Object(out)
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn active_partner(st: &RuckusState, ec: &Ec, dtype: &str) -> Vec<String> {
    st.delegations
        .iter()
        .filter(|d| d.ec_id == ec.tenant_id && d.delegation_type == dtype && d.active())
        .map(|d| d.partner_id.clone())
        .collect()
}

/// An EC as a query row.
fn ec_row(st: &RuckusState, ec: &Ec) -> Map<String, Value> {
    let integrators = active_partner(st, ec, "MSP_INTEGRATOR");
    let installers = active_partner(st, ec, "MSP_INSTALLER");
    let mut row = obj(json!({
        "id": ec.tenant_id,
        "name": ec.name,
        "tenantType": ec.tenant_type,
        "status": if ec.is_active { "Active" } else { "Inactive" },
        "streetAddress": ec.street_address,
        "mspAdminCount": 1,
        "mspEcAdminCount": u32::from(ec.admin_email.is_some()),
        "creationDate": ec.created_ms.to_string(),
        "expirationDate": ec.service_expiration_date,
        "wifiLicenses": 0,
        "switchLicenses": 0,
        "accountTier": ec.tier,
        "integrator": integrators.first(),
        "installer": installers.first(),
        "integratorCount": integrators.len(),
        "installerCount": installers.len(),
        "entitlements": [],
    }));
    if st.switches.query_rows_detailed {
        for (k, v) in [
            ("city", json!(ec.city)),
            ("state", json!(ec.state)),
            ("country", json!(ec.country)),
            ("postalCode", json!(ec.postal_code)),
            ("phoneNumber", json!(ec.phone_number)),
            ("faxNumber", json!(ec.fax_number)),
            ("mappingUrl", json!(ec.mapping_url)),
            ("serviceEffectiveDate", json!(ec.service_effective_date)),
            ("serviceExpirationDate", json!(ec.service_expiration_date)),
            ("tier", json!(ec.tier)),
            ("privacyFeatures", json!(ec.privacy_features)),
        ] {
            row.insert(k.into(), v);
        }
    }
    row
}

/// A tech partner as a query row.
fn partner_row(st: &RuckusState, p: &TechPartner) -> Map<String, Value> {
    let assigned: Vec<&str> = st
        .delegations
        .iter()
        .filter(|d| d.partner_id == p.id && d.delegation_type == p.partner_type && d.active())
        .map(|d| d.ec_id.as_str())
        .collect();
    obj(json!({
        "id": p.id,
        "name": p.name,
        "tenantType": p.partner_type,
        "status": "Active",
        "assignedMspEcList": assigned,
        "mspAdminCount": 0,
        "mspEcAdminCount": 0,
        "mspIntegratorAdminCount": u32::from(p.partner_type == "MSP_INTEGRATOR"),
        "mspInstallerAdminCount": u32::from(p.partner_type == "MSP_INSTALLER"),
        "creationDate": p.created_ms.to_string(),
    }))
}

/// The delegation object of §3.5.
pub(crate) fn delegation_view(st: &RuckusState, d: &Delegation, now: u64) -> Value {
    let name = st.partner(&d.partner_id).map(|p| p.name.clone());
    let expired = d.expiry_ms.is_some_and(|e| e <= now);
    json!({
        "id": d.id,
        "createdDate": iso_millis(d.created_ms),
        "updatedDate": iso_millis(d.updated_ms),
        "delegatedTo": d.partner_id,
        "type": d.delegation_type,
        "status": d.status,
        "delegatedBy": d.ec_id,
        "expiryDate": d.expiry_ms.map(iso_millis),
        "delegatedToName": name,
        "parentId": st.msp_id,
        "isValid": d.active() && !expired,
    })
}

/// Tenant rows visible in the call's context: everything for the MSP, nothing in an EC.
fn tenant_rows(st: &RuckusState, ctx: &Ctx, partners_too: bool) -> Vec<Map<String, Value>> {
    if !ctx.in_msp(st) {
        return Vec::new();
    }
    let mut rows: Vec<Map<String, Value>> = st.ecs.iter().map(|e| ec_row(st, e)).collect();
    if partners_too {
        rows.extend(st.tech_partners.iter().map(|p| partner_row(st, p)));
    }
    rows
}

fn has_type_filter(q: &QueryBody) -> bool {
    q.filters.iter().any(|(k, _)| k == "tenantType")
}

/// `POST /tenants/query`: ECs and tech partners (narrow with `filters.tenantType`).
pub(super) async fn tenants(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    let st = sh.lock();
    let r = &st.ruckus;
    let q = parse_query(r, &body)?;
    ok_json(run(r, tenant_rows(r, &ctx, true), &q, Some("name")))
}

/// `POST /mspecs/query`: ECs; tech partners too when `filters.tenantType` asks for them.
pub(super) async fn mspecs(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    let st = sh.lock();
    let r = &st.ruckus;
    let q = parse_query(r, &body)?;
    ok_json(run(
        r,
        tenant_rows(r, &ctx, has_type_filter(&q)),
        &q,
        Some("name"),
    ))
}

/// `POST /techpartners/mspecs/query` ("Query tech-partner ECs", operation
/// `getMSPECs`, deprecated in favour of `POST /tenants/query`): the same tenant
/// rows as `/tenants/query`. As the web UI reads it, the rows are the tech
/// partners' own tenant records (type `MSP_INTEGRATOR` / `MSP_INSTALLER`, with
/// `assignedMspEcList`): that is what it answers without a `filters.tenantType`
/// [assumed]; a type filter picks those types instead (the UI asks for `MSP_EC`
/// in a tech partner's own view). Switch `techpartners_query = false`: 404, as
/// once the vendor removes it.
pub(super) async fn techpartner_ecs(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    body: Bytes,
) -> ApiResult {
    let st = sh.lock();
    let r = &st.ruckus;
    if !r.switches.techpartners_query {
        return Err(super::err(
            axum::http::StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("no route for {method} {}", uri.path()),
        ));
    }
    let mut q = parse_query(r, &body)?;
    if !has_type_filter(&q) {
        q.filters.push((
            "tenantType".into(),
            vec![json!("MSP_INTEGRATOR"), json!("MSP_INSTALLER")],
        ));
    }
    ok_json(run(r, tenant_rows(r, &ctx, true), &q, Some("name")))
}

/// `POST /delegations/query`: tech-partner delegations of the MSP's ECs (of the EC only
/// in an EC context), every status; oldest first unless sorted.
pub(super) async fn delegations(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    let st = sh.lock();
    let r = &st.ruckus;
    let mut q = parse_query(r, &body)?;
    if !q.search_fields_given {
        q.search_fields = vec!["delegatedToName".into()];
    }
    let in_msp = ctx.in_msp(r);
    let rows = r
        .delegations
        .iter()
        .filter(|d| in_msp || d.ec_id == ctx.acting)
        .map(|d| obj(delegation_view(r, d, ctx.now)))
        .collect();
    ok_json(run(r, rows, &q, None))
}
