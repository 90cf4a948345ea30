//! `[partners.<key>]` → [`Partner`]: which declared customers a partner account
//! manages, for vendors whose capabilities have partners (and their roles).

use std::collections::BTreeMap;

use crate::model::Partner;

use super::provider::check_key;
use super::refs::Refs;
use super::source::{Node, Repeats, Sink, string_list};
use super::text::{did_you_mean, list};

pub(super) const KEYS: &[&str] = &["provider", "name", "role", "customers", "protect"];

/// The provider types whose vendors have partners.
fn partner_types() -> Vec<&'static str> {
    crate::vendors::schemas()
        .iter()
        .map(|s| s.info())
        .filter(|i| i.capabilities.partners)
        .map(|i| i.type_name)
        .collect()
}

/// A customer named in a partner, to find customers claimed by two partners
/// where the vendor allows only one.
pub(super) struct Claim<'a> {
    pub provider: String,
    pub partner: String,
    pub customer: String,
    pub node: Node<'a>,
}

pub(super) fn partner<'a>(
    node: &Node<'a>,
    refs: &Refs,
    claims: &mut Vec<Claim<'a>>,
    sink: &mut Sink,
) -> Option<Partner> {
    let before = sink.errors.len();
    check_key(node, "partner", sink);
    let table = node.table(sink, KEYS)?;
    let provider = table
        .required(sink, "provider", "provider = \"<provider key>\"")
        .and_then(|n| {
            let name = n.string(sink)?;
            if !refs.check_provider(&n, name, sink) {
                return None;
            }
            match refs.provider_info(name) {
                Some(info) if !info.capabilities.partners => {
                    n.error(
                        sink,
                        format!(
                            "provider `{name}` is `{}`, which has no partner assignments",
                            info.type_name
                        ),
                        Some(format!(
                            "partners exist on these provider types: {}",
                            list(partner_types())
                        )),
                    );
                    None
                }
                _ => Some(name),
            }
        });
    let info = provider.and_then(|p| refs.provider_info(p));
    let name = table.nonempty_string(sink, "name", "name = \"Partner One\"");
    let role = match (table.get("role"), info) {
        (None, _) => Some(None),
        (Some(n), None) => n.string(sink).map(|r| Some(r.to_string())),
        (Some(n), Some(info)) => match n.string(sink) {
            Some(_) if info.capabilities.partner_roles.is_empty() => {
                n.error_at_key(
                    sink,
                    format!("`role` does not apply to `{}` partners", info.type_name),
                    Some(format!(
                        "remove it: a partner of a `{}` provider has no role",
                        info.type_name
                    )),
                );
                None
            }
            Some(role) if info.capabilities.partner_roles.contains(&role) => {
                Some(Some(role.to_string()))
            }
            Some(other) => {
                let roles = info.capabilities.partner_roles.iter().copied();
                n.error(
                    sink,
                    format!("unknown role `{other}`"),
                    Some(format!(
                        "{}roles of `{}` partners: {}",
                        did_you_mean(other, roles.clone()),
                        info.type_name,
                        list(roles)
                    )),
                );
                None
            }
            None => None,
        },
    };
    let mut customers = Vec::new();
    match table.get("customers") {
        None => table.missing(sink, "customers", "customers = [\"acme\"]"),
        Some(n) => {
            if let Some(items) = string_list(&n, sink, Repeats::Error) {
                for (customer, item) in items {
                    if !refs.check_customer(&item, &customer, sink) {
                        continue;
                    }
                    // A customer whose own provider is undefined or of an unknown
                    // type is reported there, not again here.
                    let theirs = refs
                        .customers
                        .get(&customer)
                        .and_then(|c| c.provider.as_deref())
                        .filter(|p| refs.provider_info(p).is_some());
                    if let (Some(mine), Some(theirs)) = (provider, theirs)
                        && mine != theirs
                    {
                        item.error(
                            sink,
                            format!(
                                "customer `{customer}` is on provider `{theirs}`, not on this partner's provider `{mine}`"
                            ),
                            Some(
                                "a partner can manage only customers of its own MSP account: move the customer to that provider or remove it here".to_string(),
                            ),
                        );
                        continue;
                    }
                    if let Some(p) = provider {
                        claims.push(Claim {
                            provider: p.to_string(),
                            partner: node.name.to_string(),
                            customer: customer.clone(),
                            node: item.clone(),
                        });
                    }
                    customers.push(customer);
                }
            }
        }
    }
    customers.sort();
    if sink.errors.len() > before {
        return None;
    }
    Some(Partner {
        key: node.name.to_string(),
        provider: provider?.to_string(),
        name: name?.to_string(),
        role: role?,
        customers,
    })
}

/// Where the vendor lets a customer be managed by one partner only, a customer
/// named by two partners of one provider is reported at the later place.
pub(super) fn check_claims(mut claims: Vec<Claim<'_>>, refs: &Refs, sink: &mut Sink) {
    claims.sort_by_key(|c| c.node.position());
    let mut seen: BTreeMap<(&str, &str), &Claim<'_>> = BTreeMap::new();
    for c in &claims {
        if !refs
            .provider_info(&c.provider)
            .is_some_and(|i| i.capabilities.partner_exclusive)
        {
            continue;
        }
        match seen.get(&(c.provider.as_str(), c.customer.as_str())) {
            Some(first) if first.partner != c.partner => c.node.error(
                sink,
                format!(
                    "customer `{}` is already assigned to partner `{}` ({})",
                    c.customer,
                    first.partner,
                    first.node.place()
                ),
                Some(
                    "on this vendor a customer is managed by one partner at a time: keep it in one partner's list".to_string(),
                ),
            ),
            _ => {
                seen.insert((&c.provider, &c.customer), c);
            }
        }
    }
}
