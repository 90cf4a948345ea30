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

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::refresh::{LiveEc, Snapshot};
use super::wire::day_of;
use crate::diff::{Fields, Kind, Record, Unmanaged};
use crate::model::{Customer, Desired, RuckusCustomer};
use crate::providers::{
    PlanOptions, Resolved, customer_address, partner_address, unmanaged_address,
};
use crate::state::OwnedRecord;

/// Live `invitation` value when mspform sent the invitation.
pub const SENT: &str = "sent";
/// Live `invitation` value when it did not (adopted tenant, or none declared).
pub const NOT_SENT: &str = "not sent by mspform";
/// Desired `invitation` value when `--resend-invitation` names the customer.
pub const RESEND: &str = "resend";

fn ruckus(c: &Customer) -> Option<&RuckusCustomer> {
    match &c.spec {
        crate::model::CustomerSpec::Ruckus(r) => Some(r),
        _ => None,
    }
}

/// An optional vendor string as a field value: blank is absent (`null`).
fn opt(v: &Option<String>) -> Value {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => json!(s),
        _ => Value::Null,
    }
}

/// What mspform knows about a managed tenant's live fields.
fn live_fields(ec: &LiveEc) -> Fields {
    let mut fields = BTreeMap::from([("name".to_string(), json!(ec.name))]);
    let Some(v) = &ec.view else {
        return fields;
    };
    let day = |d: &Option<String>| {
        d.as_deref()
            .and_then(day_of)
            .map_or(Value::Null, Value::String)
    };
    for (k, val) in [
        ("street", opt(&v.street_address)),
        ("city", opt(&v.city)),
        ("state", opt(&v.state)),
        ("country", opt(&v.country)),
        ("zip", opt(&v.postal_code)),
        ("phone", opt(&v.phone_number)),
        ("tier", opt(&v.tier)),
        ("service_start", day(&v.service_effective_date)),
        ("service_end", day(&v.service_expiration_date)),
    ] {
        fields.insert(k.to_string(), val);
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

pub fn resolve(
    provider: &str,
    desired: &Desired,
    snap: &Snapshot,
    owned: &BTreeMap<String, OwnedRecord>,
    options: &PlanOptions,
) -> Resolved {
    let mut out = Resolved::default();
    let customers: BTreeMap<&str, (&Customer, &RuckusCustomer)> = desired
        .customers
        .iter()
        .filter(|(_, c)| c.provider == provider)
        .filter_map(|(k, c)| Some((k.as_str(), (c, ruckus(c)?))))
        .collect();

    // Customers: by owned vendor id first, then by exact name.
    let mut key_of_id: BTreeMap<String, String> = BTreeMap::new();
    for (address, record) in owned {
        if record.provider == provider
            && let Some(key) = address.strip_prefix("customer.")
            && let Some(id) = &record.vendor_id
            && snap.ec(id).is_some()
        {
            key_of_id.insert(id.clone(), key.to_string());
        }
    }
    for (key, (c, _)) in &customers {
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

    for ec in &snap.ecs {
        let Some(key) = key_of_id.get(&ec.id) else {
            // Unmanaged: reported by the diff (deleted only with `ownership = "exclusive"`).
            let address = unmanaged_address("customer", &ec.name);
            out.ids.insert(address.clone(), ec.id.clone());
            out.live.insert(
                address.clone(),
                record(provider, Kind::Customer, &address, live_fields(ec)),
            );
            continue;
        };
        let address = customer_address(key);
        out.managed_customers.insert(ec.id.clone());
        out.ids.insert(address.clone(), ec.id.clone());
        let mut fields = live_fields(ec);
        let mine = owned.get(&address).filter(|r| r.provider == provider);
        // An invitation whose answer was lost counts as sent: never sent twice blindly.
        let invited = snap
            .invites
            .get(&address)
            .filter(|_| mine.is_some())
            .map(|p| p.email.as_str())
            .or_else(|| {
                mine.and_then(|r| r.facts.get("invited"))
                    .and_then(Value::as_str)
            });
        let admin = customers
            .get(key.as_str())
            .and_then(|(_, r)| r.admin.as_ref());
        let admin_email = match (mine, admin) {
            (Some(_), _) => invited.map_or(Value::Null, |e| json!(e)),
            // Adopted tenants are not invited: their administrator is whoever
            // already is; the declared email is recorded when adopting.
            (None, Some(a)) => json!(a.email),
            (None, None) => Value::Null,
        };
        fields.insert("admin_email".into(), admin_email);
        if options.resend_invitations.contains(&address) {
            let sent = if invited.is_some() { SENT } else { NOT_SENT };
            fields.insert("invitation".into(), json!(sent));
        }
        out.live.insert(
            address.clone(),
            record(provider, Kind::Customer, &address, fields),
        );
    }

    for (key, (c, r)) in &customers {
        let address = customer_address(key);
        let mut fields = desired_fields(c, r);
        if options.resend_invitations.contains(&address) {
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
        out.desired
            .push(record(provider, Kind::Customer, &address, fields));
    }

    partners(provider, desired, snap, owned, &key_of_id, &mut out);
    out
}

fn record(provider: &str, kind: Kind, address: &str, fields: Fields) -> Record {
    Record {
        address: address.to_string(),
        kind,
        provider: provider.to_string(),
        fields,
    }
}

/// Declared partners are found by exact name (and role, when given); owned but
/// undeclared ones by their recorded id, so that what mspform assigned can be
/// taken back.
fn partners(
    provider: &str,
    desired: &Desired,
    snap: &Snapshot,
    owned: &BTreeMap<String, OwnedRecord>,
    key_of_id: &BTreeMap<String, String>,
    out: &mut Resolved,
) {
    let mut claimed: BTreeMap<String, String> = BTreeMap::new();
    let live_partner = |address: &str, id: &str, out: &mut Resolved| {
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
                        address: format!("{address}/{}", unmanaged_address("customer", name)),
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
        out.ids.insert(address.to_string(), p.id.clone());
        out.live.insert(
            address.to_string(),
            record(provider, Kind::Partner, address, fields),
        );
    };

    for (key, p) in desired
        .partners
        .iter()
        .filter(|(_, p)| p.provider == provider)
    {
        let address = partner_address(key);
        let role = p.role.map(|r| r.vendor_name());
        let named: Vec<_> = snap.partners.iter().filter(|l| l.name == p.name).collect();
        let found: Vec<_> = named
            .iter()
            .filter(|l| role.is_none_or(|r| r == l.tenant_type))
            .collect();
        match found.as_slice() {
            [] if named.is_empty() => {
                let known: Vec<String> = snap
                    .partners
                    .iter()
                    .map(|l| format!("{:?} ({})", l.name, l.tenant_type))
                    .collect();
                out.errors.push(format!(
                    "{address}: no RUCKUS One tech partner is named {:?}; tech partners of this MSP: {}. Check `name` (exact, case-sensitive)",
                    p.name,
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ));
            }
            [] => out.errors.push(format!(
                "{address}: tech partner {:?} is {}, not {}; fix `role` or remove it",
                p.name,
                named.iter().map(|l| l.tenant_type.as_str()).collect::<Vec<_>>().join(" and "),
                role.unwrap_or_default()
            )),
            [one] => {
                if let Some(other) = claimed.insert(one.id.clone(), address.clone()) {
                    out.errors.push(format!(
                        "{address}: tech partner {:?} is already declared as {other}; declare each tech partner once",
                        p.name
                    ));
                    continue;
                }
                live_partner(&address, &one.id, out);
            }
            many => out.errors.push(format!(
                "{address}: {} tech partners are named {:?} ({}); add `role` to pick one, or rename one in the portal",
                many.len(),
                p.name,
                many.iter()
                    .map(|l| format!("{} {}", l.id, l.tenant_type))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
        let customers: Vec<&String> = p.customers.iter().collect();
        out.desired.push(record(
            provider,
            Kind::Partner,
            &address,
            BTreeMap::from([
                ("name".to_string(), json!(p.name)),
                ("customers".to_string(), json!(customers)),
            ]),
        ));
    }

    let declared: BTreeSet<String> = desired
        .partners
        .keys()
        .map(|k| partner_address(k))
        .collect();
    for (address, r) in owned {
        if r.provider != provider || !address.starts_with("partner.") || declared.contains(address)
        {
            continue;
        }
        if let Some(id) = &r.vendor_id
            && !claimed.contains_key(id)
        {
            live_partner(address, id, out);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
