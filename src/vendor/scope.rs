//! What a refresh reads. Everything, by default; only some objects for a
//! targeted plan (`--target`, `--exclude`) or for re-checking a saved plan's
//! inputs; and, for a rolling drift check, which customers get their
//! per-customer ("deep") reads this time. Pure data: vendors consult it to
//! narrow their calls, the engine to narrow the diff.

use std::collections::BTreeSet;

use crate::address::Address;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Only these objects (closed under what they depend on); `None`: all.
    only: Option<BTreeSet<Address>>,
    /// Customers whose per-customer parts are read; `None`: every one read.
    deep: Option<BTreeSet<String>>,
}

impl Scope {
    /// Read everything.
    pub const fn everything() -> Scope {
        Scope {
            only: None,
            deep: None,
        }
    }

    /// Read only these objects (the caller has added what they depend on).
    pub fn only(addresses: BTreeSet<Address>) -> Scope {
        Scope {
            only: Some(addresses),
            deep: None,
        }
    }

    /// This scope, narrowed to these objects.
    pub fn restricted(mut self, addresses: BTreeSet<Address>) -> Scope {
        self.only = Some(addresses);
        self
    }

    /// Read the per-customer parts of these customers only.
    pub fn with_deep(mut self, customers: BTreeSet<String>) -> Scope {
        self.deep = Some(customers);
        self
    }

    /// Nothing is left out.
    pub fn is_everything(&self) -> bool {
        self.only.is_none() && self.deep.is_none()
    }

    /// The objects read, when not everything.
    pub fn addresses(&self) -> Option<&BTreeSet<Address>> {
        self.only.as_ref()
    }

    /// Whether the object at `address` is read. The set is exact: the engine
    /// has already added what lies inside a targeted object (a customer's
    /// declared sites and devices) and what it depends on. An object nobody
    /// declares is read when the object it sits in is.
    pub fn wants(&self, address: &Address) -> bool {
        match (&self.only, address) {
            (None, _) => true,
            (
                Some(_),
                Address::Unmanaged {
                    parent: Some(parent),
                    ..
                },
            ) => self.wants(parent),
            (Some(_), Address::Unmanaged { parent: None, .. }) => false,
            (Some(set), address) => set.contains(address),
        }
    }

    /// Whether customer `key` itself is read.
    pub fn wants_customer(&self, key: &str) -> bool {
        self.wants(&Address::customer(key))
    }

    /// Whether the sites of customer `key` are read (always, unless targeted:
    /// then when one of them is wanted).
    pub fn wants_sites(&self, key: &str) -> bool {
        match &self.only {
            None => true,
            Some(set) => set
                .iter()
                .any(|a| matches!(a, Address::Site(c, _) if c == key)),
        }
    }

    /// Whether customer `key`'s per-customer reads (its site list, its
    /// auto-licence setting: whatever the API only answers one customer at a
    /// time) are made this run. A rolling drift check makes them for a slice
    /// of the customers per run; every other run makes them for all.
    pub fn deep(&self, key: &str) -> bool {
        self.deep.as_ref().is_none_or(|d| d.contains(key))
    }

    /// The customers whose deep parts are read, when not all.
    pub fn deep_customers(&self) -> Option<&BTreeSet<String>> {
        self.deep.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_wants_everything() {
        let s = Scope::everything();
        assert!(s.is_everything());
        assert!(s.wants(&Address::device("X")) && s.deep("acme"));
    }

    #[test]
    fn only_wants_exactly_its_objects() {
        let s = Scope::only(BTreeSet::from([
            Address::customer("acme"),
            Address::site("acme", "hq"),
            Address::device("AP1"),
        ]));
        assert!(s.wants(&Address::customer("acme")));
        assert!(s.wants(&Address::site("acme", "hq")));
        assert!(!s.wants(&Address::site("acme", "branch")));
        assert!(s.wants_sites("acme") && !s.wants_sites("other"));
        assert!(s.wants(&Address::unmanaged_in(
            Address::customer("acme"),
            crate::diff::Kind::Site,
            "Depot"
        )));
        assert!(!s.wants(&Address::unmanaged(crate::diff::Kind::Customer, "Stray")));
        assert!(s.wants(&Address::device("AP1")));
        assert!(!s.wants(&Address::device("AP2")));
        assert!(!s.wants(&Address::customer("other")));
        assert!(s.wants_customer("acme") && !s.wants_customer("other"));
    }

    #[test]
    fn deep_reads_are_a_subset_of_the_customers_read() {
        let s = Scope::everything().with_deep(BTreeSet::from(["acme".to_string()]));
        assert!(!s.is_everything());
        assert!(s.deep("acme") && !s.deep("other"));
        assert!(Scope::only(BTreeSet::new()).deep("other"));
        assert!(s.wants_customer("other"), "its cheap parts are still read");
    }
}
