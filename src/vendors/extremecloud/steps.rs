//! ExtremeCloud apply steps: the plan's actions compiled into vendor calls, each
//! with the steps it waits for. Pure: `run` executes them.
//!
//! Tenant creates (and adoptions) come first; then the partner PUTs that take
//! tenants away, then the PUTs that add tenants another partner held until then
//! (a tenant has one partner, and an account may refuse a tenant that has not
//! left its old partner yet), then state clean-up. A partner PUT waits for the
//! creates of the tenants it adds and for the PUTs freeing them. A change the
//! vendor has no call for (a tenant update, replacement or delete) is a step
//! that fails saying what to do instead.

use std::collections::{BTreeMap, BTreeSet};

use super::ExtremeCloud;
use super::refresh::Snapshot;
use super::resolve::{declared, declared_partners};
use super::wire::{ContactBody, TenantBody};
use crate::address::Address;
use crate::diff::{Action, Kind, Op};
use crate::vendor::{Ctx, Step, Steps};

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
    /// `POST {prefix}/msptenants` (after a look-up when an earlier one may have landed).
    CreateTenant { address: Address, body: TenantBody },
    /// Adopt: record ownership of a live object, no vendor call.
    Own { address: Address },
    /// A change the vendor has no call for: the step fails with `message`.
    Refuse { address: Address, message: String },
    /// Drop a state record (gone from both sides), no vendor call.
    Forget { address: Address },
    /// `PUT {prefix}/msppartners/{custId}`, computed from the partner as it is then.
    PutPartner {
        address: Address,
        /// The partner's `custId`.
        partner_id: String,
        /// Declared customer keys the partner must hold.
        want: Vec<String>,
        /// Every declared customer key of the provider: the tenants mspform manages.
        managed: Vec<String>,
        stage: Stage,
    },
}

pub fn tenant_body(ctx: Ctx<'_, ExtremeCloud>, key: &str) -> Option<TenantBody> {
    let all = declared(ctx);
    let (c, e) = all.get(key)?;
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

/// What the step of a tenant change the vendor cannot make says.
pub fn no_update(fields: &[&str]) -> String {
    format!(
        "ExtremeCloud documents no tenant update; change {} in the portal (mspform will then see no difference)",
        fields.join(", ")
    )
}

/// Compiles one provider's actions into steps. `ids`: address → vendor id from
/// the refresh (partners and existing tenants).
pub fn compile(
    ctx: Ctx<'_, ExtremeCloud>,
    snap: &Snapshot,
    ids: &BTreeMap<Address, String>,
    actions: &[Action],
) -> Vec<Step<StepOp>> {
    let mut steps: Steps<StepOp> = Steps::default();
    let made = customer_steps(ctx, actions, &mut steps);
    let changes = partner_changes(ctx, snap, ids, actions, &mut steps);
    partner_puts(ctx, &changes, &made, &mut steps);
    steps.forgets(actions, |address| StepOp::Forget { address });
    steps.into_vec()
}

fn refuse(steps: &mut Steps<StepOp>, deps: Vec<usize>, label: &str, a: &Address, message: String) {
    steps.push(
        deps,
        vec![a.clone()],
        format!("{label} {a}"),
        StepOp::Refuse {
            address: a.clone(),
            message,
        },
    );
}

/// The customer actions; returns address → the step that makes it exist in
/// mspform's eyes (create or adopt).
fn customer_steps(
    ctx: Ctx<'_, ExtremeCloud>,
    actions: &[Action],
    steps: &mut Steps<StepOp>,
) -> BTreeMap<Address, usize> {
    let mut made = BTreeMap::new();
    for a in actions.iter().filter(|a| a.kind == Kind::Customer) {
        let address = &a.address;
        let changed: Vec<&str> = a
            .changes
            .iter()
            .map(|c| c.field.as_str())
            .filter(|f| *f != "admin_user")
            .collect();
        match a.op {
            Op::Create => {
                let Address::Customer(key) = address else {
                    continue;
                };
                let Some(body) = tenant_body(ctx, key) else {
                    continue;
                };
                let op = StepOp::CreateTenant {
                    address: address.clone(),
                    body,
                };
                let id = steps.push(vec![], vec![address.clone()], format!("create {address}"), op);
                made.insert(address.clone(), id);
            }
            Op::Adopt => {
                let op = StepOp::Own {
                    address: address.clone(),
                };
                let id = steps.push(vec![], vec![address.clone()], format!("adopt {address}"), op);
                made.insert(address.clone(), id);
                if !changed.is_empty() {
                    refuse(steps, vec![id], "update", address, no_update(&changed));
                }
            }
            Op::Update if !changed.is_empty() => {
                refuse(steps, vec![], "update", address, no_update(&changed));
            }
            Op::Update | Op::Forget => {}
            Op::Replace => refuse(
                steps,
                vec![],
                "replace",
                address,
                "ExtremeCloud documents no tenant delete, so a tenant cannot be replaced; change it in the portal".into(),
            ),
            Op::Delete => refuse(
                steps,
                vec![],
                "delete",
                address,
                format!(
                    "ExtremeCloud documents no tenant delete; delete it in the portal, or run `mspform state rm {address}` to stop managing it"
                ),
            ),
        }
    }
    made
}

/// What one partner action changes.
struct Change<'a> {
    action: &'a Action,
    partner_id: String,
    want: Vec<String>,
    removes: bool,
    /// Partner ids holding (now) a customer this one gains.
    contested: BTreeSet<String>,
    adds: Vec<String>,
    /// The step adopting the partner, if it is adopted.
    adopt: Option<usize>,
}

/// The partner actions: adoptions become steps here; tenant list changes are
/// returned, to be ordered by [`partner_puts`].
fn partner_changes<'a>(
    ctx: Ctx<'_, ExtremeCloud>,
    snap: &Snapshot,
    ids: &BTreeMap<Address, String>,
    actions: &'a [Action],
    steps: &mut Steps<StepOp>,
) -> Vec<Change<'a>> {
    let partners = declared_partners(ctx);
    let mut changes = Vec::new();
    for a in actions.iter().filter(|a| a.kind == Kind::Partner) {
        let partner = match &a.address {
            Address::Partner(key) => partners.get(key.as_str()),
            _ => None,
        };
        let (Some(partner), Some(partner_id)) = (partner, ids.get(&a.address)) else {
            if a.op != Op::Forget {
                refuse(
                    steps,
                    vec![],
                    "set customers of",
                    &a.address,
                    "the partner is not declared or was not found in the account; mspform does not create or delete partners".into(),
                );
            }
            continue;
        };
        let adopt = (a.op == Op::Adopt).then(|| {
            let op = StepOp::Own {
                address: a.address.clone(),
            };
            steps.push(
                vec![],
                vec![a.address.clone()],
                format!("adopt {}", a.address),
                op,
            )
        });
        let Some(change) = a.changed("customers") else {
            continue;
        };
        let (before, after) = change.string_sets();
        let adds: Vec<String> = after.difference(&before).cloned().collect();
        let contested = adds
            .iter()
            .filter_map(|k| ids.get(&Address::customer(k.as_str())))
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
    changes
}

/// The partner PUTs: first every PUT that takes tenants away (alone, or as the
/// partner's only PUT when what it adds is held by no other partner), then the
/// PUTs adding tenants that other partners give up in the first pass.
fn partner_puts(
    ctx: Ctx<'_, ExtremeCloud>,
    changes: &[Change<'_>],
    made: &BTreeMap<Address, usize>,
    steps: &mut Steps<StepOp>,
) {
    let managed: Vec<String> = declared(ctx).keys().map(|k| k.to_string()).collect();
    let put = |steps: &mut Steps<StepOp>, c: &Change<'_>, stage: Stage, mut deps: Vec<usize>| {
        deps.extend(c.adopt);
        if stage == Stage::Final {
            deps.extend(
                c.adds
                    .iter()
                    .filter_map(|k| made.get(&Address::customer(k.as_str()))),
            );
        }
        let address = &c.action.address;
        let label = match stage {
            Stage::Remove => format!("take customers out of {address}"),
            Stage::Final => format!("set customers of {address}"),
        };
        let op = StepOp::PutPartner {
            address: address.clone(),
            partner_id: c.partner_id.clone(),
            want: c.want.clone(),
            managed: managed.clone(),
            stage,
        };
        steps.push(deps, vec![address.clone()], label, op)
    };
    let mut first_pass: BTreeMap<&str, usize> = BTreeMap::new();
    for c in changes {
        if c.contested.is_empty() {
            first_pass.insert(&c.partner_id, put(steps, c, Stage::Final, vec![]));
        } else if c.removes {
            first_pass.insert(&c.partner_id, put(steps, c, Stage::Remove, vec![]));
        }
    }
    for c in changes.iter().filter(|c| !c.contested.is_empty()) {
        let deps: Vec<usize> = c
            .contested
            .iter()
            .filter_map(|holder| first_pass.get(holder.as_str()).copied())
            .chain(first_pass.get(c.partner_id.as_str()).copied())
            .collect();
        put(steps, c, Stage::Final, deps);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::vendor::Owned;

    /// (label, deps) of each step, for table-style assertions.
    fn shape(steps: &[Step<StepOp>]) -> Vec<(String, Vec<usize>)> {
        steps
            .iter()
            .map(|s| (s.label.clone(), s.deps.clone()))
            .collect()
    }

    fn compiled(toml: &str, snap: &Snapshot, owned_pairs: &[(&str, &str)]) -> Vec<Step<StepOp>> {
        let d = desired(toml);
        let owned = owned(owned_pairs);
        let (r, actions) = plan(&d, snap, &owned);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        compile(ctx(&d, &owned), snap, &r.ids, &actions)
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
            address: a("customer.gone"),
            kind: Kind::Customer,
            provider: "ext".into(),
            op: Op::Forget,
            changes: vec![],
            replace_because: vec![],
            note: None,
            defaults: Vec::new(),
        }];
        let d = desired(&toml);
        let steps = compile(ctx(&d, &Owned::new()), &snap, &BTreeMap::new(), &forget);
        assert_eq!(shape(&steps), s(&[("forget customer.gone", &[])]));
    }
}
