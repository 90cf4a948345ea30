//! What `import` gets from a vendor: live customers (with their sites and
//! devices) and partner assignments as configuration values, in the vendor's
//! own keys. The core gives them keys and writes the files (`crate::import`).

use super::{Spec, Vendor};
use crate::model::Desired;

/// What a vendor's import sees.
pub struct ImportCtx<'a, V: Vendor> {
    /// The key in `[providers.<key>]`.
    pub key: &'a str,
    pub spec: &'a Spec<V>,
    pub desired: &'a Desired,
    /// Only customers with these exact vendor names (all when empty).
    pub names: &'a [String],
}

/// A configuration value as import writes it: inline tables keep their order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<Value>),
    Table(Vec<(String, Value)>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Float(n)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Str(s) => write!(f, "{}", toml::Value::String(s.clone())),
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(n) => write!(f, "{}", toml::Value::Float(*n)),
            Value::Bool(b) => write!(f, "{b}"),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", parts.join(", "))
            }
            Value::Table(entries) => {
                let parts: Vec<String> =
                    entries.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                write!(f, "{{ {} }}", parts.join(", "))
            }
        }
    }
}

/// One `key = value` line, optionally with a comment after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub key: String,
    pub value: Value,
    pub comment: Option<String>,
}

impl Field {
    pub fn new(key: &str, value: impl Into<Value>) -> Field {
        Field {
            key: key.to_string(),
            value: value.into(),
            comment: None,
        }
    }

    /// A `key = value` with a comment, e.g. what could not be read.
    pub fn noted(key: &str, value: impl Into<Value>, comment: &str) -> Field {
        Field {
            comment: Some(comment.to_string()),
            ..Field::new(key, value)
        }
    }

    /// A string list.
    pub fn list(key: &str, items: &[String]) -> Field {
        Field::new(
            key,
            Value::List(items.iter().cloned().map(Value::Str).collect()),
        )
    }

    /// An inline table of string values, in the order given.
    pub fn table(key: &str, entries: &[(&str, &str)]) -> Field {
        Field::new(
            key,
            Value::Table(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), Value::Str(v.to_string())))
                    .collect(),
            ),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedSite {
    pub name: String,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedDevice {
    pub serial: String,
    /// Beyond `customer`.
    pub fields: Vec<Field>,
    /// Said above the device table (e.g. what could not be read).
    pub comments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedCustomer {
    /// The vendor's name of the customer (`name = …`; the key is made from it).
    pub name: String,
    /// Beyond `provider` and `name`.
    pub fields: Vec<Field>,
    /// Said at the top of the customer's file.
    pub comments: Vec<String>,
    pub sites: Vec<ImportedSite>,
    pub devices: Vec<ImportedDevice>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedPartner {
    /// The partner's account name at the vendor.
    pub name: String,
    /// The partner's role, where the vendor has roles.
    pub role: Option<String>,
    /// Vendor names of the imported customers it manages.
    pub customers: Vec<String>,
}

/// Everything one provider's import read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Imported {
    pub customers: Vec<ImportedCustomer>,
    pub partners: Vec<ImportedPartner>,
}
