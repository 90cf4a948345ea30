//! `[providers.<key>]`: what every provider has (`type`, `base_url`,
//! `ownership`), its vendor's schema for the rest (from the registry), and the
//! secret references every vendor's schema uses.

use crate::model::{Ownership, SecretRef, SecretRule};
use crate::vendor::config::{Builder, ProviderInput, Schema};

use super::source::{Node, Sink, Table};
use super::text::{did_you_mean, is_valid_key, list, suggest_key};
use toml::de::DeValue;

pub(super) const SECRET_KEYS: &[&str] = &["env", "file"];
/// Keys every provider type has.
pub(super) const COMMON_KEYS: &[&str] = &["type", "base_url", "ownership"];

/// Reports a key that does not match `[a-z0-9][a-z0-9_-]*`.
pub(crate) fn check_key(node: &Node<'_>, kind: &str, sink: &mut Sink) -> bool {
    if is_valid_key(node.name) {
        return true;
    }
    node.error_at_key(
        sink,
        format!("invalid {kind} key `{}`", node.name),
        Some(format!(
            "keys use lower-case letters, digits, `-` and `_`, and start with a letter or digit, e.g. `{}`",
            suggest_key(node.name)
        )),
    );
    false
}

/// What every provider has, and its vendor's builder collecting its customers.
pub(super) struct Parsed<'a> {
    pub schema: &'static dyn Schema,
    pub base_url: Option<String>,
    pub ownership: Option<Ownership>,
    pub builder: Box<dyn Builder<'a> + 'a>,
}

/// Parses `[providers.<key>]` with its vendor's schema. `None` when the type is
/// missing or unknown: then nothing else of it, nor its customers and partners,
/// is checked (one error, not a cascade against a guessed schema).
pub(super) fn provider<'a>(node: &'a Node<'a>, sink: &mut Sink) -> Option<Parsed<'a>> {
    check_key(node, "provider", sink);
    let table = node.table_any(sink)?;
    // The type decides the schema of everything else: without a known type,
    // nothing else is checked (against a guessed schema every other key would be
    // an error), and customers and partners of this provider are not either.
    let schema = provider_type(&table, sink)?;
    let base_url = table
        .nonempty_string(sink, "base_url", "base_url = \"https://…\"")
        .and_then(|url| base_url(url, &table.get("base_url")?, sink));
    let ownership = ownership(&table, sink);
    let allowed: Vec<&str> = COMMON_KEYS
        .iter()
        .chain(schema.provider_keys())
        .copied()
        .collect();
    table.check_unknown(sink, &allowed);
    let input = ProviderInput {
        key: node.name,
        node,
        table: &table,
    };
    let builder = schema.provider(&input, sink);
    Some(Parsed {
        schema,
        base_url,
        ownership,
        builder,
    })
}

/// The provider's `type`, when it is one of the supported types; otherwise one
/// error (missing, misspelt key, wrong type, or unknown type with a suggestion).
fn provider_type(table: &Table<'_>, sink: &mut Sink) -> Option<&'static dyn Schema> {
    if table.get("type").is_none() {
        table.check_misspelt(sink, &["type"]);
    }
    let example = format!("type = \"{}\"", supported().next().unwrap_or("…"));
    let ty = table.required(sink, "type", &example)?;
    let name = ty.string(sink)?;
    if let Some(schema) = schema_of(name) {
        return Some(schema);
    }
    ty.error(
        sink,
        format!("unknown provider type `{name}`"),
        Some(format!(
            "{}supported provider types: {}; nothing else of this provider, nor its customers and partners, is checked until the type is known",
            did_you_mean(name, supported()),
            list(supported())
        )),
    );
    None
}

/// The provider types mspform supports (the registry's).
fn supported() -> impl Iterator<Item = &'static str> + Clone {
    crate::vendors::schemas().iter().map(|s| s.info().type_name)
}

/// The schema of a provider type.
pub(super) fn schema_of(ty: &str) -> Option<&'static dyn Schema> {
    crate::vendors::schemas()
        .iter()
        .copied()
        .find(|s| s.info().type_name == ty)
}

fn ownership(table: &Table<'_>, sink: &mut Sink) -> Option<Ownership> {
    match table.get("ownership") {
        None => Some(Ownership::Owned),
        Some(n) => match n.string(sink) {
            Some("owned") => Some(Ownership::Owned),
            Some("exclusive") => Some(Ownership::Exclusive),
            Some(other) => {
                n.error(
                    sink,
                    format!("unknown ownership `{other}`"),
                    Some(
                        "write ownership = \"owned\" (delete only what mspform created or adopted) or ownership = \"exclusive\" (mspform owns the whole account)".to_string(),
                    ),
                );
                None
            }
            None => None,
        },
    }
}

fn base_url(url: &str, node: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let trimmed = url.trim_end_matches('/');
    match rest {
        Some(rest)
            if !rest.trim_end_matches('/').is_empty() && !url.contains(char::is_whitespace) =>
        {
            Some(trimmed.to_string())
        }
        _ => {
            node.error(
                sink,
                format!("`{url}` is not an http:// or https:// URL"),
                Some("write the vendor's API URL, e.g. base_url = \"https://api.example.com\" (each vendor's page in src/vendors/ gives its hosts)".to_string()),
            );
            None
        }
    }
}

/// The environment variable name suggested in help texts: `<PROVIDER>_<FIELD>`.
pub(crate) fn env_name(provider: &str, field: &str) -> String {
    format!("{provider}_{field}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `{ env = "NAME" }` or `{ file = "path" }`, recorded with its place so it is
/// checked before any vendor call. Never echoes the value: a string here may be
/// the secret itself. `demo` is the value the embedded simulator accepts here.
pub(crate) fn secret(
    node: &Node<'_>,
    provider: &str,
    demo: Option<&'static str>,
    sink: &mut Sink,
) -> Option<SecretRef> {
    secret_with(node, provider, None, demo, sink)
}

/// A secret whose value must meet a vendor's `rule` (checked when it is read).
pub(crate) fn secret_with(
    node: &Node<'_>,
    provider: &str,
    rule: Option<SecretRule>,
    demo: Option<&'static str>,
    sink: &mut Sink,
) -> Option<SecretRef> {
    let reference = secret_ref(node, provider, sink)?;
    sink.secret(node, reference.clone(), rule, demo);
    Some(reference)
}

fn secret_ref(node: &Node<'_>, provider: &str, sink: &mut Sink) -> Option<SecretRef> {
    let field = node.name;
    let example = format!("{field} = {{ env = \"{}\" }}", env_name(provider, field));
    match node.value.get_ref() {
        DeValue::String(_) => {
            node.error(
                sink,
                "secrets must be given by reference",
                Some(format!(
                    "{example} (or {field} = {{ file = \"path/to/secret\" }}); never write the secret itself in the file"
                )),
            );
            None
        }
        DeValue::Table(_) => {
            let table = node.table(sink, SECRET_KEYS)?;
            match (table.get("env"), table.get("file")) {
                (Some(env), Some(file)) => {
                    let second = if file.position() > env.position() {
                        file
                    } else {
                        env
                    };
                    second.error_at_key(
                        sink,
                        "give either `env` or `file`, not both",
                        Some(example),
                    );
                    None
                }
                (None, None) => {
                    node.error_at_key(
                        sink,
                        "a secret reference needs `env` or `file`",
                        Some(example),
                    );
                    None
                }
                (Some(env), None) => {
                    let name = env.nonempty_string(sink)?;
                    Some(SecretRef::Env(name.to_string()))
                }
                (None, Some(file)) => {
                    let path = file.nonempty_string(sink)?;
                    Some(SecretRef::File(node.src.dir().join(path)))
                }
            }
        }
        _ => {
            node.type_error(sink, "a table", Some(example));
            None
        }
    }
}
