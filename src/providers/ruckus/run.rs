//! Running RUCKUS One apply steps. Contract: every step tolerates running twice
//! or being cut off part-way. A tenant create is journaled (one entry per
//! tenant, flushed) before `POST /tenants`; the moment the 202 arrives its
//! request id and tenant id go into that entry and into an ownership record, so
//! a run killed while the activity is pending resumes polling that activity next
//! time instead of creating again. A create whose answer was lost is looked for
//! by name before anything is posted again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::Ruckus;
use super::api::Settled;
use super::refresh::PendingCreate;
use super::steps::{NewTenant, RuckusStep, StepOp};
use super::wire::Accepted;
use crate::providers::http::{ProviderError, WriteCtx};
use crate::state::{JournalEntry, JournalStatus, OwnedRecord, StateStore, now_unix};

/// What the create batch learned about one tenant.
#[derive(Debug, Clone)]
pub struct Posted {
    pub request_id: Option<String>,
    pub tenant_id: Option<String>,
    /// Already exists (found by name): nothing to wait for.
    pub found: bool,
}

/// What steps share during one apply.
pub struct RunEnv {
    pub store: Arc<dyn StateStore>,
    /// Address → vendor id; grows as creates succeed.
    pub ids: BTreeMap<String, String>,
    /// Customer address → the batch's answer for it, or why it failed.
    pub posted: BTreeMap<String, Result<Posted, String>>,
}

impl RunEnv {
    pub fn new(store: Arc<dyn StateStore>, ids: BTreeMap<String, String>) -> RunEnv {
        RunEnv {
            store,
            ids,
            posted: BTreeMap::new(),
        }
    }

    fn ctx(&self, address: &str, action: &str) -> WriteCtx {
        WriteCtx {
            store: self.store.clone(),
            address: address.to_string(),
            action: action.to_string(),
            natural_key: None,
        }
    }

    /// Open (pending) create journal entries of an address.
    fn open_creates(&self, address: &str) -> Result<Vec<u64>, ProviderError> {
        Ok(self
            .store
            .journal()?
            .into_iter()
            .filter(|(_, e)| {
                e.address == address && e.action == "create" && e.status == JournalStatus::Pending
            })
            .map(|(id, _)| id)
            .collect())
    }

    /// Ends every open create entry of an address.
    fn close_creates(
        &self,
        address: &str,
        status: JournalStatus,
        detail: &str,
    ) -> Result<(), ProviderError> {
        for id in self.open_creates(address)? {
            self.store
                .journal_finish(id, status, Some(detail.to_string()))?;
        }
        Ok(())
    }

    /// Records ownership (keeping `since` of an existing record) and settles the
    /// address's journal entries.
    fn own(
        &self,
        provider: &str,
        address: &str,
        vendor_id: &str,
        origin: &str,
        facts: BTreeMap<String, Value>,
    ) -> Result<(), ProviderError> {
        let since = self
            .store
            .get_owned(address)?
            .filter(|r| r.vendor_id.as_deref() == Some(vendor_id))
            .map_or_else(now_unix, |r| r.since);
        self.store.put_owned(
            address,
            &OwnedRecord {
                provider: provider.to_string(),
                vendor_id: Some(vendor_id.to_string()),
                parent_id: None,
                since,
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

    /// Sets one fact of an owned record (creating an adopted record when missing).
    fn fact(
        &self,
        provider: &str,
        address: &str,
        vendor_id: &str,
        key: &str,
        value: Value,
    ) -> Result<(), ProviderError> {
        let mut record = self.store.get_owned(address)?.unwrap_or(OwnedRecord {
            provider: provider.to_string(),
            vendor_id: Some(vendor_id.to_string()),
            parent_id: None,
            since: now_unix(),
            origin: "adopted".into(),
            facts: BTreeMap::new(),
        });
        record.facts.insert(key.to_string(), value);
        record.facts.remove("request_id");
        self.store.put_owned(address, &record)?;
        Ok(())
    }
}

impl Ruckus {
    fn id_of(&self, env: &RunEnv, address: &str) -> Result<String, ProviderError> {
        env.ids
            .get(address)
            .cloned()
            .ok_or_else(|| self.other(format!("no RUCKUS One id known for {address}")))
    }

    /// Waits for the activity of an accepted write; `Ok` on SUCCESS (or when the
    /// write answered without a request id: synchronous).
    async fn settle(
        &self,
        address: &str,
        call: &str,
        accepted: &Accepted,
    ) -> Result<(), ProviderError> {
        let Some(rid) = &accepted.request_id else {
            return Ok(());
        };
        match self.await_activity(rid).await? {
            Settled::Success => Ok(()),
            Settled::Fail(m) => Err(self.other(format!(
                "{address}: {call} was accepted but its activity {rid} ended in FAIL: {m}"
            ))),
            Settled::Unknown => Err(self.other(format!(
                "{address}: {call} was accepted but GET /activities/{rid} does not know the activity; re-run plan to see whether it took effect"
            ))),
            Settled::TimedOut(s) => Err(self.other(format!(
                "{address}: {call} was accepted but its activity {rid} is still {s} after {} s; re-run plan to see whether it took effect (raise activity_timeout_secs if this is normal)",
                self.settings.activity_timeout_secs
            ))),
        }
    }

    /// Posts tenants in one `POST /tenants` (journaled per tenant first) and
    /// records what the answer says in `env.posted`. A 4xx for a batch of several
    /// is retried tenant by tenant, so one bad tenant does not sink the rest.
    async fn post_batch(
        &self,
        tenants: &[NewTenant],
        env: &mut RunEnv,
        split: bool,
    ) -> Result<(), ProviderError> {
        for t in tenants {
            env.close_creates(
                &t.address,
                JournalStatus::Settled,
                "superseded by a new create",
            )?;
        }
        let mut entries = Vec::new();
        for t in tenants {
            entries.push(env.store.journal_begin(&JournalEntry {
                provider: self.key.clone(),
                address: t.address.clone(),
                action: "create".into(),
                call: "POST /tenants".into(),
                natural_key: Some(t.name.clone()),
                status: JournalStatus::Pending,
                started_at: now_unix(),
                finished_at: None,
                detail: None,
            })?);
        }
        let bodies: Vec<Value> = tenants.iter().map(|t| t.body.clone()).collect();
        let answer = self.create_ecs(&bodies).await;
        match answer {
            Ok(list)
                if list.len() == tenants.len()
                    && list
                        .iter()
                        .all(|a| a.request_id.is_some() || a.tenant_id.is_some()) =>
            {
                for ((t, acc), jid) in tenants.iter().zip(list).zip(entries) {
                    // Pending until the activity ends; the ids make it resumable.
                    let detail = json!({"request_id": acc.request_id, "tenant_id": acc.tenant_id});
                    env.store.journal_finish(
                        jid,
                        JournalStatus::Pending,
                        Some(detail.to_string()),
                    )?;
                    if let Some(tid) = &acc.tenant_id {
                        let mut facts = BTreeMap::new();
                        if let Some(rid) = &acc.request_id {
                            facts.insert("request_id".to_string(), json!(rid));
                        }
                        env.store.put_owned(
                            &t.address,
                            &OwnedRecord {
                                provider: self.key.clone(),
                                vendor_id: Some(tid.clone()),
                                parent_id: None,
                                since: now_unix(),
                                origin: "created".into(),
                                facts,
                            },
                        )?;
                    }
                    env.posted.insert(
                        t.address.clone(),
                        Ok(Posted {
                            request_id: acc.request_id,
                            tenant_id: acc.tenant_id,
                            found: false,
                        }),
                    );
                }
                Ok(())
            }
            Ok(list) => {
                tracing::warn!(provider = %self.key, items = tenants.len(), answered = list.len(), "POST /tenants answered without one request id per tenant; looking the tenants up by name");
                self.find_lost(
                    tenants,
                    env,
                    "its answer could not be matched to the tenants",
                )
                .await
            }
            Err(e) if e.maybe_committed() => {
                tracing::warn!(provider = %self.key, error = %e, "the create may have reached RUCKUS One; looking the tenants up by name");
                self.find_lost(tenants, env, &e.to_string()).await
            }
            Err(e) => {
                for jid in entries {
                    env.store
                        .journal_finish(jid, JournalStatus::Failed, Some(e.to_string()))?;
                }
                let per_tenant = split
                    && tenants.len() > 1
                    && e.status().is_some_and(|s| {
                        (400..500).contains(&s) && !matches!(s, 401 | 403 | 404 | 429)
                    });
                if per_tenant {
                    tracing::warn!(provider = %self.key, error = %e, "the batch was refused; posting its tenants one by one to find the one at fault");
                    for t in tenants {
                        Box::pin(self.post_batch(std::slice::from_ref(t), env, false)).await?;
                    }
                } else {
                    for t in tenants {
                        env.posted
                            .insert(t.address.clone(), Err(format!("{}: {e}", t.address)));
                    }
                }
                Ok(())
            }
        }
    }

    /// After a create whose answer was lost: the tenants that turn up by name
    /// (within the activity timeout) are ours; the others stay journaled as
    /// unknown, and the next run looks for them again before posting.
    async fn find_lost(
        &self,
        tenants: &[NewTenant],
        env: &mut RunEnv,
        why: &str,
    ) -> Result<(), ProviderError> {
        let names: Vec<String> = tenants.iter().map(|t| t.name.clone()).collect();
        let found = self.wait_for_names(&names, self.activity_window()).await?;
        for t in tenants {
            match found.get(&t.name) {
                Some(id) => {
                    env.own(&self.key, &t.address, id, "created", BTreeMap::new())?;
                    env.ids.insert(t.address.clone(), id.clone());
                    env.posted.insert(
                        t.address.clone(),
                        Ok(Posted {
                            request_id: None,
                            tenant_id: Some(id.clone()),
                            found: true,
                        }),
                    );
                }
                None => {
                    env.posted.insert(
                        t.address.clone(),
                        Err(format!(
                            "{}: POST /tenants may or may not have created it ({why}), and no tenant named {:?} appeared within {} s; re-run apply: it looks for the tenant by name before creating it again",
                            t.address, t.name, self.settings.activity_timeout_secs
                        )),
                    );
                }
            }
        }
        Ok(())
    }

    /// Records a created tenant and invites its administrator.
    async fn created(
        &self,
        t: &NewTenant,
        id: &str,
        env: &mut RunEnv,
    ) -> Result<(), ProviderError> {
        env.own(&self.key, &t.address, id, "created", BTreeMap::new())?;
        env.ids.insert(t.address.clone(), id.to_string());
        if let Some(email) = &t.admin {
            self.send_invitation(&t.address, id, email, false, env)
                .await?;
        }
        Ok(())
    }

    /// `POST /tenants/{id}/invitations`, then records whom mspform invited.
    async fn send_invitation(
        &self,
        address: &str,
        id: &str,
        email: &str,
        resend: bool,
        env: &mut RunEnv,
    ) -> Result<(), ProviderError> {
        let accepted = self
            .invite(id, email, resend, &env.ctx(address, "invite"))
            .await?;
        self.settle(
            address,
            &format!("POST /tenants/{id}/invitations"),
            &accepted,
        )
        .await?;
        env.fact(&self.key, address, id, "invited", json!(email))
    }

    /// Waits for one tenant's create; posts it again when an earlier run's
    /// activity turns out to have failed.
    async fn await_create(
        &self,
        t: &NewTenant,
        resume: Option<&PendingCreate>,
        env: &mut RunEnv,
    ) -> Result<(), ProviderError> {
        let mut resume = resume.cloned();
        for _ in 0..2 {
            let (rid, tid) = match resume.take() {
                Some(p) => (Some(p.request_id), p.tenant_id),
                None => match env.posted.get(&t.address).cloned() {
                    Some(Err(m)) => return Err(self.other(m)),
                    Some(Ok(p)) if p.found => {
                        let id = p.tenant_id.unwrap_or_default();
                        return self.created(t, &id, env).await;
                    }
                    Some(Ok(p)) => (p.request_id, p.tenant_id),
                    None => {
                        return Err(self.other(format!("{}: no create was posted", t.address)));
                    }
                },
            };
            let outcome = match &rid {
                Some(rid) => self.await_activity(rid).await?,
                None => Settled::Success,
            };
            let rid = rid.unwrap_or_default();
            let failed = match outcome {
                Settled::Success => {
                    let id = match tid {
                        Some(id) => Some(id),
                        None => self
                            .wait_for_names(std::slice::from_ref(&t.name), self.activity_window())
                            .await?
                            .remove(&t.name),
                    };
                    let Some(id) = id else {
                        return Err(self.other(format!(
                            "{}: the create activity {rid} succeeded but no tenant id came back and none is named {:?}",
                            t.address, t.name
                        )));
                    };
                    return self.created(t, &id, env).await;
                }
                Settled::Unknown => match &tid {
                    Some(id) if self.get_ec(id).await?.is_some() => {
                        return self.created(t, id, env).await;
                    }
                    _ => "the activity is unknown and the tenant does not exist".to_string(),
                },
                Settled::Fail(m) => m,
                Settled::TimedOut(s) => {
                    return Err(self.other(format!(
                        "{}: the create activity {rid} is still {s} after {} s; re-run apply to pick it up (it will not be created twice)",
                        t.address, self.settings.activity_timeout_secs
                    )));
                }
            };
            // Nothing was created: drop the record of the tenant that never came.
            if let Some(record) = env.store.get_owned(&t.address)?
                && record.vendor_id == tid
            {
                env.store.remove_owned(&t.address)?;
            }
            let message = format!("activity {rid} ended in FAIL: {failed}");
            env.close_creates(&t.address, JournalStatus::Failed, &message)?;
            if env.posted.contains_key(&t.address) {
                return Err(self.other(format!(
                    "{}: POST /tenants was accepted but its {message}",
                    t.address
                )));
            }
            tracing::warn!(provider = %self.key, address = %t.address, %message, "an earlier run's create failed; creating the tenant again");
            self.post_batch(std::slice::from_ref(t), env, false).await?;
        }
        Err(self.other(format!("{}: the create did not complete", t.address)))
    }

    /// Runs one step. State is updated (and flushed) as each part succeeds.
    pub async fn run_step(&self, step: &RuckusStep, env: &mut RunEnv) -> Result<(), ProviderError> {
        match &step.op {
            StepOp::CreateBatch { tenants } => {
                let mut to_post = Vec::new();
                for t in tenants {
                    if let Some(sent_at) = t.unanswered_since {
                        tracing::info!(provider = %self.key, address = %t.address, "an earlier run's create got no answer; looking for the tenant first");
                        // Its activity cannot run longer than the timeout after it was sent.
                        let left = (sent_at + self.settings.activity_timeout_secs)
                            .saturating_sub(now_unix());
                        if let Some(id) = self
                            .wait_for_names(
                                std::slice::from_ref(&t.name),
                                Duration::from_secs(left),
                            )
                            .await?
                            .remove(&t.name)
                        {
                            env.posted.insert(
                                t.address.clone(),
                                Ok(Posted {
                                    request_id: None,
                                    tenant_id: Some(id),
                                    found: true,
                                }),
                            );
                            continue;
                        }
                    }
                    to_post.push(t.clone());
                }
                if !to_post.is_empty() {
                    self.post_batch(&to_post, env, true).await?;
                }
                let errors: Vec<&String> = tenants
                    .iter()
                    .filter_map(|t| env.posted.get(&t.address).and_then(|p| p.as_ref().err()))
                    .collect();
                if errors.len() == tenants.len() && !errors.is_empty() {
                    // Nothing went through: say why once, here.
                    let mut unique: Vec<&String> = errors.clone();
                    unique.dedup();
                    return Err(self.other(
                        unique
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join("; "),
                    ));
                }
                Ok(())
            }
            StepOp::AwaitCreate { tenant, resume } => {
                self.await_create(tenant, resume.as_ref(), env).await
            }
            StepOp::Adopt {
                address,
                facts,
                admin,
                ours,
            } => {
                let id = self.id_of(env, address)?;
                // An earlier run's create whose answer was lost: it is ours, and
                // its administrator was never invited.
                if *ours {
                    let mut facts = facts.clone();
                    facts.remove("invited");
                    env.own(&self.key, address, &id, "created", facts)?;
                    if let Some(email) = admin {
                        self.send_invitation(address, &id, email, false, env)
                            .await?;
                    }
                    Ok(())
                } else {
                    env.own(&self.key, address, &id, "adopted", facts.clone())
                }
            }
            StepOp::Update { address, body } => {
                let id = self.id_of(env, address)?;
                let accepted = self
                    .update_ec(&id, body, &env.ctx(address, "update"))
                    .await?;
                self.settle(address, &format!("PUT /tenants/{id}"), &accepted)
                    .await
            }
            StepOp::Invite {
                address,
                email,
                resend,
            } => {
                let id = self.id_of(env, address)?;
                self.send_invitation(address, &id, email, *resend, env)
                    .await
            }
            StepOp::Delete { address } => {
                let id = self.id_of(env, address)?;
                if let Some(accepted) = self.delete_ec(&id, &env.ctx(address, "delete")).await? {
                    match self
                        .settle(address, &format!("DELETE /tenants/{id}"), &accepted)
                        .await
                    {
                        Ok(()) => {}
                        // An unknown activity of a tenant that is gone is a finished delete.
                        Err(e) if self.get_ec(&id).await?.is_none() => {
                            tracing::info!(provider = %self.key, %address, error = %e, "the tenant is gone");
                        }
                        Err(e) => return Err(e),
                    }
                }
                env.store.remove_owned(address)?;
                Ok(())
            }
            StepOp::Assign {
                address,
                delegation_type,
                keep,
                want,
                patch,
                release,
            } => {
                let pid = self.id_of(env, address)?;
                if *patch {
                    let mut list = keep.clone();
                    for c in want {
                        let id = self.id_of(env, c)?;
                        if !list.contains(&id) {
                            list.push(id);
                        }
                    }
                    let accepted = self
                        .assign_partner(&pid, delegation_type, &list, &env.ctx(address, "assign"))
                        .await?;
                    self.settle(address, &format!("PATCH /mspIntegrators/{pid}"), &accepted)
                        .await?;
                }
                if *release {
                    env.store.remove_owned(address)?;
                    Ok(())
                } else {
                    let facts =
                        BTreeMap::from([("delegation_type".to_string(), json!(delegation_type))]);
                    env.own(&self.key, address, &pid, "adopted", facts)
                }
            }
            StepOp::Forget { address } => {
                env.store.remove_owned(address)?;
                Ok(())
            }
            StepOp::Refuse { address, message } => Err(self.other(format!("{address}: {message}"))),
        }
    }
}
