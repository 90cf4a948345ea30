//! ExtremeCloud behaviour switches: one named field for every behaviour the fact sheet
//! (§2) marks `[assumed]` or leaves silent, with the defaults the simulator starts with.
//! Data and their validation only.

use serde::{Deserialize, Serialize};

/// Every ExtremeCloud behaviour the fact sheet only assumes, as a switch. Set them in the
/// inventory's `[extreme.switches]`, with `POST /_sim/extreme/switches` or
/// [`crate::sim::Simulator::extreme_switches`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ExtremeSwitches {
    /// Path prefix of the MSP resources (`/v1/msptenants`, …): `/v1` per the docs, or e.g.
    /// `/management/v1` like the token endpoint; `""` serves them at the root. Route keys
    /// for faults and call counts always use the canonical `/v1/…` form.
    pub msp_prefix: String,
    /// Lifetime of issued access tokens (`expires_in`; documented 7200).
    pub token_lifetime_secs: u64,
    /// `idle_timeout` reported with a token (documented 3600) …
    pub idle_timeout_secs: u64,
    /// … and whether a token unused that long is rejected before it expires.
    pub idle_timeout_enforced: bool,
    /// `{"grantType":"refresh_token","refreshToken":…}` works (false → 400 unsupported grant).
    pub refresh_supported: bool,
    /// A refresh token works once.
    pub refresh_token_single_use: bool,
    /// A refresh kills the access token issued with the refresh token used.
    pub refresh_revokes_access: bool,
    /// Lifetime of refresh tokens.
    pub refresh_token_lifetime_secs: u64,
    /// POST/PUT without `Content-Type: application/json` → 415.
    pub require_json_content_type: bool,
    /// Status for a write by a read-only administrator.
    pub read_only_write_status: u16,
    /// Status for a body that breaks the field rules.
    pub validation_status: u16,
    /// Status for an unknown tenant/partner id in a path.
    pub unknown_id_status: u16,
    /// Shape of every error body.
    pub error_body: ErrorBody,
    /// Status of a successful tenant/partner create: 201 or 200.
    pub create_status: u16,
    /// Body of a successful create: the created document, or nothing.
    pub create_body: CreateBody,
    /// Shape of `GET …/msptenants/nametoidmap`.
    pub nametoidmap_shape: NameToIdShape,
    /// A second tenant (or partner) with an existing `accountName`: rejected or allowed.
    pub duplicate_names: DuplicateNames,
    /// `userId` is echoed in tenant/partner documents (the seed sample shows null).
    pub echo_user_id: bool,
    /// Serve `GET/PUT/DELETE …/msptenants/{custId}` (undocumented; 404 when off).
    pub tenant_item_routes: bool,
    /// A partner PUT naming a tenant another partner holds.
    pub tenant_move: TenantMove,
    /// Status for `tenant_move = "reject"`.
    pub tenant_move_status: u16,
    /// Status for a partner PUT naming a tenant that is not the MSP's.
    pub foreign_tenant_status: u16,
    /// Status for entitlements the MSP does not own (or another partner holds).
    pub foreign_entitlement_status: u16,
    /// An entitlement can be on one partner only.
    pub entitlement_exclusive: bool,
    /// What the `{id}` of `PUT …/msppartners/{id}` names.
    pub partner_put_path: PartnerPutPath,
    /// `custId` in the PUT echo: the partner's stored id, or the MSP's id (as the seed sample).
    pub put_echo_cust_id: PutEchoCustId,
    /// A partner PUT without `tenants` or `entitlements` (or with null): the PUT replaces
    /// the whole document, so they become empty, or the PUT is refused.
    pub partner_put_missing_lists: MissingLists,
    /// Calls per clock hour (a fixed window on the simulator clock; the token endpoint
    /// is not counted), then 429; 0 turns the limit off. The fact sheet documents no
    /// limit (§2.1); ExtremeCloud is said to allow about 7,500 an hour.
    pub limit_per_hour: u32,
}

impl Default for ExtremeSwitches {
    fn default() -> Self {
        ExtremeSwitches {
            msp_prefix: "/v1".into(),
            token_lifetime_secs: 7200,
            idle_timeout_secs: 3600,
            idle_timeout_enforced: true,
            refresh_supported: true,
            refresh_token_single_use: true,
            refresh_revokes_access: false,
            refresh_token_lifetime_secs: 86_400,
            require_json_content_type: true,
            read_only_write_status: 403,
            validation_status: 400,
            unknown_id_status: 404,
            error_body: ErrorBody::Errors,
            create_status: 201,
            create_body: CreateBody::Doc,
            nametoidmap_shape: NameToIdShape::Object,
            duplicate_names: DuplicateNames::Reject,
            echo_user_id: false,
            tenant_item_routes: false,
            tenant_move: TenantMove::Detach,
            tenant_move_status: 409,
            foreign_tenant_status: 400,
            foreign_entitlement_status: 400,
            entitlement_exclusive: true,
            partner_put_path: PartnerPutPath::Partner,
            put_echo_cust_id: PutEchoCustId::Stored,
            partner_put_missing_lists: MissingLists::Empty,
            limit_per_hour: 0,
        }
    }
}

impl ExtremeSwitches {
    /// Reject values the simulator cannot serve.
    pub fn validate(&self) -> Result<(), String> {
        let p = &self.msp_prefix;
        if !(p.is_empty() || p.starts_with('/'))
            || p.ends_with('/')
            || p.contains(['{', '}', '*', '?', '#', ' '])
        {
            return Err(format!(
                "msp_prefix {p:?} must be empty or start with '/', not end with '/', \
                 and hold no '{{', '}}', '*', '?', '#' or space"
            ));
        }
        for (name, status) in [
            ("read_only_write_status", self.read_only_write_status),
            ("validation_status", self.validation_status),
            ("unknown_id_status", self.unknown_id_status),
            ("create_status", self.create_status),
            ("tenant_move_status", self.tenant_move_status),
            ("foreign_tenant_status", self.foreign_tenant_status),
            (
                "foreign_entitlement_status",
                self.foreign_entitlement_status,
            ),
        ] {
            if !(100..=599).contains(&status) {
                return Err(format!("{name} {status} is not an HTTP status"));
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorBody {
    /// `{"errors":[{"errorMessage","resource","propertyName"}]}` (ExtremeCloud Appliance style).
    Errors,
    /// `{"status":400,"error":"Bad Request","message":"…"}` (Spring Boot style).
    Spring,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CreateBody {
    /// The created document, `custId` included.
    Doc,
    /// No body at all (find the id with `nametoidmap`).
    Empty,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NameToIdShape {
    /// `{"<accountName>": "<custId>", …}`
    Object,
    /// `[{"accountName": …, "custId": …}, …]`
    List,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateNames {
    /// 400 (`validation_status`).
    Reject,
    Allow,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TenantMove {
    /// A tenant belongs to at most one partner: naming it on B detaches it from A.
    Detach,
    /// `tenant_move_status` until it has been removed from A; nothing changes.
    Reject,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PartnerPutPath {
    /// `{id}` is the partner's `custId` (the body's `custId` is ignored).
    Partner,
    /// `{id}` is the MSP's own id; the body's `custId` names the partner.
    Msp,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PutEchoCustId {
    Stored,
    Msp,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MissingLists {
    /// A missing list is an empty one (the partner loses its tenants or entitlements).
    Empty,
    /// `validation_status`, naming the list; nothing changes.
    Reject,
}
