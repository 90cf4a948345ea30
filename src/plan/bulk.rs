//! The bulk-change check, as octoDNS has it: a plan that deletes or replaces
//! more than a share (30 % by default, `[safety] bulk_percent`) of the objects
//! of one kind that one provider owns, when it owns at least a minimum of them
//! (10, `[safety] bulk_minimum`), is refused by apply unless `--force-bulk`.
//! A renamed directory or a bad merge that drops half the customers' files is
//! the mistake this catches; `--max-deletes` still caps the total. Pure.

use std::collections::BTreeMap;

use super::BulkChange;
use crate::diff::{Action, Kind, Op};
use crate::model::BulkThreshold;
use crate::vendor::Owned;

/// The (provider, kind) groups whose deletes and replacements exceed `threshold`
/// of what state owns of them.
pub fn check(actions: &[Action], owned: &Owned, threshold: BulkThreshold) -> Vec<BulkChange> {
    let mut have: BTreeMap<(&str, Kind), usize> = BTreeMap::new();
    for (address, record) in owned {
        if address.is_declared() {
            *have
                .entry((record.provider.as_str(), address.kind()))
                .or_default() += 1;
        }
    }
    let mut changes: BTreeMap<(&str, Kind), usize> = BTreeMap::new();
    for a in actions
        .iter()
        .filter(|a| matches!(a.op, Op::Delete | Op::Replace))
    {
        *changes.entry((a.provider.as_str(), a.kind)).or_default() += 1;
    }
    changes
        .into_iter()
        .filter_map(|((provider, kind), n)| {
            let owned = have.get(&(provider, kind)).copied().unwrap_or(0);
            let over = owned >= threshold.minimum
                && (n as u128) * 100 > u128::from(threshold.percent) * (owned as u128);
            over.then(|| BulkChange {
                provider: provider.to_string(),
                kind,
                changes: n,
                owned,
                threshold_percent: threshold.percent,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use crate::state::OwnedRecord;

    fn owned(provider: &str, kind: &str, n: usize) -> Owned {
        (0..n)
            .map(|i| {
                (
                    format!("{kind}.k{i}").parse::<Address>().unwrap(),
                    OwnedRecord {
                        provider: provider.into(),
                        vendor_id: None,
                        parent_id: None,
                        since: 0,
                        origin: "created".into(),
                        facts: Default::default(),
                    },
                )
            })
            .collect()
    }

    fn removals(provider: &str, op: Op, n: usize) -> Vec<Action> {
        (0..n)
            .map(|i| Action {
                address: Address::customer(format!("k{i}")),
                kind: Kind::Customer,
                provider: provider.into(),
                op,
                changes: Vec::new(),
                replace_because: Vec::new(),
                note: None,
                defaults: Vec::new(),
            })
            .collect()
    }

    const DEFAULT: BulkThreshold = BulkThreshold {
        percent: 30,
        minimum: 10,
    };

    #[test]
    fn more_than_the_share_of_one_providers_kind_is_over_the_threshold() {
        let state = owned("ext", "customer", 10);
        // 3 of 10 is 30 %: not more than the threshold.
        assert!(check(&removals("ext", Op::Delete, 3), &state, DEFAULT).is_empty());
        // Deletes and replacements count together: 4 of 10.
        let mut actions = removals("ext", Op::Delete, 2);
        actions.extend(removals("ext", Op::Replace, 2));
        let over = check(&actions, &state, DEFAULT);
        assert_eq!(
            over,
            [BulkChange {
                provider: "ext".into(),
                kind: Kind::Customer,
                changes: 4,
                owned: 10,
                threshold_percent: 30,
            }]
        );
        // Updates and creates never count.
        let mut calm = removals("ext", Op::Update, 9);
        calm.extend(removals("ext", Op::Create, 9));
        assert!(check(&calm, &state, DEFAULT).is_empty());
    }

    #[test]
    fn below_the_minimum_and_across_providers_nothing_is_bulk() {
        // 9 owned: below the minimum of 10, even if all go.
        assert!(
            check(
                &removals("ext", Op::Delete, 9),
                &owned("ext", "customer", 9),
                DEFAULT
            )
            .is_empty()
        );
        // Another provider's objects do not dilute (nor add to) the share.
        let mut state = owned("ext", "customer", 10);
        state.extend(owned("ruckus", "partner", 50));
        assert_eq!(
            check(&removals("ext", Op::Delete, 4), &state, DEFAULT).len(),
            1
        );
        // ruckus owns partners, no customers: its customer deletes are below the minimum.
        assert!(check(&removals("ruckus", Op::Delete, 4), &state, DEFAULT).is_empty());
        // The threshold is configurable.
        let lax = BulkThreshold {
            percent: 50,
            minimum: 10,
        };
        assert!(check(&removals("ext", Op::Delete, 5), &state, lax).is_empty());
        assert_eq!(check(&removals("ext", Op::Delete, 6), &state, lax).len(), 1);
    }
}
