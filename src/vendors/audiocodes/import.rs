//! `import` for AudioCodes Live Platform: every live customer (or those named)
//! as a customer table. The API returns the names, the Microsoft tenant and the
//! site's SBC; the create's other values (customer type, channel, scripts,
//! script parameters) are write-only, so they are written as placeholders with
//! a comment saying so. A plan of the imported files only adopts: a write-only
//! value of an adopted customer is taken to be the declared one.

use super::Client;
use super::refresh::LiveCustomer;
use super::resolve::main_site;
use crate::vendor::import::{Field, ImportedCustomer, Value};
use crate::vendor::{Import, ImportCtx, Imported, ProviderError};

use super::Audiocodes;

const WRITE_ONLY: &str = "not readable from the API: set the value the service was created with";

fn customer(c: &LiveCustomer) -> ImportedCustomer {
    let mut fields = vec![Field::new("short_name", c.short_name.clone())];
    let customer_type = if c.ms_tenant_id.is_some() {
        "TENANT_TYPE"
    } else {
        "IPGROUP_TYPE"
    };
    fields.push(Field::noted(
        "customer_type",
        customer_type,
        "not readable from the API: guessed from the Microsoft tenant id; check it",
    ));
    if let Some(t) = &c.ms_tenant_id {
        fields.push(Field::new("ms_tenant_id", t.clone()));
    }
    let sbc_id = main_site(c).and_then(|s| s.sbc_id).unwrap_or(0);
    let site = Value::Table(vec![
        ("sbc_id".into(), Value::Int(sbc_id)),
        ("onboarding_script".into(), Value::Int(0)),
        ("cleanup_script".into(), Value::Int(0)),
    ]);
    fields.push(Field::noted("site", site, &format!("scripts {WRITE_ONLY}")));
    let mut comments = Vec::new();
    for extra in c.sites.iter().skip(1) {
        comments.push(format!(
            "the customer also has site location {:?}, which mspform does not manage",
            extra.name
        ));
    }
    ImportedCustomer {
        name: c.full_name.clone(),
        fields,
        comments,
        ..Default::default()
    }
}

impl Import<Audiocodes> for Client {
    async fn import<'a>(
        &'a self,
        ctx: ImportCtx<'a, Audiocodes>,
    ) -> Result<Imported, ProviderError> {
        let snapshot = self.snapshot().await?;
        let customers = snapshot
            .customers
            .iter()
            .filter(|c| ctx.names.is_empty() || ctx.names.contains(&c.full_name))
            .map(customer)
            .collect();
        Ok(Imported {
            customers,
            partners: Vec::new(),
        })
    }
}
