//! The pure diff: desired records vs live records (plus what state says we own)
//! into actions with per-field before/after values. No I/O, no vendor knowledge.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::address::Address;

pub type Fields = BTreeMap<String, Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Customer,
    Site,
    Device,
    /// A partner account's set of managed customers.
    Partner,
}

impl Kind {
    /// The word addresses and messages use: `customer`, `site`, `device`, `partner`.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Customer => "customer",
            Kind::Site => "site",
            Kind::Device => "device",
            Kind::Partner => "partner",
        }
    }

    /// The one ordering table: creates and updates run in this order, deletes in reverse.
    pub fn rank(self) -> u8 {
        match self {
            Kind::Customer => 0,
            Kind::Site => 1,
            Kind::Device => 2,
            Kind::Partner => 3,
        }
    }
}

/// One object in stable-address terms, desired or live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub address: Address,
    pub kind: Kind,
    pub provider: String,
    /// Desired side: only the fields mspform manages. Live side: what the vendor shows.
    pub fields: Fields,
}

impl Record {
    /// A record of `provider`; its kind is the address's.
    pub fn new(address: Address, provider: &str, fields: Fields) -> Record {
        Record {
            kind: address.kind(),
            address,
            provider: provider.to_string(),
            fields,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Create,
    /// A live object with the desired natural key that state does not own yet:
    /// recorded as owned, never created twice; `changes` are applied as an update.
    Adopt,
    Update,
    Delete,
    /// Owned in state but gone from both the vendor and the files: drop the record.
    Forget,
    /// A change the vendor cannot make in place: delete, then create again
    /// (`Action::replace_because` names the fields that force it).
    Replace,
}

impl Op {
    /// The word the plan JSON uses: `create`, `adopt`, `update`, `delete`, `forget`, `replace`.
    pub fn word(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Adopt => "adopt",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Forget => "forget",
            Op::Replace => "replace",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    /// `null` when the object does not exist yet.
    pub before: Value,
    /// `null` when the object is being deleted.
    pub after: Value,
}

impl FieldChange {
    /// A list field's strings before and after (a value that is not a list: none).
    pub fn string_sets(&self) -> (BTreeSet<String>, BTreeSet<String>) {
        let set = |v: &Value| -> BTreeSet<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        (set(&self.before), set(&self.after))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub address: Address,
    pub kind: Kind,
    pub provider: String,
    pub op: Op,
    pub changes: Vec<FieldChange>,
    /// For [`Op::Replace`]: the changed fields that cannot be updated in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_because: Vec<String>,
    /// The vendor's explanation of this change, when the fields alone do not
    /// tell (e.g. why a device is associated again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Fields of a create (or replacement) the files did not declare: their
    /// value is a default mspform sends, shown as `(default)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defaults: Vec<String>,
}

impl Action {
    /// Whether `field` is a default rather than declared (see [`Action::defaults`]).
    pub fn is_default(&self, field: &str) -> bool {
        self.defaults.iter().any(|d| d == field)
    }

    pub fn changed(&self, field: &str) -> Option<&FieldChange> {
        self.changes.iter().find(|c| c.field == field)
    }
}

/// A live object nobody declared and mspform does not own: reported, left alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unmanaged {
    pub address: Address,
    pub kind: Kind,
    pub provider: String,
}

/// Values equal for diff purposes: numbers within 1e-6 (coordinates), else exact.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-6,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => a == b,
    }
}

/// Diffs one desired state against live. `exclusive` names providers that own
/// their whole account (undeclared live objects are deleted there).
pub fn diff(
    desired: &[Record],
    live: &BTreeMap<Address, Record>,
    owned: &BTreeSet<Address>,
    exclusive: &BTreeSet<String>,
) -> (Vec<Action>, Vec<Unmanaged>) {
    let mut actions = Vec::new();
    let mut unmanaged = Vec::new();
    let declared: BTreeSet<&Address> = desired.iter().map(|r| &r.address).collect();
    for want in desired {
        match live.get(&want.address) {
            None => actions.push(Action {
                address: want.address.clone(),
                kind: want.kind,
                provider: want.provider.clone(),
                op: Op::Create,
                changes: want
                    .fields
                    .iter()
                    .map(|(k, v)| FieldChange {
                        field: k.clone(),
                        before: Value::Null,
                        after: v.clone(),
                    })
                    .collect(),
                replace_because: Vec::new(),
                note: None,
                defaults: Vec::new(),
            }),
            Some(have) => {
                let changes: Vec<FieldChange> = want
                    .fields
                    .iter()
                    .filter_map(|(k, v)| {
                        let before = have.fields.get(k).cloned().unwrap_or(Value::Null);
                        (!same(&before, v)).then(|| FieldChange {
                            field: k.clone(),
                            before,
                            after: v.clone(),
                        })
                    })
                    .collect();
                let op = if !owned.contains(&want.address) {
                    Op::Adopt
                } else if !changes.is_empty() {
                    Op::Update
                } else {
                    continue;
                };
                actions.push(Action {
                    address: want.address.clone(),
                    kind: want.kind,
                    provider: want.provider.clone(),
                    op,
                    changes,
                    replace_because: Vec::new(),
                    note: None,
                    defaults: Vec::new(),
                });
            }
        }
    }
    for (address, have) in live {
        if declared.contains(address) {
            continue;
        }
        if owned.contains(address) || exclusive.contains(&have.provider) {
            actions.push(Action {
                address: address.clone(),
                kind: have.kind,
                provider: have.provider.clone(),
                op: Op::Delete,
                changes: have
                    .fields
                    .iter()
                    .map(|(k, v)| FieldChange {
                        field: k.clone(),
                        before: v.clone(),
                        after: Value::Null,
                    })
                    .collect(),
                replace_because: Vec::new(),
                note: None,
                defaults: Vec::new(),
            });
        } else {
            unmanaged.push(Unmanaged {
                address: address.clone(),
                kind: have.kind,
                provider: have.provider.clone(),
            });
        }
    }
    sort_actions(&mut actions);
    (actions, unmanaged)
}

/// Turns updates that touch a field the vendor cannot change in place into
/// replacements. `replace_on`: address → fields that force replacement.
pub fn mark_replacements(actions: &mut [Action], replace_on: &BTreeMap<Address, Vec<String>>) {
    for a in actions.iter_mut() {
        if !matches!(a.op, Op::Update | Op::Adopt) {
            continue;
        }
        let Some(fields) = replace_on.get(&a.address) else {
            continue;
        };
        let forcing: Vec<String> = a
            .changes
            .iter()
            .filter(|c| fields.contains(&c.field))
            .map(|c| c.field.clone())
            .collect();
        if !forcing.is_empty() {
            a.op = Op::Replace;
            a.replace_because = forcing;
        }
    }
}

/// Creates, adopts and updates parent first; deletes and forgets child first, after them.
pub fn sort_actions(actions: &mut [Action]) {
    // By the address as written, so plans read in the order users expect.
    actions.sort_by_cached_key(|x| {
        let removing = matches!(x.op, Op::Delete | Op::Forget);
        let rank = if removing {
            10 - x.kind.rank()
        } else {
            x.kind.rank()
        };
        (removing, rank, x.address.to_string())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn a(text: &str) -> Address {
        text.parse().unwrap()
    }

    fn rec(address: &str, kind: Kind, fields: &[(&str, Value)]) -> Record {
        Record {
            address: a(address),
            kind,
            provider: "aruba".into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    fn live(records: Vec<Record>) -> BTreeMap<Address, Record> {
        records
            .into_iter()
            .map(|r| (r.address.clone(), r))
            .collect()
    }

    fn owned(addrs: &[&str]) -> BTreeSet<Address> {
        addrs.iter().map(|s| a(s)).collect()
    }

    #[test]
    fn missing_object_is_created_with_every_field() {
        let want = vec![rec("customer.a", Kind::Customer, &[("name", json!("A"))])];
        let (actions, unmanaged) = diff(&want, &BTreeMap::new(), &owned(&[]), &BTreeSet::new());
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].op, Op::Create);
        assert_eq!(actions[0].changes[0].after, json!("A"));
        assert_eq!(actions[0].changes[0].before, Value::Null);
        assert!(unmanaged.is_empty());
    }

    #[test]
    fn owned_and_equal_is_no_action() {
        let want = vec![rec("customer.a", Kind::Customer, &[("name", json!("A"))])];
        let have = live(vec![rec(
            "customer.a",
            Kind::Customer,
            &[("name", json!("A")), ("extra", json!(1))],
        )]);
        let (actions, _) = diff(&want, &have, &owned(&["customer.a"]), &BTreeSet::new());
        assert!(actions.is_empty(), "{actions:?}");
    }

    #[test]
    fn changed_field_is_an_update_naming_the_field() {
        let want = vec![rec(
            "customer.a",
            Kind::Customer,
            &[("name", json!("A")), ("description", json!("new"))],
        )];
        let have = live(vec![rec(
            "customer.a",
            Kind::Customer,
            &[("name", json!("A")), ("description", json!("old"))],
        )]);
        let (actions, _) = diff(&want, &have, &owned(&["customer.a"]), &BTreeSet::new());
        assert_eq!(actions[0].op, Op::Update);
        assert_eq!(actions[0].changes.len(), 1);
        assert_eq!(actions[0].changes[0].field, "description");
        assert_eq!(actions[0].changes[0].before, json!("old"));
    }

    #[test]
    fn live_but_not_owned_is_adopted_not_duplicated() {
        let want = vec![rec("customer.a", Kind::Customer, &[("name", json!("A"))])];
        let have = live(vec![rec(
            "customer.a",
            Kind::Customer,
            &[("name", json!("A"))],
        )]);
        let (actions, _) = diff(&want, &have, &owned(&[]), &BTreeSet::new());
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].op, Op::Adopt);
        assert!(actions[0].changes.is_empty());
    }

    #[test]
    fn only_owned_undeclared_objects_are_deleted() {
        let have = live(vec![
            rec("customer.mine", Kind::Customer, &[("name", json!("Mine"))]),
            rec(
                "customer.theirs",
                Kind::Customer,
                &[("name", json!("Theirs"))],
            ),
        ]);
        let (actions, unmanaged) = diff(&[], &have, &owned(&["customer.mine"]), &BTreeSet::new());
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].address, a("customer.mine"));
        assert_eq!(actions[0].op, Op::Delete);
        assert_eq!(unmanaged.len(), 1);
        assert_eq!(unmanaged[0].address, a("customer.theirs"));
    }

    #[test]
    fn exclusive_provider_deletes_everything_undeclared() {
        let have = live(vec![rec("customer.theirs", Kind::Customer, &[])]);
        let excl: BTreeSet<String> = ["aruba".to_string()].into();
        let (actions, unmanaged) = diff(&[], &have, &owned(&[]), &excl);
        assert_eq!(actions[0].op, Op::Delete);
        assert!(unmanaged.is_empty());
    }

    #[test]
    fn coordinates_compare_with_tolerance() {
        assert!(same(&json!(37.1234567), &json!(37.12345670000001)));
        assert!(!same(&json!(37.12), &json!(37.13)));
        assert!(same(&json!(["a"]), &json!(["a"])));
    }

    #[test]
    fn ordering_is_parent_first_for_creates_and_child_first_for_deletes() {
        let mut actions: Vec<Action> = [
            ("device.X", Kind::Device, Op::Delete),
            ("customer.b", Kind::Customer, Op::Delete),
            ("site.a/s", Kind::Site, Op::Delete),
            ("device.Y", Kind::Device, Op::Create),
            ("site.a/t", Kind::Site, Op::Create),
            ("customer.a", Kind::Customer, Op::Create),
            ("customer.c", Kind::Customer, Op::Update),
        ]
        .into_iter()
        .map(|(addr, k, op)| Action {
            address: a(addr),
            kind: k,
            provider: "p".into(),
            op,
            changes: vec![],
            replace_because: Vec::new(),
            note: None,
            defaults: Vec::new(),
        })
        .collect();
        sort_actions(&mut actions);
        let order: Vec<String> = actions.iter().map(|a| a.address.to_string()).collect();
        assert_eq!(
            order,
            [
                "customer.a",
                "customer.c",
                "site.a/t",
                "device.Y",
                "device.X",
                "site.a/s",
                "customer.b"
            ]
        );
    }

    #[test]
    fn a_change_to_a_field_that_cannot_change_in_place_is_a_replacement() {
        let want = vec![rec(
            "customer.a",
            Kind::Customer,
            &[("short_name", json!("acme2")), ("name", json!("Acme"))],
        )];
        let have = live(vec![rec(
            "customer.a",
            Kind::Customer,
            &[("short_name", json!("acme")), ("name", json!("Acme"))],
        )]);
        let (mut actions, _) = diff(&want, &have, &owned(&["customer.a"]), &BTreeSet::new());
        assert_eq!(actions[0].op, Op::Update);
        let replace_on = BTreeMap::from([(
            a("customer.a"),
            vec!["short_name".to_string(), "channel_id".to_string()],
        )]);
        mark_replacements(&mut actions, &replace_on);
        assert_eq!(actions[0].op, Op::Replace);
        assert_eq!(actions[0].replace_because, ["short_name"]);

        // A change to another field of the same object stays an update.
        let want = vec![rec(
            "customer.a",
            Kind::Customer,
            &[("name", json!("Acme Inc"))],
        )];
        let (mut actions, _) = diff(&want, &have, &owned(&["customer.a"]), &BTreeSet::new());
        mark_replacements(&mut actions, &replace_on);
        assert_eq!(actions[0].op, Op::Update);
        assert!(actions[0].replace_because.is_empty());
    }
}
