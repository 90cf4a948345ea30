//! AudioCodes customers (services), fact sheet §4.2: the synchronous Essentials create
//! (`POST /api/v2/customer`, camelCase answer), the v3 brief list and get and the v2 get
//! (PascalCase, with camelCase site items), delete, and the asynchronous create from lead
//! (`POST /api/v3/customer` → task). Request property names are exact (camelCase, as
//! documented): `ShortName` is an unknown field, not `shortName`.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use super::super::Shared;
use super::inventory::{OVOC_TYPES, is_guid};
use super::oauth::parse_form;
use super::{
    ApiError, ApiResult, AudiocodesState, AudiocodesSwitches, Customer, FullNameRules, Site,
    SiteState, TaskKind, UnknownMsTenant, api_err, customer_not_found, fnv1a, invalid, ok_json,
    parse_body,
};

/// A JSON object read by exact, case-sensitive property names (documented camelCase;
/// `strict::layer` has refused any other name already).
pub(super) struct Obj<'a> {
    map: &'a Map<String, Value>,
    sw: &'a AudiocodesSwitches,
}

impl<'a> Obj<'a> {
    pub fn parse(sw: &'a AudiocodesSwitches, v: &'a Value) -> Result<Obj<'a>, ApiError> {
        match v {
            Value::Object(map) => Ok(Obj { map, sw }),
            _ => Err(invalid(sw, "The request body must be a JSON object.")),
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(self.sw, format!("{key} must be a string"))),
        }
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
            Some(_) => Err(invalid(self.sw, format!("{key} must be an integer"))),
        }
    }

    pub fn required_int(&self, key: &str) -> Result<i64, ApiError> {
        self.int(key)?
            .ok_or_else(|| invalid(self.sw, format!("{key} is required")))
    }
}

const FORBIDDEN: [char; 9] = ['\\', '/', ':', '*', '?', '"', '<', '>', '|'];

/// The customer-name character rules: none of `\ / : * ? " < > |`, no dot, no blanks.
fn check_chars(sw: &AudiocodesSwitches, field: &str, v: &str) -> Result<(), ApiError> {
    if let Some(c) = v
        .chars()
        .find(|c| FORBIDDEN.contains(c) || *c == '.' || c.is_whitespace())
    {
        return Err(invalid(
            sw,
            format!(
                "{field} contains {c:?}: the characters \\ / : * ? \" < > |, the dot and blank spaces are not allowed"
            ),
        ));
    }
    Ok(())
}

/// shortName: required, 3–15 characters, the character rules.
pub(super) fn check_short_name(
    sw: &AudiocodesSwitches,
    field: &str,
    v: Option<String>,
) -> Result<String, ApiError> {
    let v = v.ok_or_else(|| invalid(sw, format!("{field} is required")))?;
    let n = v.chars().count();
    if !(3..=15).contains(&n) {
        return Err(invalid(
            sw,
            format!("{field} must be 3-15 characters long, got {n}"),
        ));
    }
    check_chars(sw, field, &v)?;
    Ok(v)
}

fn check_full_name(
    sw: &AudiocodesSwitches,
    field: &str,
    v: &str,
    rules: FullNameRules,
) -> Result<(), ApiError> {
    let n = v.chars().count();
    if n > 200 {
        return Err(invalid(
            sw,
            format!("{field} must be at most 200 characters, got {n}"),
        ));
    }
    if rules == FullNameRules::ShortNameChars {
        check_chars(sw, field, v)?;
    }
    Ok(())
}

pub(super) fn check_ovoc_type(sw: &AudiocodesSwitches, v: &str) -> Result<String, ApiError> {
    OVOC_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(v.trim()))
        .map(|t| t.to_string())
        .ok_or_else(|| {
            invalid(
                sw,
                format!("ovocCustomerType must be IPGROUP_TYPE or TENANT_TYPE, got {v:?}"),
            )
        })
}

/// Validated script parameters: stored values (no password) + password fingerprint.
pub(super) type Scripts = (BTreeMap<String, String>, Option<String>);

const SCRIPT_KEYS: [&str; 7] = [
    "CacProfile",
    "ProxySet",
    "OnlinePstnGateway",
    "CarrierUserName",
    "CarrierUserPassword",
    "CarrierMainLine",
    "CarrierHostName",
];

fn numbered(key: &str, prefix: &str) -> bool {
    key.strip_prefix(prefix)
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

pub(super) fn check_scripts(
    sw: &AudiocodesSwitches,
    v: Option<&Value>,
) -> Result<Scripts, ApiError> {
    let mut out = BTreeMap::new();
    let mut password = None;
    let map = match v {
        None => return Ok((out, None)),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(invalid(sw, "scriptParameters must be a JSON object")),
    };
    for (k, v) in map {
        let known = SCRIPT_KEYS.contains(&k.as_str())
            || numbered(k, "CustomVar.Variable")
            || numbered(k, "additionalProp");
        if !known && sw.strict_script_parameters {
            return Err(invalid(
                sw,
                format!(
                    "scriptParameters: unknown parameter {k:?} (expected CacProfile, ProxySet, OnlinePstnGateway, CarrierUserName, CarrierUserPassword, CarrierMainLine, CarrierHostName, CustomVar.Variable<N> or additionalProp<N>)"
                ),
            ));
        }
        let s = match v {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            _ => {
                return Err(invalid(
                    sw,
                    format!("scriptParameters.{k} must be a string"),
                ));
            }
        };
        match k.as_str() {
            "CarrierUserName" if s.chars().count() > 60 => {
                return Err(invalid(
                    sw,
                    "scriptParameters.CarrierUserName must be at most 60 characters",
                ));
            }
            "CarrierUserPassword" => {
                if s.chars().count() > 50 {
                    return Err(invalid(
                        sw,
                        "scriptParameters.CarrierUserPassword must be at most 50 characters",
                    ));
                }
                if !s.is_ascii() {
                    return Err(invalid(
                        sw,
                        "scriptParameters.CarrierUserPassword cannot contain wide characters",
                    ));
                }
                password = Some(fnv1a(&s));
                continue;
            }
            _ => {}
        }
        out.insert(k.clone(), s);
    }
    Ok((out, password))
}

/// msTenantId: presence (switch), GUID shape, known to Microsoft (switch). Ok(Err(msg))
/// = Microsoft does not know it and the switch says to report a failed deployment.
pub(super) fn check_ms_tenant(
    a: &AudiocodesState,
    v: Option<String>,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let sw = &a.switches;
    let Some(t) = v.map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()) else {
        if sw.ms_tenant_required {
            return Err(invalid(sw, "msTenantId is required"));
        }
        return Ok((None, None));
    };
    if !is_guid(&t) {
        return Err(invalid(sw, format!("msTenantId {t:?} is not a valid GUID")));
    }
    if a.ms_tenant(&t).is_some() {
        return Ok((Some(t), None));
    }
    match sw.unknown_ms_tenant {
        UnknownMsTenant::Accept => Ok((Some(t), None)),
        UnknownMsTenant::Reject => Err(invalid(
            sw,
            format!("MsTenantid {t} is not valid: tenant not found in Microsoft"),
        )),
        UnknownMsTenant::FailedDeployment => {
            let why = format!("MsTenantid {t} is not valid: tenant not found in Microsoft");
            Ok((Some(t), Some(why)))
        }
    }
}

pub(super) fn check_channel(a: &AudiocodesState, v: &Option<String>) -> Result<(), ApiError> {
    if let Some(c) = v
        && a.switches.validate_channel_id
        && !a.channels.is_empty()
        && !a.channels.iter().any(|k| k == c)
    {
        return Err(invalid(
            &a.switches,
            format!("channelId {c:?} does not exist"),
        ));
    }
    Ok(())
}

/// sbcId and the two scripts must exist.
pub(super) fn check_site_refs(
    a: &AudiocodesState,
    sbc: i64,
    onboarding: i64,
    cleanup: i64,
) -> Result<(), ApiError> {
    let sw = &a.switches;
    if a.sbc(sbc).is_none() {
        return Err(invalid(sw, format!("SBC with id {sbc} not found")));
    }
    if !a.onboarding_scripts.iter().any(|s| s.id == onboarding) {
        return Err(invalid(
            sw,
            format!("sbcOnboardingScript {onboarding} not found"),
        ));
    }
    if !a.cleanup_scripts.iter().any(|s| s.id == cleanup) {
        return Err(invalid(sw, format!("sbcCleanupScript {cleanup} not found")));
    }
    Ok(())
}

/// A customer with this shortName already exists for this msTenantId (or is being
/// created from a lead).
pub(super) fn is_duplicate(a: &AudiocodesState, short: &str, tenant: &Option<String>) -> bool {
    let same = |c: &Customer| c.short_name.eq_ignore_ascii_case(short) && &c.ms_tenant_id == tenant;
    a.customers.iter().any(same)
        || a.tasks.iter().any(|t| match &t.kind {
            TaskKind::Lead { customer, .. } => {
                t.status == super::TaskStatus::InProgress && same(customer)
            }
            _ => false,
        })
}

/// `*` matches any run of characters; case-insensitive.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The one site of an Essentials create: an object, or a one-element array.
fn site_location(sw: &AudiocodesSwitches, v: Option<&Value>) -> Result<Value, ApiError> {
    match v {
        Some(o @ Value::Object(_)) => Ok(o.clone()),
        Some(Value::Array(items)) if items.len() == 1 && items[0].is_object() => {
            Ok(items[0].clone())
        }
        Some(Value::Array(items)) => Err(invalid(
            sw,
            format!(
                "siteLocation must hold exactly one site location, got {}",
                items.len()
            ),
        )),
        None => Err(invalid(sw, "siteLocation is required")),
        Some(_) => Err(invalid(sw, "siteLocation must be an object")),
    }
}

/// `POST /api/v2/customer`: create an Essentials customer with one site, synchronously.
pub(super) async fn create(State(sh): State<Shared>, body: Bytes) -> ApiResult {
    let (answer, latency) = {
        let mut st = sh.lock();
        let a = &mut st.audiocodes;
        let answer = create_locked(a, &body)?;
        (answer, a.switches.create_latency_ms)
    };
    if latency > 0 {
        // The customer is already committed: a client that gives up now leaves it behind,
        // as with the real (slow, synchronous) onboarding.
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    ok_json(answer)
}

fn create_locked(a: &mut AudiocodesState, body: &Bytes) -> Result<Value, ApiError> {
    let raw: Value = parse_body(&a.switches, body)?;
    let sw = a.switches.clone();
    let o = Obj::parse(&sw, &raw)?;
    let short = check_short_name(&sw, "shortName", o.string("shortName")?)?;
    let full = o.string("fullName")?.unwrap_or_else(|| short.clone());
    check_full_name(&sw, "fullName", &full, sw.full_name_rules)?;
    let ovoc = check_ovoc_type(
        &sw,
        &o.string("ovocCustomerType")?
            .ok_or_else(|| invalid(&sw, "ovocCustomerType is required"))?,
    )?;
    let loc = site_location(&sw, o.get("siteLocation"))?;
    let lo = Obj::parse(&sw, &loc)?;
    let sbc = lo.required_int("sbcId")?;
    let onboarding = lo.required_int("sbcOnboardingScript")?;
    let cleanup = lo.required_int("sbcCleanupScript")?;
    check_site_refs(a, sbc, onboarding, cleanup)?;
    let channel = o.string("channelId")?;
    check_channel(a, &channel)?;
    let lc_customer = o.string("lcCustomerId")?;
    let (scripts, password) = check_scripts(&sw, o.get("scriptParameters"))?;
    let (tenant, tenant_failure) = check_ms_tenant(a, o.string("msTenantId")?)?;
    if let Some(why) = tenant_failure {
        return Ok(json!({
            "id": null,
            "customerId": short,
            "siteLocationIds": [],
            "deploymentState": sw.failed_deployment_state,
            "errorDetails": why,
            "progressDetails": format!("(Error, {why})"),
        }));
    }
    if is_duplicate(a, &short, &tenant) {
        return Err(api_err(
            &sw,
            sw.duplicate_status,
            format!("Customer {short} already exists for this Microsoft tenant"),
        ));
    }
    let name_fails = sw.fail_create_names.iter().any(|p| glob(p, &short));
    let failed = if a.switches.fail_next_creates > 0 {
        a.switches.fail_next_creates -= 1;
        true
    } else {
        name_fails
    };
    let id = a.new_guid();
    let site_id = if sw.first_site_id_is_customer_id {
        id.clone()
    } else {
        a.new_guid()
    };
    let sbc_name = a.sbc(sbc).map(|s| s.name.clone()).unwrap_or_default();
    let mut progress = vec![
        "(Information, MsTenantid is valid)".to_string(),
        "(Information, Customer data created!)".to_string(),
    ];
    let error_details = if failed {
        let why = format!(
            "SBC onboarding script {onboarding} failed on SBC {sbc} ({sbc_name}) for site {short}: simulated deployment failure"
        );
        progress.push(format!(
            "(Error, SBC sbc-onboarding failed for site {short}.)"
        ));
        Some(why)
    } else {
        progress.push(format!(
            "(Information, SBC sbc-onboarding done for site {short}.)"
        ));
        progress.push("(Information, CreateSiteInOvoc started.)".to_string());
        progress.push("(Information, Site created in Ovoc)".to_string());
        None
    };
    if !failed || sw.failed_create_keeps_customer {
        a.customers.push(Customer {
            id: id.clone(),
            short_name: short.clone(),
            full_name: full,
            license_type: sw.license_type,
            licensed_users_count: 0,
            active_user_count: 0,
            live_hub_active_users_count: 0,
            live_hub_simple_users_count: 0,
            ms_tenant_id: tenant,
            ovoc_customer_type: ovoc.clone(),
            channel_id: channel,
            lc_customer_id: lc_customer,
        });
        a.sites.push(Site {
            id: site_id.clone(),
            customer_id: id.clone(),
            name: short.clone(),
            sbc_id: sbc,
            onboarding_script: onboarding,
            cleanup_script: cleanup,
            ovoc_customer_type: ovoc,
            script_parameters: scripts,
            carrier_password_fnv1a: password,
            state: if failed {
                SiteState::Failed
            } else {
                SiteState::Deployed
            },
            pending_tasks: Vec::new(),
        });
    }
    let state = if failed {
        sw.failed_deployment_state.clone()
    } else {
        SiteState::Deployed.key().to_string()
    };
    Ok(json!({
        "id": id,
        "customerId": short,
        "siteLocationIds": [site_id],
        "deploymentState": state,
        "errorDetails": error_details,
        "progressDetails": progress.join(";"),
    }))
}

/// A site location item inside a customer object (camelCase).
pub(super) fn site_item(a: &AudiocodesState, s: &Site, v3: bool) -> Value {
    let sw = &a.switches;
    let mut m = Map::new();
    m.insert("id".into(), json!(s.id));
    m.insert("name".into(), json!(s.name));
    m.insert("sbcId".into(), json!(s.sbc_id));
    m.insert("sbcDeploymentState".into(), json!(s.state.label(sw)));
    if v3 {
        let kind = a
            .sbc(s.sbc_id)
            .map(|b| b.configuration_type.clone())
            .unwrap_or_else(|| "SipTrunk".into());
        m.insert("sbcConfigurationType".into(), json!(kind));
    }
    s.unsourced_fields(sw, &mut m);
    Value::Object(m)
}

fn unsourced(a: &AudiocodesState, c: &Customer, m: &mut Map<String, Value>) {
    if a.switches.expose_unsourced_fields {
        m.insert("OvocCustomerType".into(), json!(c.ovoc_customer_type));
        m.insert("ChannelId".into(), json!(c.channel_id));
        m.insert("LcCustomerId".into(), json!(c.lc_customer_id));
    }
}

/// The v3 brief object (PascalCase), with `SiteLocation` when `all_details`.
fn v3_item(a: &AudiocodesState, c: &Customer, all_details: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("UmpCustomerGuid".into(), json!(c.id));
    m.insert("CustomerShortName".into(), json!(c.short_name));
    m.insert("CustomerFullName".into(), json!(c.full_name));
    m.insert("LicenseType".into(), json!(c.license_type));
    m.insert("LicensedUsersCount".into(), json!(c.licensed_users_count));
    m.insert("MsTenantId".into(), json!(c.ms_tenant_id));
    m.insert("ActiveUserCount".into(), json!(c.active_user_count));
    m.insert(
        "LiveHubActiveUsersCount".into(),
        json!(c.live_hub_active_users_count),
    );
    m.insert(
        "LiveHubSimpleUsersCount".into(),
        json!(c.live_hub_simple_users_count),
    );
    unsourced(a, c, &mut m);
    if all_details {
        let sites: Vec<Value> = a
            .visible_sites(&c.id)
            .map(|s| site_item(a, s, true))
            .collect();
        m.insert("SiteLocation".into(), Value::Array(sites));
    }
    m
}

/// `allDetails`: absent or empty = false; `true`/`false` in any case; else a 400.
fn all_details(a: &AudiocodesState, q: Option<String>) -> Result<bool, ApiError> {
    let pairs = parse_form(q.unwrap_or_default().as_bytes());
    match pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("allDetails"))
        .map(|(_, v)| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(invalid(
            &a.switches,
            format!("The value '{other}' is not valid for allDetails."),
        )),
    }
}

/// `GET /api/v3/customer?allDetails=`: every customer, a bare array, no paging.
pub(super) async fn list_v3(State(sh): State<Shared>, RawQuery(q): RawQuery) -> ApiResult {
    let st = sh.lock();
    let a = &st.audiocodes;
    let all = all_details(a, q)?;
    let items: Vec<Value> = a
        .customers
        .iter()
        .map(|c| Value::Object(v3_item(a, c, all)))
        .collect();
    ok_json(Value::Array(items))
}

/// `GET /api/v3/customer/{id}?allDetails=`.
pub(super) async fn get_v3(
    State(sh): State<Shared>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let st = sh.lock();
    let a = &st.audiocodes;
    let all = all_details(a, q)?;
    let c = a.customer(&id).ok_or_else(|| customer_not_found(&id))?;
    let mut m = v3_item(a, c, all);
    let domain = c
        .ms_tenant_id
        .as_deref()
        .and_then(|t| a.ms_tenant(t))
        .and_then(|t| t.default_domain.clone());
    m.insert("MsDefaultDomain".into(), json!(domain));
    m.insert("ApplicationClientId".into(), Value::Null);
    m.insert("ApplicationClientSecret".into(), Value::Null);
    m.insert("ClientSecretExpirationDate".into(), Value::Null);
    ok_json(Value::Object(m))
}

/// `GET /api/v2/customer/{id}` (and the `…/{id}/user` spelling of some doc versions).
pub(super) async fn get_v2(State(sh): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let st = sh.lock();
    let a = &st.audiocodes;
    let c = a.customer(&id).ok_or_else(|| customer_not_found(&id))?;
    let mut m = Map::new();
    m.insert("Id".into(), json!(c.id));
    m.insert("ShortName".into(), json!(c.short_name));
    m.insert("FullName".into(), json!(c.full_name));
    m.insert("LicenseType".into(), json!(c.license_type));
    unsourced(a, c, &mut m);
    let sites: Vec<Value> = a
        .visible_sites(&c.id)
        .map(|s| site_item(a, s, false))
        .collect();
    m.insert("SiteLocation".into(), Value::Array(sites));
    ok_json(Value::Object(m))
}

/// `DELETE /api/v2/customer/{id}` → 200 `1`; the customer and all its sites go.
pub(super) async fn delete(State(sh): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let mut st = sh.lock();
    let a = &mut st.audiocodes;
    let cid = a
        .customer(&id)
        .map(|c| c.id.clone())
        .ok_or_else(|| customer_not_found(&id))?;
    a.remove_customer(&cid);
    Ok(Json(json!(1)).into_response())
}

/// `POST /api/v3/customer`: create from lead → `{"jobId":"wst_<uuid>"}`; the customer
/// appears when the task completes.
pub(super) async fn create_from_lead(State(sh): State<Shared>, body: Bytes) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.audiocodes;
    let raw: Value = parse_body(&a.switches, &body)?;
    let sw = a.switches.clone();
    let o = Obj::parse(&sw, &raw)?;
    let config_name = o
        .string("configurationName")?
        .ok_or_else(|| invalid(&sw, "configurationName is required"))?;
    let config = a
        .lead_configurations
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(config_name.trim()))
        .cloned()
        .ok_or_else(|| invalid(&sw, format!("configurationName {config_name:?} not found")))?;
    let short = check_short_name(&sw, "customerShortName", o.string("customerShortName")?)?;
    let full = o
        .string("customerFullName")?
        .unwrap_or_else(|| short.clone());
    check_full_name(&sw, "customerFullName", &full, FullNameRules::LengthOnly)?;
    let (scripts, password) = check_scripts(&sw, o.get("scriptParameters"))?;
    let (tenant, tenant_failure) = check_ms_tenant(a, o.string("msTenantId")?)?;
    if is_duplicate(a, &short, &tenant) {
        return Err(api_err(
            &sw,
            sw.duplicate_status,
            format!("Customer {short} already exists for this Microsoft tenant"),
        ));
    }
    let id = a.new_guid();
    let site_id = a.new_guid();
    let customer = Customer {
        id: id.clone(),
        short_name: short.clone(),
        full_name: full,
        license_type: sw.lead_license_type,
        licensed_users_count: 0,
        active_user_count: 0,
        live_hub_active_users_count: 0,
        live_hub_simple_users_count: 0,
        ms_tenant_id: tenant,
        ovoc_customer_type: config.ovoc_customer_type.clone(),
        channel_id: None,
        lc_customer_id: None,
    };
    let site = Site {
        id: site_id,
        customer_id: id,
        name: short,
        sbc_id: config.sbc_id,
        onboarding_script: config.onboarding_script,
        cleanup_script: config.cleanup_script,
        ovoc_customer_type: config.ovoc_customer_type,
        script_parameters: scripts,
        carrier_password_fnv1a: password,
        state: SiteState::Deployed,
        pending_tasks: Vec::new(),
    };
    let job = format!("wst_{}", a.new_guid());
    let kind = TaskKind::Lead {
        customer: Box::new(customer),
        site: Box::new(site),
    };
    let job = a.queue_task(job, kind, tenant_failure, now);
    ok_json(json!({"jobId": job}))
}
