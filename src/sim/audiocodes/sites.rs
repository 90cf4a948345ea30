//! AudioCodes site locations (SIP connections) and tasks, fact sheet §4.2: add a site
//! (queued onboarding), read one, delete one (queued SBC cleanup), and the task status
//! endpoint that every asynchronous operation reports through.

use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use super::super::Shared;
use super::customers::{Obj, check_ovoc_type, check_scripts, check_site_refs};
use super::{
    ApiError, ApiResult, AudiocodesState, Site, SiteState, TaskKind, TaskStatus, api_err,
    customer_not_found, invalid, iso_seconds, ok_json, parse_body,
};

fn site_not_found(a: &AudiocodesState, id: &str) -> ApiError {
    api_err(
        &a.switches,
        404,
        format!("Site location with {id} not found"),
    )
}

/// `POST /api/v2/customer/{id}/sitelocation/`: a new site, deployed by a queued task.
pub(super) async fn add(
    State(sh): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.audiocodes;
    let c = a
        .customer(&id)
        .cloned()
        .ok_or_else(|| customer_not_found(&id))?;
    let raw: Value = parse_body(&a.switches, &body)?;
    let sw = a.switches.clone();
    let o = Obj::parse(&sw, &raw)?;
    let name = o
        .string("siteLocationName")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(&sw, "siteLocationName is required"))?;
    if name.chars().count() > 200 {
        return Err(invalid(
            &sw,
            "siteLocationName must be at most 200 characters",
        ));
    }
    let ovoc = match o.string("ovocCustomerType")? {
        Some(t) => check_ovoc_type(&sw, &t)?,
        None => c.ovoc_customer_type.clone(),
    };
    let sbc = o.required_int("sbcId")?;
    let onboarding = o.required_int("sbcOnboardingScript")?;
    let cleanup = o.required_int("sbcCleanupScript")?;
    check_site_refs(a, sbc, onboarding, cleanup)?;
    let (scripts, password) = check_scripts(&sw, o.get("scriptParameters"))?;
    if a.visible_sites(&c.id)
        .any(|s| s.name.eq_ignore_ascii_case(&name))
    {
        return Err(api_err(
            &sw,
            sw.duplicate_status,
            format!(
                "Site location {name} already exists for customer {}",
                c.short_name
            ),
        ));
    }
    let site_id = a.new_guid();
    a.sites.push(Site {
        id: site_id.clone(),
        customer_id: c.id.clone(),
        name,
        sbc_id: sbc,
        onboarding_script: onboarding,
        cleanup_script: cleanup,
        ovoc_customer_type: ovoc,
        script_parameters: scripts,
        carrier_password_fnv1a: password,
        state: SiteState::InProgress,
        pending_tasks: Vec::new(),
    });
    let task = a.new_task_id();
    let task = a.queue_task(
        task,
        TaskKind::AddSite {
            site_id: site_id.clone(),
        },
        None,
        now,
    );
    ok_json(json!({
        "status": true,
        "msg": "queued",
        "siteLocationId": site_id,
        "sbcOnboardingTaskId": task,
    }))
}

/// `GET /api/v2/sitelocation/{id}`.
pub(super) async fn get_one(State(sh): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let st = sh.lock();
    let a = &st.audiocodes;
    let s = a.visible_site(&id).ok_or_else(|| site_not_found(a, &id))?;
    let sw = &a.switches;
    let code = |st: SiteState| sw.sbc_state_codes.get(st.key()).copied().unwrap_or(0);
    let customer = a.customer(&s.customer_id);
    let tenant = customer.and_then(|c| c.ms_tenant_id.clone());
    let m365_state = (s.ovoc_customer_type == "TENANT_TYPE").then(|| code(s.state));
    let sbc = a.sbc(s.sbc_id);
    let mut sbc_info = Map::new();
    sbc_info.insert("sbcId".into(), json!(s.sbc_id));
    sbc_info.insert("sbcName".into(), json!(sbc.map(|b| b.name.clone())));
    sbc_info.insert(
        "sbcConfigurationType".into(),
        json!(sbc.map(|b| b.configuration_type.clone())),
    );
    s.unsourced_fields(sw, &mut sbc_info);
    let domain = tenant
        .as_deref()
        .and_then(|t| a.ms_tenant(t))
        .and_then(|t| t.default_domain.clone());
    ok_json(json!({
        "tenantId": s.customer_id,
        "m365DeploymentState": m365_state,
        "sbcDeploymentState": code(s.state),
        "siteName": s.name,
        "onlinePstnGateway": s.script_parameters.get("OnlinePstnGateway"),
        "sbcInfo": sbc_info,
        "m365Info": {"msTenantId": tenant, "msDefaultDomain": domain},
        "pendingTasks": s.pending_tasks,
    }))
}

/// `DELETE /api/v2/sitelocation/{id}` → queued SBC cleanup; the site goes when it is done.
pub(super) async fn delete(State(sh): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.audiocodes;
    let sid = a
        .visible_site(&id)
        .map(|s| s.id.clone())
        .ok_or_else(|| site_not_found(a, &id))?;
    let running = a.tasks.iter().find(|t| {
        t.status == TaskStatus::InProgress
            && matches!(&t.kind, TaskKind::SiteCleanup { site_id } if *site_id == sid)
    });
    let task = match running {
        Some(t) => t.id.clone(),
        None => {
            if let Some(s) = a.sites.iter_mut().find(|s| s.id == sid) {
                s.state = SiteState::Deleting;
            }
            let t = a.new_task_id();
            a.queue_task(t, TaskKind::SiteCleanup { site_id: sid }, None, now)
        }
    };
    ok_json(json!({
        "status": true,
        "msg": "queued",
        "sbcCleanupTaskId": task,
        "o365CleanupTask": "tsk_0",
    }))
}

fn status_label(a: &AudiocodesState, s: TaskStatus) -> String {
    match s {
        TaskStatus::InProgress => "In Progress".into(),
        TaskStatus::Succeeded => "CompletedSuccess".into(),
        TaskStatus::Failed => a.switches.task_failed_status.clone(),
    }
}

/// `GET /api/v2/task/{id}`: each poll may move the task on (`task_polls`).
pub(super) async fn task(State(sh): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let mut st = sh.lock();
    let now = st.now_ms();
    let a = &mut st.audiocodes;
    if id == "tsk_0" {
        // The placeholder for "no O365 cleanup needed".
        return ok_json(json!({
            "id": id,
            "status": "CompletedSuccess",
            "details": [],
            "executionMessages": [],
            "outputData": {},
            "createTime": iso_seconds(now),
        }));
    }
    let i = a
        .tasks
        .iter()
        .position(|t| t.id.eq_ignore_ascii_case(&id))
        .ok_or_else(|| api_err(&a.switches, 404, format!("Task with {id} not found")))?;
    a.poll_task(i);
    let t = &a.tasks[i];
    let messages: Vec<Value> = t
        .messages
        .iter()
        .map(|(level, message)| json!({"level": level, "message": message}))
        .collect();
    ok_json(json!({
        "id": t.id,
        "status": status_label(a, t.status),
        "details": t.details,
        "executionMessages": messages,
        "outputData": t.output,
        "createTime": iso_seconds(t.created_ms),
    }))
}
