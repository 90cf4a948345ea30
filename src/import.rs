//! `import`: what vendors read from their live accounts (see
//! `crate::vendor::import`) → configuration files: one file per customer
//! (with its sites and devices) and one partners file per provider. Keys are
//! made from names here, unique across everything already declared; values
//! the vendor could not read carry the vendor's comment. Pure: text out.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::vendor::Imported;
use crate::vendor::import::{Field, ImportedCustomer};

/// One file to write: its name (relative to the output directory) and text.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub name: String,
    pub text: String,
}

/// A configuration key made from a display name: lower case, transliterated
/// to ASCII (deunicode: `Ünïcode` → `unicode`, `北京` → `bei-jing`), `-`
/// between words; unique in `taken` (which it joins).
pub fn slug(name: &str, fallback: &str, taken: &mut BTreeSet<String>) -> String {
    let mut base = String::new();
    for c in deunicode::deunicode(name).chars() {
        if c.is_ascii_alphanumeric() {
            base.push(c.to_ascii_lowercase());
        } else if !base.ends_with('-') && !base.is_empty() {
            base.push('-');
        }
    }
    let base = base.trim_end_matches('-').to_string();
    let base = if base.is_empty() {
        fallback.to_string()
    } else {
        base
    };
    let mut key = base.clone();
    let mut n = 2;
    while !taken.insert(key.clone()) {
        key = format!("{base}-{n}");
        n += 1;
    }
    key
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `key = value`, with the field's comment after it.
fn line(out: &mut String, field: &Field) {
    let value = &field.value;
    match &field.comment {
        Some(c) => {
            let _ = writeln!(out, "{} = {value}  # {c}", field.key);
        }
        None => {
            let _ = writeln!(out, "{} = {value}", field.key);
        }
    }
}

fn customer_file(provider: &str, key: &str, c: &ImportedCustomer) -> String {
    let mut out = format!("# Imported from provider `{provider}` by `mspform import`.\n");
    for comment in &c.comments {
        let _ = writeln!(out, "# {comment}");
    }
    let _ = writeln!(out, "\n[customers.{key}]");
    let _ = writeln!(out, "provider = {}", quote(provider));
    let _ = writeln!(out, "name = {}", quote(&c.name));
    for f in &c.fields {
        line(&mut out, f);
    }
    let mut site_keys = BTreeSet::new();
    for s in &c.sites {
        let skey = slug(&s.name, "site", &mut site_keys);
        let _ = writeln!(out, "\n[customers.{key}.sites.{skey}]");
        let _ = writeln!(out, "name = {}", quote(&s.name));
        for f in &s.fields {
            line(&mut out, f);
        }
    }
    for d in &c.devices {
        out.push('\n');
        for comment in &d.comments {
            let _ = writeln!(out, "# {comment}");
        }
        let _ = writeln!(out, "[devices.{}]", d.serial);
        let _ = writeln!(out, "customer = {}", quote(key));
        for f in &d.fields {
            line(&mut out, f);
        }
    }
    out
}

/// The files for what one provider's import read. `taken` holds the customer
/// and partner keys already in use (the configuration's); the new ones join it.
pub fn files(
    provider: &str,
    imported: &Imported,
    taken_customers: &mut BTreeSet<String>,
    taken_partners: &mut BTreeSet<String>,
) -> Vec<File> {
    let mut out = Vec::new();
    let mut keys: BTreeMap<&str, String> = BTreeMap::new();
    let mut customers: Vec<&ImportedCustomer> = imported.customers.iter().collect();
    customers.sort_by(|a, b| a.name.cmp(&b.name));
    for c in customers {
        let key = slug(&c.name, "customer", taken_customers);
        out.push(File {
            name: format!("{key}.toml"),
            text: customer_file(provider, &key, c),
        });
        keys.insert(c.name.as_str(), key);
    }
    let mut partners = String::new();
    for p in &imported.partners {
        let members: Vec<String> = p
            .customers
            .iter()
            .filter_map(|name| keys.get(name.as_str()).cloned())
            .collect();
        let key = slug(&p.name, "partner", taken_partners);
        let _ = writeln!(partners, "\n[partners.{key}]");
        let _ = writeln!(partners, "provider = {}", quote(provider));
        let _ = writeln!(partners, "name = {}", quote(&p.name));
        if let Some(role) = &p.role {
            let _ = writeln!(partners, "role = {}", quote(role));
        }
        line(&mut partners, &Field::list("customers", &members));
        let others = p.customers.len() - members.len();
        if others > 0 {
            let _ = writeln!(
                partners,
                "# and {others} customer(s) not imported, which stay where they are"
            );
        }
    }
    if !partners.is_empty() {
        out.push(File {
            name: format!("partners-{provider}.toml"),
            text: format!(
                "# Partner assignments of provider `{provider}`, imported by `mspform import`.\n{partners}"
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::import::{ImportedDevice, ImportedPartner, ImportedSite};

    #[test]
    fn slugs_are_keys_and_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(slug("Coffee Shop", "c", &mut taken), "coffee-shop");
        assert_eq!(slug("Coffee  Shop!", "c", &mut taken), "coffee-shop-2");
        assert_eq!(slug("***", "customer", &mut taken), "customer");
        assert_eq!(slug("***", "customer", &mut taken), "customer-2");
    }

    #[test]
    fn slugs_keep_the_letters_of_names_outside_ascii() {
        let mut taken = BTreeSet::new();
        for (name, key) in [
            ("Ünïcode", "unicode"),
            ("Müller Straße GmbH", "muller-strasse-gmbh"),
            ("Café Zoë", "cafe-zoe"),
            ("Øresund Æble", "oresund-aeble"),
            ("Москва Ритейл", "moskva-riteil"),
            ("Ελλάδα", "ellada"),
            ("北京", "bei-jing"),
        ] {
            assert_eq!(slug(name, "customer", &mut taken), key, "{name}");
        }
        // Names that differ only in their accents stay apart.
        assert_eq!(slug("Cafe Zoe", "customer", &mut taken), "cafe-zoe-2");
        assert!(
            taken.iter().all(|k| crate::config::is_valid_key(k)),
            "{taken:?}"
        );
    }

    #[test]
    fn files_hold_customers_sites_devices_and_partners_with_comments() {
        let imported = Imported {
            customers: vec![ImportedCustomer {
                name: "Acme Retail".into(),
                fields: vec![
                    Field::new("country", "GB"),
                    Field::table("address", &[("street", "1 Poultry"), ("city", "London")]),
                ],
                comments: vec!["one note".into()],
                sites: vec![ImportedSite {
                    name: "Flagship Store".into(),
                    fields: vec![Field::new("latitude", 51.5)],
                }],
                devices: vec![ImportedDevice {
                    serial: "AP1".into(),
                    fields: vec![Field::list("licenses", &["A".to_string()])],
                    comments: vec!["no site: cannot be read".into()],
                }],
            }],
            partners: vec![ImportedPartner {
                name: "Northwind".into(),
                role: None,
                customers: vec!["Acme Retail".into(), "Not Imported".into()],
            }],
        };
        let mut taken = BTreeSet::from(["acme-retail".to_string()]);
        let files = files("aruba", &imported, &mut taken, &mut BTreeSet::new());
        assert_eq!(files[0].name, "acme-retail-2.toml");
        let text = &files[0].text;
        for want in [
            "# one note",
            "[customers.acme-retail-2]",
            "provider = \"aruba\"",
            "address = { street = \"1 Poultry\", city = \"London\" }",
            "[customers.acme-retail-2.sites.flagship-store]",
            "# no site: cannot be read\n[devices.AP1]\ncustomer = \"acme-retail-2\"",
        ] {
            assert!(text.contains(want), "{want}: {text}");
        }
        assert_eq!(files[1].name, "partners-aruba.toml");
        assert!(
            files[1]
                .text
                .contains("customers = [\"acme-retail-2\"]\n# and 1 customer(s) not imported"),
            "{}",
            files[1].text
        );
        // Every file is TOML.
        for f in &files {
            toml::from_str::<toml::Table>(&f.text).unwrap();
        }
    }
}
