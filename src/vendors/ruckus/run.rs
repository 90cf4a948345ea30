//! Running RUCKUS One apply steps. Contract: every step tolerates running twice
//! or being cut off part-way; state is updated (and flushed) as each part
//! succeeds. Creates live in `create`: journaled per tenant before the post and
//! recorded with their request id before any polling, so a run killed while an
//! activity is pending resumes it next time instead of creating again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::Ruckus;
use super::api::Settled;
use super::steps::{RuckusStep, StepOp};
use super::wire::Accepted;
use crate::providers::http::{ProviderError, WriteCtx};
use crate::state::{JournalStatus, OwnedRecord, StateStore, now_unix};

/// Fact of an owned customer: the administrator email mspform invited.
pub const INVITED: &str = "invited";
/// Fact of an owned customer: an invitation to this email was (about to be)
/// posted and its answer has not been seen.
pub const INVITING: &str = "inviting";
/// Journal action of an invitation.
pub const INVITE: &str = "invite";

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

    pub(super) fn ctx(&self, address: &str, action: &str) -> WriteCtx {
        WriteCtx {
            store: self.store.clone(),
            address: address.to_string(),
            action: action.to_string(),
            natural_key: None,
        }
    }

    /// Open (pending) create journal entries of an address.
    pub(super) fn open_creates(&self, address: &str) -> Result<Vec<u64>, ProviderError> {
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
    pub(super) fn close_creates(
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
    pub(super) fn own(
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

    /// Changes the facts of an owned record (creating an adopted record when
    /// missing) and writes it (flushed).
    fn facts(
        &self,
        provider: &str,
        address: &str,
        vendor_id: &str,
        change: impl FnOnce(&mut BTreeMap<String, Value>),
    ) -> Result<(), ProviderError> {
        let mut record = self.store.get_owned(address)?.unwrap_or(OwnedRecord {
            provider: provider.to_string(),
            vendor_id: Some(vendor_id.to_string()),
            parent_id: None,
            since: now_unix(),
            origin: "adopted".into(),
            facts: BTreeMap::new(),
        });
        change(&mut record.facts);
        record.facts.remove("request_id");
        self.store.put_owned(address, &record)?;
        Ok(())
    }

    /// Records, before the invitation is posted, that it is about to be: a run
    /// that never sees the answer leaves this behind, and the next one settles it
    /// by reading the EC's administrators instead of sending it again.
    pub(super) fn inviting(
        &self,
        provider: &str,
        address: &str,
        vendor_id: &str,
        email: &str,
    ) -> Result<(), ProviderError> {
        self.facts(provider, address, vendor_id, |f| {
            f.insert(INVITING.to_string(), json!(email));
        })
    }

    /// Drops the intent of an invitation that certainly did not go out.
    pub(super) fn not_inviting(
        &self,
        provider: &str,
        address: &str,
        vendor_id: &str,
    ) -> Result<(), ProviderError> {
        self.facts(provider, address, vendor_id, |f| {
            f.remove(INVITING);
        })
    }

    /// Records whom mspform invited; no invitation is in doubt any more.
    pub(super) fn invited(
        &self,
        provider: &str,
        address: &str,
        vendor_id: &str,
        email: &str,
    ) -> Result<(), ProviderError> {
        self.facts(provider, address, vendor_id, |f| {
            f.insert(INVITED.to_string(), json!(email));
            f.remove(INVITING);
        })
    }

    /// Ends the open invitation journal entries of an address.
    pub(super) fn close_invites(
        &self,
        address: &str,
        status: JournalStatus,
        detail: &str,
    ) -> Result<(), ProviderError> {
        for (id, e) in self.store.journal()? {
            if e.address == address && e.action == INVITE && e.status == JournalStatus::Pending {
                self.store
                    .journal_finish(id, status, Some(detail.to_string()))?;
            }
        }
        Ok(())
    }
}

impl Ruckus {
    pub(super) fn id_of(&self, env: &RunEnv, address: &str) -> Result<String, ProviderError> {
        env.ids
            .get(address)
            .cloned()
            .ok_or_else(|| self.other(format!("no RUCKUS One id known for {address}")))
    }

    /// Waits for the activity of an accepted write; `Ok` on SUCCESS (or when the
    /// write answered without a request id: synchronous).
    pub(super) async fn settle(
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
