//! Reads RUCKUS One's live state into a [`Snapshot`] with few calls: one paged
//! query of the managed tenants (its rows carry the view's fields where the
//! server allows; a managed tenant's full view is read on its own only where
//! its row lacks a field its customer declares), and (when partners are declared or owned) one query of the tech
//! partners (`POST /techpartners/mspecs/query`, or `POST /tenants/query` where
//! that is gone) plus the assignment list of the partners in question. Creates an
//! earlier run left in flight are looked up through their activity, invitations
//! whose answer was lost through the tenant's administrator list. Never writes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::api::{EC, PARTNER_TYPES};
use super::model::partner_type;
use super::run::{INVITE, INVITED, INVITING};
use super::wire::{ActivityStatus, EcView};
use super::{Client, Ruckus};
use crate::address::Address;
use crate::state::{JournalEntry, JournalStatus, OwnedRecord};
use crate::vendor::http::ProviderError;
use crate::vendor::{Ctx, VendorClient};

/// A managed tenant (MSP-EC) as read.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEc {
    pub id: String,
    pub name: String,
    /// The EC view, for the tenants mspform manages: from `GET /tenants/{id}`
    /// or a query row carrying every field (full), or from a row carrying only
    /// some (`carried`).
    pub view: Option<EcView>,
    /// The view keys `view` holds when it came from a row carrying only some
    /// fields; `None` when the view is full. An update is never built from a
    /// partial view.
    pub carried: Option<BTreeSet<&'static str>>,
}

impl LiveEc {
    /// Whether the view field `key` was read.
    pub fn has(&self, key: &str) -> bool {
        self.view.is_some() && self.carried.as_ref().is_none_or(|c| c.contains(key))
    }

    /// Whether `view` is the full EC view (an update can be built from it).
    pub fn full_view(&self) -> Option<&EcView> {
        self.view.as_ref().filter(|_| self.carried.is_none())
    }
}

/// A tech partner (integrator or installer) and, when read, its assigned ECs.
#[derive(Debug, Clone, PartialEq)]
pub struct LivePartner {
    pub id: String,
    pub name: String,
    /// `MSP_INTEGRATOR` or `MSP_INSTALLER`.
    pub tenant_type: String,
    pub assigned: Option<Assigned>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assigned {
    pub delegation_type: String,
    pub ecs: Vec<String>,
}

/// An administrator invitation an earlier run posted without seeing the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingInvite {
    pub tenant_id: String,
    pub email: String,
    /// Whether `GET /tenants/{id}/admins` lists the email; `None` when the list
    /// cannot be read here.
    pub listed: Option<bool>,
}

/// The warning for an invitation whose answer was lost and that the tenant's
/// administrator list does not prove.
pub fn unproven_invitation(
    provider: &str,
    address: &Address,
    email: &str,
    why: &str,
    listed: Option<bool>,
) -> String {
    let seen = match listed {
        Some(_) => "the tenant's administrators (GET /tenants/{id}/admins) do not list it",
        None => "the tenant's administrators cannot be read here",
    };
    format!(
        "{provider}: {address}: the administrator invitation to {email} may not have gone out ({why}; {seen}). mspform never sends an invitation twice on its own: if {email} received none, run `mspform apply --resend-invitation {address}`"
    )
}

/// A create an earlier run posted whose tenant is not visible (yet).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingCreate {
    pub request_id: String,
    pub tenant_id: Option<String>,
    /// The activity ended in FAIL: nothing was created, post again.
    pub failed: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub ecs: Vec<LiveEc>,
    pub partners: Vec<LivePartner>,
    /// Customer address → a create still in flight (or failed) from an earlier run.
    pub pending: BTreeMap<Address, PendingCreate>,
    /// Customer address → when a journaled create whose answer never arrived was sent.
    pub unanswered: BTreeMap<Address, u64>,
    /// Customer addresses with any unfinished create in the journal: a tenant
    /// found there by name is one mspform created, not one to adopt.
    pub journaled: BTreeSet<Address>,
    /// Customer address → an invitation an earlier run posted without seeing the
    /// answer; treated as sent (never sent again blindly) and recorded by the apply.
    pub invites: BTreeMap<Address, PendingInvite>,
    /// Today (UTC, `YYYY-MM-DD`): the default service start of a create.
    pub today: String,
    pub calls: u64,
}

impl Snapshot {
    pub fn ec(&self, id: &str) -> Option<&LiveEc> {
        self.ecs.iter().find(|e| e.id == id)
    }
}

/// The request and tenant id a create journal entry or ownership record carries.
pub fn request_of(detail: &Value) -> Option<(String, Option<String>)> {
    let rid = detail.get("request_id")?.as_str()?.to_string();
    let tid = detail
        .get("tenant_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    Some((rid, tid))
}

pub fn today() -> String {
    let (y, m, d) = crate::clock::civil_from_days((crate::clock::now_unix() / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// This provider's owned customers (declared addresses only), by address.
type OwnedEcs<'a> = BTreeMap<&'a Address, &'a OwnedRecord>;

/// Creates to look up through their activity: address → (request id, tenant id).
type InFlight = BTreeMap<Address, (String, Option<String>)>;

/// The customer address of a journal entry of this provider, when it is one.
fn journal_customer(entry: &JournalEntry, provider: &str, action: &str) -> Option<Address> {
    if entry.provider != provider
        || entry.action != action
        || entry.status != JournalStatus::Pending
    {
        return None;
    }
    entry
        .address
        .parse::<Address>()
        .ok()
        .filter(|a| matches!(a, Address::Customer(_)))
}

/// The view key each customer field is read from.
const VIEW_KEYS: [(&str, &str); 9] = [
    ("street", "street_address"),
    ("city", "city"),
    ("state", "state"),
    ("country", "country"),
    ("zip", "postal_code"),
    ("phone", "phone_number"),
    ("tier", "tier"),
    ("service_start", "service_effective_date"),
    ("service_end", "service_expiration_date"),
];

/// Whether the managed tenant at `address`, as a query row showed it
/// (`partial`), needs its full view: a declared field the row does not carry,
/// or a declared field that differs (an update follows, and it sends every
/// field back). A tenant no file declares (owned: it is deleted) never does.
fn needs_view(ctx: Ctx<'_, Ruckus>, address: &Address, partial: &LiveEc) -> bool {
    let Some((c, r)) = ctx
        .spec
        .customers
        .get(address.key())
        .and_then(|r| Some((ctx.desired.customers.get(address.key())?, r)))
    else {
        return false;
    };
    let desired = super::resolve::desired_fields(c, r);
    let live = super::resolve::live_fields(partial);
    desired.iter().any(|(field, want)| {
        let view_key = VIEW_KEYS.iter().find(|(f, _)| f == field).map(|(_, k)| *k);
        match view_key {
            Some(k) if !partial.has(k) => true,
            Some(_) => live.get(field) != Some(want),
            None => field == "name" && live.get(field) != Some(want),
        }
    })
}

impl Client {
    /// Reads everything the plan needs. A failed read is an error, never "empty".
    pub async fn snapshot(&self, ctx: Ctx<'_, Ruckus>) -> Result<Snapshot, ProviderError> {
        let start = self.calls();
        // Owned tenants outside the scope are not looked after (the list
        // still shows them, so nothing is mistaken for unmanaged).
        let owned_ecs: OwnedEcs<'_> = ctx
            .owned()
            .filter(|(a, _)| matches!(a, Address::Customer(_)) && ctx.scope().wants(a))
            .collect();
        let mut snap = Snapshot {
            today: today(),
            ..Snapshot::default()
        };
        self.read_ecs(&mut snap, ctx, &owned_ecs).await?;
        let in_flight = self.in_flight(&mut snap, ctx, &owned_ecs).await?;
        self.check_in_flight(&mut snap, in_flight).await?;
        self.read_doubtful_invitations(&mut snap, ctx, &owned_ecs)
            .await?;
        let partners_wanted = ctx
            .partners()
            .any(|p| ctx.scope().wants(&Address::partner(&p.key)))
            || ctx
                .owned()
                .any(|(a, _)| matches!(a, Address::Partner(_)) && ctx.scope().wants(a));
        if partners_wanted {
            self.read_partners(&mut snap, ctx).await?;
        }
        snap.calls = self.calls() - start;
        Ok(snap)
    }

    /// Every managed tenant, with what mspform manages of those it manages
    /// (declared by name, or owned) and the read wants. The tenant query's
    /// rows carry the view's fields where the server allows it; a managed
    /// tenant's `GET /tenants/{id}` is made only when its row lacks a field the
    /// files declare, or shows a difference without every field an update
    /// sends back.
    async fn read_ecs(
        &self,
        snap: &mut Snapshot,
        ctx: Ctx<'_, Ruckus>,
        owned_ecs: &OwnedEcs<'_>,
    ) -> Result<(), ProviderError> {
        let mut by_name: BTreeMap<&str, &str> = BTreeMap::new();
        for (key, c, _) in ctx.customers() {
            by_name.entry(c.name.as_str()).or_insert(key);
        }
        let by_id: BTreeMap<&str, &Address> = owned_ecs
            .iter()
            .filter_map(|(a, r)| Some((r.vendor_id.as_deref()?, *a)))
            .collect();
        for listed in self.list_ecs().await? {
            let address = by_id
                .get(listed.row.id.as_str())
                .map(|a| (*a).clone())
                .or_else(|| {
                    by_name
                        .get(listed.row.name.as_str())
                        .map(|k| Address::customer(*k))
                });
            let wanted = address.as_ref().filter(|a| ctx.scope().wants(a));
            let row = listed.row;
            let (view, carried) = match listed.view {
                Some(v) => (Some(v), None),
                // Not managed: only its name matters (as before the rows had more).
                None if address.is_none() => (None, None),
                None if row.complete() => (Some(row.detail.clone()), None),
                None => {
                    let partial = LiveEc {
                        id: row.id.clone(),
                        name: row.name.clone(),
                        view: Some(row.detail.clone()),
                        carried: Some(row.carried.clone()),
                    };
                    if wanted.is_some_and(|a| needs_view(ctx, a, &partial)) {
                        match self.get_ec(&row.id).await? {
                            Some(v) => (Some(v), None),
                            // Deleted between the list and the read.
                            None => continue,
                        }
                    } else {
                        (partial.view, partial.carried)
                    }
                }
            };
            let name = view
                .as_ref()
                .and_then(|v| v.name.clone())
                .unwrap_or(row.name);
            snap.ecs.push(LiveEc {
                id: row.id,
                name,
                view,
                carried,
            });
        }
        Ok(())
    }

    /// Owned tenants the list did not show (created by a run whose activity had
    /// not finished, not yet in the query's index, or gone) and open creates of
    /// the journal: those with a request id to look up, the rest noted.
    async fn in_flight(
        &self,
        snap: &mut Snapshot,
        ctx: Ctx<'_, Ruckus>,
        owned_ecs: &OwnedEcs<'_>,
    ) -> Result<InFlight, ProviderError> {
        let mut in_flight = InFlight::new();
        for (address, record) in owned_ecs {
            let Some(id) = record.vendor_id.as_deref() else {
                continue;
            };
            if snap.ec(id).is_some() {
                continue;
            }
            match record.facts.get("request_id").and_then(Value::as_str) {
                Some(rid) => {
                    in_flight.insert((*address).clone(), (rid.to_string(), Some(id.to_string())));
                }
                None => self.look_up_owned(snap, id).await?,
            }
        }
        for (_, entry) in self.store.journal()? {
            let Some(address) =
                journal_customer(&entry, self.key(), "create").filter(|a| ctx.scope().wants(a))
            else {
                continue;
            };
            snap.journaled.insert(address.clone());
            let known = owned_ecs
                .get(&address)
                .and_then(|r| r.vendor_id.as_deref())
                .is_some_and(|id| snap.ec(id).is_some());
            if known || in_flight.contains_key(&address) {
                continue;
            }
            let detail = entry
                .detail
                .as_deref()
                .and_then(|d| serde_json::from_str::<Value>(d).ok())
                .and_then(|d| request_of(&d));
            match detail {
                Some(req) => {
                    in_flight.insert(address, req);
                }
                None => {
                    snap.unanswered.insert(address, entry.started_at);
                }
            }
        }
        Ok(in_flight)
    }

    /// One look at each in-flight create's activity: pending or failed creates
    /// are noted for the apply; a finished one shows as its tenant.
    async fn check_in_flight(
        &self,
        snap: &mut Snapshot,
        in_flight: InFlight,
    ) -> Result<(), ProviderError> {
        for (address, (rid, tid)) in in_flight {
            let status = self.activity(&rid).await?;
            let pending = |failed: Option<String>| PendingCreate {
                request_id: rid.clone(),
                tenant_id: tid.clone(),
                failed,
            };
            match status {
                Some(ActivityStatus::Pending(_)) => {
                    snap.pending.insert(address, pending(None));
                }
                Some(ActivityStatus::Fail(m)) => {
                    snap.pending.insert(address, pending(Some(m)));
                }
                Some(ActivityStatus::Success) | None => {
                    // Done (or the activity is unknown): the tenant tells.
                    if let Some(id) = &tid {
                        self.look_up_owned(snap, id).await?;
                    }
                    if tid.as_ref().is_none_or(|id| snap.ec(id).is_none()) && status.is_none() {
                        snap.pending.insert(
                            address,
                            pending(Some(
                                "the activity is unknown and the tenant does not exist".into(),
                            )),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Invitations an earlier run posted without seeing the answer (fact
    /// `inviting`, or an open invitation journal entry), for live owned tenants:
    /// one read of the tenant's administrators each tells whether they went out.
    async fn read_doubtful_invitations(
        &self,
        snap: &mut Snapshot,
        ctx: Ctx<'_, Ruckus>,
        owned_ecs: &OwnedEcs<'_>,
    ) -> Result<(), ProviderError> {
        let mut doubtful: BTreeMap<Address, String> = BTreeMap::new();
        for (address, record) in owned_ecs {
            if let Some(email) = record.facts.get(INVITING).and_then(Value::as_str) {
                doubtful.insert((*address).clone(), email.to_string());
            }
        }
        for (_, entry) in self.store.journal()? {
            let Some(address) = journal_customer(&entry, self.key(), INVITE) else {
                continue;
            };
            let Some(record) = owned_ecs.get(&address) else {
                continue;
            };
            if doubtful.contains_key(&address) {
                continue;
            }
            // Older entries name no email: the declared administrator's.
            let declared = || {
                let admin = ctx.spec.customers.get(address.key())?.admin.as_ref()?;
                Some(admin.email.clone())
            };
            // Killed after recording whom it invited, before closing the entry: proven.
            let recorded = record.facts.get(INVITED).and_then(Value::as_str);
            if let Some(email) = entry.natural_key.clone().or_else(declared)
                && Some(email.as_str()) != recorded
            {
                doubtful.insert(address, email);
            }
        }
        for (address, email) in doubtful {
            let Some(id) = owned_ecs
                .get(&address)
                .and_then(|r| r.vendor_id.as_deref())
                .filter(|id| snap.ec(id).is_some())
            else {
                continue;
            };
            let listed = self.invitation_listed(id, &email).await?;
            if listed != Some(true) {
                tracing::warn!(
                    "{}",
                    unproven_invitation(
                        self.key(),
                        &address,
                        &email,
                        "an earlier run never saw the answer",
                        listed
                    )
                );
            }
            snap.invites.insert(
                address,
                PendingInvite {
                    tenant_id: id.to_string(),
                    email,
                    listed,
                },
            );
        }
        Ok(())
    }

    /// Reads one owned tenant by id and adds it when it exists.
    async fn look_up_owned(&self, snap: &mut Snapshot, id: &str) -> Result<(), ProviderError> {
        if snap.ec(id).is_some() {
            return Ok(());
        }
        if let Some(view) = self.get_ec(id).await?
            && view.tenant_type.as_deref().is_none_or(|t| t == EC)
        {
            snap.ecs.push(LiveEc {
                id: id.to_string(),
                name: view.name.clone().unwrap_or_default(),
                view: Some(view),
                carried: None,
            });
        }
        Ok(())
    }

    /// Every tech partner (integrators and installers), without assignments.
    pub async fn tech_partners(&self) -> Result<Vec<LivePartner>, ProviderError> {
        Ok(self
            .query_partners()
            .await?
            .into_iter()
            .filter_map(|r| {
                let t = r.tenant_type.clone()?;
                PARTNER_TYPES.contains(&t.as_str()).then_some(LivePartner {
                    id: r.id,
                    name: r.name,
                    tenant_type: t,
                    assigned: None,
                })
            })
            .collect())
    }

    /// Reads the assignment of each partner in `reads` (id → delegation type).
    pub async fn read_assignments(
        &self,
        partners: &mut [LivePartner],
        reads: BTreeMap<String, String>,
    ) -> Result<(), ProviderError> {
        for (id, dtype) in reads {
            let ecs = self.partner_ecs(&id, &dtype).await?;
            if let Some(p) = partners.iter_mut().find(|p| p.id == id) {
                p.assigned = Some(Assigned {
                    delegation_type: dtype,
                    ecs,
                });
            }
        }
        Ok(())
    }

    /// Tech partners, and the assignments of the declared and owned ones.
    async fn read_partners(
        &self,
        snap: &mut Snapshot,
        ctx: Ctx<'_, Ruckus>,
    ) -> Result<(), ProviderError> {
        snap.partners = self.tech_partners().await?;
        // Partner id → the delegation type to read it with.
        let mut reads: BTreeMap<String, String> = BTreeMap::new();
        for p in ctx
            .partners()
            .filter(|p| ctx.scope().wants(&Address::partner(&p.key)))
        {
            let role = p.role.as_deref().and_then(partner_type);
            let found: Vec<&LivePartner> = snap
                .partners
                .iter()
                .filter(|l| l.name == p.name && role.is_none_or(|r| r == l.tenant_type))
                .collect();
            if let [one] = found.as_slice() {
                reads.insert(one.id.clone(), one.tenant_type.clone());
            }
        }
        for (address, r) in ctx.owned() {
            if !matches!(address, Address::Partner(_)) || !ctx.scope().wants(address) {
                continue;
            }
            let Some(live) = r
                .vendor_id
                .as_deref()
                .and_then(|id| snap.partners.iter().find(|p| p.id == id))
            else {
                continue;
            };
            let dtype = r
                .facts
                .get("delegation_type")
                .and_then(Value::as_str)
                .unwrap_or(&live.tenant_type)
                .to_string();
            reads.entry(live.id.clone()).or_insert(dtype);
        }
        self.read_assignments(&mut snap.partners, reads).await
    }
}
