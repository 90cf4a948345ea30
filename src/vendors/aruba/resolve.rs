//! Pure: maps Aruba's live snapshot onto stable addresses, given the desired
//! state and the ownership records, and builds the desired records to diff.
//! No I/O. Associations cannot be read from Aruba (only a per-site count), so a
//! device's live site comes from state and is trusted only while the counts agree.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::diff::{Kind, Record};
use crate::live::{LiveDevice, LiveSnapshot};
use crate::model::{ArubaCustomer, Desired, SiteLocation};
use crate::state::OwnedRecord;

/// Live site value of a device whose association cannot be confirmed.
pub const UNVERIFIED: &str = "(unverified)";

pub use crate::providers::Resolved;

/// The licences a device should hold: the declared ones, plus any the customer's
/// auto-licence put there (the vendor assigns those only to device types they fit,
/// so they are tolerated rather than required).
pub fn wanted_licenses(declared: &[String], auto: &[String], live: &[String]) -> BTreeSet<String> {
    declared
        .iter()
        .chain(live.iter().filter(|l| auto.contains(l)))
        .cloned()
        .collect()
}

pub use crate::providers::customer_address;

pub fn site_address(customer: &str, site: &str) -> String {
    format!("site.{customer}/{site}")
}

pub fn device_address(serial: &str) -> String {
    format!("device.{serial}")
}

fn quoted(name: &str) -> String {
    format!("[{}]", Value::String(name.to_string()))
}

fn is_mine(record: &OwnedRecord, provider: &str, prefix: &str, address: &str) -> bool {
    record.provider == provider && address.starts_with(prefix)
}

pub fn resolve(
    provider: &str,
    desired: &Desired,
    snap: &LiveSnapshot,
    owned: &BTreeMap<String, OwnedRecord>,
) -> Resolved {
    let mut out = Resolved::default();
    let customers: BTreeMap<&str, (&crate::model::Customer, &ArubaCustomer)> = desired
        .customers
        .iter()
        .filter(|(_, c)| c.provider == provider)
        .filter_map(|(k, c)| Some((k.as_str(), (c, c.aruba()?))))
        .collect();

    // Customers: by owned vendor id first, then by exact name.
    let mut key_of_id: BTreeMap<String, String> = BTreeMap::new();
    for (address, record) in owned {
        if is_mine(record, provider, "customer.", address)
            && let Some(id) = &record.vendor_id
            && snap.customer_by_id(id).is_some()
        {
            let key = address.trim_start_matches("customer.").to_string();
            key_of_id.insert(id.clone(), key);
        }
    }
    for (key, want) in &customers {
        if key_of_id.values().any(|k| k == key) {
            continue;
        }
        let same_name: Vec<_> = snap
            .customers
            .iter()
            .filter(|c| c.name == want.0.name && !key_of_id.contains_key(&c.id))
            .collect();
        match same_name.as_slice() {
            [] => {}
            [one] => {
                key_of_id.insert(one.id.clone(), key.to_string());
            }
            many => out.errors.push(format!(
                "customer.{key}: {} live customers are named {:?} ({}); mspform will not guess which to adopt. Rename or delete the extras in the portal.",
                many.len(),
                want.0.name,
                many.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
    for c in &snap.customers {
        let (address, managed) = match key_of_id.get(&c.id) {
            Some(key) => (customer_address(key), true),
            None => (format!("customer{}", quoted(&c.name)), false),
        };
        if managed {
            out.managed_customers.insert(c.id.clone());
            out.ids.insert(address.clone(), c.id.clone());
        }
        let owned_auto = owned
            .get(&address)
            .and_then(|r| r.facts.get("auto_license"))
            .cloned();
        let auto = match &c.auto_license {
            Some(list) => json!(list),
            None => owned_auto.unwrap_or(json!([])),
        };
        let mut fields = BTreeMap::from([
            ("name".to_string(), json!(c.name)),
            ("country".to_string(), json!(c.country)),
            ("street".to_string(), json!(c.street)),
            ("city".to_string(), json!(c.city)),
            ("state".to_string(), json!(c.state)),
            ("zip".to_string(), json!(c.zip)),
            ("description".to_string(), json!(c.description)),
            ("lock_msp_ssids".to_string(), json!(c.lock_msp_ssids)),
            ("auto_license".to_string(), auto),
        ]);
        if let Some(g) = &c.group {
            fields.insert("group".into(), json!(g));
        }
        out.live.insert(
            address.clone(),
            Record {
                address,
                kind: Kind::Customer,
                provider: provider.to_string(),
                fields,
            },
        );
    }

    // Sites of managed customers: by owned site id, then by name.
    let mut site_key_of_id: BTreeMap<String, String> = BTreeMap::new();
    for (cid, sites) in &snap.sites {
        let Some(ckey) = key_of_id.get(cid) else {
            continue;
        };
        let wanted = customers.get(ckey.as_str()).map(|c| &c.1.sites);
        let mut taken: BTreeSet<String> = BTreeSet::new();
        for site in sites {
            let by_id = owned.iter().find(|(a, r)| {
                is_mine(r, provider, &format!("site.{ckey}/"), a)
                    && r.vendor_id.as_deref() == Some(site.id.as_str())
            });
            if let Some((address, _)) = by_id {
                taken.insert(address.clone());
                site_key_of_id.insert(site.id.clone(), address.clone());
            }
        }
        for site in sites {
            if site_key_of_id.contains_key(&site.id) {
                continue;
            }
            let by_name = wanted.and_then(|w| {
                w.values()
                    .find(|s| s.name == site.name && !taken.contains(&site_address(ckey, &s.key)))
            });
            let address = match by_name {
                Some(s) => site_address(ckey, &s.key),
                None => format!("site.{ckey}/{}", quoted(&site.name)),
            };
            taken.insert(address.clone());
            site_key_of_id.insert(site.id.clone(), address);
        }
        for site in sites {
            let address = site_key_of_id[&site.id].clone();
            out.ids.insert(address.clone(), site.id.clone());
            let geo = wanted
                .and_then(|w| w.values().find(|s| site_address(ckey, &s.key) == address))
                .map(|s| matches!(s.location, SiteLocation::Geolocation { .. }))
                .unwrap_or(false);
            let mut fields = BTreeMap::from([("name".to_string(), json!(site.name))]);
            if geo {
                fields.insert("latitude".into(), json!(site.latitude));
                fields.insert("longitude".into(), json!(site.longitude));
            } else {
                for (k, v) in [
                    ("street", &site.street),
                    ("city", &site.city),
                    ("state", &site.state),
                    ("country", &site.country),
                    ("zip", &site.zip),
                ] {
                    fields.insert(k.into(), json!(v));
                }
            }
            out.live.insert(
                address.clone(),
                Record {
                    address,
                    kind: Kind::Site,
                    provider: provider.to_string(),
                    fields,
                },
            );
        }
    }

    // Devices: every device in a managed customer, and every declared device.
    let site_of_device = device_sites(provider, desired, snap, owned, &key_of_id, &site_key_of_id);
    for (serial, dev) in &snap.devices {
        let address = device_address(serial);
        let declared = desired.devices.contains_key(serial);
        let Some(cid) = &dev.customer_id else {
            continue;
        };
        let managed = out.managed_customers.contains(cid);
        if !managed && !declared && !owned.contains_key(&address) {
            continue;
        }
        let customer = match key_of_id.get(cid) {
            Some(key) => json!(key),
            None => json!(format!(
                "(unmanaged) {}",
                snap.customer_by_id(cid)
                    .map(|c| c.name.as_str())
                    .unwrap_or(cid)
            )),
        };
        let site = site_of_device.get(serial).cloned().unwrap_or(Value::Null);
        out.live.insert(
            address.clone(),
            Record {
                address,
                kind: Kind::Device,
                provider: provider.to_string(),
                fields: BTreeMap::from([
                    ("customer".to_string(), customer),
                    ("mac".to_string(), json!(dev.mac)),
                    ("licenses".to_string(), json!(dev.licenses)),
                    ("site".to_string(), site),
                ]),
            },
        );
    }

    // Desired records.
    for (key, (c, a)) in &customers {
        let mut fields = BTreeMap::from([
            ("name".to_string(), json!(c.name)),
            ("country".to_string(), json!(a.country)),
            ("street".to_string(), json!(a.address.street)),
            ("city".to_string(), json!(a.address.city)),
            ("state".to_string(), json!(a.address.state)),
            ("zip".to_string(), json!(a.address.zip)),
            ("description".to_string(), json!(a.description)),
            ("lock_msp_ssids".to_string(), json!(a.lock_msp_ssids)),
            ("auto_license".to_string(), json!(a.auto_license)),
        ]);
        if let Some(g) = &a.group {
            fields.insert("group".into(), json!(g));
        }
        out.desired.push(Record {
            address: customer_address(key),
            kind: Kind::Customer,
            provider: provider.to_string(),
            fields,
        });
        for (skey, s) in &a.sites {
            let mut fields = BTreeMap::from([("name".to_string(), json!(s.name))]);
            match &s.location {
                SiteLocation::Address(a) => {
                    fields.insert("street".into(), json!(a.street));
                    fields.insert("city".into(), json!(a.city));
                    fields.insert("state".into(), json!(a.state));
                    fields.insert("country".into(), json!(a.country));
                    if let Some(zip) = &a.zip {
                        fields.insert("zip".into(), json!(zip));
                    }
                }
                SiteLocation::Geolocation {
                    latitude,
                    longitude,
                } => {
                    fields.insert("latitude".into(), json!(latitude));
                    fields.insert("longitude".into(), json!(longitude));
                }
            }
            out.desired.push(Record {
                address: site_address(key, skey),
                kind: Kind::Site,
                provider: provider.to_string(),
                fields,
            });
        }
    }
    for (serial, d) in &desired.devices {
        let Some(c) = customers.get(d.customer.as_str()) else {
            continue;
        };
        let address = device_address(serial);
        match snap.devices.get(serial) {
            None => out.errors.push(format!(
                "{address}: serial {serial} is not in the MSP inventory of provider {provider}; only devices already in the MSP inventory can be assigned (add it to the inventory first)"
            )),
            Some(live) if live.mac != d.mac => out.errors.push(format!(
                "{address}: the file says MAC {} but the MSP inventory has {} for this serial; fix the MAC in the file",
                d.mac, live.mac
            )),
            Some(_) => {}
        }
        let live_licenses = snap
            .devices
            .get(serial)
            .map(|l| l.licenses.as_slice())
            .unwrap_or(&[]);
        let licenses = wanted_licenses(&d.licenses, &c.1.auto_license, live_licenses);
        let mut fields = BTreeMap::from([
            ("customer".to_string(), json!(d.customer)),
            ("mac".to_string(), json!(d.mac)),
            ("licenses".to_string(), json!(licenses)),
            ("site".to_string(), json!(d.site)),
        ]);
        // Without a desired site, an association we cannot see is not ours to judge.
        if d.site.is_none()
            && let Some(live) = out.live.get_mut(&address)
            && live.fields.get("site") == Some(&json!(UNVERIFIED))
        {
            fields.remove("site");
        }
        out.desired.push(Record {
            address,
            kind: Kind::Device,
            provider: provider.to_string(),
            fields,
        });
    }
    out
}

/// The live `site` value of each device in a managed customer: the site state
/// says we associated it with, trusted while that site's live device count is
/// at least the number of devices state puts there; otherwise [`UNVERIFIED`].
/// Devices with no record are taken to be in their desired site when the site's
/// count leaves room for them (so a lost state directory does not cause churn).
fn device_sites(
    provider: &str,
    desired: &Desired,
    snap: &LiveSnapshot,
    owned: &BTreeMap<String, OwnedRecord>,
    key_of_id: &BTreeMap<String, String>,
    site_key_of_id: &BTreeMap<String, String>,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut count: BTreeMap<&str, u64> = BTreeMap::new();
    for sites in snap.sites.values() {
        for s in sites {
            if let Some(address) = site_key_of_id.get(&s.id) {
                count.insert(address.as_str(), s.associated_device_count.unwrap_or(0));
            }
        }
    }
    let in_managed = |d: &LiveDevice| {
        d.customer_id
            .as_ref()
            .and_then(|cid| key_of_id.get(cid))
            .cloned()
    };
    // Recorded associations, grouped by site.
    let mut recorded: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unrecorded: Vec<(&String, String)> = Vec::new();
    for (serial, dev) in &snap.devices {
        let Some(ckey) = in_managed(dev) else {
            continue;
        };
        let record = owned
            .get(&device_address(serial))
            .filter(|r| r.provider == provider && r.parent_id == dev.customer_id);
        match record
            .and_then(|r| r.facts.get("site"))
            .and_then(Value::as_str)
        {
            Some(site_key) => {
                let address = site_address(&ckey, site_key);
                if count.contains_key(address.as_str()) {
                    recorded.entry(address).or_default().push(serial.clone());
                } else {
                    out.insert(serial.clone(), Value::Null);
                }
            }
            None => {
                let wanted = desired
                    .devices
                    .get(serial)
                    .filter(|d| d.customer == ckey)
                    .and_then(|d| d.site.clone());
                match (record.is_some(), wanted) {
                    (false, Some(site_key)) => {
                        unrecorded.push((serial, site_address(&ckey, &site_key)))
                    }
                    _ => {
                        out.insert(serial.clone(), Value::Null);
                    }
                }
            }
        }
    }
    let mut room: BTreeMap<String, u64> = BTreeMap::new();
    for (address, serials) in &recorded {
        let live = count.get(address.as_str()).copied().unwrap_or(0);
        let trusted = live >= serials.len() as u64;
        let site_key = address.rsplit('/').next().unwrap_or_default().to_string();
        for serial in serials {
            let value = if trusted {
                json!(site_key)
            } else {
                json!(UNVERIFIED)
            };
            out.insert(serial.clone(), value);
        }
        room.insert(address.clone(), live.saturating_sub(serials.len() as u64));
    }
    let mut by_site: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    for (serial, address) in unrecorded {
        by_site.entry(address).or_default().push(serial);
    }
    for (address, serials) in by_site {
        let free = room
            .get(&address)
            .copied()
            .unwrap_or_else(|| count.get(address.as_str()).copied().unwrap_or(0));
        let fits = count.contains_key(address.as_str()) && free >= serials.len() as u64;
        let site_key = address.rsplit('/').next().unwrap_or_default().to_string();
        for serial in serials {
            let value = if fits { json!(site_key) } else { Value::Null };
            out.insert(serial.clone(), value);
        }
    }
    out
}
