//! Simulated AudioCodes Live Platform (UMP-365 / Live Cloud) customer API, fact sheet §4:
//! the provider account state (customers = services, site locations, queued tasks,
//! issued tokens), the shared error/parse helpers, task settling and the router. Auth and
//! the optional rate limit live in `gate`, the Entra token endpoint in `oauth`, the
//! `[assumed]` switches in `switches`, handlers with their wire types in `customers` and
//! `sites`, portal edits in `edit`. Never imports the client code.

mod bodies;
mod customers;
mod edit;
mod gate;
pub mod inventory;
mod oauth;
mod sites;
pub mod switches;

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub(crate) use bodies::documented_body;
pub use edit::AudiocodesEdit;
pub use inventory::AudiocodesInventory;
pub use switches::{
    AudiocodesSwitches, ErrorBody, FullNameRules, TaskProgress, UnauthorizedBody, UnknownMsTenant,
};

use super::Shared;
pub(crate) use super::common::iso_seconds;
use super::control;
use inventory::{InventoryMsTenant, InventorySbc, InventoryScript, LeadConfiguration};

/// A customer (a "service" in Live Platform terms) as the simulator keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Customer {
    /// GUID (lowercase): `id` of the create answer, `UmpCustomerGuid`, `Id`.
    pub id: String,
    pub short_name: String,
    pub full_name: String,
    pub license_type: i64,
    pub licensed_users_count: u32,
    pub active_user_count: u32,
    pub live_hub_active_users_count: u32,
    pub live_hub_simple_users_count: u32,
    pub ms_tenant_id: Option<String>,
    pub ovoc_customer_type: String,
    pub channel_id: Option<String>,
    pub lc_customer_id: Option<String>,
}

/// Deployment state of a site location.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum SiteState {
    InProgress,
    Deployed,
    Failed,
    Deleting,
}

impl SiteState {
    pub fn key(self) -> &'static str {
        match self {
            SiteState::InProgress => "InProgress",
            SiteState::Deployed => "Deployed",
            SiteState::Failed => "Failed",
            SiteState::Deleting => "Deleting",
        }
    }

    /// The string the API reports (the failed name is a switch).
    pub fn label(self, sw: &AudiocodesSwitches) -> String {
        match self {
            SiteState::Failed => sw.failed_deployment_state.clone(),
            other => other.key().to_string(),
        }
    }

    pub fn parse(s: &str, sw: &AudiocodesSwitches) -> Option<SiteState> {
        let s = s.trim();
        if s.eq_ignore_ascii_case(&sw.failed_deployment_state) {
            return Some(SiteState::Failed);
        }
        [
            SiteState::InProgress,
            SiteState::Deployed,
            SiteState::Failed,
            SiteState::Deleting,
        ]
        .into_iter()
        .find(|st| st.key().eq_ignore_ascii_case(s))
    }
}

/// A site location (SBC configuration of one customer).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Site {
    /// GUID (lowercase).
    pub id: String,
    pub customer_id: String,
    pub name: String,
    pub sbc_id: i64,
    pub onboarding_script: i64,
    pub cleanup_script: i64,
    pub ovoc_customer_type: String,
    /// Script parameters as sent, without `CarrierUserPassword`.
    pub script_parameters: BTreeMap<String, String>,
    /// FNV-1a-64 of the carrier password, when one was sent (never the clear text).
    pub carrier_password_fnv1a: Option<String>,
    pub state: SiteState,
    /// Queued tasks that concern this site.
    pub pending_tasks: Vec<String>,
}

impl Site {
    /// With `expose_unsourced_fields`: what the site was created with that the
    /// documented reads never show (so a client cannot rely on it).
    pub(crate) fn unsourced_fields(&self, sw: &AudiocodesSwitches, m: &mut Map<String, Value>) {
        if sw.expose_unsourced_fields {
            m.insert("ovocCustomerType".into(), json!(self.ovoc_customer_type));
            m.insert("sbcOnboardingScript".into(), json!(self.onboarding_script));
            m.insert("sbcCleanupScript".into(), json!(self.cleanup_script));
            m.insert("scriptParameters".into(), json!(self.script_parameters));
            m.insert(
                "carrierUserPasswordSet".into(),
                json!(self.carrier_password_fnv1a.is_some()),
            );
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum TaskStatus {
    InProgress,
    Succeeded,
    Failed,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum TaskKind {
    /// Create from lead: the customer and its site appear when the task succeeds.
    Lead {
        customer: Box<Customer>,
        site: Box<Site>,
    },
    /// A site added with `POST /api/v2/customer/{id}/sitelocation/`: deploys.
    AddSite { site_id: String },
    /// SBC cleanup of a deleted site: removes it.
    SiteCleanup { site_id: String },
}

/// A queued job (`wst_…` for leads, `tsk_<n>` for site work).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Task {
    pub id: String,
    pub kind: TaskKind,
    pub created_ms: u64,
    pub polls: u32,
    pub status: TaskStatus,
    /// Decided when queued (`fail_next_tasks`, or a lead whose msTenantId Microsoft
    /// does not know): the task ends failed with this message.
    pub fail_reason: Option<String>,
    pub details: Vec<String>,
    pub messages: Vec<(String, String)>,
    pub output: BTreeMap<String, String>,
}

/// The whole simulated provider deployment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct AudiocodesState {
    pub provider_tenant_id: String,
    pub app_id: String,
    pub client_id: String,
    /// FNV-1a-64 of the client secret (the secret itself stays in the inventory).
    pub client_secret_fnv1a: String,
    pub switches: AudiocodesSwitches,
    pub static_tokens: Vec<String>,
    pub channels: Vec<String>,
    pub sbcs: Vec<InventorySbc>,
    pub onboarding_scripts: Vec<InventoryScript>,
    pub cleanup_scripts: Vec<InventoryScript>,
    pub ms_tenants: Vec<InventoryMsTenant>,
    pub lead_configurations: Vec<LeadConfiguration>,
    pub customers: Vec<Customer>,
    pub sites: Vec<Site>,
    pub tasks: Vec<Task>,
    /// Issued access token → expiry (simulated epoch ms).
    pub issued_tokens: BTreeMap<String, u64>,
    pub seq: u64,
    pub next_task: u64,
    #[serde(skip)]
    pub(super) rate: gate::RateWindow,
}

/// FNV-1a 64-bit, hex: a stable fingerprint so secrets are never kept in clear.
pub(crate) fn fnv1a(s: &str) -> String {
    let h = s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("fnv1a64:{h:016x}")
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl AudiocodesState {
    pub fn from_inventory(inv: &AudiocodesInventory) -> AudiocodesState {
        let mut st = AudiocodesState {
            provider_tenant_id: inv.provider_tenant_id.to_lowercase(),
            app_id: inv.app_id.to_lowercase(),
            client_id: inv.client_id.to_lowercase(),
            client_secret_fnv1a: fnv1a(&inv.client_secret),
            switches: inv.switches.clone(),
            static_tokens: inv.tokens.clone(),
            channels: inv.channels.clone(),
            sbcs: inv.sbcs.clone(),
            onboarding_scripts: inv.onboarding_scripts.clone(),
            cleanup_scripts: inv.cleanup_scripts.clone(),
            ms_tenants: inv.ms_tenants.clone(),
            lead_configurations: inv.lead_configurations.clone(),
            customers: Vec::new(),
            sites: Vec::new(),
            tasks: Vec::new(),
            issued_tokens: BTreeMap::new(),
            seq: 0,
            next_task: 1000,
            rate: gate::RateWindow::default(),
        };
        for c in &inv.customers {
            let ovoc = c.ovoc_customer_type.clone();
            st.customers.push(Customer {
                id: c.id.to_lowercase(),
                short_name: c.short_name.clone(),
                full_name: c.full_name.clone().unwrap_or_else(|| c.short_name.clone()),
                license_type: c.license_type,
                licensed_users_count: c.licensed_users_count,
                active_user_count: c.active_user_count,
                live_hub_active_users_count: 0,
                live_hub_simple_users_count: 0,
                ms_tenant_id: c.ms_tenant_id.as_ref().map(|t| t.to_lowercase()),
                ovoc_customer_type: ovoc.clone(),
                channel_id: c.channel_id.clone(),
                lc_customer_id: None,
            });
            for s in &c.sites {
                st.sites.push(Site {
                    id: s.id.to_lowercase(),
                    customer_id: c.id.to_lowercase(),
                    name: s.name.clone(),
                    sbc_id: s.sbc_id,
                    onboarding_script: s.onboarding_script,
                    cleanup_script: s.cleanup_script,
                    ovoc_customer_type: ovoc.clone(),
                    script_parameters: BTreeMap::new(),
                    carrier_password_fnv1a: None,
                    state: SiteState::Deployed,
                    pending_tasks: Vec::new(),
                });
            }
        }
        st
    }

    fn next_u64(&mut self) -> u64 {
        self.seq += 1;
        splitmix(self.seq ^ 0xAC0D_E500_0000_0001)
    }

    /// A fresh deterministic version-4-shaped GUID, lowercase.
    pub fn new_guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        let hex = format!("{a:016x}{b:016x}");
        let variant = ['8', '9', 'a', 'b'][(b >> 60) as usize & 3];
        format!(
            "{}-{}-4{}-{variant}{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }

    pub fn customer(&self, id: &str) -> Option<&Customer> {
        let id = id.trim().to_lowercase();
        self.customers.iter().find(|c| c.id == id)
    }

    /// Sites of a customer that reads still show.
    pub fn visible_sites<'a>(&'a self, customer_id: &'a str) -> impl Iterator<Item = &'a Site> {
        let keep_deleting = self.switches.deleted_site_visible_until_cleanup;
        self.sites.iter().filter(move |s| {
            s.customer_id == customer_id && (keep_deleting || s.state != SiteState::Deleting)
        })
    }

    pub fn visible_site(&self, id: &str) -> Option<&Site> {
        let id = id.trim().to_lowercase();
        self.sites.iter().find(|s| {
            s.id == id
                && (self.switches.deleted_site_visible_until_cleanup
                    || s.state != SiteState::Deleting)
        })
    }

    pub fn sbc(&self, id: i64) -> Option<&InventorySbc> {
        self.sbcs.iter().find(|s| s.id == id)
    }

    pub fn ms_tenant(&self, id: &str) -> Option<&InventoryMsTenant> {
        self.ms_tenants
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(id.trim()))
    }

    /// Queue a task; returns its id.
    pub fn queue_task(
        &mut self,
        id: String,
        kind: TaskKind,
        mut fail_reason: Option<String>,
        now_ms: u64,
    ) -> String {
        if self.switches.fail_next_tasks > 0 {
            self.switches.fail_next_tasks -= 1;
            fail_reason.get_or_insert_with(|| "simulated failure (fail_next_tasks)".to_string());
        }
        let site = match &kind {
            TaskKind::AddSite { site_id } | TaskKind::SiteCleanup { site_id } => {
                Some(site_id.clone())
            }
            TaskKind::Lead { .. } => None,
        };
        if let Some(sid) = site
            && let Some(s) = self.sites.iter_mut().find(|s| s.id == sid)
        {
            s.pending_tasks.push(id.clone());
        }
        self.tasks.push(Task {
            id: id.clone(),
            kind,
            created_ms: now_ms,
            polls: 0,
            status: TaskStatus::InProgress,
            fail_reason,
            details: Vec::new(),
            messages: vec![("Information".into(), "Task queued".into())],
            output: BTreeMap::new(),
        });
        if self.switches.task_progress == TaskProgress::Immediate {
            self.finish_task(self.tasks.len() - 1);
        }
        id
    }

    /// `tsk_<n>`.
    pub fn new_task_id(&mut self) -> String {
        self.next_task += 1;
        format!("tsk_{}", self.next_task)
    }

    /// Complete tasks whose time has come (`task_duration_ms`); with `immediate`, every
    /// task still running (queued before the switch changed).
    pub fn settle(&mut self, now_ms: u64) {
        let d = match self.switches.task_progress {
            TaskProgress::Time | TaskProgress::PollsOrTime => self.switches.task_duration_ms,
            TaskProgress::Immediate => 0,
            TaskProgress::Polls => return,
        };
        let due: Vec<usize> = self
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                t.status == TaskStatus::InProgress && now_ms >= t.created_ms.saturating_add(d)
            })
            .map(|(i, _)| i)
            .collect();
        for i in due {
            self.finish_task(i);
        }
    }

    /// A poll of a task: maybe completes it (`task_polls`).
    pub fn poll_task(&mut self, i: usize) {
        if self.tasks[i].status != TaskStatus::InProgress {
            return;
        }
        let by_polls = matches!(
            self.switches.task_progress,
            TaskProgress::Polls | TaskProgress::PollsOrTime
        );
        if by_polls && self.tasks[i].polls >= self.switches.task_polls {
            self.finish_task(i);
        } else {
            self.tasks[i].polls = self.tasks[i].polls.saturating_add(1);
        }
    }

    /// Apply a task's effect and give it its terminal status.
    fn finish_task(&mut self, i: usize) {
        let task = self.tasks[i].clone();
        if task.status != TaskStatus::InProgress {
            return;
        }
        let mut fail = task.fail_reason.clone();
        let mut details = Vec::new();
        let mut messages = task.messages.clone();
        let mut output = BTreeMap::new();
        match &task.kind {
            TaskKind::Lead { customer, site } => {
                if fail.is_none()
                    && self.customers.iter().any(|c| {
                        c.short_name.eq_ignore_ascii_case(&customer.short_name)
                            && c.ms_tenant_id == customer.ms_tenant_id
                    })
                {
                    fail = Some(format!(
                        "Customer {} already exists for this Microsoft tenant",
                        customer.short_name
                    ));
                }
                if fail.is_none() {
                    self.customers.push((**customer).clone());
                    self.sites.push((**site).clone());
                    details.push("Converted".to_string());
                    messages.push(("Information".into(), "Customer data created!".into()));
                    messages.push(("Information".into(), "Site created in Ovoc".into()));
                    output.insert("umpCustomerGuid".to_string(), customer.id.clone());
                }
            }
            TaskKind::AddSite { site_id } => {
                if let Some(s) = self.sites.iter_mut().find(|s| &s.id == site_id) {
                    s.pending_tasks.retain(|t| t != &task.id);
                    if s.state == SiteState::InProgress {
                        s.state = if fail.is_some() {
                            SiteState::Failed
                        } else {
                            SiteState::Deployed
                        };
                    }
                    if fail.is_none() {
                        messages.push((
                            "Information".into(),
                            format!("SBC sbc-onboarding done for site {}.", s.name),
                        ));
                    }
                }
            }
            TaskKind::SiteCleanup { site_id } => {
                if fail.is_none() {
                    self.sites.retain(|s| &s.id != site_id);
                    messages.push(("Information".into(), "SBC cleanup done".into()));
                } else if let Some(s) = self.sites.iter_mut().find(|s| &s.id == site_id) {
                    s.pending_tasks.retain(|t| t != &task.id);
                    s.state = SiteState::Failed;
                }
            }
        }
        let t = &mut self.tasks[i];
        match fail {
            Some(why) => {
                messages.push(("Error".into(), why));
                t.status = TaskStatus::Failed;
            }
            None => t.status = TaskStatus::Succeeded,
        }
        t.details = details;
        t.messages = messages;
        t.output = output;
    }

    /// Remove a customer and all its site locations.
    pub fn remove_customer(&mut self, id: &str) {
        self.customers.retain(|c| c.id != id);
        self.sites.retain(|s| s.customer_id != id);
    }
}

/// An error response: status + JSON body.
#[derive(Debug)]
pub(crate) struct ApiError(pub StatusCode, pub Value);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

/// An error in the switched body shape (`error_body`).
pub(crate) fn api_err(sw: &AudiocodesSwitches, status: u16, msg: impl Into<String>) -> ApiError {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let msg = msg.into();
    let body = match sw.error_body {
        ErrorBody::String => Value::String(msg),
        ErrorBody::Problem => json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": if status == StatusCode::BAD_REQUEST {
                "One or more validation errors occurred."
            } else {
                status.canonical_reason().unwrap_or("Error")
            },
            "status": status.as_u16(),
            "errors": {"request": [msg]},
        }),
    };
    ApiError(status, body)
}

/// A validation error (`validation_status`).
pub(crate) fn invalid(sw: &AudiocodesSwitches, msg: impl Into<String>) -> ApiError {
    api_err(sw, sw.validation_status, msg)
}

/// The documented customer 404: a JSON string.
pub(crate) fn customer_not_found(id: &str) -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        Value::String(format!("Customer with {id} not found")),
    )
}

pub(crate) fn ok_json(v: Value) -> ApiResult {
    Ok(Json(v).into_response())
}

/// Parse a JSON request body; a validation error otherwise.
pub(crate) fn parse_body<T: DeserializeOwned>(
    sw: &AudiocodesSwitches,
    body: &Bytes,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid(sw, "A non-empty request body is required."));
    }
    serde_json::from_slice(body).map_err(|e| invalid(sw, format!("invalid JSON body: {e}")))
}

/// The AudioCodes routes; nested under `/audiocodes` and served at a root.
pub(crate) fn router(sh: Shared) -> Router<Shared> {
    let routes = Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(oauth::token))
        .route("/api/v2/customer", post(customers::create))
        .route(
            "/api/v2/customer/{id}",
            get(customers::get_v2).delete(customers::delete),
        )
        .route("/api/v2/customer/{id}/user", get(customers::get_v2))
        .route(
            "/api/v3/customer",
            get(customers::list_v3).post(customers::create_from_lead),
        )
        .route("/api/v3/customer/{id}", get(customers::get_v3))
        .route("/api/v2/customer/{id}/sitelocation", post(sites::add))
        .route("/api/v2/customer/{id}/sitelocation/", post(sites::add))
        .route(
            "/api/v2/sitelocation/{id}",
            get(sites::get_one).delete(sites::delete),
        )
        .route("/api/v2/task/{id}", get(sites::task))
        .method_not_allowed_fallback(control::method_not_allowed);
    control::vendor_layers(routes, &sh, "audiocodes", |r| {
        r.route_layer(from_fn_with_state(sh.clone(), gate::gate))
    })
    .fallback(control::not_found)
}
