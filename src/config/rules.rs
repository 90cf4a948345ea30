//! The GitOps safety keys: `[[ignore]]` rules (drift that `drift` counts but
//! does not report), `[safety]` (the bulk-change threshold) and `protect` on a
//! customer or partner. Each error is at its file, line, column and key; an
//! ignore rule whose `until` has passed is a warning, not an error (the drift
//! it matched is reported again).

use std::collections::BTreeMap;

use toml::de::DeValue;

use crate::address::{Address, AddressGlob};
use crate::model::{BulkThreshold, IgnoreRule};

use super::source::{Node, Repeats, Sink, string_list};

pub(super) const IGNORE_KEYS: &[&str] = &["address", "fields", "reason", "until"];
pub(super) const SAFETY_KEYS: &[&str] = &["bulk_percent", "bulk_minimum"];

/// Every `[[ignore]]` rule of every file, in load order. `today` (days since
/// 1970-01-01) decides which rules have expired: those are kept (drift
/// filters them out by date) and warned about, with their place.
pub(super) fn ignore_rules(arrays: &[Node<'_>], today: i64, sink: &mut Sink) -> Vec<IgnoreRule> {
    let mut out = Vec::new();
    for array in arrays {
        let Some(items) = array.array(sink) else {
            continue;
        };
        for item in items {
            if let Some(rule) = ignore_rule(&item, sink) {
                if !rule.active_on(today) {
                    tracing::warn!(
                        "{}: the [[ignore]] rule for `{}` expired on {}; the drift it matched is reported again (extend `until` or remove the rule)",
                        rule.place,
                        rule.address,
                        rule.until.map(crate::clock::fmt_day).unwrap_or_default()
                    );
                }
                out.push(rule);
            }
        }
    }
    out
}

fn ignore_rule(node: &Node<'_>, sink: &mut Sink) -> Option<IgnoreRule> {
    let before = sink.errors.len();
    let table = match node.value.get_ref() {
        DeValue::Table(_) => node.table(sink, IGNORE_KEYS)?,
        _ => {
            node.type_error(
                sink,
                "a table",
                Some("write each rule as an [[ignore]] table with address, fields, reason and (optionally) until".to_string()),
            );
            return None;
        }
    };
    let place = node.src.place(node.key_span.start);
    let address = table
        .required(sink, "address", "address = \"customer.acme-*\"")
        .and_then(|n| {
            let text = n.nonempty_string(sink)?;
            match AddressGlob::new(text) {
                Ok(g) => Some(g),
                Err(e) => {
                    n.error(
                        sink,
                        e,
                        Some("give an address or a glob of addresses, e.g. address = \"customer.acme-*\" or \"site.acme/*\"".to_string()),
                    );
                    None
                }
            }
        });
    let fields = match table.get("fields") {
        None => Some(Vec::new()),
        Some(n) => match string_list(&n, sink, Repeats::Error) {
            Some(items) if items.is_empty() => {
                n.error(
                    sink,
                    "lists no field",
                    Some("name the fields to ignore, e.g. fields = [\"description\"], or remove `fields` to ignore every drift of the matching objects".to_string()),
                );
                None
            }
            Some(items) => Some(items.into_iter().map(|(f, _)| f).collect()),
            None => None,
        },
    };
    let reason = table.nonempty_string(
        sink,
        "reason",
        "reason = \"edited by the helpdesk in the portal; ticket 1234\"",
    );
    let until = match table.get("until") {
        None => Some(None),
        Some(n) => date(&n, sink).map(Some),
    };
    if sink.errors.len() > before {
        return None;
    }
    Some(IgnoreRule {
        address: address?,
        fields: fields?,
        reason: reason?.to_string(),
        until: until?,
        place,
    })
}

/// A TOML local date (`2027-01-31`, no quotes), as days since 1970-01-01.
fn date(node: &Node<'_>, sink: &mut Sink) -> Option<i64> {
    let help = Some(format!(
        "write a date without quotes, e.g. {} = 2027-01-31 (the last day the rule applies, UTC)",
        node.last_key()
    ));
    match node.value.get_ref() {
        DeValue::Datetime(dt) => match (&dt.date, &dt.time, &dt.offset) {
            (Some(d), None, None) => Some(crate::clock::days_from_civil(
                i64::from(d.year),
                u32::from(d.month),
                u32::from(d.day),
            )),
            _ => {
                node.error(sink, "expected a date, found a date with a time", help);
                None
            }
        },
        _ => {
            node.type_error(sink, "a date", help);
            None
        }
    }
}

/// `[safety]`: the bulk-change threshold (defaults when absent).
pub(super) fn safety(node: Option<&Node<'_>>, sink: &mut Sink) -> BulkThreshold {
    let mut out = BulkThreshold::default();
    let Some(node) = node else {
        return out;
    };
    let Some(table) = node.table(sink, SAFETY_KEYS) else {
        return out;
    };
    if let Some(n) = table.get("bulk_percent")
        && let Some(p) = n.integer_in(sink, 0..=100)
    {
        out.percent = p as u32;
    }
    if let Some(n) = table.get("bulk_minimum")
        && let Some(m) = n.integer_in(sink, 1..=1_000_000)
    {
        out.minimum = m as usize;
    }
    out
}

/// Records `address` as protected when the definition `node` says
/// `protect = true` (a boolean; anything else is an error at its place).
pub(super) fn protect(
    node: &Node<'_>,
    address: Address,
    out: &mut BTreeMap<Address, String>,
    sink: &mut Sink,
) {
    let Some(table) = node.value.get_ref().as_table() else {
        return;
    };
    let Some((key, value)) = table.get_key_value("protect") else {
        return;
    };
    let n = Node::new(node.src, &node.path, key, value);
    if n.boolean(sink) == Some(true) {
        out.insert(address, n.place());
    }
}

#[cfg(test)]
mod tests {
    use crate::address::Address;

    const PROVIDER: &str = r#"
[providers.ext]
type = "extremecloud"
base_url = "https://api.ezcloudx.com"
login = { user = "msp-admin@example.net", password = { env = "EXTREME_PASSWORD" } }
"#;

    fn customer_toml(key: &str, name: &str) -> String {
        format!(
            "\n[customers.{key}]\nprovider = \"ext\"\nname = \"{name}\"\ncountry = \"NL\"\ntime_zone = \"Europe/Amsterdam\"\ncontact = {{ email = \"noc@{key}.example\", name = \"{name} NOC\", phone = \"+31 20 555 0000\" }}\nadmin_user = \"admin@{key}.example\"\n"
        )
    }

    fn load(files: &[(&str, &str)]) -> Result<crate::model::Desired, String> {
        let sources: Vec<(std::path::PathBuf, String)> = files
            .iter()
            .map(|(p, t)| (p.into(), t.to_string()))
            .collect();
        crate::config::load_sources(&sources).map_err(|e| e.to_string())
    }

    #[test]
    fn ignore_rules_safety_and_protect_load() {
        let text = format!(
            r#"{PROVIDER}{}protect = true
{}
[partners.west]
provider = "ext"
name = "Westgate IT"
customers = ["acme-retail"]
protect = true

[[ignore]]
address = "customer.acme-*"
fields = ["name"]
reason = "renamed by the helpdesk; ticket 1234"
until = 2027-01-31

[[ignore]]
address = "partner.*"
reason = "partners are managed by hand this quarter"
until = 2000-01-01

[safety]
bulk_percent = 50
bulk_minimum = 4
"#,
            customer_toml("acme-retail", "Acme Retail"),
            customer_toml("other", "Other")
        );
        let d = load(&[("a.toml", &text)]).unwrap();
        assert_eq!(
            d.protected.keys().collect::<Vec<_>>(),
            [&Address::customer("acme-retail"), &Address::partner("west")]
        );
        assert!(d.protected[&Address::customer("acme-retail")].starts_with("a.toml:"));
        assert_eq!(d.ignore.len(), 2, "an expired rule loads: it is a warning");
        let first = &d.ignore[0];
        assert_eq!(first.address.as_str(), "customer.acme-*");
        assert_eq!(first.fields, ["name"]);
        assert_eq!(
            first.until,
            Some(crate::clock::days_from_civil(2027, 1, 31))
        );
        assert!(first.place.starts_with("a.toml:"), "{}", first.place);
        assert!(d.ignore[1].fields.is_empty());
        assert!(!d.ignore[1].active_on(crate::clock::today()));
        assert_eq!((d.bulk.percent, d.bulk.minimum), (50, 4));
        // Without [safety], the defaults.
        let plain = load(&[("a.toml", &format!("{PROVIDER}{}", customer_toml("x", "X")))]).unwrap();
        assert_eq!((plain.bulk.percent, plain.bulk.minimum), (30, 10));
        assert!(plain.protected.is_empty() && plain.ignore.is_empty());
    }

    #[test]
    fn every_bad_rule_is_an_error_at_its_file_line_and_key() {
        let text = format!(
            r#"{PROVIDER}{}protect = "yes"

[[ignore]]
address = "custmer.acme-*"
reason = "typo in the kind"

[[ignore]]
address = "customer.acme"
fields = []
reason = "no field"

[[ignore]]
address = "customer.acme"
until = "2027-01-31"

[[ignore]]
address = "customer.acme"
reason = "a time"
until = 2027-01-31T10:00:00
colour = "blue"

[safety]
bulk_percent = 150
"#,
            customer_toml("acme", "Acme")
        );
        let err = load(&[("rules.toml", &text)]).unwrap_err();
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .map(|i| i + 1)
                .unwrap_or_else(|| panic!("{needle}"))
        };
        for (needle, key, message) in [
            (
                "protect = \"yes\"",
                "customers.acme.protect",
                "expected a boolean",
            ),
            (
                "custmer.acme-*",
                "ignore[0].address",
                "does not start with a kind of object",
            ),
            ("fields = []", "ignore[1].fields", "lists no field"),
            (
                "until = \"2027-01-31\"",
                "ignore[2].until",
                "expected a date, found a string",
            ),
            (
                "until = 2027-01-31T10:00:00",
                "ignore[3].until",
                "found a date with a time",
            ),
            ("colour", "ignore[3].colour", "unknown key `colour`"),
            (
                "bulk_percent = 150",
                "safety.bulk_percent",
                "must be between 0 and 100",
            ),
        ] {
            let want = format!("rules.toml:{}:", line_of(needle));
            assert!(
                err.lines()
                    .any(|l| l.starts_with(&want) && l.contains(key) && l.contains(message)),
                "{want} {key}: {message}\n{err}"
            );
        }
        assert!(
            err.contains("ignore[2].reason") && err.contains("missing required key `reason`"),
            "{err}"
        );
        assert!(err.contains("no vendor call was made"), "{err}");
    }

    #[test]
    fn safety_defined_in_two_files_is_an_error_naming_both() {
        let a = format!("{PROVIDER}\n[safety]\nbulk_percent = 40\n");
        let err = load(&[("a.toml", &a), ("b.toml", "[safety]\nbulk_minimum = 3\n")]).unwrap_err();
        assert!(
            err.contains("b.toml:1:2: safety: `safety` is already defined at a.toml:"),
            "{err}"
        );
    }
}
