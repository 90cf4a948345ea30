//! Which objects a run covers: `--target` and `--exclude` globs resolved
//! against what the files declare and state owns, before any vendor is read.
//!
//! A target takes the objects it matches, what lies inside them (a customer's
//! sites and devices), and what they depend on (a device's customer and site,
//! a site's customer, a partner's customers), as Terraform's `-target` does:
//! planning a device whose customer does not exist yet plans the customer too.
//! An exclude removes the objects it matches, what lies inside them, and what
//! depends on them (a partner that manages an excluded customer). A glob that
//! matches nothing is an error, naming the closest address: a typo must not
//! silently plan everything, or nothing.
//!
//! The result narrows what the vendors read ([`crate::vendor::Scope`]) and what
//! the plan contains.

use std::collections::{BTreeMap, BTreeSet};

use crate::address::{Address, AddressGlob};
use crate::model::Desired;
use crate::vendor::Owned;

/// The `--target` and `--exclude` globs of a run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub targets: Vec<AddressGlob>,
    pub excludes: Vec<AddressGlob>,
    /// Exactly these objects and what they depend on (nothing inside them):
    /// the re-read of a saved plan's inputs.
    pub exact: Option<BTreeSet<Address>>,
}

/// What a selection covers, resolved against the files and the state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selected {
    /// The objects covered; `None`: everything (no target, no exclude).
    pub only: Option<BTreeSet<Address>>,
    /// Objects covered only because a target depends on them.
    pub pulled_in: BTreeSet<Address>,
    /// Objects left out only because they depend on an excluded one.
    pub dragged_out: BTreeSet<Address>,
    /// The providers of the objects covered; `None`: every provider.
    pub providers: Option<BTreeSet<String>>,
}

impl Selected {
    /// Whether `address` is covered: itself, or (for an object nobody
    /// declares, found inside a declared one) its parent.
    pub fn covers(&self, address: &Address) -> bool {
        match (&self.only, address) {
            (None, _) => true,
            (
                Some(_),
                Address::Unmanaged {
                    parent: Some(parent),
                    ..
                },
            ) => self.covers(parent),
            (Some(_), Address::Unmanaged { parent: None, .. }) => false,
            (Some(set), a) => set.contains(a),
        }
    }
}

impl Selection {
    /// Parses the globs; the error names the one that is not valid.
    pub fn parse(targets: &[String], excludes: &[String]) -> Result<Selection, String> {
        let globs = |flag: &str, texts: &[String]| -> Result<Vec<AddressGlob>, String> {
            texts
                .iter()
                .map(|t| AddressGlob::new(t).map_err(|e| format!("{flag} {t}: {e}")))
                .collect()
        };
        Ok(Selection {
            targets: globs("--target", targets)?,
            excludes: globs("--exclude", excludes)?,
            exact: None,
        })
    }

    /// Exactly these objects and what they depend on. An object nobody
    /// declares stands for the one it sits in; one that sits in nothing (an
    /// undeclared customer) can only be found by reading everything.
    pub fn exact(addresses: impl IntoIterator<Item = Address>) -> Selection {
        let mut exact = BTreeSet::new();
        for address in addresses {
            match address {
                Address::Unmanaged {
                    parent: Some(parent),
                    ..
                } => {
                    exact.insert(*parent);
                }
                Address::Unmanaged { parent: None, .. } => return Selection::default(),
                a => {
                    exact.insert(a);
                }
            }
        }
        Selection {
            exact: Some(exact),
            ..Selection::default()
        }
    }

    pub fn is_everything(&self) -> bool {
        self.targets.is_empty() && self.excludes.is_empty() && self.exact.is_none()
    }

    /// The globs as given, for a saved plan (`--target` first, then `--exclude`).
    pub fn texts(&self) -> (Vec<String>, Vec<String>) {
        let text = |g: &[AddressGlob]| g.iter().map(|g| g.as_str().to_string()).collect();
        (text(&self.targets), text(&self.excludes))
    }

    /// Resolves the globs against the declared and owned objects. Every glob
    /// must match at least one of them.
    pub fn resolve(&self, desired: &Desired, owned: &Owned) -> Result<Selected, Vec<String>> {
        if self.is_everything() {
            return Ok(Selected::default());
        }
        let graph = Graph::new(desired, owned);
        if let Some(exact) = &self.exact {
            let only = graph.close(exact, |a| graph.depends_on(a));
            return Ok(Selected {
                providers: Some(graph.providers(&only)),
                only: Some(only),
                ..Selected::default()
            });
        }
        let mut errors = Vec::new();
        let mut matched = |globs: &[AddressGlob], flag: &str| -> BTreeSet<Address> {
            let mut out = BTreeSet::new();
            for glob in globs {
                let hits: Vec<&Address> = graph.all.iter().filter(|a| glob.matches(a)).collect();
                if hits.is_empty() {
                    errors.push(nothing_matches(flag, glob, &graph.all));
                }
                for hit in hits {
                    out.extend(graph.inside(hit));
                }
            }
            out
        };
        let targeted = matched(&self.targets, "--target");
        let excluded = matched(&self.excludes, "--exclude");
        if !errors.is_empty() {
            return Err(errors);
        }
        let out = graph.close(&excluded, |a| graph.dependents(a));
        // A target the excludes leave nothing of would plan only what it pulls in.
        for glob in &self.targets {
            let kept = graph
                .all
                .iter()
                .filter(|a| glob.matches(a))
                .flat_map(|hit| graph.inside(hit))
                .any(|a| !out.contains(&a));
            if !kept {
                errors.push(format!(
                    "--target {}: every object it matches is left out by --exclude (itself, or something it depends on); drop one of the two",
                    glob.as_str()
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut selected = Selected::default();
        let mut only = if self.targets.is_empty() {
            graph.all.clone()
        } else {
            let closed = graph.close(&targeted, |a| graph.depends_on(a));
            selected.pulled_in = closed.difference(&targeted).cloned().collect();
            closed
        };
        selected.dragged_out = out
            .difference(&excluded)
            .filter(|a| only.contains(*a))
            .cloned()
            .collect();
        only.retain(|a| !out.contains(a));
        selected.pulled_in.retain(|a| only.contains(a));
        selected.providers = Some(graph.providers(&only));
        selected.only = Some(only);
        Ok(selected)
    }
}

/// How the declared and owned objects depend on each other.
pub struct Dependencies(Graph);

impl Dependencies {
    pub fn new(desired: &Desired, owned: &Owned) -> Dependencies {
        Dependencies(Graph::new(desired, owned))
    }

    /// What `address` depends on, directly or not (a device: its customer and
    /// site; a site: its customer; a partner: its customers), itself excluded.
    pub fn of(&self, address: &Address) -> BTreeSet<Address> {
        let start = BTreeSet::from([address.clone()]);
        let mut all = self.0.close(&start, |a| self.0.depends_on(a));
        all.remove(address);
        all
    }

    /// What depends on `address`, directly or not (a customer: its sites and
    /// devices, declared or owned; a site: its devices), itself excluded.
    pub fn on(&self, address: &Address) -> BTreeSet<Address> {
        let start = BTreeSet::from([address.clone()]);
        let mut all = self.0.close(&start, |a| self.0.dependents(a));
        all.remove(address);
        all
    }
}

/// Deletes and replacements a selection must not carry out: one of an object
/// pulled in only as a dependency of the targets, or of one that has objects
/// depending on it (its sites, its devices) outside the selection — deleting
/// a customer with excluded devices still in it would strip them. Removes
/// them from `actions` and says why, one line each.
pub fn hold_back_deletes(
    actions: &mut Vec<crate::diff::Action>,
    selected: &Selected,
    dependencies: &Dependencies,
) -> Vec<String> {
    use crate::diff::Op;
    if selected.only.is_none() {
        return Vec::new();
    }
    let mut held = Vec::new();
    actions.retain(|a| {
        if !matches!(a.op, Op::Delete | Op::Replace) {
            return true;
        }
        let verb = if a.op == Op::Delete { "delete" } else { "replacement" };
        if selected.pulled_in.contains(&a.address) {
            held.push(format!(
                "{}: its {verb} is left out: it is in the plan only as a dependency of the targets; target it to {}",
                a.address,
                if a.op == Op::Delete { "delete it" } else { "replace it" }
            ));
            return false;
        }
        let outside: Vec<Address> = dependencies
            .on(&a.address)
            .into_iter()
            .filter(|d| !selected.covers(d))
            .collect();
        if outside.is_empty() {
            return true;
        }
        held.push(format!(
            "{}: its {verb} is left out: {} depend{} on it and {} outside the selection (--target/--exclude); include {} or plan without a selection",
            a.address,
            crate::plan::render::some(&outside, 5),
            if outside.len() == 1 { "s" } else { "" },
            if outside.len() == 1 { "is" } else { "are" },
            if outside.len() == 1 { "it" } else { "them" },
        ));
        false
    });
    held
}

/// The error of a glob that matches nothing, with the closest address.
fn nothing_matches(flag: &str, glob: &AddressGlob, all: &BTreeSet<Address>) -> String {
    let texts: Vec<String> = all.iter().map(Address::to_string).collect();
    let hint = crate::config::text::did_you_mean(glob.as_str(), texts.iter().map(String::as_str));
    format!(
        "{flag} {glob} matches nothing the files declare or the state owns; {hint}addresses are customer.KEY, site.CUSTOMER/SITE, device.SERIAL and partner.KEY (`mspform state list` shows the owned ones)"
    )
}

/// The declared and owned objects and how they depend on each other.
struct Graph {
    all: BTreeSet<Address>,
    /// Address → what it depends on.
    needs: BTreeMap<Address, BTreeSet<Address>>,
    /// Address → what depends on it.
    needed_by: BTreeMap<Address, BTreeSet<Address>>,
    /// Customer address → devices assigned to it (declared, or owned with it
    /// as their recorded parent).
    devices: BTreeMap<Address, BTreeSet<Address>>,
    /// Address → the provider it belongs to.
    provider: BTreeMap<Address, String>,
}

impl Graph {
    fn new(desired: &Desired, owned: &Owned) -> Graph {
        let mut graph = Graph {
            all: BTreeSet::new(),
            needs: BTreeMap::new(),
            needed_by: BTreeMap::new(),
            devices: BTreeMap::new(),
            provider: BTreeMap::new(),
        };
        for (key, customer) in &desired.customers {
            graph.all.insert(Address::customer(key));
            graph
                .provider
                .insert(Address::customer(key), customer.provider.clone());
            for site in customer.sites.keys() {
                graph.edge(Address::site(key, site), Address::customer(key));
                graph
                    .provider
                    .insert(Address::site(key, site), customer.provider.clone());
            }
        }
        for (serial, device) in &desired.devices {
            let address = Address::device(serial);
            let customer = Address::customer(&device.customer);
            graph.edge(address.clone(), customer.clone());
            if let Some(site) = &device.site {
                graph.edge(address.clone(), Address::site(&device.customer, site));
            }
            if let Some(c) = desired.customers.get(&device.customer) {
                graph.provider.insert(address.clone(), c.provider.clone());
            }
            graph.devices.entry(customer).or_default().insert(address);
        }
        for (key, partner) in &desired.partners {
            for customer in &partner.customers {
                graph.edge(Address::partner(key), Address::customer(customer));
            }
            graph.all.insert(Address::partner(key));
            graph
                .provider
                .insert(Address::partner(key), partner.provider.clone());
        }
        // Owned objects the files no longer declare (to be deleted or
        // forgotten): a site lies in its customer, a device in the customer
        // whose vendor id it records as its parent.
        let customer_by_id: BTreeMap<(&str, &str), &Address> = owned
            .iter()
            .filter(|(a, _)| matches!(a, Address::Customer(_)))
            .filter_map(|(a, r)| Some(((r.provider.as_str(), r.vendor_id.as_deref()?), a)))
            .collect();
        for (address, record) in owned.iter().filter(|(a, _)| a.is_declared()) {
            graph.all.insert(address.clone());
            graph
                .provider
                .entry(address.clone())
                .or_insert_with(|| record.provider.clone());
            match address {
                Address::Site(c, _) => graph.edge(address.clone(), Address::customer(c)),
                Address::Device(_) => {
                    let parent = record
                        .parent_id
                        .as_deref()
                        .and_then(|id| customer_by_id.get(&(record.provider.as_str(), id)));
                    if let Some(customer) = parent {
                        graph
                            .devices
                            .entry((*customer).clone())
                            .or_default()
                            .insert(address.clone());
                    }
                }
                _ => {}
            }
        }
        graph
    }

    fn edge(&mut self, from: Address, to: Address) {
        self.all.insert(from.clone());
        self.all.insert(to.clone());
        self.needed_by
            .entry(to.clone())
            .or_default()
            .insert(from.clone());
        self.needs.entry(from).or_default().insert(to);
    }

    /// The providers of these objects.
    fn providers(&self, addresses: &BTreeSet<Address>) -> BTreeSet<String> {
        addresses
            .iter()
            .filter_map(|a| self.provider.get(a).cloned())
            .collect()
    }

    /// `address` and what lies inside it: a customer's sites and devices.
    fn inside(&self, address: &Address) -> BTreeSet<Address> {
        let mut out: BTreeSet<Address> = self
            .all
            .iter()
            .filter(|a| a.is_within(address))
            .cloned()
            .collect();
        if let Some(devices) = self.devices.get(address) {
            out.extend(devices.iter().cloned());
        }
        out
    }

    fn depends_on(&self, address: &Address) -> Vec<Address> {
        self.needs
            .get(address)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn dependents(&self, address: &Address) -> Vec<Address> {
        let mut out: Vec<Address> = self
            .needed_by
            .get(address)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        if let Some(devices) = self.devices.get(address) {
            out.extend(devices.iter().cloned());
        }
        out
    }

    /// `start` and everything reachable from it through `next`.
    fn close(
        &self,
        start: &BTreeSet<Address>,
        next: impl Fn(&Address) -> Vec<Address>,
    ) -> BTreeSet<Address> {
        let mut seen = start.clone();
        let mut todo: Vec<Address> = start.iter().cloned().collect();
        while let Some(a) = todo.pop() {
            for n in next(&a) {
                if seen.insert(n.clone()) {
                    todo.push(n);
                }
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::OwnedRecord;

    const FILES: &str = r#"
[providers.central]
type = "aruba-central"
base_url = "https://apigw-prod2.central.arubanetworks.com"
token = { env = "ARUBA_TOKEN" }

[customers.acme-retail]
provider = "central"
name = "Acme Retail"
country = "US"
address = { street = "1 Main St", city = "Austin", state = "Texas", zip = "73301" }
[customers.acme-retail.sites.hq]
name = "HQ"
address = { street = "1 Main St", city = "Austin", state = "Texas", country = "United States" }

[customers.acme-labs]
provider = "central"
name = "Acme Labs"
country = "US"
address = { street = "2 Main St", city = "Austin", state = "Texas", zip = "73301" }

[customers.globex]
provider = "central"
name = "Globex"
country = "US"
address = { street = "3 Main St", city = "Austin", state = "Texas", zip = "73301" }

[devices.AP0001]
customer = "acme-retail"
mac = "20:4C:03:00:00:01"
site = "hq"
"#;

    fn desired() -> Desired {
        crate::config::load_sources(&[("t.toml".into(), FILES.to_string())]).expect("loads")
    }

    fn resolve(
        targets: &[&str],
        excludes: &[&str],
        owned: &Owned,
    ) -> Result<Selected, Vec<String>> {
        let texts = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Selection::parse(&texts(targets), &texts(excludes))
            .expect("globs parse")
            .resolve(&desired(), owned)
    }

    fn names(set: &BTreeSet<Address>) -> Vec<String> {
        set.iter().map(Address::to_string).collect()
    }

    #[test]
    fn no_glob_covers_everything() {
        let s = resolve(&[], &[], &Owned::new()).unwrap();
        assert_eq!(s.only, None);
        assert!(s.covers(&Address::unmanaged(crate::diff::Kind::Customer, "Anyone")));
    }

    #[test]
    fn a_customer_target_takes_its_sites_and_devices() {
        let s = resolve(&["customer.acme-retail"], &[], &Owned::new()).unwrap();
        assert_eq!(
            s.only.unwrap(),
            BTreeSet::from([
                Address::customer("acme-retail"),
                Address::site("acme-retail", "hq"),
                Address::device("AP0001"),
            ])
        );
        assert!(s.pulled_in.is_empty());
    }

    #[test]
    fn a_device_target_pulls_in_its_customer_and_site() {
        let s = resolve(&["device.AP0001"], &[], &Owned::new()).unwrap();
        let only = s.only.as_ref().unwrap();
        assert!(only.contains(&Address::customer("acme-retail")));
        assert!(only.contains(&Address::site("acme-retail", "hq")));
        assert!(!only.contains(&Address::customer("acme-labs")));
        assert_eq!(
            names(&s.pulled_in),
            vec!["customer.acme-retail", "site.acme-retail/hq"]
        );
    }

    #[test]
    fn globs_match_many_and_excludes_drag_out_dependents() {
        let s = resolve(
            &["customer.acme-*"],
            &["customer.acme-retail"],
            &Owned::new(),
        )
        .unwrap();
        let only = s.only.as_ref().unwrap();
        assert_eq!(names(only), vec!["customer.acme-labs"]);
        // The excluded customer's device goes with it, as something inside it.
        assert!(!s.covers(&Address::device("AP0001")));

        let s = resolve(&[], &["site.acme-retail/hq"], &Owned::new()).unwrap();
        let only = s.only.as_ref().unwrap();
        assert!(only.contains(&Address::customer("acme-retail")));
        assert!(!only.contains(&Address::device("AP0001")));
        assert_eq!(names(&s.dragged_out), vec!["device.AP0001"]);
    }

    #[test]
    fn a_glob_that_matches_nothing_is_an_error_with_a_suggestion() {
        let errors =
            resolve(&["customer.acme-retial"], &["device.XX*"], &Owned::new()).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("--target customer.acme-retial matches nothing"));
        assert!(errors[0].contains("did you mean `customer.acme-retail`"));
        assert!(errors[1].starts_with("--exclude device.XX* matches nothing"));
    }

    #[test]
    fn owned_objects_the_files_dropped_can_be_targeted() {
        let mut owned = Owned::new();
        let record = |id: &str, parent: Option<&str>| OwnedRecord {
            provider: "central".into(),
            vendor_id: Some(id.into()),
            parent_id: parent.map(String::from),
            since: 0,
            origin: "created".into(),
            facts: Default::default(),
        };
        owned.insert(Address::customer("globex"), record("c1", None));
        owned.insert(Address::device("AP0099"), record("AP0099", Some("c1")));
        owned.insert(Address::customer("gone"), record("c2", None));
        let s = resolve(&["customer.gone"], &[], &owned).unwrap();
        assert_eq!(names(s.only.as_ref().unwrap()), vec!["customer.gone"]);
        // A device the files no longer declare lies in the customer it was moved to.
        let s = resolve(&["customer.globex"], &[], &owned).unwrap();
        assert!(s.covers(&Address::device("AP0099")));
    }

    #[test]
    fn an_invalid_glob_names_the_flag() {
        let e = Selection::parse(&["customers.acme".into()], &[]).unwrap_err();
        assert!(e.starts_with("--target customers.acme:"), "{e}");
    }
}
