//! Generated MSP accounts for scale benchmarks (`benches/scale`): an inventory of
//! any size with nothing onboarded yet, and the names and ids it uses, so that a
//! generated desired-state configuration can match it. Data only: no HTTP.
//!
//! Everything is deterministic in its index: the same index gives the same serial,
//! MAC, partner id or Microsoft tenant in the inventory and in the configuration.

use std::collections::BTreeMap;

use super::Inventory;
use super::audiocodes::inventory::InventoryMsTenant;
use super::extreme::{ExtremeInventoryPartner, ExtremeInventoryTenant};
use super::inventory::{InventoryDevice, LicensePool};
use super::ruckus::{EcInventory, TechPartnerInventory};

/// What [`Inventory::generated`] puts in each vendor's account.
#[derive(Clone, Debug, Default)]
pub struct GeneratedAccount {
    /// Access points in Aruba's MSP inventory (`device_ap(0..aruba_aps)`).
    pub aruba_aps: usize,
    /// The licence service every AP may take, and how many tokens its pool holds.
    pub aruba_service: String,
    pub aruba_tokens: u32,
    /// ExtremeCloud partners (`extreme_partner(0..)`), each managing no tenant yet.
    pub extreme_partners: usize,
    /// RUCKUS One tech partners (`ruckus_partner(0..)`), integrators and installers in turn.
    pub ruckus_partners: usize,
    /// Microsoft tenants AudioCodes' msTenantId check knows (`ms_tenant(0..)`).
    pub audiocodes_ms_tenants: usize,
}

/// The serial of generated access point `i`.
pub fn ap_serial(i: usize) -> String {
    format!("BN{i:08}")
}

/// The MAC of generated access point `i` (a locally administered address).
pub fn ap_mac(i: usize) -> String {
    let b = (i as u32).to_be_bytes();
    format!("02:BE:{:02X}:{:02X}:{:02X}:{:02X}", b[0], b[1], b[2], b[3])
}

/// ExtremeCloud partner `p`: (custId, accountName).
pub fn extreme_partner(p: usize) -> (String, String) {
    (
        format!("MspPartner-tenantid-BenchPartner{p:04}"),
        format!("Bench Partner {p:04}"),
    )
}

/// RUCKUS One tech partner `p`: (id, name, type); even ones integrate, odd ones install.
pub fn ruckus_partner(p: usize) -> (String, String, &'static str) {
    let kind = if p.is_multiple_of(2) {
        "MSP_INTEGRATOR"
    } else {
        "MSP_INSTALLER"
    };
    (
        format!("be0c{p:028x}"),
        format!("Bench Tech Partner {p:04}"),
        kind,
    )
}

/// The Microsoft (Entra) tenant id of generated AudioCodes customer `i`.
pub fn ms_tenant(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012x}")
}

impl Inventory {
    /// The embedded account with nothing onboarded and nothing of its own examples:
    /// no Aruba devices or licences, no ExtremeCloud tenants, partners or
    /// entitlements, no RUCKUS One ECs or tech partners, no AudioCodes customers or
    /// Microsoft tenants; then what `spec` asks for. Switches, credentials, SBCs and
    /// scripts stay as in `examples/sim-inventory.toml`.
    pub fn generated(spec: &GeneratedAccount) -> Inventory {
        let mut inv = Inventory::embedded();
        let a = &mut inv.aruba;
        a.devices = (0..spec.aruba_aps)
            .map(|i| InventoryDevice {
                serial: ap_serial(i),
                mac: ap_mac(i),
                device_type: "IAP".into(),
                model: "AP-515".into(),
                part: "Q9H62A".into(),
            })
            .collect();
        a.licenses = BTreeMap::new();
        if !spec.aruba_service.is_empty() {
            a.licenses.insert(
                spec.aruba_service.clone(),
                LicensePool {
                    tokens: spec.aruba_tokens,
                    device_type: Some("IAP".into()),
                },
            );
        }
        let x = &mut inv.extreme;
        x.tenants = Vec::<ExtremeInventoryTenant>::new();
        x.entitlements = Vec::new();
        x.partners = (0..spec.extreme_partners)
            .map(|p| {
                let (cust_id, account_name) = extreme_partner(p);
                ExtremeInventoryPartner {
                    cust_id,
                    account_name,
                    country: "US".into(),
                    time_zone: "America/Chicago".into(),
                    contact_name: format!("Partner Desk {p:04}"),
                    contact_email: format!("desk@partner{p:04}.bench.example"),
                    contact_phone: "+1 312 555 0100".into(),
                    user_id: format!("admin@partner{p:04}.bench.example"),
                    tenants: Vec::new(),
                    entitlements: Vec::new(),
                }
            })
            .collect();
        let r = &mut inv.ruckus;
        r.ecs = Vec::<EcInventory>::new();
        r.tech_partners = (0..spec.ruckus_partners)
            .map(|p| {
                let (id, name, kind) = ruckus_partner(p);
                TechPartnerInventory {
                    id,
                    name,
                    partner_type: kind.into(),
                }
            })
            .collect();
        let ac = &mut inv.audiocodes;
        ac.customers = Vec::new();
        ac.ms_tenants = (0..spec.audiocodes_ms_tenants)
            .map(|i| InventoryMsTenant {
                id: ms_tenant(i),
                default_domain: Some(format!("bench{i:06}.onmicrosoft.com")),
            })
            .collect();
        inv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_account_is_a_valid_inventory_with_what_was_asked() {
        let spec = GeneratedAccount {
            aruba_aps: 1200,
            aruba_service: "FOUNDATION_AP".into(),
            aruba_tokens: 1300,
            extreme_partners: 3,
            ruckus_partners: 4,
            audiocodes_ms_tenants: 5,
        };
        let inv = Inventory::generated(&spec);
        // Serialized and read back, it passes the inventory's own validation
        // (unique serials, valid MACs and ids, known partner types, ...).
        let text = toml::to_string(&inv).expect("serializes");
        let back = Inventory::from_toml_str(&text).expect("a valid inventory");
        assert_eq!(back.aruba.devices.len(), 1200);
        assert_eq!(back.aruba.devices[1199].serial, ap_serial(1199));
        assert_eq!(back.aruba.devices[1199].mac, ap_mac(1199));
        assert_eq!(back.aruba.licenses["FOUNDATION_AP"].tokens, 1300);
        assert_eq!(back.aruba.licenses.len(), 1);
        assert_eq!(back.extreme.partners.len(), 3);
        assert!(back.extreme.tenants.is_empty());
        assert_eq!(back.extreme.partners[2].cust_id, extreme_partner(2).0);
        assert_eq!(back.ruckus.tech_partners.len(), 4);
        assert_eq!(back.ruckus.tech_partners[3].partner_type, "MSP_INSTALLER");
        assert!(back.ruckus.ecs.is_empty());
        assert!(back.audiocodes.customers.is_empty());
        assert_eq!(back.audiocodes.ms_tenants[4].id, ms_tenant(4));
    }

    #[test]
    fn generated_serials_macs_and_ids_are_distinct() {
        let serials: std::collections::BTreeSet<String> = (0..20_000).map(ap_serial).collect();
        assert_eq!(serials.len(), 20_000);
        let macs: std::collections::BTreeSet<String> = (0..20_000).map(ap_mac).collect();
        assert_eq!(macs.len(), 20_000);
        assert_ne!(ruckus_partner(1).0, ruckus_partner(16).0);
        assert_eq!(ruckus_partner(9999).0.len(), 32);
    }
}
