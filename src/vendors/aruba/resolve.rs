//! Pure: maps Aruba's live snapshot onto stable addresses, given the desired
//! state and the ownership records, and builds the desired records to diff.
//! No I/O. Associations cannot be read from Aruba (only a per-site count), so a
//! device's live site comes from state and is trusted only while the counts agree.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::Aruba;
use super::live::{LiveDevice, LiveSite, LiveSnapshot};
use super::model::ArubaCustomer;
use crate::address::Address;
use crate::diff::{Fields, Kind, Record};
use crate::model::{Customer, Device, Site, SiteLocation};
use crate::vendor::{Ctx, Resolved};

/// Live site value of a device whose association cannot be confirmed.
pub const UNVERIFIED: &str = "(unverified)";

/// What a plan says about a device whose association is [`UNVERIFIED`].
pub const UNVERIFIED_NOTE: &str = "re-associate: the site's live device count no longer matches; Aruba cannot say which device left";

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

/// This provider's declared customers, by key.
pub fn declared<'a>(ctx: Ctx<'a, Aruba>) -> BTreeMap<&'a str, (&'a Customer, &'a ArubaCustomer)> {
    ctx.customers().map(|(k, c, a)| (k, (c, a))).collect()
}

/// The fields mspform manages of a declared customer. `auto_license` is among
/// them only when `with_auto` (managed, and read this run or not live yet).
pub fn customer_fields(c: &Customer, a: &ArubaCustomer, with_auto: bool) -> Fields {
    let mut fields = BTreeMap::from([
        ("name".to_string(), json!(c.name)),
        ("country".to_string(), json!(a.country)),
        ("street".to_string(), json!(a.address.street)),
        ("city".to_string(), json!(a.address.city)),
        ("state".to_string(), json!(a.address.state)),
        ("zip".to_string(), json!(a.address.zip)),
        ("description".to_string(), json!(a.description)),
        ("lock_msp_ssids".to_string(), json!(a.lock_msp_ssids)),
    ]);
    if with_auto {
        fields.insert("auto_license".into(), json!(a.auto_license));
    }
    if let Some(g) = &a.group {
        fields.insert("group".into(), json!(g));
    }
    fields
}

/// The fields mspform manages of a declared site: its name and where it is.
pub fn site_fields(s: &Site) -> Fields {
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
    fields
}

/// A live site's fields, in the terms of the desired one (`geo`: placed by coordinates).
fn live_site_fields(site: &LiveSite, geo: bool) -> Fields {
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
    fields
}

/// One resolution in progress: what is known of the live objects so far.
struct Resolver<'a> {
    ctx: Ctx<'a, Aruba>,
    snap: &'a LiveSnapshot,
    customers: BTreeMap<&'a str, (&'a Customer, &'a ArubaCustomer)>,
    /// Live customer id → customer key.
    key_of_id: BTreeMap<String, String>,
    /// Customer key → live customer id (the other way round).
    id_of_key: BTreeMap<String, String>,
    /// Live site id → its address.
    site_of_id: BTreeMap<String, Address>,
    out: Resolved,
}

pub fn resolve(ctx: Ctx<'_, Aruba>, snap: &LiveSnapshot) -> Resolved {
    let mut r = Resolver {
        ctx,
        snap,
        customers: declared(ctx),
        key_of_id: BTreeMap::new(),
        id_of_key: BTreeMap::new(),
        site_of_id: BTreeMap::new(),
        out: Resolved::default(),
    };
    r.match_customers();
    r.id_of_key = r
        .key_of_id
        .iter()
        .map(|(id, key)| (key.clone(), id.clone()))
        .collect();
    r.live_customers();
    r.match_sites();
    r.live_sites();
    r.live_devices();
    r.desired_customers();
    r.desired_devices();
    r.unread_sites();
    r.out
}

impl Resolver<'_> {
    fn provider(&self) -> &str {
        self.ctx.key
    }

    /// Customers: by owned vendor id first, then by exact name (two live
    /// customers of the wanted name are an error: never guess).
    fn match_customers(&mut self) {
        for (address, record) in self.ctx.owned() {
            if let Address::Customer(key) = address
                && let Some(id) = &record.vendor_id
                && self.snap.customer_by_id(id).is_some()
            {
                self.key_of_id.insert(id.clone(), key.clone());
            }
        }
        for (key, (want, _)) in &self.customers {
            if self.key_of_id.values().any(|k| k == key) {
                continue;
            }
            let same_name: Vec<_> = self
                .snap
                .customers
                .iter()
                .filter(|c| c.name == want.name && !self.key_of_id.contains_key(&c.id))
                .collect();
            match same_name.as_slice() {
                [] => {}
                [one] => {
                    self.key_of_id.insert(one.id.clone(), key.to_string());
                }
                many => self.out.errors.push(format!(
                    "customer.{key}: {} live customers are named {:?} ({}); mspform will not guess which to adopt. Rename or delete the extras in the portal.",
                    many.len(),
                    want.name,
                    many.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ")
                )),
            }
        }
    }

    fn live_customers(&mut self) {
        for c in &self.snap.customers {
            let (address, managed) = match self.key_of_id.get(&c.id) {
                Some(key) => (Address::customer(key), true),
                None => (Address::unmanaged(Kind::Customer, &c.name), false),
            };
            if managed {
                self.out.managed_customers.insert(c.id.clone());
                self.out.ids.insert(address.clone(), c.id.clone());
            }
            // Auto-licence settings that could not be read: what state recorded.
            let auto = match &c.auto_license {
                Some(list) => json!(list),
                None => self
                    .ctx
                    .owned
                    .get(&address)
                    .and_then(|r| r.facts.get("auto_license"))
                    .cloned()
                    .unwrap_or(json!([])),
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
            ]);
            // Read only where mspform manages it, and only in runs that read it.
            if self.snap.auto_read.contains(&c.id) {
                fields.insert("auto_license".into(), auto);
            }
            if let Some(g) = &c.group {
                fields.insert("group".into(), json!(g));
            }
            let record = Record::new(address.clone(), self.provider(), fields);
            self.out.live.insert(address, record);
        }
    }

    /// The declared sites of a managed customer, by key.
    fn wanted_sites(&self, ckey: &str) -> Option<&BTreeMap<String, Site>> {
        self.customers.get(ckey).map(|(c, _)| &c.sites)
    }

    /// Sites of managed customers: by owned site id, then by exact name.
    fn match_sites(&mut self) {
        for (cid, sites) in &self.snap.sites {
            let Some(ckey) = self.key_of_id.get(cid).cloned() else {
                continue;
            };
            let mut taken: BTreeSet<Address> = BTreeSet::new();
            for site in sites {
                let by_id = self.ctx.owned().find(|(a, r)| {
                    matches!(a, Address::Site(c, _) if *c == ckey)
                        && r.vendor_id.as_deref() == Some(site.id.as_str())
                });
                if let Some((address, _)) = by_id {
                    taken.insert(address.clone());
                    self.site_of_id.insert(site.id.clone(), address.clone());
                }
            }
            for site in sites {
                if self.site_of_id.contains_key(&site.id) {
                    continue;
                }
                let by_name = self.wanted_sites(&ckey).and_then(|w| {
                    w.values().find(|s| {
                        s.name == site.name && !taken.contains(&Address::site(&ckey, &s.key))
                    })
                });
                let address = match by_name {
                    Some(s) => Address::site(&ckey, &s.key),
                    None => Address::unmanaged_in(Address::customer(&ckey), Kind::Site, &site.name),
                };
                taken.insert(address.clone());
                self.site_of_id.insert(site.id.clone(), address);
            }
        }
    }

    fn live_sites(&mut self) {
        for sites in self.snap.sites.values() {
            for site in sites {
                let Some(address) = self.site_of_id.get(&site.id).cloned() else {
                    continue;
                };
                self.out.ids.insert(address.clone(), site.id.clone());
                let geo = match &address {
                    Address::Site(c, s) => self
                        .wanted_sites(c)
                        .and_then(|w| w.get(s))
                        .is_some_and(|s| matches!(s.location, SiteLocation::Geolocation { .. })),
                    _ => false,
                };
                let fields = live_site_fields(site, geo);
                let record = Record::new(address.clone(), self.provider(), fields);
                self.out.live.insert(address, record);
            }
        }
    }

    /// Devices: every device in a managed customer, and every declared or owned device.
    fn live_devices(&mut self) {
        let site_of_device = device_sites(self.ctx, self.snap, &self.key_of_id, &self.site_of_id);
        for (serial, dev) in &self.snap.devices {
            let address = Address::device(serial);
            let Some(cid) = &dev.customer_id else {
                continue;
            };
            let declared = self.ctx.desired.devices.contains_key(serial);
            let managed = self.out.managed_customers.contains(cid);
            if !managed && !declared && !self.ctx.owned.contains_key(&address) {
                continue;
            }
            let customer = match self.key_of_id.get(cid) {
                Some(key) => json!(key),
                None => json!(format!(
                    "(unmanaged) {}",
                    self.snap
                        .customer_by_id(cid)
                        .map(|c| c.name.as_str())
                        .unwrap_or(cid)
                )),
            };
            let site = site_of_device.get(serial).cloned().unwrap_or(Value::Null);
            let mut fields = BTreeMap::from([
                ("customer".to_string(), customer),
                ("mac".to_string(), json!(dev.mac)),
                ("licenses".to_string(), json!(dev.licenses)),
                ("site".to_string(), site),
            ]);
            // Its customer's sites were not read: the association is not judged.
            if self
                .key_of_id
                .get(cid)
                .is_some_and(|k| self.sites_unread(k))
            {
                fields.remove("site");
            }
            let record = Record::new(address.clone(), self.provider(), fields);
            self.out.live.insert(address, record);
        }
    }

    /// The live id of customer `key`, when it is live.
    fn live_id(&self, key: &str) -> Option<&str> {
        self.id_of_key.get(key).map(String::as_str)
    }

    /// Customer `key` is live but its sites are not read this run: a rolling
    /// drift check reads them another time. (A targeted refresh that wants none
    /// of its sites plans none of them either.)
    fn sites_unread(&self, key: &str) -> bool {
        self.live_id(key).is_some() && !self.ctx.scope().deep(key)
    }

    /// The sites of live customers that were not read: nothing is planned for
    /// them (the engine reports them as not checked).
    fn unread_sites(&mut self) {
        let keys: BTreeSet<String> = self
            .key_of_id
            .values()
            .filter(|k| self.sites_unread(k))
            .cloned()
            .collect();
        for key in &keys {
            if let Some(sites) = self.wanted_sites(key) {
                let unread: Vec<Address> = sites.keys().map(|s| Address::site(key, s)).collect();
                self.out.unread.extend(unread);
            }
            let owned: Vec<Address> = self
                .ctx
                .owned()
                .filter(|(a, _)| matches!(a, Address::Site(c, _) if c == key))
                .map(|(a, _)| a.clone())
                .collect();
            self.out.unread.extend(owned);
        }
    }

    fn desired_customers(&mut self) {
        for (key, (c, a)) in &self.customers {
            let with_auto = match self.live_id(key) {
                Some(id) => self.snap.auto_read.contains(id),
                None => a.auto_license_declared,
            };
            let fields = customer_fields(c, a, with_auto);
            if !a.defaulted.is_empty() {
                self.out.defaults.insert(
                    Address::customer(*key),
                    a.defaulted.iter().map(|f| f.to_string()).collect(),
                );
            }
            let record = Record::new(Address::customer(*key), self.ctx.key, fields);
            self.out.desired.push(record);
            for (skey, s) in &c.sites {
                let record = Record::new(Address::site(*key, skey), self.ctx.key, site_fields(s));
                self.out.desired.push(record);
            }
        }
    }

    fn desired_devices(&mut self) {
        for d in self.ctx.devices() {
            let Some((_, a)) = self.customers.get(d.customer.as_str()) else {
                continue;
            };
            let address = Address::device(&d.serial);
            // Outside a targeted refresh's scope the device was not looked for.
            if !self.ctx.scope().wants(&address) {
                continue;
            }
            if let Some(error) =
                inventory_error(self.provider(), d, self.snap.devices.get(&d.serial))
            {
                self.out.errors.push(error);
            }
            let live_licenses = self
                .snap
                .devices
                .get(&d.serial)
                .map(|l| l.licenses.as_slice())
                .unwrap_or(&[]);
            let licenses = wanted_licenses(&d.licenses, &a.auto_license, live_licenses);
            let mut fields = BTreeMap::from([
                ("customer".to_string(), json!(d.customer)),
                ("mac".to_string(), json!(d.mac)),
                ("licenses".to_string(), json!(licenses)),
                ("site".to_string(), json!(d.site)),
            ]);
            if self.sites_unread(&d.customer) {
                fields.remove("site");
            }
            let live = self.out.live.get(&address).map(|r| &r.fields);
            let unverified = live.and_then(|f| f.get("site")) == Some(&json!(UNVERIFIED));
            if unverified {
                match &d.site {
                    // Without a desired site, an association we cannot see is not ours to judge.
                    None => {
                        fields.remove("site");
                    }
                    Some(_) if live.and_then(|f| f.get("customer")) == Some(&json!(d.customer)) => {
                        self.out
                            .explain
                            .insert(address.clone(), UNVERIFIED_NOTE.into());
                    }
                    Some(_) => {}
                }
            }
            self.out
                .desired
                .push(Record::new(address, self.ctx.key, fields));
        }
    }
}

/// A declared device that is not in the MSP inventory, or has another MAC there.
fn inventory_error(provider: &str, d: &Device, live: Option<&LiveDevice>) -> Option<String> {
    let address = Address::device(&d.serial);
    let serial = &d.serial;
    match live {
        None => Some(format!(
            "{address}: serial {serial} is not in the MSP inventory of provider {provider}; only devices already in the MSP inventory can be assigned (add it to the inventory first)"
        )),
        Some(live) if live.mac != d.mac => Some(format!(
            "{address}: the file says MAC {} but the MSP inventory has {} for this serial; fix the MAC in the file",
            d.mac, live.mac
        )),
        Some(_) => None,
    }
}

/// Where state says the devices of managed customers are associated.
#[derive(Default)]
struct Associations {
    /// Site address → its live `associated_device_count`.
    count: BTreeMap<Address, u64>,
    /// Site address → devices state puts there.
    recorded: BTreeMap<Address, Vec<String>>,
    /// Devices without a record, with the site they are declared in.
    unrecorded: Vec<(String, Address)>,
}

/// Reads state's associations of the devices in managed customers; devices
/// whose site is surely none go straight into `out`.
fn associations(
    ctx: Ctx<'_, Aruba>,
    snap: &LiveSnapshot,
    key_of_id: &BTreeMap<String, String>,
    site_of_id: &BTreeMap<String, Address>,
    out: &mut BTreeMap<String, Value>,
) -> Associations {
    let mut a = Associations::default();
    for s in snap.sites.values().flatten() {
        if let Some(address) = site_of_id.get(&s.id) {
            a.count
                .insert(address.clone(), s.associated_device_count.unwrap_or(0));
        }
    }
    for (serial, dev) in &snap.devices {
        let Some(ckey) = dev.customer_id.as_ref().and_then(|cid| key_of_id.get(cid)) else {
            continue;
        };
        let record = ctx
            .owned
            .get(&Address::device(serial))
            .filter(|r| r.provider == ctx.key && r.parent_id == dev.customer_id);
        let recorded_site = record
            .and_then(|r| r.facts.get("site"))
            .and_then(Value::as_str);
        if let Some(site_key) = recorded_site {
            let address = Address::site(ckey, site_key);
            if a.count.contains_key(&address) {
                a.recorded.entry(address).or_default().push(serial.clone());
            } else {
                out.insert(serial.clone(), Value::Null);
            }
            continue;
        }
        let wanted = ctx
            .desired
            .devices
            .get(serial)
            .filter(|d| d.customer == *ckey)
            .and_then(|d| d.site.clone());
        match (record.is_some(), wanted) {
            (false, Some(site_key)) => a
                .unrecorded
                .push((serial.clone(), Address::site(ckey, site_key))),
            _ => {
                out.insert(serial.clone(), Value::Null);
            }
        }
    }
    a
}

/// The live `site` value of each device in a managed customer: the site state
/// says we associated it with, trusted while that site's live device count is
/// at least the number of devices state puts there; otherwise [`UNVERIFIED`].
/// Devices with no record are taken to be in their desired site when the site's
/// count leaves room for them (so a lost state directory does not cause churn).
fn device_sites(
    ctx: Ctx<'_, Aruba>,
    snap: &LiveSnapshot,
    key_of_id: &BTreeMap<String, String>,
    site_of_id: &BTreeMap<String, Address>,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let a = associations(ctx, snap, key_of_id, site_of_id, &mut out);
    let mut room: BTreeMap<&Address, u64> = BTreeMap::new();
    for (address, serials) in &a.recorded {
        let live = a.count.get(address).copied().unwrap_or(0);
        let trusted = live >= serials.len() as u64;
        for serial in serials {
            let value = if trusted {
                json!(address.key())
            } else {
                json!(UNVERIFIED)
            };
            out.insert(serial.clone(), value);
        }
        room.insert(address, live.saturating_sub(serials.len() as u64));
    }
    let mut by_site: BTreeMap<&Address, Vec<&String>> = BTreeMap::new();
    for (serial, address) in &a.unrecorded {
        by_site.entry(address).or_default().push(serial);
    }
    for (address, serials) in by_site {
        let free = room
            .get(address)
            .copied()
            .unwrap_or_else(|| a.count.get(address).copied().unwrap_or(0));
        let fits = a.count.contains_key(address) && free >= serials.len() as u64;
        for serial in serials {
            let value = if fits {
                json!(address.key())
            } else {
                Value::Null
            };
            out.insert(serial.clone(), value);
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::state::OwnedRecord;
    use crate::vendor::{Owned, PlanOptions, Spec};
    use crate::vendors::aruba::live::{LiveCustomer, LiveDevice};

    /// The example portfolio (`examples/portfolio`) and a snapshot of an MSP
    /// account that holds its devices in the inventory, nothing else.
    pub(crate) struct World {
        pub d: crate::model::Desired,
        pub snap: LiveSnapshot,
        pub options: PlanOptions,
    }

    impl World {
        pub fn spec(&self) -> &Spec<Aruba> {
            self.d.spec::<Aruba>("aruba").expect("an Aruba provider")
        }

        pub fn ctx<'a>(&'a self, owned: &'a Owned) -> Ctx<'a, Aruba> {
            Ctx {
                key: "aruba",
                spec: self.spec(),
                desired: &self.d,
                owned,
                options: &self.options,
            }
        }

        pub fn resolve(&self, owned: &Owned) -> Resolved {
            resolve(self.ctx(owned), &self.snap)
        }

        /// A live customer named `name` with id `id`.
        pub fn add_customer(&mut self, id: &str, name: &str) {
            self.snap.customers.push(LiveCustomer {
                id: id.into(),
                name: name.into(),
                country: "US".into(),
                street: String::new(),
                city: String::new(),
                state: String::new(),
                zip: String::new(),
                group: None,
                description: String::new(),
                lock_msp_ssids: false,
                auto_license: Some(vec![]),
            });
        }
    }

    pub(crate) fn example() -> World {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let d = crate::config::load(&root.join("examples/portfolio")).unwrap();
        let devices = d
            .devices
            .values()
            .map(|d| {
                let kind = if d.serial.starts_with("SW") {
                    "SWITCH"
                } else if d.serial.starts_with("GW") {
                    "CONTROLLER"
                } else {
                    "IAP"
                };
                let live = LiveDevice {
                    serial: d.serial.clone(),
                    mac: d.mac.clone(),
                    customer_id: None,
                    device_type: kind.into(),
                    licenses: vec![],
                };
                (d.serial.clone(), live)
            })
            .collect();
        World {
            d,
            snap: LiveSnapshot {
                devices,
                ..Default::default()
            },
            options: PlanOptions::default(),
        }
    }

    pub(crate) fn owned(vendor_id: &str, parent: Option<&str>, facts: Fields) -> OwnedRecord {
        OwnedRecord {
            provider: "aruba".into(),
            vendor_id: Some(vendor_id.into()),
            parent_id: parent.map(str::to_string),
            since: 0,
            origin: "created".into(),
            facts,
        }
    }

    /// Coffee Shop live with its two sites and its devices, AP0000001 recorded in
    /// Santa Clara, whose live count is `count`.
    fn coffee_live(count: u64) -> (World, Owned) {
        let mut w = example();
        w.add_customer("c1", "Coffee Shop");
        let site = |id: &str, name: &str, count| LiveSite {
            id: id.into(),
            customer_id: "c1".into(),
            name: name.into(),
            street: String::new(),
            city: String::new(),
            state: String::new(),
            country: String::new(),
            zip: String::new(),
            latitude: None,
            longitude: None,
            associated_device_count: Some(count),
        };
        w.snap.sites.insert(
            "c1".into(),
            vec![
                site("1", "Santa Clara Site", count),
                site("2", "Roastery", 0),
            ],
        );
        w.snap.devices.get_mut("AP0000001").unwrap().customer_id = Some("c1".into());
        let owned = Owned::from([
            (
                Address::customer("coffee-shop"),
                owned("c1", None, Fields::new()),
            ),
            (
                Address::device("AP0000001"),
                owned(
                    "AP0000001",
                    Some("c1"),
                    Fields::from([("site".to_string(), json!("santa-clara"))]),
                ),
            ),
        ]);
        (w, owned)
    }

    #[test]
    fn live_objects_map_onto_addresses_by_owned_id_then_by_name() {
        let (mut w, owned) = coffee_live(1);
        w.add_customer("c9", "Someone Else");
        let r = w.resolve(&owned);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.ids[&Address::customer("coffee-shop")], "c1");
        assert_eq!(r.ids[&Address::site("coffee-shop", "santa-clara")], "1");
        assert_eq!(r.ids[&Address::site("coffee-shop", "roastery")], "2");
        assert!(
            r.live
                .contains_key(&Address::unmanaged(Kind::Customer, "Someone Else"))
        );
        assert_eq!(
            r.live[&Address::device("AP0000001")].fields["site"],
            json!("santa-clara"),
            "trusted while the site's count holds it"
        );
        assert!(r.managed_customers.contains("c1") && !r.managed_customers.contains("c9"));
    }

    #[test]
    fn a_site_count_too_low_makes_the_association_unverified_and_explained() {
        let (w, owned) = coffee_live(0);
        let r = w.resolve(&owned);
        let ap = Address::device("AP0000001");
        assert_eq!(r.live[&ap].fields["site"], json!(UNVERIFIED));
        assert_eq!(
            r.explain.get(&ap).map(String::as_str),
            Some(UNVERIFIED_NOTE)
        );
        assert_eq!(
            r.explain.len(),
            1,
            "only the unverified device: {:?}",
            r.explain
        );
    }

    #[test]
    fn two_live_customers_of_a_declared_name_are_an_error() {
        let mut w = example();
        w.add_customer("a", "Coffee Shop");
        w.add_customer("b", "Coffee Shop");
        let r = w.resolve(&Owned::new());
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        assert!(r.errors[0].contains("customer.coffee-shop") && r.errors[0].contains("a, b"));
    }

    #[test]
    fn a_declared_device_missing_from_the_inventory_is_an_error() {
        let mut w = example();
        w.snap.devices.remove("AP0000001");
        w.snap.devices.get_mut("AP0000002").unwrap().mac = "00:00:00:00:00:01".into();
        let r = w.resolve(&Owned::new());
        assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
        assert!(
            r.errors
                .iter()
                .any(|e| e.contains("not in the MSP inventory"))
        );
        assert!(r.errors.iter().any(|e| e.contains("fix the MAC")));
    }
}
