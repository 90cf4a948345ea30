//! RUCKUS One apply steps: the plan's actions compiled into vendor calls. All
//! tenant creates of one apply go out in `POST /tenants` batches of at most 100;
//! each tenant then gets its own step that waits for its activity (so one failed
//! tenant does not hold up the others). Partner assignments wait for the
//! customers they name. Pure: `run` executes them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::Ruckus;
use super::model::{RuckusCustomer, parse_day};
use super::refresh::{PendingCreate, Snapshot};
use super::resolve::declared;
use super::wire::{EcView, day_of};
use crate::address::Address;
use crate::diff::{Action, Kind, Op};
use crate::model::Customer;
use crate::vendor::{Ctx, Resolved, Step, Steps};

/// The vendor's limit on items per `POST /tenants`.
pub const BATCH: usize = 100;

/// A tenant to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTenant {
    pub address: Address,
    pub name: String,
    /// One item of the `POST /tenants` `data` list.
    pub body: Value,
    /// The administrator to invite once the tenant exists.
    pub admin: Option<String>,
    /// An earlier run journaled a create whose answer never came (sent at this
    /// Unix second): look for the tenant by name before posting, waiting while
    /// that create could still be in progress.
    pub unanswered_since: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepOp {
    /// `POST /tenants` with these tenants; journals one entry and records one
    /// ownership (with the activity's request id) per tenant as soon as the 202 arrives.
    CreateBatch {
        tenants: Vec<NewTenant>,
    },
    /// Waits for the create activity of one tenant (posted by a batch of this
    /// run, or by an earlier run: `resume`), records it, invites its administrator.
    AwaitCreate {
        tenant: NewTenant,
        resume: Option<PendingCreate>,
    },
    /// Records ownership of a live tenant (no vendor call). `ours`: an earlier
    /// run created it but lost the answer, so its `admin` is invited now.
    Adopt {
        address: Address,
        facts: BTreeMap<String, Value>,
        admin: Option<String>,
        ours: bool,
    },
    /// `PUT /tenants/{id}` with every field: declared values, live ones elsewhere.
    Update {
        address: Address,
        body: Value,
    },
    /// `POST /tenants/{id}/invitations`.
    Invite {
        address: Address,
        email: String,
        resend: bool,
    },
    /// `DELETE /tenants/{id}`.
    Delete {
        address: Address,
    },
    /// `PATCH /mspIntegrators/{id}`: the partner keeps `keep` (tenants mspform
    /// does not manage) plus the tenants of `want`; `release` drops the record.
    Assign {
        address: Address,
        delegation_type: String,
        keep: Vec<String>,
        want: Vec<Address>,
        /// Whether the list changes (else only ownership is recorded).
        patch: bool,
        release: bool,
    },
    Forget {
        address: Address,
    },
    /// A change that cannot be made (e.g. the live tenant could not be read).
    Refuse {
        address: Address,
        message: String,
    },
}

pub type RuckusStep = Step<StepOp>;

/// A declared date as the vendor's request format.
fn wire_date(day: &str) -> String {
    format!("{day} 00:00:00.000Z")
}

/// One year after a `YYYY-MM-DD` day (29 February → 28 February).
pub fn year_after(day: &str) -> String {
    match parse_day(day) {
        Some((y, 2, 29)) => format!("{:04}-02-28", y + 1),
        Some((y, m, d)) => format!("{:04}-{m:02}-{d:02}", y + 1),
        None => day.to_string(),
    }
}

/// The `POST /tenants` item of a declared customer. Service dates the files do
/// not give default to today and one year after the start (the vendor requires them).
pub fn create_body(c: &Customer, r: &RuckusCustomer, today: &str) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(c.name));
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    };
    if let Some(a) = &r.address {
        put("street_address", &a.street);
        put("city", &a.city);
        put("state", &a.state);
        put("country", &a.country);
        put("postal_code", &a.zip);
    }
    put("phone_number", &r.phone);
    put("tier", &r.tier);
    if let Some(admin) = &r.admin {
        put("admin_email", &Some(admin.email.clone()));
        put("admin_firstname", &admin.first_name);
        put("admin_lastname", &admin.last_name);
        put("admin_role", &admin.role);
    }
    let start = r.service_start.clone().unwrap_or_else(|| today.to_string());
    let end = r.service_end.clone().unwrap_or_else(|| year_after(&start));
    m.insert("service_effective_date".into(), json!(wire_date(&start)));
    m.insert("service_expiration_date".into(), json!(wire_date(&end)));
    Value::Object(m)
}

/// The `PUT /tenants/{id}` body: the vendor requires name and both dates, and may
/// clear whatever is left out, so every field is sent — declared values where the
/// files give them, live values elsewhere (a date keeps its live time of day when
/// only the day is compared and it matches).
pub fn update_body(c: &Customer, r: &RuckusCustomer, live: &EcView, today: &str) -> Value {
    let keep = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let (street, city, state, country, zip) = match &r.address {
        Some(a) => (
            a.street.clone(),
            a.city.clone(),
            a.state.clone(),
            a.country.clone(),
            a.zip.clone(),
        ),
        None => (
            keep(&live.street_address),
            keep(&live.city),
            keep(&live.state),
            keep(&live.country),
            keep(&live.postal_code),
        ),
    };
    let date = |declared: &Option<String>, live: &Option<String>, default: String| {
        let live_day = live.as_deref().and_then(day_of);
        match (declared, live) {
            (Some(d), Some(raw)) if live_day.as_deref() == Some(d.as_str()) => raw.clone(),
            (Some(d), _) => wire_date(d),
            (None, Some(raw)) if live_day.is_some() => raw.clone(),
            (None, _) => wire_date(&default),
        }
    };
    let start = date(
        &r.service_start,
        &live.service_effective_date,
        today.to_string(),
    );
    let start_day = day_of(&start).unwrap_or_else(|| today.to_string());
    let end = date(
        &r.service_end,
        &live.service_expiration_date,
        year_after(&start_day),
    );
    let mut body = json!({
        "name": c.name,
        "street_address": street,
        "city": city,
        "state": state,
        "country": country,
        "postal_code": zip,
        "phone_number": r.phone.clone().or_else(|| keep(&live.phone_number)),
        "fax_number": keep(&live.fax_number),
        "mapping_url": keep(&live.mapping_url),
        "service_effective_date": start,
        "service_expiration_date": end,
        "tier": r.tier.clone().or_else(|| keep(&live.tier)),
    });
    if let Some(Value::Array(features)) = &live.privacy_features
        && !features.is_empty()
        && let Value::Object(m) = &mut body
    {
        m.insert("privacyFeatures".into(), Value::Array(features.clone()));
    }
    body
}

fn new_tenant(ctx: Ctx<'_, Ruckus>, snap: &Snapshot, address: &Address) -> Option<NewTenant> {
    let Address::Customer(key) = address else {
        return None;
    };
    let (c, r) = declared(ctx).get(key.as_str()).copied()?;
    Some(NewTenant {
        address: address.clone(),
        name: c.name.clone(),
        body: create_body(c, r, &snap.today),
        admin: r.admin.as_ref().map(|a| a.email.clone()),
        unanswered_since: snap.unanswered.get(address).copied(),
    })
}

/// Fields that a `PUT` changes (the others are invitations).
const PUT_FIELDS: [&str; 10] = [
    "name",
    "street",
    "city",
    "state",
    "country",
    "zip",
    "phone",
    "tier",
    "service_start",
    "service_end",
];

/// Customer address → the step after which it exists.
type Made = BTreeMap<Address, usize>;

/// Compiles one provider's actions into steps with their dependencies:
/// creates (batched), adoptions, updates and invitations, partner
/// assignments (after the customers they name), deletes, forgets.
pub fn compile(
    ctx: Ctx<'_, Ruckus>,
    snap: &Snapshot,
    resolved: &Resolved,
    actions: &[Action],
) -> Vec<RuckusStep> {
    let mut s: Steps<StepOp> = Steps::default();
    let mut made = Made::new();
    creates(ctx, snap, actions, &mut s, &mut made);
    for a in actions.iter().filter(|a| {
        a.kind == Kind::Customer && matches!(a.op, Op::Adopt | Op::Update | Op::Replace)
    }) {
        customer_changes(ctx, snap, resolved, a, &mut s, &mut made);
    }
    for a in actions.iter().filter(|a| a.kind == Kind::Partner) {
        assignment(ctx, snap, resolved, a, &made, &mut s);
    }
    for a in actions
        .iter()
        .filter(|a| a.kind == Kind::Customer && a.op == Op::Delete)
    {
        let address = a.address.clone();
        s.push(
            vec![],
            vec![address.clone()],
            format!("delete {address}"),
            StepOp::Delete { address },
        );
    }
    s.forgets(actions, |address| StepOp::Forget { address });
    s.into_vec()
}

/// Creates: fresh ones batched (one step per batch, one waiting step per
/// tenant), those an earlier run left in flight resumed.
fn creates(
    ctx: Ctx<'_, Ruckus>,
    snap: &Snapshot,
    actions: &[Action],
    s: &mut Steps<StepOp>,
    made: &mut Made,
) {
    let mut fresh = Vec::new();
    for a in actions
        .iter()
        .filter(|a| a.kind == Kind::Customer && a.op == Op::Create)
    {
        let Some(tenant) = new_tenant(ctx, snap, &a.address) else {
            continue;
        };
        match snap.pending.get(&a.address).filter(|p| p.failed.is_none()) {
            Some(p) => {
                let id = s.push(
                    vec![],
                    vec![a.address.clone()],
                    format!("resume the create of {}", a.address),
                    StepOp::AwaitCreate {
                        tenant,
                        resume: Some(p.clone()),
                    },
                );
                made.insert(a.address.clone(), id);
            }
            None => fresh.push(tenant),
        }
    }
    for chunk in fresh.chunks(BATCH) {
        let addresses: Vec<Address> = chunk.iter().map(|t| t.address.clone()).collect();
        let batch = s.push(
            vec![],
            addresses,
            format!("create {} managed tenant(s)", chunk.len()),
            StepOp::CreateBatch {
                tenants: chunk.to_vec(),
            },
        );
        for t in chunk {
            let id = s.push(
                vec![batch],
                vec![t.address.clone()],
                format!("create {}", t.address),
                StepOp::AwaitCreate {
                    tenant: t.clone(),
                    resume: None,
                },
            );
            made.insert(t.address.clone(), id);
        }
    }
}

/// An adoption, update or replacement of a customer (the vendor updates in
/// place): record ownership first, then `PUT` what changed, then the
/// invitation the administrator's change (or a resend) asks for.
fn customer_changes(
    ctx: Ctx<'_, Ruckus>,
    snap: &Snapshot,
    resolved: &Resolved,
    a: &Action,
    s: &mut Steps<StepOp>,
    made: &mut Made,
) {
    let Address::Customer(key) = &a.address else {
        return;
    };
    let Some((c, r)) = declared(ctx).get(key.as_str()).copied() else {
        return;
    };
    let address = &a.address;
    let mut deps = Vec::new();
    if a.op == Op::Adopt {
        let admin = r.admin.as_ref().map(|x| x.email.clone());
        let facts = admin
            .iter()
            .map(|e| ("invited".to_string(), json!(e)))
            .collect();
        let id = s.push(
            vec![],
            vec![address.clone()],
            format!("adopt {address}"),
            StepOp::Adopt {
                address: address.clone(),
                facts,
                admin,
                ours: snap.journaled.contains(address),
            },
        );
        made.insert(address.clone(), id);
        deps.push(id);
    }
    if a.changes
        .iter()
        .any(|c| PUT_FIELDS.contains(&c.field.as_str()))
    {
        let live = resolved
            .ids
            .get(address)
            .and_then(|id| snap.ec(id))
            .and_then(|e| e.full_view());
        let op = match live {
            Some(live) => StepOp::Update {
                address: address.clone(),
                body: update_body(c, r, live, &snap.today),
            },
            // Never a PUT built without the live fields: it would clear them.
            None => StepOp::Refuse {
                address: address.clone(),
                message: "the live tenant was not read, so an update could clear its other fields; run plan again".into(),
            },
        };
        s.push(
            deps.clone(),
            vec![address.clone()],
            format!("update {address}"),
            op,
        );
    }
    let invite = if a.changed("admin_email").is_some() {
        Some(false)
    } else if a.changed("invitation").is_some() {
        Some(true)
    } else {
        None
    };
    if let (Some(resend), Some(admin)) = (invite, &r.admin) {
        s.push(
            deps,
            vec![address.clone()],
            format!(
                "{} the administrator invitation of {address}",
                if resend { "resend" } else { "send" },
            ),
            StepOp::Invite {
                address: address.clone(),
                email: admin.email.clone(),
                resend,
            },
        );
    }
}

/// A partner's assignment, once the customers it names exist: the tenants
/// mspform does not manage stay, the declared ones join (an undeclared owned
/// partner gets mspform's customers taken back).
fn assignment(
    ctx: Ctx<'_, Ruckus>,
    snap: &Snapshot,
    resolved: &Resolved,
    a: &Action,
    made: &Made,
    s: &mut Steps<StepOp>,
) {
    let Some(assigned) = resolved
        .ids
        .get(&a.address)
        .and_then(|pid| snap.partners.iter().find(|p| &p.id == pid))
        .and_then(|live| live.assigned.as_ref())
    else {
        return;
    };
    let keep: Vec<String> = assigned
        .ecs
        .iter()
        .filter(|id| !resolved.managed_customers.contains(*id))
        .cloned()
        .collect();
    let declared = ctx
        .partners()
        .find(|p| a.address == Address::partner(&p.key));
    let (want, release) = match (a.op, declared) {
        (Op::Delete, _) => (Vec::new(), true),
        (Op::Adopt | Op::Update | Op::Replace, Some(p)) => {
            (p.customers.iter().map(Address::customer).collect(), false)
        }
        _ => return,
    };
    let deps: Vec<usize> = want.iter().filter_map(|c| made.get(c).copied()).collect();
    let now: BTreeSet<&String> = assigned.ecs.iter().collect();
    let patch = match a.op {
        Op::Delete => keep.len() != now.len(),
        _ => a.changed("customers").is_some(),
    };
    let label = match a.op {
        Op::Delete => format!("take mspform's customers back from {}", a.address),
        Op::Adopt if !patch => format!("adopt {}", a.address),
        _ => format!("assign the customers of {}", a.address),
    };
    s.push(
        deps,
        vec![a.address.clone()],
        label,
        StepOp::Assign {
            address: a.address.clone(),
            delegation_type: assigned.delegation_type.clone(),
            keep,
            want,
            patch,
            release,
        },
    );
}

#[cfg(test)]
mod tests;
