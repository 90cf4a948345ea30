//! The registry: the one file that lists the vendors. Each vendor is one
//! folder here that owns everything about it (configuration schema, model,
//! client, resolve, steps, run, import, the simulator credentials the demo
//! uses, capabilities and its docs page, `README.md`), behind
//! [`crate::vendor::Vendor`]. Adding a vendor is a folder and a line below;
//! see `docs/adding-a-vendor.md`.

pub mod aruba;
pub mod audiocodes;
pub mod extremecloud;
pub mod ruckus;

use crate::vendor::config::{Schema, SchemaOf};

static ARUBA: SchemaOf<aruba::Aruba> = SchemaOf::new();
static AUDIOCODES: SchemaOf<audiocodes::Audiocodes> = SchemaOf::new();
static EXTREMECLOUD: SchemaOf<extremecloud::ExtremeCloud> = SchemaOf::new();
static RUCKUS: SchemaOf<ruckus::Ruckus> = SchemaOf::new();

static SCHEMAS: &[&(dyn Schema + 'static)] = &[&ARUBA, &EXTREMECLOUD, &RUCKUS, &AUDIOCODES];

/// A vendor's starter files for `mspform init`: its `[providers.KEY]` table
/// and one example customer, with comments (each vendor folder's
/// `starter.toml` and `starter-customer.toml`).
pub struct Starter {
    pub type_name: &'static str,
    pub provider: &'static str,
    pub customer: &'static str,
    /// The example customer's file name.
    pub customer_file: &'static str,
}

static STARTERS: &[Starter] = &[
    Starter {
        type_name: "aruba-central",
        provider: include_str!("aruba/starter.toml"),
        customer: include_str!("aruba/starter-customer.toml"),
        customer_file: "example-aruba.toml",
    },
    Starter {
        type_name: "extremecloud",
        provider: include_str!("extremecloud/starter.toml"),
        customer: include_str!("extremecloud/starter-customer.toml"),
        customer_file: "example-extreme.toml",
    },
    Starter {
        type_name: "ruckus-one",
        provider: include_str!("ruckus/starter.toml"),
        customer: include_str!("ruckus/starter-customer.toml"),
        customer_file: "example-ruckus.toml",
    },
    Starter {
        type_name: "audiocodes-live",
        provider: include_str!("audiocodes/starter.toml"),
        customer: include_str!("audiocodes/starter-customer.toml"),
        customer_file: "example-voice.toml",
    },
];

/// The starter files of every vendor, in registry order.
pub fn starters() -> &'static [Starter] {
    STARTERS
}

/// Every vendor mspform supports, in the order docs and messages list them.
pub fn schemas() -> &'static [&'static dyn Schema] {
    SCHEMAS
}

/// The capability table of `docs/vendors.md`, generated from the registry.
pub fn capability_table() -> String {
    use std::fmt::Write as _;
    let yes = |b: bool| if b { "yes" } else { "—" };
    let mut out = String::from(
        "# Vendors\n\nGenerated from the registry (`src/vendors/mod.rs`) by `MSPFORM_UPDATE_DOCS=1 cargo test --lib vendors_table`; do not edit by hand.\n\n| type | vendor | update in place | delete | sites | devices | partners (roles) | asynchronous writes | page |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for schema in schemas() {
        let info = schema.info();
        let c = info.capabilities;
        let partners = match (c.partners, c.partner_roles) {
            (false, _) => "—".to_string(),
            (true, []) if c.partner_exclusive => "yes (one per customer)".to_string(),
            (true, []) => "yes".to_string(),
            (true, roles) => format!("yes ({})", roles.join(", ")),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | [{}](../{}) |",
            info.type_name,
            info.title,
            yes(c.update_in_place),
            yes(c.delete),
            yes(c.sites),
            yes(c.devices),
            partners,
            yes(c.async_jobs),
            info.docs.rsplit('/').nth(1).unwrap_or(info.docs),
            info.docs,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn vendors_table_matches_docs() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/vendors.md");
        let table = super::capability_table();
        if std::env::var_os("MSPFORM_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &table).unwrap();
        }
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            written, table,
            "docs/vendors.md is out of date: run MSPFORM_UPDATE_DOCS=1 cargo test --lib vendors_table"
        );
    }

    #[test]
    fn type_names_and_simulator_prefixes_are_unique() {
        let infos: Vec<_> = super::schemas().iter().map(|s| s.info()).collect();
        for (i, a) in infos.iter().enumerate() {
            for b in &infos[i + 1..] {
                assert_ne!(a.type_name, b.type_name);
                assert_ne!(a.sim_prefix, b.sim_prefix);
            }
        }
    }
}
