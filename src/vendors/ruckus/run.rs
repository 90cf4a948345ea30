//! Running RUCKUS One apply steps. Contract: every step tolerates running twice
//! or being cut off part-way; state is updated (and flushed) as each part
//! succeeds. Creates live in `create`: journaled per tenant before the post and
//! recorded with their request id before any polling, so a run killed while an
//! activity is pending resumes it next time instead of creating again.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};

use super::Client;
use super::Ruckus;
use super::api::Settled;
use super::refresh::Snapshot;
use super::steps::{NewTenant, RuckusStep, StepOp};
use super::wire::Accepted;
use crate::address::Address;
use crate::state::{JournalStatus, now_unix};
use crate::vendor::VendorClient;
use crate::vendor::http::ProviderError;
use crate::vendor::{Apply, Ledger, Resolved};

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

/// What steps share during one apply: state (through the Ledger, which also
/// holds the ids learned as creates succeed and the Ctrl-C flag) and what each
/// create batch answered for its tenants.
pub struct RunEnv {
    pub ledger: Ledger,
    /// Customer address → the batch's answer for it, or why it failed.
    posted: Mutex<BTreeMap<Address, Result<Posted, String>>>,
}

impl RunEnv {
    pub fn new(ledger: Ledger) -> RunEnv {
        RunEnv {
            ledger,
            posted: Mutex::new(BTreeMap::new()),
        }
    }

    fn posted_map(&self) -> MutexGuard<'_, BTreeMap<Address, Result<Posted, String>>> {
        self.posted.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the batch answered for a tenant (`None`: it was not posted in this run).
    pub(super) fn posted(&self, address: &Address) -> Option<Result<Posted, String>> {
        self.posted_map().get(address).cloned()
    }

    pub(super) fn set_posted(&self, address: &Address, posted: Result<Posted, String>) {
        self.posted_map().insert(address.clone(), posted);
    }

    /// Ends every open create entry of an address.
    pub(super) fn close_creates(
        &self,
        address: &Address,
        status: JournalStatus,
        detail: &str,
    ) -> Result<(), ProviderError> {
        self.ledger.close(address, Some("create"), status, detail)
    }

    /// Records ownership (keeping `since` of an existing record), remembers the
    /// id and settles the address's journal entries.
    pub(super) fn own(
        &self,
        address: &Address,
        vendor_id: &str,
        origin: &str,
        facts: BTreeMap<String, Value>,
    ) -> Result<(), ProviderError> {
        self.ledger
            .own(address, Some(vendor_id), None, origin, facts)
    }

    /// Changes the facts of an owned record (creating an adopted record when
    /// missing) and writes it (flushed).
    fn facts(
        &self,
        address: &Address,
        vendor_id: &str,
        change: impl FnOnce(&mut BTreeMap<String, Value>),
    ) -> Result<(), ProviderError> {
        self.ledger.update(
            address,
            || self.ledger.fresh(Some(vendor_id), None, "adopted"),
            |record| {
                change(&mut record.facts);
                record.facts.remove("request_id");
            },
        )
    }

    /// Records, before the invitation is posted, that it is about to be: a run
    /// that never sees the answer leaves this behind, and the next one settles it
    /// by reading the EC's administrators instead of sending it again.
    pub(super) fn inviting(
        &self,
        address: &Address,
        vendor_id: &str,
        email: &str,
    ) -> Result<(), ProviderError> {
        self.facts(address, vendor_id, |f| {
            f.insert(INVITING.to_string(), json!(email));
        })
    }

    /// Drops the intent of an invitation that certainly did not go out.
    pub(super) fn not_inviting(
        &self,
        address: &Address,
        vendor_id: &str,
    ) -> Result<(), ProviderError> {
        self.facts(address, vendor_id, |f| {
            f.remove(INVITING);
        })
    }

    /// Records whom mspform invited; no invitation is in doubt any more.
    pub(super) fn invited(
        &self,
        address: &Address,
        vendor_id: &str,
        email: &str,
    ) -> Result<(), ProviderError> {
        self.facts(address, vendor_id, |f| {
            f.insert(INVITED.to_string(), json!(email));
            f.remove(INVITING);
        })
    }

    /// Ends the open invitation journal entries of an address.
    pub(super) fn close_invites(
        &self,
        address: &Address,
        status: JournalStatus,
        detail: &str,
    ) -> Result<(), ProviderError> {
        self.ledger.close(address, Some(INVITE), status, detail)
    }
}

impl Apply<Ruckus> for Client {
    /// Also records the invitations an earlier run posted without seeing the
    /// answer, as the refresh read them (the plan treated them as sent); on
    /// failure they stay in doubt for the next run.
    fn env(&self, snapshot: &Snapshot, _resolved: &Resolved, ledger: Ledger) -> RunEnv {
        let env = RunEnv::new(ledger);
        if let Err(e) = self.settle_doubtful_invitations(snapshot, &env) {
            tracing::error!(provider = %self.key(), error = %e, "could not record the invitations in doubt; the next run settles them");
        }
        env
    }

    /// Runs one step. State is updated (and flushed) as each part succeeds.
    async fn run<'a>(&'a self, env: &'a RunEnv, step: &'a RuckusStep) -> Result<(), ProviderError> {
        match &step.op {
            StepOp::CreateBatch { tenants } => self.run_batch(tenants, env).await,
            StepOp::AwaitCreate { tenant, resume } => {
                self.await_create(tenant, resume.as_ref(), env).await
            }
            StepOp::Adopt {
                address,
                facts,
                admin,
                ours,
            } => {
                self.run_adopt(env, address, facts, admin.as_deref(), *ours)
                    .await
            }
            StepOp::Update { address, body } => {
                let id = env.ledger.id(address)?;
                let accepted = self
                    .update_ec(&id, body, &env.ledger.write(address, "update", None))
                    .await?;
                self.settle(env, address, &format!("PUT /tenants/{id}"), &accepted)
                    .await
            }
            StepOp::Invite {
                address,
                email,
                resend,
            } => {
                let id = env.ledger.id(address)?;
                self.send_invitation(address, &id, email, *resend, env)
                    .await
            }
            StepOp::Delete { address } => self.run_delete(env, address).await,
            StepOp::Assign {
                address,
                delegation_type,
                keep,
                want,
                patch,
                release,
            } => {
                let pid = env.ledger.id(address)?;
                if *patch {
                    self.run_assign(env, address, &pid, delegation_type, keep, want)
                        .await?;
                }
                if *release {
                    env.ledger.forget(address)
                } else {
                    let facts =
                        BTreeMap::from([("delegation_type".to_string(), json!(delegation_type))]);
                    env.own(address, &pid, "adopted", facts)
                }
            }
            StepOp::Forget { address } => env.ledger.forget(address),
            StepOp::Refuse { address, message } => Err(self.other(format!("{address}: {message}"))),
        }
    }
}

impl Client {
    /// Waits for the activity of an accepted write; `Ok` on SUCCESS (or when the
    /// write answered without a request id: synchronous).
    pub(super) async fn settle(
        &self,
        env: &RunEnv,
        address: &Address,
        call: &str,
        accepted: &Accepted,
    ) -> Result<(), ProviderError> {
        let Some(rid) = &accepted.request_id else {
            return Ok(());
        };
        match self.await_activity(rid, env.ledger.stop()).await? {
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

    /// Looks for the tenants an earlier run's unanswered create may have made,
    /// then posts the others in one `POST /tenants`. Fails only when no tenant
    /// of the batch went through (each tenant's own step says why otherwise).
    async fn run_batch(&self, tenants: &[NewTenant], env: &RunEnv) -> Result<(), ProviderError> {
        let mut to_post = Vec::new();
        for t in tenants {
            if let Some(sent_at) = t.unanswered_since {
                tracing::info!(provider = %self.key(), address = %t.address, "an earlier run's create got no answer; looking for the tenant first");
                // Its activity cannot run longer than the timeout after it was sent.
                let left =
                    (sent_at + self.settings.activity_timeout_secs).saturating_sub(now_unix());
                if let Some(id) = self
                    .wait_for_names(
                        std::slice::from_ref(&t.name),
                        Duration::from_secs(left),
                        env.ledger.stop(),
                    )
                    .await?
                    .remove(&t.name)
                {
                    env.set_posted(
                        &t.address,
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
        let mut errors: Vec<String> = tenants
            .iter()
            .filter_map(|t| env.posted(&t.address).and_then(Result::err))
            .collect();
        if errors.len() == tenants.len() && !errors.is_empty() {
            // Nothing went through: say why once, here.
            errors.dedup();
            return Err(self.other(errors.join("; ")));
        }
        Ok(())
    }

    /// Records ownership of a live tenant. An earlier run's create whose answer
    /// was lost (`ours`): it is mspform's, and its administrator was never invited.
    async fn run_adopt(
        &self,
        env: &RunEnv,
        address: &Address,
        facts: &BTreeMap<String, Value>,
        admin: Option<&str>,
        ours: bool,
    ) -> Result<(), ProviderError> {
        let id = env.ledger.id(address)?;
        if !ours {
            return env.own(address, &id, "adopted", facts.clone());
        }
        let mut facts = facts.clone();
        facts.remove(INVITED);
        env.own(address, &id, "created", facts)?;
        if let Some(email) = admin {
            self.send_invitation(address, &id, email, false, env)
                .await?;
        }
        Ok(())
    }

    /// `DELETE /tenants/{id}`, its activity waited out; a tenant already gone
    /// (404, or an unknown activity of a tenant no longer there) is deleted.
    async fn run_delete(&self, env: &RunEnv, address: &Address) -> Result<(), ProviderError> {
        let id = env.ledger.id(address)?;
        if let Some(accepted) = self
            .delete_ec(&id, &env.ledger.write(address, "delete", None))
            .await?
        {
            match self
                .settle(env, address, &format!("DELETE /tenants/{id}"), &accepted)
                .await
            {
                Ok(()) => {}
                // An unknown activity of a tenant that is gone is a finished delete.
                Err(e) if self.get_ec(&id).await?.is_none() => {
                    tracing::info!(provider = %self.key(), %address, error = %e, "the tenant is gone");
                }
                Err(e) => return Err(e),
            }
        }
        env.ledger.forget(address)
    }

    /// `PATCH /mspIntegrators/{pid}`: the partner's list becomes `keep` plus the
    /// tenants of `want`; its activity waited out.
    async fn run_assign(
        &self,
        env: &RunEnv,
        address: &Address,
        pid: &str,
        delegation_type: &str,
        keep: &[String],
        want: &[Address],
    ) -> Result<(), ProviderError> {
        let mut list = keep.to_vec();
        for c in want {
            let id = env.ledger.id(c)?;
            if !list.contains(&id) {
                list.push(id);
            }
        }
        let accepted = self
            .assign_partner(
                pid,
                delegation_type,
                &list,
                &env.ledger.write(address, "assign", None),
            )
            .await?;
        self.settle(
            env,
            address,
            &format!("PATCH /mspIntegrators/{pid}"),
            &accepted,
        )
        .await
    }
}
