//! Aruba apply steps: the plan's actions compiled into batched vendor calls
//! (one device move per customer, licences per service set, associations per site
//! and device type, chunked by 20 in `api`), each with the steps it depends on.
//! Pure: `run` executes them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::resolve::{UNVERIFIED, customer_address, device_address, site_address, wanted_licenses};
use super::wire::{
    CustomerBody, CustomerBodyAddress, GeolocationBody, GroupRef, SiteAddressBody, SiteBody,
    association_type,
};
use crate::diff::{Action, Kind, Op};
use crate::live::LiveSnapshot;
use crate::model::{Desired, SiteLocation};

#[derive(Debug, Clone, PartialEq)]
pub enum StepOp {
    CreateCustomer {
        address: String,
        body: CustomerBody,
    },
    UpdateCustomer {
        address: String,
        body: CustomerBody,
    },
    DeleteCustomer {
        address: String,
    },
    /// Adopt: record ownership of a live object, no vendor call.
    Record {
        address: String,
        kind: Kind,
        parent: Option<String>,
        facts: BTreeMap<String, Value>,
    },
    Forget {
        address: String,
    },
    AutoLicense {
        customer: String,
        enable: Vec<String>,
        disable: Vec<String>,
        desired: Vec<String>,
    },
    /// `target` None = back to the MSP inventory; `returning` = the devices leave mspform's care.
    MoveDevices {
        target: Option<String>,
        devices: Vec<(String, String)>,
        returning: bool,
        /// The customers on the other side, for messages: where the devices go next
        /// (a move back on the way into another customer) or where they come from (a return).
        counterparts: Vec<String>,
    },
    Licenses {
        assign: bool,
        services: Vec<String>,
        serials: Vec<String>,
        customer: String,
    },
    CreateSite {
        address: String,
        customer: String,
        body: SiteBody,
    },
    UpdateSite {
        address: String,
        customer: String,
        body: SiteBody,
    },
    DeleteSite {
        address: String,
        customer: String,
    },
    Associate {
        site: String,
        customer: String,
        device_type: String,
        serials: Vec<String>,
    },
    Unassociate {
        site: String,
        customer: String,
        device_type: String,
        serials: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: usize,
    /// Execution order: 1 customers, 2 moves out, 3 moves in, 4 licences and
    /// auto-licence, 5 sites, 6 unassociate, 7 associate; 9 site deletes,
    /// 10 device returns, 11 customer deletes, 12 state clean-up.
    pub phase: u8,
    pub deps: Vec<usize>,
    /// The plan actions this step serves.
    pub addresses: Vec<String>,
    pub op: StepOp,
}

impl Step {
    pub fn label(&self) -> String {
        match &self.op {
            StepOp::CreateCustomer { address, .. } => format!("create {address}"),
            StepOp::UpdateCustomer { address, .. } => format!("update {address}"),
            StepOp::DeleteCustomer { address } => format!("delete {address}"),
            StepOp::Record { address, .. } => format!("adopt {address}"),
            StepOp::Forget { address } => format!("forget {address}"),
            StepOp::AutoLicense { customer, .. } => format!("set auto-licence of {customer}"),
            StepOp::MoveDevices {
                target: Some(t),
                devices,
                ..
            } => {
                format!("move {} device(s) into {t}", devices.len())
            }
            StepOp::MoveDevices {
                target: None,
                devices,
                returning,
                counterparts,
            } => {
                let n = devices.len();
                match (returning, counterparts.is_empty()) {
                    (false, false) => format!(
                        "move {n} device(s) back to the MSP inventory on their way into {}",
                        counterparts.join(", ")
                    ),
                    _ => format!("move {n} device(s) back to the MSP inventory"),
                }
            }
            StepOp::Licenses {
                assign,
                services,
                serials,
                ..
            } => format!(
                "{} {} on {} device(s)",
                if *assign { "assign" } else { "unassign" },
                services.join(","),
                serials.len()
            ),
            StepOp::CreateSite { address, .. } => format!("create {address}"),
            StepOp::UpdateSite { address, .. } => format!("update {address}"),
            StepOp::DeleteSite { address, .. } => format!("delete {address}"),
            StepOp::Associate { site, serials, .. } => {
                format!("associate {} device(s) with {site}", serials.len())
            }
            StepOp::Unassociate { site, serials, .. } => {
                format!("unassociate {} device(s) from {site}", serials.len())
            }
        }
    }
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn customer_body(desired: &Desired, key: &str) -> Option<CustomerBody> {
    let full = desired.customers.get(key)?;
    let c = full.aruba()?;
    Some(CustomerBody {
        customer_name: full.name.clone(),
        country_name: c.country.clone(),
        address: CustomerBodyAddress {
            street_address: c.address.street.clone(),
            city: c.address.city.clone(),
            state: c.address.state.clone(),
        },
        zip_postal_code: c.address.zip.clone(),
        group: c.group.clone().map(|name| GroupRef { name }),
        description: c.description.clone(),
        lock_msp_ssids: c.lock_msp_ssids,
    })
}

pub fn site_body(desired: &Desired, customer: &str, site: &str) -> Option<SiteBody> {
    let s = desired.customers.get(customer)?.sites()?.get(site)?;
    Some(match &s.location {
        SiteLocation::Address(a) => SiteBody {
            site_name: s.name.clone(),
            site_address: Some(SiteAddressBody {
                address: a.street.clone(),
                city: a.city.clone(),
                state: a.state.clone(),
                country: a.country.clone(),
                zipcode: a.zip.clone(),
            }),
            geolocation: None,
        },
        SiteLocation::Geolocation {
            latitude,
            longitude,
        } => SiteBody {
            site_name: s.name.clone(),
            site_address: None,
            geolocation: Some(GeolocationBody {
                latitude: latitude.to_string(),
                longitude: longitude.to_string(),
            }),
        },
    })
}

/// Splits `site.<customer>/<site>` into its keys.
pub(crate) fn site_keys(address: &str) -> Option<(&str, &str)> {
    address.strip_prefix("site.")?.split_once('/')
}

struct Builder {
    steps: Vec<Step>,
}

impl Builder {
    fn push(&mut self, phase: u8, deps: Vec<usize>, addresses: Vec<String>, op: StepOp) -> usize {
        let id = self.steps.len();
        let mut deps = deps;
        deps.sort_unstable();
        deps.dedup();
        self.steps.push(Step {
            id,
            phase,
            deps,
            addresses,
            op,
        });
        id
    }
}

/// Compiles one provider's actions into ordered, batched steps.
pub fn compile(actions: &[Action], desired: &Desired, snap: &LiveSnapshot) -> Vec<Step> {
    let mut b = Builder { steps: Vec::new() };
    // Customer address → the step that makes it exist (create or adopt).
    let mut made: BTreeMap<String, usize> = BTreeMap::new();
    let mut removing: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    // Auto-licence changes run after the explicit licences (see below).
    let mut auto_licences: Vec<(Vec<usize>, String, StepOp)> = Vec::new();
    // State clean-up of objects gone from both sides: no vendor call, any kind.
    for a in actions.iter().filter(|a| a.op == Op::Forget) {
        let forget = StepOp::Forget {
            address: a.address.clone(),
        };
        b.push(12, vec![], vec![a.address.clone()], forget);
    }
    let actions: Vec<&Action> = actions.iter().filter(|a| a.op != Op::Forget).collect();

    for a in actions.iter().filter(|a| a.kind == Kind::Customer) {
        let key = a.address.trim_start_matches("customer.");
        let non_auto = a.changes.iter().any(|c| c.field != "auto_license");
        let body = customer_body(desired, key);
        let first = match (a.op, body) {
            (Op::Create, Some(body)) => Some(b.push(
                1,
                vec![],
                vec![a.address.clone()],
                StepOp::CreateCustomer {
                    address: a.address.clone(),
                    body,
                },
            )),
            (Op::Adopt, body) => {
                let id = b.push(
                    1,
                    vec![],
                    vec![a.address.clone()],
                    StepOp::Record {
                        address: a.address.clone(),
                        kind: Kind::Customer,
                        parent: None,
                        facts: BTreeMap::new(),
                    },
                );
                if let (true, Some(body)) = (non_auto, body) {
                    b.push(
                        1,
                        vec![id],
                        vec![a.address.clone()],
                        StepOp::UpdateCustomer {
                            address: a.address.clone(),
                            body,
                        },
                    );
                }
                Some(id)
            }
            (Op::Update, Some(body)) if non_auto => Some(b.push(
                1,
                vec![],
                vec![a.address.clone()],
                StepOp::UpdateCustomer {
                    address: a.address.clone(),
                    body,
                },
            )),
            (Op::Update, _) => None,
            (Op::Delete, _) => None,
            _ => None,
        };
        if let Some(id) = first
            && matches!(a.op, Op::Create | Op::Adopt)
        {
            made.insert(a.address.clone(), id);
        }
        if let Some(change) = a.changed("auto_license") {
            let before = strings(&change.before);
            let after = strings(&change.after);
            let enable: Vec<String> = after.difference(&before).cloned().collect();
            let disable: Vec<String> = before.difference(&after).cloned().collect();
            if !enable.is_empty() || !disable.is_empty() {
                let deps = made.get(&a.address).copied().into_iter().collect();
                auto_licences.push((
                    deps,
                    a.address.clone(),
                    StepOp::AutoLicense {
                        customer: a.address.clone(),
                        enable,
                        disable,
                        desired: after.into_iter().collect(),
                    },
                ));
            }
        }
    }

    // Sites.
    let mut site_made: BTreeMap<String, usize> = BTreeMap::new();
    for a in actions.iter().filter(|a| a.kind == Kind::Site) {
        let Some((ckey, skey)) = site_keys(&a.address) else {
            continue;
        };
        let customer = customer_address(ckey);
        let deps: Vec<usize> = made.get(&customer).copied().into_iter().collect();
        let body = site_body(desired, ckey, skey);
        match (a.op, body) {
            (Op::Create, Some(body)) => {
                let id = b.push(
                    5,
                    deps,
                    vec![a.address.clone()],
                    StepOp::CreateSite {
                        address: a.address.clone(),
                        customer,
                        body,
                    },
                );
                site_made.insert(a.address.clone(), id);
            }
            (Op::Adopt, body) => {
                let id = b.push(
                    5,
                    deps,
                    vec![a.address.clone()],
                    StepOp::Record {
                        address: a.address.clone(),
                        kind: Kind::Site,
                        parent: Some(customer.clone()),
                        facts: BTreeMap::new(),
                    },
                );
                site_made.insert(a.address.clone(), id);
                if let (false, Some(body)) = (a.changes.is_empty(), body) {
                    b.push(
                        5,
                        vec![id],
                        vec![a.address.clone()],
                        StepOp::UpdateSite {
                            address: a.address.clone(),
                            customer,
                            body,
                        },
                    );
                }
            }
            (Op::Update, Some(body)) => {
                b.push(
                    5,
                    deps,
                    vec![a.address.clone()],
                    StepOp::UpdateSite {
                        address: a.address.clone(),
                        customer,
                        body,
                    },
                );
            }
            (Op::Delete, _) => {
                let id = b.push(
                    9,
                    vec![],
                    vec![a.address.clone()],
                    StepOp::DeleteSite {
                        address: a.address.clone(),
                        customer: customer.clone(),
                    },
                );
                removing.entry(customer).or_default().push(id);
            }
            _ => {}
        }
    }

    // Devices: gather moves, licence changes and association changes, then batch.
    let mut out_moves: Vec<(String, String)> = Vec::new();
    let mut out_addresses: Vec<String> = Vec::new();
    let mut out_into: BTreeSet<String> = BTreeSet::new();
    let mut in_moves: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut returns: Vec<(String, String, Option<String>)> = Vec::new();
    // (customer, assign?, services) → serials
    let mut licences: BTreeMap<(String, bool, Vec<String>), Vec<String>> = BTreeMap::new();
    // (site address, customer, device type) → serials
    let mut unassoc: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    let mut assoc: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for a in actions.iter().filter(|a| a.kind == Kind::Device) {
        let serial = a.address.trim_start_matches("device.").to_string();
        let Some(live) = snap.devices.get(&serial) else {
            continue;
        };
        let pair = (serial.clone(), live.mac.clone());
        if a.op == Op::Delete {
            let from = a
                .changed("customer")
                .and_then(|c| c.before.as_str())
                .map(customer_address);
            returns.push((serial, live.mac.clone(), from));
            continue;
        }
        let Some(want) = desired.devices.get(&serial) else {
            continue;
        };
        let customer = customer_address(&want.customer);
        let moving = a.op == Op::Create || a.changed("customer").is_some();
        if moving {
            if live.customer_id.is_some() {
                out_moves.push(pair.clone());
                out_addresses.push(a.address.clone());
                out_into.insert(customer.clone());
            }
            in_moves.entry(customer.clone()).or_default().push(pair);
        } else if a.op == Op::Adopt {
            let mut facts = BTreeMap::new();
            if let Some(site) = &want.site {
                let site_unchanged = a.changed("site").is_none();
                if site_unchanged {
                    facts.insert("site".to_string(), json!(site));
                }
            }
            b.push(
                3,
                made.get(&customer).copied().into_iter().collect(),
                vec![a.address.clone()],
                StepOp::Record {
                    address: a.address.clone(),
                    kind: Kind::Device,
                    parent: Some(customer.clone()),
                    facts,
                },
            );
        }
        // Licences: what the device holds now (nothing after a move out of a tenant).
        let before: BTreeSet<String> = if moving && live.customer_id.is_some() {
            BTreeSet::new()
        } else {
            live.licenses.iter().cloned().collect()
        };
        let auto = desired
            .customers
            .get(&want.customer)
            .and_then(|c| c.aruba())
            .map(|c| c.auto_license.clone())
            .unwrap_or_default();
        let before_list: Vec<String> = before.iter().cloned().collect();
        let after = wanted_licenses(&want.licenses, &auto, &before_list);
        let add: Vec<String> = after.difference(&before).cloned().collect();
        let remove: Vec<String> = before.difference(&after).cloned().collect();
        if !add.is_empty() {
            licences
                .entry((customer.clone(), true, add))
                .or_default()
                .push(serial.clone());
        }
        if !remove.is_empty() {
            licences
                .entry((customer.clone(), false, remove))
                .or_default()
                .push(serial.clone());
        }
        // Associations.
        let dtype = association_type(&live.device_type).to_string();
        let live_site = if moving {
            Value::Null
        } else {
            a.changed("site")
                .map(|c| c.before.clone())
                .unwrap_or(Value::Null)
        };
        let site_change = moving || a.changed("site").is_some();
        if site_change {
            if let Some(old) = live_site.as_str().filter(|s| *s != UNVERIFIED) {
                let old_addr = site_address(&want.customer, old);
                unassoc
                    .entry((old_addr, customer.clone(), dtype.clone()))
                    .or_default()
                    .push(serial.clone());
            }
            if let Some(site) = &want.site {
                assoc
                    .entry((site_address(&want.customer, site), customer.clone(), dtype))
                    .or_default()
                    .push(serial.clone());
            }
        }
    }
    let out_step = (!out_moves.is_empty()).then(|| {
        b.push(
            2,
            vec![],
            out_addresses.clone(),
            StepOp::MoveDevices {
                target: None,
                devices: out_moves.clone(),
                returning: false,
                counterparts: out_into.iter().cloned().collect(),
            },
        )
    });
    let mut moved_by: BTreeMap<String, usize> = BTreeMap::new();
    for (customer, devices) in in_moves {
        let mut deps: Vec<usize> = made.get(&customer).copied().into_iter().collect();
        let crosses = devices.iter().any(|d| out_moves.contains(d));
        if let (true, Some(out)) = (crosses, out_step) {
            deps.push(out);
        }
        let addresses: Vec<String> = devices.iter().map(|(s, _)| device_address(s)).collect();
        let id = b.push(
            3,
            deps,
            addresses.clone(),
            StepOp::MoveDevices {
                target: Some(customer.clone()),
                devices,
                returning: false,
                counterparts: Vec::new(),
            },
        );
        for a in addresses {
            moved_by.insert(a, id);
        }
    }
    let deps_of = |serials: &[String], extra: Option<usize>| -> Vec<usize> {
        serials
            .iter()
            .filter_map(|s| moved_by.get(&device_address(s)).copied())
            .chain(extra)
            .collect()
    };
    for ((customer, assign, services), serials) in licences {
        let deps = deps_of(&serials, made.get(&customer).copied());
        let addresses = serials.iter().map(|s| device_address(s)).collect();
        b.push(
            4,
            deps,
            addresses,
            StepOp::Licenses {
                assign,
                services,
                serials,
                customer,
            },
        );
    }
    // Enabling auto-licence licenses the customer's unlicensed devices in the
    // background; after the explicit assignments it finds them licensed, so no device
    // is licensed twice (the order is the other way round for later moves: the move
    // step reads what auto-licence already put on a device, and `run` skips it).
    for (deps, address, op) in auto_licences {
        b.push(4, deps, vec![address], op);
    }
    let mut unassoc_by: BTreeMap<String, usize> = BTreeMap::new();
    for ((site, customer, device_type), serials) in unassoc {
        let addresses: Vec<String> = serials.iter().map(|s| device_address(s)).collect();
        let id = b.push(
            6,
            deps_of(&serials, None),
            addresses.clone(),
            StepOp::Unassociate {
                site,
                customer,
                device_type,
                serials,
            },
        );
        for a in addresses {
            unassoc_by.insert(a, id);
        }
    }
    for ((site, customer, device_type), serials) in assoc {
        let mut deps = deps_of(&serials, site_made.get(&site).copied());
        deps.extend(
            serials
                .iter()
                .filter_map(|s| unassoc_by.get(&device_address(s)).copied()),
        );
        let addresses = serials.iter().map(|s| device_address(s)).collect();
        b.push(
            7,
            deps,
            addresses,
            StepOp::Associate {
                site,
                customer,
                device_type,
                serials,
            },
        );
    }
    if !returns.is_empty() {
        let addresses: Vec<String> = returns.iter().map(|(s, _, _)| device_address(s)).collect();
        let devices = returns
            .iter()
            .map(|(s, m, _)| (s.clone(), m.clone()))
            .collect();
        let from: BTreeSet<String> = returns
            .iter()
            .filter_map(|(_, _, c)| c.clone())
            .map(|c| match c.strip_prefix("customer.(unmanaged) ") {
                Some(name) => format!("customer {name}"),
                None => c,
            })
            .collect();
        let id = b.push(
            10,
            vec![],
            addresses,
            StepOp::MoveDevices {
                target: None,
                devices,
                returning: true,
                counterparts: from.into_iter().collect(),
            },
        );
        for (_, _, from) in returns {
            if let Some(c) = from {
                removing.entry(c).or_default().push(id);
            }
        }
    }
    for a in actions
        .iter()
        .filter(|a| a.kind == Kind::Customer && a.op == Op::Delete)
    {
        let deps = removing.get(&a.address).cloned().unwrap_or_default();
        b.push(
            11,
            deps,
            vec![a.address.clone()],
            StepOp::DeleteCustomer {
                address: a.address.clone(),
            },
        );
    }
    let mut steps = b.steps;
    steps.sort_by_key(|s| (s.phase, s.id));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff;
    use crate::live::LiveDevice;
    use crate::providers::aruba::resolve::resolve;
    use crate::state::OwnedRecord;
    use std::collections::BTreeSet;

    fn example() -> (Desired, LiveSnapshot) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let desired = crate::config::load(&root.join("examples/portfolio")).unwrap();
        let devices = desired
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
        let snap = LiveSnapshot {
            provider: "aruba".into(),
            devices,
            ..Default::default()
        };
        (desired, snap)
    }

    fn find(steps: &[Step], pred: impl Fn(&StepOp) -> bool) -> Vec<&Step> {
        steps.iter().filter(|s| pred(&s.op)).collect()
    }

    #[test]
    fn onboarding_is_batched_and_ordered_parent_first() {
        let (desired, snap) = example();
        let r = resolve("aruba", &desired, &snap, &BTreeMap::new());
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let (actions, _) = diff(&r.desired, &r.live, &BTreeSet::new(), &BTreeSet::new());
        let steps = compile(&actions, &desired, &snap);
        let phases: Vec<u8> = steps.iter().map(|s| s.phase).collect();
        assert!(
            phases.windows(2).all(|w| w[0] <= w[1]),
            "steps come sorted by phase: {phases:?}"
        );
        for s in &steps {
            for d in &s.deps {
                let dep = steps.iter().find(|x| x.id == *d).unwrap();
                assert!(
                    dep.phase <= s.phase,
                    "{} depends on later {}",
                    s.label(),
                    dep.label()
                );
            }
        }
        let creates = find(&steps, |o| matches!(o, StepOp::CreateCustomer { .. }));
        assert_eq!(creates.len(), 3);
        // One batched move per customer, each after its customer's create.
        let moves = find(&steps, |o| {
            matches!(
                o,
                StepOp::MoveDevices {
                    target: Some(_),
                    ..
                }
            )
        });
        assert_eq!(moves.len(), 3);
        for m in &moves {
            let StepOp::MoveDevices {
                target: Some(t), ..
            } = &m.op
            else {
                unreachable!()
            };
            let create = creates
                .iter()
                .find(|c| matches!(&c.op, StepOp::CreateCustomer { address, .. } if address == t))
                .unwrap();
            assert!(m.deps.contains(&create.id));
        }
        // Associations after both the site create and the device move.
        for a in find(&steps, |o| matches!(o, StepOp::Associate { .. })) {
            let StepOp::Associate { site, .. } = &a.op else {
                unreachable!()
            };
            let site_step = steps
                .iter()
                .find(|s| matches!(&s.op, StepOp::CreateSite { address, .. } if address == site))
                .unwrap();
            assert!(a.deps.contains(&site_step.id), "{}", a.label());
            assert!(a.deps.iter().any(|d| moves.iter().any(|m| m.id == *d)));
        }
        // Licences grouped per customer and service set.
        let lic = find(&steps, |o| {
            matches!(o, StepOp::Licenses { assign: true, .. })
        });
        assert_eq!(
            lic.len(),
            5,
            "{:#?}",
            lic.iter().map(|s| s.label()).collect::<Vec<_>>()
        );
        assert_eq!(
            find(&steps, |o| matches!(o, StepOp::AutoLicense { .. })).len(),
            1
        );
    }

    #[test]
    fn auto_licence_is_switched_on_after_the_explicit_licences_of_its_customer() {
        let (desired, snap) = example();
        let r = resolve("aruba", &desired, &snap, &BTreeMap::new());
        let (actions, _) = diff(&r.desired, &r.live, &BTreeSet::new(), &BTreeSet::new());
        let steps = compile(&actions, &desired, &snap);
        let at = |pred: &dyn Fn(&StepOp) -> bool| -> Vec<usize> {
            (0..steps.len()).filter(|i| pred(&steps[*i].op)).collect()
        };
        let auto = at(
            &|o| matches!(o, StepOp::AutoLicense { customer, .. } if customer == "customer.coffee-shop"),
        );
        let explicit = at(
            &|o| matches!(o, StepOp::Licenses { assign: true, customer, .. } if customer == "customer.coffee-shop"),
        );
        assert_eq!(auto.len(), 1);
        assert!(!explicit.is_empty());
        assert!(
            explicit.iter().all(|i| *i < auto[0]),
            "auto-licence at {} runs after the explicit licences at {explicit:?}",
            auto[0]
        );
    }

    #[test]
    fn removal_runs_child_first() {
        let (desired, mut snap) = example();
        // Everything exists and is owned; then the files are emptied of harbor-clinic.
        snap.customers.push(crate::live::LiveCustomer {
            id: "c3".into(),
            name: "Harbor Clinic".into(),
            country: "DE".into(),
            street: String::new(),
            city: String::new(),
            state: String::new(),
            zip: String::new(),
            group: None,
            description: String::new(),
            lock_msp_ssids: false,
            auto_license: Some(vec![]),
        });
        snap.msp_id = Some("msp".into());
        for serial in ["AP0000020", "AP0000021"] {
            snap.devices.get_mut(serial).unwrap().customer_id = Some("c3".into());
        }
        let mut owned = BTreeMap::new();
        for a in [
            "customer.harbor-clinic",
            "device.AP0000020",
            "device.AP0000021",
        ] {
            owned.insert(
                a.to_string(),
                OwnedRecord {
                    provider: "aruba".into(),
                    vendor_id: Some("c3".into()),
                    parent_id: Some("c3".into()),
                    since: 0,
                    origin: "created".into(),
                    facts: BTreeMap::new(),
                },
            );
        }
        let mut less = desired.clone();
        less.customers.remove("harbor-clinic");
        less.devices.retain(|_, d| d.customer != "harbor-clinic");
        let r = resolve("aruba", &less, &snap, &owned);
        let owned_set: BTreeSet<String> = owned.keys().cloned().collect();
        let (actions, _) = diff(&r.desired, &r.live, &owned_set, &BTreeSet::new());
        let removals: Vec<&Action> = actions.iter().filter(|a| a.op == Op::Delete).collect();
        assert_eq!(removals.len(), 3);
        let steps = compile(&actions, &less, &snap);
        let ret = find(&steps, |o| {
            matches!(
                o,
                StepOp::MoveDevices {
                    target: None,
                    returning: true,
                    ..
                }
            )
        });
        assert_eq!(ret.len(), 1, "one batched return");
        assert!(
            matches!(&ret[0].op, StepOp::MoveDevices { counterparts, .. } if counterparts == &["customer.harbor-clinic"]),
            "a return names the customer the devices leave: {:?}",
            ret[0].op
        );
        let del = find(&steps, |o| matches!(o, StepOp::DeleteCustomer { .. }));
        assert_eq!(del.len(), 1);
        assert!(
            del[0].deps.contains(&ret[0].id),
            "the customer goes after its devices"
        );
        assert!(del[0].phase > ret[0].phase);
    }

    #[test]
    fn a_move_between_customers_goes_back_first_naming_where_it_is_going() {
        let (desired, mut snap) = example();
        snap.msp_id = Some("msp".into());
        snap.customers.push(crate::live::LiveCustomer {
            id: "other".into(),
            name: "Someone Else".into(),
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
        snap.devices.get_mut("AP0000001").unwrap().customer_id = Some("other".into());
        let r = resolve("aruba", &desired, &snap, &BTreeMap::new());
        let (actions, _) = diff(&r.desired, &r.live, &BTreeSet::new(), &BTreeSet::new());
        let steps = compile(&actions, &desired, &snap);
        let out = find(&steps, |o| {
            matches!(
                o,
                StepOp::MoveDevices {
                    target: None,
                    returning: false,
                    ..
                }
            )
        });
        assert_eq!(out.len(), 1);
        let StepOp::MoveDevices {
            devices,
            counterparts,
            ..
        } = &out[0].op
        else {
            unreachable!()
        };
        assert_eq!(devices.len(), 1);
        assert_eq!(counterparts, &["customer.coffee-shop"]);
        assert_eq!(
            out[0].label(),
            "move 1 device(s) back to the MSP inventory on their way into customer.coffee-shop"
        );
    }
}
