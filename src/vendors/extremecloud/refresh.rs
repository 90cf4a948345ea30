//! Reads ExtremeCloud's live state with as few calls as the API allows: the tenant
//! list, and the partner list only when the files declare partners of this
//! provider. Neither is paged (none documented). A failed read is an error, never
//! "empty".

use super::Extreme;
use super::wire::{Partner, Tenant};
use crate::model::Desired;
use crate::providers::http::ProviderError;

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

impl Extreme {
    pub async fn snapshot(&self, desired: &Desired) -> Result<Snapshot, ProviderError> {
        let start = self.calls();
        let tenants = self.list_tenants().await?;
        let wants_partners = desired.partners.values().any(|p| p.provider == self.key);
        let partners = if wants_partners {
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
