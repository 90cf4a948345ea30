//! Stable addresses: how files, plans, state and reports name an object —
//! `customer.X`, `site.X/Y`, `device.SERIAL`, `partner.X` — parsed once into
//! [`Address`], with a kind, instead of strings passed around. A live object no
//! file declares is named by what the vendor calls it (`customer["Name"]`,
//! `site.X/["Name"]`, `partner.X/customer["Name"]`). Pure: no I/O.
//!
//! The text form is the one users type (`--target`), plans print and state keys
//! hold; [`Address`] serializes as that text, so the plan JSON is unchanged.
//! [`AddressGlob`] matches that text with a shell-style glob (`customer.acme-*`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::diff::Kind;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Address {
    /// `customer.<key>`
    Customer(String),
    /// `site.<customer key>/<site key>`
    Site(String, String),
    /// `device.<serial>`
    Device(String),
    /// `partner.<key>`
    Partner(String),
    /// A live object that no file declares, named by its vendor name; `parent`
    /// is the declared object it sits in (a customer's site, a partner's customer).
    Unmanaged {
        kind: Kind,
        name: String,
        parent: Option<Box<Address>>,
    },
}

impl Address {
    pub fn customer(key: impl Into<String>) -> Address {
        Address::Customer(key.into())
    }

    pub fn site(customer: impl Into<String>, site: impl Into<String>) -> Address {
        Address::Site(customer.into(), site.into())
    }

    pub fn device(serial: impl Into<String>) -> Address {
        Address::Device(serial.into())
    }

    pub fn partner(key: impl Into<String>) -> Address {
        Address::Partner(key.into())
    }

    /// A live object of `kind` nobody declared, by its vendor name.
    pub fn unmanaged(kind: Kind, name: impl Into<String>) -> Address {
        Address::Unmanaged {
            kind,
            name: name.into(),
            parent: None,
        }
    }

    /// An undeclared object inside a declared one (`site.X/["Name"]`,
    /// `partner.X/customer["Name"]`).
    pub fn unmanaged_in(parent: Address, kind: Kind, name: impl Into<String>) -> Address {
        Address::Unmanaged {
            kind,
            name: name.into(),
            parent: Some(Box::new(parent)),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Address::Customer(_) => Kind::Customer,
            Address::Site(..) => Kind::Site,
            Address::Device(_) => Kind::Device,
            Address::Partner(_) => Kind::Partner,
            Address::Unmanaged { kind, .. } => *kind,
        }
    }

    /// The key (customer, partner), serial (device) or site key this names.
    pub fn key(&self) -> &str {
        match self {
            Address::Customer(k) | Address::Device(k) | Address::Partner(k) => k,
            Address::Site(_, s) => s,
            Address::Unmanaged { name, .. } => name,
        }
    }

    /// The customer key a customer or one of its sites belongs to.
    pub fn customer_key(&self) -> Option<&str> {
        match self {
            Address::Customer(k) | Address::Site(k, _) => Some(k),
            Address::Unmanaged {
                parent: Some(p), ..
            } => p.customer_key(),
            _ => None,
        }
    }

    /// Whether a file declares (or could declare) this object: not unmanaged.
    pub fn is_declared(&self) -> bool {
        !matches!(self, Address::Unmanaged { .. })
    }

    /// Whether this address is `other` or lies inside it (`site.X/Y` is inside
    /// `customer.X`; `partner.X/customer["N"]` inside `partner.X`).
    pub fn is_within(&self, other: &Address) -> bool {
        if self == other {
            return true;
        }
        match (self, other) {
            (Address::Site(c, _), Address::Customer(k)) => c == k,
            (
                Address::Unmanaged {
                    parent: Some(p), ..
                },
                _,
            ) => p.is_within(other),
            _ => false,
        }
    }
}

fn quoted(name: &str) -> String {
    format!("[{}]", serde_json::Value::String(name.to_string()))
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Customer => "customer",
        Kind::Site => "site",
        Kind::Device => "device",
        Kind::Partner => "partner",
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Customer(k) => write!(f, "customer.{k}"),
            Address::Site(c, s) => write!(f, "site.{c}/{s}"),
            Address::Device(s) => write!(f, "device.{s}"),
            Address::Partner(k) => write!(f, "partner.{k}"),
            Address::Unmanaged { kind, name, parent } => match parent.as_deref() {
                // A customer's undeclared site reads as a site of that customer.
                Some(Address::Customer(c)) if *kind == Kind::Site => {
                    write!(f, "site.{c}/{}", quoted(name))
                }
                Some(p) => write!(f, "{p}/{}{}", kind_word(*kind), quoted(name)),
                None => write!(f, "{}{}", kind_word(*kind), quoted(name)),
            },
        }
    }
}

/// An address equals the text it is written as (`customer.acme`).
impl PartialEq<str> for Address {
    fn eq(&self, other: &str) -> bool {
        other.parse::<Address>().is_ok_and(|a| a == *self)
    }
}

impl PartialEq<&str> for Address {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl PartialEq<String> for Address {
    fn eq(&self, other: &String) -> bool {
        *self == **other
    }
}

/// Why a text is not an address; says what the forms are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an address: use customer.KEY, site.CUSTOMER/SITE, device.SERIAL or partner.KEY"
)]
pub struct BadAddress(pub String);

fn kind_of_word(word: &str) -> Option<Kind> {
    Some(match word {
        "customer" => Kind::Customer,
        "site" => Kind::Site,
        "device" => Kind::Device,
        "partner" => Kind::Partner,
        _ => return None,
    })
}

/// `["Name"]` → `Name`.
fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    match serde_json::from_str::<serde_json::Value>(inner).ok()? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    }
}

impl FromStr for Address {
    type Err = BadAddress;

    fn from_str(text: &str) -> Result<Address, BadAddress> {
        let bad = || BadAddress(text.to_string());
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        // An unmanaged object: `kind["…"]`, possibly under a declared parent. The
        // name is JSON-quoted, and keys never hold `[`, so the first `[` opens it.
        if let Some(open) = text.find('[') {
            let (prefix, name) = (&text[..open], unquote(&text[open..]).ok_or_else(bad)?);
            if let Some(kind) = kind_of_word(prefix) {
                return Ok(Address::unmanaged(kind, name));
            }
            // `site.X/["…"]`: an undeclared site of a declared customer.
            if let Some(customer) = prefix
                .strip_prefix("site.")
                .and_then(|p| p.strip_suffix('/'))
            {
                if customer.is_empty() || customer.contains('/') {
                    return Err(bad());
                }
                return Ok(Address::unmanaged_in(
                    Address::customer(customer),
                    Kind::Site,
                    name,
                ));
            }
            // `partner.X/customer["…"]`
            let (parent, word) = prefix.rsplit_once('/').ok_or_else(bad)?;
            let parent: Address = parent.parse().map_err(|_| bad())?;
            let kind = kind_of_word(word).ok_or_else(bad)?;
            if !parent.is_declared() {
                return Err(bad());
            }
            return Ok(Address::unmanaged_in(parent, kind, name));
        }
        let (word, rest) = text.split_once('.').ok_or_else(bad)?;
        match word {
            "customer" => non_empty(rest).map(Address::Customer).ok_or_else(bad),
            "device" => non_empty(rest).map(Address::Device).ok_or_else(bad),
            "partner" => non_empty(rest).map(Address::Partner).ok_or_else(bad),
            "site" => {
                let (c, s) = rest.split_once('/').ok_or_else(bad)?;
                match (non_empty(c), non_empty(s)) {
                    (Some(c), Some(s)) => Ok(Address::Site(c, s)),
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Address, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A glob over the text of addresses (`customer.acme-*`, `site.acme/*`,
/// `device.AP00*`): `*` any run of characters (`/` too), `?` one character,
/// `[abc]` one of a set, `{a,b}` either. Case-sensitive, as addresses are.
#[derive(Clone)]
pub struct AddressGlob {
    text: String,
    matcher: globset::GlobMatcher,
}

impl AddressGlob {
    /// Parses a glob; the error says what is wrong in words.
    pub fn new(text: &str) -> Result<AddressGlob, String> {
        let kind_part = text.split('.').next().unwrap_or_default();
        let names_a_kind = if kind_part.contains(['*', '?', '[', '{']) {
            // A glob in the kind (`*`, `{customer,partner}`) must match one.
            globset::Glob::new(kind_part).is_ok_and(|g| {
                let m = g.compile_matcher();
                ["customer", "site", "device", "partner"]
                    .iter()
                    .any(|w| m.is_match(w))
            })
        } else {
            kind_of_word(kind_part).is_some() && text.contains('.')
        };
        if !names_a_kind {
            return Err(format!(
                "`{text}` does not start with a kind of object: addresses are customer.KEY, site.CUSTOMER/SITE, device.SERIAL or partner.KEY"
            ));
        }
        let glob = globset::GlobBuilder::new(text)
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("`{text}` is not a valid glob: {}", e.kind()))?;
        Ok(AddressGlob {
            text: text.to_string(),
            matcher: glob.compile_matcher(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, address: &Address) -> bool {
        self.matcher.is_match(address.to_string())
    }
}

impl fmt::Debug for AddressGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AddressGlob({:?})", self.text)
    }
}

impl fmt::Display for AddressGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_address_texts() {
        let g = AddressGlob::new("customer.acme-*").unwrap();
        assert!(g.matches(&Address::customer("acme-retail")));
        assert!(g.matches(&Address::customer("acme-")));
        assert!(!g.matches(&Address::customer("acme")));
        assert!(
            !g.matches(&Address::customer("Acme-retail")),
            "case-sensitive"
        );
        assert!(!g.matches(&Address::site("acme-retail", "hq")));
        let sites = AddressGlob::new("site.acme/*").unwrap();
        assert!(sites.matches(&Address::site("acme", "hq")));
        assert!(!sites.matches(&Address::customer("acme")));
        let any = AddressGlob::new("*").unwrap();
        assert!(any.matches(&Address::partner("p")));
        let set = AddressGlob::new("{customer,partner}.north*").unwrap();
        assert!(set.matches(&Address::partner("northwind")));
        assert!(set.matches(&Address::customer("north")));
        assert!(!set.matches(&Address::device("north1")));
        let one = AddressGlob::new("device.AP00000?").unwrap();
        assert!(one.matches(&Address::device("AP000001")));
        assert!(!one.matches(&Address::device("AP0000012")));
    }

    #[test]
    fn a_glob_that_names_no_kind_or_does_not_parse_is_refused() {
        for text in ["custmer.acme-*", "acme-*", "customer", ""] {
            let err = AddressGlob::new(text).unwrap_err();
            assert!(err.contains("customer.KEY"), "{text}: {err}");
        }
        let err = AddressGlob::new("customer.[acme").unwrap_err();
        assert!(err.contains("not a valid glob"), "{err}");
    }

    #[test]
    fn every_form_prints_and_parses_back() {
        let forms = [
            Address::customer("coffee-shop"),
            Address::site("coffee-shop", "santa-clara"),
            Address::device("AP0000001"),
            Address::partner("northwind"),
            Address::unmanaged(Kind::Customer, "Old Mill \"Hotel\""),
            Address::unmanaged_in(Address::customer("acme"), Kind::Site, "Back Office"),
            Address::unmanaged_in(Address::partner("p1"), Kind::Customer, "Stranger"),
        ];
        let texts = [
            "customer.coffee-shop",
            "site.coffee-shop/santa-clara",
            "device.AP0000001",
            "partner.northwind",
            "customer[\"Old Mill \\\"Hotel\\\"\"]",
            "site.acme/[\"Back Office\"]",
            "partner.p1/customer[\"Stranger\"]",
        ];
        for (address, text) in forms.iter().zip(texts) {
            assert_eq!(address.to_string(), text);
            assert_eq!(text.parse::<Address>().as_ref(), Ok(address), "{text}");
        }
    }

    #[test]
    fn names_with_slashes_and_brackets_survive() {
        let a = Address::unmanaged_in(Address::partner("p"), Kind::Customer, "a/b [c] \"d\"");
        assert_eq!(a.to_string().parse::<Address>(), Ok(a));
    }

    #[test]
    fn malformed_text_is_refused_with_the_forms() {
        for text in [
            "",
            "customer.",
            "site.acme",
            "site./x",
            "cust.acme",
            "customer[nope]",
            "x/customer[\"a\"]",
        ] {
            let err = text.parse::<Address>().unwrap_err();
            assert!(err.to_string().contains("customer.KEY"), "{text}: {err}");
        }
    }

    #[test]
    fn kinds_keys_and_nesting() {
        let site = Address::site("acme", "hq");
        assert_eq!(site.kind(), Kind::Site);
        assert_eq!(site.key(), "hq");
        assert_eq!(site.customer_key(), Some("acme"));
        assert!(site.is_within(&Address::customer("acme")));
        assert!(!site.is_within(&Address::customer("acme-2")));
        let member = Address::unmanaged_in(Address::partner("p"), Kind::Customer, "N");
        assert!(member.is_within(&Address::partner("p")));
        assert!(!member.is_declared());
    }
}
