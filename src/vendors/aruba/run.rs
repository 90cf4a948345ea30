//! Running Aruba apply steps. Contract: every step tolerates running twice or
//! being cut off part-way: creates look up by natural key first (and wait while
//! a customer provisions), everything else is idempotent. A move step returns only
//! once the vendor shows the move landed (`settle`), so the licences and
//! associations that depend on it never race it. State is updated and flushed as
//! each part succeeds.
//!
//! The MSP's own customer id (the target of a move back to the MSP inventory)
//! comes from the refresh when anything live carried it; on an account that had no
//! customers, the first customer record a create reads back (its name lookup) carries
//! `msp_id`, and it is kept for the rest of the run — moves back run after creates.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde_json::{Value, json};

use super::Aruba;
use super::resolve::{customer_address, device_address};
use super::settle::Landing;
use super::steps::{Step, StepOp, site_keys};
use crate::diff::Kind;
use crate::live::LiveSnapshot;
use crate::providers::http::{ProviderError, WriteCtx};
use crate::state::{JournalStatus, OwnedRecord, StateStore, now_unix};

/// What a step needs while it runs, shared across steps of one apply.
pub struct RunEnv {
    pub store: Arc<dyn StateStore>,
    /// Address → vendor id; grows as creates succeed.
    pub ids: BTreeMap<String, String>,
    /// The MSP's own customer id: from the refresh, or learned from a customer record
    /// read during the run.
    pub msp_id: Option<String>,
    /// Site ids of each customer address, for moving a device out of a site it was put in by hand.
    pub sites_of: BTreeMap<String, Vec<(String, String)>>,
    /// Serial → the services a device held when its move into a customer was seen landing.
    pub held: BTreeMap<String, Vec<String>>,
    /// Set on Ctrl-C: waits inside a step stop early (the next run reads what landed).
    pub interrupted: Arc<AtomicBool>,
}

impl RunEnv {
    pub fn new(
        store: Arc<dyn StateStore>,
        ids: BTreeMap<String, String>,
        snap: &LiveSnapshot,
    ) -> RunEnv {
        let mut sites_of: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (address, id) in &ids {
            if let Some((ckey, _)) = site_keys(address) {
                sites_of
                    .entry(customer_address(ckey))
                    .or_default()
                    .push((address.clone(), id.clone()));
            }
        }
        RunEnv {
            store,
            ids,
            msp_id: snap.msp_id.clone(),
            sites_of,
            held: BTreeMap::new(),
            interrupted: Arc::new(AtomicBool::new(false)),
        }
    }

    fn id(&self, provider: &str, address: &str) -> Result<String, ProviderError> {
        self.ids
            .get(address)
            .cloned()
            .ok_or_else(|| ProviderError::Other {
                provider: provider.to_string(),
                message: format!("no vendor id known for {address}"),
            })
    }

    fn ctx(&self, address: &str, action: &str, natural_key: Option<&str>) -> WriteCtx {
        WriteCtx {
            store: self.store.clone(),
            address: address.to_string(),
            action: action.to_string(),
            natural_key: natural_key.map(str::to_string),
        }
    }

    /// Records ownership and settles the journal entries of the address.
    fn own(
        &self,
        provider: &str,
        address: &str,
        vendor_id: Option<String>,
        parent_id: Option<String>,
        origin: &str,
        facts: BTreeMap<String, Value>,
    ) -> Result<(), ProviderError> {
        self.store.put_owned(
            address,
            &OwnedRecord {
                provider: provider.to_string(),
                vendor_id,
                parent_id,
                since: now_unix(),
                origin: origin.to_string(),
                facts,
            },
        )?;
        for (id, entry) in self.store.journal()? {
            if entry.address == address
                && matches!(
                    entry.status,
                    JournalStatus::Pending | JournalStatus::Succeeded
                )
            {
                self.store.journal_finish(
                    id,
                    JournalStatus::Settled,
                    Some("object recorded as owned".into()),
                )?;
            }
        }
        Ok(())
    }

    /// Updates a device's record, creating it when missing.
    fn touch_device(
        &self,
        provider: &str,
        serial: &str,
        customer_id: &str,
        f: impl FnOnce(&mut BTreeMap<String, Value>),
    ) -> Result<(), ProviderError> {
        let address = device_address(serial);
        let mut record = self.store.get_owned(&address)?.unwrap_or(OwnedRecord {
            provider: provider.to_string(),
            vendor_id: Some(serial.to_string()),
            parent_id: Some(customer_id.to_string()),
            since: now_unix(),
            origin: "created".into(),
            facts: BTreeMap::new(),
        });
        record.parent_id = Some(customer_id.to_string());
        f(&mut record.facts);
        self.store.put_owned(&address, &record)?;
        Ok(())
    }

    /// An earlier run journaled a create of this address that never got recorded.
    fn open_create(&self, address: &str) -> Result<bool, ProviderError> {
        Ok(self.store.journal()?.iter().any(|(_, e)| {
            e.address == address
                && e.action == "create"
                && matches!(e.status, JournalStatus::Pending | JournalStatus::Succeeded)
        }))
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

impl Aruba {
    /// Polls for a customer by exact name while it provisions; bounded by the
    /// provider's provision timeout. Answers its id and the `msp_id` its record carries.
    async fn wait_for_customer(
        &self,
        name: &str,
    ) -> Result<Option<(String, Option<String>)>, ProviderError> {
        let interval = Duration::from_millis(self.settings.poll_interval_ms).max(self.min_pause());
        let polls = (self.settings.provision_timeout_secs * 1000
            / (interval.as_millis() as u64).max(1))
        .clamp(1, 10_000);
        for attempt in 0..=polls {
            let found = self.customers_named(name).await?;
            let ready: Vec<(String, Option<String>)> = found
                .iter()
                .filter(|c| {
                    c.provision_status
                        .as_deref()
                        .is_none_or(|s| s.eq_ignore_ascii_case("PROVISIONED"))
                })
                .filter_map(|c| {
                    let msp = c.msp_id.clone().filter(|m| !m.is_empty());
                    Some((c.customer_id.clone()?, msp))
                })
                .collect();
            match ready.as_slice() {
                [one] => return Ok(Some(one.clone())),
                [] => {}
                many => {
                    return Err(ProviderError::Other {
                        provider: self.key.clone(),
                        message: format!(
                            "{} customers named {name:?} exist ({}); refusing to guess",
                            many.len(),
                            many.iter()
                                .map(|(id, _)| id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
            }
            if attempt < polls {
                tracing::info!(provider = %self.key, customer = %name, "waiting for the new customer to finish provisioning");
                tokio::time::sleep(interval).await;
            }
        }
        Ok(None)
    }

    /// Runs one step. State is updated (and flushed) as each part succeeds.
    pub async fn run_step(&self, step: &Step, env: &mut RunEnv) -> Result<(), ProviderError> {
        let key = self.key.clone();
        match &step.op {
            StepOp::CreateCustomer { address, body } => {
                let name = body.customer_name.as_str();
                let found = |env: &mut RunEnv,
                             (id, msp_id): (String, Option<String>)|
                 -> Result<(), ProviderError> {
                    if env.msp_id.is_none()
                        && let Some(msp_id) = msp_id
                    {
                        tracing::info!(provider = %key, "learned the MSP's own customer id from the new customer's record");
                        env.msp_id = Some(msp_id);
                    }
                    env.own(
                        &key,
                        address,
                        Some(id.clone()),
                        None,
                        "created",
                        BTreeMap::new(),
                    )?;
                    env.ids.insert(address.clone(), id);
                    Ok(())
                };
                if env.open_create(address)? {
                    tracing::info!(provider = %key, %address, "an earlier run may have created this customer; looking for it first");
                    if let Some(one) = self.wait_for_customer(name).await? {
                        return found(env, one);
                    }
                }
                // A create whose answer was lost is never repeated blindly: the
                // customer is looked for (through its provisioning time) first, and
                // posted a second time only when it did not turn up.
                let mut lost = None;
                for _ in 0..2 {
                    match self
                        .create_customer(body, &env.ctx(address, "create", Some(name)))
                        .await
                    {
                        Ok(()) => {
                            return match self.wait_for_customer(name).await? {
                                Some(one) => found(env, one),
                                None => Err(ProviderError::Other {
                                    provider: key.clone(),
                                    message: format!(
                                        "{address}: the customer was accepted but did not appear within {} s; re-run apply to pick it up (it will not be created twice)",
                                        self.settings.provision_timeout_secs
                                    ),
                                }),
                            };
                        }
                        Err(e) if e.maybe_committed() => {
                            tracing::warn!(provider = %key, %address, error = %e, "the create may have reached the vendor; looking for the customer before anything else");
                            if let Some(one) = self.wait_for_customer(name).await? {
                                return found(env, one);
                            }
                            lost = Some(e);
                        }
                        Err(e) => return Err(e),
                    }
                }
                Err(lost.unwrap_or_else(|| ProviderError::Other {
                    provider: key.clone(),
                    message: format!("{address}: the create did not complete"),
                }))
            }
            StepOp::UpdateCustomer { address, body } => {
                let id = env.id(&key, address)?;
                self.update_customer(&id, body, &env.ctx(address, "update", None))
                    .await
            }
            StepOp::DeleteCustomer { address } => {
                let id = env.id(&key, address)?;
                self.delete_customer(&id, &env.ctx(address, "delete", None))
                    .await?;
                env.store.remove_owned(address)?;
                Ok(())
            }
            StepOp::Record {
                address,
                kind,
                parent,
                facts,
            } => {
                let parent_id = match parent {
                    Some(p) => Some(env.id(&key, p)?),
                    None => None,
                };
                let vendor_id = match kind {
                    Kind::Device => Some(address.trim_start_matches("device.").to_string()),
                    _ => Some(env.id(&key, address)?),
                };
                env.own(
                    &key,
                    address,
                    vendor_id,
                    parent_id,
                    "adopted",
                    facts.clone(),
                )
            }
            StepOp::Forget { address } => {
                env.store.remove_owned(address)?;
                Ok(())
            }
            StepOp::AutoLicense {
                customer,
                enable,
                disable,
                desired,
            } => {
                let id = env.id(&key, customer)?;
                let ctx = env.ctx(customer, "auto-licence", None);
                if !disable.is_empty() {
                    self.set_autolicense(&id, disable, false, &ctx).await?;
                }
                if !enable.is_empty() {
                    self.set_autolicense(&id, enable, true, &ctx).await?;
                }
                if let Some(mut record) = env.store.get_owned(customer)? {
                    record.facts.insert("auto_license".into(), json!(desired));
                    env.store.put_owned(customer, &record)?;
                }
                Ok(())
            }
            StepOp::MoveDevices {
                target,
                devices,
                returning,
                counterparts,
            } => {
                let (id, label) = match target {
                    Some(c) => (env.id(&key, c)?, c.clone()),
                    None => match env.msp_id.clone() {
                        Some(id) => (id, "msp".to_string()),
                        None => {
                            return Err(ProviderError::Other {
                                provider: key.clone(),
                                message: msp_id_unknown(devices, *returning, counterparts),
                            });
                        }
                    },
                };
                let ctx = env.ctx(&format!("devices→{label}"), "move", None);
                self.move_devices(&id, devices, None, &ctx).await?;
                if target.is_some() {
                    // Ours from the moment the vendor accepted the move: a run that stops
                    // while it settles finds the devices owned wherever they are.
                    for (serial, _) in devices {
                        env.touch_device(&key, serial, &id, |facts| {
                            facts.remove("site");
                            facts.remove("site_id");
                        })?;
                    }
                }
                let serials: Vec<String> = devices.iter().map(|(s, _)| s.clone()).collect();
                let n = serials.len();
                let (what, landing) = match target {
                    Some(c) => (
                        format!("the move of {n} device(s) into {c}"),
                        Landing::Customer(&id),
                    ),
                    None => {
                        let side = match (returning, counterparts.is_empty()) {
                            (_, true) => String::new(),
                            (true, false) => format!(" from {}", counterparts.join(", ")),
                            (false, false) => {
                                format!(" on their way into {}", counterparts.join(", "))
                            }
                        };
                        (
                            format!("the move of {n} device(s) back to the MSP inventory{side}"),
                            Landing::Msp(&id),
                        )
                    }
                };
                let held = self
                    .wait_for_move(&what, landing, &serials, &env.interrupted)
                    .await?;
                if target.is_some() {
                    env.held.extend(held);
                }
                if target.is_none() && *returning {
                    // Forgotten only once the vendor shows them back: a return that has not
                    // landed keeps them owned, so the next run sees it and finishes it.
                    for serial in &serials {
                        env.store.remove_owned(&device_address(serial))?;
                    }
                }
                Ok(())
            }
            StepOp::Licenses {
                assign,
                services,
                serials,
                customer,
            } => {
                let cid = env.id(&key, customer)?;
                let ctx = env.ctx(
                    &format!("licences of {} device(s)", serials.len()),
                    if *assign { "assign" } else { "unassign" },
                    None,
                );
                if *assign {
                    // A device a move just brought in may already hold some of these
                    // services (the customer's auto-licence): never license it twice.
                    let mut missing: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
                    for serial in serials {
                        let held = env.held.get(serial).map(Vec::as_slice).unwrap_or(&[]);
                        let need: Vec<String> = services
                            .iter()
                            .filter(|s| !held.iter().any(|h| h.eq_ignore_ascii_case(s)))
                            .cloned()
                            .collect();
                        if !need.is_empty() {
                            missing.entry(need).or_default().push(serial.clone());
                        }
                    }
                    for (need, group) in &missing {
                        self.assign_licenses(group, need, &ctx).await?;
                    }
                } else {
                    self.unassign_licenses(serials, services, &ctx).await?;
                }
                for serial in serials {
                    env.touch_device(&key, serial, &cid, |_| {})?;
                }
                Ok(())
            }
            StepOp::CreateSite {
                address,
                customer,
                body,
            } => {
                let cid = env.id(&key, customer)?;
                let ctx = env.ctx(address, "create", Some(&body.site_name));
                let mut site_id = None;
                if env.open_create(address)? {
                    site_id = self.find_site(&cid, &body.site_name).await?;
                }
                if site_id.is_none() {
                    site_id = match self.create_site(&cid, body, &ctx).await {
                        Ok(site) => site.site_id,
                        Err(e) if e.maybe_committed() => {
                            match self.find_site(&cid, &body.site_name).await? {
                                Some(id) => Some(id),
                                None => self.create_site(&cid, body, &ctx).await?.site_id,
                            }
                        }
                        Err(e) => return Err(e),
                    };
                }
                let id = match site_id {
                    Some(id) => id,
                    None => self.find_site(&cid, &body.site_name).await?.ok_or_else(|| ProviderError::Other {
                        provider: key.clone(),
                        message: format!("{address}: the site create answered without a site_id and the site cannot be found by name"),
                    })?,
                };
                env.own(
                    &key,
                    address,
                    Some(id.clone()),
                    Some(cid),
                    "created",
                    BTreeMap::new(),
                )?;
                env.sites_of
                    .entry(customer.clone())
                    .or_default()
                    .push((address.clone(), id.clone()));
                env.ids.insert(address.clone(), id);
                Ok(())
            }
            StepOp::UpdateSite {
                address,
                customer,
                body,
            } => {
                let cid = env.id(&key, customer)?;
                let id = env.id(&key, address)?;
                self.update_site(&cid, &id, body, &env.ctx(address, "update", None))
                    .await
            }
            StepOp::DeleteSite { address, customer } => {
                let cid = env.id(&key, customer)?;
                let id = env.id(&key, address)?;
                self.delete_site(&cid, &id, &env.ctx(address, "delete", None))
                    .await?;
                env.store.remove_owned(address)?;
                Ok(())
            }
            StepOp::Unassociate {
                site,
                customer,
                device_type,
                serials,
            } => {
                let cid = env.id(&key, customer)?;
                let Some(site_id) = env.ids.get(site).cloned() else {
                    // The old site is gone, and the association with it.
                    return Ok(());
                };
                self.associations(
                    &cid,
                    &site_id,
                    device_type,
                    serials,
                    false,
                    &env.ctx(site, "unassociate", None),
                )
                .await?;
                for serial in serials {
                    env.touch_device(&key, serial, &cid, |facts| {
                        facts.remove("site");
                        facts.remove("site_id");
                    })?;
                }
                Ok(())
            }
            StepOp::Associate {
                site,
                customer,
                device_type,
                serials,
            } => {
                let cid = env.id(&key, customer)?;
                let site_id = env.id(&key, site)?;
                let ctx = env.ctx(site, "associate", None);
                let mut failed = self
                    .associations(&cid, &site_id, device_type, serials, true, &ctx)
                    .await?;
                if !failed.is_empty() {
                    // A device is in one site only: take the failed ones out of any other
                    // site of this customer (someone may have moved them by hand), then retry.
                    let others: Vec<(String, String)> = env
                        .sites_of
                        .get(customer)
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|(a, _)| a != site)
                        .collect();
                    for (other, other_id) in others {
                        self.associations(
                            &cid,
                            &other_id,
                            device_type,
                            &failed,
                            false,
                            &env.ctx(&other, "unassociate", None),
                        )
                        .await?;
                    }
                    failed = self
                        .associations(&cid, &site_id, device_type, &failed, true, &ctx)
                        .await?;
                }
                let site_key = site.rsplit('/').next().unwrap_or_default().to_string();
                for serial in serials.iter().filter(|s| !failed.contains(s)) {
                    env.touch_device(&key, serial, &cid, |facts| {
                        facts.insert("site".into(), json!(site_key));
                        facts.insert("site_id".into(), json!(site_id));
                    })?;
                }
                if failed.is_empty() {
                    Ok(())
                } else {
                    Err(ProviderError::Other {
                        provider: key.clone(),
                        message: format!(
                            "POST /central/v2/sites/associations: the vendor refused to put {} into {site}",
                            failed.join(", ")
                        ),
                    })
                }
            }
        }
    }

    async fn find_site(
        &self,
        customer_id: &str,
        name: &str,
    ) -> Result<Option<String>, ProviderError> {
        Ok(self
            .list_sites(customer_id)
            .await?
            .into_iter()
            .find(|s| s.site_name.as_deref() == Some(name))
            .and_then(|s| s.site_id))
    }
}
