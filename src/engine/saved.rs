//! Saved plans. `plan --out` records a fingerprint of every live object an
//! action rests on (its own object and what it depends on, or `absent`);
//! `apply PLANFILE` re-reads only those objects, not the whole portfolio,
//! applies the actions whose inputs and whose planned change are unchanged,
//! and refuses the others by name (all of them, unless `--allow-partial`).

use std::collections::{BTreeMap, BTreeSet};

use crate::address::Address;
use crate::diff::{Action, Record};
use crate::plan::Plan;

use super::select::Dependencies;

/// The fingerprint of an object that does not exist (as read).
pub const ABSENT: &str = "absent";

/// A live object's fingerprint: a 64-bit FNV-1a hash of its fields as JSON
/// (fields are kept sorted, so equal objects hash equal), or [`ABSENT`].
pub fn fingerprint(record: Option<&Record>) -> String {
    let Some(record) = record else {
        return ABSENT.to_string();
    };
    let text = serde_json::to_string(&record.fields).unwrap_or_default();
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The objects `action` rests on: its own, and what that depends on.
fn rests_on(action: &Action, deps: &Dependencies) -> BTreeSet<Address> {
    let mut out = deps.of(&action.address);
    out.insert(action.address.clone());
    out
}

/// The fingerprints of everything the actions rest on.
pub fn inputs(
    actions: &[Action],
    live: &BTreeMap<Address, Record>,
    deps: &Dependencies,
) -> BTreeMap<Address, String> {
    let mut out = BTreeMap::new();
    for action in actions {
        for address in rests_on(action, deps) {
            if let std::collections::btree_map::Entry::Vacant(slot) = out.entry(address) {
                let print = fingerprint(live.get(slot.key()));
                slot.insert(print);
            }
        }
    }
    out
}

/// An action of a saved plan that is not applied, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub address: Address,
    pub why: String,
}

/// Which of a saved plan's actions still hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recheck {
    /// Unchanged inputs, the same change planned again: applied.
    pub holds: BTreeSet<Address>,
    pub refused: Vec<Refused>,
    /// Changes the fresh read finds that the saved plan does not have (a hand
    /// edit since): not applied; the next plan shows them.
    pub unplanned: Vec<Address>,
}

/// Compares a saved plan with the plan made again from a re-read of its
/// inputs (`fresh`, whose live objects are `live`).
pub fn recheck(
    saved: &Plan,
    fresh: &Plan,
    live: &BTreeMap<Address, Record>,
    deps: &Dependencies,
) -> Recheck {
    let now: BTreeMap<&Address, &Action> = fresh.actions.iter().map(|a| (&a.address, a)).collect();
    let mut out = Recheck::default();
    for action in &saved.actions {
        let changed: Vec<String> = rests_on(action, deps)
            .into_iter()
            .filter(|a| saved.inputs.get(a).map(String::as_str) != Some(&fingerprint(live.get(a))))
            .map(|a| a.to_string())
            .collect();
        let why = match now.get(&action.address) {
            _ if !changed.is_empty() => Some(format!(
                "the live state it rests on changed since the plan was made ({})",
                changed.join(", ")
            )),
            None => Some(
                "no longer planned: the configuration or the state changed since the plan was made"
                    .to_string(),
            ),
            Some(fresh) if *fresh != action => Some(format!(
                "planned differently now ({}): the configuration changed since the plan was made",
                difference(action, fresh)
            )),
            Some(_) => None,
        };
        match why {
            Some(why) => out.refused.push(Refused {
                address: action.address.clone(),
                why,
            }),
            None => {
                out.holds.insert(action.address.clone());
            }
        }
    }
    let saved_addresses: BTreeSet<&Address> = saved.actions.iter().map(|a| &a.address).collect();
    out.unplanned = fresh
        .actions
        .iter()
        .filter(|a| !saved_addresses.contains(&a.address))
        .map(|a| a.address.clone())
        .collect();
    out
}

/// What differs between two actions on one object, in words.
fn difference(saved: &Action, fresh: &Action) -> String {
    if saved.op != fresh.op {
        return format!("{:?} then, {:?} now", saved.op, fresh.op).to_lowercase();
    }
    let fields = |a: &Action| -> BTreeMap<String, String> {
        a.changes
            .iter()
            .map(|c| (c.field.clone(), c.after.to_string()))
            .collect()
    };
    let (then, now) = (fields(saved), fields(fresh));
    let differ: Vec<&String> = then
        .keys()
        .chain(now.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|f| then.get(*f) != now.get(*f))
        .collect();
    if differ.is_empty() {
        "other details".to_string()
    } else {
        format!(
            "field(s) {}",
            differ
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}
