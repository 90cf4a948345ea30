//! Reads ExtremeCloud's live state with as few calls as the API allows: the tenant
//! list, and the partner list only when the files declare partners of this
//! provider. Neither is paged (none documented). A failed read is an error, never
//! "empty".

use super::Client;
use super::wire::{Partner, Tenant};
use crate::vendor::VendorClient;
use crate::vendor::http::ProviderError;

/// What one refresh read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub tenants: Vec<Tenant>,
    /// Every partner of the account; None when no partner is declared (not read).
    pub partners: Option<Vec<Partner>>,
    /// API calls the refresh spent.
    pub calls: u64,
}

impl Snapshot {
    pub fn tenant(&self, id: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.id == id)
    }

    pub fn partners(&self) -> &[Partner] {
        self.partners.as_deref().unwrap_or(&[])
    }
}

impl Client {
    /// The tenants, and the partners when `partners` (or the files declare some).
    pub async fn snapshot(&self, partners: bool) -> Result<Snapshot, ProviderError> {
        let start = self.calls();
        let tenants = self.list_tenants().await?;
        let partners = if partners {
            Some(self.list_partners().await?)
        } else {
            None
        };
        Ok(Snapshot {
            tenants,
            partners,
            calls: self.calls() - start,
        })
    }
}
