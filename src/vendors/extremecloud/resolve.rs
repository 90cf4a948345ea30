//! Pure: maps ExtremeCloud's live tenants and partners onto stable addresses,
//! given the desired state and the ownership records, and builds the desired
//! records to diff. No I/O.
//!
//! Tenants are matched by owned id first, then by exact `accountName`. The vendor
//! documents no tenant update or delete, so a tenant mspform would have to delete
//! is a plan error, and a changed tenant is planned as an update whose note says
//! it can only be made in the portal (its step fails saying so). A partner record
//! holds the declared customers the partner manages (`customers`); tenants nobody
//! declared that sit in a declared partner are reported and left where they are.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::ExtremeCloud;
use super::model::ExtremeCustomer;
use super::refresh::Snapshot;
use super::wire::{Named, Partner as LivePartner, Tenant};
use crate::address::Address;
use crate::diff::{Fields, Kind, Record, Unmanaged, same};
use crate::model::{Customer, Ownership, Partner};
use crate::vendor::{Ctx, Resolved};

/// The domain `import` gives an administrator it cannot read: reserved, never
/// a real address (RFC 2606), so such a value is never sent.
pub const UNREADABLE_DOMAIN: &str = ".invalid";

/// The declared customers of this provider, by key.
pub fn declared<'a>(
    ctx: Ctx<'a, ExtremeCloud>,
) -> BTreeMap<&'a str, (&'a Customer, &'a ExtremeCustomer)> {
    ctx.customers().map(|(k, c, e)| (k, (c, e))).collect()
}

/// The declared partners of this provider, by key.
pub fn declared_partners<'a>(ctx: Ctx<'a, ExtremeCloud>) -> BTreeMap<&'a str, &'a Partner> {
    ctx.partners().map(|p| (p.key.as_str(), p)).collect()
}

/// The fields mspform manages for a tenant. `admin_user` is write-only (the
/// vendor answers null): the live side carries the desired value, so it never
/// differs; the contact only when declared.
fn tenant_fields(
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

/// The desired fields of a declared customer.
pub fn desired_fields(c: &Customer, e: &ExtremeCustomer) -> Fields {
    tenant_fields(
        &c.name,
        &e.country,
        &e.time_zone,
        e.contact
            .as_ref()
            .map(|c| [c.email.as_str(), c.name.as_str(), c.phone.as_str()]),
        Some(&e.admin_user),
    )
}

fn live_fields(t: &Tenant, admin_user: Option<&str>) -> Fields {
    let c = &t.contact;
    tenant_fields(
        &t.name,
        &t.country,
        &t.time_zone,
        Some([&c.email, &c.name, &c.phone]),
        admin_user,
    )
}

/// An administrator id `import` could not read (and wrote as a placeholder).
pub fn is_unreadable_admin(admin_user: &str) -> bool {
    admin_user.to_ascii_lowercase().ends_with(UNREADABLE_DOMAIN)
}

pub fn resolve(ctx: Ctx<'_, ExtremeCloud>, snap: &Snapshot) -> Resolved {
    let mut out = Resolved::default();
    let customers = declared(ctx);
    let key_of_id = match_tenants(ctx, snap, &customers, &mut out);
    let id_of_key = live_tenants(ctx, snap, &customers, &key_of_id, &mut out);
    for (key, (c, e)) in &customers {
        let address = Address::customer(*key);
        if !id_of_key.contains_key(key) && is_unreadable_admin(&e.admin_user) {
            out.errors.push(format!(
                "{address}: there is no tenant named {:?} to adopt, and creating one needs its first power admin, but admin_user is {:?} (what `mspform import` writes when ExtremeCloud does not show it). Set admin_user to the administrator's e-mail address.",
                c.name, e.admin_user
            ));
        }
        out.desired
            .push(Record::new(address, ctx.key, desired_fields(c, e)));
    }
    explain_tenant_changes(ctx, &mut out);
    resolve_partners(ctx, snap, &id_of_key, &mut out);
    out
}

/// Live tenant id → customer key: by owned id first, then by exact name.
fn match_tenants(
    ctx: Ctx<'_, ExtremeCloud>,
    snap: &Snapshot,
    customers: &BTreeMap<&str, (&Customer, &ExtremeCustomer)>,
    out: &mut Resolved,
) -> BTreeMap<String, String> {
    let mut key_of_id: BTreeMap<String, String> = BTreeMap::new();
    for (address, record) in ctx.owned() {
        let (Address::Customer(key), Some(id)) = (address, record.vendor_id.as_deref()) else {
            continue;
        };
        if snap.tenant(id).is_some() && !key_of_id.contains_key(id) {
            key_of_id.insert(id.to_string(), key.clone());
        }
    }
    let names = customers.iter().map(|(k, (c, _))| (*k, c.name.as_str()));
    // None live with the name: created.
    match_names(Kind::Customer, key_of_id, names, &snap.tenants, None, out)
}

/// Completes `key_of_id` (live id → declared key, seeded with what state owns)
/// with the one live object of each remaining declared name. Several live ones
/// with the name are an error naming them: never guess. A declared name with
/// none is an error when `missing` says what it is.
fn match_names<'k, L: Named>(
    kind: Kind,
    mut key_of_id: BTreeMap<String, String>,
    declared: impl Iterator<Item = (&'k str, &'k str)>,
    live: &[L],
    missing: Option<fn(&str, &str) -> String>,
    out: &mut Resolved,
) -> BTreeMap<String, String> {
    let (prefix, what) = match kind {
        Kind::Partner => ("partner", "partners"),
        _ => ("customer", "tenants"),
    };
    for (key, name) in declared {
        if key_of_id.values().any(|k| k == key) {
            continue;
        }
        let same_name: Vec<&L> = live
            .iter()
            .filter(|l| l.name() == name && !key_of_id.contains_key(l.id()))
            .collect();
        match same_name.as_slice() {
            [] => out.errors.extend(missing.map(|m| m(key, name))),
            [one] => {
                key_of_id.insert(one.id().to_string(), key.to_string());
            }
            many => out.errors.push(format!(
                "{prefix}.{key}: {} ExtremeCloud {what} are named {name:?} ({}); mspform will not guess which one is meant. Rename the extras in the portal.",
                many.len(),
                many.iter().map(|l| l.id()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
    key_of_id
}

/// Every live tenant as a record (declared, owned, or unmanaged); returns the
/// declared customer key → tenant id of those matched.
fn live_tenants<'a>(
    ctx: Ctx<'_, ExtremeCloud>,
    snap: &'a Snapshot,
    customers: &BTreeMap<&'a str, (&Customer, &ExtremeCustomer)>,
    key_of_id: &BTreeMap<String, String>,
    out: &mut Resolved,
) -> BTreeMap<&'a str, &'a str> {
    let provider = ctx.key;
    let exclusive = ctx
        .desired
        .providers
        .get(provider)
        .is_some_and(|p| p.ownership == Ownership::Exclusive);
    let mut id_of_key: BTreeMap<&str, &str> = BTreeMap::new();
    for t in &snap.tenants {
        let key = key_of_id.get(&t.id);
        let declared = key.and_then(|k| customers.get_key_value(k.as_str()));
        let address = match key {
            Some(k) => Address::customer(k),
            None => Address::unmanaged(Kind::Customer, &t.name),
        };
        match (key, declared) {
            (Some(_), Some((k, _))) => {
                out.managed_customers.insert(t.id.clone());
                out.ids.insert(address.clone(), t.id.clone());
                id_of_key.insert(k, t.id.as_str());
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
        let admin = declared.map(|(_, (_, e))| e.admin_user.as_str());
        let fields = live_fields(t, admin);
        out.live
            .insert(address.clone(), Record::new(address, provider, fields));
    }
    id_of_key
}

/// A declared tenant whose live fields differ is planned (so drift shows), but
/// no call can change it: the plan says so in the action's note.
fn explain_tenant_changes(ctx: Ctx<'_, ExtremeCloud>, out: &mut Resolved) {
    for want in &out.desired {
        let Some(have) = out.live.get(&want.address) else {
            continue;
        };
        let changed: Vec<&str> = want
            .fields
            .iter()
            .filter(|(k, v)| !have.fields.get(*k).is_some_and(|h| same(h, v)))
            .map(|(k, _)| k.as_str())
            .collect();
        if changed.is_empty() {
            continue;
        }
        let owned = ctx
            .owned
            .get(&want.address)
            .is_some_and(|r| r.provider == ctx.key);
        let what = if owned {
            "update"
        } else {
            "adopt: already live, record as managed; then update"
        };
        out.explain.insert(
            want.address.clone(),
            format!(
                "{what} — ExtremeCloud documents no tenant update, so this change fails at apply: change {} in the portal",
                changed.join(", ")
            ),
        );
    }
}

fn resolve_partners(
    ctx: Ctx<'_, ExtremeCloud>,
    snap: &Snapshot,
    id_of_key: &BTreeMap<&str, &str>,
    out: &mut Resolved,
) {
    let partners = declared_partners(ctx);
    // Not read: outside the run's scope (the engine plans nothing for them).
    if partners.is_empty() || snap.partners.is_none() {
        return;
    }
    let key_of_id = match_partners(ctx, snap.partners(), &partners, out);
    for l in snap.partners() {
        let Some((key, p)) = key_of_id
            .get(&l.id)
            .and_then(|k| partners.get_key_value(k.as_str()))
        else {
            continue;
        };
        let address = Address::partner(*key);
        out.ids.insert(address.clone(), l.id.clone());
        let have = partner_holds(ctx.key, snap, l, &address, id_of_key, p, out);
        check_other_holders(snap.partners(), l, &address, p, id_of_key, &key_of_id, out);
        out.live.insert(
            address.clone(),
            Record::new(
                address,
                ctx.key,
                BTreeMap::from([("customers".to_string(), json!(have))]),
            ),
        );
    }
    for (key, p) in &partners {
        out.desired.push(Record::new(
            Address::partner(*key),
            ctx.key,
            BTreeMap::from([("customers".to_string(), json!(p.customers))]),
        ));
    }
}

/// Live partner id → partner key: by owned id first, then by exact name. A
/// declared partner that is not live is an error (mspform does not create partners).
fn match_partners(
    ctx: Ctx<'_, ExtremeCloud>,
    live: &[LivePartner],
    partners: &BTreeMap<&str, &Partner>,
    out: &mut Resolved,
) -> BTreeMap<String, String> {
    let mut key_of_id: BTreeMap<String, String> = BTreeMap::new();
    for (address, record) in ctx.owned() {
        let (Address::Partner(key), Some(id)) = (address, record.vendor_id.as_deref()) else {
            continue;
        };
        if partners.contains_key(key.as_str()) && live.iter().any(|p| p.id == id) {
            key_of_id.insert(id.to_string(), key.clone());
        }
    }
    let names = partners.iter().map(|(k, p)| (*k, p.name.as_str()));
    let missing: fn(&str, &str) -> String = |key, name| {
        format!(
            "partner.{key}: ExtremeCloud has no partner named {name:?}, and mspform does not create partners. Create it in the portal, or fix `name` in [partners.{key}]."
        )
    };
    match_names(Kind::Partner, key_of_id, names, live, Some(missing), out)
}

/// The declared customers a live partner holds; the tenants it holds that no
/// file declares are noted. A tenant id that is not the MSP's blocks changing
/// the partner (the vendor refuses a list naming it).
fn partner_holds<'a>(
    provider: &str,
    snap: &Snapshot,
    l: &LivePartner,
    address: &Address,
    id_of_key: &BTreeMap<&'a str, &str>,
    p: &Partner,
    out: &mut Resolved,
) -> BTreeSet<&'a str> {
    let key_of_tenant: BTreeMap<&str, &str> = id_of_key.iter().map(|(k, id)| (*id, *k)).collect();
    let mut have = BTreeSet::new();
    let mut foreign = Vec::new();
    for t in &l.tenants {
        if let Some(k) = key_of_tenant.get(t.as_str()) {
            have.insert(*k);
            continue;
        }
        let name = snap.tenant(t).map(|x| x.name.as_str());
        if name.is_none() {
            foreign.push(t.as_str());
        }
        out.notes.push(Unmanaged {
            address: Address::unmanaged_in(address.clone(), Kind::Customer, name.unwrap_or(t)),
            kind: Kind::Partner,
            provider: provider.to_string(),
        });
    }
    let want: BTreeSet<&str> = p.customers.iter().map(String::as_str).collect();
    if !foreign.is_empty() && want != have {
        out.errors.push(format!(
            "{address}: partner {:?} lists tenant id(s) that are not among the MSP's tenants ({}); ExtremeCloud refuses a tenant list naming them, so mspform cannot change this partner's tenants. Remove them from the partner in the portal.",
            l.name,
            foreign.join(", ")
        ));
    }
    have
}

/// A tenant has one partner: taking one from a partner the files do not
/// declare would change that partner behind the plan's back.
fn check_other_holders(
    live: &[LivePartner],
    l: &LivePartner,
    address: &Address,
    p: &Partner,
    id_of_key: &BTreeMap<&str, &str>,
    declared_ids: &BTreeMap<String, String>,
    out: &mut Resolved,
) {
    for k in &p.customers {
        let Some(tid) = id_of_key.get(k.as_str()) else {
            continue;
        };
        for holder in live
            .iter()
            .filter(|h| h.id != l.id && h.tenants.iter().any(|t| t == tid))
        {
            if !declared_ids.contains_key(&holder.id) {
                out.errors.push(format!(
                    "{address}: customer.{k} is managed by partner {:?} ({}), which the files do not declare, and an ExtremeCloud tenant has one partner. Declare that partner too (without {k}) so the move is planned on both sides, or remove {k} from it in the portal.",
                    holder.name, holder.id
                ));
            }
        }
    }
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
        assert_eq!(
            r.ids.get(&a("customer.beta")).map(String::as_str),
            Some("T1")
        );
        assert!(r.live.contains_key(&a("customer[\"Other\"]")));
        assert_eq!(
            ops(&actions),
            [
                op("customer.acme", Op::Create),
                op("customer.beta", Op::Adopt)
            ]
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
            r.live[&a("customer.acme")].fields["admin_user"],
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
        assert_eq!(r.ids[&a("customer.acme")], "T1");
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
        let (r, _) = plan(&d, &snap, &owned(&[]));
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
        assert_eq!(r.ids[&a("partner.p1")], "P1");
        assert_eq!(
            r.live[&a("partner.p1")].fields["customers"],
            json!(["acme"])
        );
        let notes: Vec<String> = r.notes.iter().map(|n| n.address.to_string()).collect();
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
        assert_eq!(r.ids[&a("partner.p1")], "P2");
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

    #[test]
    fn a_tenant_change_is_planned_with_a_note_that_it_can_only_be_made_in_the_portal() {
        let d = desired(&customer_toml("acme", "Acme"));
        let mut live = tenant("T1", "acme", "Acme");
        live.time_zone = "Europe/Paris".into();
        live.contact.phone = "0".into();
        // Owned: an update.
        let (_, actions) = plan(
            &d,
            &snapshot(vec![live.clone()], None),
            &owned(&[("customer.acme", "T1")]),
        );
        assert_eq!(ops(&actions), [op("customer.acme", Op::Update)]);
        assert_eq!(
            actions[0].note.as_deref(),
            Some(
                "update — ExtremeCloud documents no tenant update, so this change fails at apply: change contact.phone, time_zone in the portal"
            )
        );
        // Not owned yet: an adoption that records ownership, then the same refusal.
        let (_, actions) = plan(&d, &snapshot(vec![live], None), &owned(&[]));
        assert_eq!(ops(&actions), [op("customer.acme", Op::Adopt)]);
        let note = actions[0].note.as_deref().unwrap();
        assert!(
            note.starts_with("adopt: already live, record as managed; then update")
                && note.ends_with("change contact.phone, time_zone in the portal"),
            "{note}"
        );
        // Nothing differs: no note (the plan says what it always says).
        let (_, actions) = plan(
            &d,
            &snapshot(vec![tenant("T1", "acme", "Acme")], None),
            &owned(&[]),
        );
        assert_eq!(actions[0].note, None);
    }

    #[test]
    fn an_unreadable_admin_blocks_only_a_create() {
        let toml = customer_toml("acme", "Acme")
            .replace("admin@acme.example", "unknown@admin-user.invalid");
        let d = desired(&toml);
        // The tenant is live: adopted, the placeholder is never sent.
        let (r, actions) = plan(
            &d,
            &snapshot(vec![tenant("T1", "acme", "Acme")], None),
            &owned(&[]),
        );
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(ops(&actions), [op("customer.acme", Op::Adopt)]);
        assert!(actions[0].changes.is_empty());
        // Gone: creating it would send the placeholder, so the plan stops.
        let (r, _) = plan(&d, &snapshot(vec![], None), &owned(&[]));
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        assert!(
            r.errors[0].starts_with("customer.acme: there is no tenant named \"Acme\"")
                && r.errors[0].contains("Set admin_user"),
            "{}",
            r.errors[0]
        );
    }
}
