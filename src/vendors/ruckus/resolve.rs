//! Pure: maps RUCKUS One's live snapshot onto stable addresses, given the desired
//! state, the ownership records and the plan options, and builds the desired
//! records to diff. No I/O.
//!
//! Customer fields: `name`, `street`, `city`, `state`, `country`, `zip`, `phone`,
//! `service_start`, `service_end` (compared by day), `tier`, `admin_email`
//! (write-only: the live value is the email mspform invited, from state) and,
//! when a resend is asked for, `invitation`. Partner fields: `name` and
//! `customers` (the keys of the managed customers in the partner's list;
//! undeclared tenants in the list are left there and reported as notes).
//! A partner's `role` (`integrator`, `installer`) is its tenant type
//! (`MSP_INTEGRATOR`, `MSP_INSTALLER`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::Ruckus;
use super::model::{RuckusCustomer, partner_type};
use super::refresh::{LiveEc, Snapshot};
use super::wire::day_of;
use crate::address::Address;
use crate::diff::{Fields, Kind, Record, Unmanaged};
use crate::model::{Customer, Partner};
use crate::vendor::{Ctx, Resolved};

/// Live `invitation` value when mspform sent the invitation.
pub const SENT: &str = "sent";
/// Live `invitation` value when it did not (adopted tenant, or none declared).
pub const NOT_SENT: &str = "not sent by mspform";
/// Desired `invitation` value when `--resend-invitation` names the customer.
pub const RESEND: &str = "resend";

/// The declared customers of this provider, by key.
pub fn declared<'a>(ctx: Ctx<'a, Ruckus>) -> BTreeMap<&'a str, (&'a Customer, &'a RuckusCustomer)> {
    ctx.customers().map(|(k, c, r)| (k, (c, r))).collect()
}

/// An optional vendor string as a field value: blank is absent (`null`).
fn opt(v: &Option<String>) -> Value {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => json!(s),
        _ => Value::Null,
    }
}

/// What mspform knows about a managed tenant's live fields (those read).
pub(crate) fn live_fields(ec: &LiveEc) -> Fields {
    let mut fields = BTreeMap::from([("name".to_string(), json!(ec.name))]);
    let Some(v) = &ec.view else {
        return fields;
    };
    let day = |d: &Option<String>| {
        d.as_deref()
            .and_then(day_of)
            .map_or(Value::Null, Value::String)
    };
    for (k, view_key, val) in [
        ("street", "street_address", opt(&v.street_address)),
        ("city", "city", opt(&v.city)),
        ("state", "state", opt(&v.state)),
        ("country", "country", opt(&v.country)),
        ("zip", "postal_code", opt(&v.postal_code)),
        ("phone", "phone_number", opt(&v.phone_number)),
        ("tier", "tier", opt(&v.tier)),
        (
            "service_start",
            "service_effective_date",
            day(&v.service_effective_date),
        ),
        (
            "service_end",
            "service_expiration_date",
            day(&v.service_expiration_date),
        ),
    ] {
        if ec.has(view_key) {
            fields.insert(k.to_string(), val);
        }
    }
    fields
}

/// The fields a declared customer manages.
pub fn desired_fields(c: &Customer, r: &RuckusCustomer) -> Fields {
    let mut fields = BTreeMap::from([("name".to_string(), json!(c.name))]);
    if let Some(a) = &r.address {
        for (k, v) in [
            ("street", &a.street),
            ("city", &a.city),
            ("state", &a.state),
            ("country", &a.country),
            ("zip", &a.zip),
        ] {
            fields.insert(k.to_string(), opt(v));
        }
    }
    for (k, v) in [
        ("phone", &r.phone),
        ("tier", &r.tier),
        ("service_start", &r.service_start),
        ("service_end", &r.service_end),
    ] {
        if v.is_some() {
            fields.insert(k.to_string(), opt(v));
        }
    }
    if let Some(admin) = &r.admin {
        fields.insert("admin_email".into(), json!(admin.email));
    }
    fields
}

/// Live tenant id → declared customer key: by owned vendor id first, then by
/// exact name (several tenants of one name are a plan error: never guess).
fn match_customers(
    ctx: Ctx<'_, Ruckus>,
    snap: &Snapshot,
    out: &mut Resolved,
) -> BTreeMap<String, String> {
    let mut key_of_id: BTreeMap<String, String> = BTreeMap::new();
    for (address, record) in ctx.owned() {
        if let Address::Customer(key) = address
            && let Some(id) = &record.vendor_id
            && snap.ec(id).is_some()
        {
            key_of_id.insert(id.clone(), key.clone());
        }
    }
    for (key, (c, _)) in declared(ctx) {
        if key_of_id.values().any(|k| k == key) {
            continue;
        }
        let same: Vec<&LiveEc> = snap
            .ecs
            .iter()
            .filter(|e| e.name == c.name && !key_of_id.contains_key(&e.id))
            .collect();
        match same.as_slice() {
            [] => {}
            [one] => {
                key_of_id.insert(one.id.clone(), key.to_string());
            }
            many => out.errors.push(format!(
                "customer.{key}: {} managed tenants are named {:?} ({}); mspform will not guess which to adopt. Rename or delete the extras in the RUCKUS One portal.",
                many.len(),
                c.name,
                many.iter().map(|e| e.id.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
    key_of_id
}

/// The live record of a managed tenant: what the vendor shows, the email
/// mspform invited (write-only at the vendor) and, when a resend is asked
/// for, whether an invitation was sent.
fn managed_fields(ctx: Ctx<'_, Ruckus>, snap: &Snapshot, ec: &LiveEc, address: &Address) -> Fields {
    let mut fields = live_fields(ec);
    let mine = ctx.owned.get(address).filter(|r| r.provider == ctx.key);
    // An invitation whose answer was lost counts as sent: never sent twice blindly.
    let invited = snap
        .invites
        .get(address)
        .filter(|_| mine.is_some())
        .map(|p| p.email.as_str())
        .or_else(|| {
            mine.and_then(|r| r.facts.get("invited"))
                .and_then(Value::as_str)
        });
    let admin = ctx
        .spec
        .customers
        .get(address.key())
        .and_then(|r| r.admin.as_ref());
    let admin_email = match (mine, admin) {
        (Some(_), _) => invited.map_or(Value::Null, |e| json!(e)),
        // Adopted tenants are not invited: their administrator is whoever
        // already is; the declared email is recorded when adopting.
        (None, Some(a)) => json!(a.email),
        (None, None) => Value::Null,
    };
    fields.insert("admin_email".into(), admin_email);
    if ctx.options.resend_invitations.contains(address) {
        let sent = if invited.is_some() { SENT } else { NOT_SENT };
        fields.insert("invitation".into(), json!(sent));
    }
    fields
}

pub fn resolve(ctx: Ctx<'_, Ruckus>, snap: &Snapshot) -> Resolved {
    let provider = ctx.key;
    let mut out = Resolved::default();
    let key_of_id = match_customers(ctx, snap, &mut out);

    for ec in &snap.ecs {
        let Some(key) = key_of_id.get(&ec.id) else {
            // Unmanaged: reported by the diff (deleted only with `ownership = "exclusive"`).
            let address = Address::unmanaged(Kind::Customer, &ec.name);
            out.ids.insert(address.clone(), ec.id.clone());
            out.live.insert(
                address.clone(),
                Record::new(address, provider, live_fields(ec)),
            );
            continue;
        };
        let address = Address::customer(key);
        out.managed_customers.insert(ec.id.clone());
        out.ids.insert(address.clone(), ec.id.clone());
        let fields = managed_fields(ctx, snap, ec, &address);
        out.live
            .insert(address.clone(), Record::new(address, provider, fields));
    }

    for (key, (c, r)) in declared(ctx) {
        let address = Address::customer(key);
        let mut fields = desired_fields(c, r);
        if ctx.options.resend_invitations.contains(&address) {
            match &r.admin {
                None => out.errors.push(format!(
                    "{address}: an invitation can only be sent again to a declared administrator; add admin = {{ email = \"…\" }} to the customer"
                )),
                Some(_) if out.live.contains_key(&address) => {
                    fields.insert("invitation".into(), json!(RESEND));
                }
                // Created in this apply: the first invitation goes out anyway.
                Some(_) => {}
            }
        }
        out.desired.push(Record::new(address, provider, fields));
    }

    partners(ctx, snap, &key_of_id, &mut out);
    out
}

/// The live record of a tech partner as `address`: its name and the keys of
/// the managed customers in its list; the other tenants there are notes.
fn live_partner(
    provider: &str,
    snap: &Snapshot,
    key_of_id: &BTreeMap<String, String>,
    address: &Address,
    id: &str,
    out: &mut Resolved,
) {
    let Some(p) = snap.partners.iter().find(|p| p.id == id) else {
        return;
    };
    let Some(assigned) = &p.assigned else {
        return;
    };
    let mut keys: Vec<String> = Vec::new();
    for ec in &assigned.ecs {
        match key_of_id.get(ec) {
            Some(k) => keys.push(k.clone()),
            None => {
                let name = snap.ec(ec).map_or(ec.as_str(), |e| e.name.as_str());
                out.notes.push(Unmanaged {
                    address: Address::unmanaged_in(address.clone(), Kind::Customer, name),
                    kind: Kind::Partner,
                    provider: provider.to_string(),
                });
            }
        }
    }
    keys.sort();
    keys.dedup();
    let fields = BTreeMap::from([
        ("name".to_string(), json!(p.name)),
        ("customers".to_string(), json!(keys)),
    ]);
    out.ids.insert(address.clone(), p.id.clone());
    out.live.insert(
        address.clone(),
        Record::new(address.clone(), provider, fields),
    );
}

/// The live tech partner a declared one names (exact name, and role when
/// given), or the plan error saying why there is none.
fn find_partner<'a>(snap: &'a Snapshot, p: &Partner, address: &Address) -> Result<&'a str, String> {
    let role = p.role.as_deref().and_then(partner_type);
    let named: Vec<_> = snap.partners.iter().filter(|l| l.name == p.name).collect();
    let found: Vec<_> = named
        .iter()
        .filter(|l| role.is_none_or(|r| r == l.tenant_type))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.id.as_str()),
        [] if named.is_empty() => {
            let known: Vec<String> = snap
                .partners
                .iter()
                .map(|l| format!("{:?} ({})", l.name, l.tenant_type))
                .collect();
            Err(format!(
                "{address}: no RUCKUS One tech partner is named {:?}; tech partners of this MSP: {}. Check `name` (exact, case-sensitive)",
                p.name,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        }
        [] => Err(format!(
            "{address}: tech partner {:?} is {}, not {}; fix `role` or remove it",
            p.name,
            named
                .iter()
                .map(|l| l.tenant_type.as_str())
                .collect::<Vec<_>>()
                .join(" and "),
            role.unwrap_or_default()
        )),
        many => Err(format!(
            "{address}: {} tech partners are named {:?} ({}); add `role` to pick one, or rename one in the portal",
            many.len(),
            p.name,
            many.iter()
                .map(|l| format!("{} {}", l.id, l.tenant_type))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Declared partners are found by exact name (and role, when given); owned but
/// undeclared ones by their recorded id, so that what mspform assigned can be
/// taken back.
fn partners(
    ctx: Ctx<'_, Ruckus>,
    snap: &Snapshot,
    key_of_id: &BTreeMap<String, String>,
    out: &mut Resolved,
) {
    let provider = ctx.key;
    let mut claimed: BTreeMap<String, Address> = BTreeMap::new();
    // Partners outside the scope were not read: nothing is said about them.
    for p in ctx
        .partners()
        .filter(|p| ctx.scope().wants(&Address::partner(&p.key)))
    {
        let address = Address::partner(&p.key);
        match find_partner(snap, p, &address) {
            Err(e) => out.errors.push(e),
            Ok(id) => match claimed.insert(id.to_string(), address.clone()) {
                Some(other) => out.errors.push(format!(
                    "{address}: tech partner {:?} is already declared as {other}; declare each tech partner once",
                    p.name
                )),
                None => live_partner(provider, snap, key_of_id, &address, id, out),
            },
        }
        let fields = BTreeMap::from([
            ("name".to_string(), json!(p.name)),
            ("customers".to_string(), json!(p.customers)),
        ]);
        out.desired.push(Record::new(address, provider, fields));
    }

    let declared: BTreeSet<Address> = ctx.partners().map(|p| Address::partner(&p.key)).collect();
    for (address, r) in ctx.owned() {
        if !matches!(address, Address::Partner(_))
            || declared.contains(address)
            || !ctx.scope().wants(address)
        {
            continue;
        }
        if let Some(id) = &r.vendor_id
            && !claimed.contains_key(id)
        {
            live_partner(provider, snap, key_of_id, address, id, out);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
