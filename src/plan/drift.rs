//! Drift you can live with: the filters `mspform drift` puts on a plan before
//! it reports it. Pure: the caller reads the rules, the date and the memory of
//! the last run, and keeps the new memory.
//!
//! - [`ignore`]: `[[ignore]]` rules. A drifted field an active rule matches is
//!   counted, not reported; a rule without `fields` covers every drift of the
//!   objects it matches (their deletes and creates too). An expired rule
//!   matches nothing, and says so in the report's warnings. Rules silence the
//!   report only: `plan` and `apply` still show and make the change (a vendor
//!   update sends the whole object, so a field cannot be left out of it).
//! - [`fingerprints`] and [`new_only`]: every drifted field (or object) has a
//!   fingerprint — operation, address, field, live and declared value — so
//!   `drift --new-only` reports only what the previous run did not see; the
//!   same field drifting again to another value is new.

use std::collections::{BTreeMap, BTreeSet};

use super::{DriftNotes, Plan};
use crate::diff::{Action, Op};
use crate::model::IgnoreRule;
use crate::state::DriftMemory;

/// Whether a change of this operation is reported field by field (else the
/// object is one drift item).
fn by_field(a: &Action) -> bool {
    matches!(a.op, Op::Update | Op::Adopt | Op::Replace) && !a.changes.is_empty()
}

/// Drops what active `rules` match from `plan` (recounting its summary), adds
/// a warning per expired rule, and returns the number of drifted fields (or
/// objects) ignored, per provider.
pub fn ignore(plan: &mut Plan, rules: &[IgnoreRule], today: i64) -> BTreeMap<String, usize> {
    let mut ignored: BTreeMap<String, usize> = BTreeMap::new();
    for rule in rules.iter().filter(|r| !r.active_on(today)) {
        plan.warnings.push(format!(
            "{}: the [[ignore]] rule for `{}` ({}) expired on {}; the drift it matched is reported again",
            rule.place,
            rule.address,
            rule.reason,
            rule.until.map(crate::clock::fmt_day).unwrap_or_default()
        ));
    }
    let active: Vec<&IgnoreRule> = rules.iter().filter(|r| r.active_on(today)).collect();
    if active.is_empty() {
        return ignored;
    }
    let actions = std::mem::take(&mut plan.actions);
    for mut a in actions {
        let matching: Vec<&&IgnoreRule> = active
            .iter()
            .filter(|r| r.address.matches(&a.address))
            .collect();
        if matching.is_empty() {
            plan.actions.push(a);
            continue;
        }
        let count = ignored.entry(a.provider.clone()).or_default();
        if matching.iter().any(|r| r.fields.is_empty()) {
            *count += if by_field(&a) { a.changes.len() } else { 1 };
            continue;
        }
        if !by_field(&a) {
            plan.actions.push(a);
            continue;
        }
        let fields: BTreeSet<&str> = matching
            .iter()
            .flat_map(|r| r.fields.iter().map(String::as_str))
            .collect();
        let before = a.changes.len();
        a.changes.retain(|c| !fields.contains(c.field.as_str()));
        *count += before - a.changes.len();
        // An adoption is drift of its own (the object is not owned yet).
        if !a.changes.is_empty() || a.op == Op::Adopt {
            plan.actions.push(a);
        }
    }
    ignored.retain(|_, n| *n > 0);
    let total = ignored.values().sum();
    plan.drift.get_or_insert_with(DriftNotes::default).ignored = total;
    plan.recount();
    ignored
}

/// The fingerprints of one action's drift: one per changed field, or one for
/// the object (create, delete, forget, an adoption without changes).
pub fn fingerprints(a: &Action) -> Vec<String> {
    if by_field(a) {
        a.changes
            .iter()
            .map(|c| {
                format!(
                    "{} {} {}: {} -> {}",
                    a.op.word(),
                    a.address,
                    c.field,
                    c.before,
                    c.after
                )
            })
            .collect()
    } else {
        vec![format!("{} {}", a.op.word(), a.address)]
    }
}

/// Every fingerprint of a (filtered) plan, by provider: what this run saw.
/// Providers that could not be read keep what `previous` saw of them.
pub fn memory(plan: &Plan, previous: Option<&DriftMemory>, now: u64) -> DriftMemory {
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &plan.providers {
        seen.entry(p.provider.clone()).or_default();
    }
    for a in &plan.actions {
        seen.entry(a.provider.clone())
            .or_default()
            .extend(fingerprints(a));
    }
    for p in &plan.protect {
        seen.entry(p.provider.clone())
            .or_default()
            .insert(format!("protect {}", p.address));
    }
    if let Some(previous) = previous {
        for u in &plan.unavailable {
            if let Some(old) = previous.seen.get(&u.provider) {
                seen.insert(u.provider.clone(), old.clone());
            }
        }
        // What this run did not read (a rolling check's other customers)
        // stays as seen: it is not new when the next read finds it again.
        let unchecked: BTreeSet<String> = plan.unchecked.iter().map(|a| a.to_string()).collect();
        for (provider, old) in &previous.seen {
            let kept = old
                .iter()
                .filter(|f| f.split(' ').nth(1).is_some_and(|a| unchecked.contains(a)));
            seen.entry(provider.clone())
                .or_default()
                .extend(kept.cloned());
        }
    }
    DriftMemory {
        at: now,
        seen,
        checked: previous.map(|p| p.checked.clone()).unwrap_or_default(),
        list_calls: previous.map(|p| p.list_calls.clone()).unwrap_or_default(),
    }
}

/// Keeps only the drift `previous` did not see (a field seen before is left
/// out of its action; an action left with nothing is dropped) and notes how
/// much was left out. Without a previous run, everything is new.
pub fn new_only(plan: &mut Plan, previous: Option<&DriftMemory>) {
    let empty = BTreeSet::new();
    let seen = |provider: &str| {
        previous
            .and_then(|m| m.seen.get(provider))
            .unwrap_or(&empty)
    };
    let mut left_out = 0;
    let actions = std::mem::take(&mut plan.actions);
    for mut a in actions {
        let known = seen(&a.provider);
        if by_field(&a) {
            let before = a.changes.len();
            let (op, address) = (a.op, a.address.clone());
            a.changes.retain(|c| {
                let probe = Action {
                    address: address.clone(),
                    kind: a.kind,
                    provider: String::new(),
                    op,
                    changes: vec![c.clone()],
                    replace_because: Vec::new(),
                    note: None,
                    defaults: Vec::new(),
                };
                !fingerprints(&probe).iter().all(|f| known.contains(f))
            });
            left_out += before - a.changes.len();
            if !a.changes.is_empty() {
                plan.actions.push(a);
            }
        } else if fingerprints(&a).iter().all(|f| known.contains(f)) {
            left_out += 1;
        } else {
            plan.actions.push(a);
        }
    }
    let protect = std::mem::take(&mut plan.protect);
    for p in protect {
        if seen(&p.provider).contains(&format!("protect {}", p.address)) {
            left_out += 1;
        } else {
            plan.protect.push(p);
        }
    }
    plan.drift
        .get_or_insert_with(DriftNotes::default)
        .seen_before = Some(left_out);
    plan.recount();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::{Address, AddressGlob};
    use crate::diff::FieldChange;
    use crate::plan::ProviderRead;
    use serde_json::json;

    fn update(address: &str, fields: &[(&str, &str, &str)]) -> Action {
        let address: Address = address.parse().unwrap();
        Action {
            kind: address.kind(),
            address,
            provider: "ext".into(),
            op: Op::Update,
            changes: fields
                .iter()
                .map(|(f, b, a)| FieldChange {
                    field: f.to_string(),
                    before: json!(b),
                    after: json!(a),
                })
                .collect(),
            replace_because: Vec::new(),
            note: None,
            defaults: Vec::new(),
        }
    }

    fn removal(address: &str) -> Action {
        Action {
            op: Op::Delete,
            changes: Vec::new(),
            ..update(address, &[])
        }
    }

    fn plan(actions: Vec<Action>) -> Plan {
        Plan::new(
            vec![ProviderRead::new("ext", "extremecloud", 1)],
            actions,
            Vec::new(),
        )
    }

    fn rule(address: &str, fields: &[&str], until: Option<i64>) -> IgnoreRule {
        IgnoreRule {
            address: AddressGlob::new(address).unwrap(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
            reason: "portal edits by the helpdesk".into(),
            until,
            place: "ignore.toml:1:1".into(),
        }
    }

    fn shown(p: &Plan) -> Vec<String> {
        p.actions.iter().flat_map(fingerprints).collect()
    }

    #[test]
    fn an_active_rule_drops_the_fields_it_names_and_counts_them() {
        let mut p = plan(vec![
            update(
                "customer.acme-retail",
                &[("description", "portal", "file"), ("name", "A", "B")],
            ),
            update("customer.acme-hq", &[("description", "x", "y")]),
            update("customer.other", &[("description", "x", "y")]),
        ]);
        let ignored = ignore(
            &mut p,
            &[rule("customer.acme-*", &["description"], Some(100))],
            100,
        );
        assert_eq!(ignored, BTreeMap::from([("ext".to_string(), 2)]));
        assert_eq!(
            shown(&p),
            [
                "update customer.acme-retail name: \"A\" -> \"B\"",
                "update customer.other description: \"x\" -> \"y\""
            ]
        );
        assert_eq!(p.summary.update, 2, "the summary is recounted");
        assert_eq!(p.drift.as_ref().map(|d| d.ignored), Some(2));
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn a_rule_without_fields_covers_the_whole_object_and_an_expired_one_nothing() {
        let actions = vec![
            update(
                "customer.legacy-1",
                &[("name", "A", "B"), ("phone", "1", "2")],
            ),
            removal("customer.legacy-2"),
            removal("customer.kept"),
        ];
        let mut p = plan(actions.clone());
        let ignored = ignore(&mut p, &[rule("customer.legacy-*", &[], None)], 5);
        assert_eq!(ignored["ext"], 3, "two fields and one delete");
        assert_eq!(shown(&p), ["delete customer.kept"]);

        // The day after `until`, the rule has expired: everything shows, with a warning.
        let mut p = plan(actions);
        let ignored = ignore(&mut p, &[rule("customer.legacy-*", &[], Some(4))], 5);
        assert!(ignored.is_empty());
        assert_eq!(p.actions.len(), 3);
        assert_eq!(p.warnings.len(), 1);
        assert!(
            p.warnings[0].contains("ignore.toml:1:1")
                && p.warnings[0].contains("expired on 1970-01-05"),
            "{:?}",
            p.warnings
        );
        // On `until` itself it still applies.
        let mut p = plan(vec![removal("customer.legacy-2")]);
        ignore(&mut p, &[rule("customer.legacy-*", &[], Some(5))], 5);
        assert!(p.actions.is_empty());
    }

    #[test]
    fn new_only_leaves_out_what_the_previous_run_saw() {
        let first = plan(vec![
            update("customer.a", &[("name", "Edited", "A")]),
            removal("customer.gone"),
        ]);
        let memory = memory(&first, None, 1);
        assert_eq!(memory.seen["ext"].len(), 2);

        // The same drift again, plus a new field, a new value and a new object.
        let mut second = plan(vec![
            update(
                "customer.a",
                &[("name", "Edited", "A"), ("phone", "1", "2")],
            ),
            update("customer.b", &[("name", "Edited", "B")]),
            removal("customer.gone"),
        ]);
        let full = second.clone();
        new_only(&mut second, Some(&memory));
        assert_eq!(
            shown(&second),
            [
                "update customer.a phone: \"1\" -> \"2\"",
                "update customer.b name: \"Edited\" -> \"B\""
            ]
        );
        assert_eq!(second.drift.as_ref().and_then(|d| d.seen_before), Some(2));
        // Edited again, to another value: new.
        let mut third = plan(vec![update("customer.a", &[("name", "Edited again", "A")])]);
        new_only(&mut third, Some(&super::memory(&full, None, 2)));
        assert_eq!(third.actions.len(), 1);
        // Nothing was seen before the first run: everything is new.
        let mut fresh = full.clone();
        new_only(&mut fresh, None);
        assert_eq!(fresh.actions, full.actions);
    }

    #[test]
    fn an_unreadable_provider_keeps_what_the_previous_run_saw_of_it() {
        let mut previous = DriftMemory::default();
        previous
            .seen
            .entry("down".into())
            .or_default()
            .insert("delete customer.x".into());
        let mut p = plan(Vec::new());
        p.unavailable.push(crate::plan::Unavailable {
            provider: "down".into(),
            kind: "ruckus-one".into(),
            error: "503".into(),
        });
        let m = memory(&p, Some(&previous), 9);
        assert_eq!(m.at, 9);
        assert_eq!(m.seen["down"], previous.seen["down"]);
        assert!(m.seen["ext"].is_empty(), "a read provider without drift");
    }
}
