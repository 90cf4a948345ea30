//! The `[audiocodes]` table of the simulator inventory: the provider's Entra app, the
//! known SBCs and scripts, the M365 tenants "Microsoft" knows, lead configurations and
//! customers that exist before mspform runs. Parsing and validation only.

use std::collections::BTreeSet;

use anyhow::{bail, ensure};
use serde::{Deserialize, Serialize};

use super::switches::AudiocodesSwitches;

/// The AudioCodes Live Platform service-provider deployment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AudiocodesInventory {
    /// The provider's Entra tenant (GUID): the `{tenantId}` of the token URL.
    pub provider_tenant_id: String,
    /// The LiveCloud API application id: scope `api://<app_id>/.default`.
    pub app_id: String,
    /// The "LiveCloud-APIToken" app registration (GUID) and its secret.
    pub client_id: String,
    pub client_secret: String,
    /// Static bearer tokens that are always valid.
    pub tokens: Vec<String>,
    /// Channel ids a create may name in `channelId` (empty: any value).
    pub channels: Vec<String>,
    /// The known SBCs (OVOC device list).
    pub sbcs: Vec<InventorySbc>,
    /// SBC onboarding / cleanup script ids (SBC Template Scenarios).
    pub onboarding_scripts: Vec<InventoryScript>,
    pub cleanup_scripts: Vec<InventoryScript>,
    /// Microsoft 365 tenants that Microsoft knows (msTenantId validation).
    pub ms_tenants: Vec<InventoryMsTenant>,
    /// Configurations a create-from-lead (`POST /api/v3/customer`) may name.
    pub lead_configurations: Vec<LeadConfiguration>,
    /// Customers that exist from the start (not created by mspform).
    pub customers: Vec<InventoryCustomer>,
    pub switches: AudiocodesSwitches,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventorySbc {
    pub id: i64,
    pub name: String,
    /// `SipTrunk` | `Byoc` (reported as `sbcConfigurationType`).
    #[serde(default = "default_configuration_type")]
    pub configuration_type: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryScript {
    pub id: i64,
    #[serde(default)]
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryMsTenant {
    pub id: String,
    /// Reported as `MsDefaultDomain`.
    #[serde(default)]
    pub default_domain: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadConfiguration {
    /// e.g. `OcEssential_TENANT_TYPE`.
    pub name: String,
    pub ovoc_customer_type: String,
    pub sbc_id: i64,
    pub onboarding_script: i64,
    pub cleanup_script: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryCustomer {
    pub id: String,
    pub short_name: String,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub ms_tenant_id: Option<String>,
    #[serde(default = "default_ovoc_type")]
    pub ovoc_customer_type: String,
    #[serde(default)]
    pub channel_id: Option<String>,
    #[serde(default)]
    pub license_type: i64,
    #[serde(default)]
    pub licensed_users_count: u32,
    #[serde(default)]
    pub active_user_count: u32,
    #[serde(default)]
    pub sites: Vec<InventorySite>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventorySite {
    pub id: String,
    pub name: String,
    pub sbc_id: i64,
    pub onboarding_script: i64,
    pub cleanup_script: i64,
}

fn default_configuration_type() -> String {
    "SipTrunk".into()
}

fn default_ovoc_type() -> String {
    "IPGROUP_TYPE".into()
}

impl Default for AudiocodesInventory {
    fn default() -> Self {
        AudiocodesInventory {
            provider_tenant_id: "8d2f5c1e-3b7a-4c9e-a1f0-6e4b2d7c9a53".into(),
            app_id: "c7e1a4b2-9f3d-4e8a-b6c5-2d1f0e9a8b74".into(),
            client_id: "5a9e2c7f-1b4d-4f6a-8e3c-9d0b7a6f5e12".into(),
            client_secret: "sim-ac-secret".into(),
            tokens: vec!["sim-token".into()],
            channels: Vec::new(),
            sbcs: vec![InventorySbc {
                id: 5,
                name: "sbc-sim-1".into(),
                configuration_type: default_configuration_type(),
            }],
            onboarding_scripts: vec![InventoryScript {
                id: 10007,
                name: "Onboarding".into(),
            }],
            cleanup_scripts: vec![InventoryScript {
                id: 10700,
                name: "Cleanup".into(),
            }],
            ms_tenants: vec![InventoryMsTenant {
                id: "4bf50a33-a383-4d3f-9403-220c898bc1b2".into(),
                default_domain: None,
            }],
            lead_configurations: Vec::new(),
            customers: Vec::new(),
            switches: AudiocodesSwitches::default(),
        }
    }
}

pub(crate) const OVOC_TYPES: [&str; 2] = ["IPGROUP_TYPE", "TENANT_TYPE"];

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex, any case)?
pub(crate) fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

impl AudiocodesInventory {
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        for (what, v) in [
            ("provider_tenant_id", &self.provider_tenant_id),
            ("client_id", &self.client_id),
            ("app_id", &self.app_id),
        ] {
            ensure!(is_guid(v), "audiocodes.{what} must be a GUID, got {v:?}");
        }
        ensure!(
            !self.client_secret.is_empty(),
            "audiocodes.client_secret must not be empty"
        );
        let mut sbc_ids = BTreeSet::new();
        for s in &self.sbcs {
            ensure!(
                sbc_ids.insert(s.id),
                "audiocodes.sbcs: id {} listed twice",
                s.id
            );
        }
        let onboarding: BTreeSet<i64> = self.onboarding_scripts.iter().map(|s| s.id).collect();
        let cleanup: BTreeSet<i64> = self.cleanup_scripts.iter().map(|s| s.id).collect();
        for t in &self.ms_tenants {
            ensure!(
                is_guid(&t.id),
                "audiocodes.ms_tenants: {:?} is not a GUID",
                t.id
            );
        }
        let check_site = |what: &str, sbc: i64, on: i64, off: i64| -> anyhow::Result<()> {
            ensure!(sbc_ids.contains(&sbc), "{what}: unknown sbc_id {sbc}");
            ensure!(
                onboarding.contains(&on),
                "{what}: unknown onboarding_script {on}"
            );
            ensure!(
                cleanup.contains(&off),
                "{what}: unknown cleanup_script {off}"
            );
            Ok(())
        };
        for c in &self.lead_configurations {
            ensure!(
                OVOC_TYPES.contains(&c.ovoc_customer_type.as_str()),
                "audiocodes.lead_configurations.{}: ovoc_customer_type must be IPGROUP_TYPE or TENANT_TYPE",
                c.name
            );
            check_site(
                &format!("audiocodes.lead_configurations.{}", c.name),
                c.sbc_id,
                c.onboarding_script,
                c.cleanup_script,
            )?;
        }
        let mut ids = BTreeSet::new();
        for c in &self.customers {
            ensure!(
                is_guid(&c.id) && ids.insert(c.id.to_lowercase()),
                "audiocodes.customers: id {:?} is not a GUID or is listed twice",
                c.id
            );
            if let Some(t) = &c.ms_tenant_id {
                ensure!(
                    is_guid(t),
                    "audiocodes.customers.{}: ms_tenant_id is not a GUID",
                    c.short_name
                );
            }
            if !OVOC_TYPES.contains(&c.ovoc_customer_type.as_str()) {
                bail!(
                    "audiocodes.customers.{}: ovoc_customer_type must be IPGROUP_TYPE or TENANT_TYPE",
                    c.short_name
                );
            }
            for s in &c.sites {
                ensure!(
                    is_guid(&s.id) && ids.insert(s.id.to_lowercase()),
                    "audiocodes.customers.{}: site id {:?} is not a GUID or is used twice",
                    c.short_name,
                    s.id
                );
                check_site(
                    &format!("audiocodes.customers.{}.sites.{}", c.short_name, s.name),
                    s.sbc_id,
                    s.onboarding_script,
                    s.cleanup_script,
                )?;
            }
        }
        Ok(())
    }
}
