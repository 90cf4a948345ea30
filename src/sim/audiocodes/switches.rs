//! AudioCodes behaviour switches: one named field for every behaviour the fact sheet
//! (§4) marks `[assumed]` or leaves silent, plus the injectable failures. Data only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Set them in the inventory's `[audiocodes.switches]`, with
/// `POST /_sim/audiocodes/switches` (partial JSON object) or
/// [`crate::sim::Simulator::audiocodes_switches`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AudiocodesSwitches {
    /// `expires_in` of issued tokens; they stop working after this many seconds of the
    /// simulated clock (standard Entra: 3599).
    pub token_lifetime_secs: u64,
    /// Status of a token request with an unknown client id or wrong secret (400 or 401).
    pub bad_credentials_status: u16,
    /// Body of a 401 for a missing, unknown or expired bearer.
    pub unauthorized_body: UnauthorizedBody,
    /// API calls per wall-clock second (fixed window); 0 = no limit (nothing documented).
    pub limit_per_second: u32,
    /// `Retry-After` seconds on such a 429; 0 = no header.
    pub rate_limit_retry_after_secs: u64,
    /// Status of a validation error (bad shortName, unknown sbcId, malformed JSON, …).
    pub validation_status: u16,
    /// Body shape of every error except the documented customer 404.
    pub error_body: ErrorBody,
    /// Status of a second customer with the same shortName for the same msTenantId (and
    /// of a second site with the same name in one customer).
    pub duplicate_status: u16,
    /// Rules for `fullName` on `POST /api/v2/customer`.
    pub full_name_rules: FullNameRules,
    /// `msTenantId` must be present on creates.
    pub ms_tenant_required: bool,
    /// What a well-formed msTenantId that Microsoft does not know does.
    pub unknown_ms_tenant: UnknownMsTenant,
    /// `channelId` must be one of the inventory's channels (when it lists any).
    pub validate_channel_id: bool,
    /// Reject scriptParameters keys other than the example spelling (CacProfile,
    /// ProxySet, OnlinePstnGateway, CarrierUserName, CarrierUserPassword, CarrierMainLine,
    /// CarrierHostName, CustomVar.Variable<N>, additionalProp<N>); false = store them.
    pub strict_script_parameters: bool,
    /// `POST /api/v2/customer` answers this long after committing (the real create is
    /// synchronous and slow: SBC onboarding + OVOC site). A client that gives up earlier
    /// leaves the customer created.
    pub create_latency_ms: u64,
    /// The next N `POST /api/v2/customer` answer 200 with the failed deployment state.
    pub fail_next_creates: u32,
    /// Creates whose shortName matches one of these patterns (`*` = any run of
    /// characters, case-insensitive) fail the same way.
    pub fail_create_names: Vec<String>,
    /// A failed deployment leaves the customer behind with its site in the failed state
    /// (false: nothing is stored, the returned id is never listed).
    pub failed_create_keeps_customer: bool,
    /// The failed `deploymentState` / `sbcDeploymentState` string.
    pub failed_deployment_state: String,
    /// `LicenseType` of customers created by `POST /api/v2/customer` (Essentials).
    pub license_type: i64,
    /// `LicenseType` of customers created from a lead (OC Essential).
    pub lead_license_type: i64,
    /// What moves a queued task (lead create, site add, site delete) to its end.
    pub task_progress: TaskProgress,
    /// With `polls`/`polls_or_time`: a task answers "In Progress" to this many
    /// `GET /api/v2/task/{id}` polls, then completes on the next one.
    pub task_polls: u32,
    /// With `time`/`polls_or_time`: a task completes this long (simulated clock) after
    /// it was queued, polled or not.
    pub task_duration_ms: u64,
    /// The next N queued tasks (lead creates, site adds, site deletes) fail.
    pub fail_next_tasks: u32,
    /// The status string of a failed task.
    pub task_failed_status: String,
    /// A deleted site stays listed (state `Deleting`) until its cleanup task completes;
    /// false: it disappears from reads at once (the task still completes later).
    pub deleted_site_visible_until_cleanup: bool,
    /// Integer `sbcDeploymentState`/`m365DeploymentState` of `GET /api/v2/sitelocation/{id}`
    /// per state name (InProgress, Deployed, Failed, Deleting).
    pub sbc_state_codes: BTreeMap<String, i64>,
    /// The first site of a customer created by `POST /api/v2/customer` gets the
    /// customer's GUID as its id (some docs show that; the seed example does not).
    pub first_site_id_is_customer_id: bool,
    /// Also return fields no AudioCodes doc shows, so a client can diff them: customer
    /// `OvocCustomerType`, `ChannelId`, `LcCustomerId`; site `ovocCustomerType`,
    /// `sbcOnboardingScript`, `sbcCleanupScript`, `scriptParameters` (no password),
    /// `carrierUserPasswordSet`.
    pub expose_unsourced_fields: bool,
}

impl Default for AudiocodesSwitches {
    fn default() -> Self {
        AudiocodesSwitches {
            token_lifetime_secs: 3599,
            bad_credentials_status: 400,
            unauthorized_body: UnauthorizedBody::Empty,
            limit_per_second: 0,
            rate_limit_retry_after_secs: 0,
            validation_status: 400,
            error_body: ErrorBody::String,
            duplicate_status: 409,
            full_name_rules: FullNameRules::ShortNameChars,
            ms_tenant_required: true,
            unknown_ms_tenant: UnknownMsTenant::Reject,
            validate_channel_id: true,
            strict_script_parameters: true,
            create_latency_ms: 0,
            fail_next_creates: 0,
            fail_create_names: Vec::new(),
            failed_create_keeps_customer: true,
            failed_deployment_state: "Failed".into(),
            license_type: 0,
            lead_license_type: 0,
            task_progress: TaskProgress::PollsOrTime,
            task_polls: 1,
            task_duration_ms: 60_000,
            fail_next_tasks: 0,
            task_failed_status: "CompletedFailure".into(),
            deleted_site_visible_until_cleanup: true,
            sbc_state_codes: default_state_codes(),
            first_site_id_is_customer_id: false,
            expose_unsourced_fields: true,
        }
    }
}

pub(crate) fn default_state_codes() -> BTreeMap<String, i64> {
    [
        ("InProgress", 1),
        ("Deployed", 2),
        ("Failed", 3),
        ("Deleting", 4),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UnauthorizedBody {
    /// No body, `WWW-Authenticate: Bearer error="invalid_token"` (ASP.NET JwtBearer).
    Empty,
    /// `{"error":"invalid_token","error_description":…}` as well.
    Json,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorBody {
    /// A JSON string, like the documented 404 `"Customer with <id> not found"`.
    String,
    /// An ASP.NET problem object `{"type","title","status","errors"}`.
    Problem,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FullNameRules {
    /// ≤200 characters and the shortName character rules (fact sheet).
    ShortNameChars,
    /// ≤200 characters, anything else goes.
    LengthOnly,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UnknownMsTenant {
    /// 4xx (`validation_status`), nothing created.
    Reject,
    /// 200 with the failed deployment state and errorDetails, nothing created.
    FailedDeployment,
    /// Any well-formed GUID is accepted.
    Accept,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TaskProgress {
    /// Whichever comes first: `task_polls` polls or `task_duration_ms`.
    PollsOrTime,
    /// Only polls of the task move it.
    Polls,
    /// Only the simulated clock moves it.
    Time,
    /// Tasks are complete when queued.
    Immediate,
}
