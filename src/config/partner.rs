//! `[partners.<key>]` → [`Partner`]: which declared customers a partner account
//! manages (ExtremeCloud partners, RUCKUS One tech partners).

use std::collections::BTreeMap;

use crate::model::{Partner, PartnerRole};

use super::provider::check_key;
use super::refs::Refs;
use super::source::{Node, Repeats, Sink, string_list};

const KEYS: &[&str] = &["provider", "name", "role", "customers"];
const PARTNER_TYPES: &[&str] = &["extremecloud", "ruckus-one"];

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
        .required(sink, "provider", "provider = \"extreme\"")
        .and_then(|n| {
            let name = n.string(sink)?;
            if !refs.check_provider(&n, name, sink) {
                return None;
            }
            match refs.provider_type(name) {
                Some(ty) if !PARTNER_TYPES.contains(&ty) => {
                    n.error(
                        sink,
                        format!("provider `{name}` is `{ty}`, which has no partner assignments"),
                        Some(
                            "partners exist on extremecloud (partners) and ruckus-one (tech partners: integrators and installers) providers".to_string(),
                        ),
                    );
                    None
                }
                _ => Some(name),
            }
        });
    let ty = provider.and_then(|p| refs.provider_type(p));
    let name = table.nonempty_string(sink, "name", "name = \"Partner One\"");
    let role = match table.get("role") {
        None => Some(None),
        Some(n) => match (n.string(sink), ty) {
            (Some(_), Some("extremecloud")) => {
                n.error_at_key(
                    sink,
                    "`role` applies to ruckus-one tech partners only",
                    Some("remove it: an ExtremeCloud partner has no role".to_string()),
                );
                None
            }
            (Some("integrator"), _) => Some(Some(PartnerRole::Integrator)),
            (Some("installer"), _) => Some(Some(PartnerRole::Installer)),
            (Some(other), _) => {
                n.error(
                    sink,
                    format!("unknown role `{other}`"),
                    Some("write role = \"integrator\" or role = \"installer\"".to_string()),
                );
                None
            }
            (None, _) => None,
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
                        .filter(|p| refs.provider_type(p).is_some());
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

/// On ExtremeCloud a tenant is managed by at most one partner: a customer named
/// by two partners of one extremecloud provider is reported at the later place.
pub(super) fn check_claims(mut claims: Vec<Claim<'_>>, refs: &Refs, sink: &mut Sink) {
    claims.sort_by_key(|c| c.node.position());
    let mut seen: BTreeMap<(&str, &str), &Claim<'_>> = BTreeMap::new();
    for c in &claims {
        if refs.provider_type(&c.provider) != Some("extremecloud") {
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
                    "an ExtremeCloud tenant is managed by one partner at a time: keep it in one partner's list".to_string(),
                ),
            ),
            _ => {
                seen.insert((&c.provider, &c.customer), c);
            }
        }
    }
}
