//! `mspform import`: print desired-state TOML for live customers of a provider.

use std::collections::BTreeSet;

use clap::Args;

use super::{Cli, CliError, Status, open_state};
use crate::model::ProviderKind;
use crate::providers::aruba::Aruba;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The provider to read (default: the only one configured).
    #[arg(long)]
    pub provider: Option<String>,
    /// Only these customers, by exact name. Repeatable; default: all.
    #[arg(long = "customer")]
    pub customers: Vec<String>,
}

pub async fn run(cli: &Cli, args: &ImportArgs) -> Result<Status, CliError> {
    let mut desired = super::load_config(&cli.config)?;
    let provider =
        match &args.provider {
            Some(key) => desired.providers.get(key).cloned().ok_or_else(|| {
                CliError::Other(format!("no provider `{key}` in the configuration"))
            })?,
            None if desired.providers.len() == 1 => desired
                .providers
                .values()
                .next()
                .cloned()
                .ok_or_else(|| CliError::Other("no provider".into()))?,
            None => {
                return Err(CliError::Other(
                    "several providers are configured: pass --provider KEY".into(),
                ));
            }
        };
    let ProviderKind::ArubaCentral(_) = &provider.kind else {
        return Err(CliError::Other(format!(
            "import reads Aruba Central providers only; `{}` is {}",
            provider.key,
            provider.kind.type_name()
        )));
    };
    let store = open_state(&cli.state, "import")?;
    let client =
        Aruba::new(&provider, store.clone()).map_err(|e| CliError::Other(e.to_string()))?;
    // Read the contents of every customer asked for: declare them by name for the snapshot.
    let all = client
        .list_customers()
        .await
        .map_err(|e| CliError::Other(e.to_string()))?;
    let wanted: Vec<String> = all
        .iter()
        .filter_map(|c| c.customer_name.clone())
        .filter(|n| args.customers.is_empty() || args.customers.contains(n))
        .collect();
    for name in &args.customers {
        if !wanted.contains(name) {
            return Err(CliError::Other(format!(
                "no live customer is named {name:?}"
            )));
        }
    }
    desired.customers.clear();
    for (i, name) in wanted.iter().enumerate() {
        let key = format!("import-{i}");
        desired.customers.insert(
            key.clone(),
            crate::model::Customer {
                key,
                provider: provider.key.clone(),
                name: name.clone(),
                spec: crate::model::CustomerSpec::Aruba(crate::model::ArubaCustomer {
                    country: String::new(),
                    address: crate::model::CustomerAddress {
                        street: String::new(),
                        city: String::new(),
                        state: String::new(),
                        zip: String::new(),
                    },
                    group: None,
                    description: String::new(),
                    lock_msp_ssids: false,
                    auto_license: Vec::new(),
                    sites: Default::default(),
                }),
            },
        );
    }
    let snap = client
        .snapshot(&desired, &Default::default())
        .await
        .map_err(|e| CliError::Other(e.to_string()))?;
    let only: BTreeSet<String> = snap
        .customers
        .iter()
        .filter(|c| wanted.contains(&c.name))
        .map(|c| c.id.clone())
        .collect();
    print!("{}", crate::import::render(&provider.key, &snap, &only));
    eprintln!(
        "Imported {} customer(s) with {} API call(s).",
        only.len(),
        client.calls()
    );
    Ok(Status::Ok)
}
