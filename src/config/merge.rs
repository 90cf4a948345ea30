//! Merges the top-level tables of every file into one set of providers,
//! customers and devices, reporting keys defined twice (also across files, and
//! device serials differing only in case) at the second place, naming the first.
//! `[[ignore]]` rules of every file are taken in load order; `[safety]` may be
//! defined in one file only.

use std::collections::BTreeMap;

use toml::de::DeTable;

use super::source::{Node, Sink, SourceFile, Table};
use super::text::list;

pub(super) const ROOT_KEYS: &[&str] = &[
    "providers",
    "customers",
    "devices",
    "partners",
    "ignore",
    "safety",
];
/// The root keys holding one table of definitions each.
const SECTIONS: usize = 4;

/// Every definition, by key; each key defined once.
#[derive(Default)]
pub(super) struct Merged<'a> {
    pub providers: BTreeMap<String, Node<'a>>,
    pub customers: BTreeMap<String, Node<'a>>,
    pub devices: BTreeMap<String, Node<'a>>,
    pub partners: BTreeMap<String, Node<'a>>,
    /// `[[ignore]]` (the array of each file), in load order.
    pub ignore: Vec<Node<'a>>,
    /// `[safety]`, defined once.
    pub safety: Option<Node<'a>>,
}

impl Merged<'_> {
    /// Nothing is defined at all (no provider, customer, device or partner).
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
            && self.customers.is_empty()
            && self.devices.is_empty()
            && self.partners.is_empty()
    }
}

/// `files` in load order.
pub(super) fn merge<'a>(
    files: &[(&'a SourceFile, &'a DeTable<'a>)],
    sink: &mut Sink,
) -> Merged<'a> {
    let mut sections: [Vec<(String, Node<'a>)>; SECTIONS] = Default::default();
    let mut ignore = Vec::new();
    let mut safety: Option<Node<'a>> = None;
    for (src, table) in files {
        let root = Table {
            src,
            path: String::new(),
            key_span: 0..0,
            table,
        };
        check_root_keys(&root, sink);
        if let Some(rules) = root.get("ignore") {
            ignore.push(rules);
        }
        if let Some(node) = root.get("safety") {
            match &safety {
                Some(first) => report_twice(&node, first, "`[safety]`", sink),
                None => safety = Some(node),
            }
        }
        for (slot, name) in ROOT_KEYS.iter().take(SECTIONS).enumerate() {
            let Some(section) = root.get(name) else {
                continue;
            };
            let Some(section) = section.table_any(sink) else {
                continue;
            };
            for entry in section.entries() {
                let key = entry.name.to_string();
                sections[slot].push((key, entry));
            }
        }
    }
    let [providers, customers, devices, partners] = sections;
    Merged {
        providers: insert_all(providers, "provider", sink),
        customers: insert_all(customers, "customer", sink),
        devices: insert_devices(devices, sink),
        partners: insert_all(partners, "partner", sink),
        ignore,
        safety,
    }
}

fn check_root_keys(root: &Table<'_>, sink: &mut Sink) {
    for entry in root.entries() {
        let key = entry.name;
        if ROOT_KEYS.contains(&key) {
            continue;
        }
        let help = format!(
            "{}allowed top-level tables: {}",
            super::text::did_you_mean(key, ROOT_KEYS.iter().copied()),
            list(ROOT_KEYS.iter().copied())
        );
        entry.error_at_key(sink, format!("unknown key `{key}`"), Some(help));
    }
}

fn sorted(mut entries: Vec<(String, Node<'_>)>) -> Vec<(String, Node<'_>)> {
    entries.sort_by_key(|(_, node)| node.position());
    entries
}

fn insert_all<'a>(
    entries: Vec<(String, Node<'a>)>,
    kind: &str,
    sink: &mut Sink,
) -> BTreeMap<String, Node<'a>> {
    let mut out: BTreeMap<String, Node<'a>> = BTreeMap::new();
    for (key, node) in sorted(entries) {
        if let Some(first) = out.get(&key) {
            report_twice(&node, first, kind, sink);
            continue;
        }
        out.insert(key, node);
    }
    out
}

fn report_twice(node: &Node<'_>, first: &Node<'_>, kind: &str, sink: &mut Sink) {
    node.error_at_key(
        sink,
        format!("`{}` is already defined at {}", node.path, first.place()),
        Some(format!(
            "define each {kind} once, in one file: merge the two definitions or remove one"
        )),
    );
}

fn insert_devices<'a>(
    entries: Vec<(String, Node<'a>)>,
    sink: &mut Sink,
) -> BTreeMap<String, Node<'a>> {
    let mut out: BTreeMap<String, Node<'a>> = BTreeMap::new();
    let mut folded: BTreeMap<String, String> = BTreeMap::new();
    for (serial, node) in sorted(entries) {
        if let Some(first) = out.get(&serial) {
            report_twice(&node, first, "device", sink);
            continue;
        }
        if let Some(other) = folded.get(&serial.to_ascii_uppercase())
            && let Some(first) = out.get(other)
        {
            node.error_at_key(
                sink,
                format!(
                    "device serial `{serial}` differs only in case from `{other}` defined at {}",
                    first.place()
                ),
                Some(format!(
                    "a serial names one device: keep one entry, written as the vendor writes it (`{}`?)",
                    serial.to_ascii_uppercase()
                )),
            );
            continue;
        }
        folded.insert(serial.to_ascii_uppercase(), serial.clone());
        out.insert(serial, node);
    }
    out
}
