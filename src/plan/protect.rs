//! `protect = true`: a customer or partner whose delete or replacement is
//! refused. Pure: the engine hands in the diff's actions, the live records,
//! what the files declare protected and what state has recorded.
//!
//! - A **replacement** of a protected object is a plan error naming it and how
//!   to lift the protection (as Terraform's `prevent_destroy`): the files ask
//!   for something that cannot be done without destroying it, and only the
//!   user can choose between reverting the change and lifting the protection.
//! - A **delete** of an object state keeps protected (its file was removed)
//!   is left out of the plan, and so are the deletes of what lies inside it
//!   (its sites, its devices); the plan lists it as kept. This is not an error,
//!   on purpose: the protection is there for exactly this mistake (a file
//!   removed by a bad merge or a moved directory), and the rest of the plan —
//!   other customers' onboarding, the hourly drift check — goes on. The plan
//!   shows the kept object at the top (warning block of the Markdown plan)
//!   until `mspform state unprotect ADDRESS` lifts it, after which the next
//!   plan deletes it.
//! - A protection is **recorded** in state by the apply that sees it declared
//!   (`Plan::protect`), and only `state unprotect` removes it: taking
//!   `protect = true` out of a file does not (the plan warns).

use std::collections::BTreeMap;

use super::{Kept, Protect};
use crate::address::Address;
use crate::diff::{Action, Kind, Op, Record};
use crate::state::Protection;

/// A `protect = true` object of the files: its provider and where it is declared.
pub struct Declared {
    pub provider: String,
    pub place: String,
}

/// What [`guard`] decided.
#[derive(Debug, Default)]
pub struct Guarded {
    pub kept: Vec<Kept>,
    /// Plan errors: replacements of protected objects.
    pub refused: Vec<String>,
    /// Declared protections state has not recorded yet.
    pub protect: Vec<Protect>,
    pub warnings: Vec<String>,
}

fn lift_hint(address: &Address, declared: bool) -> String {
    if declared {
        format!(
            "remove `protect = true` from its file and run `mspform state unprotect {address}` (once an apply has recorded it), then plan again"
        )
    } else {
        format!("run `mspform state unprotect {address}`, then plan again")
    }
}

/// Applies the protections to `actions` (see the module's text). `read` says
/// whether a provider could be read: protections of the others are not
/// recorded now.
pub fn guard(
    actions: &mut Vec<Action>,
    live: &BTreeMap<Address, Record>,
    declared: &BTreeMap<Address, Declared>,
    recorded: &BTreeMap<Address, Protection>,
    read: &dyn Fn(&str) -> bool,
) -> Guarded {
    let mut out = Guarded::default();
    let protected = |a: &Address| declared.contains_key(a) || recorded.contains_key(a);
    for a in actions
        .iter()
        .filter(|a| a.op == Op::Replace && protected(&a.address))
    {
        let why = match (declared.get(&a.address), recorded.get(&a.address)) {
            (Some(d), _) => format!("protect = true at {}", d.place),
            (None, Some(r)) => format!(
                "protected in state since {}",
                crate::clock::fmt_utc(r.since)
            ),
            (None, None) => String::new(),
        };
        out.refused.push(format!(
            "{} is protected ({why}): its replacement is refused ({} cannot be changed in place, so it would be deleted and created again). Revert that change in its file, or lift the protection: {}",
            a.address,
            a.replace_because.join(", "),
            lift_hint(&a.address, declared.contains_key(&a.address))
        ));
    }
    let deleted: Vec<(Address, String)> = actions
        .iter()
        .filter(|a| a.op == Op::Delete && protected(&a.address))
        .map(|a| (a.address.clone(), a.provider.clone()))
        .collect();
    for (address, provider) in deleted {
        let inside = |b: &Action| {
            b.op == Op::Delete
                && b.address != address
                && (b.address.is_within(&address)
                    || (address.kind() == Kind::Customer
                        && live
                            .get(&b.address)
                            .and_then(|r| r.fields.get("customer"))
                            .is_some_and(|c| c == address.key())))
        };
        let with: Vec<Address> = actions
            .iter()
            .filter(|b| inside(b))
            .map(|b| b.address.clone())
            .collect();
        actions.retain(|b| b.address != address && !with.contains(&b.address));
        out.kept.push(Kept {
            kind: address.kind(),
            protected_since: recorded.get(&address).map_or(0, |r| r.since),
            address,
            provider,
            with,
        });
    }
    for (address, d) in declared {
        if !recorded.contains_key(address) && read(&d.provider) {
            out.protect.push(Protect {
                address: address.clone(),
                provider: d.provider.clone(),
                declared_at: d.place.clone(),
            });
        }
    }
    for (address, r) in recorded {
        let still_declared = live.contains_key(address)
            && !declared.contains_key(address)
            && !out.kept.iter().any(|k| &k.address == address);
        if still_declared {
            out.warnings.push(format!(
                "{address}: its file no longer says `protect = true`, but state keeps it protected (since {}); `mspform state unprotect {address}` lifts it",
                crate::clock::fmt_utc(r.since)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn action(address: &str, op: Op) -> Action {
        let address: Address = address.parse().unwrap();
        Action {
            kind: address.kind(),
            address,
            provider: "ext".into(),
            op,
            changes: Vec::new(),
            replace_because: vec!["short_name".into()],
            note: None,
            defaults: Vec::new(),
        }
    }

    fn recorded(addresses: &[&str]) -> BTreeMap<Address, Protection> {
        addresses
            .iter()
            .map(|a| {
                (
                    a.parse().unwrap(),
                    Protection {
                        provider: "ext".into(),
                        since: 86_400,
                        declared_at: None,
                    },
                )
            })
            .collect()
    }

    fn declared(addresses: &[&str]) -> BTreeMap<Address, Declared> {
        addresses
            .iter()
            .map(|a| {
                (
                    a.parse().unwrap(),
                    Declared {
                        provider: "ext".into(),
                        place: "acme.toml:4:1".into(),
                    },
                )
            })
            .collect()
    }

    fn all_read(_: &str) -> bool {
        true
    }

    #[test]
    fn a_protected_objects_delete_is_left_out_with_what_lies_inside_it() {
        let mut actions = vec![
            action("customer.acme", Op::Delete),
            action("site.acme/hq", Op::Delete),
            action("device.AP1", Op::Delete),
            action("device.AP2", Op::Delete),
            action("customer.other", Op::Delete),
            action("customer.new", Op::Create),
        ];
        let live: BTreeMap<Address, Record> = [("device.AP1", "acme"), ("device.AP2", "other")]
            .iter()
            .map(|(d, c)| {
                let a: Address = d.parse().unwrap();
                (
                    a.clone(),
                    Record::new(a, "ext", [("customer".to_string(), json!(c))].into()),
                )
            })
            .collect();
        let g = guard(
            &mut actions,
            &live,
            &BTreeMap::new(),
            &recorded(&["customer.acme"]),
            &all_read,
        );
        let left: Vec<String> = actions.iter().map(|a| a.address.to_string()).collect();
        assert_eq!(left, ["device.AP2", "customer.other", "customer.new"]);
        assert_eq!(g.kept.len(), 1);
        assert_eq!(g.kept[0].address, Address::customer("acme"));
        assert_eq!(g.kept[0].protected_since, 86_400);
        assert_eq!(
            g.kept[0].with,
            [Address::site("acme", "hq"), Address::device("AP1")]
        );
        assert!(g.refused.is_empty() && g.protect.is_empty());
    }

    #[test]
    fn a_protected_objects_replacement_is_refused_naming_it_and_the_way_out() {
        for (declared_at, in_state) in [
            (vec!["customer.acme"], vec![]),
            (vec![], vec!["customer.acme"]),
        ] {
            let mut actions = vec![action("customer.acme", Op::Replace)];
            let g = guard(
                &mut actions,
                &BTreeMap::new(),
                &declared(&declared_at),
                &recorded(&in_state),
                &all_read,
            );
            assert_eq!(g.refused.len(), 1);
            let e = &g.refused[0];
            assert!(
                e.starts_with("customer.acme is protected")
                    && e.contains("short_name")
                    && e.contains("mspform state unprotect customer.acme"),
                "{e}"
            );
            if declared_at.is_empty() {
                assert!(e.contains("protected in state since 1970-01-02"), "{e}");
            } else {
                assert!(e.contains("protect = true at acme.toml:4:1"), "{e}");
            }
        }
        // Not protected: no error.
        let mut actions = vec![action("customer.acme", Op::Replace)];
        let g = guard(
            &mut actions,
            &BTreeMap::new(),
            &BTreeMap::new(),
            &BTreeMap::new(),
            &all_read,
        );
        assert!(g.refused.is_empty());
    }

    #[test]
    fn declared_protections_not_yet_recorded_are_to_record_for_readable_providers() {
        let mut actions = Vec::new();
        let mut decl = declared(&["customer.acme", "partner.p"]);
        decl.insert(
            Address::customer("down"),
            Declared {
                provider: "ruckus".into(),
                place: "down.toml:1:1".into(),
            },
        );
        let g = guard(
            &mut actions,
            &BTreeMap::new(),
            &decl,
            &recorded(&["partner.p"]),
            &|p: &str| p == "ext",
        );
        let to_record: Vec<String> = g.protect.iter().map(|p| p.address.to_string()).collect();
        assert_eq!(to_record, ["customer.acme"]);
        assert_eq!(g.protect[0].declared_at, "acme.toml:4:1");
    }

    #[test]
    fn a_recorded_protection_the_files_no_longer_declare_is_a_warning() {
        let live: BTreeMap<Address, Record> = [(
            Address::customer("acme"),
            Record::new(Address::customer("acme"), "ext", Default::default()),
        )]
        .into();
        let g = guard(
            &mut Vec::new(),
            &live,
            &BTreeMap::new(),
            &recorded(&["customer.acme"]),
            &all_read,
        );
        assert_eq!(g.warnings.len(), 1);
        assert!(
            g.warnings[0].contains("state unprotect customer.acme"),
            "{:?}",
            g.warnings
        );
    }
}
