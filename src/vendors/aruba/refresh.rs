//! Reads Aruba's live state into a [`LiveSnapshot`] with as few calls as the API
//! allows: one paged customer list, one paged MSP inventory (devices with their
//! licences), then sites and auto-licence settings of the managed customers only.
//!
//! The MSP's own customer id (where devices go back to) is not an API of its own.
//! It is the `msp_id` of any customer record; on an account with no customers yet,
//! it is the one `customer_id` the device list shows that is no listed customer's
//! (the customer list is read to its end first, so a device in a real customer always
//! names a listed one). A device is in the MSP inventory when its `customer_id` is
//! null, empty or that id — the fact sheet does not say which of the three a real
//! account sends, so all are read the same. When the list names two or more unknown
//! ids no guess is made: those devices keep their id and show as in an unknown
//! customer, and the apply learns the MSP id from the first customer record it reads
//! (see `run`). Moving a device *in* never needs the MSP id.

use std::collections::{BTreeMap, BTreeSet};

use super::live::{LiveCustomer, LiveDevice, LiveSite, LiveSnapshot};
use super::{Client, wire};
use crate::vendor::VendorClient;
use crate::vendor::http::ProviderError;

/// Upper-case colon form, whatever separators the vendor used.
pub fn normalise_mac(mac: &str) -> String {
    let hex: String = mac.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    if hex.len() != 12 {
        return mac.to_ascii_uppercase();
    }
    hex.to_ascii_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

fn customer(c: wire::Customer) -> Option<LiveCustomer> {
    let details = c.platform_customer_details.unwrap_or_default();
    let addr = details.address.unwrap_or_default();
    Some(LiveCustomer {
        id: c.customer_id?,
        name: c.customer_name.unwrap_or_default(),
        country: addr
            .country_code
            .or(details.defaulted_country_code)
            .unwrap_or_default()
            .to_ascii_uppercase(),
        street: addr.street_address.unwrap_or_default(),
        city: addr.city.unwrap_or_default(),
        state: addr.state_or_region.unwrap_or_default(),
        zip: addr.zip.unwrap_or_default(),
        group: c.group.and_then(|g| g.name),
        description: c.description.unwrap_or_default(),
        lock_msp_ssids: c.lock_msp_ssids.unwrap_or(false),
        auto_license: None,
    })
}

pub(crate) fn site(customer_id: &str, s: wire::Site) -> Option<LiveSite> {
    Some(LiveSite {
        id: s.site_id?,
        customer_id: customer_id.to_string(),
        name: s.site_name.unwrap_or_default(),
        street: s.address.unwrap_or_default(),
        city: s.city.unwrap_or_default(),
        state: s.state.unwrap_or_default(),
        country: s.country.unwrap_or_default(),
        zip: s.zipcode.unwrap_or_default(),
        latitude: s.latitude,
        longitude: s.longitude,
        associated_device_count: s.associated_device_count,
    })
}

/// A device whose `customer_id` is this sits in the MSP inventory.
fn in_msp_inventory(customer_id: &str, msp_id: &Option<String>) -> bool {
    customer_id.is_empty() || msp_id.as_deref() == Some(customer_id)
}

/// The MSP's own customer id: the `msp_id` of any customer record, else the single
/// `customer_id` on devices that no listed customer has (see the module header).
pub(crate) fn msp_id_of(
    provider: &str,
    customers: &[wire::Customer],
    devices: &[wire::Device],
) -> Option<String> {
    if let Some(id) = customers
        .iter()
        .filter_map(|c| c.msp_id.as_deref())
        .find(|id| !id.is_empty())
    {
        return Some(id.to_string());
    }
    let listed: BTreeSet<&str> = customers
        .iter()
        .filter_map(|c| c.customer_id.as_deref())
        .collect();
    let unknown: BTreeSet<&str> = devices
        .iter()
        .filter_map(|d| d.customer_id.as_deref())
        .filter(|id| !id.is_empty() && !listed.contains(id))
        .collect();
    match unknown.len() {
        0 => None,
        1 => unknown.first().map(|id| id.to_string()),
        n => {
            tracing::warn!(provider = %provider, ids = n, "devices name several customer ids that no listed customer has; not guessing which one is the MSP's own");
            None
        }
    }
}

/// The devices of the inventory by serial, those in the MSP inventory with no customer.
fn devices(raw: Vec<wire::Device>, msp_id: &Option<String>) -> BTreeMap<String, LiveDevice> {
    raw.into_iter()
        .filter_map(|d| {
            let serial = d.serial?;
            let mut licenses = d.services;
            licenses.sort();
            licenses.dedup();
            let device = LiveDevice {
                serial: serial.clone(),
                mac: normalise_mac(&d.macaddr.unwrap_or_default()),
                customer_id: d.customer_id.filter(|id| !in_msp_inventory(id, msp_id)),
                device_type: d.device_type.unwrap_or_default(),
                licenses,
            };
            Some((serial, device))
        })
        .collect()
}

impl Client {
    /// One paged customer list, one paged MSP inventory (devices with their
    /// licences), then the sites and auto-licence settings of the customers
    /// `manage` picks, and only those. A failed read is an error, never "empty".
    pub async fn snapshot(
        &self,
        manage: impl Fn(&LiveCustomer) -> bool + Send,
    ) -> Result<LiveSnapshot, ProviderError> {
        let raw = self.list_customers().await?;
        let raw_devices = self.list_devices().await?;
        let msp_id = msp_id_of(self.key(), &raw, &raw_devices);
        let customers: Vec<LiveCustomer> = raw.into_iter().filter_map(customer).collect();
        let devices = devices(raw_devices, &msp_id);
        let managed: Vec<String> = customers
            .iter()
            .filter(|c| manage(c))
            .map(|c| c.id.clone())
            .collect();
        let mut snap = LiveSnapshot {
            msp_id,
            customers,
            devices,
            sites: BTreeMap::new(),
        };
        for id in managed {
            self.read_contents(&mut snap, &id).await?;
        }
        Ok(snap)
    }

    /// The sites and the auto-licence settings of one customer.
    async fn read_contents(&self, snap: &mut LiveSnapshot, id: &str) -> Result<(), ProviderError> {
        let sites = self
            .list_sites(id)
            .await?
            .into_iter()
            .filter_map(|s| site(id, s))
            .collect();
        snap.sites.insert(id.to_string(), sites);
        let auto = self.autolicense(id).await?;
        if auto.is_none() {
            tracing::warn!(provider = %self.key(), customer = %id, "could not read the auto-licence settings; using what state recorded");
        }
        if let Some(c) = snap.customers.iter_mut().find(|c| c.id == id) {
            c.auto_license = auto;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{in_msp_inventory, msp_id_of, normalise_mac, wire};

    fn customer(id: &str, msp: Option<&str>) -> wire::Customer {
        serde_json::from_value(serde_json::json!({"customer_id": id, "msp_id": msp})).unwrap()
    }

    fn device(serial: &str, customer_id: Option<&str>) -> wire::Device {
        serde_json::from_value(serde_json::json!({"serial": serial, "customer_id": customer_id}))
            .unwrap()
    }

    #[test]
    fn the_msp_id_comes_from_customer_records_first() {
        let customers = [customer("c1", None), customer("c2", Some("msp"))];
        let devices = [device("A", Some("c1")), device("B", Some("other"))];
        assert_eq!(
            msp_id_of("aruba", &customers, &devices).as_deref(),
            Some("msp")
        );
    }

    #[test]
    fn on_an_account_without_customers_the_inventory_names_the_msp_id() {
        let devices = [
            device("A", Some("msp")),
            device("B", Some("msp")),
            device("C", None),
        ];
        assert_eq!(msp_id_of("aruba", &[], &devices).as_deref(), Some("msp"));
        // Customers that carry no msp_id: the id no listed customer has.
        let customers = [customer("c1", None)];
        let devices = [device("A", Some("c1")), device("B", Some("msp"))];
        assert_eq!(
            msp_id_of("aruba", &customers, &devices).as_deref(),
            Some("msp")
        );
    }

    #[test]
    fn null_empty_or_ambiguous_ids_teach_nothing() {
        let devices = [device("A", None), device("B", Some(""))];
        assert_eq!(msp_id_of("aruba", &[], &devices), None);
        let devices = [device("A", Some("x")), device("B", Some("y"))];
        assert_eq!(msp_id_of("aruba", &[], &devices), None, "no guessing");
        assert!(in_msp_inventory("", &None));
        assert!(in_msp_inventory("msp", &Some("msp".into())));
        assert!(!in_msp_inventory("x", &Some("msp".into())));
        assert!(!in_msp_inventory("x", &None));
    }

    #[test]
    fn macs_are_normalised() {
        assert_eq!(normalise_mac("20:4c:03:00:00:01"), "20:4C:03:00:00:01");
        assert_eq!(normalise_mac("204c.0300.0001"), "20:4C:03:00:00:01");
        assert_eq!(normalise_mac("20-4C-03-00-00-01"), "20:4C:03:00:00:01");
    }
}
