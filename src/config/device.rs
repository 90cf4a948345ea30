//! `[devices.<SERIAL>]` → [`Device`].

use crate::model::Device;

use super::refs::Refs;
use super::source::{Node, Repeats, Sink, string_list};
use super::text::{is_valid_serial, list, normalize_mac};

pub(super) const KEYS: &[&str] = &["customer", "mac", "site", "licenses"];

/// A normalised MAC address and where it was written, to find MACs used twice.
pub(super) struct MacUse<'a> {
    pub mac: String,
    pub serial: String,
    pub node: Node<'a>,
}

pub(super) fn device<'a>(
    node: &Node<'a>,
    refs: &Refs,
    macs: &mut Vec<MacUse<'a>>,
    sink: &mut Sink,
) -> Option<Device> {
    let before = sink.errors.len();
    let serial = node.name;
    if !is_valid_serial(serial) {
        node.error_at_key(
            sink,
            format!("invalid device serial `{serial}`"),
            Some("the key of a device is its serial number: letters and digits only, e.g. [devices.BT000001]".to_string()),
        );
    }
    let table = node.table(sink, KEYS)?;
    let customer = table
        .required(sink, "customer", "customer = \"coffee-shop\"")
        .and_then(|n| {
            let name = n.string(sink)?;
            if !refs.check_customer(&n, name, sink) {
                return None;
            }
            match refs.customer_info(name) {
                Some(info) if !info.capabilities.devices => {
                    n.error(
                        sink,
                        format!(
                            "customer `{name}` is on a `{}` provider, which has no device API",
                            info.type_name
                        ),
                        Some(format!(
                            "devices can be assigned to customers of these provider types only: {}",
                            list(
                                crate::vendors::schemas()
                                    .iter()
                                    .map(|s| s.info())
                                    .filter(|i| i.capabilities.devices)
                                    .map(|i| i.type_name)
                            )
                        )),
                    );
                    None
                }
                _ => Some(name),
            }
        });
    let mac = table.required(sink, "mac", "mac = \"00:11:AA:BB:33:CC\"").and_then(|n| {
        let written = n.string(sink)?;
        match normalize_mac(written) {
            Some(mac) => {
                macs.push(MacUse {
                    mac: mac.clone(),
                    serial: serial.to_string(),
                    node: n.clone(),
                });
                Some(mac)
            }
            None => {
                n.error(
                    sink,
                    format!("`{written}` is not a MAC address"),
                    Some("write six pairs of hex digits, e.g. mac = \"00:11:AA:BB:33:CC\" (`-` or no separators also work)".to_string()),
                );
                None
            }
        }
    });
    let site = table.get("site").and_then(|n| {
        let site = n.nonempty_string(sink)?;
        if let Some(customer) = customer {
            refs.check_site(customer, &n, site, sink);
        }
        Some(site)
    });
    let mut licenses = Vec::new();
    if let Some(n) = table.get("licenses")
        && let Some(items) = string_list(&n, sink, Repeats::Drop)
    {
        let provider = customer
            .and_then(|c| refs.customers.get(c))
            .and_then(|c| c.provider.as_deref());
        if let Some(provider) = provider {
            refs.check_licenses(provider, &items, sink);
        }
        licenses = items.into_iter().map(|(s, _)| s).collect();
        licenses.sort();
    }
    if sink.errors.len() > before {
        return None;
    }
    Some(Device {
        serial: serial.to_string(),
        mac: mac?,
        customer: customer?.to_string(),
        site: site.map(str::to_string),
        licenses,
    })
}

/// Reports a MAC address used by two devices, at the later one.
pub(super) fn check_unique_macs(mut macs: Vec<MacUse<'_>>, sink: &mut Sink) {
    macs.sort_by_key(|u| u.node.position());
    let mut seen: std::collections::BTreeMap<&str, &MacUse<'_>> = Default::default();
    for u in &macs {
        match seen.get(u.mac.as_str()) {
            Some(first) => u.node.error(
                sink,
                format!(
                    "MAC address {} is also used by device `{}` ({})",
                    u.mac,
                    first.serial,
                    first.node.src.place(first.node.value_start())
                ),
                Some(
                    "each device has its own MAC address: check the serial and MAC of both devices"
                        .to_string(),
                ),
            ),
            None => {
                seen.insert(&u.mac, u);
            }
        }
    }
}
