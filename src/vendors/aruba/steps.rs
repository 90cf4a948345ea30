//! Aruba apply steps: the plan's actions compiled into batched vendor calls
//! (one device move per customer, licences per service set, associations per site
//! and device type, chunked by 20 in `api`), each with the steps it waits for.
//! Pure: `run` executes them.
//!
//! Order is data: a step names the steps that must have succeeded first, and a
//! failed step skips only what waits for it. Creates go parent first — a
//! customer, then the devices moved into it (after leaving another customer),
//! then their licences (and the customer's auto-licence after them, so nothing is
//! licensed twice) and its sites, then the devices' site changes (out of the old
//! site before into the new one); deletes go the other way — out of a site
//! before the site is deleted, a customer deleted only after its sites and
//! devices are gone. Steps are listed in an order a single runner can follow.

use std::collections::{BTreeMap, BTreeSet};

use super::Aruba;
use super::live::LiveSnapshot;
use super::wire::{
    CustomerBody, CustomerBodyAddress, GeolocationBody, GroupRef, SiteAddressBody, SiteBody,
};
use crate::address::Address;
use crate::diff::{Action, Fields, Kind, Op};
use crate::model::SiteLocation;
use crate::vendor::{Ctx, Step, Steps};

/// Devices per licence call (the request-size limit is undocumented beyond
/// 413/417; a refused chunk is split and sent again, see `api`).
pub const LICENSE_CHUNK: usize = 100;
use gather::DeviceChanges;

#[derive(Debug, Clone, PartialEq)]
pub enum StepOp {
    /// Posts a customer and waits until it provisioned (both of the next two).
    CreateCustomer {
        address: Address,
        body: CustomerBody,
    },
    /// Posts a customer (looking it up first when an earlier run may have made it).
    PostCustomer {
        address: Address,
        body: CustomerBody,
    },
    /// Waits until a posted customer provisioned, and records it.
    AwaitCustomer {
        address: Address,
        name: String,
    },
    UpdateCustomer {
        address: Address,
        body: CustomerBody,
    },
    DeleteCustomer {
        address: Address,
    },
    /// Adopt: record ownership of a live object (its kind is the address's), no vendor call.
    Record {
        address: Address,
        parent: Option<Address>,
        facts: Fields,
    },
    Forget {
        address: Address,
    },
    AutoLicense {
        customer: Address,
        enable: Vec<String>,
        disable: Vec<String>,
        desired: Vec<String>,
    },
    /// `target` None = back to the MSP inventory; `returning` = the devices leave mspform's care.
    MoveDevices {
        target: Option<Address>,
        devices: Vec<(String, String)>,
        returning: bool,
        /// The customers on the other side, for messages: where the devices go next
        /// (a move back on the way into another customer) or where they come from (a return).
        counterparts: Vec<String>,
    },
    /// The wait until the vendor shows the move of step `move_step` landed (its
    /// fields repeat that move's). A background step: the waits gather while
    /// other writes run, so one shared read answers many of them.
    AwaitMove {
        move_step: usize,
        target: Option<Address>,
        devices: Vec<(String, String)>,
        returning: bool,
        counterparts: Vec<String>,
    },
    /// One licence call (at most [`LICENSE_CHUNK`] devices) across customers:
    /// `customers[i]` is the customer of `serials[i]`.
    Licenses {
        assign: bool,
        services: Vec<String>,
        serials: Vec<String>,
        customers: Vec<Address>,
    },
    CreateSite {
        address: Address,
        customer: Address,
        body: SiteBody,
    },
    UpdateSite {
        address: Address,
        customer: Address,
        body: SiteBody,
    },
    DeleteSite {
        address: Address,
        customer: Address,
    },
    Associate {
        site: Address,
        customer: Address,
        device_type: String,
        serials: Vec<String>,
    },
    Unassociate {
        site: Address,
        customer: Address,
        device_type: String,
        serials: Vec<String>,
    },
}

fn move_label(
    target: &Option<Address>,
    n: usize,
    returning: bool,
    counterparts: &[String],
) -> String {
    match (target, returning, counterparts.is_empty()) {
        (Some(t), _, _) => format!("move {n} device(s) into {t}"),
        (None, false, false) => format!(
            "move {n} device(s) back to the MSP inventory on their way into {}",
            counterparts.join(", ")
        ),
        (None, _, _) => format!("move {n} device(s) back to the MSP inventory"),
    }
}

/// "the move of N device(s) into X" / "… back to the MSP inventory from X", for
/// labels and messages.
pub fn move_what(
    target: &Option<Address>,
    n: usize,
    returning: bool,
    counterparts: &[String],
) -> String {
    match target {
        Some(c) => format!("the move of {n} device(s) into {c}"),
        None => {
            let side = match (returning, counterparts.is_empty()) {
                (_, true) => String::new(),
                (true, false) => format!(" from {}", counterparts.join(", ")),
                (false, false) => format!(" on their way into {}", counterparts.join(", ")),
            };
            format!("the move of {n} device(s) back to the MSP inventory{side}")
        }
    }
}

/// What a step is called in reports.
pub fn label(op: &StepOp) -> String {
    match op {
        StepOp::CreateCustomer { address, .. } | StepOp::PostCustomer { address, .. } => {
            format!("create {address}")
        }
        StepOp::AwaitCustomer { address, .. } => format!("wait for {address} to provision"),
        StepOp::UpdateCustomer { address, .. } => format!("update {address}"),
        StepOp::DeleteCustomer { address } => format!("delete {address}"),
        StepOp::Record { address, .. } => format!("adopt {address}"),
        StepOp::Forget { address } => format!("forget {address}"),
        StepOp::AutoLicense { customer, .. } => format!("set auto-licence of {customer}"),
        StepOp::MoveDevices {
            target,
            devices,
            returning,
            counterparts,
        } => move_label(target, devices.len(), *returning, counterparts),
        StepOp::AwaitMove {
            target,
            devices,
            returning,
            counterparts,
            ..
        } => format!(
            "wait for {}",
            move_what(target, devices.len(), *returning, counterparts)
        ),
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

pub fn customer_body(ctx: Ctx<'_, Aruba>, key: &str) -> Option<CustomerBody> {
    let full = ctx.desired.customers.get(key)?;
    let c = ctx.spec.customers.get(key)?;
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

pub fn site_body(ctx: Ctx<'_, Aruba>, customer: &str, site: &str) -> Option<SiteBody> {
    ctx.spec.customers.get(customer)?;
    let s = ctx.desired.customers.get(customer)?.sites.get(site)?;
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

/// A compile in progress: the steps so far and which step makes what.
struct Compiler<'a> {
    ctx: Ctx<'a, Aruba>,
    snap: &'a LiveSnapshot,
    steps: Steps<StepOp>,
    /// Customer address → the step that makes it exist (create or adopt).
    made: BTreeMap<Address, usize>,
    /// Customers posted: (post step, address, name), awaited after all posts.
    awaits: Vec<(usize, Address, String)>,
    /// Creates that may teach the MSP's own id (when the refresh did not learn it).
    creates: Vec<usize>,
    /// Site address → the step that creates or adopts it.
    site_made: BTreeMap<Address, usize>,
    /// Device address → the step moving it into its customer.
    moved_by: BTreeMap<Address, usize>,
    /// Customer address → its licence steps (assign and unassign).
    licensed: BTreeMap<Address, Vec<usize>>,
    /// Auto-licence changes, pushed once the explicit licences are known.
    auto_licences: Vec<(Address, StepOp)>,
    /// Device address → the step taking it out of its old site.
    unassoc_by: BTreeMap<Address, usize>,
    /// Site address → the steps taking devices out of it.
    leaving: BTreeMap<Address, Vec<usize>>,
    /// Sites to delete: (site, customer).
    site_deletes: Vec<(Address, Address)>,
    /// Customer address → the steps that must be done before it is deleted.
    removing: BTreeMap<Address, Vec<usize>>,
}

/// Compiles one provider's actions into batched steps with their dependencies.
pub fn compile(ctx: Ctx<'_, Aruba>, snap: &LiveSnapshot, actions: &[Action]) -> Vec<Step<StepOp>> {
    let mut c = Compiler {
        ctx,
        snap,
        steps: Steps::default(),
        made: BTreeMap::new(),
        awaits: Vec::new(),
        creates: Vec::new(),
        site_made: BTreeMap::new(),
        moved_by: BTreeMap::new(),
        licensed: BTreeMap::new(),
        auto_licences: Vec::new(),
        unassoc_by: BTreeMap::new(),
        leaving: BTreeMap::new(),
        site_deletes: Vec::new(),
        removing: BTreeMap::new(),
    };
    // State clean-up of objects gone from both sides: no vendor call, any kind.
    c.steps
        .forgets(actions, |address| StepOp::Forget { address });
    let actions: Vec<&Action> = actions.iter().filter(|a| a.op != Op::Forget).collect();
    for a in actions.iter().filter(|a| a.kind == Kind::Customer) {
        c.customer(a);
    }
    c.awaits();
    let mut changes = DeviceChanges::default();
    for a in actions.iter().filter(|a| a.kind == Kind::Device) {
        c.gather_device(a, &mut changes);
    }
    c.device_adopts(&mut changes);
    c.moves(&mut changes);
    c.licences(&mut changes);
    c.auto_licences();
    for a in actions.iter().filter(|a| a.kind == Kind::Site) {
        c.site(a);
    }
    c.unassociations(&mut changes);
    c.associations(&mut changes);
    c.deletes(&changes, &actions);
    c.steps.into_vec()
}

impl Compiler<'_> {
    fn push(&mut self, deps: Vec<usize>, addresses: Vec<Address>, op: StepOp) -> usize {
        let label = label(&op);
        self.steps.push(deps, addresses, label, op)
    }

    /// A move (`StepOp::MoveDevices`) and the background wait for it to land;
    /// returns the wait's id, what depends on the devices being there waits for.
    fn push_move(&mut self, deps: Vec<usize>, addresses: Vec<Address>, op: StepOp) -> usize {
        let StepOp::MoveDevices {
            target,
            devices,
            returning,
            counterparts,
        } = &op
        else {
            return self.push(deps, addresses, op);
        };
        let wait = StepOp::AwaitMove {
            move_step: self.steps.steps.len(),
            target: target.clone(),
            devices: devices.clone(),
            returning: *returning,
            counterparts: counterparts.clone(),
        };
        let sent = self.push(deps, addresses.clone(), op);
        let label = label(&wait);
        self.steps.push_background([sent], addresses, label, wait)
    }

    /// The step that makes `customer` exist in this apply, as a dependency.
    fn made_dep(&self, customer: &Address) -> Vec<usize> {
        self.made.get(customer).copied().into_iter().collect()
    }

    fn customer(&mut self, a: &Action) {
        let Address::Customer(key) = &a.address else {
            return;
        };
        let address = a.address.clone();
        let non_auto = a.changes.iter().any(|c| c.field != "auto_license");
        let body = customer_body(self.ctx, key);
        let made = match (a.op, body) {
            (Op::Create, Some(body)) => {
                // Posted now, waited for after every post (`awaits`): new
                // customers are posted back to back and provision together.
                let name = body.customer_name.clone();
                let op = StepOp::PostCustomer {
                    address: address.clone(),
                    body,
                };
                let id = self.push(vec![], vec![address.clone()], op);
                self.awaits.push((id, address.clone(), name));
                None
            }
            (Op::Adopt, body) => {
                let op = StepOp::Record {
                    address: address.clone(),
                    parent: None,
                    facts: Fields::new(),
                };
                let id = self.push(vec![], vec![address.clone()], op);
                if let (true, Some(body)) = (non_auto, body) {
                    let op = StepOp::UpdateCustomer {
                        address: address.clone(),
                        body,
                    };
                    self.push(vec![id], vec![address.clone()], op);
                }
                Some(id)
            }
            (Op::Update, Some(body)) if non_auto => {
                let op = StepOp::UpdateCustomer {
                    address: address.clone(),
                    body,
                };
                self.push(vec![], vec![address.clone()], op);
                None
            }
            _ => None,
        };
        if let Some(id) = made {
            self.made.insert(address.clone(), id);
        }
        if let Some(op) = auto_licence_change(a) {
            self.auto_licences.push((address, op));
        }
    }

    /// The waits for the customers posted, after every post.
    fn awaits(&mut self) {
        for (post, address, name) in std::mem::take(&mut self.awaits) {
            let op = StepOp::AwaitCustomer {
                address: address.clone(),
                name,
            };
            let id = self.push(vec![post], vec![address.clone()], op);
            self.creates.push(id);
            self.made.insert(address, id);
        }
    }

    fn device_adopts(&mut self, acc: &mut DeviceChanges) {
        for (address, customer, facts) in std::mem::take(&mut acc.adopts) {
            let deps = self.made_dep(&customer);
            let op = StepOp::Record {
                address: address.clone(),
                parent: Some(customer),
                facts,
            };
            self.push(deps, vec![address], op);
        }
    }

    /// One move back to the MSP inventory for the devices changing customer, then
    /// one move into each customer.
    fn moves(&mut self, acc: &mut DeviceChanges) {
        let out_step = (!acc.out_moves.is_empty()).then(|| {
            let op = StepOp::MoveDevices {
                target: None,
                devices: acc.out_moves.clone(),
                returning: false,
                counterparts: acc.out_into.iter().map(ToString::to_string).collect(),
            };
            let deps = self.msp_id_deps();
            self.push_move(deps, acc.out_addresses.clone(), op)
        });
        for (customer, devices) in std::mem::take(&mut acc.in_moves) {
            let mut deps = self.made_dep(&customer);
            let crosses = devices.iter().any(|d| acc.out_moves.contains(d));
            if let (true, Some(out)) = (crosses, out_step) {
                deps.push(out);
            }
            let addresses: Vec<Address> = devices.iter().map(|(s, _)| Address::device(s)).collect();
            let op = StepOp::MoveDevices {
                target: Some(customer),
                devices,
                returning: false,
                counterparts: Vec::new(),
            };
            let id = self.push_move(deps, addresses.clone(), op);
            for a in addresses {
                self.moved_by.insert(a, id);
            }
        }
    }

    /// A move back to the MSP inventory needs the MSP's own id: when the refresh
    /// did not learn it, the customer creates of this apply teach it.
    fn msp_id_deps(&self) -> Vec<usize> {
        if self.snap.msp_id.is_some() {
            Vec::new()
        } else {
            self.creates.clone()
        }
    }

    /// The steps moving these devices in, and `extra`.
    fn deps_of(&self, serials: &[String], extra: Vec<usize>) -> Vec<usize> {
        serials
            .iter()
            .filter_map(|s| self.moved_by.get(&Address::device(s)).copied())
            .chain(extra)
            .collect()
    }

    /// One call per [`LICENSE_CHUNK`] devices that change the same services the
    /// same way, across customers; each chunk waits for its devices' moves.
    fn licences(&mut self, acc: &mut DeviceChanges) {
        for ((assign, services), devices) in std::mem::take(&mut acc.licences) {
            for chunk in devices.chunks(LICENSE_CHUNK) {
                let serials: Vec<String> = chunk.iter().map(|(s, _)| s.clone()).collect();
                let customers: Vec<Address> = chunk.iter().map(|(_, c)| c.clone()).collect();
                let made: BTreeSet<usize> =
                    customers.iter().flat_map(|c| self.made_dep(c)).collect();
                let deps = self.deps_of(&serials, made.into_iter().collect());
                let addresses = serials.iter().map(Address::device).collect();
                let op = StepOp::Licenses {
                    assign,
                    services: services.clone(),
                    serials,
                    customers: customers.clone(),
                };
                let id = self.push(deps, addresses, op);
                let mut seen = BTreeSet::new();
                for c in customers {
                    if seen.insert(c.clone()) {
                        self.licensed.entry(c).or_default().push(id);
                    }
                }
            }
        }
    }

    /// Enabling auto-licence licenses the customer's unlicensed devices in the
    /// background: it waits for the explicit assignments, then finds them licensed,
    /// so no device is licensed twice (for later moves the move step reads what
    /// auto-licence already put on a device, and `run` skips it).
    fn auto_licences(&mut self) {
        for (customer, op) in std::mem::take(&mut self.auto_licences) {
            let mut deps = self.made_dep(&customer);
            deps.extend(self.licensed.get(&customer).into_iter().flatten());
            self.push(deps, vec![customer], op);
        }
    }

    fn site(&mut self, a: &Action) {
        let Address::Site(ckey, skey) = &a.address else {
            return;
        };
        let customer = Address::customer(ckey);
        let address = a.address.clone();
        let deps = self.made_dep(&customer);
        match (a.op, site_body(self.ctx, ckey, skey)) {
            (Op::Create, Some(body)) => {
                let op = StepOp::CreateSite {
                    address: address.clone(),
                    customer,
                    body,
                };
                let id = self.push(deps, vec![address.clone()], op);
                self.site_made.insert(address, id);
            }
            (Op::Adopt, body) => {
                let op = StepOp::Record {
                    address: address.clone(),
                    parent: Some(customer.clone()),
                    facts: Fields::new(),
                };
                let id = self.push(deps, vec![address.clone()], op);
                self.site_made.insert(address.clone(), id);
                if let (false, Some(body)) = (a.changes.is_empty(), body) {
                    let op = StepOp::UpdateSite {
                        address: address.clone(),
                        customer,
                        body,
                    };
                    self.push(vec![id], vec![address], op);
                }
            }
            (Op::Update, Some(body)) => {
                let op = StepOp::UpdateSite {
                    address: address.clone(),
                    customer,
                    body,
                };
                self.push(deps, vec![address], op);
            }
            (Op::Delete, _) => self.site_deletes.push((address, customer)),
            _ => {}
        }
    }

    fn unassociations(&mut self, acc: &mut DeviceChanges) {
        for ((site, customer, device_type), serials) in std::mem::take(&mut acc.unassoc) {
            let addresses: Vec<Address> = serials.iter().map(Address::device).collect();
            let deps = self.deps_of(&serials, Vec::new());
            let op = StepOp::Unassociate {
                site: site.clone(),
                customer,
                device_type,
                serials,
            };
            let id = self.push(deps, addresses.clone(), op);
            for a in addresses {
                self.unassoc_by.insert(a, id);
            }
            self.leaving.entry(site).or_default().push(id);
        }
    }

    fn associations(&mut self, acc: &mut DeviceChanges) {
        for ((site, customer, device_type), serials) in std::mem::take(&mut acc.assoc) {
            let mut deps = self.deps_of(
                &serials,
                self.site_made.get(&site).copied().into_iter().collect(),
            );
            deps.extend(
                serials
                    .iter()
                    .filter_map(|s| self.unassoc_by.get(&Address::device(s)).copied()),
            );
            let addresses = serials.iter().map(Address::device).collect();
            let op = StepOp::Associate {
                site,
                customer,
                device_type,
                serials,
            };
            self.push(deps, addresses, op);
        }
    }

    /// Site deletes (after the devices left them), device returns, then the
    /// customer deletes waiting for both.
    fn deletes(&mut self, acc: &DeviceChanges, actions: &[&Action]) {
        for (site, customer) in std::mem::take(&mut self.site_deletes) {
            let deps = self.leaving.get(&site).cloned().unwrap_or_default();
            let op = StepOp::DeleteSite {
                address: site.clone(),
                customer: customer.clone(),
            };
            let id = self.push(deps, vec![site], op);
            self.removing.entry(customer).or_default().push(id);
        }
        self.returns(acc);
        for a in actions
            .iter()
            .filter(|a| a.kind == Kind::Customer && a.op == Op::Delete)
        {
            let deps = self.removing.get(&a.address).cloned().unwrap_or_default();
            let op = StepOp::DeleteCustomer {
                address: a.address.clone(),
            };
            self.push(deps, vec![a.address.clone()], op);
        }
    }

    /// One batched move back to the MSP inventory of every device leaving mspform's care.
    fn returns(&mut self, acc: &DeviceChanges) {
        if acc.returns.is_empty() {
            return;
        }
        let addresses: Vec<Address> = acc
            .returns
            .iter()
            .map(|(s, _, _)| Address::device(s))
            .collect();
        let devices = acc
            .returns
            .iter()
            .map(|(s, m, _)| (s.clone(), m.clone()))
            .collect();
        let from: BTreeSet<String> = acc
            .returns
            .iter()
            .filter_map(|(_, _, c)| c.as_deref())
            .map(|c| match c.strip_prefix("(unmanaged) ") {
                Some(name) => format!("customer {name}"),
                None => Address::customer(c).to_string(),
            })
            .collect();
        let op = StepOp::MoveDevices {
            target: None,
            devices,
            returning: true,
            counterparts: from.into_iter().collect(),
        };
        let deps = self.msp_id_deps();
        let id = self.push_move(deps, addresses, op);
        for c in acc.returns.iter().filter_map(|(_, _, c)| c.as_deref()) {
            self.removing
                .entry(Address::customer(c))
                .or_default()
                .push(id);
        }
    }
}

/// The auto-licence services to switch on and off for a customer action.
fn auto_licence_change(a: &Action) -> Option<StepOp> {
    let change = a.changed("auto_license")?;
    let (before, after) = change.string_sets();
    let enable: Vec<String> = after.difference(&before).cloned().collect();
    let disable: Vec<String> = before.difference(&after).cloned().collect();
    if enable.is_empty() && disable.is_empty() {
        return None;
    }
    Some(StepOp::AutoLicense {
        customer: a.address.clone(),
        enable,
        disable,
        desired: after.into_iter().collect(),
    })
}

mod gather;
#[cfg(test)]
mod tests;
