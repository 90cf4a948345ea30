//! RUCKUS One behaviour switches: one named field for every behaviour the fact sheet
//! (§3) marks `[assumed]` or leaves silent, with the defaults the simulator starts with.
//! Data only.

use serde::{Deserialize, Serialize};

/// Every behaviour the fact sheet only assumes, as a switch. Set them in the inventory's
/// `[ruckus.switches]`, with `POST /_sim/ruckus/switches` (a partial JSON object) or
/// [`crate::sim::Simulator::ruckus_switches`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RuckusSwitches {
    /// Lifetime of tokens issued by `POST /oauth2/token/{tenantId}` (silent; r1-sdk assumes 3600).
    pub token_lifetime_secs: u64,
    /// Put `expires_in` in the token response.
    pub token_expires_in: bool,
    /// Issued access tokens look like a JWT (`header.payload.signature`) or are opaque hex.
    pub token_format: TokenFormat,
    /// Status for a token request that is not a form body (e.g. JSON) or lacks a field.
    pub token_bad_request_status: u16,
    /// Status for an unknown client id / wrong secret / wrong tenant in the token path.
    pub token_bad_secret_status: u16,
    /// `GET /activities/{id}` answers a non-terminal status this many times, then a terminal one.
    pub activity_pending_polls: u32,
    /// Non-terminal statuses: poll k (1-based) shows entry k-1, the last one repeating.
    pub activity_pending_statuses: Vec<String>,
    /// An activity also completes on its own this long (sim clock) after it was created,
    /// polled or not; 0 = only polling completes it.
    pub activity_settle_ms: u64,
    /// An activity takes at least this long (sim clock): polls before then answer a
    /// non-terminal status however many there were, as the real cloud's do.
    pub activity_min_ms: u64,
    /// The next N activities created (any kind) end in `FAIL` instead of taking effect.
    pub fail_next_activities: u32,
    /// Status for `GET /activities/{id}` with an unknown id.
    pub unknown_activity_status: u16,
    /// Fields every `POST /tenants` item must carry (non-empty); `name` is always required.
    pub create_required_fields: Vec<String>,
    /// A create/rename to a name another EC has (or is being created with), case-insensitive.
    pub duplicate_names: DuplicateNames,
    /// `PUT /tenants/{id}`: fields absent from the body are cleared (`replace`) or kept (`merge`).
    pub update_semantics: UpdateSemantics,
    /// Status of a successful `DELETE /tenants/{id}` (the seed says 200; clients accept 202 too).
    pub delete_status: u16,
    /// Also serve `GET /tenants/{id}/invitations` (admin email in the query string) like the POST.
    pub invitations_get: bool,
    /// How `GET /tenants/{id}/admins` answers (the fact sheet gives the path and the
    /// item fields, not the wrapper): a bare array, `{"data":[…],"totalCount"}`, or 404.
    pub admins_read: AdminsRead,
    /// `GET /tenants/{id}/admins` lists everyone invited through the invitations route
    /// at once (pending), or only the administrator named when the EC was created.
    pub admins_list_invited: bool,
    /// Serve `POST /techpartners/mspecs/query` (deprecated by the vendor in favour of
    /// `POST /tenants/query`, "removed no sooner than 06/30/2026"); false → 404.
    pub techpartners_query: bool,
    /// Name of the total-count key in query answers.
    pub query_total_key: TotalKey,
    /// Number of the first page of query answers (0 or 1); a smaller `page` → 400.
    pub query_page_base: u32,
    /// `pageSize` when the query body has none.
    pub query_default_page_size: u32,
    /// Largest `pageSize` honoured; larger values are capped.
    pub query_max_page_size: u32,
    /// Tenant query rows of ECs also carry the EC view's fields in camelCase
    /// (`city`, `state`, `country`, `postalCode`, `phoneNumber`, `faxNumber`,
    /// `mappingUrl`, `serviceEffectiveDate`, `serviceExpirationDate`, `tier`,
    /// `privacyFeatures`), projected by the body's `fields` like any other; false:
    /// only the row fields the fact sheet lists (§3.4, acx-ui `MspEc`) [assumed].
    pub query_rows_detailed: bool,
    /// EC views render all-digit `street_address` / `postal_code` values as JSON numbers,
    /// as the seed's examples do (`"postal_code": 95089`).
    pub numbers_in_string_fields: bool,
    /// EC views render `is_active` as the string `"true"` (documented type) instead of a
    /// boolean (documented example).
    pub is_active_as_string: bool,
    /// Status for an `x-rks-tenantid` that names no EC delegated to the caller.
    pub undelegated_tenant_status: u16,
    /// Token bucket size per tenant; 0 turns rate limiting off.
    pub rate_bucket_max: u32,
    /// Tokens returned to the bucket per second (continuously, on the sim clock).
    pub rate_refill_per_sec: u32,
    /// Which tenant's bucket a call draws from.
    pub rate_limit_scope: RateLimitScope,
    /// Send `Retry-After` (whole seconds until a call would pass) on 429s.
    pub retry_after: bool,
    /// Error body format: (A) `{"requestId","errors":[{"code","message"}]}` or (B)
    /// `{"status","message","detailedMessage","timestamp","validationErrors"}`.
    pub error_format: ErrorFormat,
    /// Status of a delegation created by a tech-partner assignment.
    pub new_delegation_status: NewDelegationStatus,
    /// `PUT`/`DELETE /tenants/delegations/{id}` answer 202 + `requestId` and take effect
    /// when the activity succeeds (true), or act at once and answer 200 + the delegation.
    pub delegation_writes_async: bool,
}

impl Default for RuckusSwitches {
    fn default() -> Self {
        RuckusSwitches {
            token_lifetime_secs: 3600,
            token_expires_in: true,
            token_format: TokenFormat::Jwt,
            token_bad_request_status: 400,
            token_bad_secret_status: 401,
            activity_pending_polls: 2,
            activity_pending_statuses: vec!["PENDING".into(), "INPROGRESS".into()],
            activity_settle_ms: 2000,
            activity_min_ms: 50,
            fail_next_activities: 0,
            unknown_activity_status: 404,
            create_required_fields: vec![
                "name".into(),
                "service_effective_date".into(),
                "service_expiration_date".into(),
                "admin_email".into(),
            ],
            duplicate_names: DuplicateNames::Reject,
            update_semantics: UpdateSemantics::Replace,
            delete_status: 200,
            invitations_get: true,
            techpartners_query: true,
            admins_read: AdminsRead::Array,
            admins_list_invited: true,
            query_total_key: TotalKey::TotalCount,
            query_page_base: 0,
            query_default_page_size: 10,
            query_max_page_size: 10_000,
            query_rows_detailed: true,
            numbers_in_string_fields: false,
            is_active_as_string: false,
            undelegated_tenant_status: 403,
            rate_bucket_max: 200,
            rate_refill_per_sec: 100,
            rate_limit_scope: RateLimitScope::Caller,
            retry_after: false,
            error_format: ErrorFormat::A,
            new_delegation_status: NewDelegationStatus::Accepted,
            delegation_writes_async: true,
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TokenFormat {
    Jwt,
    Opaque,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateNames {
    /// 400 at once (existing ECs and ECs still being created count).
    Reject,
    /// Accepted; two ECs share the name.
    Allow,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UpdateSemantics {
    Replace,
    Merge,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AdminsRead {
    /// A bare JSON array of administrators.
    Array,
    /// `{"data": [administrators], "totalCount": n}`.
    Data,
    /// Not served: 404.
    Absent,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum TotalKey {
    #[serde(rename = "totalCount")]
    TotalCount,
    #[serde(rename = "total")]
    Total,
    /// Both keys.
    #[serde(rename = "both")]
    Both,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitScope {
    /// The tenant the token belongs to (the MSP), whatever `x-rks-tenantid` says.
    Caller,
    /// The tenant the call executes in (`x-rks-tenantid` when given).
    Acting,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum ErrorFormat {
    #[serde(rename = "a", alias = "A")]
    A,
    #[serde(rename = "b", alias = "B")]
    B,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NewDelegationStatus {
    Accepted,
    Invited,
}
