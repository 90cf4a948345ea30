//! Pure: maps ExtremeCloud's live tenants and partners onto stable addresses,
//! given the desired state and the ownership records, and builds the desired
//! records to diff. No I/O.
//!
//! Tenants are matched by owned id first, then by exact `accountName`. The vendor
//! documents no tenant update or delete, so a tenant mspform would have to delete
//! is a plan error (updates are planned; their step explains). A partner record
//! holds the declared customers the partner manages (`customers`); tenants nobody
//! declared that sit in a declared partner are reported and left where they are.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::refresh::Snapshot;
use crate::diff::{Fields, Kind, Record, Unmanaged};
use crate::model::{Customer, CustomerSpec, Desired, ExtremeCustomer, Ownership, Partner};
use crate::providers::{Owned, Resolved, customer_address, partner_address, unmanaged_address};

/// The declared customers of `provider`, by key.
pub fn declared_customers<'a>(
    provider: &str,
    desired: &'a Desired,
) -> BTreeMap<&'a str, (&'a Customer, &'a ExtremeCustomer)> {
    desired
        .customers
        .iter()
        .filter(|(_, c)| c.provider == provider)
        .filter_map(|(k, c)| match &c.spec {
            CustomerSpec::Extreme(e) => Some((k.as_str(), (c, e))),
            _ => None,
        })
        .collect()
}

/// The declared partners of `provider`, by key.
pub fn declared_partners<'a>(
    provider: &str,
    desired: &'a Desired,
) -> BTreeMap<&'a str, &'a Partner> {
    desired
        .partners
        .iter()
        .filter(|(_, p)| p.provider == provider)
        .map(|(k, p)| (k.as_str(), p))
        .collect()
}

fn customer_fields(
    name: &str,
    country: &str,
    time_zone: &str,
    contact: Option<[&str; 3]>,
    admin_user: Option<&str>,
) -> Fields {
    let mut fields = BTreeMap::from([
        ("name".to_string(), json!(name)),
        ("country".to_string(), json!(country)),
        ("time_zone".to_string(), json!(time_zone)),
    ]);
    if let Some([email, contact_name, phone]) = contact {
        fields.insert("contact.email".into(), json!(email));
        fields.insert("contact.name".into(), json!(contact_name));
        fields.insert("contact.phone".into(), json!(phone));
    }
    if let Some(admin) = admin_user {
        fields.insert("admin_user".into(), json!(admin));
    }
    fields
}

fn owned_ids<'a>(
    owned: &'a Owned,
    provider: &str,
    prefix: &str,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    owned
        .iter()
        .filter(move |(a, r)| r.provider == provider && a.starts_with(prefix))
        .filter_map(move |(a, r)| Some((&a[prefix.len()..], r.vendor_id.as_deref()?)))
}

pub fn resolve(provider: &str, desired: &Desired, snap: &Snapshot, owned: &Owned) -> Resolved {
    let mut out = Resolved::default();
    let customers = declared_customers(provider, desired);
    let exclusive = desired
        .providers
        .get(provider)
        .is_some_and(|p| p.ownership == Ownership::Exclusive);

    // Tenants: by owned id first, then by exact name.
    let mut key_of_id: BTreeMap<String, String> = BTreeMap::new();
    for (key, id) in owned_ids(owned, provider, "customer.") {
        if snap.tenant(id).is_some() && !key_of_id.contains_key(id) {
            key_of_id.insert(id.to_string(), key.to_string());
        }
    }
    for (key, (c, _)) in &customers {
        if key_of_id.values().any(|k| k == key) {
            continue;
        }
        let same_name: Vec<_> = snap
            .tenants
            .iter()
            .filter(|t| t.name == c.name && !key_of_id.contains_key(&t.id))
            .collect();
        match same_name.as_slice() {
            [] => {}
            [one] => {
                key_of_id.insert(one.id.clone(), key.to_string());
            }
            many => out.errors.push(format!(
                "customer.{key}: {} ExtremeCloud tenants are named {:?} ({}); mspform will not guess which one is meant. Rename the extras in the portal.",
                many.len(),
                c.name,
                many.iter().map(|t| t.id.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
    let mut id_of_key: BTreeMap<&str, &str> = BTreeMap::new();
    for t in &snap.tenants {
        let key = key_of_id.get(&t.id);
        let declared = key.and_then(|k| customers.get(k.as_str()));
        let address = match key {
            Some(k) => customer_address(k),
            None => unmanaged_address("customer", &t.name),
        };
        match (key, declared) {
            (Some(k), Some(_)) => {
                out.managed_customers.insert(t.id.clone());
                out.ids.insert(address.clone(), t.id.clone());
                id_of_key.insert(k.as_str(), t.id.as_str());
            }
            (Some(k), None) => {
                out.ids.insert(address.clone(), t.id.clone());
                out.errors.push(format!(
                    "customer.{k}: no longer declared, but ExtremeCloud documents no tenant delete, so mspform cannot delete tenant {:?} ({}). Delete it in the portal, or run `mspform state rm customer.{k}` to stop managing it (the tenant stays).",
                    t.name, t.id
                ));
            }
            (None, _) if exclusive => out.errors.push(format!(
                "{address}: provider `{provider}` has ownership = \"exclusive\", so this undeclared tenant ({}) would be deleted, but ExtremeCloud documents no tenant delete. Declare it, delete it in the portal, or use ownership = \"owned\".",
                t.id
            )),
            (None, _) => {}
        }
        let admin = declared.map(|(_, e)| e.admin_user.as_str());
        let fields = customer_fields(
            &t.name,
            &t.country,
            &t.time_zone,
            Some([&t.contact.email, &t.contact.name, &t.contact.phone]),
            // Write-only at the vendor (it answers null): never a difference.
            admin,
        );
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
    for (key, (c, e)) in &customers {
        out.desired.push(Record {
            address: customer_address(key),
            kind: Kind::Customer,
            provider: provider.to_string(),
            fields: customer_fields(
                &c.name,
                &e.country,
                &e.time_zone,
                e.contact
                    .as_ref()
                    .map(|c| [c.email.as_str(), c.name.as_str(), c.phone.as_str()]),
                Some(&e.admin_user),
            ),
        });
    }

    resolve_partners(provider, desired, snap, owned, &id_of_key, &mut out);
    out
}

fn resolve_partners(
    provider: &str,
    desired: &Desired,
    snap: &Snapshot,
    owned: &Owned,
    id_of_key: &BTreeMap<&str, &str>,
    out: &mut Resolved,
) {
    let partners = declared_partners(provider, desired);
    if partners.is_empty() {
        return;
    }
    let live = snap.partners();
    let key_of_tenant: BTreeMap<&str, &str> = id_of_key.iter().map(|(k, id)| (*id, *k)).collect();

    // Partners: by owned id first, then by exact name.
    let mut partner_key_of_id: BTreeMap<String, String> = BTreeMap::new();
    for (key, id) in owned_ids(owned, provider, "partner.") {
        if partners.contains_key(key) && live.iter().any(|p| p.id == id) {
            partner_key_of_id.insert(id.to_string(), key.to_string());
        }
    }
    for (key, p) in &partners {
        if partner_key_of_id.values().any(|k| k == key) {
            continue;
        }
        let same_name: Vec<_> = live
            .iter()
            .filter(|l| l.name == p.name && !partner_key_of_id.contains_key(&l.id))
            .collect();
        match same_name.as_slice() {
            [] => out.errors.push(format!(
                "partner.{key}: ExtremeCloud has no partner named {:?}, and mspform does not create partners. Create it in the portal, or fix `name` in [partners.{key}].",
                p.name
            )),
            [one] => {
                partner_key_of_id.insert(one.id.clone(), key.to_string());
            }
            many => out.errors.push(format!(
                "partner.{key}: {} ExtremeCloud partners are named {:?} ({}); mspform will not guess which one is meant. Rename the extras in the portal.",
                many.len(),
                p.name,
                many.iter().map(|l| l.id.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    for l in live {
        let Some(key) = partner_key_of_id.get(&l.id) else {
            continue;
        };
        let Some(p) = partners.get(key.as_str()) else {
            continue;
        };
        let address = partner_address(key);
        out.ids.insert(address.clone(), l.id.clone());
        let mut have: BTreeSet<&str> = BTreeSet::new();
        let mut foreign = Vec::new();
        for t in &l.tenants {
            match key_of_tenant.get(t.as_str()) {
                Some(k) => {
                    have.insert(k);
                }
                None => {
                    let name = snap.tenant(t).map(|x| x.name.as_str());
                    if name.is_none() {
                        foreign.push(t.as_str());
                    }
                    out.notes.push(Unmanaged {
                        address: format!(
                            "{address}/{}",
                            unmanaged_address("customer", name.unwrap_or(t))
                        ),
                        kind: Kind::Partner,
                        provider: provider.to_string(),
                    });
                }
            }
        }
        let want: BTreeSet<&str> = p.customers.iter().map(String::as_str).collect();
        if !foreign.is_empty() && want != have {
            out.errors.push(format!(
                "{address}: partner {:?} lists tenant id(s) that are not among the MSP's tenants ({}); ExtremeCloud refuses a tenant list naming them, so mspform cannot change this partner's tenants. Remove them from the partner in the portal.",
                l.name,
                foreign.join(", ")
            ));
        }
        // A tenant has one partner: taking one from a partner the files do not
        // declare would change that partner behind the plan's back.
        for k in &want {
            let Some(tid) = id_of_key.get(k) else {
                continue;
            };
            for holder in live
                .iter()
                .filter(|h| h.id != l.id && h.tenants.iter().any(|t| t == tid))
            {
                if !partner_key_of_id.contains_key(&holder.id) {
                    out.errors.push(format!(
                        "{address}: customer.{k} is managed by partner {:?} ({}), which the files do not declare, and an ExtremeCloud tenant has one partner. Declare that partner too (without {k}) so the move is planned on both sides, or remove {k} from it in the portal.",
                        holder.name, holder.id
                    ));
                }
            }
        }
        out.live.insert(
            address.clone(),
            Record {
                address,
                kind: Kind::Partner,
                provider: provider.to_string(),
                fields: BTreeMap::from([("customers".to_string(), json!(have))]),
            },
        );
    }
    for (key, p) in &partners {
        out.desired.push(Record {
            address: partner_address(key),
            kind: Kind::Partner,
            provider: provider.to_string(),
            fields: BTreeMap::from([("customers".to_string(), json!(p.customers))]),
        });
    }
}

/// The keys in a `customers` field value.
pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use crate::diff::Op;
    use serde_json::json;

    #[test]
    fn a_new_customer_is_created_and_an_existing_one_matched_by_exact_name() {
        let d = desired(&(customer_toml("acme", "Acme") + &customer_toml("beta", "Beta")));
        let snap = snapshot(
            vec![tenant("T1", "beta", "Beta"), tenant("T9", "x", "Other")],
            None,
        );
        let (r, actions) = plan(&d, &snap, &owned(&[]));
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.ids.get("customer.beta").map(String::as_str), Some("T1"));
        assert!(r.live.contains_key("customer[\"Other\"]"));
        let ops: Vec<(&str, Op)> = actions.iter().map(|a| (a.address.as_str(), a.op)).collect();
        assert_eq!(
            ops,
            [("customer.acme", Op::Create), ("customer.beta", Op::Adopt)]
        );
        assert!(actions[1].changes.is_empty(), "{:?}", actions[1].changes);
        assert!(
            actions[0].changed("admin_user").is_some(),
            "shown on create"
        );
    }

    #[test]
    fn owned_and_equal_is_no_change_and_admin_user_is_never_diffed() {
        let d = desired(&customer_toml("acme", "Acme"));
        let snap = snapshot(vec![tenant("T1", "acme", "Acme")], None);
        let (r, actions) = plan(&d, &snap, &owned(&[("customer.acme", "T1")]));
        assert!(actions.is_empty(), "{actions:?}");
        assert_eq!(
            r.live["customer.acme"].fields["admin_user"],
            json!("admin@acme.example")
        );
        assert!(r.managed_customers.contains("T1"));
    }

    #[test]
    fn the_owned_id_wins_over_the_name() {
        let d = desired(&customer_toml("acme", "Acme"));
        let mut renamed = tenant("T1", "acme", "Acme");
        renamed.name = "Acme Renamed".into();
        renamed.time_zone = "Europe/Paris".into();
        let snap = snapshot(vec![renamed, tenant("T2", "acme", "Acme")], None);
        let (r, actions) = plan(&d, &snap, &owned(&[("customer.acme", "T1")]));
        assert_eq!(r.ids["customer.acme"], "T1");
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].op, Op::Update);
        let fields: Vec<&str> = actions[0]
            .changes
            .iter()
            .map(|c| c.field.as_str())
            .collect();
        assert_eq!(fields, ["name", "time_zone"]);
    }

    #[test]
    fn two_tenants_with_the_declared_name_are_a_plan_error() {
        let d = desired(&customer_toml("acme", "Acme"));
        let snap = snapshot(
            vec![tenant("T1", "acme", "Acme"), tenant("T2", "acme", "Acme")],
            None,
        );
        let (r, _) = plan(&d, &snap, &owned(&[]));
        assert_eq!(r.errors.len(), 1);
        assert!(r.errors[0].contains("customer.acme") && r.errors[0].contains("T1, T2"));
    }

    #[test]
    fn an_owned_tenant_no_longer_declared_cannot_be_deleted() {
        let d = desired(&customer_toml("acme", "Acme"));
        let snap = snapshot(
            vec![tenant("T1", "acme", "Acme"), tenant("T2", "old", "Old")],
            None,
        );
        let (r, _) = plan(
            &d,
            &snap,
            &owned(&[("customer.acme", "T1"), ("customer.old", "T2")]),
        );
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        let e = &r.errors[0];
        assert!(e.starts_with("customer.old:"), "{e}");
        assert!(e.contains("no tenant delete") && e.contains("mspform state rm customer.old"));
    }

    #[test]
    fn exclusive_ownership_would_delete_undeclared_tenants_which_is_impossible() {
        let text = PROVIDER.replace(
            "type = \"extremecloud\"",
            "type = \"extremecloud\"\nownership = \"exclusive\"",
        );
        let d = crate::config::load_sources(&[(
            "t.toml".into(),
            text + &customer_toml("acme", "Acme"),
        )])
        .unwrap();
        let snap = snapshot(
            vec![tenant("T1", "acme", "Acme"), tenant("T2", "x", "Stranger")],
            None,
        );
        let r = super::resolve("ext", &d, &snap, &owned(&[]));
        assert_eq!(r.errors.len(), 1);
        assert!(r.errors[0].starts_with("customer[\"Stranger\"]:"));
    }

    #[test]
    fn a_partner_holds_the_declared_customers_it_manages_and_notes_the_rest() {
        let d = desired(
            &(customer_toml("acme", "Acme")
                + &customer_toml("beta", "Beta")
                + &partner_toml("p1", "Partner One", &["acme", "beta"])),
        );
        let snap = snapshot(
            vec![
                tenant("T1", "acme", "Acme"),
                tenant("T2", "beta", "Beta"),
                tenant("T3", "x", "Stranger"),
            ],
            Some(vec![partner("P1", "Partner One", &["T1", "T3"])]),
        );
        let (r, actions) = plan(&d, &snap, &owned(&[]));
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.ids["partner.p1"], "P1");
        assert_eq!(r.live["partner.p1"].fields["customers"], json!(["acme"]));
        let notes: Vec<&str> = r.notes.iter().map(|n| n.address.as_str()).collect();
        assert_eq!(notes, ["partner.p1/customer[\"Stranger\"]"]);
        let p = actions.iter().find(|a| a.address == "partner.p1").unwrap();
        assert_eq!(p.op, Op::Adopt);
        let c = p.changed("customers").unwrap();
        assert_eq!(
            (c.before.clone(), c.after.clone()),
            (json!(["acme"]), json!(["acme", "beta"]))
        );
    }

    #[test]
    fn partners_are_found_not_created() {
        let d =
            desired(&(customer_toml("acme", "Acme") + &partner_toml("p1", "Nobody", &["acme"])));
        let snap = snapshot(vec![], Some(vec![partner("P1", "Partner One", &[])]));
        let (r, _) = plan(&d, &snap, &owned(&[]));
        assert_eq!(r.errors.len(), 1);
        assert!(
            r.errors[0].contains("no partner named \"Nobody\"")
                && r.errors[0].contains("does not create partners")
        );

        let d = desired(&(customer_toml("acme", "Acme") + &partner_toml("p1", "Twin", &["acme"])));
        let snap = snapshot(
            vec![],
            Some(vec![partner("P1", "Twin", &[]), partner("P2", "Twin", &[])]),
        );
        let (r, _) = plan(&d, &snap, &owned(&[]));
        assert!(r.errors[0].contains("P1, P2"), "{:?}", r.errors);
        // Owned id settles which twin is meant.
        let (r, _) = plan(&d, &snap, &owned(&[("partner.p1", "P2")]));
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.ids["partner.p1"], "P2");
    }

    #[test]
    fn a_customer_held_by_an_undeclared_partner_is_not_taken_silently() {
        let d = desired(
            &(customer_toml("acme", "Acme") + &partner_toml("p1", "Partner One", &["acme"])),
        );
        let snap = snapshot(
            vec![tenant("T1", "acme", "Acme")],
            Some(vec![
                partner("P1", "Partner One", &[]),
                partner("P9", "Elsewhere", &["T1"]),
            ]),
        );
        let (r, _) = plan(&d, &snap, &owned(&[]));
        assert_eq!(r.errors.len(), 1);
        assert!(
            r.errors[0].contains("\"Elsewhere\"")
                && r.errors[0].contains("Declare that partner too")
        );
    }

    #[test]
    fn a_partner_listing_foreign_tenants_cannot_be_changed() {
        let d = desired(
            &(customer_toml("acme", "Acme") + &partner_toml("p1", "Partner One", &["acme"])),
        );
        let snap = snapshot(
            vec![tenant("T1", "acme", "Acme")],
            Some(vec![partner("P1", "Partner One", &["GHOST"])]),
        );
        let (r, _) = plan(&d, &snap, &owned(&[]));
        assert_eq!(r.errors.len(), 1);
        assert!(r.errors[0].contains("GHOST"));
        // Nothing to change: the foreign id is only reported.
        let snap = snapshot(
            vec![tenant("T1", "acme", "Acme")],
            Some(vec![partner("P1", "Partner One", &["GHOST", "T1"])]),
        );
        let (r, _) = plan(&d, &snap, &owned(&[]));
        assert!(r.errors.is_empty());
        assert_eq!(r.notes[0].address, "partner.p1/customer[\"GHOST\"]");
    }

    #[test]
    fn an_undeclared_contact_is_not_compared() {
        let d = desired(
            "[customers.acme]\nprovider = \"ext\"\nname = \"Acme\"\ncountry = \"NL\"\ntime_zone = \"Europe/Amsterdam\"\nadmin_user = \"admin@acme.example\"\n",
        );
        let mut live = tenant("T1", "acme", "Acme");
        live.contact = Default::default();
        let (r, actions) = plan(
            &d,
            &snapshot(vec![live], None),
            &owned(&[("customer.acme", "T1")]),
        );
        assert!(actions.is_empty(), "{actions:?}");
        assert!(!r.desired[0].fields.contains_key("contact.email"));
    }
}
