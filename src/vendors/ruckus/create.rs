//! Creating tenants: the `POST /tenants` batch (journaled per tenant, flushed,
//! and recorded with its request id the moment the 202 arrives), the search by
//! name after a lost answer, waiting for each tenant's activity (resuming one an
//! earlier run left in flight), and administrator invitations (journaled and
//! recorded as intended before they are sent; one whose answer was lost is
//! settled by reading the tenant's administrators, never sent again blindly).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Client;
use super::api::Settled;
use super::refresh::{PendingCreate, Snapshot, unproven_invitation};
use super::run::{INVITE, Posted, RunEnv};
use super::steps::NewTenant;
use crate::address::Address;
use crate::state::JournalStatus;
use crate::vendor::VendorClient;
use crate::vendor::http::ProviderError;

/// What one tenant's create waits for.
enum Awaiting {
    /// The activity (request id, when known) and the tenant id, when known.
    Activity(Option<String>, Option<String>),
    /// Nothing: the tenant is recorded already.
    Done,
}

impl Client {
    /// Posts tenants in one `POST /tenants` (journaled per tenant first) and
    /// records what the answer says for each tenant in `env`. A 4xx for a batch
    /// of several is retried tenant by tenant (`split`), so one bad tenant does
    /// not sink the rest.
    pub(super) async fn post_batch(
        &self,
        tenants: &[NewTenant],
        env: &RunEnv,
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
            let ctx = env.ledger.write(&t.address, "create", Some(&t.name));
            entries.push(ctx.begin(self.key(), "POST /tenants")?);
        }
        let bodies: Vec<Value> = tenants.iter().map(|t| t.body.clone()).collect();
        match self.create_ecs(&bodies).await {
            Ok(list)
                if list.len() == tenants.len()
                    && list
                        .iter()
                        .all(|a| a.request_id.is_some() || a.tenant_id.is_some()) =>
            {
                for ((t, acc), jid) in tenants.iter().zip(list).zip(entries) {
                    self.accepted(env, t, jid, acc.request_id, acc.tenant_id)?;
                }
                Ok(())
            }
            Ok(list) => {
                tracing::warn!(provider = %self.key(), items = tenants.len(), answered = list.len(), "POST /tenants answered without one request id per tenant; looking the tenants up by name");
                self.find_lost(
                    tenants,
                    env,
                    "its answer could not be matched to the tenants",
                )
                .await
            }
            Err(e) if e.maybe_committed() => {
                tracing::warn!(provider = %self.key(), error = %e, "the create may have reached RUCKUS One; looking the tenants up by name");
                self.find_lost(tenants, env, &e.to_string()).await
            }
            Err(e) => self.refused(tenants, entries, e, env, split).await,
        }
    }

    /// A tenant of an accepted batch: its journal entry stays pending with the
    /// ids (they make it resumable), and it is recorded as owned with its
    /// request id, before any polling.
    fn accepted(
        &self,
        env: &RunEnv,
        t: &NewTenant,
        jid: u64,
        request_id: Option<String>,
        tenant_id: Option<String>,
    ) -> Result<(), ProviderError> {
        let detail = json!({"request_id": request_id, "tenant_id": tenant_id});
        env.ledger
            .store()
            .journal_finish(jid, JournalStatus::Pending, Some(detail.to_string()))?;
        if let Some(tid) = &tenant_id {
            // Not `own`: that would settle the create entry, which stays open
            // until the activity ends.
            let mut record = env.ledger.fresh(Some(tid), None, "created");
            if let Some(rid) = &request_id {
                record.facts.insert("request_id".to_string(), json!(rid));
            }
            env.ledger
                .store()
                .put_owned(&t.address.to_string(), &record)?;
            env.ledger.set_id(&t.address, tid);
        }
        env.set_posted(
            &t.address,
            Ok(Posted {
                request_id,
                tenant_id,
                found: false,
            }),
        );
        Ok(())
    }

    /// A batch the vendor refused: nothing was created. Its entries fail; a 4xx
    /// for several tenants is tried tenant by tenant to find the one at fault.
    async fn refused(
        &self,
        tenants: &[NewTenant],
        entries: Vec<u64>,
        e: ProviderError,
        env: &RunEnv,
        split: bool,
    ) -> Result<(), ProviderError> {
        for jid in entries {
            env.ledger
                .store()
                .journal_finish(jid, JournalStatus::Failed, Some(e.to_string()))?;
        }
        let per_tenant = split
            && tenants.len() > 1
            && e.status()
                .is_some_and(|s| (400..500).contains(&s) && !matches!(s, 401 | 403 | 404 | 429));
        if per_tenant {
            tracing::warn!(provider = %self.key(), error = %e, "the batch was refused; posting its tenants one by one to find the one at fault");
            for t in tenants {
                Box::pin(self.post_batch(std::slice::from_ref(t), env, false)).await?;
            }
        } else {
            for t in tenants {
                env.set_posted(&t.address, Err(format!("{}: {e}", t.address)));
            }
        }
        Ok(())
    }

    /// After a create whose answer was lost: the tenants that turn up by name
    /// (within the activity timeout) are ours; the others stay journaled as
    /// unknown, and the next run looks for them again before posting.
    async fn find_lost(
        &self,
        tenants: &[NewTenant],
        env: &RunEnv,
        why: &str,
    ) -> Result<(), ProviderError> {
        let names: Vec<String> = tenants.iter().map(|t| t.name.clone()).collect();
        let found = self
            .wait_for_names(&names, self.activity_window(), env.ledger.stop())
            .await?;
        for t in tenants {
            match found.get(&t.name) {
                Some(id) => {
                    env.own(&t.address, id, "created", BTreeMap::new())?;
                    env.set_posted(
                        &t.address,
                        Ok(Posted {
                            request_id: None,
                            tenant_id: Some(id.clone()),
                            found: true,
                        }),
                    );
                }
                None => env.set_posted(
                    &t.address,
                    Err(format!(
                        "{}: POST /tenants may or may not have created it ({why}), and no tenant named {:?} appeared within {} s; re-run apply: it looks for the tenant by name before creating it again",
                        t.address, t.name, self.settings.activity_timeout_secs
                    )),
                ),
            }
        }
        Ok(())
    }

    /// Records a created tenant and invites its administrator.
    async fn created(&self, t: &NewTenant, id: &str, env: &RunEnv) -> Result<(), ProviderError> {
        env.own(&t.address, id, "created", BTreeMap::new())?;
        if let Some(email) = &t.admin {
            self.send_invitation(&t.address, id, email, false, env)
                .await?;
        }
        Ok(())
    }

    /// `POST /tenants/{id}/invitations`, journaled like a create: the intent is
    /// recorded in state (fact `inviting`) and in the journal, both flushed,
    /// before it is sent, and whom mspform invited once the answer arrives. When
    /// the answer is lost, the EC's administrators are read instead of sending
    /// again (see [`Client::settle_invitation`]).
    pub(super) async fn send_invitation(
        &self,
        address: &Address,
        id: &str,
        email: &str,
        resend: bool,
        env: &RunEnv,
    ) -> Result<(), ProviderError> {
        let call = format!("POST /tenants/{id}/invitations");
        env.inviting(address, id, email)?;
        let jid = env
            .ledger
            .write(address, INVITE, Some(email))
            .begin(self.key(), &call)?;
        let store = env.ledger.store();
        let accepted = match self.invite(id, email, resend).await {
            Ok(accepted) => accepted,
            Err(e) if e.maybe_committed() => {
                let why = e.to_string();
                // Left in doubt when the read fails too: the next plan reads again.
                let listed = self.invitation_listed(id, email).await.map_err(|read| {
                    self.other(format!(
                        "{address}: the answer to {call} was lost ({why}) and the tenant's administrators could not be read ({read}); the next plan reads them again, and the invitation is not sent again blindly"
                    ))
                })?;
                if listed != Some(true) {
                    tracing::warn!(
                        "{}",
                        unproven_invitation(self.key(), address, email, &why, listed)
                    );
                }
                return self.settle_invitation(address, id, email, listed, &why, env);
            }
            Err(e) => {
                env.not_inviting(address, id)?;
                store.journal_finish(jid, JournalStatus::Failed, Some(e.to_string()))?;
                return Err(e);
            }
        };
        // [assumed] an invitation answered with a request id is an activity.
        if let Some(rid) = &accepted.request_id {
            match self.await_activity(rid, env.ledger.stop()).await? {
                Settled::Success => {}
                Settled::Fail(m) => {
                    env.not_inviting(address, id)?;
                    let message =
                        format!("{call} was accepted but its activity {rid} ended in FAIL: {m}");
                    store.journal_finish(jid, JournalStatus::Failed, Some(message.clone()))?;
                    return Err(self.other(format!("{address}: {message}")));
                }
                // Still in doubt: the next run reads the administrators.
                Settled::Unknown | Settled::TimedOut(_) => {
                    return Err(self.other(format!(
                        "{address}: {call} was accepted but its activity {rid} did not finish; the next plan reads the tenant's administrators to see whether the invitation went out (it is not sent again blindly)"
                    )));
                }
            }
        }
        env.invited(address, id, email)?;
        store.journal_finish(
            jid,
            JournalStatus::Succeeded,
            Some(format!("invited {email}")),
        )?;
        Ok(())
    }

    /// Whether `GET /tenants/{id}/admins` lists `email`; `None` when the list
    /// cannot be read here.
    pub(super) async fn invitation_listed(
        &self,
        id: &str,
        email: &str,
    ) -> Result<Option<bool>, ProviderError> {
        let email = email.to_lowercase();
        Ok(self.ec_admins(id).await?.map(|list| list.contains(&email)))
    }

    /// Settles an invitation whose answer was lost (`why`), from what the EC's
    /// administrator list says (`listed`). Listed: it went out. Not listed, or
    /// the list cannot be read: nothing proves it either way (a vendor may list
    /// only administrators who accepted), so mspform takes the safe side and
    /// never sends an invitation twice on its own (the caller warns, saying how
    /// to send it again). Either way whom mspform invited is recorded and the
    /// journal closed.
    pub(super) fn settle_invitation(
        &self,
        address: &Address,
        id: &str,
        email: &str,
        listed: Option<bool>,
        why: &str,
        env: &RunEnv,
    ) -> Result<(), ProviderError> {
        let detail = if listed == Some(true) {
            tracing::info!(provider = %self.key(), %address, %email, "the invitation's answer was lost; the tenant lists the administrator, so it went out");
            format!("answer lost ({why}); {email} is listed among the tenant's administrators")
        } else {
            format!("answer lost ({why}); not proven, not sent again")
        };
        env.invited(address, id, email)?;
        env.close_invites(address, JournalStatus::Settled, &detail)
    }

    /// Before the steps of an apply: records the invitations an earlier run
    /// posted without seeing the answer, as the refresh read them (the plan
    /// already treated them as sent).
    pub(super) fn settle_doubtful_invitations(
        &self,
        snap: &Snapshot,
        env: &RunEnv,
    ) -> Result<(), ProviderError> {
        for (address, pending) in &snap.invites {
            self.settle_invitation(
                address,
                &pending.tenant_id,
                &pending.email,
                pending.listed,
                "an earlier run never saw it",
                env,
            )?;
        }
        Ok(())
    }

    /// What to wait for in one tenant's create: an earlier run's (`resume`), or
    /// what this run's batch answered (a tenant found by name is recorded at once).
    async fn create_to_await(
        &self,
        t: &NewTenant,
        resume: &mut Option<PendingCreate>,
        env: &RunEnv,
    ) -> Result<Awaiting, ProviderError> {
        if let Some(p) = resume.take() {
            return Ok(Awaiting::Activity(Some(p.request_id), p.tenant_id));
        }
        match env.posted(&t.address) {
            Some(Err(m)) => Err(self.other(m)),
            Some(Ok(p)) if p.found => {
                let id = p.tenant_id.unwrap_or_default();
                self.created(t, &id, env).await?;
                Ok(Awaiting::Done)
            }
            Some(Ok(p)) => Ok(Awaiting::Activity(p.request_id, p.tenant_id)),
            None => Err(self.other(format!("{}: no create was posted", t.address))),
        }
    }

    /// Waits for one tenant's create; posts it again when an earlier run's
    /// activity turns out to have failed.
    pub(super) async fn await_create(
        &self,
        t: &NewTenant,
        resume: Option<&PendingCreate>,
        env: &RunEnv,
    ) -> Result<(), ProviderError> {
        let mut resume = resume.cloned();
        for _ in 0..2 {
            let Awaiting::Activity(rid, tid) = self.create_to_await(t, &mut resume, env).await?
            else {
                return Ok(());
            };
            let outcome = match &rid {
                Some(rid) => self.await_activity(rid, env.ledger.stop()).await?,
                None => Settled::Success,
            };
            let rid = rid.unwrap_or_default();
            let failed = match outcome {
                Settled::Success => return self.create_succeeded(t, &rid, tid, env).await,
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
            if let Some(record) = env.ledger.record(&t.address)?
                && record.vendor_id == tid
            {
                env.ledger.forget(&t.address)?;
            }
            let message = format!("activity {rid} ended in FAIL: {failed}");
            env.close_creates(&t.address, JournalStatus::Failed, &message)?;
            if env.posted(&t.address).is_some() {
                return Err(self.other(format!(
                    "{}: POST /tenants was accepted but its {message}",
                    t.address
                )));
            }
            tracing::warn!(provider = %self.key(), address = %t.address, %message, "an earlier run's create failed; creating the tenant again");
            self.post_batch(std::slice::from_ref(t), env, false).await?;
        }
        Err(self.other(format!("{}: the create did not complete", t.address)))
    }

    /// A create activity that succeeded: the tenant (by the id the batch gave,
    /// or by name) is recorded and its administrator invited.
    async fn create_succeeded(
        &self,
        t: &NewTenant,
        rid: &str,
        tid: Option<String>,
        env: &RunEnv,
    ) -> Result<(), ProviderError> {
        let id = match tid {
            Some(id) => Some(id),
            None => self
                .wait_for_names(
                    std::slice::from_ref(&t.name),
                    self.activity_window(),
                    env.ledger.stop(),
                )
                .await?
                .remove(&t.name),
        };
        let Some(id) = id else {
            return Err(self.other(format!(
                "{}: the create activity {rid} succeeded but no tenant id came back and none is named {:?}",
                t.address, t.name
            )));
        };
        self.created(t, &id, env).await
    }
}
