//! Reads Aruba's live state into a [`LiveSnapshot`] with as few calls as the API
//! allows: one paged customer list, one paged MSP inventory (devices with their
//! licences), then what the caller asks of each managed customer (its sites, its
//! auto-licence setting: see `vendor`). A targeted refresh ([`Narrow`]) reads
//! the wanted customers by exact name and only their devices when that is
//! fewer calls.
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

use futures::StreamExt;

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

/// What a refresh reads of one live customer beyond the MSP-wide lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Contents {
    /// Its site list (one paged read with its `TenantID`).
    pub sites: bool,
    /// Its auto-licence setting (one read).
    pub auto_license: bool,
}

/// A targeted refresh (`--target`, a saved plan's inputs): only these customers
/// and devices are wanted.
#[derive(Debug, Default)]
pub struct Narrow<'a> {
    /// Exact names of the wanted customers the files declare.
    pub names: BTreeSet<&'a str>,
    /// Recorded ids of the wanted customers state owns.
    pub ids: BTreeSet<&'a str>,
    /// Wanted owned customers whose name is not known (no longer declared).
    pub nameless: bool,
    /// Serials of the wanted devices (declared or owned).
    pub serials: BTreeSet<&'a str>,
    /// How many customers the account has at least (declared or owned), to
    /// choose between name lookups and the paged list.
    pub known_customers: usize,
    /// How many devices the account has at least (declared), to choose between
    /// one device list per wanted customer and the paged MSP inventory.
    pub known_devices: usize,
}

impl Narrow<'_> {
    /// One name-filtered list call per wanted customer costs no more than the
    /// paged list of every customer (pages of 100).
    fn by_name(&self) -> bool {
        !self.nameless && self.names.len() <= self.known_customers.div_ceil(CUSTOMER_PAGE).max(1)
    }
}

/// Per-customer reads of one refresh in flight at once.
const READS_IN_FLIGHT: usize = 8;

/// The customer list's and the MSP inventory's page sizes (vendor-apis.md §1.5, §1.6).
const CUSTOMER_PAGE: usize = 100;
const DEVICE_PAGE: usize = 1000;

impl Client {
    /// Reads live state: the customers (the paged list, or with `narrow` and few
    /// wanted customers one exact-name lookup each), the devices (the paged MSP
    /// inventory, or with `narrow` only the wanted customers' devices and the
    /// available ones when a wanted device was not among them), then for each live
    /// customer what `contents` asks (its sites, its auto-licence setting), and
    /// nothing else. A failed read is an error, never "empty".
    pub async fn snapshot(
        &self,
        narrow: Option<&Narrow<'_>>,
        contents: impl Fn(&LiveCustomer) -> Contents + Send,
    ) -> Result<LiveSnapshot, ProviderError> {
        let (raw, raw_devices, msp_id) = match narrow {
            None => {
                let raw = self.list_customers().await?;
                let raw_devices = self.list_devices().await?;
                let msp_id = msp_id_of(self.key(), &raw, &raw_devices);
                (raw, raw_devices, msp_id)
            }
            Some(narrow) => self.narrow_lists(narrow).await?,
        };
        let customers: Vec<LiveCustomer> = raw.into_iter().filter_map(customer).collect();
        let devices = devices(raw_devices, &msp_id);
        let reads: Vec<(String, Contents)> = customers
            .iter()
            .map(|c| (c.id.clone(), contents(c)))
            .filter(|(_, r)| r.sites || r.auto_license)
            .collect();
        let mut snap = LiveSnapshot {
            msp_id,
            customers,
            devices,
            sites: BTreeMap::new(),
            auto_read: BTreeSet::new(),
        };
        // Per-customer reads overlap (the transport's limiter paces them), so
        // vendor latency does not add up customer after customer.
        let mut results = futures::stream::iter(reads)
            .map(|(id, reads)| async move {
                let read = self.read_contents(&id, reads).await;
                (id, read)
            })
            .buffer_unordered(READS_IN_FLIGHT);
        while let Some((id, read)) = results.next().await {
            let (sites, auto) = read?;
            if let Some(sites) = sites {
                snap.sites.insert(id.clone(), sites);
            }
            if let Some(auto) = auto {
                snap.auto_read.insert(id.clone());
                if let Some(c) = snap.customers.iter_mut().find(|c| c.id == id) {
                    c.auto_license = auto;
                }
            }
        }
        Ok(snap)
    }

    /// The customer and device lists of a targeted refresh. The MSP's own id is
    /// taken from customer records, or from the available devices' list (every
    /// device there is the MSP's); never guessed from a partial customer list.
    async fn narrow_lists(
        &self,
        narrow: &Narrow<'_>,
    ) -> Result<(Vec<wire::Customer>, Vec<wire::Device>, Option<String>), ProviderError> {
        let mut raw: Vec<wire::Customer> = Vec::new();
        let mut complete = !narrow.by_name();
        if !complete {
            for name in &narrow.names {
                for c in self.customers_named(name).await? {
                    if !raw.iter().any(|r| r.customer_id == c.customer_id) {
                        raw.push(c);
                    }
                }
            }
            // A recorded customer renamed by hand is not found by its name.
            let found = |id: &&str| raw.iter().any(|c| c.customer_id.as_deref() == Some(*id));
            if !narrow.ids.iter().all(found) {
                complete = true;
            }
        }
        if complete {
            raw = self.list_customers().await?;
        }
        let wanted: Vec<(String, String)> = raw
            .iter()
            .filter(|c| {
                c.customer_name
                    .as_deref()
                    .is_some_and(|n| narrow.names.contains(n))
                    || c.customer_id
                        .as_deref()
                        .is_some_and(|id| narrow.ids.contains(id))
            })
            .filter_map(|c| Some((c.customer_id.clone()?, c.customer_name.clone()?)))
            .collect();
        let mut msp_id = raw
            .iter()
            .filter_map(|c| c.msp_id.as_deref())
            .find(|id| !id.is_empty())
            .map(str::to_string);
        let mut devices: Vec<wire::Device> = Vec::new();
        if wanted.len() > narrow.known_devices.div_ceil(DEVICE_PAGE).max(1) {
            // Fewer calls to read the whole inventory than each customer's devices.
            let all = self.list_devices().await?;
            if complete && msp_id.is_none() {
                msp_id = msp_id_of(self.key(), &raw, &all);
            }
            return Ok((raw, all, msp_id));
        }
        for (id, name) in &wanted {
            let listed = self.devices_of_customer(name).await?;
            // The filter's matching rule is not documented: keep what is really in it.
            devices.extend(
                listed
                    .into_iter()
                    .filter(|d| d.customer_id.as_deref() == Some(id.as_str())),
            );
        }
        let missing = |devices: &[wire::Device]| {
            narrow
                .serials
                .iter()
                .any(|s| !devices.iter().any(|d| d.serial.as_deref() == Some(*s)))
        };
        if missing(&devices) {
            let available = self.available_devices().await?;
            if msp_id.is_none() {
                let ids: BTreeSet<&str> = available
                    .iter()
                    .filter_map(|d| d.customer_id.as_deref())
                    .filter(|id| !id.is_empty())
                    .collect();
                if ids.len() == 1 {
                    msp_id = ids.first().map(|id| id.to_string());
                }
            }
            for mut d in available {
                if !devices.iter().any(|have| have.serial == d.serial) {
                    // Listed as available: it sits in the MSP inventory.
                    d.customer_id = None;
                    devices.push(d);
                }
            }
        }
        if missing(&devices) {
            // A wanted device in a customer that was not read: the whole inventory.
            for d in self.list_devices().await? {
                if !devices.iter().any(|have| have.serial == d.serial) {
                    devices.push(d);
                }
            }
        }
        if complete && msp_id.is_none() {
            msp_id = msp_id_of(self.key(), &raw, &devices);
        }
        Ok((raw, devices, msp_id))
    }

    /// The sites and/or the auto-licence setting of one customer (each `None`
    /// when not asked for; the setting `Some(None)` when it could not be read).
    async fn read_contents(
        &self,
        id: &str,
        reads: Contents,
    ) -> Result<(Option<Vec<LiveSite>>, Option<Option<Vec<String>>>), ProviderError> {
        let sites = match reads.sites {
            true => Some(
                self.list_sites(id)
                    .await?
                    .into_iter()
                    .filter_map(|s| site(id, s))
                    .collect(),
            ),
            false => None,
        };
        let auto = match reads.auto_license {
            true => {
                let auto = self.autolicense(id).await?;
                if auto.is_none() {
                    tracing::warn!(provider = %self.key(), customer = %id, "could not read the auto-licence settings; using what state recorded");
                }
                Some(auto)
            }
            false => None,
        };
        Ok((sites, auto))
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
