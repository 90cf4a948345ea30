//! Reads the Live Platform's customers into a [`Snapshot`]: one call, the
//! detailed list (it is not paged). A failed read is an error, never "empty".

use serde_json::Value;

use super::Client;
use super::wire;
use crate::vendor::VendorClient;
use crate::vendor::http::ProviderError;

/// A live customer (service), as far as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveCustomer {
    /// `UmpCustomerGuid`, lower case.
    pub guid: String,
    pub short_name: String,
    pub full_name: String,
    /// Lower case.
    pub ms_tenant_id: Option<String>,
    pub sites: Vec<LiveSite>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveSite {
    pub id: Option<String>,
    pub name: String,
    pub sbc_id: Option<i64>,
    /// `sbcDeploymentState` as given (a string such as "Deployed", or a number).
    pub state: Option<Value>,
}

/// Everything a refresh read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub customers: Vec<LiveCustomer>,
    pub calls: u64,
}

impl Snapshot {
    pub fn by_guid(&self, guid: &str) -> Option<&LiveCustomer> {
        self.customers
            .iter()
            .find(|c| c.guid.eq_ignore_ascii_case(guid))
    }
}

/// Wire customers to live ones; those without a GUID cannot be addressed and are left out.
pub fn live_customers(list: Vec<wire::Customer>) -> Vec<LiveCustomer> {
    list.into_iter()
        .filter_map(|c| {
            let Some(guid) = c.guid else {
                tracing::warn!(short_name = ?c.short_name, "a customer without UmpCustomerGuid is ignored");
                return None;
            };
            let short_name = c.short_name.unwrap_or_default();
            Some(LiveCustomer {
                guid: guid.to_lowercase(),
                full_name: c.full_name.unwrap_or_else(|| short_name.clone()),
                short_name,
                ms_tenant_id: c.ms_tenant_id.map(|t| t.to_lowercase()),
                sites: c
                    .sites
                    .into_iter()
                    .map(|s| LiveSite {
                        id: s.id,
                        name: s.name.unwrap_or_default(),
                        sbc_id: s.sbc_id,
                        state: s.state,
                    })
                    .collect(),
            })
        })
        .collect()
}

impl Client {
    pub async fn snapshot(&self) -> Result<Snapshot, ProviderError> {
        let start = self.calls();
        let customers = live_customers(self.list_customers().await?);
        Ok(Snapshot {
            customers,
            calls: self.calls() - start,
        })
    }
}
