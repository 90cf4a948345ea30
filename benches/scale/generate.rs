//! The generated portfolio of one vendor: the configuration files (one per
//! customer, a providers file, a partners file), the simulator account that matches
//! them (`mspform::sim::scale`), the edit of the saved-plan cycle, and the portal
//! edit of the drift phase. Pure text and data; the runner writes the files.
//!
//! Per vendor, N customers with what that vendor manages:
//! - Aruba: 2 sites and 10 access points each (5 per site), one licence per AP;
//!   every tenth customer (index % 10 == 5) declares `auto_license`.
//! - ExtremeCloud: N tenants, spread over max(2, ceil(N/25)) partners in blocks.
//! - RUCKUS One: N ECs with an administrator, spread over max(2, ceil(N/25)) tech
//!   partners (integrators and installers in turn).
//! - AudioCodes: N Essentials customers, each with its own Microsoft tenant.
//!
//! The cycle edits every customer with index % 10 == 0: the Aruba description,
//! the ExtremeCloud partner (moved to the next one), the RUCKUS One phone, the
//! AudioCodes full name (a replacement: the vendor has no update).

use std::fmt::Write as _;

use mspform::sim::scale::{self, GeneratedAccount};
use mspform::sim::{ArubaEdit, AudiocodesEdit, ExtremeEdit, RuckusEdit};
use serde_json::json;

use crate::options::Vendor;

pub const SITES_PER_CUSTOMER: usize = 2;
pub const APS_PER_CUSTOMER: usize = 10;
pub const SERVICE: &str = "FOUNDATION_AP";
/// Customers per partner (ExtremeCloud partners, RUCKUS One tech partners).
pub const CUSTOMERS_PER_PARTNER: usize = 25;

/// The counts the minimum formulas need.
#[derive(Clone, Debug)]
pub struct Shape {
    pub vendor: Vendor,
    pub n: usize,
    pub sites: usize,
    pub devices: usize,
    pub devices_per_site: usize,
    pub partners: usize,
    /// Aruba customers that declare `auto_license`.
    pub auto_license: usize,
    /// Customers the cycle edits.
    pub edited: usize,
    /// Partners whose customer list the cycle changes (ExtremeCloud).
    pub partners_changed: usize,
}

pub struct Portfolio {
    pub shape: Shape,
    width: usize,
    sim_url: String,
    poll_ms: u64,
}

fn is_edited(i: usize) -> bool {
    i.is_multiple_of(10)
}

fn declares_auto_license(i: usize) -> bool {
    i % 10 == 5
}

impl Portfolio {
    pub fn new(vendor: Vendor, n: usize, sim_url: &str, poll_ms: u64) -> Portfolio {
        let partners = match vendor {
            Vendor::Extreme | Vendor::Ruckus => n.div_ceil(CUSTOMERS_PER_PARTNER).max(2),
            _ => 0,
        };
        let (sites, devices) = match vendor {
            Vendor::Aruba => (n * SITES_PER_CUSTOMER, n * APS_PER_CUSTOMER),
            _ => (0, 0),
        };
        let mut p = Portfolio {
            shape: Shape {
                vendor,
                n,
                sites,
                devices,
                devices_per_site: APS_PER_CUSTOMER / SITES_PER_CUSTOMER,
                partners,
                auto_license: match vendor {
                    Vendor::Aruba => (0..n).filter(|&i| declares_auto_license(i)).count(),
                    _ => 0,
                },
                edited: (0..n).filter(|&i| is_edited(i)).count(),
                partners_changed: 0,
            },
            width: n.saturating_sub(1).to_string().len().max(4),
            sim_url: sim_url.to_string(),
            poll_ms,
        };
        if vendor == Vendor::Extreme {
            let before: Vec<Vec<usize>> = (0..partners).map(|q| p.members(q, false)).collect();
            p.shape.partners_changed = (0..partners)
                .filter(|&q| p.members(q, true) != before[q])
                .count();
        }
        p
    }

    /// The simulator account this portfolio is onboarded into: nothing onboarded yet.
    pub fn account(&self) -> GeneratedAccount {
        let s = &self.shape;
        match s.vendor {
            Vendor::Aruba => GeneratedAccount {
                aruba_aps: s.devices,
                aruba_service: SERVICE.into(),
                // A tenth spare, as an MSP keeps.
                aruba_tokens: u32::try_from(s.devices + s.devices / 10).unwrap_or(u32::MAX),
                ..GeneratedAccount::default()
            },
            Vendor::Extreme => GeneratedAccount {
                extreme_partners: s.partners,
                ..GeneratedAccount::default()
            },
            Vendor::Ruckus => GeneratedAccount {
                ruckus_partners: s.partners,
                ..GeneratedAccount::default()
            },
            Vendor::Audiocodes => GeneratedAccount {
                audiocodes_ms_tenants: s.n,
                ..GeneratedAccount::default()
            },
        }
    }

    pub fn key(&self, i: usize) -> String {
        format!("c{i:0w$}", w = self.width)
    }

    fn num(&self, i: usize) -> String {
        format!("{i:0w$}", w = self.width)
    }

    /// The vendor's name of customer `i` (the natural key mspform matches on).
    pub fn name(&self, i: usize) -> String {
        let n = self.num(i);
        match self.shape.vendor {
            Vendor::Aruba => format!("Bench Customer {n}"),
            Vendor::Extreme => format!("Bench Tenant {n}"),
            Vendor::Ruckus => format!("Bench EC {n}"),
            Vendor::Audiocodes => format!("BenchV{n}"),
        }
    }

    /// The partner customer `i` belongs to, before or after the cycle's edit.
    fn partner_of(&self, i: usize, edited: bool) -> usize {
        let p = self.shape.partners.max(1);
        let home = i * p / self.shape.n.max(1);
        if edited && is_edited(i) {
            (home + 1) % p
        } else {
            home
        }
    }

    fn members(&self, q: usize, edited: bool) -> Vec<usize> {
        (0..self.shape.n)
            .filter(|&i| self.partner_of(i, edited) == q)
            .collect()
    }

    /// Aruba's description, RUCKUS One's phone, AudioCodes' full name.
    fn description(&self, i: usize, edited: bool) -> String {
        let n = self.num(i);
        let mark = edited && is_edited(i);
        match (self.shape.vendor, mark) {
            (Vendor::Ruckus, false) => "+1 831 555 0100".into(),
            (Vendor::Ruckus, true) => "+1 831 555 0199".into(),
            (Vendor::Audiocodes, false) => format!("Bench-Voice-{n}"),
            (Vendor::Audiocodes, true) => format!("Bench-Voice-{n}-B"),
            (_, false) => format!("Bench customer {n}"),
            (_, true) => format!("Bench customer {n}, edited by the saved-plan cycle"),
        }
    }

    /// The configuration files: (file name, text). `edited`: after the cycle's edit.
    pub fn files(&self, edited: bool) -> Vec<(String, String)> {
        let mut files = vec![("providers.toml".to_string(), self.providers())];
        for i in 0..self.shape.n {
            files.push((format!("{}.toml", self.key(i)), self.customer(i, edited)));
        }
        if self.shape.partners > 0 {
            files.push(("partners.toml".into(), self.partners(edited)));
        }
        files
    }

    fn providers(&self) -> String {
        let (url, poll_ms) = (&self.sim_url, self.poll_ms);
        match self.shape.vendor {
            Vendor::Aruba => format!(
                "[providers.aruba]\ntype = \"aruba-central\"\nbase_url = \"{url}/aruba\"\n\
                 token = {{ env = \"ARUBA_TOKEN\" }}\nlicense_services = [\"{SERVICE}\"]\n\
                 calls_per_second = 7\npoll_interval_ms = {poll_ms}\n"
            ),
            // The vendor documents no limit; the issue's ~7,500 calls an hour, as a
            // whole number of calls a second below it: 2/s = 7,200/h.
            Vendor::Extreme => format!(
                "[providers.extreme]\ntype = \"extremecloud\"\nbase_url = \"{url}/extreme\"\n\
                 login = {{ user = \"msp-admin@example.net\", password = {{ env = \"EXTREME_PASSWORD\" }} }}\n\
                 calls_per_second = 2\n"
            ),
            Vendor::Ruckus => format!(
                "[providers.ruckus]\ntype = \"ruckus-one\"\nbase_url = \"{url}/ruckus\"\n\
                 tenant_id = \"8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60\"\n\
                 client_id = {{ env = \"RUCKUS_CLIENT_ID\" }}\nclient_secret = {{ env = \"RUCKUS_CLIENT_SECRET\" }}\n\
                 burst = 200\ncalls_per_second = 100\n"
            ),
            // The vendor documents no limit: the client's default budget, 10/s.
            Vendor::Audiocodes => format!(
                "[providers.voice]\ntype = \"audiocodes-live\"\nbase_url = \"{url}/audiocodes\"\n\
                 oauth = {{ tenant_id = \"8d2f5c1e-3b7a-4c9e-a1f0-6e4b2d7c9a53\", \
                 client_id = {{ env = \"AUDIOCODES_CLIENT_ID\" }}, client_secret = {{ env = \"AUDIOCODES_CLIENT_SECRET\" }}, \
                 scope = \"api://c7e1a4b2-9f3d-4e8a-b6c5-2d1f0e9a8b74/.default\", \
                 token_url = \"{url}/audiocodes/{{tenant_id}}/oauth2/v2.0/token\" }}\n\
                 calls_per_second = 10\n"
            ),
        }
    }

    fn customer(&self, i: usize, edited: bool) -> String {
        let (key, name, n) = (self.key(i), self.name(i), self.num(i));
        let desc = self.description(i, edited);
        let mut t = String::new();
        match self.shape.vendor {
            Vendor::Aruba => {
                let _ = writeln!(
                    t,
                    "[customers.{key}]\nprovider = \"aruba\"\nname = \"{name}\"\ncountry = \"US\"\n\
                     address = {{ street = \"{i} Main St\", city = \"Austin\", state = \"Texas\", zip = \"73301\" }}\n\
                     description = \"{desc}\""
                );
                if declares_auto_license(i) {
                    let _ = writeln!(t, "auto_license = [\"{SERVICE}\"]");
                }
                for s in 0..SITES_PER_CUSTOMER {
                    let _ = writeln!(
                        t,
                        "\n[customers.{key}.sites.s{s}]\nname = \"Site {s}\"\n\
                         address = {{ street = \"{s} Site Rd\", city = \"Austin\", state = \"Texas\", country = \"United States\", zip = \"73301\" }}"
                    );
                }
                for d in 0..APS_PER_CUSTOMER {
                    let index = i * APS_PER_CUSTOMER + d;
                    let _ = writeln!(
                        t,
                        "\n[devices.{}]\ncustomer = \"{key}\"\nmac = \"{}\"\nsite = \"s{}\"\nlicenses = [\"{SERVICE}\"]",
                        scale::ap_serial(index),
                        scale::ap_mac(index),
                        d % SITES_PER_CUSTOMER
                    );
                }
            }
            Vendor::Extreme => {
                let _ = writeln!(
                    t,
                    "[customers.{key}]\nprovider = \"extreme\"\nname = \"{name}\"\ncountry = \"US\"\n\
                     time_zone = \"America/Chicago\"\n\
                     contact = {{ email = \"it@t{n}.bench.example\", name = \"IT Desk {n}\", phone = \"+1 312 555 0199\" }}\n\
                     admin_user = \"admin@t{n}.bench.example\""
                );
            }
            Vendor::Ruckus => {
                let _ = writeln!(
                    t,
                    "[customers.{key}]\nprovider = \"ruckus\"\nname = \"{name}\"\n\
                     address = {{ street = \"{i} Bay Rd\", city = \"Monterey\", state = \"CA\", country = \"United States\", zip = \"93940\" }}\n\
                     phone = \"{desc}\"\nservice_start = \"2026-01-01\"\nservice_end = \"2028-12-31\"\n\
                     admin = {{ email = \"it@ec{n}.bench.example\" }}"
                );
            }
            Vendor::Audiocodes => {
                let _ = writeln!(
                    t,
                    "[customers.{key}]\nprovider = \"voice\"\nname = \"{desc}\"\nshort_name = \"{name}\"\n\
                     customer_type = \"TENANT_TYPE\"\nms_tenant_id = \"{}\"\n\
                     site = {{ sbc_id = 5, onboarding_script = 10008, cleanup_script = 10701 }}\n\
                     script_parameters = {{ CacProfile = \"5 sessions\" }}",
                    scale::ms_tenant(i)
                );
            }
        }
        t
    }

    fn partners(&self, edited: bool) -> String {
        let mut t = String::new();
        for q in 0..self.shape.partners {
            let members: Vec<String> = self
                .members(q, edited)
                .into_iter()
                .map(|i| format!("\"{}\"", self.key(i)))
                .collect();
            let members = members.join(", ");
            match self.shape.vendor {
                Vendor::Extreme => {
                    let _ = writeln!(
                        t,
                        "[partners.p{q:04}]\nprovider = \"extreme\"\nname = \"{}\"\ncustomers = [{members}]\n",
                        scale::extreme_partner(q).1
                    );
                }
                _ => {
                    let (_, name, kind) = scale::ruckus_partner(q);
                    let role = if kind == "MSP_INTEGRATOR" {
                        "integrator"
                    } else {
                        "installer"
                    };
                    let _ = writeln!(
                        t,
                        "[partners.p{q:04}]\nprovider = \"ruckus\"\nname = \"{name}\"\nrole = \"{role}\"\ncustomers = [{members}]\n"
                    );
                }
            }
        }
        t
    }

    /// The customer the drift phase edits in the portal (never one the cycle edits).
    pub fn drift_index(&self) -> usize {
        1.min(self.shape.n - 1)
    }

    /// The addresses the cycle replaces (AudioCodes: `--allow-replace` each).
    pub fn replaced(&self) -> Vec<String> {
        (0..self.shape.n)
            .filter(|&i| is_edited(i))
            .map(|i| format!("customer.{}", self.key(i)))
            .collect()
    }

    /// The portal edit that makes drift, and the edit that puts it back.
    pub fn drift_edits(&self) -> (Edit, Edit) {
        let i = self.drift_index();
        let name = self.name(i);
        match self.shape.vendor {
            Vendor::Aruba => {
                let edit = |value: String| {
                    Edit::Aruba(ArubaEdit::CustomerField {
                        customer_name: name.clone(),
                        field: "description".into(),
                        value: json!(value),
                    })
                };
                (
                    edit("changed in the portal".into()),
                    edit(self.description(i, true)),
                )
            }
            Vendor::Extreme => {
                let partner = scale::extreme_partner(self.partner_of(i, true)).1;
                (
                    Edit::Extreme(ExtremeEdit::RemoveTenantFromPartner {
                        partner: partner.clone(),
                        tenant: name.clone(),
                    }),
                    Edit::Extreme(ExtremeEdit::AddTenantToPartner {
                        partner,
                        tenant: name,
                    }),
                )
            }
            Vendor::Ruckus => {
                let edit = |value: String| {
                    Edit::Ruckus(RuckusEdit::EcField {
                        tenant: name.clone(),
                        field: "phone_number".into(),
                        value: json!(value),
                    })
                };
                (
                    edit("+1 000 555 0000".into()),
                    edit(self.description(i, true)),
                )
            }
            Vendor::Audiocodes => {
                let edit = |full_name: String| {
                    Edit::Audiocodes(AudiocodesEdit::SetFullName {
                        customer: name.clone(),
                        full_name,
                    })
                };
                (
                    edit("Changed-In-The-Portal".into()),
                    edit(self.description(i, true)),
                )
            }
        }
    }
}

/// A portal edit of one vendor.
#[derive(Debug)]
pub enum Edit {
    Aruba(ArubaEdit),
    Extreme(ExtremeEdit),
    Ruckus(RuckusEdit),
    Audiocodes(AudiocodesEdit),
}
