//! `import`: live state → desired-state TOML, so an MSP with an existing
//! portfolio starts from files instead of typing them. Pure: snapshot in, text out.
//! Aruba cannot say which devices sit in which site, so imported devices carry no
//! `site`; everything else round-trips (a plan afterwards only adopts).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::live::LiveSnapshot;

/// A TOML key made from a display name: transliterated to ASCII ("Müller" →
/// "muller", "Москва" → "moskva"), lower case, `-` between words, unique.
pub fn slug(name: &str, taken: &mut BTreeSet<String>) -> String {
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
        "customer".to_string()
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

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

/// Renders the customers with these ids (all when `only` is empty) as TOML.
pub fn render(provider: &str, snap: &LiveSnapshot, only: &BTreeSet<String>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported from provider `{provider}` by `mspform import`."
    );
    let _ = writeln!(
        out,
        "# Devices carry no `site`: Aruba does not say which site a device is in; add it if you want mspform to manage it.\n"
    );
    let mut taken = BTreeSet::new();
    let mut keys: BTreeMap<&str, String> = BTreeMap::new();
    let mut customers: Vec<_> = snap
        .customers
        .iter()
        .filter(|c| only.is_empty() || only.contains(&c.id))
        .collect();
    customers.sort_by(|a, b| a.name.cmp(&b.name));
    for c in customers {
        let key = slug(&c.name, &mut taken);
        keys.insert(c.id.as_str(), key.clone());
        let _ = writeln!(out, "[customers.{key}]");
        let _ = writeln!(out, "provider = {}", q(provider));
        let _ = writeln!(out, "name = {}", q(&c.name));
        let _ = writeln!(out, "country = {}", q(&c.country));
        let _ = writeln!(
            out,
            "address = {{ street = {}, city = {}, state = {}, zip = {} }}",
            q(&c.street),
            q(&c.city),
            q(&c.state),
            q(&c.zip)
        );
        if let Some(g) = &c.group {
            let _ = writeln!(out, "group = {}", q(g));
        }
        let _ = writeln!(out, "description = {}", q(&c.description));
        let _ = writeln!(out, "lock_msp_ssids = {}", c.lock_msp_ssids);
        if let Some(auto) = c.auto_license.as_ref().filter(|a| !a.is_empty()) {
            let _ = writeln!(out, "auto_license = {}", list(auto));
        }
        out.push('\n');
        let mut site_keys = BTreeSet::new();
        let mut sites: Vec<_> = snap
            .sites
            .get(&c.id)
            .map(|s| s.iter().collect())
            .unwrap_or_default();
        sites.sort_by(|a, b| a.name.cmp(&b.name));
        for s in sites {
            let skey = slug(&s.name, &mut site_keys);
            let _ = writeln!(out, "[customers.{key}.sites.{skey}]");
            let _ = writeln!(out, "name = {}", q(&s.name));
            match (
                s.latitude,
                s.longitude,
                s.street.is_empty() && s.city.is_empty(),
            ) {
                (Some(lat), Some(lon), true) => {
                    let _ = writeln!(
                        out,
                        "geolocation = {{ latitude = {lat}, longitude = {lon} }}"
                    );
                }
                _ => {
                    let zip = if s.zip.is_empty() {
                        String::new()
                    } else {
                        format!(", zip = {}", q(&s.zip))
                    };
                    let _ = writeln!(
                        out,
                        "address = {{ street = {}, city = {}, state = {}, country = {}{zip} }}",
                        q(&s.street),
                        q(&s.city),
                        q(&s.state),
                        q(&s.country)
                    );
                }
            }
            out.push('\n');
        }
    }
    for d in snap.devices.values() {
        let Some(key) = d.customer_id.as_deref().and_then(|id| keys.get(id)) else {
            continue;
        };
        let _ = writeln!(out, "[devices.{}]", d.serial);
        let _ = writeln!(out, "customer = {}", q(key));
        let _ = writeln!(out, "mac = {}", q(&d.mac));
        if !d.licenses.is_empty() {
            let _ = writeln!(out, "licenses = {}", list(&d.licenses));
        }
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::text::is_valid_key;

    #[test]
    fn slugs_are_keys_and_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(slug("Coffee Shop", &mut taken), "coffee-shop");
        assert_eq!(slug("Coffee  Shop!", &mut taken), "coffee-shop-2");
        assert_eq!(slug("***", &mut taken), "customer");
        assert!(taken.iter().all(|k| is_valid_key(k)), "{taken:?}");
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
            assert_eq!(slug(name, &mut taken), key, "{name}");
        }
        // Names that differ only in their accents stay apart.
        assert_eq!(slug("Cafe Zoe", &mut taken), "cafe-zoe-2");
        assert!(taken.iter().all(|k| is_valid_key(k)), "{taken:?}");
    }
}
