//! AudioCodes apply steps: the plan's actions compiled into vendor calls, each
//! with the steps it waits for. Pure: `run` executes them.
//!
//! There is no update call: a replacement is a delete, then a create that
//! depends on it. Deletes come first, so a short name given up by one customer
//! can be taken by another in the same apply (that create waits for the delete).

use std::collections::BTreeMap;

use serde_json::Value;

use super::Audiocodes;
use super::model::AudiocodesCustomer;
use super::resolve::{declared, desired_fields, facts_of};
use crate::address::Address;
use crate::diff::{Action, Op};
use crate::vendor::{Ctx, Step, Steps};

/// Everything a create sends, secrets still by reference (resolved when the
/// body is built, at run time).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateSpec {
    pub full_name: String,
    pub customer: AudiocodesCustomer,
    /// The write-only values to record with ownership (secrets as references).
    pub facts: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepOp {
    /// `POST /api/v2/customer`; `replacing`: the step deleting the old one ran first.
    Create {
        address: Address,
        spec: CreateSpec,
        replacing: bool,
    },
    /// `DELETE /api/v2/customer/{guid}`.
    Delete { address: Address, replacing: bool },
    /// Record ownership of a live customer; no vendor call.
    Adopt {
        address: Address,
        facts: BTreeMap<String, Value>,
    },
    /// Drop the ownership record of a customer gone from both sides.
    Forget { address: Address },
}

pub fn create_spec(ctx: Ctx<'_, Audiocodes>, key: &str) -> Option<CreateSpec> {
    let all = declared(ctx);
    let (c, a) = all.get(key)?;
    Some(CreateSpec {
        full_name: c.name.clone(),
        customer: (*a).clone(),
        facts: facts_of(&desired_fields(c, a)),
    })
}

/// The short name a delete action gives up (its `before` value).
fn short_name_of(a: &Action) -> Option<&str> {
    a.changed("short_name").and_then(|c| c.before.as_str())
}

/// Compiles one provider's actions into ordered steps: forgets, deletes,
/// replacements (delete → create), adoptions, creates.
pub fn compile(ctx: Ctx<'_, Audiocodes>, actions: &[Action]) -> Vec<Step<StepOp>> {
    let mut steps: Steps<StepOp> = Steps::default();
    let key_of = |a: &Action| match &a.address {
        Address::Customer(k) => Some(k.clone()),
        _ => None,
    };
    steps.forgets(actions, |address| StepOp::Forget { address });
    // Short name → the delete steps freeing it.
    let mut freeing: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for a in actions.iter().filter(|a| a.op == Op::Delete) {
        let address = a.address.clone();
        let id = steps.push(
            vec![],
            vec![address.clone()],
            format!("delete {address}"),
            StepOp::Delete {
                address,
                replacing: false,
            },
        );
        if let Some(short) = short_name_of(a) {
            freeing.entry(short.to_string()).or_default().push(id);
        }
    }
    for a in actions.iter().filter(|a| a.op == Op::Replace) {
        let Some(spec) = key_of(a).and_then(|k| create_spec(ctx, &k)) else {
            continue;
        };
        let address = a.address.clone();
        let delete = steps.push(
            vec![],
            vec![address.clone()],
            format!(
                "delete {address} (replacement: {} changed)",
                a.replace_because.join(", ")
            ),
            StepOp::Delete {
                address: address.clone(),
                replacing: true,
            },
        );
        let mut deps = vec![delete];
        deps.extend(freeing.get(&spec.customer.short_name).into_iter().flatten());
        steps.push(
            deps,
            vec![address.clone()],
            format!("create {address} (replacement)"),
            StepOp::Create {
                address,
                spec,
                replacing: true,
            },
        );
    }
    for a in actions.iter().filter(|a| a.op == Op::Adopt) {
        let Some(spec) = key_of(a).and_then(|k| create_spec(ctx, &k)) else {
            continue;
        };
        let address = a.address.clone();
        steps.push(
            vec![],
            vec![address.clone()],
            format!("adopt {address}"),
            StepOp::Adopt {
                address,
                facts: spec.facts,
            },
        );
    }
    for a in actions.iter().filter(|a| a.op == Op::Create) {
        let Some(spec) = key_of(a).and_then(|k| create_spec(ctx, &k)) else {
            continue;
        };
        let address = a.address.clone();
        let deps = freeing
            .get(&spec.customer.short_name)
            .cloned()
            .unwrap_or_default();
        steps.push(
            deps,
            vec![address.clone()],
            format!("create {address}"),
            StepOp::Create {
                address,
                spec,
                replacing: false,
            },
        );
    }
    steps.into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Action, FieldChange, Kind};
    use crate::vendor::Owned;
    use crate::vendors::audiocodes::resolve::tests::desired;
    use serde_json::json;

    fn action(address: &str, op: Op, short_before: Option<&str>) -> Action {
        Action {
            address: address.parse().unwrap(),
            kind: Kind::Customer,
            provider: "ac".into(),
            op,
            changes: short_before
                .map(|s| {
                    vec![FieldChange {
                        field: "short_name".into(),
                        before: json!(s),
                        after: Value::Null,
                    }]
                })
                .unwrap_or_default(),
            replace_because: if op == Op::Replace {
                vec!["name".into()]
            } else {
                vec![]
            },
            note: None,
            defaults: Vec::new(),
        }
    }

    fn shape(steps: &[Step<StepOp>]) -> Vec<(String, Vec<usize>)> {
        steps
            .iter()
            .map(|s| (s.label.clone(), s.deps.clone()))
            .collect()
    }

    #[test]
    fn a_replacement_is_a_delete_then_a_create_that_waits_for_it() {
        let d = desired(&[("acme", "Acme", "AcmeCorp")]);
        let steps = compile(
            d.ctx(&Owned::new()),
            &[action("customer.acme", Op::Replace, None)],
        );
        assert_eq!(
            shape(&steps),
            [
                (
                    "delete customer.acme (replacement: name changed)".to_string(),
                    vec![]
                ),
                ("create customer.acme (replacement)".to_string(), vec![0]),
            ]
        );
        let StepOp::Create {
            spec, replacing, ..
        } = &steps[1].op
        else {
            panic!("create expected");
        };
        assert!(*replacing);
        assert_eq!(spec.customer.short_name, "Acme");
        assert_eq!(spec.full_name, "AcmeCorp");
        // Facts hold the secret's reference, never a value.
        assert_eq!(
            spec.facts["script_parameters.CarrierUserPassword"],
            json!("(secret from environment variable ACME_PW)")
        );
        assert!(!spec.facts.contains_key("name"));
    }

    #[test]
    fn steps_run_forgets_deletes_replacements_adoptions_creates() {
        let d = desired(&[("a", "Aaa", "A"), ("b", "Bbb", "B"), ("c", "Ccc", "C")]);
        let actions = vec![
            action("customer.c", Op::Create, None),
            action("customer.b", Op::Adopt, None),
            action("customer.a", Op::Replace, None),
            action("customer.gone", Op::Forget, None),
            action("customer.old", Op::Delete, Some("Ccc")),
        ];
        let steps = compile(d.ctx(&Owned::new()), &actions);
        assert_eq!(
            shape(&steps),
            [
                ("forget customer.gone".to_string(), vec![]),
                ("delete customer.old".to_string(), vec![]),
                (
                    "delete customer.a (replacement: name changed)".to_string(),
                    vec![]
                ),
                ("create customer.a (replacement)".to_string(), vec![2]),
                ("adopt customer.b".to_string(), vec![]),
                // Takes over the short name the deleted customer gives up.
                ("create customer.c".to_string(), vec![1]),
            ]
        );
        let StepOp::Adopt { facts, .. } = &steps[4].op else {
            panic!("adopt expected");
        };
        assert_eq!(facts["customer_type"], json!("IPGROUP_TYPE"));
    }

    #[test]
    fn actions_of_undeclared_customers_compile_to_nothing_but_deletes() {
        let d = desired(&[]);
        let actions = vec![
            action("customer.x", Op::Create, None),
            action("customer[\"Y\"]", Op::Delete, Some("Y")),
        ];
        let steps = compile(d.ctx(&Owned::new()), &actions);
        assert_eq!(
            shape(&steps),
            [("delete customer[\"Y\"]".to_string(), vec![])]
        );
    }
}
