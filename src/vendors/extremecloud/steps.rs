//! ExtremeCloud apply steps: the plan's actions compiled into vendor calls, in
//! order, each with the steps it waits for. Pure: `run` executes them.
//!
//! Order: tenant creates (and adoptions), then partner PUTs that take tenants
//! away, then the PUTs that add tenants another partner held until then (a
//! tenant has one partner, and an account may refuse a tenant that has not left
//! its old partner yet), then state clean-up. A partner PUT waits for the
//! creates of the tenants it adds.

use std::collections::{BTreeMap, BTreeSet};

use super::refresh::Snapshot;
use super::resolve::{declared_customers, declared_partners, keys};
use super::wire::{ContactBody, TenantBody};
use crate::diff::{Action, Kind, Op};
use crate::model::Desired;
use crate::providers::{Step, Steps, customer_address};

/// Which tenants a partner PUT sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The partner's live tenants minus the managed ones it must give up.
    Remove,
    /// The final list: live minus those, plus every declared one.
    Final,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepOp {
    CreateTenant {
        address: String,
        body: TenantBody,
    },
    /// Adopt: record ownership of a live object, no vendor call.
    Own {
        address: String,
        kind: Kind,
    },
    /// A change the vendor has no call for: the step fails with `message`.
    Refuse {
        address: String,
        message: String,
    },
    /// Drop a state record (gone from both sides), no vendor call.
    Forget {
        address: String,
    },
    PutPartner {
        address: String,
        /// The partner's `custId`.
        partner_id: String,
        /// Declared customer keys the partner must hold.
        want: Vec<String>,
        /// Every declared customer key of the provider: the tenants mspform manages.
        managed: Vec<String>,
        stage: Stage,
    },
}

pub type ExtremeStep = Step<StepOp>;

pub fn tenant_body(desired: &Desired, key: &str) -> Option<TenantBody> {
    let c = desired.customers.get(key)?;
    let crate::model::CustomerSpec::Extreme(e) = &c.spec else {
        return None;
    };
    Some(TenantBody {
        account_name: c.name.clone(),
        country: e.country.clone(),
        time_zone: e.time_zone.clone(),
        msp_contact: e.contact.as_ref().map(|c| ContactBody {
            contact_email: c.email.clone(),
            contact_name: c.name.clone(),
            contact_phone_number: c.phone.clone(),
        }),
        user_id: e.admin_user.clone(),
    })
}

fn no_update(fields: &[&str]) -> String {
    format!(
        "ExtremeCloud documents no tenant update; change {} in the portal (mspform will then see no difference)",
        fields.join(", ")
    )
}

/// Compiles one provider's actions into ordered steps. `ids`: address → vendor id
/// from the refresh (partners and existing tenants).
pub fn compile(
    provider: &str,
    actions: &[Action],
    desired: &Desired,
    snap: &Snapshot,
    ids: &BTreeMap<String, String>,
) -> Vec<ExtremeStep> {
    let mut steps: Steps<StepOp> = Steps::default();
    // Address → the step that makes it exist in mspform's eyes (create or adopt).
    let mut made: BTreeMap<String, usize> = BTreeMap::new();

    for a in actions.iter().filter(|a| a.kind == Kind::Customer) {
        let key = a.address.trim_start_matches("customer.");
        let address = a.address.clone();
        let changed: Vec<&str> = a
            .changes
            .iter()
            .map(|c| c.field.as_str())
            .filter(|f| *f != "admin_user")
            .collect();
        match a.op {
            Op::Create => {
                let Some(body) = tenant_body(desired, key) else {
                    continue;
                };
                let id = steps.push(
                    vec![],
                    vec![address.clone()],
                    format!("create {address}"),
                    StepOp::CreateTenant {
                        address: address.clone(),
                        body,
                    },
                );
                made.insert(address, id);
            }
            Op::Replace => {
                steps.push(
                    vec![],
                    vec![address.clone()],
                    format!("replace {address}"),
                    StepOp::Refuse {
                        address,
                        message: "ExtremeCloud documents no tenant delete, so a tenant cannot be replaced; change it in the portal".into(),
                    },
                );
            }
            Op::Adopt => {
                let id = steps.push(
                    vec![],
                    vec![address.clone()],
                    format!("adopt {address}"),
                    StepOp::Own {
                        address: address.clone(),
                        kind: Kind::Customer,
                    },
                );
                made.insert(address.clone(), id);
                if !changed.is_empty() {
                    steps.push(
                        vec![id],
                        vec![address.clone()],
                        format!("update {address}"),
                        StepOp::Refuse {
                            message: no_update(&changed),
                            address,
                        },
                    );
                }
            }
            Op::Update if !changed.is_empty() => {
                steps.push(
                    vec![],
                    vec![address.clone()],
                    format!("update {address}"),
                    StepOp::Refuse {
                        message: no_update(&changed),
                        address,
                    },
                );
            }
            Op::Update | Op::Forget => {}
            Op::Delete => {
                steps.push(
                    vec![],
                    vec![address.clone()],
                    format!("delete {address}"),
                    StepOp::Refuse {
                        address: address.clone(),
                        message: format!(
                            "ExtremeCloud documents no tenant delete; delete it in the portal, or run `mspform state rm {address}` to stop managing it"
                        ),
                    },
                );
            }
        }
    }

    // Partners: what each one loses and gains, by customer key.
    let partners = declared_partners(provider, desired);
    let managed: Vec<String> = declared_customers(provider, desired)
        .keys()
        .map(|k| k.to_string())
        .collect();
    struct Change<'a> {
        action: &'a Action,
        partner_id: String,
        want: Vec<String>,
        removes: bool,
        /// Added keys another live partner holds now: the partner ids holding them.
        contested: BTreeSet<String>,
        adds: Vec<String>,
        adopt: Option<usize>,
    }
    let mut changes: Vec<Change<'_>> = Vec::new();
    for a in actions.iter().filter(|a| a.kind == Kind::Partner) {
        let key = a.address.trim_start_matches("partner.");
        let (Some(partner), Some(partner_id)) = (partners.get(key), ids.get(&a.address)) else {
            if a.op != Op::Forget {
                steps.push(
                    vec![],
                    vec![a.address.clone()],
                    format!("set customers of {}", a.address),
                    StepOp::Refuse {
                        address: a.address.clone(),
                        message: "the partner is not declared or was not found in the account; mspform does not create or delete partners".into(),
                    },
                );
            }
            continue;
        };
        let adopt = (a.op == Op::Adopt).then(|| {
            steps.push(
                vec![],
                vec![a.address.clone()],
                format!("adopt {}", a.address),
                StepOp::Own {
                    address: a.address.clone(),
                    kind: Kind::Partner,
                },
            )
        });
        let Some(change) = a.changed("customers") else {
            continue;
        };
        let before = keys(&change.before);
        let after = keys(&change.after);
        let adds: Vec<String> = after.difference(&before).cloned().collect();
        let contested: BTreeSet<String> = adds
            .iter()
            .filter_map(|k| ids.get(&customer_address(k)))
            .flat_map(|tid| {
                snap.partners()
                    .iter()
                    .filter(|p| &p.id != partner_id && p.tenants.contains(tid))
                    .map(|p| p.id.clone())
            })
            .collect();
        changes.push(Change {
            action: a,
            partner_id: partner_id.clone(),
            want: partner.customers.clone(),
            removes: before.difference(&after).next().is_some(),
            contested,
            adds,
            adopt,
        });
    }
    let put = |steps: &mut Steps<StepOp>, c: &Change<'_>, stage: Stage, mut deps: Vec<usize>| {
        deps.extend(c.adopt);
        if stage == Stage::Final {
            deps.extend(c.adds.iter().filter_map(|k| made.get(&customer_address(k))));
        }
        deps.sort_unstable();
        deps.dedup();
        let label = match stage {
            Stage::Remove => format!("take customers out of {}", c.action.address),
            Stage::Final => format!("set customers of {}", c.action.address),
        };
        steps.push(
            deps,
            vec![c.action.address.clone()],
            label,
            StepOp::PutPartner {
                address: c.action.address.clone(),
                partner_id: c.partner_id.clone(),
                want: c.want.clone(),
                managed: managed.clone(),
                stage,
            },
        )
    };
    // First pass: every PUT that takes tenants away (alone, or as the partner's only
    // PUT when what it adds is held by no other partner).
    let mut first_pass: BTreeMap<String, usize> = BTreeMap::new();
    for c in changes.iter() {
        if c.contested.is_empty() {
            let id = put(&mut steps, c, Stage::Final, vec![]);
            first_pass.insert(c.partner_id.clone(), id);
        } else if c.removes {
            let id = put(&mut steps, c, Stage::Remove, vec![]);
            first_pass.insert(c.partner_id.clone(), id);
        }
    }
    // Second pass: PUTs adding tenants that other partners give up in the first.
    for c in changes.iter().filter(|c| !c.contested.is_empty()) {
        let deps: Vec<usize> = c
            .contested
            .iter()
            .filter_map(|holder| first_pass.get(holder).copied())
            .chain(first_pass.get(&c.partner_id).copied())
            .collect();
        put(&mut steps, c, Stage::Final, deps);
    }

    for a in actions.iter().filter(|a| a.op == Op::Forget) {
        steps.push(
            vec![],
            vec![a.address.clone()],
            format!("forget {}", a.address),
            StepOp::Forget {
                address: a.address.clone(),
            },
        );
    }
    steps.steps
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    /// (label, deps) of each step, for table-style assertions.
    fn shape(steps: &[ExtremeStep]) -> Vec<(String, Vec<usize>)> {
        steps
            .iter()
            .map(|s| (s.label.clone(), s.deps.clone()))
            .collect()
    }

    fn compiled(toml: &str, snap: &Snapshot, owned_pairs: &[(&str, &str)]) -> Vec<ExtremeStep> {
        let d = desired(toml);
        let (r, actions) = plan(&d, snap, &owned(owned_pairs));
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        compile("ext", &actions, &d, snap, &r.ids)
    }

    fn s(v: &[(&str, &[usize])]) -> Vec<(String, Vec<usize>)> {
        v.iter().map(|(l, d)| (l.to_string(), d.to_vec())).collect()
    }

    #[test]
    fn a_new_customer_is_created_before_the_partner_put_that_names_it() {
        let toml = customer_toml("acme", "Acme") + &partner_toml("p1", "Partner One", &["acme"]);
        let snap = snapshot(vec![], Some(vec![partner("P1", "Partner One", &[])]));
        let steps = compiled(&toml, &snap, &[("partner.p1", "P1")]);
        assert_eq!(
            shape(&steps),
            s(&[
                ("create customer.acme", &[]),
                ("set customers of partner.p1", &[0])
            ])
        );
        let StepOp::CreateTenant { body, .. } = &steps[0].op else {
            panic!("{:?}", steps[0].op)
        };
        assert_eq!(body.account_name, "Acme");
        assert_eq!(body.user_id, "admin@acme.example");
        assert_eq!(body.msp_contact.as_ref().unwrap().contact_name, "Acme NOC");
        let StepOp::PutPartner {
            want,
            managed,
            stage,
            partner_id,
            ..
        } = &steps[1].op
        else {
            panic!()
        };
        assert_eq!(
            (want.as_slice(), stage, partner_id.as_str()),
            (&["acme".to_string()][..], &Stage::Final, "P1")
        );
        assert_eq!(managed, &["acme".to_string()]);
    }

    #[test]
    fn a_move_takes_the_customer_out_of_the_old_partner_first() {
        let toml = customer_toml("acme", "Acme")
            + &partner_toml("a", "Partner A", &[])
            + &partner_toml("b", "Partner B", &["acme"]);
        let snap = snapshot(
            vec![tenant("T1", "acme", "Acme")],
            Some(vec![
                partner("PA", "Partner A", &["T1"]),
                partner("PB", "Partner B", &[]),
            ]),
        );
        let owned_pairs = [
            ("customer.acme", "T1"),
            ("partner.a", "PA"),
            ("partner.b", "PB"),
        ];
        let steps = compiled(&toml, &snap, &owned_pairs);
        assert_eq!(
            shape(&steps),
            s(&[
                ("set customers of partner.a", &[]),
                ("set customers of partner.b", &[0])
            ])
        );
    }

    #[test]
    fn a_swap_removes_on_both_sides_before_adding() {
        let toml = customer_toml("acme", "Acme")
            + &customer_toml("beta", "Beta")
            + &partner_toml("a", "Partner A", &["beta"])
            + &partner_toml("b", "Partner B", &["acme"]);
        let snap = snapshot(
            vec![tenant("T1", "acme", "Acme"), tenant("T2", "beta", "Beta")],
            Some(vec![
                partner("PA", "Partner A", &["T1"]),
                partner("PB", "Partner B", &["T2"]),
            ]),
        );
        let steps = compiled(&toml, &snap, &[("partner.a", "PA"), ("partner.b", "PB")]);
        // Adoption of the two customers and the two partners, then the PUTs.
        let puts: Vec<(String, Vec<usize>)> = shape(&steps)
            .into_iter()
            .filter(|(l, _)| l.contains("partner."))
            .collect();
        let first = steps
            .iter()
            .position(|s| s.label == "take customers out of partner.a")
            .unwrap();
        let second = steps
            .iter()
            .position(|s| s.label == "take customers out of partner.b")
            .unwrap();
        assert_eq!(
            puts,
            s(&[
                ("take customers out of partner.a", &[]),
                ("take customers out of partner.b", &[]),
                // … and on the adoption of the customer each one gains.
                ("set customers of partner.a", &[1, first, second]),
                ("set customers of partner.b", &[0, first, second]),
            ])
        );
    }

    #[test]
    fn tenant_changes_the_vendor_cannot_make_fail_with_a_clear_message() {
        let toml = customer_toml("acme", "Acme");
        let mut live = tenant("T1", "acme", "Acme");
        live.time_zone = "Europe/Paris".into();
        live.contact.phone = "0".into();
        let snap = snapshot(vec![live.clone()], None);
        let steps = compiled(&toml, &snap, &[("customer.acme", "T1")]);
        assert_eq!(shape(&steps), s(&[("update customer.acme", &[])]));
        let StepOp::Refuse { message, .. } = &steps[0].op else {
            panic!()
        };
        assert_eq!(
            message,
            "ExtremeCloud documents no tenant update; change contact.phone, time_zone in the portal (mspform will then see no difference)"
        );
        // Adopted with differences: ownership is recorded, the update still refused.
        let steps = compiled(&toml, &snapshot(vec![live], None), &[]);
        assert_eq!(
            shape(&steps),
            s(&[("adopt customer.acme", &[]), ("update customer.acme", &[0])])
        );
    }

    #[test]
    fn nothing_to_do_compiles_to_nothing_and_gone_records_are_forgotten() {
        let toml = customer_toml("acme", "Acme") + &partner_toml("p1", "Partner One", &["acme"]);
        let snap = snapshot(
            vec![tenant("T1", "acme", "Acme")],
            Some(vec![partner("P1", "Partner One", &["T1"])]),
        );
        let steps = compiled(
            &toml,
            &snap,
            &[("customer.acme", "T1"), ("partner.p1", "P1")],
        );
        assert!(steps.is_empty(), "{:?}", shape(&steps));

        let forget = vec![Action {
            address: "customer.gone".into(),
            kind: Kind::Customer,
            provider: "ext".into(),
            op: Op::Forget,
            changes: vec![],
            replace_because: vec![],
        }];
        let d = desired(&toml);
        let steps = compile("ext", &forget, &d, &snap, &BTreeMap::new());
        assert_eq!(shape(&steps), s(&[("forget customer.gone", &[])]));
    }
}
