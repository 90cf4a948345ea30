//! Running Aruba apply steps, up to `VendorInfo::steps_in_flight` at once: what
//! they share (`RunEnv`) is behind locks, and their waits share their reads
//! (`poll`). Contract: every step tolerates running twice or
//! being cut off part-way: creates look up by natural key first (and wait while
//! a customer provisions), everything else is idempotent. A move step returns only
//! once the vendor shows the move landed (`settle`), so the licences and
//! associations that depend on it never race it. State is updated and flushed
//! through the Ledger as each part succeeds.
//!
//! The MSP's own customer id (the target of a move back to the MSP inventory)
//! comes from the refresh when anything live carried it; on an account that had no
//! customers, the first customer record a create reads back (its name lookup) carries
//! `msp_id`, and it is kept for the rest of the run — a move back waits for the
//! creates then (see `steps`).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::Aruba;
use super::Client;
use super::live::LiveSnapshot;
use super::settle::{Landing, SentMove};
use super::steps::StepOp;
use super::wire::CustomerBody;
use crate::address::Address;
use crate::diff::Fields;
use crate::vendor::VendorClient;
use crate::vendor::http::ProviderError;
use crate::vendor::{Apply, Ledger, Resolved, Step};

mod poll;
mod sites;

pub(crate) use poll::Moves;
use poll::Provisioning;

/// What the steps of one apply share.
pub struct RunEnv {
    pub ledger: Ledger,
    /// The MSP's own customer id: from the refresh, or learned from a customer
    /// record read during the run.
    msp_id: Mutex<Option<String>>,
    /// Customer → its sites (address, id), for moving a device out of a site it
    /// was put in by hand.
    sites_of: Mutex<BTreeMap<Address, Vec<(Address, String)>>>,
    /// Serial → the services a device held when its move into a customer was seen landing.
    held: Mutex<BTreeMap<String, Vec<String>>>,
    /// Customers looked for by name (provisioning), one read for all of them.
    provisioning: Provisioning,
    /// Device moves waiting to show, one read for all of them.
    moves: Moves,
    /// Moves sent, by their step's id, until their wait has read them.
    sent: Mutex<BTreeMap<usize, Sent>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RunEnv {
    pub fn new(ledger: Ledger, snap: &LiveSnapshot) -> RunEnv {
        let mut sites_of: BTreeMap<Address, Vec<(Address, String)>> = BTreeMap::new();
        for (address, id) in ledger.known_ids() {
            if let Address::Site(ckey, _) = &address {
                sites_of
                    .entry(Address::customer(ckey))
                    .or_default()
                    .push((address.clone(), id));
            }
        }
        RunEnv {
            ledger,
            msp_id: Mutex::new(snap.msp_id.clone()),
            sites_of: Mutex::new(sites_of),
            held: Mutex::new(BTreeMap::new()),
            provisioning: Provisioning::new(snap.customers.len()),
            moves: Moves::new(snap.devices.len()),
            sent: Mutex::new(BTreeMap::new()),
        }
    }

    /// The MSP's own customer id, when known.
    pub fn msp_id(&self) -> Option<String> {
        locked(&self.msp_id).clone()
    }

    /// Updates the records of devices (serial, customer id), creating the
    /// missing ones, each in its customer and changed by `f`: one commit of
    /// the state for all of them (the devices one call moved or licensed).
    fn touch_devices<'x>(
        &self,
        devices: impl IntoIterator<Item = (&'x str, &'x str)>,
        f: impl Fn(&mut Fields),
    ) -> Result<(), ProviderError> {
        self.ledger.update_all(
            devices
                .into_iter()
                .map(|(serial, customer_id)| (Address::device(serial), (serial, customer_id))),
            |(serial, customer_id)| {
                self.ledger
                    .fresh(Some(serial), Some(customer_id), "created")
            },
            |(_, customer_id), record| {
                record.parent_id = Some(customer_id.to_string());
                f(&mut record.facts);
            },
        )
    }
}

/// Why a move back to the MSP inventory cannot be sent, naming the devices and the
/// customers involved, and what to do.
fn msp_id_unknown(devices: &[(String, String)], returning: bool, customers: &[String]) -> String {
    let serials = devices
        .iter()
        .map(|(s, _)| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let customers = if customers.is_empty() {
        "their customer".to_string()
    } else {
        customers.join(", ")
    };
    let what = if returning {
        format!("device(s) {serials} cannot be moved back to the MSP inventory from {customers}")
    } else {
        format!(
            "device(s) {serials} cannot be moved in to {customers}: they sit in another customer and must first be moved back to the MSP inventory"
        )
    };
    format!(
        "the MSP's own customer id is unknown (no customer record carried msp_id and the device list did not name it), so {what}; re-run apply once a customer exists, or move them in the portal"
    )
}

/// A move step's parts, as `run` reads them.
struct Move<'a> {
    target: &'a Option<Address>,
    devices: &'a [(String, String)],
    returning: bool,
    counterparts: &'a [String],
}

impl Move<'_> {
    /// The move a `MoveDevices` step sends or an `AwaitMove` step waits for.
    fn of(op: &StepOp) -> Option<Move<'_>> {
        match op {
            StepOp::MoveDevices {
                target,
                devices,
                returning,
                counterparts,
            }
            | StepOp::AwaitMove {
                target,
                devices,
                returning,
                counterparts,
                ..
            } => Some(Move {
                target,
                devices,
                returning: *returning,
                counterparts,
            }),
            _ => None,
        }
    }

    /// "the move of N device(s) into X" / "… back to the MSP inventory from X", for messages.
    fn what(&self) -> String {
        super::steps::move_what(
            self.target,
            self.devices.len(),
            self.returning,
            self.counterparts,
        )
    }
}

/// A move the vendor accepted, for the step that waits for it to land (which
/// takes it out of [`RunEnv::sent`]).
#[derive(Debug)]
struct Sent {
    /// Where the devices went: the customer's id, or the MSP's own for a move back.
    id: String,
    accepted: Instant,
}

impl Apply<Aruba> for Client {
    fn env(&self, snapshot: &LiveSnapshot, _resolved: &Resolved, ledger: Ledger) -> RunEnv {
        RunEnv::new(ledger, snapshot)
    }

    /// Runs one step. State is updated (and flushed) as each part succeeds.
    async fn run<'a>(
        &'a self,
        env: &'a RunEnv,
        step: &'a Step<StepOp>,
    ) -> Result<(), ProviderError> {
        let ledger = &env.ledger;
        match &step.op {
            StepOp::CreateCustomer { address, body } => {
                self.post_customer_step(env, address, body).await?;
                self.await_customer_step(env, address, &body.customer_name)
                    .await
            }
            StepOp::PostCustomer { address, body } => {
                self.post_customer_step(env, address, body).await
            }
            StepOp::AwaitCustomer { address, name } => {
                self.await_customer_step(env, address, name).await
            }
            StepOp::UpdateCustomer { address, body } => {
                self.customer_write(ledger, address, Some(body)).await
            }
            StepOp::DeleteCustomer { address } => self.customer_write(ledger, address, None).await,
            StepOp::Record {
                address,
                parent,
                facts,
            } => record(ledger, address, parent.as_ref(), facts),
            StepOp::Forget { address } => ledger.forget(address),
            StepOp::AutoLicense {
                customer,
                enable,
                disable,
                desired,
            } => {
                self.auto_license_step(env, customer, enable, disable, desired)
                    .await
            }
            StepOp::MoveDevices { .. } => match Move::of(&step.op) {
                Some(m) => self.move_step(env, step.id, &m).await,
                None => Ok(()),
            },
            StepOp::AwaitMove { move_step, .. } => match Move::of(&step.op) {
                Some(m) => self.await_move_step(env, *move_step, &m).await,
                None => Ok(()),
            },
            StepOp::Licenses {
                assign,
                services,
                serials,
                customers,
            } => {
                self.licences_step(env, *assign, services, serials, customers)
                    .await
            }
            StepOp::CreateSite {
                address,
                customer,
                body,
            } => self.create_site_step(env, address, customer, body).await,
            StepOp::UpdateSite {
                address,
                customer,
                body,
            } => self.site_write(ledger, address, customer, Some(body)).await,
            StepOp::DeleteSite { address, customer } => {
                self.site_write(ledger, address, customer, None).await
            }
            StepOp::Associate { .. } | StepOp::Unassociate { .. } => {
                self.association_step(env, &step.op).await
            }
        }
    }
}

impl Client {
    /// Updates a customer with `body`, or deletes it (and forgets it) without one.
    async fn customer_write(
        &self,
        ledger: &Ledger,
        address: &Address,
        body: Option<&CustomerBody>,
    ) -> Result<(), ProviderError> {
        let id = ledger.id(address)?;
        match body {
            Some(body) => {
                let ctx = ledger.write(address, "update", None);
                self.update_customer(&id, body, &ctx).await
            }
            None => {
                let ctx = ledger.write(address, "delete", None);
                self.delete_customer(&id, &ctx).await?;
                ledger.forget(address)
            }
        }
    }

    /// Polls for a customer by exact name while it provisions; bounded by the
    /// provider's provision timeout. Answers its id and the `msp_id` its record
    /// carries. The reads are shared with every other customer provisioning in
    /// this apply (one pass for all of them per poll interval).
    async fn wait_for_customer(
        &self,
        env: &RunEnv,
        name: &str,
    ) -> Result<Option<(String, Option<String>)>, ProviderError> {
        let interval = Duration::from_millis(self.settings.poll_interval_ms).max(self.min_pause());
        let polls = (self.settings.provision_timeout_secs * 1000
            / (interval.as_millis() as u64).max(1))
        .clamp(1, 10_000);
        // Only a read that started after the create was sent can show it.
        let after = env
            .provisioning
            .posted_at(name)
            .unwrap_or_else(tokio::time::Instant::now);
        let found = self.poll_customer(env, name, after, interval, polls).await;
        env.provisioning.settled(name);
        found
    }

    async fn poll_customer(
        &self,
        env: &RunEnv,
        name: &str,
        after: tokio::time::Instant,
        interval: Duration,
        polls: u64,
    ) -> Result<Option<(String, Option<String>)>, ProviderError> {
        // Customers posted together are found by one pass once all are sent.
        env.provisioning.after_posts(interval).await;
        // Declared at the first pause: a customer found at once is no wait.
        let mut _waiting = None;
        for attempt in 0..=polls {
            let found = env.provisioning.look(self, name, after, interval).await?;
            let ready: Vec<(String, Option<String>)> = found
                .into_iter()
                .filter(|c| c.ready)
                .map(|c| (c.id, c.msp_id))
                .collect();
            match ready.as_slice() {
                [one] => return Ok(Some(one.clone())),
                [] => {}
                many => {
                    let ids: Vec<&str> = many.iter().map(|(id, _)| id.as_str()).collect();
                    return Err(self.other(format!(
                        "{} customers named {name:?} exist ({}); refusing to guess",
                        many.len(),
                        ids.join(", ")
                    )));
                }
            }
            if env.ledger.stop().is_set() {
                return Err(self.other(format!(
                    "interrupted while waiting for customer {name:?} to finish provisioning; the next apply looks it up by name before anything else"
                )));
            }
            if attempt < polls {
                _waiting.get_or_insert_with(|| {
                    crate::vendor::wait_for(
                        format!("customer {name:?} to finish provisioning"),
                        Duration::from_secs(self.settings.provision_timeout_secs),
                    )
                });
                tracing::info!(provider = %self.key(), customer = %name, "waiting for the new customer to finish provisioning");
                tokio::time::sleep(interval).await;
            }
        }
        Ok(None)
    }

    /// The customer found by name is the one this step created: record it, and
    /// learn the MSP's id from its record when it was not known.
    fn found_customer(
        &self,
        env: &RunEnv,
        address: &Address,
        (id, msp_id): (String, Option<String>),
    ) -> Result<(), ProviderError> {
        {
            let mut known = locked(&env.msp_id);
            if known.is_none()
                && let Some(msp_id) = msp_id
            {
                tracing::info!(provider = %self.key(), "learned the MSP's own customer id from the new customer's record");
                *known = Some(msp_id);
            }
        }
        env.ledger
            .own(address, Some(&id), None, "created", Fields::new())
    }

    /// A customer create. It is never repeated blindly: when an earlier run may
    /// have made it, or the answer was lost, the customer is looked for (through
    /// its provisioning time) first, and posted again only when it did not turn
    /// up. An accepted create is recorded once it provisioned
    /// ([`Client::await_customer_step`]); until then its journal entry stays open,
    /// so a run cut off in between looks it up by name first.
    async fn post_customer_step(
        &self,
        env: &RunEnv,
        address: &Address,
        body: &CustomerBody,
    ) -> Result<(), ProviderError> {
        let name = body.customer_name.as_str();
        if env.ledger.open_create(address)? {
            tracing::info!(provider = %self.key(), %address, "an earlier run may have created this customer; looking for it first");
            if let Some(one) = self.wait_for_customer(env, name).await? {
                return self.found_customer(env, address, one);
            }
        }
        let mut lost = None;
        for _ in 0..2 {
            let ctx = env.ledger.write(address, "create", Some(name));
            env.provisioning.posting(name);
            let sent = self.create_customer(body, &ctx).await;
            env.provisioning.answered();
            match sent {
                Ok(()) => return Ok(()),
                Err(e) if e.maybe_committed() => {
                    tracing::warn!(provider = %self.key(), %address, error = %e, "the create may have reached the vendor; looking for the customer before anything else");
                    if let Some(one) = self.wait_for_customer(env, name).await? {
                        return self.found_customer(env, address, one);
                    }
                    lost = Some(e);
                }
                Err(e) => {
                    env.provisioning.settled(name);
                    return Err(e);
                }
            }
        }
        Err(lost.unwrap_or_else(|| self.other(format!("{address}: the create did not complete"))))
    }

    /// Waits until a posted customer provisioned (one shared read per poll
    /// interval for every customer provisioning), then records it.
    async fn await_customer_step(
        &self,
        env: &RunEnv,
        address: &Address,
        name: &str,
    ) -> Result<(), ProviderError> {
        if env.ledger.try_id(address).is_some() {
            return Ok(());
        }
        match self.wait_for_customer(env, name).await? {
            Some(one) => self.found_customer(env, address, one),
            None => Err(self.other(format!(
                "{address}: the customer was accepted but did not appear within {} s; re-run apply to pick it up (it will not be created twice)",
                self.settings.provision_timeout_secs
            ))),
        }
    }

    async fn auto_license_step(
        &self,
        env: &RunEnv,
        customer: &Address,
        enable: &[String],
        disable: &[String],
        desired: &[String],
    ) -> Result<(), ProviderError> {
        let ledger = &env.ledger;
        let id = ledger.id(customer)?;
        let ctx = ledger.write(customer, "auto-licence", None);
        if !disable.is_empty() {
            self.set_autolicense(&id, disable, false, &ctx).await?;
        }
        if !enable.is_empty() {
            self.set_autolicense(&id, enable, true, &ctx).await?;
        }
        if ledger.record(customer)?.is_some() {
            ledger.update(
                customer,
                || ledger.fresh(Some(&id), None, "created"),
                |r| {
                    r.facts.insert("auto_license".into(), json!(desired));
                },
            )?;
        }
        Ok(())
    }

    /// One batched move (step `step`); its wait is a step of its own
    /// ([`StepOp::AwaitMove`]), so the waits of many moves share one read.
    async fn move_step(
        &self,
        env: &RunEnv,
        step: usize,
        m: &Move<'_>,
    ) -> Result<(), ProviderError> {
        let ledger = &env.ledger;
        let (id, label) = match m.target {
            Some(c) => (ledger.id(c)?, c.to_string()),
            None => match env.msp_id() {
                Some(id) => (id, "msp".to_string()),
                None => {
                    return Err(self.other(msp_id_unknown(m.devices, m.returning, m.counterparts)));
                }
            },
        };
        let ctx = ledger.write_batch(&format!("devices→{label}"), "move");
        self.move_devices(&id, m.devices, None, &ctx).await?;
        let accepted = Instant::now();
        if m.target.is_some() {
            // Ours from the moment the vendor accepted the move: a run that stops
            // while it settles finds the devices owned wherever they are.
            env.touch_devices(
                m.devices.iter().map(|(s, _)| (s.as_str(), id.as_str())),
                |facts| {
                    facts.remove("site");
                    facts.remove("site_id");
                },
            )?;
        }
        // Every shared read from now on counts this move among those pending.
        env.moves.expect(m.target.is_some().then_some(id.as_str()));
        locked(&env.sent).insert(step, Sent { id, accepted });
        Ok(())
    }

    /// The wait until the vendor shows the move of step `move_step` landed.
    async fn await_move_step(
        &self,
        env: &RunEnv,
        move_step: usize,
        m: &Move<'_>,
    ) -> Result<(), ProviderError> {
        let ledger = &env.ledger;
        let Some(sent) = locked(&env.sent).remove(&move_step) else {
            return Err(self.other(format!(
                "{} was not sent in this run; nothing to wait for",
                m.what()
            )));
        };
        let serials: Vec<String> = m.devices.iter().map(|(s, _)| s.clone()).collect();
        let landing = match m.target {
            Some(_) => Landing::Customer(&sent.id),
            None => Landing::Msp(&sent.id),
        };
        let msp_id = env.msp_id().unwrap_or_default();
        let held = self
            .wait_for_move(
                &env.moves,
                &msp_id,
                &m.what(),
                SentMove {
                    landing,
                    serials: &serials,
                    accepted: sent.accepted,
                },
                ledger.stop(),
            )
            .await?;
        if m.target.is_some() {
            locked(&env.held).extend(held);
        }
        if m.target.is_none() && m.returning {
            // Forgotten only once the vendor shows them back: a return that has not
            // landed keeps them owned, so the next run sees it and finishes it.
            for serial in &serials {
                ledger.forget(&Address::device(serial))?;
            }
        }
        Ok(())
    }

    /// One licence call's devices (across customers); a device a move just
    /// brought in that already holds a service (auto-licence) is not licensed again.
    async fn licences_step(
        &self,
        env: &RunEnv,
        assign: bool,
        services: &[String],
        serials: &[String],
        customers: &[Address],
    ) -> Result<(), ProviderError> {
        let mut ids: BTreeMap<&Address, String> = BTreeMap::new();
        for c in customers {
            if !ids.contains_key(c) {
                ids.insert(c, env.ledger.id(c)?);
            }
        }
        let ctx = env.ledger.write_batch(
            &format!("licences of {} device(s)", serials.len()),
            if assign { "assign" } else { "unassign" },
        );
        if assign {
            let mut missing: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
            {
                let held = locked(&env.held);
                for serial in serials {
                    let has = held.get(serial).map(Vec::as_slice).unwrap_or(&[]);
                    let need: Vec<String> = services
                        .iter()
                        .filter(|s| !has.iter().any(|h| h.eq_ignore_ascii_case(s)))
                        .cloned()
                        .collect();
                    if !need.is_empty() {
                        missing.entry(need).or_default().push(serial.clone());
                    }
                }
            }
            for (need, group) in &missing {
                self.assign_licenses(group, need, &ctx).await?;
            }
        } else {
            self.unassign_licenses(serials, services, &ctx).await?;
        }
        env.touch_devices(
            serials
                .iter()
                .zip(customers)
                .filter_map(|(serial, customer)| {
                    Some((serial.as_str(), ids.get(customer)?.as_str()))
                }),
            |_| {},
        )?;
        Ok(())
    }
}

/// Adopt: records ownership of a live object, no vendor call.
fn record(
    ledger: &Ledger,
    address: &Address,
    parent: Option<&Address>,
    facts: &Fields,
) -> Result<(), ProviderError> {
    let parent_id = match parent {
        Some(p) => Some(ledger.id(p)?),
        None => None,
    };
    let vendor_id = match address {
        Address::Device(serial) => serial.clone(),
        _ => ledger.id(address)?,
    };
    ledger.own(
        address,
        Some(&vendor_id),
        parent_id.as_deref(),
        "adopted",
        facts.clone(),
    )
}
