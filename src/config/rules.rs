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

const IGNORE_KEYS: &[&str] = &["address", "fields", "reason", "until"];
const SAFETY_KEYS: &[&str] = &["bulk_percent", "bulk_minimum"];

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
