//! Running Aruba's site steps: site creates (looked up by name first when their
//! outcome is unknown), updates and deletes, and device ↔ site associations.

use serde_json::json;

use super::{RunEnv, locked};
use crate::address::Address;
use crate::diff::Fields;
use crate::vendor::Ledger;
use crate::vendor::VendorClient;
use crate::vendor::http::ProviderError;
use crate::vendors::aruba::Client;
use crate::vendors::aruba::steps::StepOp;
use crate::vendors::aruba::wire::SiteBody;

/// One association step's devices: of one type, into or out of one site of a customer.
#[derive(Clone, Copy)]
struct Batch<'a> {
    pub site: &'a Address,
    pub customer: &'a Address,
    pub device_type: &'a str,
    pub serials: &'a [String],
}

impl Client {
    /// An associate or unassociate step.
    pub(super) async fn association_step(
        &self,
        env: &RunEnv,
        op: &StepOp,
    ) -> Result<(), ProviderError> {
        let batch = match op {
            StepOp::Associate {
                site,
                customer,
                device_type,
                serials,
            }
            | StepOp::Unassociate {
                site,
                customer,
                device_type,
                serials,
            } => Batch {
                site,
                customer,
                device_type,
                serials,
            },
            _ => return Ok(()),
        };
        if matches!(op, StepOp::Associate { .. }) {
            self.associate_step(env, &batch).await
        } else {
            self.unassociate_step(env, &batch).await
        }
    }

    /// Updates a site with `body`, or deletes it (and forgets it) without one.
    pub(super) async fn site_write(
        &self,
        ledger: &Ledger,
        address: &Address,
        customer: &Address,
        body: Option<&SiteBody>,
    ) -> Result<(), ProviderError> {
        let cid = ledger.id(customer)?;
        let id = ledger.id(address)?;
        match body {
            Some(body) => {
                let ctx = ledger.write(address, "update", None);
                self.update_site(&cid, &id, body, &ctx).await
            }
            None => {
                let ctx = ledger.write(address, "delete", None);
                self.delete_site(&cid, &id, &ctx).await?;
                ledger.forget(address)
            }
        }
    }

    /// A site create: looked up by name first when an earlier run may have made it
    /// or the answer was lost.
    pub(super) async fn create_site_step(
        &self,
        env: &RunEnv,
        address: &Address,
        customer: &Address,
        body: &SiteBody,
    ) -> Result<(), ProviderError> {
        let ledger = &env.ledger;
        let cid = ledger.id(customer)?;
        let ctx = ledger.write(address, "create", Some(&body.site_name));
        let mut site_id = None;
        if ledger.open_create(address)? {
            site_id = self.find_site(&cid, &body.site_name).await?;
        }
        if site_id.is_none() {
            site_id = match self.create_site(&cid, body, &ctx).await {
                Ok(site) => site.site_id,
                Err(e) if e.maybe_committed() => match self.find_site(&cid, &body.site_name).await?
                {
                    Some(id) => Some(id),
                    None => self.create_site(&cid, body, &ctx).await?.site_id,
                },
                Err(e) => return Err(e),
            };
        }
        let id = match site_id {
            Some(id) => id,
            None => self.find_site(&cid, &body.site_name).await?.ok_or_else(|| {
                self.other(format!(
                    "{address}: the site create answered without a site_id and the site cannot be found by name"
                ))
            })?,
        };
        ledger.own(address, Some(&id), Some(&cid), "created", Fields::new())?;
        locked(&env.sites_of)
            .entry(customer.clone())
            .or_default()
            .push((address.clone(), id));
        Ok(())
    }

    /// Takes the devices out of a site (done when the site is gone already).
    async fn unassociate_step(&self, env: &RunEnv, batch: &Batch<'_>) -> Result<(), ProviderError> {
        let (device_type, serials) = (batch.device_type, batch.serials);
        let cid = env.ledger.id(batch.customer)?;
        let Some(site_id) = env.ledger.try_id(batch.site) else {
            // The old site is gone, and the association with it.
            return Ok(());
        };
        let ctx = env.ledger.write(batch.site, "unassociate", None);
        self.associations(&cid, &site_id, device_type, serials, false, &ctx)
            .await?;
        env.touch_devices(
            serials.iter().map(|s| (s.as_str(), cid.as_str())),
            |facts| {
                facts.remove("site");
                facts.remove("site_id");
            },
        )?;
        Ok(())
    }

    /// Puts the devices into a site; ones the vendor refuses because they sit in
    /// another site of the customer are taken out of it and tried once more.
    async fn associate_step(&self, env: &RunEnv, batch: &Batch<'_>) -> Result<(), ProviderError> {
        let Batch {
            site,
            customer,
            device_type,
            serials,
        } = *batch;
        let cid = env.ledger.id(customer)?;
        let site_id = env.ledger.id(site)?;
        let ctx = env.ledger.write(site, "associate", None);
        let mut failed = self
            .associations(&cid, &site_id, device_type, serials, true, &ctx)
            .await?;
        if !failed.is_empty() {
            // A device is in one site only: take the failed ones out of any other
            // site of this customer (someone may have moved them by hand), then retry.
            let others: Vec<(Address, String)> = locked(&env.sites_of)
                .get(customer)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|(a, _)| a != site)
                .collect();
            for (other, other_id) in others {
                let ctx = env.ledger.write(&other, "unassociate", None);
                self.associations(&cid, &other_id, device_type, &failed, false, &ctx)
                    .await?;
            }
            failed = self
                .associations(&cid, &site_id, device_type, &failed, true, &ctx)
                .await?;
        }
        let site_key = site.key().to_string();
        env.touch_devices(
            serials
                .iter()
                .filter(|s| !failed.contains(s))
                .map(|s| (s.as_str(), cid.as_str())),
            |facts| {
                facts.insert("site".into(), json!(site_key));
                facts.insert("site_id".into(), json!(site_id));
            },
        )?;
        if failed.is_empty() {
            Ok(())
        } else {
            Err(self.other(format!(
                "POST /central/v2/sites/associations: the vendor refused to put {} into {site}",
                failed.join(", ")
            )))
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
