//! Reads Aruba's live state into a [`LiveSnapshot`] with as few calls as the API
//! allows: one paged customer list, one paged MSP inventory (devices with their
//! licences), then sites and auto-licence settings of the managed customers only.

use std::collections::{BTreeMap, BTreeSet};

use super::Aruba;
use super::wire;
use crate::live::{LiveCustomer, LiveDevice, LiveSite, LiveSnapshot};
use crate::model::Desired;
use crate::providers::http::ProviderError;
use crate::state::OwnedRecord;

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

impl Aruba {
    /// Reads everything the plan needs. A failed read is an error, never "empty".
    pub async fn snapshot(
        &self,
        desired: &Desired,
        owned: &BTreeMap<String, OwnedRecord>,
    ) -> Result<LiveSnapshot, ProviderError> {
        let start = self.calls();
        let raw = self.list_customers().await?;
        let msp_id = raw
            .iter()
            .find_map(|c| c.msp_id.clone())
            .filter(|s| !s.is_empty());
        let customers: Vec<LiveCustomer> = raw.into_iter().filter_map(customer).collect();
        let devices: BTreeMap<String, LiveDevice> = self
            .list_devices()
            .await?
            .into_iter()
            .filter_map(|d| {
                let serial = d.serial?;
                let mut licenses = d.services;
                licenses.sort();
                licenses.dedup();
                let device = LiveDevice {
                    serial: serial.clone(),
                    mac: normalise_mac(&d.macaddr.unwrap_or_default()),
                    customer_id: d
                        .customer_id
                        .filter(|id| !id.is_empty() && Some(id) != msp_id.as_ref()),
                    device_type: d.device_type.unwrap_or_default(),
                    licenses,
                };
                Some((serial, device))
            })
            .collect();

        // Customers whose contents we read: declared ones (by name) and owned ones (by id).
        let names: BTreeSet<&str> = desired
            .customers
            .values()
            .filter(|c| c.provider == self.key)
            .map(|c| c.name.as_str())
            .collect();
        let owned_ids: BTreeSet<&str> = owned
            .iter()
            .filter(|(a, r)| r.provider == self.key && a.starts_with("customer."))
            .filter_map(|(_, r)| r.vendor_id.as_deref())
            .collect();
        let mut snap = LiveSnapshot {
            provider: self.key.clone(),
            msp_id,
            customers,
            devices,
            sites: BTreeMap::new(),
            calls: 0,
        };
        let managed: Vec<String> = snap
            .customers
            .iter()
            .filter(|c| names.contains(c.name.as_str()) || owned_ids.contains(c.id.as_str()))
            .map(|c| c.id.clone())
            .collect();
        for id in managed {
            let sites = self
                .list_sites(&id)
                .await?
                .into_iter()
                .filter_map(|s| site(&id, s))
                .collect();
            snap.sites.insert(id.clone(), sites);
            let auto = self.autolicense(&id).await?;
            if auto.is_none() {
                tracing::warn!(provider = %self.key, customer = %id, "could not read the auto-licence settings; using what state recorded");
            }
            if let Some(c) = snap.customers.iter_mut().find(|c| c.id == id) {
                c.auto_license = auto;
            }
        }
        snap.calls = self.calls() - start;
        Ok(snap)
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_mac;

    #[test]
    fn macs_are_normalised() {
        assert_eq!(normalise_mac("20:4c:03:00:00:01"), "20:4C:03:00:00:01");
        assert_eq!(normalise_mac("204c.0300.0001"), "20:4C:03:00:00:01");
        assert_eq!(normalise_mac("20-4C-03-00-00-01"), "20:4C:03:00:00:01");
    }
}
